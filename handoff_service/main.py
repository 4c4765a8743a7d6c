"""The FastAPI application: wiring, middleware and error handling."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handoff_service import cluster_events
from handoff_service.admission import AdmissionGate, check_capacity
from handoff_service.api.routes import (
    audit,
    auth,
    conversations,
    health,
    internal,
    organisations,
    queue,
    shifts,
    statistics,
    trainer,
    users,
)
from handoff_service.api_docs import install_api_docs
from handoff_service.config import Settings, get_settings
from handoff_service.db import make_engine, make_session_factory
from handoff_service.edge import EdgeGuard, security_headers
from handoff_service.errors import ServiceError
from handoff_service.events import EventBroker
from handoff_service.logging_privacy import configure_logging, install_privacy_filter
from handoff_service.migrations import startup_lock, upgrade_database
from handoff_service.rasa_client import RasaClient
from handoff_service.ratelimit import make_rate_limits
from handoff_service.risk_net import load_risk_net
from handoff_service.scheduler import start_background_jobs, stop_background_jobs
from handoff_service.seed import seed_development_data
from handoff_service.streams import install_shutdown_notice
from handoff_service.texts import load_duty_to_report, load_texts

logger = logging.getLogger("handoff_service")
STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_privacy_filter()
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    if settings.admission_limit:
        check_capacity(
            settings.admission_limit,
            connections=settings.db_pool_size + settings.db_max_overflow,
            threads=settings.worker_threads,
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        with startup_lock(engine):  # several processes started at once take turns
            upgrade_database(engine)
            if settings.seed_demo_data and settings.environment != "production":
                with app.state.session_factory() as session:
                    seed_development_data(session, settings)
        load_risk_net()
        app.state.broker.bind_loop(asyncio.get_running_loop())
        # Sync routes and dependencies run in these threads; sized with the gate and the pool.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        # On SIGTERM open streams end with a reconnect hint, so pages move to the new process.
        install_shutdown_notice(app.state.broker)
        # Several processes on one PostgreSQL hear each other's events (cluster_events.py).
        app.state.cluster_bus = cluster_events.install(app)
        jobs = start_background_jobs(app) if settings.background_jobs else []
        yield
        await stop_background_jobs(jobs)
        if app.state.cluster_bus is not None:
            app.state.cluster_bus.stop()
        engine.dispose()

    docs = settings.is_development
    app = FastAPI(
        title="Handoff service",
        lifespan=lifespan,
        # Served from an installed package, not a CDN (handoff_service/api_docs.py).
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.broker = EventBroker()
    # One client per service: its circuit breaker remembers Rasa's recent failures.
    app.state.rasa = RasaClient.from_settings(settings)
    app.state.texts = load_texts(settings.texts_path)
    app.state.duty_to_report = load_duty_to_report(settings.duty_to_report_path)
    # In memory under SQLite, shared by all processes under PostgreSQL (ratelimit.py).
    app.state.rate_limits = make_rate_limits(settings, engine)

    for router in (
        health.router,
        auth.router,
        conversations.router,
        organisations.router,
        organisations.pages,
        queue.router,
        shifts.router,
        statistics.router,
        trainer.router,
        users.router,
        audit.router,
        internal.router,
    ):
        app.include_router(router)
    _install_error_handlers(app)
    _install_middleware(app, settings)
    _install_head(app)
    _install_pages(app)
    if docs:
        install_api_docs(app)
    return app


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    @app.middleware("http")
    async def log_request(request: Request, call_next):
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
        return response

    if settings.admission_limit:
        app.add_middleware(
            AdmissionGate,
            limit=settings.admission_limit,
            wait_seconds=settings.admission_wait_seconds,
        )
    # Outermost of ours: header and body limits before anything reads the request, security
    # headers on every response (handoff_service/edge.py).
    app.add_middleware(
        EdgeGuard,
        max_body_bytes=settings.max_body_bytes,
        max_headers=settings.max_headers,
        body_timeout_seconds=settings.body_timeout_seconds,
        hsts=settings.environment == "production",
    )


class HeadLikeGet:
    """HEAD wherever GET is (RFC 9110 §9.3.2): the GET's status and headers, never a body.

    FastAPI's routes answer only the methods they name, so without this a HEAD of a page or of
    /healthz is a 405. The request goes on as a GET; its body is dropped. An event stream ends
    right after its headers: the route is told the client has gone, so it frees its place.
    Outermost of ours, so the GET passes the same limits and gets the same headers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        answered = anyio.Event()

        async def receive_until_answered() -> Message:
            if answered.is_set():
                return {"type": "http.disconnect"}
            message: Message = {"type": "http.disconnect"}
            async with anyio.create_task_group() as group:

                async def from_client() -> None:
                    nonlocal message
                    message = await receive()
                    group.cancel_scope.cancel()

                async def until_answered() -> None:
                    await answered.wait()
                    group.cancel_scope.cancel()

                group.start_soon(from_client)
                group.start_soon(until_answered)
            return message

        async def headers_only(message: Message) -> None:
            if answered.is_set():
                return
            if message["type"] == "http.response.start":
                await send(message)
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if not content_type.startswith(b"text/event-stream"):
                    return
            elif message["type"] != "http.response.body":
                await send(message)
                return
            answered.set()
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app(dict(scope, method="GET"), receive_until_answered, headers_only)


