"""`make content-check`: validates the psychoeducation content library and fails on any problem.

Usage: python -m triage_core.content_check [--content-dir DIR] [--today YYYY-MM-DD] [--by-intent]

Prints one line per problem as ``<file>:<item id>: <why>`` and exits 1 if there is any; drafts
and reviews falling due soon are printed as ``info`` lines and do not fail the check.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import date
from pathlib import Path

from triage_core.content_library import (
    FOLLOWUPS_IN_DANGER,
    FOLLOWUPS_PER_DANGER,
    INFO_INTENTS,
    KINDS,
    KNOWN_INTENTS,
    MIN_PSYCHOEDUCATION_PER_TOPIC,
    ContentLibrary,
    Problem,
    item_problems,
    number_problems,
    read_library,
)
from triage_core.risk import CRITICAL_INTENTS
from triage_core.taxonomy import DANGER_KINDS, TOPIC_INTENTS

# A review date this close is worth a heads-up: re-approve before the item stops being sent.
REVIEW_WARNING_DAYS = 60


def check_library(library: ContentLibrary, today: date) -> list[Problem]:
    """Every policy problem (errors) plus drafts and upcoming reviews (info)."""
    problems: list[Problem] = []
    numbers = {n.id: n for n in library.emergency_numbers}
    for number in library.emergency_numbers:
        for why in number_problems(number, today):
            problems.append(Problem(number.file, number.id, why))
        problems.extend(_review_soon(number.file, number.id, number.review_by, today))
    if not library.emergency_numbers:
        problems.append(Problem(str(library.content_dir), "-", "no emergency numbers"))

    for item in library.items:
        whys = item_problems(item, numbers, today)
        if item.status == "draft":
            # Drafts may exist; the bot never sends them. What would still block approval is
            # listed so that the reviewer sees it, but it does not fail the check.
            pending = [why for why in whys if not why.startswith("status is")]
            note = f"; before approval: {'; '.join(pending)}" if pending else ""
            problems.append(
                Problem(item.file, item.id, f"draft, not sent to young people{note}", "info")
            )
            continue
        problems.extend(Problem(item.file, item.id, why) for why in whys)
        problems.extend(_review_soon(item.file, item.id, item.review_by, today))

    problems.extend(_coverage_problems(library, today))
    return problems


def _review_soon(file: str, item_id: str, review_by: date, today: date) -> list[Problem]:
    days = (review_by - today).days
    if 0 <= days <= REVIEW_WARNING_DAYS:
        return [Problem(file, item_id, f"review due in {days} day(s) ({review_by})", "info")]
    return []


def _coverage_problems(library: ContentLibrary, today: date) -> list[Problem]:
    problems: list[Problem] = []
    where = _display_dir(library.content_dir)

    def require(intent: str, kind: str, minimum: int, what: str) -> None:
        sendable = library.items_for(intent, kind, today=today)
        if len(sendable) >= minimum:
            return
        blocked = [
            item
            for item in library.items
            if item.kind == kind and intent in item.intents and not library.is_sendable(item, today)
        ]
        detail = ""
        if blocked:
            named = ", ".join(
                f"{item.id} ({_first_reason(library, item, today)})" for item in blocked
            )
            detail = f"; not sendable: {named}"
        problems.append(
            Problem(
                where,
                f"intent:{intent}",
                f"needs {minimum} approved {what} item(s), has {len(sendable)}{detail}",
            )
        )

    for intent in TOPIC_INTENTS:
        require(intent, "validation", 1, "validation")
        require(intent, "psychoeducation", MIN_PSYCHOEDUCATION_PER_TOPIC, "psychoeducation")
    for intent in sorted(CRITICAL_INTENTS):
        require(intent, "emergency", 1, "emergency")
    for intent, about in INFO_INTENTS.items():
        require(intent, "info", 1, f"info ({about})")
    # Every kind of danger has its own guidance, and an answer to "what do I do now"; the other
    # follow-ups have at least an answer that is safe for every kind.
    for danger in DANGER_KINDS:
        own = [
            item
            for item in library.items
            if item.kind == "emergency"
            and danger in item.danger
            and library.is_sendable(item, today)
        ]
        if not own:
            problems.append(
                Problem(where, f"danger:{danger}", "needs an approved emergency item of its own")
            )
        for followup in FOLLOWUPS_PER_DANGER:
            found = [
                item
                for item in library.items
                if item.kind == "followup"
                and item.followup == followup
                and danger in item.danger
                and library.is_sendable(item, today)
            ]
            if not found:
                problems.append(
                    Problem(where, f"danger:{danger}", f"needs an approved {followup!r} follow-up")
                )
    for followup in FOLLOWUPS_IN_DANGER:
        if library.followup_item(followup, danger="general", today=today) is None:
            problems.append(
                Problem(
                    where,
                    f"followup:{followup}",
                    "needs an approved answer in a danger conversation (danger: [general])",
                )
            )
    return problems


def _first_reason(library: ContentLibrary, item, today: date) -> str:
    numbers = {n.id: n for n in library.emergency_numbers}
    reasons = item_problems(item, numbers, today)
    return reasons[0] if reasons else "unknown"


def _display_dir(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def coverage_table(library: ContentLibrary, today: date) -> list[str]:
    """Sendable items per intent and kind, for people reviewing the library."""
    lines = [f"{'intent':<20} " + " ".join(f"{kind:>15}" for kind in KINDS)]
    for intent in sorted(KNOWN_INTENTS):
        counts = [len(library.items_for(intent, kind, today=today)) for kind in KINDS]
        if any(counts):
            lines.append(f"{intent:<20} " + " ".join(f"{count:>15}" for count in counts))
    lines.append("")
    lines.append(f"{'theme':<24} {'title':<52} items")
    per_theme = Counter(item.theme for item in library.items if library.is_sendable(item, today))
    for theme in sorted(library.themes.values(), key=lambda t: t.order):
        lines.append(f"{theme.slug:<24} {theme.title:<52} {per_theme[theme.slug]:>5}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m triage_core.content_check", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--content-dir", type=Path, default=None, help="default: triage_core/content"
    )
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="check review dates as of this day (YYYY-MM-DD); default: today",
    )
    parser.add_argument(
        "--by-intent", action="store_true", help="also print sendable items per intent and theme"
    )
    args = parser.parse_args(argv)
    today = args.today or date.today()

    library, problems = read_library(args.content_dir)
    problems += check_library(library, today)
    errors = [p for p in problems if p.severity == "error"]
    for problem in sorted(problems, key=lambda p: (p.severity != "error", p.file, p.item_id)):
        print(problem)
    if args.by_intent:
        print("\n".join(coverage_table(library, today)))
    if errors:
        print(f"content-check FAILED: {len(errors)} problem(s)", file=sys.stderr)
        return 1

    sendable = [item for item in library.items if library.is_sendable(item, today)]
    kinds = Counter(item.kind for item in sendable)
    drafts = sum(1 for item in library.items if item.status == "draft")
    print(
        f"content-check OK: {len(sendable)} approved items in {len(library.themes)} themes "
        f"({', '.join(f'{kinds[k]} {k}' for k in KINDS)}), "
        f"{len(library.sendable_numbers(today))} emergency numbers, {drafts} draft(s); "
        f"{len(TOPIC_INTENTS)} topic, {len(CRITICAL_INTENTS)} critical and "
        f"{len(INFO_INTENTS)} info intents covered (as of {today})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
