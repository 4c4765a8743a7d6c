"""Trains the model when needed and runs the three processes: Rasa, the action server, the service.

Standard library only, so it runs under any Python. Used by `make run`, `make train` and the
end-to-end tests (which import `Stack` to start the real processes on free ports).

    python scripts/stack.py train [--force]   # train into models/ unless the current model exists
    python scripts/stack.py model             # print the path of the current model (or fail)
    python scripts/stack.py run               # train if needed, start everything, Ctrl-C stops it
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT_PY = ROOT / ".venv-bot" / "bin" / "python"
SERVICE_PY = ROOT / ".venv-service" / "bin" / "python"
MODELS = ROOT / "models"
RASA_LOGGING = ROOT / "scripts" / "rasa_logging.yml"
# Everything a trained model depends on. The risk lexicon is read when the model loads, so
# editing it needs no retraining.
MODEL_INPUTS = (
    "bot/config.yml",
    "bot/domain.yml",
    "data/nlu",
    "data/rules",
    "data/stories",
    "bot/components",
)
TRAINING_DATA = ("data/nlu", "data/rules", "data/stories")
# The model a person promoted on the trainer's page or with `make promote`
# (handoff_service/model_registry.py, triage_core/model_gate.py): <registry>/active.json.
ACTIVE_POINTER = "active.json"
# Where `make run` keeps the secret that signs the service's calls to Rasa's model switch
# (bot/model_switch.py, loopback only), so that `make promote` in another terminal can switch the
# running Rasa's model.
RASA_JWT_SECRET_FILE = ROOT / "var" / "rasa-jwt-secret"
# bot/endpoints.yml's lock store for one Rasa: Rasa's in-memory one (Rasa refuses an unset
# ${...}, so all four are set; address and password are unused). scripts/cluster.py passes
# Rasa's RedisLockStore in Stack.rasa_env instead.
IN_MEMORY_LOCK_STORE = {
    "RASA_LOCK_STORE": "in_memory",
    "RASA_LOCK_STORE_HOST": "127.0.0.1",
    "RASA_LOCK_STORE_PORT": "6379",
    "RASA_LOCK_STORE_PASSWORD": "",
}


def model_fingerprint(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    digest.update(_bot_dependencies(root / "pyproject.toml").encode())
    for name in MODEL_INPUTS:
        path = root / name
        files = (
            sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            if path.is_dir()
            else [path]
        )
        for file in files:
            if file.exists():
                digest.update(str(file.relative_to(root)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def _bot_dependencies(pyproject: Path) -> str:
    """The bot extra's dependency lines: a new Rasa or spaCy needs a new model; a linter not."""
    text = pyproject.read_text(encoding="utf-8")
    start = text.find("\nbot = [")
    return text[start : text.find("]", start)] if start >= 0 else text


def current_model(root: Path = ROOT) -> Path:
    return root / "models" / f"model-{model_fingerprint(root)}.tar.gz"


def promoted_model(registry: Path) -> Path | None:
    """The promoted model of a registry (its active.json), when the file it names exists."""
    import json

    try:
        name = json.loads((registry / ACTIVE_POINTER).read_text(encoding="utf-8")).get("model")
    except (OSError, ValueError, AttributeError):
        return None
    path = (registry / name).resolve() if isinstance(name, str) and name else None
    return path if path is not None and path.is_file() else None


def train(force: bool = False, root: Path = ROOT) -> Path:
    model = current_model(root)
    if model.exists() and not force:
        print(f"model is current: {model.relative_to(root)}", flush=True)
        return model
    print("training a model for the current config, domain and data ...", flush=True)
    started = time.monotonic()
    data = [d for d in TRAINING_DATA if (root / d).exists()]
    subprocess.run(
        [
            str(BOT_PY),
            "-m",
            "rasa",
            "train",
            "--config",
            "bot/config.yml",
            "--domain",
            "bot/domain.yml",
            "--data",
            *data,
            "--out",
            "models",
            "--fixed-model-name",
            model.name.removesuffix(".tar.gz"),
            # `make validate` (part of `make test`) validates the same files with
            # --fail-on-warnings; validating again here cost ~20 s of every training.
            "--skip-validation",
        ],
        cwd=root,
        check=True,
        env=bot_env(),
    )
    print(f"trained {model.relative_to(root)} in {time.monotonic() - started:.0f} s", flush=True)
    return model


