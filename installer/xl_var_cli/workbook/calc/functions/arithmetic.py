"""Rounding, arithmetic and trigonometric worksheet functions.

Each function takes scalars and is lifted to arrays with :func:`elementwise`. Results follow
Microsoft's function reference (support.microsoft.com, "<NAME> function"): rounding is done on
the number as Excel displays it (15 significant digits), half away from zero; out-of-domain
arguments give #NUM!, division by zero #DIV/0!.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from typing import Any

from ..operands import (
    DIV0,
    NUM,
    VALUE,
    ExcelError,
    Grid,
    Ref,
    XlError,
    as_grid,
    elementwise,
    number_from_text,
    scalar_only,
    to_int,
    to_number,
    to_text,
)

__all__ = ["FUNCTIONS", "power"]

_TRIG_LIMIT = 134217728.0  # 2**27: Excel's SIN/COS/TAN give #NUM! at and beyond it


def _finite(x: float) -> float:
    """``x``, or #NUM! when the computation overflowed."""
    if math.isfinite(x):
        return x
    raise ExcelError(NUM)


def _big(n: int) -> float:
    """A whole number as a float, #NUM! when beyond the double range."""
    try:
        return float(n)
    except OverflowError:
        raise ExcelError(NUM) from None


def _atp_number(v: Any) -> float:
    """An argument of the Analysis ToolPak functions (MROUND, QUOTIENT, SQRTPI): as
    :func:`to_number`, but a logical is #VALUE! (Excel's results)."""
    if isinstance(v, bool):
        raise ExcelError(VALUE)
    return to_number(v)


def _decimal(x: float) -> Decimal:
    """``x`` as Excel displays it: 15 significant digits."""
    return Decimal(f"{x:.15g}")


def _round_to(x: float, digits: int, mode: str) -> float:
    """``x`` rounded to ``digits`` decimals (negative: to the left of the point) in a decimal ``mode``."""
    if x == 0.0 or not math.isfinite(x):
        return _finite(x) + 0.0
    if digits > 15 - math.floor(math.log10(abs(x))):
        return x  # already as precise as Excel shows it
    try:
        d = _decimal(x).scaleb(digits).quantize(Decimal(1), rounding=mode).scaleb(-digits)
    except InvalidOperation:
        return x
    return _finite(float(d)) + 0.0


def _whole(x: float, mode: str) -> float:
    """``x`` as a whole number in a decimal rounding ``mode``, after cutting it to 15 digits."""
    return _round_to(x, 0, mode)


# ----------------------------------------------------------------------------- rounding
@elementwise
def _round(number: Any, digits: Any = 0.0) -> float:
    """ROUND(number, num_digits): half away from zero (Microsoft, "ROUND function")."""
    return _round_to(to_number(number), to_int(digits), ROUND_HALF_UP)


@elementwise
def _roundup(number: Any, digits: Any = 0.0) -> float:
    """ROUNDUP(number, num_digits): away from zero (Microsoft, "ROUNDUP function")."""
    return _round_to(to_number(number), to_int(digits), ROUND_UP)


@elementwise
def _rounddown(number: Any, digits: Any = 0.0) -> float:
    """ROUNDDOWN(number, num_digits) and TRUNC: toward zero (Microsoft, "ROUNDDOWN function")."""
    return _round_to(to_number(number), to_int(digits), ROUND_DOWN)


@elementwise
def _int(number: Any) -> float:
    """INT(number): the largest whole number not above it (Microsoft, "INT function")."""
    return float(math.floor(to_number(number)))


@scalar_only
def _mround(number: Any, multiple: Any) -> float:
    """MROUND(number, multiple) = multiple * ROUND(number / multiple); signs must agree
    (Microsoft, "MROUND function")."""
    n, m = _atp_number(number), _atp_number(multiple)
    if m == 0.0 or n == 0.0:
        return 0.0
    if (n < 0) != (m < 0):
        raise ExcelError(NUM)
    return _finite(_whole(n / m, ROUND_HALF_UP) * m)


