"""The table behind the rate limits when several service processes share one PostgreSQL.

One row per limited key (``rate_counters``, migration 0014; UNLOGGED on PostgreSQL: no WAL, not
in base backups or on standbys, emptied after a crash, which only forgets recent counts, as a
restart of a single process always did). A key is a scope and a conversation id, a fixed name,
or keyed hashes of a client's address and a username (handoff_service/ratelimit.py): never an
address, a user agent or a username in clear.

Columns, all times in seconds since the epoch:

* ``hits``: the sliding window's events (at most the limit), oldest first;
* ``failures``: wrong passwords of one client for one username (logins only);
* ``blocked_until``: until when this key is refused (a login wait; a client's last failure);
* ``expires_at``: after this the row means nothing; the hits delete such rows now and then.

Under SQLite (the embedded single process) the table exists for schema parity and stays empty:
the limits are counted in the process's memory.
"""

from __future__ import annotations

from sqlalchemy import JSON, Double, Integer, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from handoff_service.db import Base

KEY_LENGTH = 100


class RateCounter(Base):
    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    hits: Mapped[list[float]] = mapped_column(
        ARRAY(Double()).with_variant(JSON(), "sqlite"), nullable=False
    )
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    blocked_until: Mapped[float | None] = mapped_column(Double(), nullable=True)
    expires_at: Mapped[float] = mapped_column(Double(), nullable=False)
