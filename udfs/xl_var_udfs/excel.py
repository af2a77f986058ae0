"""Excel-shaped values in, cells out: the conversion layer under every xl-var function.

Excel (through xlwings with ``ndim=2, err_to_str=True``) hands a range to Python as a
list of rows. Inside it a blank cell is ``None`` (or ``""`` when a formula returned an
empty string), an error cell is a string such as ``"#N/A"``, a date is a
:class:`datetime.datetime`, and 99% is ``0.99``. A single cell arrives as a scalar.
Formula engines such as ``formulas`` may pass numpy arrays, which are accepted too.

Conventions (also in the README, "Using it in Excel"):

* **Header row**: the first row is a header when every non-blank cell in it is text (not
  an error value); its cells name the assets.
* **Header row**, numeric tickers: a first row of whole numbers (7203, 9984) is a header
  when a label column holds dates below a blank or text corner cell, or when the rows below
  are returns (all within ±1); when it stands far from the row below it (a ticker or a jump)
  it is refused as ambiguous: "format the tickers as text".
* **Label (date) column**: with two or more columns, the first column is a label column
  when its cells are dates or text, or Excel date serials (:func:`xl_var_udfs.dates.is_label_column`).
* **Time order**: when the label column holds dates (datetimes, date text, serials), rows are
  put oldest first (newest-first exports are reversed); repeated or shuffled dates are refused.
  :attr:`Table.rows` and :attr:`Table.labels` follow the new order. Without dates rows are
  taken as they are, oldest first.
* Completely blank rows and columns at the bottom/right of a range are ignored, so a
  range may be selected larger than the data.
* Positions in messages are counted from 1 within the range as selected (header row and
  label column included), so "returns row 12, column 3" is the 12th row and 3rd column
  of the selected range.
* ``missing="drop"`` leaves out rows (periods) holding a blank or error cell; text,
  TRUE/FALSE or dates inside the numbers are always an error.

Single-cell arguments (confidence, horizon, method...) are read by :mod:`xl_var_udfs.arguments`;
inside a range text is never a number.

Every problem raises :class:`ExcelError`, whose :attr:`~ExcelError.line` is the one line
the function returns into the cell, starting with the Excel error it stands for.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import operator
import re
import struct
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xl_var import XlVarError
from xl_var._typing import FloatArray, IntArray
from xl_var_udfs.arguments import opt_missing
from xl_var_udfs.cells import (
    COM_ERRORS,
    ERROR_CODES,
    ExcelError,
    as_excel_error,
    describe,
    error_text,
    is_blank,
    is_error,
    is_label,
    is_number,
    to_float,
)
from xl_var_udfs.dates import is_label_column, label_dates, time_order

__all__ = [
    "ERROR_CODES",
    "ExcelError",
    "Table",
    "Vector",
    "cell",
    "is_error",
    "is_omitted",
    "number",
    "read_table",
    "read_vector",
    "relocate",
    "spill_matrix",
]

_HINT = '; fix it or set the missing argument to "drop"'
_COM_ERROR_LOW, _COM_ERROR_HIGH = min(COM_ERRORS), max(COM_ERRORS)
_ZIP_WIDTH = 6  # from this many columns on, _pack transposes with zip rather than gathering each column
_POSITION = re.compile(r"\b(?:row (\d+)(?:, column (\d+))?|column (\d+))")


def relocate(message: str, row: Callable[[int], int | None], column: Callable[[int], int]) -> str:
    """Rewrite every "row R", "column C" and "row R, column C" in ``message`` through ``row`` and
    ``column`` (a row mapped to None is left as written)."""

    def fix(m: re.Match[str]) -> str:
        r, c = m.group(1), m.group(2) or m.group(3)
        to = row(int(r)) if r is not None else None
        if r is not None and to is None:
            return m.group(0)
        parts = [f"row {to}"] if to is not None else []
        return ", ".join(parts + ([f"column {column(int(c))}"] if c is not None else []))

    return _POSITION.sub(fix, message)


# ----------------------------------------------------------------------------- grids
def is_omitted(x: Any) -> bool:
    """Whether an optional range argument was left out: None, or only blank cells (a blank cell
    reference arrives as ``[[None]]`` with ``ndim=2``)."""
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        return all(is_omitted(v) for v in x)
    return is_blank(x)


def _grid(x: Any, name: str) -> list[list[Any]]:
    """Any Excel-shaped value as a rectangular list of rows, trailing blank rows/columns removed."""
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if not isinstance(x, (list, tuple)):
        rows: list[list[Any]] = [[x]]
    elif set(map(type, x)) == {list}:
        rows = list(x)  # the usual case: a list of row lists (the rows themselves are not modified)
    elif any(isinstance(r, (list, tuple)) for r in x):
        rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in x]
    else:
        rows = [list(x)]  # a flat sequence is one row, as xlwings writes it
    widths = set(map(len, rows))
    if len(widths) > 1:
        width = max(widths)
        rows = [r + [None] * (width - len(r)) for r in rows]
    while rows and all(is_blank(v) for v in rows[-1]):
        rows.pop()
    width = len(rows[0]) if rows else 0
    while width and all(is_blank(r[width - 1]) for r in rows):
        width -= 1
    if not width:
        raise ExcelError("#VALUE!", f"{name} is blank: select a range of numbers")
    if width < len(rows[0]):
        rows = [r[:width] for r in rows]
    if len(rows) == 1 and len(rows[0]) == 1 and is_error(rows[0][0]):
        raise ExcelError.passthrough(rows[0][0], name)
    return rows


def _pack(rows: Sequence[Sequence[Any]], skip: int) -> tuple[FloatArray, list[int]]:
    """The block (each row from its cell ``skip`` on) as float64, and the rows that need a closer look
    (their cells in the array are then meaningless).

    :mod:`struct` packs each column as doubles in C (``zip`` transposes the rows, leaving out
    the label columns without copying each row), which refuses text (numeric text too),
    blanks, dates, time spans, complex numbers and error values, as :func:`is_number` does;
    when a column is refused, the rows are packed one by one and each row refused is listed.
    It takes TRUE/FALSE as 1/0, so the rare bool is then found among the cells that read
    exactly 0 or 1, and its row listed too; likewise pywin32's
    integer for an error such as ``#SPILL!`` (:data:`~xl_var_udfs.cells.COM_ERRORS`) among
    the cells in their narrow range. One pass over the whole block when every cell is a
    number; a bad cell costs one failed row, not a slow pass over every cell.
    """
    width, n = len(rows[0]) - skip, len(rows)
    bad: list[int] = []
    with warnings.catch_warnings():  # numpy's complex numbers pack as their real part, with a warning
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        try:  # column by column: no slice per row to cut the label columns off
            columns: Iterator[Sequence[Any]]
            if width + skip > _ZIP_WIDTH:  # wide: zip transposes in one pass
                columns = zip(*rows, strict=True)
                for _ in range(skip):
                    next(columns)
            else:  # narrow and tall (a weights or P&L column): one gather per column beats zip's per-row cost
                columns = (list(map(operator.itemgetter(j), rows)) for j in range(skip, skip + width))
            buf = bytearray().join(itertools.starmap(struct.Struct(f"{n}d").pack, columns))
            out = np.empty((n, width))
            out[...] = np.frombuffer(buf).reshape(width, n).T
        except (struct.error, ValueError, IndexError, np.exceptions.ComplexWarning):  # row by row: find the rows
            pack, filler, buf = struct.Struct(f"{width}d").pack, bytes(8 * width), bytearray()
            for i, row in enumerate(map(operator.itemgetter(slice(skip, None)), rows)):
                try:
                    buf += pack(*row)
                except (struct.error, np.exceptions.ComplexWarning):
                    buf += filler
                    bad.append(i)
            out = np.frombuffer(buf).reshape(n, width)
    odd = out == 0.0
    odd |= out == 1.0
    if out.size and out.min() <= _COM_ERROR_HIGH:  # rare: only then look for pywin32's error integers
        odd |= (out >= _COM_ERROR_LOW) & (out <= _COM_ERROR_HIGH)
    for k in np.flatnonzero(odd).tolist():
        i, j = divmod(k, width)
        if isinstance(rows[i][skip + j], (bool, np.bool_)) or is_error(rows[i][skip + j]):
            bad.append(i)
    return out, sorted(set(bad))


def _to_floats(
    rows: Sequence[Sequence[Any]], name: str, origin: tuple[int, int], drop: bool, skip: int = 0
) -> FloatArray:
    """Convert a block of cells to float64: each row from its cell ``skip`` on (the cells before are
    labels); ``origin`` is the (row, column) of the block's top-left cell in the range.

    Blank and error cells raise, naming their position, unless ``drop`` (then they are NaN);
    any other non-number always raises.
    """
    out, bad = _pack(rows, skip)
    if not bad:
        return out
    out = out.copy()
    for i in bad:
        for j, v in enumerate(rows[i][skip:]):
            if is_number(v):
                out[i, j] = to_float(v)
                continue
            droppable = is_blank(v) or is_error(v)
            if drop and droppable:
                out[i, j] = np.nan
                continue
            where = f"{name} row {origin[0] + i}, column {origin[1] + j}"
            raise ExcelError("#VALUE!", f"{where} is {describe(v)}{_HINT if droppable else ''}")
    return out


def _is_whole(x: Any) -> bool:
    return is_number(x) and math.isfinite(f := to_float(x)) and f == round(f)


def _is_ticker_header(rows: list[list[Any]], name: str) -> bool:
    """Whether a first row of whole numbers (7203, 9984, ...) is a header of numeric tickers.

    Yes when the first column below is a label column (dates) under a blank or text corner
    cell, or when there is no label column and the rows below are returns (all within ±1).
    When the rows below are not returns and some whole number is more than twice the number
    below it (a ticker above the prices' scale, or a jump no price makes in a period) the range is
    refused as ambiguous; otherwise the first row is data (whole-number prices).
    """
    first = rows[0]
    if len(rows) < 2 or not all(_is_whole(v) for v in first[1:]):
        return False
    corner = first[0]
    if len(first) >= 2 and (is_blank(corner) or (isinstance(corner, str) and not is_error(corner))):
        below = [r[0] for r in rows[1:]]  # dates below a corner that is no date: "Date" or blank
        return (is_label_column(below, corner, name) and label_dates(below, name, 2) is not None
                and (is_blank(corner) or label_dates([corner], name, 1) is None))
    if not (_is_whole(corner) and all(to_float(v) >= 1 for v in first)):
        return False
    numbers, bad = _pack(rows[1:], 0)
    if bad or not np.all(np.isfinite(numbers)):
        return False
    if np.all(np.abs(numbers) < 1):
        return True
    top = np.array([to_float(v) for v in first])
    ratio = np.abs(top / np.where(numbers[0] == 0, np.nan, numbers[0]))
    if np.any(ratio > 2):
        shown = ", ".join(str(int(v)) for v in top[:3]) + (", …" if top.size > 3 else "")
        raise ExcelError("#VALUE!", f"{name} row 1 holds whole numbers ({shown}) far from the row below: if they "
                                    "are tickers, format them as text; if they are data, put a text header row "
                                    "(such as 'Date', names) above them")
    return False


def _name(v: Any, j: int) -> str:
    if is_blank(v):
        return f"Asset {j + 1}"
    return str(int(v)) if _is_whole(v) else str(v).strip()


# ----------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class Table:
    """A numeric table read from a range.

    Attributes
    ----------
    values : ndarray, shape (T, N)
        The numbers, oldest row first when the label column holds dates (rows left out by
        ``missing="drop"`` are gone).
    names : tuple of str
        One name per column: from the header row, else ``"Asset 1"``...
    header : list or None
        The header row as it was (label-column cell included), or None.
    labels : list or None
        The label (date) column's cells for the kept rows, in their new order, or None.
    rows : ndarray of int
        For each kept row, its row number within the range (from 1).
    first_column : int
        Column number within the range of the first numeric column (1 or 2).
    dates : tuple of datetime or None
        The label column read as dates (None for a blank or error cell) for the kept rows, or
        None when it holds no dates.
    """

    values: FloatArray
    names: tuple[str, ...]
    header: list[Any] | None
    labels: list[Any] | None
    rows: NDArray[np.intp]
    first_column: int
    dates: tuple[dt.datetime | None, ...] | None = None

    def locate(self, exc: XlVarError, name: str) -> ExcelError:
        """Map an engine error about this table (its message starts with ``name``), rewriting every
        position in it to a position in the range."""
        err = as_excel_error(exc)
        if not err.message.startswith(name + " "):
            return err
        rows = self.rows.tolist()
        message = relocate(err.message, lambda r: rows[r - 1] if 1 <= r <= len(rows) else None,
                           lambda c: c + self.first_column - 1)
        return ExcelError(err.code, message)


def read_table(x: Any, name: str, *, missing: Any = "raise") -> Table:
    """Read a numeric table (returns, prices, a correlation matrix) from an Excel-shaped value.

    Parameters
    ----------
    x : list of rows, numpy array or scalar
        The range's values.
    name : str
        The argument's name, used in messages.
    missing : {"raise", "drop"} or a cell holding one
        What a blank or error cell inside the numbers does: an error naming its position,
        or its row is left out (read by :func:`opt_missing`).

    Raises
    ------
    ExcelError
        The range is blank, holds no numbers, a cell is not a number, the dates repeat or
        are out of order, or a first row of whole numbers may be tickers or data.
    """
    drop = opt_missing(missing) == "drop"
    rows = _grid(x, name)
    first = rows[0]
    has_header = (any(is_label(v) for v in first) and all(is_label(v) or is_blank(v) for v in first)) or (
        _is_ticker_header(rows, name))
    body = rows[1:] if has_header else rows
    if not body:
        raise ExcelError("#VALUE!", f"{name} has a header row but no numbers below it")
    top = 2 if has_header else 1
    col0 = [r[0] for r in body] if len(first) >= 2 else []
    dates: list[dt.datetime | None] | None = None
    if col0 and set(map(type, col0)) == {dt.datetime}:  # the usual Excel date column: nothing to convert
        lc, dates = 1, col0
    else:
        col0 = [error_text(v) if is_error(v) else v for v in col0]  # pywin32's error integers as text
        lc = 1 if col0 and is_label_column(col0, first[0] if has_header else None, name) else 0
        dates = label_dates(col0, name, top) if lc else None
    values = _to_floats(body, name, (top, lc + 1), drop=drop, skip=lc)
    kept: IntArray = np.arange(len(body))
    if dates is not None:
        kept = time_order(dates, name, top)
        if kept[0]:
            values = values[kept]
    if drop:
        holed = np.isnan(values).any(axis=1)
        if holed.any():
            kept, values = kept[~holed], values[~holed]
            if values.shape[0] == 0:
                raise ExcelError("#VALUE!", f"{name} has no row without blanks or errors to keep")
    header = first if has_header else None
    names = tuple(_name(v, j) for j, v in enumerate(header[lc:] if header is not None else [None] * values.shape[1]))
    in_place = kept.size == len(body) and bool(np.all(kept == np.arange(kept.size)))
    return Table(
        values=values,
        names=names,
        header=header,
        labels=(list(col0) if in_place else [col0[i] for i in kept]) if lc else None,
        rows=kept + top,
        first_column=lc + 1,
        dates=(tuple(dates) if in_place else tuple(dates[i] for i in kept)) if dates is not None else None,
    )


# ----------------------------------------------------------------------------- vectors
@dataclass(frozen=True)
class Vector:
    """A row or column of numbers (weights, a P&L series).

    ``values`` holds NaN for blank/error cells when read with ``missing="keep"``;
    ``is_row`` says whether the range was a row (results spill the same way).
    """

    values: FloatArray
    is_row: bool


def read_vector(
    x: Any, name: str, *, size: int | None = None, missing: str = "raise", finite: bool = False
) -> Vector:
    """Read one row or column of numbers, with an optional leading text label.

    A two-column block whose first column holds labels (asset names, dates) gives its
    second column; likewise a two-row block whose first row holds labels. ``size`` is
    the number of entries required (one per asset). ``missing="keep"`` turns blank and
    error cells into NaN instead of an error. ``finite=True`` refuses a NaN or infinite
    number too, naming its cell.
    """
    rows = _grid(x, name)
    nr, nc = len(rows), len(rows[0])
    r0 = c0 = 1  # position of rows[0][0] within the range
    if nr > 1 and nc > 1:
        if nc == 2 and all(is_label(r[0]) or is_blank(r[0]) for r in rows):
            rows, c0 = [[r[1]] for r in rows], 2
        elif nr == 2 and all(is_label(v) or is_blank(v) for v in rows[0]):
            rows, r0 = [rows[1]], 2
        else:
            shape = f"{nr} rows × {nc} columns"
            raise ExcelError("#VALUE!", f"{name} must be a single row or column (got {shape})")
    is_row = len(rows) == 1 and len(rows[0]) > 1
    skip = 1 if max(len(rows), len(rows[0])) > 1 and is_label(rows[0][0]) else 0  # a leading label
    if is_row:
        block, origin = [rows[0][skip:]], (r0, c0 + skip)
    else:
        block, origin = rows[skip:], (r0 + skip, c0)  # rows of one cell each
    values = _to_floats(block, name, origin, drop=missing == "keep").ravel()
    if finite and not np.all(np.isfinite(values)):
        k = int(np.flatnonzero(~np.isfinite(values))[0])
        r, c = (origin[0], origin[1] + k) if is_row else (origin[0] + k, origin[1])
        raise ExcelError("#VALUE!", f"{name} row {r}, column {c} is {values[k]:g}, not a finite number{_HINT}")
    if size is not None and values.size != size:
        raise ExcelError("#VALUE!", f"{name} has {values.size} entries but returns has {size} columns")
    return Vector(values=values, is_row=is_row)


# ----------------------------------------------------------------------------- results
def number(x: Any, what: str) -> float:
    """A finite result as a Python float; otherwise ``#NUM!`` (a cell never gets NaN or inf)."""
    f = float(x)
    if not math.isfinite(f):
        raise ExcelError("#NUM!", f"{what} has no finite value for these inputs")
    return f


def cell(x: Any) -> Any:
    """One cell of a spilled table: finite floats, text, ``""`` for blank; NaN/inf shows as ``"#N/A"``."""
    if x is None:
        return ""
    if isinstance(x, (str, dt.date)):
        return x
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    f = float(x) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f if math.isfinite(f) else "#N/A"


def spill_matrix(a: FloatArray, what: str) -> list[list[float]]:
    """A matrix as rows of finite floats; any NaN/inf is ``#NUM!`` for the whole result."""
    if not np.all(np.isfinite(a)):
        raise ExcelError("#NUM!", f"{what} has no finite value for these inputs")
    rows: list[list[float]] = np.asarray(a, dtype=np.float64).tolist()
    return rows