@elementwise
def _ceiling(number: Any, significance: Any) -> float:
    """CEILING(number, significance) = CEILING-rounded multiple; a positive number with a negative
    significance is #NUM! (Microsoft, "CEILING function")."""
    n, s = to_number(number), to_number(significance)
    if n == 0.0 or s == 0.0:
        return 0.0
    if n > 0 > s:
        raise ExcelError(NUM)
    return _finite(_whole(n / s, ROUND_CEILING) * s) + 0.0


@elementwise
def _floor(number: Any, significance: Any) -> float:
    """FLOOR(number, significance): #DIV/0! for a zero significance, #NUM! for a positive number
    with a negative one (Microsoft, "FLOOR function")."""
    n, s = to_number(number), to_number(significance)
    if n == 0.0:
        return 0.0
    if s == 0.0:
        raise ExcelError(DIV0)
    if n > 0 > s:
        raise ExcelError(NUM)
    return _finite(_whole(n / s, ROUND_FLOOR) * s) + 0.0


@elementwise
def _ceiling_math(number: Any, significance: Any = None, mode: Any = None) -> float:
    """CEILING.MATH(number, [significance], [mode]): up; a negative number goes away from zero
    when mode is non-zero (Microsoft, "CEILING.MATH function")."""
    n = to_number(number)
    s = 1.0 if significance is None else abs(to_number(significance))
    away = mode is not None and to_number(mode) != 0.0
    if s == 0.0 or n == 0.0:
        return 0.0
    rule = ROUND_FLOOR if n < 0 and away else ROUND_CEILING
    return _finite(_whole(n / s, rule) * s) + 0.0


@elementwise
def _floor_math(number: Any, significance: Any = None, mode: Any = None) -> float:
    """FLOOR.MATH(number, [significance], [mode]): down; a negative number goes toward zero when
    mode is non-zero (Microsoft, "FLOOR.MATH function")."""
    n = to_number(number)
    s = 1.0 if significance is None else abs(to_number(significance))
    toward = mode is not None and to_number(mode) != 0.0
    if s == 0.0 or n == 0.0:
        return 0.0
    rule = ROUND_CEILING if n < 0 and toward else ROUND_FLOOR
    return _finite(_whole(n / s, rule) * s) + 0.0


@elementwise
def _even(number: Any) -> float:
    """EVEN(number): away from zero to the nearest even integer (Microsoft, "EVEN function")."""
    n = to_number(number)
    r = 2.0 * math.ceil(abs(n) / 2.0)
    return -r if n < 0 else r


@elementwise
def _odd(number: Any) -> float:
    """ODD(number): away from zero to the nearest odd integer (Microsoft, "ODD function")."""
    n = to_number(number)
    r = math.ceil(abs(n))
    r = float(r if r % 2 == 1 else r + 1)
    return -r if n < 0 else r


# ----------------------------------------------------------------------------- arithmetic
@elementwise
def _abs(number: Any) -> float:
    """ABS(number) (Microsoft, "ABS function")."""
    return abs(to_number(number))


@elementwise
def _sign(number: Any) -> float:
    """SIGN(number): 1, 0 or -1 (Microsoft, "SIGN function")."""
    n = to_number(number)
    return 1.0 if n > 0 else -1.0 if n < 0 else 0.0


@elementwise
def _mod(number: Any, divisor: Any) -> float:
    """MOD(n, d) = n - d*INT(n/d); #DIV/0! for d = 0 (Microsoft, "MOD function")."""
    n, d = to_number(number), to_number(divisor)
    if d == 0.0:
        raise ExcelError(DIV0)
    return _finite(n - d * math.floor(n / d)) + 0.0


@scalar_only
def _quotient(numerator: Any, denominator: Any) -> float:
    """QUOTIENT(numerator, denominator): the integer part of the division (Microsoft, "QUOTIENT function")."""
    n, d = _atp_number(numerator), _atp_number(denominator)
    if d == 0.0:
        raise ExcelError(DIV0)
    return float(math.trunc(_finite(n / d)))


