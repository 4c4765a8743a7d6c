"""The system as several processes (issue #18), for make run-cluster, tests and the benchmark.

    python scripts/cluster.py run    # train if needed, start everything, Ctrl-C stops it

What runs, all on 127.0.0.1:

- PostgreSQL (scripts/postgres.sh) for the service and for Rasa's trackers, Redis
  (scripts/redis.sh) for Rasa's conversation locks;
- two handoff service processes (A and B) on two ports, behind haproxy (scripts/haproxy.sh,
  scripts/haproxy-cluster.cfg), which checks each one's /healthz every second;
- two Rasa servers, both on the SQL tracker store in the same PostgreSQL and on Rasa's
  RedisLockStore, behind a second haproxy frontend: the services and the action server reach
  Rasa and the service only through the balancer, so either process serves any conversation;
- one action server.

Each piece is a `Stack` of scripts/stack.py (one process each, the same launch code as
`make run`); this file only wires them together. Runs under the service's Python (psycopg
makes and drops the cluster's database).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import MODELS, ROOT, Stack, current_model, promoted_model, train  # noqa: E402

POSTGRES_SH = ROOT / "scripts" / "postgres.sh"
REDIS_SH = ROOT / "scripts" / "redis.sh"
HAPROXY_SH = ROOT / "scripts" / "haproxy.sh"
SERVICES = ("a", "b")
RASAS = ("rasa1", "rasa2")
# What each member's Stack runs, and how it is started (Stack's method).
STARTERS = {
    "a": ("service", "start_service"),
    "b": ("service", "start_service"),
    "rasa1": ("rasa", "start_rasa"),
    "rasa2": ("rasa", "start_rasa"),
    "actions": ("actions", "start_actions"),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _script(path: Path, *args: str) -> str:
    """Runs a helper script; its stdout (a URL), its progress lines go to our stderr."""
    result = subprocess.run(
        ["bash", str(path), *args], cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True
    )
    return result.stdout.strip()


def _script_running(path: Path) -> bool:
    return (
        subprocess.run(
            ["bash", str(path), "url"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ).returncode
        == 0
    )


def _with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _admin(url: str, statement: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE), with the service's psycopg."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as connection:
        connection.execute(statement)


def redis_lock_store_env(redis_url: str) -> dict[str, str]:
    """bot/endpoints.yml's lock store: Rasa's RedisLockStore on `redis_url` (redis://:pw@host:port)."""
    parsed = urllib.parse.urlsplit(redis_url)
    return {
        "RASA_LOCK_STORE": "redis",
        "RASA_LOCK_STORE_HOST": parsed.hostname or "127.0.0.1",
        "RASA_LOCK_STORE_PORT": str(parsed.port or 6379),
        "RASA_LOCK_STORE_PASSWORD": urllib.parse.unquote(parsed.password or ""),
    }


@dataclass
class Ports:
    http: int = 8000  # the balancer's frontend for the service: what a browser opens
    service_a: int = 8001
    service_b: int = 8002
    rasa: int = 5005  # the balancer's frontend for Rasa: what the services call
    rasa1: int = 5006
    rasa2: int = 5007
    actions: int = 5055

    @classmethod
    def free(cls) -> Ports:
        return cls(*(free_port() for _ in range(7)))


@dataclass
class Cluster:
    """Two services, two Rasa servers, one action server and haproxy, on loopback.

    `postgres_url` and `redis_url`: servers someone else started (the tests'); without them the
    cluster starts its own with scripts/postgres.sh and scripts/redis.sh and stops them again.
    Either way the cluster makes a database of its own in that PostgreSQL (`database_url`) and
    drops it when it stops, so it never shares the test suite's database.
    """

    work_dir: Path = ROOT / "var" / "cluster"
    ports: Ports = field(default_factory=Ports)
    postgres_url: str | None = None
    redis_url: str | None = None
    database_url: str | None = None
    model: Path | None = None
    model_registry: Path | None = None
    service_env: dict[str, str] = field(default_factory=dict)
    internal_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    rasa_jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    members: dict[str, Stack] = field(default_factory=dict)
    haproxy: subprocess.Popen | None = None
    owns_postgres: bool = False
    owns_redis: bool = False

    # -- addresses --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The balancer: what a young person's page and the action server use."""
        return f"http://127.0.0.1:{self.ports.http}"

    @property
    def rasa_url(self) -> str:
        """Rasa through the balancer: what the services use."""
        return f"http://127.0.0.1:{self.ports.rasa}"

    def service_url(self, name: str) -> str:
        return self.members[name].service_url

    def direct_rasa_url(self, name: str) -> str:
        return self.members[name].rasa_url

    @property
    def log_dir(self) -> Path:
        return self.work_dir / "log"

    @property
    def haproxy_socket(self) -> Path:
        return self.work_dir / "haproxy.sock"

    # -- starting ---------------------------------------------------------------------------

    def _servers(self) -> None:
        if self.postgres_url is None:
            self.owns_postgres = not _script_running(POSTGRES_SH)
            self.postgres_url = _script(POSTGRES_SH, "start")
        if self.database_url is None:
            name = f"cluster_{secrets.token_hex(6)}"
            _admin(self.postgres_url, f'CREATE DATABASE "{name}"')
            self.database_url = _with_database(self.postgres_url, name)
        if self.redis_url is None:
            self.owns_redis = not _script_running(REDIS_SH)
            self.redis_url = _script(REDIS_SH, "start")

    def _members(self) -> None:
        assert self.database_url is not None and self.redis_url is not None
        model = self.model or current_model()
        common = {
            "database_url": self.database_url,
            "internal_token": self.internal_token,
            "rasa_jwt_secret": self.rasa_jwt_secret,
            "model": model,
            "model_registry": self.model_registry,
        }
        service_env = {
            # Both processes sign and check the same tokens.
            "SECRET_KEY_PATH": str(self.work_dir / "secret_key"),
            **self.service_env,
        }
        for name, port in (("a", self.ports.service_a), ("b", self.ports.service_b)):
            self.members[name] = Stack(
                service_port=port,
                rasa_port=self.ports.rasa,  # RASA_URL: the balancer
                actions_port=self.ports.actions,
                log_dir=self.log_dir / name,
                service_env=service_env,
                **common,
            )
        lock_store = redis_lock_store_env(self.redis_url)
        for name, port in (("rasa1", self.ports.rasa1), ("rasa2", self.ports.rasa2)):
            self.members[name] = Stack(
                rasa_port=port,
                actions_port=self.ports.actions,
                log_dir=self.log_dir / name,
                rasa_env=lock_store,
                **common,
            )
        # The action server writes the triage back through the balancer.
        self.members["actions"] = Stack(
            service_port=self.ports.http,
            actions_port=self.ports.actions,
            log_dir=self.log_dir / "actions",
            **common,
        )

    def start(self, timeout: float = 300) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._servers()
        self._members()
        # The slow ones first (Rasa loads its model), then A: its start-up runs the migrations
        # and seeds the demo data, so B starts on a finished schema, never racing A.
        for name in ("rasa1", "rasa2", "actions", "a"):
            self.start_member(name)
        self.members["a"].wait_until_ready(timeout=timeout)
        self.start_member("b")
        self.start_haproxy()
        self.wait_until_ready(timeout=timeout)

    def start_member(self, name: str) -> None:
        _process, starter = STARTERS[name]
        getattr(self.members[name], starter)()

    def start_haproxy(self) -> None:
        env = dict(os.environ)
        env.update(
            {
                "HAPROXY_RUN_DIR": str(self.work_dir),
                "CLUSTER_HTTP_PORT": str(self.ports.http),
                "SERVICE_A_PORT": str(self.ports.service_a),
                "SERVICE_B_PORT": str(self.ports.service_b),
                "CLUSTER_RASA_PORT": str(self.ports.rasa),
                "RASA_1_PORT": str(self.ports.rasa1),
                "RASA_2_PORT": str(self.ports.rasa2),
            }
        )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["bash", str(HAPROXY_SH), "check"], cwd=ROOT, env=env, check=True)
        log = (self.log_dir / "haproxy.log").open("ab")
        self.haproxy = subprocess.Popen(
            ["bash", str(HAPROXY_SH), "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_ready(self, timeout: float = 300) -> None:
        """Every process answers, and haproxy sees every service and Rasa as up."""
        deadline = time.monotonic() + timeout
        for member in self.members.values():
            if member.processes:
                member.wait_until_ready(timeout=max(1.0, deadline - time.monotonic()))
        while True:
            if self.haproxy is None or self.haproxy.poll() is not None:
                raise RuntimeError(f"haproxy is not running; see {self.log_dir / 'haproxy.log'}")
            states = self.backend_states()
            expected = {name for name in STARTERS if name != "actions" and self.running(name)}
            if {n for n, s in states.items() if s == "UP"} >= expected:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"haproxy does not see everything up: {states}")
            time.sleep(0.25)

    # -- the running cluster ----------------------------------------------------------------

    def running(self, name: str) -> bool:
        process = self.members[name].processes.get(STARTERS[name][0])
        return process is not None and process.poll() is None

    def pid(self, name: str) -> int:
        return self.members[name].processes[STARTERS[name][0]].pid

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one member's process group (SIGKILL by default: a crash, not a shutdown)."""
        process = self.members[name].processes.pop(STARTERS[name][0])
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def restart(self, name: str, timeout: float = 300) -> None:
        """Start a member that was stopped or killed again, and wait until haproxy uses it."""
        self.members[name].stop(STARTERS[name][0])
        self.start_member(name)
        self.members[name].wait_until_ready(timeout=timeout)
        self.wait_until_ready(timeout=timeout)

    def haproxy_command(self, command: str) -> str:
        """One command on haproxy's stats socket (owner-only, in the cluster's folder)."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(str(self.haproxy_socket))
            sock.sendall(command.encode() + b"\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        return data.decode()

    def set_server_state(self, name: str, state: str) -> None:
        """Take a server out of the balancer ("maint") or put it back ("ready")."""
        backend = "rasa" if name in RASAS else "services"
        self.haproxy_command(f"set server {backend}/{name} state {state}")

    def backend_states(self) -> dict[str, str]:
        """haproxy's view of each server ("UP", "DOWN", "MAINT", ...), from its stats socket."""
        try:
            data = self.haproxy_command("show stat")
        except OSError:
            return {}
        states = {}
        for line in data.splitlines():
            cells = line.split(",")
            if len(cells) > 17 and cells[1] in STARTERS:
                states[cells[1]] = cells[17].split(" ")[0]
        return states

    def all_processes(self) -> dict[str, subprocess.Popen]:
        found = {
            name: member.processes[STARTERS[name][0]]
            for name, member in self.members.items()
            if STARTERS[name][0] in member.processes
        }
        if self.haproxy is not None:
            found["haproxy"] = self.haproxy
        return found

    def stop_all(self) -> None:
        if self.haproxy is not None and self.haproxy.poll() is None:
            os.killpg(self.haproxy.pid, signal.SIGTERM)
            try:
                self.haproxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.haproxy.pid, signal.SIGKILL)
                self.haproxy.wait()
        for member in self.members.values():
            member.stop_all()
        if self.database_url is not None and self.postgres_url is not None:
            name = urllib.parse.urlsplit(self.database_url).path.lstrip("/")
            try:
                _admin(self.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as error:  # noqa: BLE001 - the server may be gone already
                print(f"could not drop {name}: {type(error).__name__}", file=sys.stderr)
            self.database_url = None
        if self.owns_redis:
            subprocess.run(["bash", str(REDIS_SH), "stop"], cwd=ROOT, check=False)
            self.owns_redis = False
        if self.owns_postgres:
            subprocess.run(["bash", str(POSTGRES_SH), "stop"], cwd=ROOT, check=False)
            self.owns_postgres = False


def run() -> int:
    model = train()
    password = os.environ.get("DEMO_COUNSELLOR_PASSWORD", "demo")
    http = int(os.environ.get("PORT", "8000"))
    cluster = Cluster(
        ports=Ports(http=http, service_a=http + 1, service_b=http + 2),
        model=model,
        model_registry=MODELS,
        internal_token=os.environ.get("INTERNAL_API_TOKEN") or secrets.token_urlsafe(32),
    )
    if promoted_model(MODELS) is not None:
        print("starting Rasa on the promoted model", flush=True)

    def shutdown(*_args) -> None:
        print("\nstopping ...", flush=True)
        cluster.stop_all()
        sys.exit(0)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    print(
        "starting PostgreSQL, Redis, 2 handoff services, 2 Rasa servers, the action server "
        "and haproxy (logs in var/cluster/log/) ...",
        flush=True,
    )
    try:
        cluster.start()
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as error:
        print(f"could not start: {error}", file=sys.stderr)
        cluster.stop_all()
        return 1
    p = cluster.ports
    print(
        "\n"
        f"  Chat for young people:   http://localhost:{p.http}/   (through haproxy)\n"
        f"  Counsellor dashboard:    http://localhost:{p.http}/counsellor\n"
        f"  Statistics (leaders):    http://localhost:{p.http}/statistics\n"
        f"  Trainer's inbox:         http://localhost:{p.http}/trainer\n"
        f"  Development login:       demo / {password}"
        "  (counsellor; also demo-traener, demo-admin, demo-leder)\n"
        f"  Service processes:       A http://127.0.0.1:{p.service_a}/  "
        f"B http://127.0.0.1:{p.service_b}/\n"
        f"  Rasa:                    http://127.0.0.1:{p.rasa}/ (through haproxy), "
        f"1 :{p.rasa1}, 2 :{p.rasa2}; actions :{p.actions}\n"
        "  PostgreSQL and Redis:    throw-away, loopback (scripts/postgres.sh, scripts/redis.sh)\n"
        "\n  Stopping one process leaves the others serving. Ctrl-C stops everything.\n",
        flush=True,
    )
    reported: set[str] = set()
    while True:
        for name, process in cluster.all_processes().items():
            if process.poll() is not None and name not in reported:
                reported.add(name)
                if name == "haproxy":
                    print("haproxy stopped unexpectedly; stopping", file=sys.stderr)
                    cluster.stop_all()
                    return 1
                print(
                    f"{name} stopped (exit {process.returncode}); the others go on "
                    f"(see var/cluster/log/{name}/)",
                    file=sys.stderr,
                    flush=True,
                )
        time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("run",))
    parser.parse_args()
    return run()


if __name__ == "__main__":
    sys.exit(main())
