"""Background jobs inside the service: the hourly retention purge, the shift watcher, the
recovery of turns a crash left unanswered (at start-up, then every UNANSWERED_CHECK_SECONDS) and
the stale-claim check (every STALE_CHECK_SECONDS, handoff_service/stale_claims.py) and the
statistics' service hours (every SERVICE_HOURS_SECONDS: each hour with a counsellor on shift,
counted once; handoff_service/statistics/cells.py).

All run in a worker thread (they use the synchronous session) from asyncio tasks started and
cancelled by the app's lifespan. Every job but the shift watcher (which tells this process's own
open streams) runs in one service process at a time: on PostgreSQL each run takes the job's
advisory lock, and a process that finds it held skips the round (handoff_service/job_lock.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy.orm import Session

from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.events import EventBroker
from handoff_service.job_lock import run_once
from handoff_service.notify import publish_queue_changed
from handoff_service.organisations import OpenStates, all_organisations, reroute_waiting
from handoff_service.retention import purge_expired
from handoff_service.stale_claims import StaleClaims
from handoff_service.statistics import record_service_hours
from handoff_service.young_turn import answer_unanswered

logger = logging.getLogger(__name__)
SERVICE_HOURS_SECONDS = 300


class ShiftWatcher:
    """Notices any organisation's shift opening or closing: waiting conversations move out of a
    closed queue where the routing says so (handoff_service/organisations.py), and waiting young
    people get new expected waits."""

    def __init__(self) -> None:
        self._was_open: dict[int, bool] | None = None

    def check(
        self, session: Session, settings: Settings, broker: EventBroker, now: datetime
    ) -> str | None:
        states = OpenStates(session, now, ZoneInfo(settings.timezone))
        is_open = {o.id: states.is_open(o) for o in all_organisations(session)}
        was_open, self._was_open = self._was_open, is_open
        if was_open is None or was_open == is_open:
            return None
        opened = any(is_open[i] and not was_open.get(i, False) for i in is_open)
        reason = "shift_opened" if opened else "shift_closed"
        moved = reroute_waiting(session, now)
        session.commit()
        # Every process runs the watcher and tells its own streams: nothing to announce.
        publish_queue_changed(broker, session, settings, now, reason=reason, announce=False)
        logger.info("%s (%d waiting moved to an open queue)", reason, len(moved))
        return reason


async def _every(seconds: float, job: Callable[[], object], name: str) -> None:
    while True:
        try:
            await asyncio.to_thread(job)
        except Exception as error:  # noqa: BLE001 - a failed run must not stop the next one
            logger.error("%s failed: %s", name, type(error).__name__)
        await asyncio.sleep(seconds)


def start_background_jobs(app: FastAPI) -> list[asyncio.Task]:
    settings: Settings = app.state.settings
    factory = app.state.session_factory
    watcher = ShiftWatcher()
    stale = StaleClaims()

    engine = app.state.engine

    def once(name: str, job: Callable[[Session], object]) -> Callable[[], None]:
        """The job, run by one service process at a time (handoff_service/job_lock.py)."""

        def run() -> None:
            with run_once(engine, name) as held:
                if held:
                    with factory() as session:
                        job(session)

        return run

    purge = once("retention", lambda session: purge_expired(session, settings, utcnow()))

    def watch_shifts() -> None:
        with factory() as session:
            watcher.check(session, settings, app.state.broker, utcnow())

    recover = once(
        "recovery",
        lambda session: answer_unanswered(session, settings, app.state.broker, app.state.texts),
    )
    release_stale = once(
        "stale claims",
        lambda session: stale.check(session, settings, app.state.broker, app.state.texts, utcnow()),
    )
    count_service_hours = once(
        "service hours", lambda session: record_service_hours(session, utcnow())
    )

    return [
        # First: the young people a crash of the previous process left without an answer.
        asyncio.create_task(_every(settings.unanswered_check_seconds, recover, "recovery")),
        asyncio.create_task(_every(settings.retention_interval_minutes * 60, purge, "retention")),
        asyncio.create_task(_every(settings.shift_watch_seconds, watch_shifts, "shift watcher")),
        asyncio.create_task(_every(settings.stale_check_seconds, release_stale, "stale claims")),
        asyncio.create_task(
            _every(SERVICE_HOURS_SECONDS, count_service_hours, "statistics service hours")
        ),
    ]


async def stop_background_jobs(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