def tracker_database_url(database_url: str) -> str:
    """The tracker store's database for a service database URL (see Stack.tracker_url)."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        return f"sqlite:///{path.with_name(path.stem + '-rasa' + (path.suffix or '.db'))}"
    return database_url


def rasa_driver_url(url: str) -> str:
    """The same database for Rasa's SQLAlchemy 1.4, which has psycopg2 instead of psycopg 3."""
    scheme, _, rest = url.partition("://")
    return f"{scheme.split('+')[0]}://{rest}"


def bot_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT), "SANIC_HOST": "127.0.0.1"})
    env.update(extra or {})
    return env


@dataclass
class Stack:
    """The three processes of a running system, on loopback."""

    service_port: int = 8000
    rasa_port: int = 5005
    actions_port: int = 5055
    database_url: str = f"sqlite:///{ROOT / 'var' / 'handoff.db'}"
    log_dir: Path = ROOT / "var" / "log"
    service_env: dict[str, str] = field(default_factory=dict)
    # Rasa's extra environment (scripts/cluster.py: the Redis lock store), like service_env.
    rasa_env: dict[str, str] = field(default_factory=dict)
    internal_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # Signs the service's calls to Rasa's model switch (bot/model_switch.py: loopback, a JWT in
    # the header; handoff_service/model_registry.py), passed to both in the environment.
    rasa_jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    model: Path | None = None
    # A model registry (models/ for make run): Rasa starts, and starts again, on its promoted
    # model when it has one, else on `model`.
    model_registry: Path | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.service_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def tracker_url(self) -> str:
        """Where Rasa keeps each conversation's tracker (its context), as the service's URL.

        PostgreSQL: the service's own database (Rasa's table is ``events``). SQLite: a file
        beside the service's, because a second process writing the service's file would wait on
        its single write lock during the young person's turn.
        """
        return tracker_database_url(self.database_url)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_actions(self) -> None:
        env = bot_env(
            {
                "HANDOFF_INTERNAL_URL": self.service_url,
                "INTERNAL_API_TOKEN": self.internal_token,
            }
        )
        self._spawn(
            "actions",
            [
                str(BOT_PY),
                "-m",
                "rasa_sdk",
                "--actions",
                "bot.actions",
                "-p",
                str(self.actions_port),
                "--quiet",
            ],
            env,
        )

    def start_rasa(self) -> None:
        promoted = promoted_model(self.model_registry) if self.model_registry else None
        model = promoted or self.model or current_model()
        env = bot_env(
            {
                "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
                "RASA_TRACKER_URL": rasa_driver_url(self.tracker_url),
                "RASA_JWT_SECRET": self.rasa_jwt_secret,
                **IN_MEMORY_LOCK_STORE,
                **self.rasa_env,
            }
        )
        self._spawn(
            "rasa",
            [
                str(BOT_PY),
                "-m",
                "rasa",
                "run",
                "--model",
                str(model),
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.rasa_port),
                "--credentials",
                "bot/credentials.yml",
                "--endpoints",
                "bot/endpoints.yml",
                # No message text in Rasa's log, also on aborted calls (scripts/rasa_logging.yml).
                "--logging-config-file",
                str(RASA_LOGGING),
                "--quiet",
            ],
            env,
        )

    def start_service(self) -> None:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "RASA_URL": self.rasa_url,
                "RASA_TRACKER_URL": self.tracker_url,
                "INTERNAL_API_TOKEN": self.internal_token,
                "RASA_JWT_SECRET": self.rasa_jwt_secret,
            }
        )
        if self.model_registry is not None:
            env["MODEL_REGISTRY_DIR"] = str(self.model_registry)
        env.update(self.service_env)
        self._spawn(
            "service",
            [
                str(SERVICE_PY),
                "-m",
                "uvicorn",
                "handoff_service.main:app_factory",
                "--factory",
                "--host",
                env.get("HOST", "127.0.0.1"),
                "--port",
                str(self.service_port),
                "--no-access-log",
                # Limits at the edge (docs/reliability.md): h11 with a deadline for the request
                # head and a Danish 431 when the head outgrows 16 KiB; idle keep-alive 5 s.
                "--http",
                "handoff_service.edge:EdgeH11Protocol",
                "--h11-max-incomplete-event-size",
                "16384",
                "--timeout-keep-alive",
                "5",
            ],
            env,
        )

    def start(self) -> None:
        self.start_service()
        self.start_actions()
        self.start_rasa()

    def wait_until_ready(self, timeout: float = 240) -> None:
        checks = {
            "service": f"{self.service_url}/healthz",
            "actions": f"http://127.0.0.1:{self.actions_port}/health",
            "rasa": f"{self.rasa_url}/webhooks/rest/",
        }
        deadline = time.monotonic() + timeout
        pending = {name: url for name, url in checks.items() if name in self.processes}
        while pending:
            for name, url in list(pending.items()):
                process = self.processes[name]
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.returncode}; "
                        f"see {self.log_dir / (name + '.log')}"
                    )
                if _responds(url):
                    del pending[name]
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f} s: {', '.join(pending)}")
            time.sleep(0.5)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for name in ("rasa", "actions", "service"):
            self.stop(name)


