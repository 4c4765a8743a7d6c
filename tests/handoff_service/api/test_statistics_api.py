"""GET /api/v1/statistics and its CSV export (docs/statistics.md): who may read them, the
contract the page relies on, and suppression as the leader sees it."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from handoff_service.db import utcnow
from handoff_service.models import StatCell
from handoff_service.statistics.codes import LOCAL_TZ
from handoff_service.statistics.report import TABLES, parse_week, week_key
from handoff_service.statistics.suppression import HIDDEN
from tests.utils.factories import make_user
from tests.utils.service import login_headers, start

LEADER_PASSWORD = "leder-kodeord-1234"  # noqa: S105 - test data
TABLE_IDS = [
    "volume",
    "topics",
    "risk_by_hour",
    "wait",
    "handling",
    "feedback_helped",
    "feedback_write_again",
    "feedback_rating",
    "registration_topics",
    "age",
    "gender",
    "referral",
    "outcome",
    "service_hours",
]


@pytest.fixture
def leader_headers(client, session) -> dict[str, str]:
    make_user(session, "leder", role="leader", password=LEADER_PASSWORD)
    return login_headers(client, "leder", LEADER_PASSWORD)


def this_week() -> date:
    today = utcnow().astimezone(LOCAL_TZ).date()
    return today - timedelta(days=today.weekday())


def seed_cells(session, weeks: list[str], seed: int = 7) -> dict[tuple[str, str, str], int]:
    """Random small and large counts for every row of every table, spread over hours."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    truth: dict[tuple[str, str, str], int] = {}
    for spec in TABLES:
        for _, metric, category in spec.rows:
            for week in weeks:
                count = rng.choice([0, 0, 1, 2, 3, 4, 5, 7, 12, 30])
                if not count:
                    continue
                hour = rng.randrange(24)
                session.add(
                    StatCell(
                        organisation="default",
                        period_week=week,
                        hour_of_day=hour,
                        metric=metric,
                        category=category,
                        count=count,
                    )
                )
                truth[(metric, category, week)] = count
    session.commit()
    return truth


def table_lines(table: dict) -> list[list]:
    found = [[*row["cells"], row["total"]] for row in table["rows"]]
    if table["totals"] is not None:
        columns = zip(*(row["cells"] for row in table["rows"]), strict=True)
        found += [
            [*column, total]
            for column, total in zip(columns, table["totals"]["cells"], strict=True)
        ]
        found.append([*table["totals"]["cells"], table["totals"]["total"]])
        found.append([*(row["total"] for row in table["rows"]), table["totals"]["total"]])
    return found


def assert_safe(table: dict) -> None:
    """No visible 1-4 anywhere; no line with a total hides exactly one entry."""
    for line in table_lines(table):
        if table["id"] != "service_hours":
            assert not [v for v in line if v != HIDDEN and 0 < v < 5], (table["id"], line)
            assert sum(v == HIDDEN for v in line) != 1, (table["id"], line)


