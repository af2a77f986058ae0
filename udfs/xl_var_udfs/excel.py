"""Excel-shaped values in, cells out: the conversion layer under every xl-var function.

Excel (through xlwings with ``ndim=2, err_to_str=True``) hands a range to Python as a
list of rows. Inside it a blank cell is ``None`` (or ``""`` when a formula returned an
empty string), an error cell is a string such as ``"#N/A"``, a date is a
:class:`datetime.datetime`, and 99% is ``0.99``. A single cell arrives as a scalar.
Formula engines such as ``formulas`` may pass numpy arrays, which are accepted too.

Conventions (also in the README, "Using it in Excel"):

* **Header row**: the first row is a header when every non-blank cell in it is text (not
  an error value); its cells name the assets.
* **Label (date) column**: with two or more columns, the first column is a label column
  when its cells are dates or text, or whole numbers in Excel's date-serial range
  (10000-2958465) that increase or decrease strictly (dates read without formatting).
* Completely blank rows and columns at the bottom/right of a range are ignored, so a
  range may be selected larger than the data.
* Positions in messages are counted from 1 within the range as selected (header row and
  label column included), so "returns row 12, column 3" is the 12th row and 3rd column
  of the selected range.
* ``missing="drop"`` leaves out rows (periods) holding a blank or error cell; text,
  TRUE/FALSE or dates inside the numbers are always an error.

Every problem raises :class:`ExcelError`, whose :attr:`~ExcelError.line` is the one line
the function returns into the cell, starting with the Excel error it stands for.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import math
import numbers
import operator
import re
import struct
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from xl_var import XlVarError
from xl_var._validate import check_confidence, check_horizon, check_lambda, choose

__all__ = [
    "ERROR_CODES",
    "ExcelError",
    "Table",
    "Vector",
    "as_excel_error",
    "cell",
    "is_error",
    "is_omitted",
    "number",
    "opt_bool",
    "opt_choice",
    "opt_confidence",
    "opt_horizon",
    "opt_lambda",
    "opt_missing",
    "opt_number",
    "opt_text",
    "read_table",
    "read_vector",
    "reraise_as",
    "spill_matrix",
]

from xl_var._typing import FloatArray

_SERIAL_MIN, _SERIAL_MAX = 10_000, 2_958_465  # 1927-05-18 .. 9999-12-31 as Excel date serials
# Engine messages that mean "a number outside its domain" or "no finite answer" -> #NUM!.
_NUM_WORDS = re.compile(
    r"between|did you mean|positive|negative|zero|variance|singular|definite|converg|greater than|"
    r"less than|at most|out of range|finite",
    re.I,
)
# Excel's error values (https://support.microsoft.com/office/ -> "How to correct a #... error").
ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!",
                         "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#GETTING_DATA"})
_MISSING = {"raise": (), "drop": ()}  # what a blank or error cell inside the numbers does
_HINT = '; fix it or set the missing argument to "drop"'
_POSITION = re.compile(r"\b(?:row (\d+)(?:, column (\d+))?|column (\d+))")


class ExcelError(Exception):
    """A bad input, reported in the cell as ``"<code> <message>"``.

    Parameters
    ----------
    code : str
        The Excel error it stands for: ``"#VALUE!"``, ``"#NUM!"`` or ``"#N/A"``.
    message : str
        What is wrong and how to fix it, naming the argument.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message

    @property
    def line(self) -> str:
        """The text returned into the cell."""
        return f"{self.code} {self.message}"

    @classmethod
    def passthrough(cls, value: str, name: str) -> ExcelError:
        """Propagate an error value found in argument ``name`` (like Excel does).

        A bare code (``"#N/A"``) becomes ``"#N/A <name> is #N/A"``; a full xl-var error
        line from another function (``"#VALUE! prices row 3 ..."``) is kept as it is, so
        the root cause shows in the dependent cell.
        """
        code, _, rest = value.strip().partition(" ")
        return cls(code, rest if rest else f"{name} is {code}")


