"""The model half of the trainer's workflow (issue #14, docs/trainer.md): the training job, the
latest comparison, promotion and restore, and their history.

* **Training** runs `scripts/compare_models.py` in the bot environment as a background process
  on this machine, with `nice -n 19`, one at a time: the job holds an exclusive `flock` on
  `<jobs>/training.lock` for its whole life (this module takes the lock, the child inherits it),
  so every service process and `make compare-models` see the same "a training is running". Its
  progress is `<jobs>/status.json`, written by the job; a cancel sends SIGTERM to its process
  group (SIGKILL after 15 s).
* **Promotion** takes the candidate of the latest comparison (`<reports>/model_comparison.json`)
  when the gate (triage_core/model_gate.py) allowed it and the comparison was made against the
  model Rasa runs now, switches the running Rasa through its model-switch channel on loopback
  (bot/model_switch.py: the new model loads in a thread while the old one answers; a JWT signed
  with RASA_JWT_SECRET in the Authorization header; Rasa's HTTP API stays off, scripts/stack.py),
  points `<registry>/active.json` at it (a restarted Rasa starts on it) and records a
  `model_promotions` row with the comparison's figures and an audit event.
* **Restore** does the same for a model of the history (a promoted one, or the model before the
  first promotion).

Paths come from the environment: MODEL_REGISTRY_DIR (models/), MODEL_REPORTS_DIR (reports/),
TRAINING_JOBS_DIR (var/training/); RASA_JWT_SECRET, else the file `make run` writes
(var/rasa-jwt-secret). No message text is read or logged here: the comparison holds intent
names and figures only.

    python -m handoff_service.model_registry promote | restore <model> | status | history
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from pydantic import BaseModel
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

# A module, not its function: models.py imports this module at its end (see trainer_inbox.py).
from handoff_service import audit as audit_trail
from handoff_service.db import Base, UTCDateTime, utcnow
from triage_core import model_gate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BOT_PY = PROJECT_ROOT / ".venv-bot" / "bin" / "python"
COMPARE_SCRIPT = PROJECT_ROOT / "scripts" / "compare_models.py"
SECRET_FILE = PROJECT_ROOT / "var" / "rasa-jwt-secret"
CANCEL_GRACE_SECONDS = 15.0
#: Loading a model takes about half a minute on the 2-core machine; the switch may take this long.
SWITCH_TIMEOUT_SECONDS = 300.0
SWITCH_PATH = "/webhooks/model_switch"
IMAGE_NAMES = frozenset(
    {
        "model_comparison_f1.png",
        "model_comparison_risk.png",
        "model_comparison_confusion_current.png",
        "model_comparison_confusion_candidate.png",
    }
)


class ModelPromotion(Base):
    """One promotion or restore: which model became current, by whom, and the figures."""

    __tablename__ = "model_promotions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # "promote" (the compared candidate) or "restore" (a model of the history).
    action: Mapped[str] = mapped_column(String(16))
    # Paths relative to the registry (models/): "candidates/candidate-….tar.gz", "model-….tar.gz".
    model: Mapped[str] = mapped_column(String(255))
    previous_model: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # False when the running Rasa could not be reached (make promote without make run): the
    # next start uses the model (active.json).
    rasa_switched: Mapped[bool] = mapped_column(Boolean, default=False)
    # The comparison's figures (per file: macro-F1, critical and high-or-critical recall, false
    # alarms, both models) and its decision; for a restore, the figures of the comparison that
    # promoted the model, if any. Intent names and numbers only.
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --------------------------------------------------------------------------- #
# Paths and errors
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Paths:
    registry: Path
    reports: Path
    jobs: Path

    @classmethod
    def from_env(cls) -> Paths:
        return cls(
            registry=Path(os.environ.get("MODEL_REGISTRY_DIR", PROJECT_ROOT / "models")),
            reports=Path(os.environ.get("MODEL_REPORTS_DIR", PROJECT_ROOT / "reports")),
            jobs=Path(os.environ.get("TRAINING_JOBS_DIR", PROJECT_ROOT / "var" / "training")),
        )

    @property
    def status_file(self) -> Path:
        return self.jobs / "status.json"

    @property
    def lock_file(self) -> Path:
        return self.jobs / "training.lock"

    @property
    def comparison_file(self) -> Path:
        return self.reports / "model_comparison.json"


class RegistryError(Exception):
    """A refusal, with an HTTP status and a Danish text for the trainer's page."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