def test_statistics_contract_and_suppression(client, session, leader_headers):
    weeks = [week_key(this_week() - timedelta(weeks=n)) for n in range(3, -1, -1)]
    seed_cells(session, weeks)
    response = client.get(
        f"/api/v1/statistics?from={weeks[0]}&to={weeks[-1]}", headers=leader_headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["period"] == "week" and (body["from"], body["to"]) == (weeks[0], weeks[-1])
    assert body["generated_at"].endswith(":00:00+00:00")
    assert body["suppression"].startswith('Tal under 5 vises som "<5"')
    assert [t["id"] for t in body["tables"]] == TABLE_IDS
    for table in body["tables"]:
        assert {"id", "title", "row_label", "column_label", "columns", "rows", "totals"} <= set(
            table
        )
        assert table["title"] and table["row_label"] and table["column_label"]
        expected_columns = (
            [f"{h:02d}" for h in range(24)] if table["id"] == "risk_by_hour" else weeks
        )
        assert [c["key"] for c in table["columns"]] == expected_columns
        for row in table["rows"]:
            assert row["label"] and len(row["cells"]) == len(expected_columns)
        assert (table["totals"] is None) == (table["id"] in ("volume", "service_hours"))
        assert_safe(table)
    labels = {c["label"] for c in body["tables"][0]["columns"]}
    year, week = weeks[-1].split("-W")
    assert f"Uge {int(week)} {year}" in labels
    assert set(body["summaries"]) == {"wait", "handling"}
    for values in body["summaries"].values():
        assert set(values) == {"median", "p90", "n"}
    # Some counts are small: the seed hides something somewhere.
    assert any(HIDDEN in row["cells"] for table in body["tables"] for row in table["rows"])


def test_visible_cells_are_the_true_counts(client, session, leader_headers):
    weeks = [week_key(this_week() - timedelta(weeks=1)), week_key(this_week())]
    truth = seed_cells(session, weeks, seed=11)
    body = client.get(
        f"/api/v1/statistics?from={weeks[0]}&to={weeks[1]}", headers=leader_headers
    ).json()
    topics = next(t for t in body["tables"] if t["id"] == "topics")
    for row in topics["rows"]:
        for week, value in zip(weeks, row["cells"], strict=True):
            if value != HIDDEN:
                assert value == truth.get(("topic", row["key"], week), 0)
    hours = next(t for t in body["tables"] if t["id"] == "service_hours")
    assert hours["rows"][0]["label"] == "Timer med mindst én rådgiver på vagt"
    assert hours["rows"][0]["cells"] == [
        truth.get(("service_hours", "all", week), 0) for week in weeks
    ]


def test_months_merge_weeks_by_their_thursday(client, session, leader_headers):
    session.add_all(
        StatCell(
            organisation="default",
            period_week=week,
            hour_of_day=12,
            metric="started",
            category="all",
            count=count,
        )
        # W44 2026 (26 Oct - 1 Nov) has its Thursday in October; W45-W48 are November.
        for week, count in (("2026-W44", 6), ("2026-W45", 7), ("2026-W48", 9))
    )
    session.commit()
    body = client.get(
        "/api/v1/statistics?from=2026-W44&to=2026-W48&period=month", headers=leader_headers
    ).json()
    volume = body["tables"][0]
    assert [c["key"] for c in volume["columns"]] == ["2026-10", "2026-11"]
    assert [c["label"] for c in volume["columns"]] == ["oktober 2026", "november 2026"]
    assert volume["rows"][0]["cells"] == [6, 16] and volume["rows"][0]["total"] == 22


def test_the_default_range_is_the_last_12_weeks(client, leader_headers):
    body = client.get("/api/v1/statistics", headers=leader_headers).json()
    assert body["to"] == week_key(this_week())
    assert parse_week(body["to"]) - parse_week(body["from"]) == timedelta(weeks=11)
    assert all(value == 0 for t in body["tables"] for row in t["rows"] for value in row["cells"])
    assert body["summaries"]["wait"] == {"median": HIDDEN, "p90": HIDDEN, "n": 0}


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-49",
        "from=2026-W54",
        "to=2026-W00",
        "from=2026-W49&to=2026-W48",
        "from=2023-W01&to=2026-W01",
        "period=day",
        "from=" + "x" * 50,
    ],
)
def test_bad_ranges_are_a_danish_422(client, leader_headers, query):
    response = client.get(f"/api/v1/statistics?{query}", headers=leader_headers)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_csv_export_has_the_same_suppressed_cells(client, session, leader_headers):
    weeks = [week_key(this_week() - timedelta(weeks=1)), week_key(this_week())]
    seed_cells(session, weeks, seed=3)
    query = f"from={weeks[0]}&to={weeks[1]}"
    body = client.get(f"/api/v1/statistics?{query}", headers=leader_headers).json()
    response = client.get(f"/api/v1/statistics/export.csv?{query}", headers=leader_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="statistik.csv"'
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    for table in body["tables"]:
        at = rows.index([table["title"]])
        for offset, row in enumerate(table["rows"], start=2):
            assert rows[at + offset] == [row["label"], *map(str, row["cells"]), str(row["total"])]


def test_who_may_read_the_statistics(client, session, leader_headers, counsellor_headers):
    admin = login_headers(client, "demo-admin")
    trainer = login_headers(client, "demo-traener")
    _, young, _ = start(client)
    for path in ("/api/v1/statistics", "/api/v1/statistics/export.csv"):
        assert client.get(path, headers=leader_headers).status_code == 200
        assert client.get(path, headers=admin).status_code == 200
        for headers in (counsellor_headers, trainer):
            assert client.get(path, headers=headers).status_code == 403
        assert client.get(path, headers=young).status_code == 401
        assert client.get(path).status_code == 401
    # A leader sees statistics and nothing else.
    for method, path in (
        ("GET", "/api/v1/queue"),
        ("POST", "/api/v1/queue/claim"),
        ("GET", "/api/v1/counsellor/mine"),
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/audit"),
    ):
        response = client.request(method, path, headers=leader_headers)
        assert response.status_code == 403, (method, path)
    assert client.get("/api/v1/auth/me", headers=leader_headers).json()["role"] == "leader"


def test_the_statistics_page_route(client):
    response = client.get("/statistics")
    # The page itself is built separately (handoff_service/static/statistics.html).
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert response.headers["cache-control"] == "no-store"


def test_cells_with_a_zero_count_are_shown_as_zero(client, session, leader_headers):
    week = week_key(this_week())
    session.add(
        StatCell(
            organisation="default",
            period_week=week,
            hour_of_day=3,
            metric="started",
            category="all",
            count=0,
        )
    )
    session.commit()
    body = client.get(f"/api/v1/statistics?from={week}&to={week}", headers=leader_headers).json()
    assert body["tables"][0]["rows"][0]["cells"] == [0]
    assert session.scalar(select(StatCell.count)) == 0