def _install_head(app: FastAPI) -> None:
    app.add_middleware(HeadLikeGet)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def domain_error(request: Request, error: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": error.detail}, status_code=error.status_code)

    @app.exception_handler(IntegrityError)
    async def conflicting_write(request: Request, error: IntegrityError) -> JSONResponse:
        # Two requests raced for the same unique value; the loser is told, nothing is half-saved.
        return JSONResponse(
            {"detail": "Ændringen strider mod data, der lige er gemt. Hent siden igen."},
            status_code=409,
        )

    @app.exception_handler(SQLAlchemyError)
    async def database_unavailable(request: Request, error: SQLAlchemyError) -> JSONResponse:
        # The database is down or its pool is exhausted: a Danish 503 the page retries (with the
        # same Idempotency-Key, so nothing is stored twice). Handled here, not by the catch-all
        # below, so the connection stays usable: after a re-raised error uvicorn drops it and a
        # page's next request on a kept-alive connection got no answer at all.
        logger.warning(
            "database unavailable: %s on %s",
            type(error).__name__,
            getattr(request.scope.get("route"), "path", "-"),
        )
        return JSONResponse(
            {"detail": "Tjenesten har et midlertidigt problem. Prøv igen om lidt."},
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_reason(error)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        headers = dict(error.headers or {})
        if error.status_code == 405 and (allowed := _allowed_methods(request)):
            headers["Allow"] = ", ".join(allowed)
        return JSONResponse(
            {"detail": _danish_detail(error.status_code, error.detail)},
            status_code=error.status_code,
            headers=headers or None,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.error(
            "unhandled %s on %s",
            type(error).__name__,
            getattr(request.scope.get("route"), "path", "-"),
        )
        # Answered by Starlette's outermost middleware, outside EdgeGuard: add its headers here.
        hsts = request.app.state.settings.environment == "production"
        return JSONResponse(
            {"detail": "Tjenesten har et midlertidigt problem. Prøv igen om lidt."},
            status_code=503,
            headers={name.decode(): value.decode() for name, value in security_headers(hsts=hsts)},
        )


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path (Starlette names only the first route's, so
    GET /api/v1/users would hide POST), with HEAD wherever GET is (HeadLikeGet)."""
    matching = [
        route
        for route in iter_route_contexts(request.app.routes)
        if route.methods and route.matches(request.scope)[0] != Match.NONE
    ]
    # A literal path is its own resource: /api/v1/conversations/pickup is not a conversation id.
    literal = [route for route in matching if route.path == request.url.path]
    methods: set[str] = set()
    for route in literal or matching:
        methods |= route.methods or set()
    if "GET" in methods:
        methods.add("HEAD")
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    return sorted(
        methods, key=lambda method: (order.index(method) if method in order else 9, method)
    )


# Starlette's and FastAPI's own English words (the status phrase when a route gave none), and
# the internal API's, in Danish; every other detail is already a Danish sentence.
_DANISH_DETAILS = {
    "There was an error parsing the body": "Ugyldig JSON i forespørgslen.",
    "internal API: wrong or missing token": "Intern API: forkert eller manglende nøgle.",
    "unknown conversation": "Samtalen findes ikke.",
    "Not authenticated": "Du er ikke logget ind, eller dit login er udløbet.",
}
_DANISH_STATUS = {
    400: "Ugyldig forespørgsel.",
    401: "Du er ikke logget ind, eller dit login er udløbet.",
    403: "Du har ikke adgang til dette.",
    404: "Siden findes ikke.",
    405: "Metoden er ikke tilladt her.",
    406: "Svaret findes ikke i det format, der bedes om.",
    409: "Ændringen strider mod data, der lige er gemt. Hent siden igen.",
    413: "Forespørgslen er for stor.",
    415: "Den type indhold tager tjenesten ikke imod.",
    416: "Den del af filen findes ikke.",
    422: "Ugyldig forespørgsel.",
    429: "For mange forespørgsler lige nu. Vent lidt, og prøv igen.",
}


def _danish_detail(status_code: int, detail: Any) -> str:
    """The `detail` of an HTTP error, always one Danish string."""
    if status_code == 405:
        return _DANISH_STATUS[405]
    if isinstance(detail, str) and detail in _DANISH_DETAILS:
        return _DANISH_DETAILS[detail]
    english = HTTPStatus(status_code).phrase if status_code in _HTTP_STATUSES else None
    if not isinstance(detail, str) or not detail or detail == english:
        return _DANISH_STATUS.get(status_code, "Forespørgslen kunne ikke gennemføres.")
    return detail


_HTTP_STATUSES = {status.value for status in HTTPStatus}

_TYPE_REASONS = {
    "int_parsing": "skal være et heltal",
    "int_type": "skal være et heltal",
    "int_from_float": "skal være et heltal",
    "bool_parsing": "skal være true eller false",
    "bool_type": "skal være true eller false",
    "string_type": "skal være tekst",
    "time_parsing": "skal være et klokkeslæt som 17:00",
    "time_type": "skal være et klokkeslæt som 17:00",
    "date_parsing": "skal være en dato som 2026-12-24",
    "date_from_datetime_parsing": "skal være en dato som 2026-12-24",
    "date_type": "skal være en dato som 2026-12-24",
    "literal_error": "har en værdi, der ikke er tilladt",
    "enum": "har en værdi, der ikke er tilladt",
    "greater_than_equal": "er for lille",
    "greater_than": "er for lille",
    "less_than_equal": "er for stor",
    "less_than": "er for stor",
    "list_type": "skal være en liste",
    "too_long": "har for mange elementer",
    "string_pattern_mismatch": "har et ugyldigt format",
}


def _validation_reason(error: RequestValidationError) -> str:
    """The first problem, as a short Danish sentence naming the field."""
    for problem in error.errors():
        kind = problem.get("type", "")
        location = problem.get("loc", ())
        field = location[-1] if location else ""
        context = problem.get("ctx") or {}
        if kind == "json_invalid":
            return "Ugyldig JSON i forespørgslen."
        if kind == "string_too_long" and field == "text":
            return f"Beskeden er for lang (højst {context.get('max_length')} tegn)."
        if kind == "string_too_long":
            return f"Feltet '{field}' er for langt (højst {context.get('max_length')} tegn)."
        if kind == "string_too_short":
            return f"Feltet '{field}' er for kort (mindst {context.get('min_length')} tegn)."
        if kind == "value_error":
            # Our validators raise ValueError with a Danish sentence; pydantic prefixes it.
            return (
                str(problem.get("msg", "")).removeprefix("Value error, ") or "Ugyldig forespørgsel."
            )
        if kind == "missing":
            return (
                f"Feltet '{field}' mangler."
                if field != "body"
                else "Forespørgslen mangler indhold."
            )
        if kind in ("model_attributes_type", "dict_type", "model_type"):
            return "Forespørgslen skal være et JSON-objekt."
        if kind in _TYPE_REASONS:
            return f"Feltet '{field}' {_TYPE_REASONS[kind]}."
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

    @app.get("/trainer", include_in_schema=False)
    @app.get("/traener", include_in_schema=False)  # the Danish spelling, for old bookmarks
    def trainer_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "traener.html", headers={"Cache-Control": "no-store"})

    @app.get("/admin", include_in_schema=False)
    def admin_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "admin.html", headers={"Cache-Control": "no-store"})

    @app.get("/statistics", include_in_schema=False)
    def statistics_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "statistics.html", headers={"Cache-Control": "no-store"})


def app_factory() -> FastAPI:
    """Entry point for uvicorn --factory."""
    configure_logging()
    return create_app()
