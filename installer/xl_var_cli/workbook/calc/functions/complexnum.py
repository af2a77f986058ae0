"""Excel's complex-number functions whose result is a complex number: IMSUM, IMPRODUCT, IMSIN...

A complex number is text ``x+yi`` or ``x+yj`` (Microsoft, "COMPLEX function"): ``3+4i``, ``-2.5j``,
``i``, ``1E-3-j``; a number is a real one and a blank 0; logical values give #VALUE! and text that
is no complex number #NUM!, as in the other Analysis ToolPak functions, which also refuse ranges
(:func:`~xl_var_cli.workbook.calc.operands.scalar_only`). The result is written back as text with
each part to 15 significant digits, fixed down to 1E-5 and scientific below, a unit coefficient
left out (``1-j``), and the suffix of the arguments (``i`` when none has one; mixing ``i`` and ``j``
is #VALUE!, #NUM! in IMDIV and IMSUB). Formulas: Microsoft, "IMCOS function", "IMPOWER function"...,
one page per function.
"""

from __future__ import annotations

import cmath
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from ..operands import NUM, VALUE, ExcelError, Grid, Ref, XlError, scalar_only, to_number

__all__ = ["FUNCTIONS"]

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_SPLIT = re.compile(r"(?<=[^eE+-])[+-]")  # the sign that starts the imaginary part


def _real_text(text: str) -> float:
    if not _NUMBER.fullmatch(text):
        raise ExcelError(NUM)
    return float(text)


def parse(v: Any) -> tuple[complex, str | None]:
    """A complex argument and its suffix (None for a number or a text without imaginary part)."""
    if isinstance(v, XlError):
        raise ExcelError(v)
    if isinstance(v, bool):
        raise ExcelError(VALUE)
    if v is None:
        return 0j, None
    if isinstance(v, float):
        return complex(v, 0.0), None
    text = str(v)
    if not text or text[-1] not in "ij":
        return complex(_real_text(text), 0.0), None
    body, suffix = text[:-1], text[-1]
    cut = [m.start() for m in _SPLIT.finditer(body)]
    real, imag = (body[:cut[-1]], body[cut[-1]:]) if cut else ("", body)
    y = 1.0 if imag in ("", "+") else -1.0 if imag == "-" else _real_text(imag)
    return complex(_real_text(real) if real else 0.0, y), suffix


def _part(x: float) -> str:
    """One part to 15 significant digits: fixed from 1E-5 up to 1E15, scientific outside."""
    text = f"{x:.15G}"
    if "E" in text:
        mantissa, exponent = text.split("E")
        n = int(exponent)
        if n == -5:
            return f"{x:.19f}".rstrip("0").rstrip(".")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}E{'+' if n >= 0 else '-'}{abs(n):02d}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def write(z: complex, suffix: str | None) -> str:
    """``z`` as Excel writes a complex number (see the module)."""
    if not (math.isfinite(z.real) and math.isfinite(z.imag)):
        raise ExcelError(NUM)
    x, y = z.real + 0.0, z.imag + 0.0  # no negative zero
    if y == 0.0:
        return _part(x)
    unit = suffix or "i"
    coefficient = "" if y == 1.0 else "-" if y == -1.0 else _part(y)
    if x == 0.0:
        return coefficient + unit
    return _part(x) + ("+" if y > 0 else "") + coefficient + unit


def _suffix(*suffixes: str | None, mixed: XlError = VALUE) -> str | None:
    """The suffix of the result; ``mixed`` when the arguments use both (IMSUM #VALUE!, IMSUB #NUM!)."""
    given = {s for s in suffixes if s}
    if len(given) > 1:
        raise ExcelError(mixed)
    return given.pop() if given else None


