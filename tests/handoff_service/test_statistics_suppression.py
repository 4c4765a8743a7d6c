"""Small-cell suppression (handoff_service/statistics/suppression.py, docs/statistics.md): no
shown count from 1 to 4, and no hidden count that a shown total gives away."""

from __future__ import annotations

import random

import pytest

from handoff_service.statistics.suppression import HIDDEN, SuppressedTable, suppress


def lines(table: SuppressedTable) -> list[list]:
    """Every line a reader can sum: its entries and its total (each row, column, the margins)."""
    found = []
    if table.row_totals is not None:
        found += [[*row, total] for row, total in zip(table.cells, table.row_totals, strict=True)]
    if table.column_totals is not None:
        columns = [list(column) for column in zip(*table.cells, strict=True)]
        found += [[*col, tot] for col, tot in zip(columns, table.column_totals, strict=True)]
        found.append([*table.column_totals, table.total])
        if table.row_totals is not None:
            found.append([*table.row_totals, table.total])
    return found


def check(counts: list[list[int]], table: SuppressedTable) -> None:
    """What the API test uses too: nothing visible in 1-4, every line hides 0 or >= 2 entries,
    and every visible entry is the true count."""
    for line in lines(table):
        shown = [value for value in line if value != HIDDEN]
        assert not [value for value in shown if 0 < value < 5], line
        assert sum(value == HIDDEN for value in line) != 1, line
    for r, row in enumerate(table.cells):
        for c, value in enumerate(row):
            assert value == HIDDEN or value == counts[r][c]


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # One small cell per row: each row total would give it away, so a second cell goes
        # too, then a third where a column was left with one (repeated until stable).
        (
            [[3, 10, 12], [20, 2, 9], [7, 8, 30]],
            [[HIDDEN, HIDDEN, HIDDEN], [20, HIDDEN, HIDDEN], [HIDDEN, HIDDEN, 30]],
        ),
        # Zero is shown; a row of one small count hides its total as well (1-4), and the column
        # and the totals column each hide a second entry.
        ([[0, 0, 3], [5, 6, 7]], [[0, 0, HIDDEN], [5, 6, HIDDEN]]),
        # Nothing small: nothing hidden.
        ([[5, 6], [7, 8]], [[5, 6], [7, 8]]),
        ([[0, 0], [0, 0]], [[0, 0], [0, 0]]),
    ],
)
def test_suppression_of_known_tables(counts, expected):
    table = suppress(counts)
    check(counts, table)
    assert table.cells == expected
    if counts == [[0, 0, 3], [5, 6, 7]]:
        assert table.row_totals == [HIDDEN, HIDDEN] and table.column_totals == [5, 6, 10]


def test_a_table_that_would_leak_through_its_row_totals_does_not():
    """Each row has one small cell and its total: without complementary suppression every
    small cell is the row total minus the rest."""
    counts = [[1, 50, 60], [2, 40, 70], [4, 30, 80]]
    table = suppress(counts, row_totals=True, column_totals=False)
    assert table.row_totals == [111, 112, 114]
    for row, shown, total in zip(counts, table.cells, table.row_totals, strict=True):
        visible = [value for value in shown if value != HIDDEN]
        assert sum(value == HIDDEN for value in shown) >= 2
        # The reader knows only the sum of the hidden ones, never one of them.
        assert total - sum(visible) == sum(
            true for true, value in zip(row, shown, strict=True) if value == HIDDEN
        )
    check(counts, table)


def test_a_small_total_is_hidden_and_the_totals_row_does_not_give_it_away():
    counts = [[2, 0], [0, 1], [9, 12]]
    table = suppress(counts)
    check(counts, table)
    assert table.row_totals is not None and table.row_totals[:2] == [HIDDEN, HIDDEN]


@pytest.mark.parametrize("seed", range(200))
def test_random_tables_never_show_a_small_count_or_let_one_be_solved(seed):
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    rows, columns = rng.randint(1, 7), rng.randint(1, 12)
    counts = [
        [rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 15, 40]) for _ in range(columns)]
        for _ in range(rows)
    ]
    for shape in ({}, {"column_totals": False}):
        check(counts, suppress(counts, **shape))
