"""The FastAPI application: wiring, middleware and error handling."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from handoff_service.api.routes import auth, conversations, health, internal, queue
from handoff_service.config import Settings, get_settings
from handoff_service.db import make_engine, make_session_factory
from handoff_service.events import EventBroker
from handoff_service.migrations import upgrade_database
from handoff_service.risk_net import load_risk_net
from handoff_service.seed import seed_development_data
from handoff_service.texts import load_texts

logger = logging.getLogger("handoff_service")
STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        upgrade_database(engine)
        load_risk_net()
        if settings.seed_demo_data and settings.environment != "production":
            with app.state.session_factory() as session:
                seed_development_data(session, settings)
        app.state.broker.bind_loop(asyncio.get_running_loop())
        yield
        engine.dispose()

    docs = settings.is_development
    app = FastAPI(
        title="Handoff service",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.broker = EventBroker()
    app.state.texts = load_texts(settings.texts_path)

    for router in (health.router, auth.router, conversations.router, queue.router, internal.router):
        app.include_router(router)
    _install_error_handlers(app)
    _install_middleware(app, settings)
    _install_pages(app)
    return app


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    @app.middleware("http")
    async def limit_body_and_log(request: Request, call_next):
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > settings.max_body_bytes):
            return JSONResponse({"detail": "Forespørgslen er for stor."}, status_code=413)
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        # Route template and status only: no IP address, user agent, token or text.
        logger.info(
            "%s %s %s %.0fms",
            request.method,
            getattr(route, "path", "-"),
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_reason(error)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail
        if error.status_code == 404 and detail == "Not Found":
            detail = "Siden findes ikke."
        elif error.status_code == 405:
            detail = "Metoden er ikke tilladt her."
        return JSONResponse({"detail": detail}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.error("unhandled %s on %s", type(error).__name__, getattr(request.scope.get("route"), "path", "-"))
        return JSONResponse(
            {"detail": "Tjenesten har et midlertidigt problem. Prøv igen om lidt."}, status_code=503
        )


def _validation_reason(error: RequestValidationError) -> str:
    for problem in error.errors():
        kind = problem.get("type", "")
        location = problem.get("loc", ())
        field = location[-1] if location else ""
        if kind == "json_invalid":
            return "Ugyldig JSON i forespørgslen."
        if kind == "string_too_long" and field == "text":
            limit = problem.get("ctx", {}).get("max_length")
            return f"Beskeden er for lang (højst {limit} tegn)."
        if kind == "value_error" and "Beskeden er tom" in str(problem.get("msg", "")):
            return "Beskeden er tom."
        if kind == "missing":
            return f"Feltet '{field}' mangler." if field != "body" else "Forespørgslen mangler indhold."
        if kind in ("model_attributes_type", "dict_type"):
            return "Forespørgslen skal være et JSON-objekt."
    return "Ugyldig forespørgsel."


def _install_pages(app: FastAPI) -> None:
    if (STATIC_DIR / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=STATIC_DIR / "assets"), name="assets")

    @app.get("/", include_in_schema=False)
    def chat_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "chat.html", headers={"Cache-Control": "no-store"})

    @app.get("/counsellor", include_in_schema=False)
    def counsellor_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "counsellor.html", headers={"Cache-Control": "no-store"})


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def app_factory() -> FastAPI:
    """Entry point for uvicorn --factory."""
    configure_logging()
    return create_app()