# --------------------------------------------------------------------------- #
# The training job
# --------------------------------------------------------------------------- #

# Children this process started, so that their exit is collected (no zombies).
_children: list[subprocess.Popen[bytes]] = []


def _reap() -> None:
    for child in list(_children):
        if child.poll() is not None:
            _children.remove(child)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_status(paths: Paths, data: dict[str, Any]) -> None:
    paths.jobs.mkdir(parents=True, exist_ok=True)
    temporary = paths.status_file.with_name(f".status.{os.getpid()}.json")
    temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(temporary, paths.status_file)


def training_running(paths: Paths) -> bool:
    """True while a training holds the lock (started here, by another process or by make)."""
    _reap()
    paths.jobs.mkdir(parents=True, exist_ok=True)
    with paths.lock_file.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def training_status(paths: Paths) -> dict[str, Any]:
    """The job's status; a job that says running but holds no lock died: failed."""
    running = training_running(paths)
    status = _read_json(paths.status_file) or {"state": "idle"}
    if status.get("state") == "running" and not running:
        # The lock is free, so the job is gone; read again in case it finished just now.
        status = _read_json(paths.status_file) or status
        if status.get("state") == "running":
            status.update(state="failed", error="stopped", finished_at=_now())
            _write_status(paths, status)
    status["running"] = running
    return status


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


#: Candidates kept besides the ones the history or the latest comparison names (newest first).
KEEP_UNUSED_CANDIDATES = 2


def prune_candidates(
    session: Session, paths: Paths, keep: int = KEEP_UNUSED_CANDIDATES
) -> list[str]:
    """Deletes old candidate models nobody can use any more (about 40 MB each for the shipped
    pipeline): never one the promotion history names (it may be restored), the one in use, nor
    the latest comparison's candidate (it may be promoted); of the rest the newest `keep` stay.
    Called with the training lock held, before a new candidate is trained. Returns the names
    deleted (relative to the registry)."""
    folder = paths.registry / "candidates"
    if not folder.is_dir():
        return []
    named: set[str] = set()
    for row in session.execute(select(ModelPromotion.model, ModelPromotion.previous_model)):
        named.update(name for name in row if name)
    active = model_gate.read_active(paths.registry)
    if active is not None:
        named.add(str(active.relative_to(paths.registry.resolve())))
    comparison = latest_comparison(paths) or {}
    compared = ((comparison.get("models") or {}).get("candidate") or {}).get("file")
    if compared:
        named.add(str(compared))
    unused = sorted(
        (f for f in folder.glob("candidate-*.tar.gz") if f"candidates/{f.name}" not in named),
        key=lambda f: f.name,  # the name starts with its UTC time
        reverse=True,
    )
    deleted = []
    for file in unused[keep:]:
        file.unlink(missing_ok=True)
        deleted.append(f"candidates/{file.name}")
    return deleted


def start_training(
    paths: Paths, session: Session, user: Any, rasa_url: str | None = None
) -> dict[str, Any]:
    """Starts compare_models.py (nice -n 19) in the background; 409 while one runs. The
    candidate is compared with the model the running Rasa serves (else compare_models.py's
    own choice: the promoted model, or the one `make train` made)."""
    paths.jobs.mkdir(parents=True, exist_ok=True)
    running = running_model(rasa_url) if rasa_url else None
    in_registry = _registry_name(paths, running) if running else None
    current = ["--current", str(paths.registry / in_registry)] if in_registry else []
    lock = paths.lock_file.open("a")
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RegistryError(
                409, "Der kører allerede en træning. Vent, eller stop den."
            ) from None
        prune_candidates(session, paths)
        _write_status(paths, {"state": "running", "step": "starting", "started_at": _now()})
        log = (paths.jobs / "training.log").open("ab")
        try:
            child = subprocess.Popen(  # noqa: S603 - fixed argv
                [
                    "nice",
                    "-n",
                    "19",
                    str(BOT_PY),
                    str(COMPARE_SCRIPT),
                    "--lock-fd",
                    str(lock.fileno()),
                    "--registry",
                    str(paths.registry),
                    "--reports",
                    str(paths.reports),
                    "--jobs",
                    str(paths.jobs),
                    *current,
                ],
                cwd=PROJECT_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                pass_fds=(lock.fileno(),),
                start_new_session=True,
            )
        finally:
            log.close()
        _children.append(child)
        status = {
            "state": "running",
            "step": "starting",
            "started_at": _now(),
            "pid": child.pid,
            "process_group": child.pid,
        }
        _write_status(paths, status)
    finally:
        lock.close()  # the child holds the lock now (the same open file)
    audit_trail.audit(session, user, None, "training_started")
    return {**status, "running": True}