def power(a: float, b: float) -> float:
    """``a`` raised to ``b`` by Excel's rule (Microsoft, "POWER function", and the ``^`` operator):
    0^0 and 0^-n... are #NUM! and #DIV/0!, a negative base with a fractional exponent #NUM!."""
    if a == 0.0:
        if b == 0.0:
            raise ExcelError(NUM)
        if b < 0.0:
            raise ExcelError(DIV0)
        return 0.0
    if a < 0.0 and b != math.floor(b):
        raise ExcelError(NUM)
    try:
        return _finite(a ** b)
    except OverflowError:
        raise ExcelError(NUM) from None


@elementwise
def _power(number: Any, exponent: Any) -> float:
    """POWER(number, power) = number ^ power (Microsoft, "POWER function")."""
    return power(to_number(number), to_number(exponent))


@elementwise
def _sqrt(number: Any) -> float:
    """SQRT(number); #NUM! when negative (Microsoft, "SQRT function")."""
    n = to_number(number)
    if n < 0:
        raise ExcelError(NUM)
    return math.sqrt(n)


@scalar_only
def _sqrtpi(number: Any) -> float:
    """SQRTPI(number) = SQRT(number * PI()) (Microsoft, "SQRTPI function")."""
    n = _atp_number(number)
    if n < 0:
        raise ExcelError(NUM)
    return math.sqrt(n * math.pi)


@elementwise
def _exp(number: Any) -> float:
    """EXP(number) = e^number (Microsoft, "EXP function")."""
    try:
        return _finite(math.exp(to_number(number)))
    except OverflowError:
        raise ExcelError(NUM) from None


@elementwise
def _ln(number: Any) -> float:
    """LN(number); #NUM! unless positive (Microsoft, "LN function")."""
    n = to_number(number)
    if n <= 0:
        raise ExcelError(NUM)
    return math.log(n)


@elementwise
def _log(number: Any, base: Any = 10.0) -> float:
    """LOG(number, [base]) = LN(number)/LN(base), base 10 by default (Microsoft, "LOG function")."""
    n, b = to_number(number), 10.0 if base is None else to_number(base)
    if n <= 0 or b <= 0:
        raise ExcelError(NUM)
    if b == 1.0:
        raise ExcelError(DIV0)
    return math.log10(n) if b == 10.0 else math.log(n) / math.log(b)


@elementwise
def _log10(number: Any) -> float:
    """LOG10(number) (Microsoft, "LOG10 function")."""
    n = to_number(number)
    if n <= 0:
        raise ExcelError(NUM)
    return math.log10(n)


def _pi() -> float:
    """PI() = 3.14159265358979 (Microsoft, "PI function")."""
    return math.pi


@elementwise
def _fact(number: Any) -> float:
    """FACT(number) = 1*2*...*INT(number); #NUM! below 0 or past 170 (Microsoft, "FACT function")."""
    n = to_number(number)
    if n < 0 or n >= 171:
        raise ExcelError(NUM)
    return float(math.factorial(int(n)))


@elementwise
def _combin(number: Any, chosen: Any) -> float:
    """COMBIN(n, k) = n! / (k! (n-k)!), arguments truncated (Microsoft, "COMBIN function")."""
    n, k = to_int(number), to_int(chosen)
    if n < 0 or k < 0 or k > n:
        raise ExcelError(NUM)
    return _big(math.comb(n, k))


def _whole_numbers(args: tuple[Any, ...]) -> list[int]:
    """The arguments of GCD and LCM, truncated: every value must be a number (typed number text
    too); the first error, or #VALUE! for a blank, text or logical, comes before #NUM! for a
    value below 0 or from 2^53 (Excel's results)."""
    values = []
    for arg in args:
        for v in (as_grid(arg).flat() if isinstance(arg, Ref | Grid) else [arg]):
            if isinstance(v, XlError):
                raise ExcelError(v)
            if v.__class__ is not float and not (isinstance(arg, str) and number_from_text(arg) is not None):
                raise ExcelError(VALUE)
            values.append(to_number(v))
    if any(x < 0 or x >= 9007199254740992.0 for x in values):
        raise ExcelError(NUM)
    return [int(x) for x in values]


