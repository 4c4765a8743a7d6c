"""Switches the running Rasa to another model without a pause for young people (issue #14).

A Rasa input channel (bot/credentials.yml), so Rasa's HTTP API stays off: two routes beside the
REST channel, on 127.0.0.1 only (scripts/stack.py), each needing an HS256 JWT signed with
RASA_JWT_SECRET in the Authorization header (the handoff service signs it,
handoff_service/model_registry.py):

* ``GET /webhooks/model_switch/``: the file name of the model in use, the one loading (if any)
  and the last load's error;
* ``POST /webhooks/model_switch/load`` ``{"model_file": <path>}``: 202 at once; the model loads
  in a worker thread while the old one keeps answering, then the agent is swapped in one
  assignment; the REST channel's handler reads ``app.ctx.agent`` on every message, so the next
  message gets the new model. On any error the old model stays. One load at a time (409). The
  caller polls ``GET`` (a load takes longer than Sanic's 60 s response timeout on a busy
  machine).

Rasa's own ``PUT /model`` loads on the event loop: every young person's message waits for the
whole load (36 s for the shipped model on the 2-core machine, docs/trainer.md), which is why
this exists. Nothing here reads or logs message text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jwt
from rasa.core.agent import Agent
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)
_STATE: dict[str, Any] = {"loading": None, "last_error": None}


def _authorised(request: Request) -> bool:
    secret = os.environ.get("RASA_JWT_SECRET")
    header = request.headers.get("Authorization", "")
    if not secret or not header.startswith("Bearer "):
        return False
    try:
        claims = jwt.decode(header.removeprefix("Bearer "), secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return False
    return (claims.get("user") or {}).get("role") == "admin"


def _load(old: Agent, model_file: str) -> Agent:
    """A new agent on the model, sharing the running agent's stores and endpoints.

    The old domain goes in first: Agent() hands its domain to the shared tracker store at once,
    and an empty one would break the running agent's trackers until the swap. The loading thread
    runs at the lowest CPU priority (Linux: a thread's own nice value), so the event loop that
    answers young people comes first."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    agent = Agent(
        domain=old.domain,
        generator=old.nlg,
        tracker_store=old.tracker_store,
        lock_store=old.lock_store,
        action_endpoint=old.action_endpoint,
        http_interpreter=old.http_interpreter,
    )
    agent.load_model(model_file)
    return agent


async def _switch(app: Any, model_file: str) -> None:
    try:
        old = app.ctx.agent
        # A thread of its own (its priority is lowered), gone after the load.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-switch") as pool:
            new = await asyncio.get_running_loop().run_in_executor(pool, _load, old, model_file)
        app.ctx.agent = new
        logger.warning("model switched to %s", new.model_name)
    except Exception as error:  # noqa: BLE001 - the old model stays in use
        _STATE["last_error"] = type(error).__name__
        logger.error("model switch failed: %s", type(error).__name__)
    finally:
        _STATE["loading"] = None


class ModelSwitchInput(InputChannel):
    """Not a channel for people: the model switch, authorised by the service's JWT."""

    @classmethod
    def name(cls) -> str:
        return "model_switch"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        switch = Blueprint("model_switch", __name__)

        @switch.route("/", methods=["GET"])
        async def current(request: Request) -> HTTPResponse:
            if not _authorised(request):
                return response.json({"error": "unauthorised"}, status=401)
            agent = request.app.ctx.agent
            return response.json({"model_file": agent.model_name if agent else None, **_STATE})

        @switch.route("/load", methods=["POST"])
        async def load(request: Request) -> HTTPResponse:
            if not _authorised(request):
                return response.json({"error": "unauthorised"}, status=401)
            model_file = (request.json or {}).get("model_file")
            if not isinstance(model_file, str) or not Path(model_file).is_file():
                return response.json({"error": "no such model file"}, status=400)
            if _STATE["loading"] is not None:
                return response.json({"error": "a switch is running"}, status=409)
            _STATE.update(loading=Path(model_file).name, last_error=None)
            app = request.app
            # Kept on the app, so the task is not garbage-collected while it runs.
            app.ctx.model_switch = asyncio.get_running_loop().create_task(_switch(app, model_file))
            return response.json({"loading": _STATE["loading"]}, status=202)

        return switch