def cancel_training(paths: Paths, session: Session, user: Any) -> dict[str, Any]:
    """Stops the running training (SIGTERM to its process group, SIGKILL after 15 s)."""
    status = training_status(paths)
    if not status["running"]:
        raise RegistryError(409, "Der kører ingen træning.")
    pid = status.get("pid")
    if not isinstance(pid, int):
        raise RegistryError(409, "Træningen blev startet uden for siden (make compare-models).")
    group = status.get("process_group")
    target: int = group if isinstance(group, int) else pid

    def send(signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if isinstance(group, int):
                os.killpg(target, signum)
            else:
                os.kill(target, signum)

    send(signal.SIGTERM)
    deadline = time.monotonic() + CANCEL_GRACE_SECONDS
    while training_running(paths) and time.monotonic() < deadline:
        time.sleep(0.2)
    if training_running(paths):
        send(signal.SIGKILL)
        while training_running(paths):
            time.sleep(0.1)
    status = _read_json(paths.status_file) or {}
    if status.get("state") in (None, "running"):
        status.update(state="cancelled", finished_at=_now())
        _write_status(paths, status)
    audit_trail.audit(session, user, None, "training_cancelled")
    return training_status(paths)


# --------------------------------------------------------------------------- #
# The comparison
# --------------------------------------------------------------------------- #


def latest_comparison(paths: Paths) -> dict[str, Any] | None:
    return _read_json(paths.comparison_file)


def comparison_summary(comparison: dict[str, Any]) -> dict[str, Any]:
    """What the trainer's page shows and a promotion records: figures, no rows."""
    keys = (
        "n",
        "macro_f1",
        "critical_recall",
        "hoc_recall",
        "false_alarms",
        "false_alarm_rate",
        "normal_n",
        "critical_n",
    )
    files = {
        name: {
            model: {key: scores[model].get(key) for key in keys}
            for model in ("current", "candidate")
            if scores.get(model)
        }
        for name, scores in (comparison.get("files") or {}).items()
    }
    return {
        "created_at": comparison.get("created_at"),
        "models": comparison.get("models"),
        "decision": comparison.get("decision"),
        "files": files,
        "train_seconds": comparison.get("train_seconds"),
    }


def image_path(paths: Paths, name: str) -> Path | None:
    """One of the comparison's images, by its fixed name (nothing else is served)."""
    if name not in IMAGE_NAMES:
        return None
    path = paths.reports / name
    return path if path.is_file() else None


# --------------------------------------------------------------------------- #
# Rasa's model switch (bot/model_switch.py: loopback, JWT)
# --------------------------------------------------------------------------- #


def rasa_secret() -> str | None:
    secret = os.environ.get("RASA_JWT_SECRET")
    if secret:
        return secret
    try:
        return SECRET_FILE.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _rasa_headers() -> dict[str, str]:
    secret = rasa_secret()
    if secret is None:
        raise RegistryError(503, "Chatbotten kan ikke skiftes: nøglen til den mangler.")
    now = datetime.now(UTC)
    token = jwt.encode(
        {
            "user": {"username": "handoff-service", "role": "admin"},
            "username": "handoff-service",
            "iat": now,
            "exp": now + timedelta(minutes=5),
        },
        secret,
        algorithm="HS256",
    )
    return {"Authorization": f"Bearer {token}"}


def running_model(rasa_url: str, timeout: float = 10.0) -> str | None:
    """The file name of the model the running Rasa serves, or None if it does not answer."""
    try:
        response = httpx.get(f"{rasa_url}{SWITCH_PATH}/", headers=_rasa_headers(), timeout=timeout)
    except (httpx.HTTPError, RegistryError):
        return None
    if response.status_code != 200:
        return None
    name = response.json().get("model_file")
    return Path(name).name if isinstance(name, str) and name else None


def switch_rasa(rasa_url: str, model: Path, timeout: float = SWITCH_TIMEOUT_SECONDS) -> None:
    """Makes the running Rasa serve `model` and waits until it does; the old model answers
    meanwhile and stays on any error."""
    url = f"{rasa_url}{SWITCH_PATH}"
    try:
        response = httpx.post(
            f"{url}/load",
            json={"model_file": str(model.resolve())},
            headers=_rasa_headers(),
            timeout=30,
        )
    except httpx.HTTPError:
        raise RegistryError(503, "Chatbotten svarede ikke på skiftet. Intet er ændret.") from None
    if response.status_code == 409:
        raise RegistryError(409, "Chatbotten er allerede ved at skifte model. Prøv igen om lidt.")
    if response.status_code != 202:
        raise RegistryError(503, "Chatbotten kunne ikke indlæse modellen. Intet er ændret.")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(1)
        try:
            state = httpx.get(f"{url}/", headers=_rasa_headers(), timeout=30).json()
        except (httpx.HTTPError, ValueError):
            continue  # busy loading: ask again
        if state.get("loading") is None:
            if state.get("model_file") == model.name:
                return
            raise RegistryError(503, "Chatbotten kunne ikke indlæse modellen. Intet er ændret.")
    raise RegistryError(503, "Chatbotten blev ikke færdig med at skifte model i tide.")


# --------------------------------------------------------------------------- #
# Promotion, restore, history
# --------------------------------------------------------------------------- #


def _registry_name(paths: Paths, file_name: str) -> str | None:
    """A model's path relative to the registry, from Rasa's file name (or the pointer)."""
    active = model_gate.read_active(paths.registry)
    if active is not None and active.name == file_name:
        return str(active.relative_to(paths.registry.resolve()))
    for candidate in (paths.registry / file_name, paths.registry / "candidates" / file_name):
        if candidate.is_file():
            return str(candidate.relative_to(paths.registry))
    return None


def _current_name(paths: Paths, rasa_url: str) -> tuple[str | None, bool]:
    """The current model's registry name and whether Rasa answered."""
    running = running_model(rasa_url)
    if running is not None:
        return _registry_name(paths, running) or running, True
    active = model_gate.read_active(paths.registry)
    return (str(active.relative_to(paths.registry.resolve())) if active else None), False


def _activate(
    session: Session,
    paths: Paths,
    rasa_url: str,
    user: Any,
    *,
    action: str,
    model: str,
    figures: dict[str, Any],
    require_rasa: bool,
) -> ModelPromotion:
    file = (paths.registry / model).resolve()
    if not file.is_file() or not file.is_relative_to(paths.registry.resolve()):
        raise RegistryError(404, "Modelfilen findes ikke længere.")
    previous, rasa_up = _current_name(paths, rasa_url)
    if previous == model:
        raise RegistryError(409, "Den model er allerede i brug.")
    if rasa_up:
        switch_rasa(rasa_url, file)
    elif require_rasa:
        raise RegistryError(503, "Chatbotten svarer ikke lige nu. Prøv igen om lidt.")
    row = ModelPromotion(
        user_id=user.id if user is not None else None,
        action=action,
        model=model,
        previous_model=previous,
        rasa_switched=rasa_up,
        figures=figures,
    )
    session.add(row)
    session.flush()
    model_gate.write_active(paths.registry, file, promotion_id=row.id)
    audit_trail.audit(session, user, None, f"model_{action}d", reason=f"promotion_{row.id}")
    return row


def promote(
    session: Session, paths: Paths, rasa_url: str, user: Any, *, require_rasa: bool = True
) -> ModelPromotion:
    """The latest comparison's candidate becomes the current model, if the gate allowed it."""
    comparison = latest_comparison(paths)
    if comparison is None:
        raise RegistryError(409, "Der er ingen sammenligning endnu. Træn og sammenlign først.")
    if training_running(paths):
        raise RegistryError(409, "Vent, til træningen er færdig.")
    decision = comparison.get("decision") or {}
    if not decision.get("promotable"):
        raise RegistryError(
            409, "Sammenligningen tillader ikke, at kandidaten tages i brug (se grundene)."
        )
    candidate = (comparison.get("models") or {}).get("candidate") or {}
    compared = ((comparison.get("models") or {}).get("current") or {}).get("name")
    current, _ = _current_name(paths, rasa_url)
    if compared is not None and current is not None and Path(current).name != compared:
        raise RegistryError(
            409,
            "Sammenligningen er lavet mod en anden model end den, der er i brug nu. "
            "Lav en ny sammenligning.",
        )
    return _activate(
        session,
        paths,
        rasa_url,
        user,
        action="promote",
        model=str(candidate.get("file") or ""),
        figures=comparison_summary(comparison),
        require_rasa=require_rasa,
    )


def history(session: Session, paths: Paths, rasa_url: str | None = None) -> dict[str, Any]:
    """The promotions, newest first, and every model of them that can be restored."""
    rows = list(session.scalars(select(ModelPromotion).order_by(ModelPromotion.id.desc())))
    active = model_gate.read_active(paths.registry)
    active_name = str(active.relative_to(paths.registry.resolve())) if active else None
    if active_name is None and rasa_url is not None:
        running = running_model(rasa_url)
        active_name = _registry_name(paths, running) if running else None
    models: dict[str, dict[str, Any]] = {}
    for row in reversed(rows):  # oldest first: the first time a model was current
        for name, since in ((row.previous_model, None), (row.model, row.created_at)):
            if name and name not in models:
                models[name] = {"model": name, "first_current_at": since}
    for entry in models.values():
        entry["exists"] = (paths.registry / entry["model"]).is_file()
        entry["active"] = entry["model"] == active_name
    ordered = sorted(
        models.values(),
        key=lambda e: (e["first_current_at"] is not None, e["first_current_at"] or utcnow()),
        reverse=True,
    )
    for entry in ordered:
        since = entry["first_current_at"]
        entry["first_current_at"] = since.isoformat() if since is not None else None
    return {
        "active": active_name,
        "promotions": [promotion_out(row) for row in rows],
        "models": ordered,
    }


def restore(
    session: Session,
    paths: Paths,
    rasa_url: str,
    user: Any,
    model: str,
    *,
    require_rasa: bool = True,
) -> ModelPromotion:
    """A model of the history becomes current again (only names the history holds)."""
    known = {
        name
        for row in session.scalars(select(ModelPromotion))
        for name in (row.model, row.previous_model)
        if name
    }
    if model not in known:
        raise RegistryError(404, "Den model findes ikke i historikken.")
    if training_running(paths):
        raise RegistryError(409, "Vent, til træningen er færdig.")
    earlier = session.scalars(
        select(ModelPromotion)
        .where(ModelPromotion.model == model, ModelPromotion.action == "promote")
        .order_by(ModelPromotion.id.desc())
    ).first()
    return _activate(
        session,
        paths,
        rasa_url,
        user,
        action="restore",
        model=model,
        figures=dict(earlier.figures) if earlier is not None else {},
        require_rasa=require_rasa,
    )


class PromotionOut(BaseModel):
    id: int
    created_at: datetime
    user_id: int | None
    action: str
    model: str
    previous_model: str | None
    rasa_switched: bool
    figures: dict[str, Any]


def promotion_out(row: ModelPromotion) -> dict[str, Any]:
    return PromotionOut.model_validate(row, from_attributes=True).model_dump(mode="json")


# --------------------------------------------------------------------------- #
# make promote
# --------------------------------------------------------------------------- #


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("promote", help="the latest comparison's candidate becomes current")
    restoring = commands.add_parser("restore", help="a model of the history becomes current")
    restoring.add_argument("model", help="its name as `history` prints it")
    commands.add_parser("status", help="the training job's status")
    commands.add_parser("history", help="promotions and restorable models")
    args = parser.parse_args(argv)

    from handoff_service.config import get_settings
    from handoff_service.db import make_engine, make_session_factory
    from handoff_service.migrations import upgrade_database

    settings = get_settings()
    paths = Paths.from_env()
    if args.command == "status":
        print(json.dumps(training_status(paths), indent=2))
        return 0
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    try:
        with make_session_factory(engine)() as session:
            if args.command == "history":
                print(json.dumps(history(session, paths, settings.rasa_url), indent=2))
                return 0
            try:
                if args.command == "promote":
                    row = promote(session, paths, settings.rasa_url, None, require_rasa=False)
                else:
                    row = restore(
                        session, paths, settings.rasa_url, None, args.model, require_rasa=False
                    )
            except RegistryError as refused:
                session.rollback()
                print(f"refused ({refused.status}): {refused.detail}", file=sys.stderr)
                comparison = latest_comparison(paths) or {}
                for reason in (comparison.get("decision") or {}).get("reasons", []):
                    print(f"  - {reason}", file=sys.stderr)
                return 1
            session.commit()
            switched = (
                "the running Rasa switched to it"
                if row.rasa_switched
                else "Rasa is not running: `make run` starts on it"
            )
            print(f"{row.action}d {row.model} (promotion {row.id}); {switched}")
            return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