def _responds(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return response.status < 500
    except (urllib.error.URLError, OSError):
        return False


def run() -> int:
    model = train()
    promoted = promoted_model(MODELS)
    if promoted is not None:
        print(f"starting Rasa on the promoted model {promoted.relative_to(ROOT)}", flush=True)
    password = os.environ.get("DEMO_COUNSELLOR_PASSWORD", "demo")
    stack = Stack(
        service_port=int(os.environ.get("PORT", "8000")),
        model=model,
        internal_token=os.environ.get("INTERNAL_API_TOKEN") or secrets.token_urlsafe(32),
        model_registry=MODELS,
    )
    # For `make promote` in another terminal (owner-only file, like the database under var/).
    RASA_JWT_SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
    RASA_JWT_SECRET_FILE.touch(mode=0o600)
    RASA_JWT_SECRET_FILE.chmod(0o600)
    RASA_JWT_SECRET_FILE.write_text(stack.rasa_jwt_secret, encoding="utf-8")

    def shutdown(*_args) -> None:
        print("\nstopping ...", flush=True)
        stack.stop_all()
        sys.exit(0)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    print(
        "starting the handoff service, the action server and Rasa (logs in var/log/) ...",
        flush=True,
    )
    stack.start()
    try:
        stack.wait_until_ready()
    except (RuntimeError, TimeoutError) as error:
        print(f"could not start: {error}", file=sys.stderr)
        stack.stop_all()
        return 1
    print(
        "\n"
        f"  Chat for young people:   http://localhost:{stack.service_port}/\n"
        f"  A municipality's page:   http://localhost:{stack.service_port}/ung/aaby"
        "  (demo network: docs/organisations.md)\n"
        f"  Counsellor dashboard:    http://localhost:{stack.service_port}/counsellor\n"
        f"  Statistics (leaders):    http://localhost:{stack.service_port}/statistics\n"
        f"  Trainer's inbox:         http://localhost:{stack.service_port}/trainer\n"
        f"  API docs (development):  http://localhost:{stack.service_port}/docs\n"
        f"  Development login:       demo / {password}"
        "  (counsellor; also demo-traener, demo-admin, demo-leder)\n"
        "\n  Ctrl-C stops everything.\n",
        flush=True,
    )
    while True:
        for name, process in list(stack.processes.items()):
            if process.poll() is not None:
                print(
                    f"{name} stopped unexpectedly (exit {process.returncode}); "
                    f"see var/log/{name}.log",
                    file=sys.stderr,
                )
                stack.stop_all()
                return 1
        time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("train", "model", "run"))
    parser.add_argument(
        "--force", action="store_true", help="train even if the current model exists"
    )
    args = parser.parse_args()
    if args.command == "train":
        train(force=args.force)
        return 0
    if args.command == "model":
        model = current_model()
        if not model.exists():
            print(f"no current model ({model.name}); run make train", file=sys.stderr)
            return 1
        print(model)
        return 0
    return run()


if __name__ == "__main__":
    sys.exit(main())