def as_excel_error(exc: XlVarError) -> ExcelError:
    """Map an engine error to ``#NUM!`` (number out of its domain, no finite answer) or ``#VALUE!``."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ExcelError("#NUM!" if _NUM_WORDS.search(text) else "#VALUE!", text)


@contextmanager
def reraise_as(code: str) -> Iterator[None]:
    """Turn an :class:`XlVarError` raised inside the block into an :class:`ExcelError` with ``code``."""
    try:
        yield
    except XlVarError as exc:
        raise ExcelError(code, str(exc)) from None


# ----------------------------------------------------------------------------- cell kinds
def is_error(x: Any) -> bool:
    """True for an Excel error value as xlwings' ``err_to_str`` delivers it (``"#N/A"``, ``"#DIV/0!"``...).

    The first word must be one of Excel's error codes (:data:`ERROR_CODES`), so an xl-var
    error line (``"#VALUE! prices row 3 ..."``) counts but text such as ``"#1 Bond"`` does not.
    """
    return isinstance(x, str) and x[:1] == "#" and x.split(maxsplit=1)[0] in ERROR_CODES


def _is_blank(x: Any) -> bool:
    return x is None or (isinstance(x, str) and not x.strip())


def _is_number(x: Any) -> bool:
    """Real numbers (Python's and numpy's, Decimal and Fraction too); not bools, not time spans."""
    return isinstance(x, (numbers.Real, decimal.Decimal)) and not isinstance(x, (bool, np.bool_, np.timedelta64))


def _is_label(x: Any) -> bool:
    return isinstance(x, dt.date) or (isinstance(x, str) and not is_error(x) and bool(x.strip()))


def _float(x: Any) -> float:
    """A number as a float; integers too large for one become ±inf (caught later as not finite)."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _describe(x: Any) -> str:
    """How a non-number cell reads in a message."""
    if _is_blank(x):
        return "blank"
    if is_error(x):
        return str(x).split()[0]
    if isinstance(x, (bool, np.bool_)):
        return f"{str(bool(x)).upper()}, not a number"
    if isinstance(x, dt.date):
        return "a date, not a number"
    kind = "text" if isinstance(x, str) else type(x).__name__
    return f"{kind} ({str(x)[:20]!r}), not a number"


# ----------------------------------------------------------------------------- grids
def is_omitted(x: Any) -> bool:
    """Whether an optional range argument was left out: None, or only blank cells (a blank cell
    reference arrives as ``[[None]]`` with ``ndim=2``)."""
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        return all(is_omitted(v) for v in x)
    return _is_blank(x)


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
    while rows and all(_is_blank(v) for v in rows[-1]):
        rows.pop()
    width = len(rows[0]) if rows else 0
    while width and all(_is_blank(r[width - 1]) for r in rows):
        width -= 1
    if not width:
        raise ExcelError("#VALUE!", f"{name} is blank: select a range of numbers")
    if width < len(rows[0]):
        rows = [r[:width] for r in rows]
    if len(rows) == 1 and len(rows[0]) == 1 and is_error(rows[0][0]):
        raise ExcelError.passthrough(rows[0][0], name)
    return rows


def _all_numbers(rows: Sequence[Sequence[Any]], skip: int) -> FloatArray | None:
    """The block (each row from its cell ``skip`` on) as float64 when every cell is a number, else None
    (then each cell is inspected).

    One C-level pass: :mod:`struct` packs each row as doubles, which refuses text (numeric
    text too), blanks, dates, time spans, complex numbers and error values, as
    :func:`_is_number` does; it takes TRUE/FALSE as 1/0, so the rare bool is then found
    among the cells that read exactly 0 or 1.
    """
    width = len(rows[0]) - skip
    pack = struct.Struct(f"{width}d").pack
    cells = map(operator.itemgetter(slice(skip, None)), rows) if skip else rows
    try:
        with warnings.catch_warnings():  # numpy's complex numbers pack as their real part, with a warning
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            buf = bytearray().join(itertools.starmap(pack, cells))
    except (struct.error, np.exceptions.ComplexWarning):
        return None
    out = np.frombuffer(buf).reshape(len(rows), width)
    for k in np.flatnonzero((out == 0.0) | (out == 1.0)).tolist():
        i, j = divmod(k, width)
        if isinstance(rows[i][skip + j], (bool, np.bool_)):
            return None
    return out


def _to_floats(
    rows: Sequence[Sequence[Any]], name: str, origin: tuple[int, int], drop: bool, skip: int = 0
) -> FloatArray:
    """Convert a block of cells to float64: each row from its cell ``skip`` on (the cells before are
    labels); ``origin`` is the (row, column) of the block's top-left cell in the range.

    Blank and error cells raise, naming their position, unless ``drop`` (then they are NaN);
    any other non-number always raises.
    """
    fast = _all_numbers(rows, skip)
    if fast is not None:
        return fast
    out = np.empty((len(rows), len(rows[0]) - skip))
    for i, row in enumerate(rows):
        for j, v in enumerate(row[skip:]):
            if _is_number(v):
                out[i, j] = _float(v)
                continue
            droppable = _is_blank(v) or is_error(v)
            if drop and droppable:
                out[i, j] = np.nan
                continue
            where = f"{name} row {origin[0] + i}, column {origin[1] + j}"
            raise ExcelError("#VALUE!", f"{where} is {_describe(v)}{_HINT if droppable else ''}")
    return out


