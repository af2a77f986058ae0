"""Numbers spelled out in words: BAHTTEXT (Thai baht and satang).

Reference: Microsoft, "BAHTTEXT function". The amount is rounded to satang (hundredths); the baht
are spelled in blocks of six digits joined by "million" (ล้าน); a block names each non-zero digit
with its power of ten, except that the tens digit 1 is "ten" alone (สิบ), 2 is "yi-sip" (ยี่สิบ),
and a units 1 after a tens digit is "et" (เอ็ด). Whole baht end with "exactly" (ถ้วน), else the
satang follow; a negative amount starts with "minus" (ลบ).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..operands import elementwise, to_number

__all__ = ["FUNCTIONS"]

_DIGITS = ("ศูนย์", "หนึ่ง", "สอง", "สาม", "สี่", "ห้า", "หก", "เจ็ด", "แปด", "เก้า")
_POWERS = ((100000, "แสน"), (10000, "หมื่น"), (1000, "พัน"), (100, "ร้อย"))
_TEN, _TWENTY, _ET = "สิบ", "ยี่", "เอ็ด"
_MILLION, _BAHT, _EXACT, _SATANG, _MINUS = "ล้าน", "บาท", "ถ้วน", "สตางค์", "ลบ"


def _block(n: int) -> str:
    """The words of ``n``, 1 to 999999."""
    out = []
    for power, word in _POWERS:
        digit = n // power % 10
        if digit:
            out.append(_DIGITS[digit] + word)
    tens, ones = n // 10 % 10, n % 10
    if tens:
        out.append((_DIGITS[tens] if tens >= 3 else _TWENTY if tens == 2 else "") + _TEN)
    if ones:
        out.append(_ET if ones == 1 and tens else _DIGITS[ones])
    return "".join(out)


def _baht(n: int) -> str:
    """The words of a whole number of baht (blocks of six digits joined by "million")."""
    blocks = []
    while n:
        n, block = divmod(n, 1_000_000)
        blocks.append(_block(block) if block else "")
    return _MILLION.join(reversed(blocks))


@elementwise
def bahttext(number: Any) -> str:
    """BAHTTEXT(number): the amount in Thai words (see the module; Microsoft, "BAHTTEXT function")."""
    x = to_number(number)
    satang_total = math.floor(abs(x) * 100 + 0.5)
    baht, satang = divmod(satang_total, 100)
    text = _baht(baht) + _BAHT if baht else "" if satang else _DIGITS[0] + _BAHT
    text += _block(satang) + _SATANG if satang else _EXACT
    return _MINUS + text if x < 0 and satang_total else text


FUNCTIONS: dict[str, Callable[..., Any]] = {"BAHTTEXT": bahttext}