def _gcd(*args: Any) -> float:
    """GCD(number1, ...): the greatest common divisor (Microsoft, "GCD function")."""
    return float(math.gcd(*_whole_numbers(args)))


def _lcm(*args: Any) -> float:
    """LCM(number1, ...): the least common multiple; 0 when any is 0 (Microsoft, "LCM function")."""
    return _big(math.lcm(*_whole_numbers(args)))


# ----------------------------------------------------------------------------- trigonometry
def _unary(fn: Callable[[float], float], name: str, limit: float = math.inf) -> Callable[..., Any]:
    """A one-number function with #NUM! outside its domain or for |x| >= ``limit``."""

    def apply(number: Any) -> float:
        x = to_number(number)
        if abs(x) >= limit:
            raise ExcelError(NUM)
        try:
            return _finite(fn(x))
        except (ValueError, OverflowError):
            raise ExcelError(NUM) from None

    apply.__name__ = name.lower()
    apply.__doc__ = f"{name}(number) (Microsoft, \"{name} function\")."
    return elementwise(apply)


@elementwise
def _atan2(x_num: Any, y_num: Any) -> float:
    """ATAN2(x_num, y_num): the angle of the point (x, y); #DIV/0! at the origin (Microsoft, "ATAN2 function")."""
    x, y = to_number(x_num), to_number(y_num)
    if x == 0.0 and y == 0.0:
        raise ExcelError(DIV0)
    return math.atan2(y, x)


@elementwise
def _from_base(text: Any, radix: Any) -> float:
    """DECIMAL(text, radix): a number written in base 2-36 as decimal; a number argument is read as its
    digits, invalid digits or a radix outside 2-36 give #NUM! (Microsoft, "DECIMAL function")."""
    base = to_int(radix)
    digits = to_text(text).strip()
    if not 2 <= base <= 36 or len(digits) > 255:
        raise ExcelError(NUM)
    try:
        return float(int(digits, base)) if digits else 0.0
    except ValueError:
        raise ExcelError(NUM) from None


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "ABS": _abs, "SIGN": _sign, "INT": _int, "TRUNC": _rounddown, "ROUND": _round, "ROUNDUP": _roundup,
    "ROUNDDOWN": _rounddown, "MROUND": _mround, "CEILING": _ceiling, "CEILING.MATH": _ceiling_math,
    "FLOOR": _floor, "FLOOR.MATH": _floor_math, "EVEN": _even, "ODD": _odd, "MOD": _mod, "QUOTIENT": _quotient,
    "POWER": _power, "SQRT": _sqrt, "SQRTPI": _sqrtpi, "EXP": _exp, "LN": _ln, "LOG": _log, "LOG10": _log10,
    "PI": _pi, "FACT": _fact, "COMBIN": _combin, "GCD": _gcd, "LCM": _lcm,
    "RADIANS": _unary(math.radians, "RADIANS"), "DEGREES": _unary(math.degrees, "DEGREES"),
    "SIN": _unary(math.sin, "SIN", _TRIG_LIMIT), "COS": _unary(math.cos, "COS", _TRIG_LIMIT),
    "TAN": _unary(math.tan, "TAN", _TRIG_LIMIT), "ASIN": _unary(math.asin, "ASIN"),
    "ACOS": _unary(math.acos, "ACOS"), "ATAN": _unary(math.atan, "ATAN"), "ATAN2": _atan2,
    "SINH": _unary(math.sinh, "SINH"), "COSH": _unary(math.cosh, "COSH"), "TANH": _unary(math.tanh, "TANH"),
    "ASINH": _unary(math.asinh, "ASINH"), "ACOSH": _unary(math.acosh, "ACOSH"),
    "ATANH": _unary(math.atanh, "ATANH"), "DECIMAL": _from_base,
}
