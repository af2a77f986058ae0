"""Cells as the workbook modules name them: a cell's key, an Excel error value, and cell coordinates.

Light on purpose (openpyxl's coordinate helpers only): the report's charts and templates use
these names without loading the formula engine.
"""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.utils.cell import get_column_letter, range_boundaries

__all__ = ["ErrorValue", "Key", "cells_of", "coord", "keys_of"]

Key = tuple[str, str]
"""A cell: (sheet title, "A1")."""


class ErrorValue(str):
    """An Excel error value (``#N/A``, ``#DIV/0!``, ``#SPILL!``...), as opposed to text."""


def coord(row: int, col: int) -> str:
    """``(2, 3)`` -> ``"C2"`` (1-based)."""
    return f"{get_column_letter(col)}{row}"


def cells_of(ref: str) -> Iterable[tuple[int, int]]:
    """(row, column) of every cell of ``ref`` (``"B2:C3"`` or ``"B2"``), row by row."""
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    for r in range(min_row, max_row + 1):
        for c in range(min_col, max_col + 1):
            yield r, c


def keys_of(anchor: Key, ref: str) -> Iterable[Key]:
    """Every cell of ``ref`` on the sheet of ``anchor``."""
    return ((anchor[0], coord(r, c)) for r, c in cells_of(ref))
