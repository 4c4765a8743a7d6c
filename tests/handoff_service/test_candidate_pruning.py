"""Old candidate models are deleted before a new training (model_registry.prune_candidates):
never one the promotion history names, the one in use or the latest comparison's candidate;
of the rest the newest two stay. Real files in a temporary registry."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session

from handoff_service import model_registry as registry
from handoff_service.model_registry import ModelPromotion
from triage_core import model_gate


def candidate(paths: registry.Paths, stamp: str) -> str:
    folder = paths.registry / "candidates"
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"candidate-{stamp}-abc123.tar.gz"
    file.write_bytes(b"model")
    return f"candidates/{file.name}"


def test_only_unused_old_candidates_go(session: Session, tmp_path: Path) -> None:
    paths = registry.Paths(tmp_path / "models", tmp_path / "reports", tmp_path / "jobs")
    names = [candidate(paths, f"2026120{day}T2000") for day in range(1, 9)]
    restored_from, promoted, in_use, compared = names[0], names[1], names[2], names[3]
    session.add(ModelPromotion(action="promote", model=promoted, previous_model=restored_from))
    session.flush()
    model_gate.write_active(paths.registry, paths.registry / in_use)
    paths.reports.mkdir(parents=True)
    paths.comparison_file.write_text(
        json.dumps({"models": {"candidate": {"file": compared}}}), encoding="utf-8"
    )
    # names[4:8] are unused: the newest two (7 and 8 December) stay.
    deleted = registry.prune_candidates(session, paths)
    assert sorted(deleted) == [names[4], names[5]]
    left = sorted(f"candidates/{f.name}" for f in (paths.registry / "candidates").iterdir())
    assert left == sorted([restored_from, promoted, in_use, compared, names[6], names[7]])
    # Nothing more to delete the second time.
    assert registry.prune_candidates(session, paths) == []


def test_no_candidates_folder(session: Session, tmp_path: Path) -> None:
    paths = registry.Paths(tmp_path / "models", tmp_path / "reports", tmp_path / "jobs")
    assert registry.prune_candidates(session, paths) == []