def _unary(fn: Callable[[complex], complex], doc: str) -> Callable[..., Any]:
    @scalar_only
    def apply(inumber: Any) -> str:
        z, suffix = parse(inumber)
        try:
            return write(fn(z), suffix)
        except (ValueError, ZeroDivisionError, OverflowError):
            raise ExcelError(NUM) from None

    apply.__doc__ = doc
    return apply


def _sec(z: complex) -> complex:
    """sec(z) = 2 (cos x cosh y + sin x sinh y i) / (cos 2x + cosh 2y)."""
    x, y = z.real, z.imag
    d = math.cos(2 * x) + math.cosh(2 * y)
    return complex(2 * math.cos(x) * math.cosh(y) / d, 2 * math.sin(x) * math.sinh(y) / d)


def _csc(z: complex) -> complex:
    """csc(z) = 2 (sin x cosh y - cos x sinh y i) / (cosh 2y - cos 2x)."""
    x, y = z.real, z.imag
    d = math.cosh(2 * y) - math.cos(2 * x)
    return complex(2 * math.sin(x) * math.cosh(y) / d, -2 * math.cos(x) * math.sinh(y) / d)


def _sech(z: complex) -> complex:
    """sech(z) = 2 (cosh x cos y - sinh x sin y i) / (cosh 2x + cos 2y)."""
    x, y = z.real, z.imag
    d = math.cosh(2 * x) + math.cos(2 * y)
    return complex(2 * math.cosh(x) * math.cos(y) / d, -2 * math.sinh(x) * math.sin(y) / d)


def _csch(z: complex) -> complex:
    """csch(z) = 2 (sinh x cos y - cosh x sin y i) / (cosh 2x - cos 2y)."""
    x, y = z.real, z.imag
    d = math.cosh(2 * x) - math.cos(2 * y)
    return complex(2 * math.sinh(x) * math.cos(y) / d, -2 * math.cosh(x) * math.sin(y) / d)


def _tan(z: complex) -> complex:
    """tan(z) = (sin 2x + sinh 2y i) / (cos 2x + cosh 2y)."""
    d = math.cos(2 * z.real) + math.cosh(2 * z.imag)
    return complex(math.sin(2 * z.real) / d, math.sinh(2 * z.imag) / d)


def _cot(z: complex) -> complex:
    """cot(z) = (sin 2x - sinh 2y i) / (cosh 2y - cos 2x)."""
    d = math.cosh(2 * z.imag) - math.cos(2 * z.real)
    return complex(math.sin(2 * z.real) / d, -math.sinh(2 * z.imag) / d)


def _ln(z: complex) -> complex:
    if z == 0:
        raise ValueError("log of 0")
    return complex(math.log(abs(z)), math.atan2(z.imag, z.real))


@scalar_only
def _impower(inumber: Any, number: Any) -> str:
    """IMPOWER(inumber, n) = r^n (cos(n t) + i sin(n t)) for inumber = r (cos t + i sin t)
    (Microsoft, "IMPOWER function"); 0 to a power <= 0 is #NUM!."""
    z, suffix = parse(inumber)
    if isinstance(number, bool):
        raise ExcelError(VALUE)
    n = to_number(number)
    r, t = abs(z), math.atan2(z.imag, z.real)
    if r == 0.0:
        if n <= 0:
            raise ExcelError(NUM)
        return "0"
    try:
        rn = r**n
    except OverflowError:
        raise ExcelError(NUM) from None
    return write(complex(rn * math.cos(n * t), rn * math.sin(n * t)), suffix)


@scalar_only
def _imdiv(inumber1: Any, inumber2: Any) -> str:
    """IMDIV(inumber1, inumber2) = inumber1 / inumber2; #NUM! for a zero divisor (Microsoft,
    "IMDIV function")."""
    (a, s1), (b, s2) = parse(inumber1), parse(inumber2)
    suffix = _suffix(s1, s2, mixed=NUM)
    if b == 0:
        raise ExcelError(NUM)
    return write(a / b, suffix)


