"""A background job that must run in one process at a time, however many service processes run.

On PostgreSQL a job takes a session-level advisory lock named after it for the whole run
(``pg_try_advisory_lock``): a second process that finds it held skips this round, and the lock
goes with the holder's connection if that process dies. Under SQLite (the embedded default) the
service runs as one process, and the lock is always granted.

Jobs that touch only the process's own listeners (the shift watcher, which tells this process's
open streams that a shift opened) run in every process and take no lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for the job's name (the same in every process)."""
    return int.from_bytes(
        hashlib.sha256(f"ung-chat job {name}".encode()).digest()[:8], "big", signed=True
    )


@contextmanager
def run_once(engine: Engine, name: str) -> Iterator[bool]:
    """True while this process holds the job's lock; False: another process is running it."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    with engine.connect() as connection:
        held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