def _is_serial_dates(cells: list[Any]) -> bool:
    if len(cells) < 2 or not all(_is_number(v) for v in cells):
        return False
    arr = np.array([_float(v) for v in cells])
    if not (np.all(arr == np.round(arr)) and arr.min() >= _SERIAL_MIN and arr.max() <= _SERIAL_MAX):
        return False
    step = np.diff(arr)
    return bool(np.all(step > 0) or np.all(step < 0))


def _is_label_column(cells: list[Any]) -> bool:
    """Whether a first column holds labels: dates or text, or Excel date serials."""
    if set(map(type, cells)) <= {dt.datetime, dt.date}:
        return True
    first = next((v for v in cells if not (_is_blank(v) or is_error(v))), None)
    if first is None:
        return False
    if _is_label(first):
        return all(_is_label(v) or _is_blank(v) or is_error(v) for v in cells)
    return _is_serial_dates(cells)


# ----------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class Table:
    """A numeric table read from a range.

    Attributes
    ----------
    values : ndarray, shape (T, N)
        The numbers (rows left out by ``missing="drop"`` are gone).
    names : tuple of str
        One name per column: from the header row, else ``"Asset 1"``...
    header : list or None
        The header row as it was (label-column cell included), or None.
    labels : list or None
        The label (date) column's cells for the kept rows, or None.
    rows : ndarray of int
        For each kept row, its row number within the range (from 1).
    first_column : int
        Column number within the range of the first numeric column (1 or 2).
    """

    values: FloatArray
    names: tuple[str, ...]
    header: list[Any] | None
    labels: list[Any] | None
    rows: NDArray[np.intp]
    first_column: int

    def locate(self, exc: XlVarError, name: str) -> ExcelError:
        """Map an engine error about this table (its message starts with ``name``), rewriting every
        position in it to a position in the range."""
        err = as_excel_error(exc)

        def fix(m: re.Match[str]) -> str:
            row, col = m.group(1), m.group(2) or m.group(3)
            if row is not None and not 1 <= int(row) <= len(self.rows):
                return m.group(0)
            parts = [f"row {int(self.rows[int(row) - 1])}"] if row is not None else []
            parts += [f"column {int(col) + self.first_column - 1}"] if col is not None else []
            return ", ".join(parts)

        if err.message.startswith(name + " "):
            return ExcelError(err.code, _POSITION.sub(fix, err.message))
        return err


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
        The range is blank, holds no numbers, or a cell is not a number.
    """
    drop = opt_missing(missing) == "drop"
    rows = _grid(x, name)
    first = rows[0]
    has_header = any(_is_label(v) for v in first) and all(_is_label(v) or _is_blank(v) for v in first)
    body = rows[1:] if has_header else rows
    if not body:
        raise ExcelError("#VALUE!", f"{name} has a header row but no numbers below it")
    col0 = [r[0] for r in body] if len(first) >= 2 else []
    lc = 1 if col0 and _is_label_column(col0) else 0
    top = 2 if has_header else 1
    values = _to_floats(body, name, (top, lc + 1), drop=drop, skip=lc)
    kept = np.arange(len(body))
    label_cells = col0 if lc else None
    holed = np.isnan(values).any(axis=1) if drop else None
    if holed is not None and holed.any():
        kept = np.flatnonzero(~holed)
        values = values[kept]
        label_cells = [col0[i] for i in kept] if lc else None
        if values.shape[0] == 0:
            raise ExcelError("#VALUE!", f"{name} has no row without blanks or errors to keep")
    header = first if has_header else None
    names = tuple(
        str(v).strip() if header is not None and not _is_blank(v) else f"Asset {j + 1}"
        for j, v in enumerate(header[lc:] if header is not None else [None] * values.shape[1])
    )
    return Table(
        values=values,
        names=names,
        header=header,
        labels=label_cells,
        rows=kept + top,
        first_column=lc + 1,
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


def read_vector(x: Any, name: str, *, size: int | None = None, missing: str = "raise") -> Vector:
    """Read one row or column of numbers, with an optional leading text label.

    A two-column block whose first column holds labels (asset names, dates) gives its
    second column; likewise a two-row block whose first row holds labels. ``size`` is
    the number of entries required (one per asset). ``missing="keep"`` turns blank and
    error cells into NaN instead of an error.
    """
    rows = _grid(x, name)
    nr, nc = len(rows), len(rows[0])
    r0 = c0 = 1  # position of rows[0][0] within the range
    if nr > 1 and nc > 1:
        if nc == 2 and all(_is_label(r[0]) or _is_blank(r[0]) for r in rows):
            rows, c0 = [[r[1]] for r in rows], 2
        elif nr == 2 and all(_is_label(v) or _is_blank(v) for v in rows[0]):
            rows, r0 = [rows[1]], 2
        else:
            shape = f"{nr} rows × {nc} columns"
            raise ExcelError("#VALUE!", f"{name} must be a single row or column (got {shape})")
    is_row = len(rows) == 1 and len(rows[0]) > 1
    skip = 1 if max(len(rows), len(rows[0])) > 1 and _is_label(rows[0][0]) else 0  # a leading label
    if is_row:
        block, origin = [rows[0][skip:]], (r0, c0 + skip)
    else:
        block, origin = rows[skip:], (r0 + skip, c0)  # rows of one cell each
    values = _to_floats(block, name, origin, drop=missing == "keep").ravel()
    if size is not None and values.size != size:
        raise ExcelError("#VALUE!", f"{name} has {values.size} entries but returns has {size} columns")
    return Vector(values=values, is_row=is_row)


# ----------------------------------------------------------------------------- scalars
def _scalar(x: Any, name: str) -> Any:
    if isinstance(x, (list, tuple, np.ndarray)):
        arr = np.asarray(x, dtype=object)
        if arr.size != 1:
            shape = arr.shape if arr.ndim == 2 else (1, arr.size)
            raise ExcelError(
                "#VALUE!", f"{name} must be a single value, not a range of {shape[0]} × {shape[1]} cells"
            )
        x = arr.reshape(-1)[0]
    if is_error(x):
        raise ExcelError.passthrough(x, name)
    return x


@overload
def opt_number(x: Any, name: str, default: float) -> float: ...
@overload
def opt_number(x: Any, name: str, default: None) -> float | None: ...
def opt_number(x: Any, name: str, default: float | None) -> float | None:
    """A number, or ``default`` when omitted/blank; text such as ``"99%"`` or ``"0.5"`` is read too."""
    x = _scalar(x, name)
    if _is_blank(x):
        return default
    if _is_number(x):
        return _float(x)
    if isinstance(x, str):
        text = x.strip().replace(",", "")
        scale = 100.0 if text.endswith("%") else 1.0
        try:
            return float(text.rstrip("%")) / scale
        except ValueError:
            pass
    raise ExcelError("#VALUE!", f"{name} must be a number; got {_describe(x).split(',')[0]}")


def opt_confidence(x: Any, default: float = 0.99) -> float:
    """A confidence level in (0, 1) such as ``99%``; ``default`` when omitted; out of range is ``#NUM!``."""
    c = opt_number(x, "confidence", default)
    with reraise_as("#NUM!"):
        return check_confidence(c)


