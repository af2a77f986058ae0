"""The values a formula computes with, and Excel's rules for turning one kind into another.

Every function of the calculation engine receives and returns these, and nothing else:

* **blank**: ``None`` (an empty cell, or an omitted argument such as the third of ``F(a,,b)``);
* **number**: ``float`` (never ``int``; dates are serial numbers);
* **logical**: ``bool`` (test it before numbers: ``bool`` is an ``int`` in Python);
* **text**: ``str``;
* **error**: an :class:`XlError` (one object per code, e.g. :data:`NA`); returned as a value, or
  raised inside a function body as :class:`ExcelError` (the engine turns it back into the value);
* **array**: a :class:`Grid` (rows of the scalars above);
* **reference**: a :class:`Ref` (a rectangle of cells, read lazily), only as a function's
  argument or result, never stored in a cell.

The coercions follow Excel's documented rules (Microsoft, "How Excel converts values in
formulas", and the operator reference "Calculation operators and precedence in Excel"):
text that reads as a number counts as one in arithmetic; a blank is 0 or ""; ``TRUE`` is 1;
comparisons order numbers < text < logicals, text without regard to case.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar, Protocol

from xl_var_cli.workbook.calc.datetext import read_datetime

__all__ = [
    "CALC",
    "DIV0",
    "NA",
    "NAME",
    "NULL",
    "NUM",
    "REF",
    "SPILL",
    "VALUE",
    "ExcelError",
    "Grid",
    "Ref",
    "Sheetlike",
    "XlError",
    "as_grid",
    "compare",
    "elementwise",

    "general_text",
    "number_from_text",
    "numbers",
    "scalar",
    "scalar_only",
    "to_bool",
    "to_int",
    "to_number",
    "to_text",
]


class XlError:
    """An Excel error value. One object per code: compare with ``is`` or ``==``."""

    __slots__ = ("code",)
    _codes: ClassVar[dict[str, XlError]] = {}

    def __new__(cls, code: str) -> XlError:
        known = cls._codes.get(code)
        if known is None:
            known = super().__new__(cls)
            known.code = code
            cls._codes[code] = known
        return known

    code: str

    def __repr__(self) -> str:
        return self.code

    __str__ = __repr__


NULL, DIV0, VALUE, REF = XlError("#NULL!"), XlError("#DIV/0!"), XlError("#VALUE!"), XlError("#REF!")
NAME, NUM, NA = XlError("#NAME?"), XlError("#NUM!"), XlError("#N/A")
SPILL, CALC = XlError("#SPILL!"), XlError("#CALC!")


class ExcelError(Exception):
    """Raised inside a function body to return an error value (``raise ExcelError(NA)``)."""

    def __init__(self, error: XlError) -> None:
        super().__init__(error.code)
        self.error = error


class Grid:
    """A 2-D array of scalar values: ``rows`` is a list of equally long lists.

    Built by array constants (``{1,2;3,4}``), by reading a :class:`Ref`, and by functions and
    operators applied element by element.
    """

    __slots__ = ("rows",)

    def __init__(self, rows: list[list[Any]]) -> None:
        self.rows = rows

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.rows[0]) if self.rows else 0

    def flat(self) -> Iterator[Any]:
        """Every value, row by row."""
        for row in self.rows:
            yield from row

    def at(self, i: int, j: int) -> Any:
        """Value at 0-based row ``i``, column ``j``; a single row or column repeats (broadcasting)."""
        rows = self.rows
        row = rows[i if len(rows) > 1 else 0]
        return row[j if len(row) > 1 else 0]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Grid) and self.rows == other.rows

    def __repr__(self) -> str:
        return f"Grid({self.rows!r})"


class Sheetlike(Protocol):
    """What a :class:`Ref` reads its cells from (the engine's book implements it)."""

    def value(self, sheet: str, row: int, col: int) -> Any:
        """The (calculated) value of one cell."""

    def block(self, sheet: str, r1: int, c1: int, r2: int, c2: int) -> list[list[Any]]:
        """The (calculated) values of a rectangle, row by row."""

    def extent(self, sheet: str) -> tuple[int, int]:
        """The last used row and column of a sheet (whole-column references stop there)."""


class Ref:
    """A rectangular reference ``sheet!r1c1:r2c2`` (1-based, inclusive), read when asked.

    A function that needs a reference's position (ROW, COLUMN, OFFSET, INDEX, implicit
    intersection) takes the :class:`Ref`; one that needs values calls :meth:`grid` or
    :meth:`values` (or :func:`scalar`, :func:`as_grid`).
    """

    __slots__ = ("book", "c1", "c2", "r1", "r2", "sheet")

    def __init__(self, book: Sheetlike, sheet: str, r1: int, c1: int, r2: int, c2: int) -> None:
        self.book, self.sheet, self.r1, self.c1, self.r2, self.c2 = book, sheet, r1, c1, r2, c2

    @property
    def shape(self) -> tuple[int, int]:
        return self.r2 - self.r1 + 1, self.c2 - self.c1 + 1

    def grid(self) -> Grid:
        return Grid(self.book.block(self.sheet, self.r1, self.c1, self.r2, self.c2))

    def values(self) -> Iterator[Any]:
        """Every value, row by row."""
        for row in self.book.block(self.sheet, self.r1, self.c1, self.r2, self.c2):
            yield from row

    def cell(self, i: int, j: int) -> Ref:
        """The one-cell reference at 0-based offset (i, j) from the top-left corner."""
        return Ref(self.book, self.sheet, self.r1 + i, self.c1 + j, self.r1 + i, self.c1 + j)

    def __repr__(self) -> str:
        return f"Ref({self.sheet!r}, R{self.r1}C{self.c1}:R{self.r2}C{self.c2})"


# ----------------------------------------------------------------------------- conversions
def scalar(v: Any) -> Any:
    """One value from an argument: a one-cell reference or 1x1 array is its value; a larger one
    is its first cell (callers that need Excel's implicit intersection do it before)."""
    if isinstance(v, Ref):
        return v.book.value(v.sheet, v.r1, v.c1) if v.r1 == v.r2 and v.c1 == v.c2 else v.grid().rows[0][0]
    if isinstance(v, Grid):
        return v.rows[0][0]
    return v


def as_grid(v: Any) -> Grid:
    """Any argument as a :class:`Grid` (a scalar becomes 1x1)."""
    if isinstance(v, Grid):
        return v
    if isinstance(v, Ref):
        return v.grid()
    return Grid([[v]])


_NUMBER = re.compile(r"^\s*([-+]?)\s*\$?\s*((?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*(%?)\s*$")
def number_from_text(text: str) -> float | None:
    """The number Excel reads in ``text``, or None: ``"1,000"``, ``"5%"``, ``"$3"``, ``"1e3"``,
    ``"(12)"`` (-12), and any date or time :func:`~xl_var_cli.workbook.calc.datetext.read_datetime`
    reads. US conventions, as Excel in the en-US locale (Microsoft, "VALUE function")."""
    m = _NUMBER.match(text)
    if m and any(ch.isdigit() for ch in re.split("[eE]", m.group(2))[0]):
        x = float(m.group(2).replace(",", ""))
        x = -x if m.group(1) == "-" else x
        return x / 100 if m.group(3) else x
    stripped = text.strip()
    if stripped.startswith("(") and stripped.endswith(")") and "-" not in stripped:  # accounting negative
        inner = number_from_text(stripped[1:-1])
        return None if inner is None else -inner
    read = read_datetime(stripped)
    if read is None:
        return None
    day, time = read
    return (day or 0) + (time or 0.0)


def to_number(v: Any) -> float:
    """A scalar as a number (blank 0, TRUE 1, number text its number); raises #VALUE! otherwise."""
    if v.__class__ is float:
        return v  # type: ignore[no-any-return]
    if isinstance(v, XlError):
        raise ExcelError(v)
    if v is None:
        return 0.0
    if isinstance(v, bool | int):
        return float(v)
    if isinstance(v, str):
        x = number_from_text(v)
        if x is None:
            raise ExcelError(VALUE)
        return x
    if isinstance(v, float):
        return float(v)
    if isinstance(v, Ref | Grid):
        return to_number(scalar(v))
    raise ExcelError(VALUE)


def to_int(v: Any) -> int:
    """A scalar as a whole number, truncated toward zero (Excel's rule for counts and indexes)."""
    x = to_number(v)
    if not math.isfinite(x):
        raise ExcelError(NUM)
    return int(x)


def general_text(x: float) -> str:
    """A number as Excel's General format writes it into text (``=A1&""``): up to 15
    significant digits, no trailing zeros, scientific beyond 1e15 or below 1e-9."""
    if x == 0:
        return "0"
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    text = f"{x:.15G}"
    if "E" in text:
        mantissa, exp = text.split("E")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        n = int(exp)
        if -10 < n < 0:  # Excel writes 0.00001, not 1E-05
            text = f"{x:.{15 - n - 1}f}".rstrip("0").rstrip(".")
            return text
        return f"{mantissa}E{'+' if n >= 0 else '-'}{abs(n):02d}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def to_text(v: Any) -> str:
    """A scalar as text (numbers in General format, TRUE/FALSE, blank ""); errors raise."""
    if isinstance(v, str):
        return v
    if isinstance(v, XlError):
        raise ExcelError(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float):
        return general_text(float(v))
    if isinstance(v, Ref | Grid):
        return to_text(scalar(v))
    raise ExcelError(VALUE)


def to_bool(v: Any) -> bool:
    """A scalar as a logical (numbers: non-zero; text TRUE/FALSE only); errors raise."""
    if isinstance(v, bool):
        return v
    if isinstance(v, XlError):
        raise ExcelError(v)
    if v is None:
        return False
    if isinstance(v, int | float):
        return v != 0
    if isinstance(v, str):
        up = v.strip().upper()
        if up in ("TRUE", "FALSE"):
            return up == "TRUE"
        raise ExcelError(VALUE)
    if isinstance(v, Ref | Grid):
        return to_bool(scalar(v))
    raise ExcelError(VALUE)


def _rank(v: Any) -> int:
    if isinstance(v, bool):
        return 2
    if isinstance(v, str):
        return 1
    return 0


def compare(a: Any, b: Any) -> int:
    """Excel's ordering of two scalars for ``= < >`` and sorting: -1, 0 or 1.

    A blank takes the kind of the other side (0, "" or FALSE); numbers < text < logicals;
    text compares without regard to case. Errors raise.
    """
    if isinstance(a, XlError):
        raise ExcelError(a)
    if isinstance(b, XlError):
        raise ExcelError(b)
    if a is None:
        a = "" if isinstance(b, str) else False if isinstance(b, bool) else 0.0
    if b is None:
        b = "" if isinstance(a, str) else False if isinstance(a, bool) else 0.0
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 1:
        a, b = a.lower(), b.lower()
    return -1 if a < b else 1 if a > b else 0


def numbers(args: Sequence[Any], *, text_in_ranges: bool = False) -> Iterator[float]:
    """The numbers SUM, AVERAGE, MIN, MAX... aggregate, by Excel's rule.

    A value typed as an argument is converted (``SUM("2", TRUE)`` is 3; ``SUM("x")`` is
    #VALUE!); in a reference or array only numbers count (text, logicals and blanks are
    skipped, or text and logicals are 0 and 1 with ``text_in_ranges``, as the ...A functions
    do). An error anywhere raises it.
    """
    for arg in args:
        if isinstance(arg, Ref | Grid):
            for v in (arg.values() if isinstance(arg, Ref) else arg.flat()):
                if v.__class__ is float:
                    yield v
                elif isinstance(v, XlError):
                    raise ExcelError(v)
                elif text_in_ranges and isinstance(v, bool):
                    yield 1.0 if v else 0.0
                elif text_in_ranges and isinstance(v, str):
                    yield 0.0
                elif isinstance(v, int | float) and not isinstance(v, bool):
                    yield float(v)
        elif arg is not None or text_in_ranges:
            yield to_number(arg)


# ----------------------------------------------------------------------------- element by element
def _broadcast(args: Sequence[Any]) -> tuple[int, int] | None:
    """The result shape when any argument is an array or a reference of several cells, else None."""
    shapes = [a.shape for a in args if isinstance(a, Grid | Ref) and a.shape != (1, 1)]
    if not shapes:
        return None
    return max(s[0] for s in shapes), max(s[1] for s in shapes)


def _pick(a: Grid, i: int, j: int) -> Any:
    rows, cols = a.shape
    if (rows > 1 and i >= rows) or (cols > 1 and j >= cols):
        return NA
    return a.at(i, j)


def elementwise(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Lift a function of scalars to arrays, as Excel does in array formulas.

    With an array or multi-cell reference among the arguments, ``fn`` is applied to each
    position (a 1-row or 1-column argument repeats; outside a smaller one the value is #N/A)
    and the result is a :class:`Grid`. Scalar arguments (one-cell references too) reach ``fn``
    as values. An :class:`ExcelError` raised for one element becomes that element's value.
    """

    def lifted(*args: Any) -> Any:
        shape = _broadcast(args)
        if shape is None:
            return fn(*(scalar(a) if isinstance(a, Ref | Grid) else a for a in args))
        grids = [as_grid(a) if isinstance(a, Ref | Grid) else None for a in args]
        rows = []
        for i in range(shape[0]):
            row = []
            for j in range(shape[1]):
                try:
                    row.append(fn(*(a if g is None else _pick(g, i, j) for a, g in zip(args, grids, strict=True))))
                except ExcelError as exc:
                    row.append(exc.error)
            rows.append(row)
        return Grid(rows)

    lifted.__name__ = getattr(fn, "__name__", "lifted")
    lifted.__doc__ = fn.__doc__
    lifted.__wrapped__ = fn  # type: ignore[attr-defined]
    lifted.scalar_parameters = True  # type: ignore[attr-defined]  # a plain formula intersects its ranges
    return lifted


def scalar_only(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a function of scalars that Excel does not lift over arrays (the Analysis ToolPak ones:
    EDATE, YEARFRAC, MROUND, ISODD, HEX2BIN...).

    An array or multi-cell reference among the arguments makes the whole result #VALUE!, even
    in an array formula; one-cell references and 1x1 arrays reach ``fn`` as values. In a plain
    formula the compiler first cuts each range argument to one cell by implicit intersection
    (the ``scalar_parameters`` attribute, as for :func:`elementwise`).
    """

    def checked(*args: Any) -> Any:
        if any(isinstance(a, Ref | Grid) and a.shape != (1, 1) for a in args):
            return VALUE
        return fn(*(scalar(a) if isinstance(a, Ref | Grid) else a for a in args))

    checked.__name__ = getattr(fn, "__name__", "checked")
    checked.__doc__ = fn.__doc__
    checked.__wrapped__ = fn  # type: ignore[attr-defined]
    checked.scalar_parameters = True  # type: ignore[attr-defined]  # a plain formula intersects its ranges
    return checked
