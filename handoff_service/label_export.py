"""Accepted labels of the trainer's inbox into the Rasa NLU files (issue #14, docs/trainer.md).

    python -m handoff_service.label_export [--data-dir DIR] [--dry-run | --no-mark | --mark-only]

`make export-labels` runs it with --no-mark, then `rasa data validate --fail-on-warnings`, then
with --mark-only; POST /api/v1/trainer/export runs the plain mode (write and mark at once).

What is exported: items with status accepted, a label of the taxonomy and no ``exported_at``.
Only their scrubbed text is written (the inbox holds nothing else), one line each, into a block
of its own after the block of data/nlu that holds most of the intent's examples
(:mod:`triage_core.nlu_files`: the files are edited as text, every other byte stays).

* the same text (case, spacing and entity annotations aside) already under the same intent: a
  duplicate, not written, marked exported;
* the same text under another intent (in the files or earlier in the same run): a conflict, not
  written, not marked: the trainer relabels or discards it;
* a label outside the taxonomy, an empty text, one too long or with characters YAML cannot
  hold: refused, not marked.

An item is exported once: written items and duplicates get ``exported_at``. The files are
written before the database commits; if the commit fails, the next run finds the examples in the
files and marks them as duplicates.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff_service import audit as audit_trail
from handoff_service.config import PROJECT_ROOT, get_settings
from handoff_service.db import make_engine, make_session_factory, utcnow
from handoff_service.logging_privacy import configure_logging
from handoff_service.migrations import upgrade_database
from handoff_service.models import User
from handoff_service.trainer_inbox import TrainerInboxItem, local_day
from triage_core.nlu_files import Item, LayoutError, plan_export
from triage_core.taxonomy import INTENTS

DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "nlu"
VALIDATION_NOTE = (
    "Filerne er ikke valideret her: `make export-labels` kører `rasa data validate "
    "--fail-on-warnings`, og det gør `make test` og næste træning også."
)


class ExportedIntent(BaseModel):
    intent: str
    file: str
    count: int
    ids: list[int]


class ExportConflict(BaseModel):
    id: int
    label: str
    other_intents: list[str]


class ExportRefused(BaseModel):
    id: int
    reason: str  # unknown_intent | empty | too_long | unprintable | no_block_for_intent


class ExportReport(BaseModel):
    """What an export did (or, with dry_run, would do). Ids, intents, files and counts; the
    written lines only in a dry run, so the trainer can read them first."""

    dry_run: bool
    day: str
    written: list[ExportedIntent]
    duplicates: list[int]
    conflicts: list[ExportConflict]
    refused: list[ExportRefused]
    adjusted: list[int]  # written with a space after a "]" Rasa would read as an entity
    marked: int  # items that got exported_at in this run
    lines: dict[str, list[str]]  # intent -> lines; filled only in a dry run
    validated: bool = False
    note: str = VALIDATION_NOTE


class ExportError(Exception):
    """The files could not be read or edited safely: nothing was written."""


@contextmanager
def _exclusive(data_dir: Path) -> Iterator[None]:
    """One export at a time per data directory (the CLI and the endpoint may both run)."""
    key = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"label_export-{key}.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_files(data_dir: Path) -> dict[str, str]:
    if not data_dir.is_dir():
        raise ExportError(f"{data_dir} is not a directory")
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(data_dir.glob("*.yml"))}


def export_labels(
    session: Session,
    data_dir: Path,
    day: str,
    *,
    user: User | None = None,
    dry_run: bool = False,
    write: bool = True,
    mark: bool = True,
) -> ExportReport:
    """Plans and (unless `dry_run`) writes and marks; commits. `write=False, mark=True` marks
    only the items already in the files under their label (`--mark-only`)."""
    with _exclusive(data_dir):
        items = list(
            session.scalars(
                select(TrainerInboxItem)
                .where(
                    TrainerInboxItem.status == "accepted",
                    TrainerInboxItem.label.is_not(None),
                    TrainerInboxItem.exported_at.is_(None),
                )
                .order_by(TrainerInboxItem.id)
                .with_for_update()
            )
        )
        files = read_files(data_dir)
        try:
            plan = plan_export(
                files, [Item(i.id, i.text, i.label or "") for i in items], INTENTS, day
            )
        except (LayoutError, ValueError, yaml.YAMLError) as error:
            session.rollback()
            raise ExportError(f"data/nlu could not be edited safely: {error}") from error
        written = [
            ExportedIntent(
                intent=intent, file=name, count=len(entries), ids=[e.id for e in entries]
            )
            for intent, (name, entries, _lines) in sorted(plan.written.items())
        ]
        if dry_run or not write:
            written_ids: list[int] = []
        else:
            try:
                for name, text in plan.files.items():
                    _write_atomically(data_dir / name, text)
            except OSError as error:
                # Files written before the failure hold their lines: the next run finds them
                # as duplicates and marks them.
                session.rollback()
                raise ExportError(f"could not write {data_dir}: {error}") from error
            written_ids = [item_id for entry in written for item_id in entry.ids]
        marked = 0
        if mark and not dry_run:
            now = utcnow()
            ids = set(written_ids) | set(plan.duplicates)
            for item in items:
                if item.id in ids:
                    item.exported_at = now
                    marked += 1
        report = ExportReport(
            dry_run=dry_run,
            day=day,
            written=written if (dry_run or write) else [],
            duplicates=plan.duplicates,
            conflicts=[
                ExportConflict(id=i, label=label, other_intents=others)
                for i, label, others in plan.conflicts
            ],
            refused=[ExportRefused(id=i, reason=reason) for i, reason in plan.refused],
            adjusted=plan.adjusted if (dry_run or write) else [],
            marked=marked,
            lines={intent: lines for intent, (_n, _e, lines) in plan.written.items()}
            if dry_run
            else {},
        )
        if dry_run:
            session.rollback()
            return report
        if marked:
            # Counts only. With `make export-labels` the writing run marks nothing and the
            # marking run finds the written items as duplicates: w=0 d=<all>.
            audit_trail.audit(
                session,
                user,
                None,
                "labels_exported",
                reason=f"w={len(written_ids)} d={len(plan.duplicates)} c={len(plan.conflicts)}",
            )
        session.commit()
        return report


def describe(report: ExportReport, mark_only: bool = False) -> str:
    """The report for a terminal."""
    out: list[str] = []
    verb = "would write" if report.dry_run else "wrote"
    if not mark_only:
        for entry in report.written:
            out.append(f"{verb} {entry.count} to {entry.file} ({entry.intent})")
            out.extend(f"    - {line}" for line in report.lines.get(entry.intent, []))
        if not report.written:
            out.append(f"{verb} nothing")
    out.append(f"marked exported: {report.marked}")
    if not mark_only:
        out.append(f"duplicates skipped (already in the files): {len(report.duplicates)}")
    for conflict in report.conflicts:
        out.append(
            f"CONFLICT item {conflict.id}: labelled {conflict.label}, the files have it as "
            f"{', '.join(conflict.other_intents)} (not written: relabel or discard it)"
        )
    for refused in report.refused:
        out.append(f"refused item {refused.id}: {refused.reason}")
    if report.adjusted:
        out.append(
            "written with a space after a ']' Rasa would read as an entity: "
            + ", ".join(str(i) for i in report.adjusted)
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m handoff_service.label_export", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print what would be written")
    mode.add_argument("--no-mark", action="store_true", help="write, but mark nothing exported")
    mode.add_argument(
        "--mark-only",
        action="store_true",
        help="write nothing; mark the items already in the files under their label",
    )
    args = parser.parse_args(argv)
    configure_logging()
    settings = get_settings()
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    try:
        with make_session_factory(engine)() as session:
            report = export_labels(
                session,
                args.data_dir,
                local_day(utcnow(), settings.timezone).isoformat(),
                dry_run=args.dry_run,
                write=not args.mark_only,
                mark=not args.no_mark,
            )
    except ExportError as error:
        print(f"export-labels: {error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(describe(report, mark_only=args.mark_only))
    return 0


if __name__ == "__main__":
    sys.exit(main())