def opt_horizon(x: Any, default: int = 1) -> int:
    """A horizon in periods (a whole number, 1 or more); ``default`` when omitted; else ``#NUM!``."""
    h = opt_number(x, "horizon", default)
    with reraise_as("#NUM!"):
        return check_horizon(h)


def opt_lambda(x: Any, name: str = "lam", default: float = 0.94) -> float:
    """An EWMA decay factor in (0, 1); ``default`` when omitted; else ``#NUM!``."""
    lam = opt_number(x, name, default)
    with reraise_as("#NUM!"):
        return check_lambda(lam, name)


def opt_text(x: Any, name: str, default: str) -> str:
    """Text (stripped), or ``default`` when omitted/blank."""
    x = _scalar(x, name)
    if _is_blank(x):
        return default
    if not isinstance(x, str):
        raise ExcelError("#VALUE!", f'{name} must be text such as "{default}"; got {x!r}')
    return x.strip()


def opt_choice(x: Any, name: str, choices: Mapping[str, tuple[str, ...]], default: str) -> str:
    """A case-insensitive choice (canonical name) from ``choices``, or ``default``."""
    with reraise_as("#VALUE!"):
        return choose(opt_text(x, name, default), name, choices)


def opt_missing(x: Any) -> str:
    """The ``missing`` argument: ``"raise"`` (default) or ``"drop"``, case-insensitive."""
    return opt_choice(x, "missing", _MISSING, "raise")


def opt_bool(x: Any, name: str, default: bool) -> bool:
    """TRUE/FALSE, 1/0 or the text "TRUE"/"FALSE"/"yes"/"no"; ``default`` when omitted/blank."""
    x = _scalar(x, name)
    if _is_blank(x):
        return default
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if _is_number(x) and _float(x) in (0.0, 1.0):
        return bool(x)
    if isinstance(x, str) and x.strip().lower() in {"true", "false", "yes", "no"}:
        return x.strip().lower() in {"true", "yes"}
    raise ExcelError("#VALUE!", f"{name} must be TRUE or FALSE; got {x!r}")


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
