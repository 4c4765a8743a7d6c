"""Liveness and database reachability."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from handoff_service.api.deps import SessionDep
from handoff_service.schemas import ErrorOut

router = APIRouter(tags=["health"])

_HEALTH: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded"]},
        "database": {"type": "string", "enum": ["ok", "unreachable"]},
    },
    "required": ["status", "database"],
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Tjenesten og databasen svarer.",
        "content": {"application/json": {"schema": _HEALTH}},
    },
    503: {
        "description": (
            "Databasen svarer ikke (`degraded`), eller tjenesten er midlertidigt optaget "
            "(`detail`)."
        ),
        "content": {
            "application/json": {"schema": {"anyOf": [_HEALTH, ErrorOut.model_json_schema()]}}
        },
    },
}


@router.get("/healthz", responses=_RESPONSES)
def healthz(session: SessionDep) -> JSONResponse:
    try:
        session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
