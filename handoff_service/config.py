"""Settings of the handoff service, read from the environment (prefix-free, 12-factor)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-development-only"  # noqa: S105 - refused outside development
PROJECT_ROOT = Path(__file__).resolve().parent.parent
GENERATED_SECRET_PATH = PROJECT_ROOT / "var" / "secret_key"


def generated_secret(path: Path) -> str:
    """The secret kept in `path` (mode 0600), made on first use: never a published default."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) < 32:
            raise ValueError(f"{path} holds no usable secret; delete it for a new one") from None
        return secret
    secret = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secret + "\n")
    return secret


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    secret_key: str = PLACEHOLDER_SECRET
    # Where development and test keep the secret they generate when SECRET_KEY is not set.
    secret_key_path: Path = GENERATED_SECRET_PATH
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'handoff.db'}"
    rasa_url: str = "http://127.0.0.1:5005"
    # Rasa's tracker store (each conversation's context and text), as an SQLAlchemy URL for this
    # service (scripts/stack.py sets it). Retention deletes a conversation's tracker with it
    # (handoff_service/rasa_trackers.py). Unset: Rasa runs elsewhere and purges its own.
    rasa_tracker_url: str | None = None
    # A crisis never waits long for Rasa: a short timeout, and after RASA_BREAKER_FAILURES
    # failures in a row Rasa is skipped for RASA_BREAKER_SECONDS (one probe then).
    rasa_timeout_seconds: float = Field(default=5.0, gt=0)
    # Where the service has its own answer ready, it waits less: a message the risk lexicon calls
    # critical (the crisis text and a queue place at the front) and the greeting. A hung Rasa
    # then costs a young person in crisis at most this long (the goal is under 2 s).
    rasa_quick_timeout_seconds: float = Field(default=1.5, gt=0)
    rasa_breaker_failures: int = Field(default=3, ge=1)
    rasa_breaker_seconds: float = Field(default=30.0, gt=0)
    # A young person's message with no answer this long after a crash is answered by the
    # recovery job (start-up, then every UNANSWERED_CHECK_SECONDS): fallback text and a queue place.
    unanswered_after_seconds: float = Field(default=60.0, gt=0)
    unanswered_check_seconds: float = Field(default=30.0, gt=0)
    # Shared secret the action server presents on the internal API.
    internal_api_token: str = ""
    demo_counsellor_password: str = "demo"  # noqa: S105 - refused in production
    seed_demo_data: bool = True

    access_token_minutes: int = Field(default=30, ge=1)
    # Staff sessions that last a shift (handoff_service/refresh_tokens.py): the short access
    # token above is renewed with a refresh token (an HttpOnly cookie). No refresh for
    # STAFF_IDLE_MINUTES ends the login; STAFF_SESSION_HOURS after the login it ends anyway.
    staff_idle_minutes: float = Field(default=60, gt=0)
    staff_session_hours: float = Field(default=12, gt=0)
    max_message_chars: int = 2000
    max_body_bytes: int = 64 * 1024
    # Limits at the edge (handoff_service/edge.py): how many request headers, and how long a
    # request body may take to arrive once its headers are in (a trickled body is cut with 408).
    # The size of the request head is capped by uvicorn's h11 buffer (scripts/stack.py).
    max_headers: int = Field(default=64, ge=8)
    body_timeout_seconds: float = Field(default=10.0, gt=0)
    # A burst waits instead of stalling (handoff_service/admission.py): at most ADMISSION_LIMIT
    # requests use the database at once, each sure of a worker thread and a connection; the
    # rest wait up to ADMISSION_WAIT_SECONDS, then get a Danish 503. The start-up check keeps
    # the limit within DB_POOL_SIZE + DB_MAX_OVERFLOW and WORKER_THREADS. 0 turns the gate off
    # (only to measure what it prevents: scripts/measure_burst.py).
    admission_limit: int = Field(default=20, ge=0)
    admission_wait_seconds: float = Field(default=10.0, gt=0)
    worker_threads: int = Field(default=40, ge=1)
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=15, ge=0)
    default_handling_minutes: int = 20
    timezone: str = "Europe/Copenhagen"
    texts_path: Path = Path(__file__).resolve().parent / "texts_da.yml"
    duty_to_report_path: Path = Path(__file__).resolve().parent / "duty_to_report_da.yml"
    # The Rasa NLU files POST /api/v1/trainer/export writes accepted labels into
    # (handoff_service/label_export.py; `make export-labels` passes data/nlu itself).
    nlu_data_dir: Path = PROJECT_ROOT / "data" / "nlu"

    # Rate limits: in memory under SQLite, shared by every process under PostgreSQL
    # (handoff_service/ratelimit.py; docs/performance.md, "Rate limits across processes").
    messages_per_minute: int = Field(default=30, ge=1)  # per conversation
    conversation_starts_per_minute: int = Field(default=300, ge=1)  # whole service
    # Failed logins per minute for the whole service; above it only clients that failed in the
    # last minute are turned away (docs/reliability.md, "Login that strangers cannot block").
    login_attempts_per_minute: int = Field(default=60, ge=1)

    # Retention: closed conversations (and bot-only ones left idle) are hard-deleted after
    # RETENTION_DAYS by the hourly job in the service and `python -m handoff_service.retention`.
    retention_days: int = Field(default=30, ge=1)
    audit_retention_days: int = Field(default=365, ge=1)
    retention_interval_minutes: float = Field(default=60, gt=0)
    # Pushes new expected waits when a shift opens or closes; tests drive the jobs themselves.
    shift_watch_seconds: float = Field(default=30, gt=0)
    # Nobody is left hanging (handoff_service/stale_claims.py): a claimed conversation whose
    # young person waits for an answer while the counsellor shows no sign of being there for
    # STALE_CLAIM_MINUTES goes back to the queue at its old place. The counsellor is warned
    # STALE_CLAIM_WARNING_MINUTES before; the job runs every STALE_CHECK_SECONDS.
    stale_claim_minutes: float = Field(default=10, gt=0)
    stale_claim_warning_minutes: float = Field(default=2, ge=0)
    stale_check_seconds: float = Field(default=30, gt=0)
    # The trainer's inbox (handoff_service/trainer_inbox.py): a message whose best two intents are
    # closer than this is "ambiguous" (the fallback threshold itself is read from bot/config.yml).
    inbox_ambiguity_margin: float = Field(default=0.1, ge=0, le=1)
    background_jobs: bool = True

    @model_validator(mode="after")
    def refuse_defaults_outside_development(self) -> Settings:
        if self.staff_idle_minutes <= self.access_token_minutes:
            # The pages refresh a minute before the access token runs out; a shorter idle timeout
            # would end every login while the page is open.
            raise ValueError("STAFF_IDLE_MINUTES must be longer than ACCESS_TOKEN_MINUTES")
        if self.environment == "production":
            if self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "SECRET_KEY must be set to a random value of 32+ characters in production"
                )
            if self.demo_counsellor_password == "demo" and self.seed_demo_data:  # noqa: S105
                raise ValueError(
                    "the demo counsellor with the default password is refused in production"
                )
            if not self.internal_api_token or len(self.internal_api_token) < 32:
                raise ValueError("INTERNAL_API_TOKEN must be set to 32+ characters in production")
        elif self.secret_key in ("", PLACEHOLDER_SECRET):
            # Development and test: a random secret of this installation instead of the published
            # placeholder, so nobody can sign a staff token with it.
            self.secret_key = generated_secret(self.secret_key_path)
        if not self.internal_api_token:
            # Development: a fresh token per process keeps the internal API closed unless the
            # launcher shares one with the action server.
            self.internal_api_token = secrets.token_urlsafe(32)
        return self

    @property
    def is_development(self) -> bool:
        return self.environment == "development"


@lru_cache
def get_settings() -> Settings:
    return Settings()
