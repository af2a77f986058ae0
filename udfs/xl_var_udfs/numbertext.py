"""Numbers written as text, read one way for cells and files alike.

Exports and typed cells write numbers as text: ``"97,123.45"``, ``"0.39%"``, ``"(1,234)"``,
``"$1,250,000"``, ``"1.250.000,50 €"``. :func:`read_number` reads such text, with the
decimal mark either known (``"."`` or ``","``: a file's dialect, see :func:`file_decimal`)
or unknown (a cell, ``None``). The rules:

* **Accepted**: an optional sign (``-``, ``+``, ``−``) or accounting parentheses for a
  negative, an optional currency sign or code before or after (``$ € £ ¥``, ``USD`` ...),
  digits with thousands separators in groups of three, a decimal part, an exponent
  (``1e-3``, without separators), and one trailing ``%`` (divides by 100).
* **Decimal mark known**: ``"."`` allows ``,``, space or ``'`` between thousands; ``","``
  allows ``.``, space or ``'``. Text valid only with the other mark is refused with both
  readings.
* **Decimal mark unknown** (a cell): plain numbers and unambiguous comma grouping
  (``"1,234.5"``, ``"1,250,000"``) are read; text that reads two ways is refused naming
  both: ``"'1,5' could be 1.5 or 15: type 1.5 or 15"``, ``"'1,500' could be 1500 or 1.5"``.
  Space-grouped (``"1 234,5"``) and decimal-comma text need a known decimal comma.
* ``"99%%"`` (two percent signs) is refused; ``"nan"``, ``"inf"`` and other words are not numbers.

Text that is no number in any reading (a name, a date such as ``01.12.2024``) gives ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["NumberText", "NumberTextError", "file_decimal", "read_number"]

CURRENCIES = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_CODES = frozenset({"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "USDT", "USDC"})
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "−": "-"})
_PLAIN = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
# digits in groups of three after a lead of 1-3, one separator throughout, then an optional fraction
_GROUPED = {
    ".": re.compile(r"\d{1,3}(?P<sep>[, '])\d{3}(?:(?P=sep)\d{3})*(?:\.\d*)?"),
    ",": re.compile(r"\d{1,3}(?P<sep>[. '])\d{3}(?:(?P=sep)\d{3})*(?:,\d*)?"),
}
_COMMA_PLAIN = re.compile(r"(?:\d+,?\d*|,\d+)(?:[eE][-+]?\d+)?")
_CORE = re.compile(r"[\d.,' ]*\d[\d.,' ]*(?:[eE][-+]?\d+)?")
_CURRENCY = re.compile(r"^(?P<lead>[$€£¥]|[A-Z]{3,4}\s)?\s*(?P<core>.*?)\s*(?P<tail>[$€£¥]|\s[A-Z]{3,4})?$")


class NumberTextError(ValueError):
    """Number text that reads two ways, or is malformed in a telling way; the message says what to type."""


@dataclass(frozen=True)
class NumberText:
    """A number read from text: its ``value``, the ``currency`` written with it (``"USD"``, or ``""``)
    and whether it was ``grouped`` with thousands separators or written as a ``percent``."""

    value: float
    currency: str = ""
    grouped: bool = False
    percent: bool = False


def _core_value(core: str, decimal: str) -> tuple[float, bool] | None:
    """The value of unsigned digits-and-separators ``core`` with decimal mark ``decimal``, and whether
    it was grouped; None when it is not a number written that way."""
    plain = _PLAIN if decimal == "." else _COMMA_PLAIN
    if plain.fullmatch(core):
        return float(core.replace(",", ".")), False
    m = _GROUPED[decimal].fullmatch(core)
    if m is None:
        return None
    return float(core.replace(m.group("sep"), "").replace(",", ".")), True


def _unknown_decimal(readings: dict[str, tuple[float, bool] | None], core: str) -> tuple[float, bool] | None:
    """The reading of text whose decimal mark is unknown: the decimal-point one when it is the only one,
    both agree, or the text has no comma ("1.500" is 1.5); None when a comma makes it two-way."""
    dot, comma = readings["."], readings[","]
    if dot is not None and (comma is None or comma[0] == dot[0] or "," not in core):
        return dot
    return None


def _show(x: float, percent: bool) -> str:
    return format(x, ".15g") + ("%" if percent else "")


def read_number(text: str, decimal: str | None = None) -> NumberText | None:
    """Read number text; ``decimal`` is the known decimal mark (``"."``, ``","``) or None (unknown).

    Returns
    -------
    NumberText or None
        None when the text is not a number in any reading (a name, a date, a word).

    Raises
    ------
    NumberTextError
        The text reads as two different numbers (``"1,5"``), needs the other decimal mark, or
        has two percent signs; the message quotes the text and says what to type.
    """
    s = text.translate(_SPACES).strip()
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    pct = len(s) - len(s.rstrip("%"))
    if pct > 1:
        raise NumberTextError(f"{text.strip()!r} has {pct} percent signs: type {s.rstrip('%').strip()}%")
    s = s[:-1].strip() if pct else s
    if s[:1] in ("-", "+"):
        negative, s = negative or s[0] == "-", s[1:].strip()
    m = _CURRENCY.match(s)
    if m is None:  # pragma: no cover - the pattern matches any text
        return None
    lead, tail = (m.group("lead") or "").strip(), (m.group("tail") or "").strip()
    core = m.group("core")
    if lead and tail:
        return None
    code = CURRENCIES.get(lead or tail, lead or tail)
    if code and code not in _CODES:
        return None
    if core[:1] in ("-", "+") and not negative:  # "$-1,250"
        negative, core = core[0] == "-", core[1:].strip()
    if not _CORE.fullmatch(core):
        return None
    readings = {d: _core_value(core, d) for d in (".", ",")}
    known = decimal is not None
    if not known and ((negative and text.strip().startswith("(")) or code in {"USD", "GBP", "JPY"}):
        decimal = "."  # accounting negatives and $ £ ¥ amounts are written the English way
    got = readings[decimal] if decimal is not None else _unknown_decimal(readings, core)
    if got is None:
        values = [r[0] for r in (readings[","], readings["."]) if r is not None]
        if not values:
            return None
        if readings["."] is None and re.fullmatch(r"\d+,\d+", core):
            values.append(float(core.replace(",", "")))  # "1,5": a decimal comma, or a thousands comma
        shown = [_show(v, bool(pct)) for v in values]
        if len(shown) == 1:
            mark = "comma" if readings["."] is None else "point"
            where = ", unlike the rest" if known else ""
            raise NumberTextError(f"{text.strip()!r} uses a decimal {mark}{where}: type {shown[0]}")
        raise NumberTextError(f"{text.strip()!r} could be {' or '.join(shown)}: type "
                              f"{' or '.join(shown)} without separators")
    value, grouped = got
    if pct:
        value = float(Decimal(repr(value)).scaleb(-2))  # 0.39% is 0.0039 as typed, not 0.39 / 100
    value = -value if negative else value
    return NumberText(value=value, currency=code, grouped=grouped, percent=bool(pct))


def file_decimal(texts: Iterable[str], default: str = ".") -> str:
    """The decimal mark of a file: ``","`` when more of its number texts read only with a decimal comma
    (``"0,39"``, ``"1.234,5"``) than only with a decimal point (``"0.39"``, ``"97,123.45"``), else
    ``"."``; ``default`` when no text decides (``"1,500"`` reads either way).
    """
    votes = {".": 0, ",": 0}
    for t in texts:
        core = t.translate(_SPACES).strip().strip("()%$€£¥-+ ")
        if not core or not _CORE.fullmatch(core):
            continue
        dot, comma = _core_value(core, "."), _core_value(core, ",")
        if (dot is None) != (comma is None):
            votes["." if dot is not None else ","] += 1
    if votes["."] == votes[","]:
        return default
    return "." if votes["."] > votes[","] else ","
