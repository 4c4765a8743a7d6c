"""`/model/parse` latency of the current model for 20-word Danish messages (p50/p95).

Starts `rasa run --enable-api` on 127.0.0.1 (a free port) with the current model, sends N
20-word messages one after another, prints p50/p95/max in milliseconds and stops the server.
Bounded: the server gets START_TIMEOUT seconds to come up, every request a timeout, and the
whole run ends after N requests.

Authentication uses a JWT made from a random secret for this run and sent in the Authorization
header (Rasa's --auth-token would have to travel in the URL, which this project never does).

    .venv-bot/bin/python bench/nlu_parse_bench.py [--n 200] [--json results/bench/nlu_parse.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import jwt

ROOT = Path(__file__).resolve().parent.parent
BOT_PY = ROOT / ".venv-bot" / "bin" / "python"
START_TIMEOUT = 300
WORDS_PER_MESSAGE = 20
WARMUP = 10

# Fragments in the register of the chat; messages are random 20-word cuts of their mix, so no
# two requests are the same text.
FRAGMENTS = [
    "min far drikker hver aften og bliver sur når han kommer hjem fra arbejde",
    "jeg ved ikke hvem jeg skal snakke med om det der sker derhjemme",
    "min mor tager nogle piller og sover hele dagen så jeg laver mad til min lillebror",
    "jeg er bange for at det er min skyld at de skændes hele tiden",
    "kan jeg skrive anonymt uden at nogen fra kommunen finder ud af det",
    "hvornår er der en rådgiver jeg kan snakke med i aften",
    "jeg har ikke sovet ordentligt i flere uger fordi der er så meget larm",
    "nogle gange drikker jeg også selv for at slippe for at tænke på det hele",
    "jeg føler mig så alene og ingen i klassen ved hvordan det er",
    "han lovede at han ville stoppe men så startede det hele igen i weekenden",
    "er det normalt at være sur på sin mor når hun er fuld",
    "tak fordi i er her det hjælper lidt bare at skrive det ned",
]


def messages(count: int, seed: int = 20) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test messages, not a secret
    words = " ".join(FRAGMENTS).split()
    out = []
    for _ in range(count):
        start = rng.randrange(0, len(words) - WORDS_PER_MESSAGE)
        out.append(" ".join(words[start : start + WORDS_PER_MESSAGE]))
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def current_model() -> Path:
    sys.path.insert(0, str(ROOT / "scripts"))
    import stack  # noqa: PLC0415 - scripts/ is not a package

    model = stack.current_model()
    if not model.exists():
        raise SystemExit(f"no current model ({model.name}); run `make train` first")
    return model


def post(url: str, body: dict, token: str, timeout: float = 30) -> dict:
    request = urllib.request.Request(  # noqa: S310 - loopback http only
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"rasa exited with {process.returncode} before it was up")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise SystemExit(f"rasa not up after {START_TIMEOUT} s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="measured requests (after warm-up)")
    parser.add_argument("--model", type=Path, help="model archive (default: the current one)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    model = args.model or current_model()
    port = free_port()
    secret = secrets.token_urlsafe(32)
    token = jwt.encode(
        {"user": {"username": "bench", "role": "admin"}, "exp": int(time.time()) + 3600},
        secret,
        algorithm="HS256",
    )
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        SANIC_HOST="127.0.0.1",
    )
    server = subprocess.Popen(
        [
            str(BOT_PY),
            "-m",
            "rasa",
            "run",
            "--enable-api",
            "--model",
            str(model),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--jwt-secret",
            secret,
            "--jwt-method",
            "HS256",
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/", server)
        texts = messages(args.n + WARMUP)
        timings = []
        for index, text in enumerate(texts):
            started = time.perf_counter()
            parsed = post(f"{base}/model/parse", {"text": text}, token)
            elapsed = time.perf_counter() - started
            if not parsed.get("intent", {}).get("name"):
                raise SystemExit("parse returned no intent")
            if index >= WARMUP:
                timings.append(elapsed * 1000)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    figures = {
        "model": model.name,
        "requests": len(timings),
        "words_per_message": WORDS_PER_MESSAGE,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "max_ms": round(max(timings), 1),
        "mean_ms": round(statistics.fmean(timings), 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
