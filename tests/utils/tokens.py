"""Staff tokens for tests: bearer headers, raw base64 parts and JWTs signed with a test secret."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt

from handoff_service.config import Settings
from handoff_service.db import utcnow


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed(settings: Settings, **claims) -> str:
    body = {"sub": "1", "role": "admin", "ver": 0, "exp": utcnow() + timedelta(minutes=5)}
    body.update(claims)
    body = {key: value for key, value in body.items() if value is not None}
    return jwt.encode(body, settings.secret_key, algorithm="HS256")
