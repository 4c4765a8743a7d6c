"""The statistics a leader sees: tables per period or hour of day, suppressed, and as CSV.

Reads only stat_cells (and so only what outlives retention). Every figure that counts people
goes through :func:`handoff_service.statistics.suppression.suppress`; service hours count hours,
not people, and are shown as they are. docs/statistics.md lists every table.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from handoff_service.errors import Invalid
from handoff_service.models import StatCell
from handoff_service.statistics.codes import (
    AGE_BANDS,
    DURATION_BUCKETS,
    FEEDBACK_HELPED,
    FEEDBACK_RATINGS,
    FEEDBACK_WRITE_AGAIN,
    GENDERS,
    LOCAL_TZ,
    ORGANISATION,
    OUTCOMES,
    REFERRALS,
    REGISTRATION_TOPICS,
    RISKS,
    TOPICS,
    UNANSWERED,
    VOLUME_METRICS,
)
from handoff_service.statistics.suppression import HIDDEN, THRESHOLD, suppress, unsuppressed

Period = Literal["week", "month"]
DEFAULT_WEEKS = 12
MAX_RANGE = timedelta(days=2 * 366)
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
BAD_WEEK = "Ugen skal skrives som ÅÅÅÅ-Uuu, fx 2026-W49."
FROM_AFTER_TO = "Startugen ligger efter slutugen."
TOO_LONG = "Vælg højst 2 år ad gangen."
BAD_PERIOD = "Perioden skal være 'week' eller 'month'."
BUCKETS = tuple(key for key, _, _ in DURATION_BUCKETS)


def parse_week(value: str) -> date:
    """The Monday of an ISO week written "2026-W49"."""
    match = _WEEK.fullmatch(value)
    if not match:
        raise Invalid(BAD_WEEK)
    try:
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise Invalid(BAD_WEEK) from None


def week_key(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def month_of_week(monday: date) -> str:
    """A week belongs to the month of its Thursday (the ISO rule for years, used for months)."""
    thursday = monday + timedelta(days=3)
    return f"{thursday.year}-{thursday.month:02d}"


@dataclass(frozen=True)
class Range:
    first: date  # a Monday
    last: date  # a Monday
    period: Period

    @property
    def weeks(self) -> list[str]:
        count = (self.last - self.first).days // 7 + 1
        return [week_key(self.first + timedelta(weeks=n)) for n in range(count)]

    def column_of(self, week: str) -> str:
        return week if self.period == "week" else month_of_week(parse_week(week))

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(self.column_of(week) for week in self.weeks))


def parse_range(first: str | None, last: str | None, period: str, now: datetime) -> Range:
    if period not in ("week", "month"):
        raise Invalid(BAD_PERIOD)
    today = now.astimezone(LOCAL_TZ).date()
    this_week = today - timedelta(days=today.weekday())
    last_monday = parse_week(last) if last else this_week
    first_monday = parse_week(first) if first else last_monday - timedelta(weeks=DEFAULT_WEEKS - 1)
    if first_monday > last_monday:
        raise Invalid(FROM_AFTER_TO)
    if last_monday - first_monday > MAX_RANGE:
        raise Invalid(TOO_LONG)
    return Range(first_monday, last_monday, "week" if period == "week" else "month")


# -- reading the counts ----------------------------------------------------------------------


@dataclass
class Counts:
    by_period: dict[tuple[str, str, str], int]  # (metric, category, column) -> n
    by_hour: dict[tuple[str, str, int], int]  # (metric, category, hour) -> n

    def period(self, metric: str, category: str, column: str) -> int:
        return self.by_period.get((metric, category, column), 0)

    def hour(self, metric: str, category: str, hour: int) -> int:
        return self.by_hour.get((metric, category, hour), 0)

    def overall(self, metric: str, category: str) -> int:
        return sum(self.hour(metric, category, hour) for hour in range(24))


def read_counts(session: Session, span: Range, organisation: str | None = ORGANISATION) -> Counts:
    """The cells of `organisation` (slug) in the span; None: of every organisation, summed."""
    weeks = span.weeks
    rows = session.execute(
        select(
            StatCell.period_week,
            StatCell.hour_of_day,
            StatCell.metric,
            StatCell.category,
            func.sum(StatCell.count),
        )
        .where(
            true() if organisation is None else StatCell.organisation == organisation,
            StatCell.period_week >= weeks[0],
            StatCell.period_week <= weeks[-1],
        )
        .group_by(StatCell.period_week, StatCell.hour_of_day, StatCell.metric, StatCell.category)
    ).all()
    by_period: dict[tuple[str, str, str], int] = defaultdict(int)
    by_hour: dict[tuple[str, str, int], int] = defaultdict(int)
    known = set(weeks)
    for week, hour, metric, category, count in rows:
        if week not in known:
            continue
        by_period[(metric, category, span.column_of(week))] += int(count or 0)
        by_hour[(metric, category, int(hour))] += int(count or 0)
    return Counts(dict(by_period), dict(by_hour))


# -- tables ----------------------------------------------------------------------------------

Rows = Sequence[tuple[str, str, str]]  # (row key, metric, category)


@dataclass(frozen=True)
class TableSpec:
    id: str
    rows: Rows
    labels: str  # the key of the row labels in texts["statistics"]["rows"], or "topic_labels"
    by: Literal["period", "hour"] = "period"
    additive: bool = True  # the rows add up (column totals make sense)
    people: bool = True  # counts people: suppressed


def _rows(metric: str, codes: Sequence[str]) -> Rows:
    return [(code, metric, code) for code in codes]


TABLES: tuple[TableSpec, ...] = (
    TableSpec("volume", [(m, m, "all") for m in VOLUME_METRICS], "volume", additive=False),
    TableSpec("topics", _rows("topic", TOPICS), "topic_labels"),
    TableSpec("risk_by_hour", _rows("risk", RISKS), "risks", by="hour"),
    TableSpec("wait", _rows("wait", (*BUCKETS, UNANSWERED)), "durations"),
    TableSpec("handling", _rows("handling", BUCKETS), "durations"),
    TableSpec("feedback_helped", _rows("feedback_helped", FEEDBACK_HELPED), "helped"),
    TableSpec(
        "feedback_write_again", _rows("feedback_write_again", FEEDBACK_WRITE_AGAIN), "write_again"
    ),
    TableSpec("feedback_rating", _rows("feedback_rating", FEEDBACK_RATINGS), "ratings"),
    TableSpec(
        "registration_topics", _rows("registration_topic", REGISTRATION_TOPICS), "topic_labels"
    ),
    TableSpec("age", _rows("registration_age", AGE_BANDS), "age_bands"),
    TableSpec("gender", _rows("registration_gender", GENDERS), "genders"),
    TableSpec("referral", _rows("registration_referral", REFERRALS), "referrals"),
    TableSpec("outcome", _rows("outcome", OUTCOMES), "outcomes"),
    TableSpec(
        "service_hours",
        [("service_hours", "service_hours", "all")],
        "service_hours",
        additive=False,
        people=False,
    ),
)


def period_label(key: str, texts: dict[str, Any]) -> str:
    labels = texts["statistics"]
    if "-W" in key:
        year, week = key.split("-W")
        return labels["week_label"].format(week=int(week), year=year)
    year, month = key.split("-")
    return f"{labels['months'][int(month) - 1]} {year}"


def _row_labels(spec: TableSpec, texts: dict[str, Any]) -> dict[str, str]:
    if spec.labels == "topic_labels":
        return texts["topic_labels"]
    labels: dict[str, str] = texts["statistics"]["rows"][spec.labels]
    return labels


def build_table(
    spec: TableSpec, counts: Counts, span: Range, texts: dict[str, Any]
) -> dict[str, Any]:
    labels = texts["statistics"]
    if spec.by == "hour":
        column_keys = [f"{hour:02d}" for hour in range(24)]
        column_labels = column_keys
        grid = [
            [counts.hour(metric, category, hour) for hour in range(24)]
            for _, metric, category in spec.rows
        ]
        column_label = labels["column_hour"]
    else:
        column_keys = span.columns
        column_labels = [period_label(key, texts) for key in column_keys]
        grid = [
            [counts.period(metric, category, column) for column in column_keys]
            for _, metric, category in spec.rows
        ]
        column_label = labels["column_week" if span.period == "week" else "column_month"]
    shape = {"row_totals": True, "column_totals": spec.additive}
    table = suppress(grid, **shape) if spec.people else unsuppressed(grid, **shape)
    row_labels = _row_labels(spec, texts)
    meta = labels["tables"][spec.id]
    assert table.row_totals is not None
    return {
        "id": spec.id,
        "title": meta["title"],
        "row_label": meta["row_label"],
        "column_label": column_label,
        "columns": [
            {"key": key, "label": label}
            for key, label in zip(column_keys, column_labels, strict=True)
        ],
        "rows": [
            {"key": key, "label": row_labels[key], "cells": cells, "total": total}
            for (key, _, _), cells, total in zip(
                spec.rows, table.cells, table.row_totals, strict=True
            )
        ],
        "totals": (
            {"cells": table.column_totals, "total": table.total}
            if table.column_totals is not None
            else None
        ),
    }


def _quantile_label(histogram: list[int], share: float, upper_labels: dict[str, str]) -> str:
    rank = max(1, math.ceil(share * sum(histogram)))
    seen = 0
    for key, count in zip(BUCKETS, histogram, strict=True):
        seen += count
        if seen >= rank:
            return upper_labels[key]
    return upper_labels[BUCKETS[-1]]


def summary(metric: str, counts: Counts, texts: dict[str, Any]) -> dict[str, Any]:
    """Median and 90th percentile as the upper bound of their bucket ("under 15 min"); all
    three "<5" when fewer than 5 conversations are behind them (n itself is 0 when none)."""
    histogram = [counts.overall(metric, key) for key in BUCKETS]
    n = sum(histogram)
    if n < THRESHOLD:
        return {"median": HIDDEN, "p90": HIDDEN, "n": n if n == 0 else HIDDEN}
    upper = texts["statistics"]["upper_bounds"]
    return {
        "median": _quantile_label(histogram, 0.5, upper),
        "p90": _quantile_label(histogram, 0.9, upper),
        "n": n,
    }


def build_report(
    session: Session,
    span: Range,
    texts: dict[str, Any],
    now: datetime,
    organisation: str | None = ORGANISATION,
) -> dict[str, Any]:
    """The report of one organisation's conversations (by the page they started on), or of all
    (`organisation` None)."""
    counts = read_counts(session, span, organisation)
    labels = texts["statistics"]
    weeks = span.weeks
    return {
        "period": span.period,
        "organisation": organisation,
        "from": weeks[0],
        "to": weeks[-1],
        "generated_at": now.replace(minute=0, second=0, microsecond=0).isoformat(),
        "suppression": labels["suppression"],
        "tables": [build_table(spec, counts, span, texts) for spec in TABLES],
        "summaries": {
            "wait": summary("wait", counts, texts),
            "handling": summary("handling", counts, texts),
        },
    }


def report_csv(report: dict[str, Any], texts: dict[str, Any]) -> str:
    """One section per table, the same cells as the page (suppressed), then the summaries.

    Semicolon-separated (what Danish spreadsheets expect), UTF-8 with a BOM."""
    labels = texts["statistics"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([labels["csv_heading"], report["from"], report["to"], report["period"]])
    writer.writerow([report["suppression"]])
    for table in report["tables"]:
        writer.writerow([])
        writer.writerow([table["title"]])
        writer.writerow(
            [table["row_label"], *(c["label"] for c in table["columns"]), labels["total"]]
        )
        for row in table["rows"]:
            writer.writerow([row["label"], *row["cells"], row["total"]])
        if table["totals"] is not None:
            writer.writerow([labels["total"], *table["totals"]["cells"], table["totals"]["total"]])
    writer.writerow([])
    writer.writerow([labels["summary_heading"], labels["median"], labels["p90"], labels["n"]])
    for key, values in report["summaries"].items():
        writer.writerow([labels["summaries"][key], values["median"], values["p90"], values["n"]])
    return "\ufeff" + out.getvalue()
