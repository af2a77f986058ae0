"""Excel's engineering functions: base conversion (DEC2BIN ... HEX2OCT), bitwise operations, DELTA, GESTEP.

Base conversion follows Microsoft's pages "DEC2BIN function" ... "HEX2OCT function": a binary, octal or
hexadecimal number has at most 10 characters, the most significant bit of the tenth character being the
sign (two's complement over 10, 30 or 40 bits); a negative result is written with 10 characters whatever
``places`` asks; ``places`` is truncated and must be 1..10 and at least the result's length (else #NUM!).
A source number typed as a number is read by its decimal digits (``BIN2DEC(1010)`` is 10); invalid digits,
more than 10 characters, or a result outside the target's range give #NUM!. Like the other Analysis
ToolPak functions these refuse logical values (#VALUE!).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..operands import NUM, VALUE, ExcelError, XlError, elementwise, general_text, scalar_only, to_number

__all__ = ["FUNCTIONS"]

# base -> (bits of the 10-character two's complement, digits allowed)
_BASES = {2: (10, "01"), 8: (30, "01234567"), 16: (40, "0123456789ABCDEF")}
_DIGITS = "0123456789ABCDEF"
_BIT_LIMIT = 2.0**48


def _number(v: Any) -> float:
    """A numeric argument of an Analysis ToolPak function: logical values are refused."""
    if isinstance(v, bool):
        raise ExcelError(VALUE)
    return to_number(v)


def _places(v: Any) -> int | None:
    """The ``places`` argument truncated; None when omitted; #NUM! outside 1..10."""
    if v is None:
        return None
    p = _number(v)
    if not 1 <= p < 11:
        raise ExcelError(NUM)
    return int(p)


def _parse(v: Any, base: int) -> int:
    """The signed value of a binary/octal/hex argument (text, or a number read by its decimal digits)."""
    if isinstance(v, XlError):
        raise ExcelError(v)
    if isinstance(v, bool):
        raise ExcelError(VALUE)
    if v is None:
        return 0
    if isinstance(v, float):
        if v < 0:
            raise ExcelError(NUM)
        v = general_text(v)
    text = str(v).upper()
    bits, digits = _BASES[base]
    if len(text) > 10 or any(ch not in digits for ch in text):
        raise ExcelError(NUM)
    n = int(text, base) if text else 0
    return n - (1 << bits) if n >= 1 << (bits - 1) else n


def _format(n: int, base: int, places: int | None) -> str:
    """``n`` written in ``base``: 10-character two's complement when negative, else padded to ``places``."""
    bits = _BASES[base][0]
    if not -(1 << (bits - 1)) <= n < 1 << (bits - 1):
        raise ExcelError(NUM)
    if n < 0:
        n += 1 << bits
        places = 10
    out = ""
    while True:
        n, r = divmod(n, base)
        out = _DIGITS[r] + out
        if not n:
            break
    if places is not None:
        if places < len(out):
            raise ExcelError(NUM)
        out = out.rjust(places, "0")
    return out


def _from_decimal(base: int) -> Callable[..., Any]:
    @scalar_only
    def convert(number: Any, places: Any = None) -> str:
        """DEC2BIN/DEC2OCT/DEC2HEX: ``number`` truncated, written in the target base (see the module)."""
        p = _places(places)
        return _format(int(_number(number)), base, p)

    return convert


def _to_decimal(base: int) -> Callable[..., Any]:
    @scalar_only
    def convert(number: Any) -> float:
        """BIN2DEC/OCT2DEC/HEX2DEC: the signed value of a 10-character two's complement number."""
        return float(_parse(number, base))

    return convert


def _between(source: int, target: int) -> Callable[..., Any]:
    @scalar_only
    def convert(number: Any, places: Any = None) -> str:
        """BIN2OCT, HEX2BIN...: parse in ``source``, write in ``target`` (see the module)."""
        n = _parse(number, source)
        return _format(n, target, _places(places))

    return convert


def _bit_operand(v: Any) -> int:
    """A BITAND... operand: a whole number from 0 to 2**48 - 1 (Microsoft, "BITAND function")."""
    x = _number(v)
    if x < 0 or x >= _BIT_LIMIT or x != int(x):
        raise ExcelError(NUM)
    return int(x)


@elementwise
def bitand(a: Any, b: Any) -> float:
    """Bitwise AND of two integers in 0..2**48-1 (Microsoft, "BITAND function")."""
    return float(_bit_operand(a) & _bit_operand(b))


@elementwise
def bitor(a: Any, b: Any) -> float:
    """Bitwise OR of two integers in 0..2**48-1 (Microsoft, "BITOR function")."""
    return float(_bit_operand(a) | _bit_operand(b))


@elementwise
def bitxor(a: Any, b: Any) -> float:
    """Bitwise XOR of two integers in 0..2**48-1 (Microsoft, "BITXOR function")."""
    return float(_bit_operand(a) ^ _bit_operand(b))


def _shift(number: Any, amount: Any, sign: int) -> float:
    """``number * 2**(sign*amount)`` with bits shifted out on the right dropped; |amount| <= 53 and the
    result below 2**48 (Microsoft, "BITLSHIFT function", "BITRSHIFT function")."""
    n = _bit_operand(number)
    s = sign * int(_number(amount))
    if abs(s) > 53:
        raise ExcelError(NUM)
    out = n << s if s >= 0 else n >> -s
    if out >= _BIT_LIMIT:
        raise ExcelError(NUM)
    return float(out)


@elementwise
def bitlshift(number: Any, shift_amount: Any) -> float:
    """``number`` shifted left by ``shift_amount`` bits (right if negative) (Microsoft, "BITLSHIFT function")."""
    return _shift(number, shift_amount, 1)


@elementwise
def bitrshift(number: Any, shift_amount: Any) -> float:
    """``number`` shifted right by ``shift_amount`` bits (left if negative) (Microsoft, "BITRSHIFT function")."""
    return _shift(number, shift_amount, -1)


@scalar_only
def delta(number1: Any, number2: Any = None) -> float:
    """1 if ``number1 == number2`` (default 0), else 0 (Microsoft, "DELTA function")."""
    return 1.0 if _number(number1) == _number(number2) else 0.0


@scalar_only
def gestep(number: Any, step: Any = None) -> float:
    """1 if ``number >= step`` (default 0), else 0 (Microsoft, "GESTEP function")."""
    return 1.0 if _number(number) >= _number(step) else 0.0


_NAMES = {2: "BIN", 8: "OCT", 10: "DEC", 16: "HEX"}

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "BITAND": bitand, "BITOR": bitor, "BITXOR": bitxor, "BITLSHIFT": bitlshift, "BITRSHIFT": bitrshift,
    "DELTA": delta, "GESTEP": gestep,
}
for _target in (2, 8, 16):
    FUNCTIONS[f"DEC2{_NAMES[_target]}"] = _from_decimal(_target)
    FUNCTIONS[f"{_NAMES[_target]}2DEC"] = _to_decimal(_target)
    for _source in (2, 8, 16):
        if _source != _target:
            FUNCTIONS[f"{_NAMES[_source]}2{_NAMES[_target]}"] = _between(_source, _target)