@scalar_only
def _imsub(inumber1: Any, inumber2: Any) -> str:
    """IMSUB(inumber1, inumber2) = inumber1 - inumber2 (Microsoft, "IMSUB function")."""
    (a, s1), (b, s2) = parse(inumber1), parse(inumber2)
    return write(a - b, _suffix(s1, s2, mixed=NUM))


def _values(args: tuple[Any, ...]) -> Iterator[Any]:
    for arg in args:
        if isinstance(arg, Ref):
            yield from arg.values()
        elif isinstance(arg, Grid):
            yield from arg.flat()
        else:
            yield arg


def _fold(args: tuple[Any, ...], start: complex, step: Callable[[complex, complex], complex]) -> str:
    """The values of ranges, arrays and single arguments combined left to right."""
    total, suffixes = start, []
    for v in _values(args):
        z, suffix = parse(v)
        suffixes.append(suffix)
        _suffix(*suffixes)
        total = step(total, z)
    return write(total, _suffix(*suffixes))


def _imsum(*inumbers: Any) -> str:
    """IMSUM(inumber1, ...): the sum; ranges and arrays add every value (Microsoft, "IMSUM function")."""
    return _fold(inumbers, 0j, lambda a, b: a + b)


def _improduct(*inumbers: Any) -> str:
    """IMPRODUCT(inumber1, ...): the product; ranges and arrays multiply every value (Microsoft,
    "IMPRODUCT function")."""
    return _fold(inumbers, 1 + 0j, lambda a, b: a * b)


_LOG2, _LOG10 = math.log(2.0), math.log(10.0)

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "IMCONJUGATE": _unary(lambda z: z.conjugate(), "IMCONJUGATE(inumber) = x - yi."),
    "IMCOS": _unary(cmath.cos, "IMCOS(inumber) = cos(x) cosh(y) - sin(x) sinh(y) i."),
    "IMCOSH": _unary(cmath.cosh, "IMCOSH(inumber) = cosh(x) cos(y) + sinh(x) sin(y) i."),
    "IMSIN": _unary(cmath.sin, "IMSIN(inumber) = sin(x) cosh(y) + cos(x) sinh(y) i."),
    "IMSINH": _unary(cmath.sinh, "IMSINH(inumber) = sinh(x) cos(y) + cosh(x) sin(y) i."),
    "IMTAN": _unary(_tan, "IMTAN(inumber) = (sin 2x + sinh 2y i) / (cos 2x + cosh 2y)."),
    "IMCOT": _unary(_cot, "IMCOT(inumber) = (sin 2x - sinh 2y i) / (cosh 2y - cos 2x)."),
    "IMSEC": _unary(_sec, "IMSEC(inumber) = 1 / cos(z)."),
    "IMCSC": _unary(_csc, "IMCSC(inumber) = 1 / sin(z)."),
    "IMSECH": _unary(_sech, "IMSECH(inumber) = 1 / cosh(z)."),
    "IMCSCH": _unary(_csch, "IMCSCH(inumber) = 1 / sinh(z)."),
    "IMEXP": _unary(cmath.exp, "IMEXP(inumber) = e^x (cos(y) + sin(y) i)."),
    "IMLN": _unary(_ln, "IMLN(inumber) = ln(|z|) + arg(z) i; #NUM! for 0."),
    "IMLOG10": _unary(lambda z: _ln(z) / _LOG10, "IMLOG10(inumber) = IMLN(z) / ln(10)."),
    "IMLOG2": _unary(lambda z: _ln(z) / _LOG2, "IMLOG2(inumber) = IMLN(z) / ln(2)."),
    "IMSQRT": _unary(cmath.sqrt, "IMSQRT(inumber) = sqrt(|z|) (cos(t/2) + sin(t/2) i)."),
    "IMPOWER": _impower, "IMDIV": _imdiv, "IMSUB": _imsub, "IMSUM": _imsum, "IMPRODUCT": _improduct,
}
