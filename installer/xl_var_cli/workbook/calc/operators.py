"""Excel's operators on the engine's values (:mod:`~xl_var_cli.workbook.calc.operands`).

Arithmetic converts its operands to numbers (text that reads as a number counts, a blank is 0,
TRUE is 1) and gives ``#VALUE!`` otherwise; ``&`` joins their text; comparisons order numbers
< text < logicals and ignore the case of text; an error operand is the result. An array or a
reference of several cells makes the operation element by element (Microsoft, "Calculation
operators and precedence in Excel"; "Guidelines and examples of array formulas").
A result that is no finite number is ``#NUM!`` (``#DIV/0!`` for a division by zero).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from xl_var_cli.workbook.calc.functions.arithmetic import power
from xl_var_cli.workbook.calc.operands import (
    DIV0,
    NA,
    NULL,
    NUM,
    VALUE,
    ExcelError,
    Grid,
    Ref,
    XlError,
    as_grid,
    compare,
    scalar,
    to_number,
    to_text,
)

__all__ = ["BINARY", "intersect", "negate", "percent", "span"]


def _finite(x: float) -> Any:
    return x if math.isfinite(x) else NUM


def _power(a: float, b: float) -> Any:
    """``a^b``: :func:`~xl_var_cli.workbook.calc.functions.arithmetic.power`, its error as the value."""
    try:
        return power(a, b)
    except ExcelError as exc:
        return exc.error


def _divide(a: float, b: float) -> Any:
    return DIV0 if b == 0 else _finite(a / b)


_ARITHMETIC: dict[str, Callable[[float, float], Any]] = {
    "+": lambda a, b: _finite(a + b), "-": lambda a, b: _finite(a - b), "*": lambda a, b: _finite(a * b),
    "/": _divide, "^": _power,
}
_COMPARISONS: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0, "<>": lambda c: c != 0, "<": lambda c: c < 0, ">": lambda c: c > 0,
    "<=": lambda c: c <= 0, ">=": lambda c: c >= 0,
}
_FLOAT_COMPARE = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, ">": operator.gt,
                  "<=": operator.le, ">=": operator.ge}


def _scalar_op(symbol: str) -> Callable[[Any, Any], Any]:
    if symbol in _ARITHMETIC:
        fn = _ARITHMETIC[symbol]

        def arithmetic(a: Any, b: Any) -> Any:
            if isinstance(a, XlError):
                return a
            if isinstance(b, XlError):
                return b
            try:
                return fn(to_number(a), to_number(b))
            except ExcelError as exc:
                return exc.error

        return arithmetic
    if symbol == "&":

        def join(a: Any, b: Any) -> Any:
            try:
                return to_text(a) + to_text(b)
            except ExcelError as exc:
                return exc.error

        return join
    test = _COMPARISONS[symbol]

    def comparison(a: Any, b: Any) -> Any:
        try:
            return test(compare(a, b))
        except ExcelError as exc:
            return exc.error

    return comparison


def _lift(op: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """``op`` element by element over arrays/multi-cell references (broadcast as Excel: a single
    row or column repeats; outside the smaller array the value is #N/A)."""
    big_a = isinstance(a, Grid | Ref) and a.shape != (1, 1)
    big_b = isinstance(b, Grid | Ref) and b.shape != (1, 1)
    if not (big_a or big_b):
        return op(scalar(a), scalar(b))
    ga, gb = as_grid(a), as_grid(b)
    (ra, ca), (rb, cb) = ga.shape, gb.shape
    rows, cols = max(ra, rb), max(ca, cb)
    def pick(g: Grid, r: int, c: int, i: int, j: int) -> Any:
        if (r > 1 and i >= r) or (c > 1 and j >= c):
            return NA
        return g.at(i, j)

    return Grid([[op(pick(ga, ra, ca, i, j), pick(gb, rb, cb, i, j)) for j in range(cols)] for i in range(rows)])


def _binary(symbol: str) -> Callable[[Any, Any], Any]:
    op = _scalar_op(symbol)
    on_floats = _ARITHMETIC.get(symbol) or _FLOAT_COMPARE.get(symbol)
    if on_floats is None:
        return lambda a, b: _lift(op, a, b)

    def binary(a: Any, b: Any) -> Any:
        if a.__class__ is float and b.__class__ is float:  # the common case, without conversions
            return on_floats(a, b)  # type: ignore[misc]
        return _lift(op, a, b)

    return binary


BINARY: dict[str, Callable[[Any, Any], Any]] = {s: _binary(s) for s in (*_ARITHMETIC, *_COMPARISONS, "&")}
"""Excel's binary operators by symbol: (left, right) -> value."""


def _neg(x: Any) -> Any:
    if isinstance(x, XlError):
        return x
    try:
        return -to_number(x)
    except ExcelError as exc:
        return exc.error


def _pct(x: Any) -> Any:
    if isinstance(x, XlError):
        return x
    try:
        return to_number(x) / 100.0
    except ExcelError as exc:
        return exc.error


def negate(x: Any) -> Any:
    """Unary minus (element by element on arrays)."""
    if x.__class__ is float:
        return -x
    return _lift(lambda a, _: _neg(a), x, 0.0)


def percent(x: Any) -> Any:
    """The postfix ``%``: x / 100."""
    return _lift(lambda a, _: _pct(a), x, 0.0)


def _two_refs(a: Any, b: Any) -> XlError | None:
    """Why a reference operator cannot combine ``a`` and ``b`` (an operand's error, or #VALUE! unless
    both are references on one sheet); None when it can."""
    for x in (a, b):
        if isinstance(x, XlError):
            return x
    if not (isinstance(a, Ref) and isinstance(b, Ref)) or a.sheet != b.sheet:
        return VALUE
    return None


def span(a: Any, b: Any) -> Any:
    """The range operator ``:``: the smallest rectangle holding both references (same sheet)."""
    error = _two_refs(a, b)
    if error is not None:
        return error
    return Ref(a.book, a.sheet, min(a.r1, b.r1), min(a.c1, b.c1), max(a.r2, b.r2), max(a.c2, b.c2))


def intersect(a: Any, b: Any) -> Any:
    """The intersection operator (a space): the cells both references hold, or ``#NULL!``."""
    error = _two_refs(a, b)
    if error is not None:
        return error
    r1, c1, r2, c2 = max(a.r1, b.r1), max(a.c1, b.c1), min(a.r2, b.r2), min(a.c2, b.c2)
    if r1 > r2 or c1 > c2:
        return NULL
    return Ref(a.book, a.sheet, r1, c1, r2, c2)
