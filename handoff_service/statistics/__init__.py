"""Statistics that outlive retention (issue #17, docs/statistics.md).

A conversation adds one to a set of cells (metric, category at its start week and hour); the set
is recomputed by :func:`record` at every change that matters and the difference applied, so the
counts stay the same when retention deletes the conversation. Nothing here keeps text or ids.
"""

from __future__ import annotations

from handoff_service.statistics.cells import record, record_many, record_service_hours

__all__ = ["record", "record_many", "record_service_hours"]
