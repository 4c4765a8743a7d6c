"""Small-cell suppression: pure, on a table of counts with its totals.

Primary: every cell and every total from 1 to 4 is hidden ("<5"); 0 is shown as 0 (a zero says
nobody, it cannot single anyone out, and hiding it would hide almost everything in a small
organisation). Complementary: every line that has a total shown (each row, each column, the
totals row and the totals column) must hide 0 or at least 2 of its entries, or the one hidden
entry could be solved for from the others; a line with exactly one hidden entry also hides its
smallest non-zero shown cell (its total if no cell is left). Repeated until nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

HIDDEN = "<5"
THRESHOLD = 5

Shown = int | str


@dataclass(frozen=True)
class SuppressedTable:
    cells: list[list[Shown]]
    row_totals: list[Shown] | None
    column_totals: list[Shown] | None
    total: Shown | None


def _primary(value: int) -> bool:
    return 0 < value < THRESHOLD


def suppress(
    counts: Sequence[Sequence[int]], *, row_totals: bool = True, column_totals: bool = True
) -> SuppressedTable:
    """Hide the counts of `counts` (rows x columns) and of the totals that are shown.

    `row_totals`: each row's sum is shown (a line per row); `column_totals`: each column's sum
    and the grand total are shown (a line per column, and the totals row). With both, the column
    of row totals is a line too."""
    rows = len(counts)
    columns = len(counts[0]) if rows else 0
    # The extended grid: cells, the row totals in column `columns`, the column totals in row
    # `rows`, the grand total in the corner.
    grid = [list(row) + [sum(row)] for row in counts]
    column_sums = [sum(counts[r][c] for r in range(rows)) for c in range(columns)]
    grid.append(column_sums + [sum(column_sums)])
    shown: set[tuple[int, int]] = set()
    for r in range(rows):
        shown.update((r, c) for c in range(columns))
        if row_totals:
            shown.add((r, columns))
    if column_totals:
        shown.update((rows, c) for c in range(columns))
        shown.add((rows, columns))
    lines: list[list[tuple[int, int]]] = []
    if row_totals:
        lines += [[(r, c) for c in range(columns + 1)] for r in range(rows)]
    if column_totals:
        lines += [[(r, c) for r in range(rows + 1)] for c in range(columns)]
        lines.append([(rows, c) for c in range(columns + 1)])
        if row_totals:
            lines.append([(r, columns) for r in range(rows + 1)])
    hidden = {cell for cell in shown if _primary(grid[cell[0]][cell[1]])}
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(cell in hidden for cell in line) != 1:
                continue
            candidates = [
                cell for cell in line if cell not in hidden and grid[cell[0]][cell[1]] > 0
            ]
            if not candidates:
                continue  # only zeros left: the hidden entry is a total of one hidden cell
            inner = [cell for cell in candidates if cell[0] < rows and cell[1] < columns]
            pick = min(inner or candidates, key=lambda cell: (grid[cell[0]][cell[1]], cell))
            hidden.add(pick)
            changed = True

    def value(r: int, c: int) -> Shown:
        return HIDDEN if (r, c) in hidden else grid[r][c]

    return SuppressedTable(
        cells=[[value(r, c) for c in range(columns)] for r in range(rows)],
        row_totals=[value(r, columns) for r in range(rows)] if row_totals else None,
        column_totals=[value(rows, c) for c in range(columns)] if column_totals else None,
        total=value(rows, columns) if column_totals else None,
    )


def unsuppressed(
    counts: Sequence[Sequence[int]], *, row_totals: bool = True, column_totals: bool = True
) -> SuppressedTable:
    """The same shape with nothing hidden (figures that count hours, not people)."""
    rows = len(counts)
    columns = len(counts[0]) if rows else 0
    column_sums: list[Shown] = [sum(counts[r][c] for r in range(rows)) for c in range(columns)]
    return SuppressedTable(
        cells=[list(row) for row in counts],
        row_totals=[sum(row) for row in counts] if row_totals else None,
        column_totals=column_sums if column_totals else None,
        total=sum(sum(row) for row in counts) if column_totals else None,
    )
