"""Cell values between the file, xl-var's functions and the ``formulas`` engine, and the Excel rule for
showing an array result in one cell.

A value crosses three borders during a recalculation, each with its own conventions:

* **into xl-var's functions** (:func:`udf_argument`): what xlwings would hand them, i.e. lists of
  rows, a single cell as a scalar, blanks as ``None``, errors as ``"#N/A"`` strings, dates as
  :class:`datetime.datetime`, and ``None`` for an omitted argument;
* **into the engine** (:func:`engine_value`, :func:`udf_result`): blanks as ``""``, errors as the
  engine's error objects, dates as serial numbers that remember they are dates, a table as a
  2-D array;
* **into the file** (:func:`file_value`): float, bool, str or :class:`~xl_var_cli.workbook.cells.ErrorValue`;
  a complex number (a negative number to a fractional power) is ``#NUM!``, and anything else
  (a Python object the engine let through) raises :class:`NotExcel` rather than reach the file
  as its Python text.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import schedula as sh
from formulas.functions import Array
from formulas.ranges import Ranges
from formulas.tokens.operand import Error, XlError
from openpyxl.utils.datetime import to_excel

from xl_var_cli.workbook.cells import ErrorValue
from xl_var_cli.workbook.formula_text import BLANK

__all__ = ["Area", "NotExcel", "engine_value", "file_value", "implicit_intersection", "udf_argument",
           "udf_result"]


class NotExcel(Exception):
    """A result that is no Excel value (a Python object the engine let through)."""


class _ExcelDate(float):
    """A date as Excel computes with it (a serial number) that still knows it is a date."""

    date: dt.datetime

    def __new__(cls, serial: float, date: dt.datetime) -> _ExcelDate:
        obj = super().__new__(cls, serial)
        obj.date = date
        return obj


def _excel_scalar(x: Any) -> Any:
    """One cell of a ``formulas`` array as xlwings would deliver it."""
    if x is sh.EMPTY or (isinstance(x, str) and x == BLANK):
        return None
    if isinstance(x, _ExcelDate):
        return x.date
    if isinstance(x, XlError):
        return str(x)
    if isinstance(x, np.generic):
        return x.item()
    return x


def udf_argument(v: Any) -> Any:
    """An argument from the engine as xlwings would hand it to an xl-var function."""
    if isinstance(v, np.ndarray):
        rows = [[_excel_scalar(x) for x in row] for row in np.atleast_2d(v).tolist()]
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
    return _excel_scalar(v)


def engine_value(x: Any, epoch: dt.datetime) -> Any:
    """A cell value (stored, cached or returned by an xl-var function) as the engine holds it."""
    if x is None:
        return ""
    if isinstance(x, ErrorValue):
        return Error.errors.get(str(x), Error.errors["#VALUE!"])
    if isinstance(x, dt.datetime | dt.date):
        stamp = x if isinstance(x, dt.datetime) else dt.datetime.combine(x, dt.time())
        return _ExcelDate(to_excel(stamp, epoch), stamp)
    if isinstance(x, float) and not math.isfinite(x):
        return Error.errors["#NUM!"]
    return x


def udf_result(out: Any, epoch: dt.datetime) -> Any:
    """An xl-var function's return value as ``formulas`` expects it (a 2-D Array for a table)."""
    if isinstance(out, np.ndarray) or (isinstance(out, list | tuple) and out):
        rows = [r if isinstance(r, list | tuple | np.ndarray) else [r] for r in out]
        if len(rows) == 1 and len(rows[0]) == 1:
            return engine_value(rows[0][0], epoch)
        width = max(len(r) for r in rows)
        grid = np.empty((len(rows), width), dtype=object)
        grid[:] = ""
        for i, row in enumerate(rows):
            for j, x in enumerate(row):
                grid[i, j] = engine_value(x.item() if isinstance(x, np.generic) else x, epoch)
        return grid.view(Array)
    return engine_value(out, epoch)


def file_value(x: Any) -> Any:
    """A computed cell as a plain Python value for the file.

    Raises
    ------
    NotExcel
        For an object that is no Excel value (it must not reach the file as its Python text).
    """
    if isinstance(x, Ranges):  # a reference as a cell's value (INDEX of references): its one cell
        if x.is_set or np.shape(x.value) != (1, 1):
            raise NotExcel("a range")
        x = x.value[0, 0]
    if x is sh.EMPTY:
        return 0.0
    if isinstance(x, XlError):
        return ErrorValue(str(x))
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, bool):
        return x
    if isinstance(x, complex):  # a real operation outside the reals, e.g. (-8)^(1/3): Excel says #NUM!
        return ErrorValue("#NUM!")
    if isinstance(x, int | float):
        return float(x) if math.isfinite(x) else ErrorValue("#NUM!")
    if isinstance(x, dt.datetime | dt.date):
        return float(to_excel(x))
    if isinstance(x, str):
        return str(x)
    raise NotExcel(f"a Python {type(x).__name__}")


Area = tuple[int, int, int, int]
"""min column, min row, max column, max row (1-based)."""


def implicit_intersection(result: Any, row: int, col: int, areas: Sequence[Area]) -> Any:
    """The one value a legacy (non-array) formula shows for an array result: implicit intersection.

    Excel intersects a reference with the formula's own row (a one-column reference) or column
    (a one-row reference); a formula's array result computed element by element from a
    reference (``=LOWER(A1:A9)``, ``=C7+G7:J7``) sits where that reference does. Outside it, or
    for a reference of several rows and columns, the value is ``#VALUE!``. An array of no
    position (an array constant) shows its first element. Reference: Microsoft, "Implicit
    intersection operator: @" (support.microsoft.com).
    """
    if isinstance(result, Ranges):
        if result.is_set:
            return Error.errors["#VALUE!"]
        r = result.ranges[0]
        grid = np.atleast_2d(np.asarray(result.value, dtype=object))
        area: Area | None = (int(r["n1"]), int(r["r1"]), int(r["n2"]), int(r["r2"]))
    else:
        grid = np.atleast_2d(np.asarray(getattr(result, "value", result), dtype=object))
        area = next((a for a in areas if (a[3] - a[1] + 1, a[2] - a[0] + 1) == grid.shape), None)
    if grid.shape == (1, 1) or area is None or grid.ndim != 2:
        return grid.flat[0]
    i, j = (row - area[1] if grid.shape[0] > 1 else 0), (col - area[0] if grid.shape[1] > 1 else 0)
    if min(grid.shape) > 1 or not (0 <= i < grid.shape[0] and 0 <= j < grid.shape[1]):
        return Error.errors["#VALUE!"]
    return grid[i, j]
