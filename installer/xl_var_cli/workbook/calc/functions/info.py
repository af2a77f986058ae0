"""IS* information functions, ERROR.TYPE, NA and the logical functions that evaluate all their arguments.

The IS* functions receive error values as values and inspect them (they never propagate an
error, except ISEVEN and ISODD, which need a number). AND, OR and XOR aggregate like SUM: in
a reference or array only logicals and numbers count. The lazy ones (IF, IFERROR, IFS...) are
the engine's. Reference: Microsoft, "IS functions", "AND function", "OR function", "XOR
function", "NOT function", "ERROR.TYPE function", "NA function".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from ..operands import NA, VALUE, ExcelError, Grid, Ref, XlError, elementwise, scalar_only, to_bool, to_number

__all__ = ["FUNCTIONS"]

_ERROR_TYPES = {
    "#NULL!": 1.0, "#DIV/0!": 2.0, "#VALUE!": 3.0, "#REF!": 4.0, "#NAME?": 5.0, "#NUM!": 6.0, "#N/A": 7.0,
    "#GETTING_DATA": 8.0, "#SPILL!": 9.0, "#CONNECT!": 10.0, "#BLOCKED!": 11.0, "#UNKNOWN!": 12.0,
    "#FIELD!": 13.0, "#CALC!": 14.0,
}


@elementwise
def _isnumber(value: Any) -> bool:
    """ISNUMBER(value): TRUE for a number, not for number text (Microsoft, "IS functions")."""
    return value.__class__ is float or (isinstance(value, int) and not isinstance(value, bool))


@elementwise
def _istext(value: Any) -> bool:
    """ISTEXT(value) (Microsoft, "IS functions")."""
    return isinstance(value, str)


@elementwise
def _isnontext(value: Any) -> bool:
    """ISNONTEXT(value): TRUE for anything but text, blanks included (Microsoft, "IS functions")."""
    return not isinstance(value, str)


@elementwise
def _isblank(value: Any) -> bool:
    """ISBLANK(value): TRUE only for an empty cell, not for "" (Microsoft, "IS functions")."""
    return value is None


@elementwise
def _iserror(value: Any) -> bool:
    """ISERROR(value): TRUE for any error value (Microsoft, "IS functions")."""
    return isinstance(value, XlError)


@elementwise
def _iserr(value: Any) -> bool:
    """ISERR(value): TRUE for any error value but #N/A (Microsoft, "IS functions")."""
    return isinstance(value, XlError) and value is not NA


@elementwise
def _isna(value: Any) -> bool:
    """ISNA(value): TRUE for #N/A only (Microsoft, "IS functions")."""
    return value is NA


@elementwise
def _islogical(value: Any) -> bool:
    """ISLOGICAL(value) (Microsoft, "IS functions")."""
    return isinstance(value, bool)


def _integer_part(value: Any) -> int:
    """The number ISEVEN and ISODD test, truncated; #VALUE! for logicals and other text."""
    if isinstance(value, bool):
        raise ExcelError(VALUE)
    x = to_number(value)
    if not math.isfinite(x):
        raise ExcelError(VALUE)
    return int(x)


@scalar_only
def _iseven(value: Any) -> bool:
    """ISEVEN(number): TRUE when INT-truncated number is even (Microsoft, "ISEVEN function")."""
    return _integer_part(value) % 2 == 0


@scalar_only
def _isodd(value: Any) -> bool:
    """ISODD(number): TRUE when the truncated number is odd (Microsoft, "ISODD function")."""
    return _integer_part(value) % 2 == 1


def _isref(value: Any) -> bool:
    """ISREF(value): TRUE for a reference (Microsoft, "IS functions")."""
    return isinstance(value, Ref)


def _na() -> XlError:
    """NA() = #N/A (Microsoft, "NA function")."""
    return NA


@elementwise
def _error_type(value: Any) -> Any:
    """ERROR.TYPE(error_val): 1 for #NULL! ... 7 for #N/A; #N/A when not an error
    (Microsoft, "ERROR.TYPE function")."""
    if isinstance(value, XlError):
        return _ERROR_TYPES.get(value.code, NA)
    return NA


# ----------------------------------------------------------------------------- logical
def _logicals(args: tuple[Any, ...]) -> Iterator[bool]:
    """The logical values AND, OR and XOR combine: in references and arrays logicals and numbers
    (text and blanks ignored), typed arguments converted, except typed text other than TRUE and
    FALSE, which Excel ignores too; errors raise."""
    for arg in args:
        if isinstance(arg, Ref | Grid):
            for v in (arg.values() if isinstance(arg, Ref) else arg.flat()):
                if isinstance(v, bool):
                    yield v
                elif v.__class__ is float:
                    yield v != 0.0
                elif isinstance(v, XlError):
                    raise ExcelError(v)
        elif isinstance(arg, str):
            if arg.strip().upper() in ("TRUE", "FALSE"):
                yield arg.strip().upper() == "TRUE"
        elif arg is not None:
            yield to_bool(arg)


def _and(*args: Any) -> bool:
    """AND(logical1, ...): TRUE when all are TRUE; #VALUE! when none is logical (Microsoft, "AND function")."""
    seen = False
    result = True
    for b in _logicals(args):
        seen = True
        result = result and b
    if not seen:
        raise ExcelError(VALUE)
    return result


def _or(*args: Any) -> bool:
    """OR(logical1, ...): TRUE when any is TRUE; #VALUE! when none is logical (Microsoft, "OR function")."""
    seen = False
    result = False
    for b in _logicals(args):
        seen = True
        result = result or b
    if not seen:
        raise ExcelError(VALUE)
    return result


def _xor(*args: Any) -> bool:
    """XOR(logical1, ...): TRUE when an odd number are TRUE (Microsoft, "XOR function")."""
    seen = False
    result = False
    for b in _logicals(args):
        seen = True
        result ^= b
    if not seen:
        raise ExcelError(VALUE)
    return result


@elementwise
def _not(logical: Any) -> bool:
    """NOT(logical) (Microsoft, "NOT function")."""
    return not to_bool(logical)


def _true() -> bool:
    """TRUE() (Microsoft, "TRUE function")."""
    return True


def _false() -> bool:
    """FALSE() (Microsoft, "FALSE function")."""
    return False


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "ISNUMBER": _isnumber, "ISTEXT": _istext, "ISNONTEXT": _isnontext, "ISBLANK": _isblank, "ISERROR": _iserror,
    "ISERR": _iserr, "ISNA": _isna, "ISLOGICAL": _islogical, "ISEVEN": _iseven, "ISODD": _isodd, "ISREF": _isref,
    "NA": _na, "ERROR.TYPE": _error_type, "AND": _and, "OR": _or, "XOR": _xor, "NOT": _not, "TRUE": _true,
    "FALSE": _false,
}
