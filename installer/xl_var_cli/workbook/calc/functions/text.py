"""Excel's text functions: LEFT, MID, FIND, SUBSTITUTE, TEXT, VALUE, TEXTJOIN...

Arguments are read with Excel's coercions (:func:`to_text` writes numbers in General format,
TRUE/FALSE as words, a blank as ""). Positions and lengths are truncated to whole numbers.
Reference: Microsoft support, "Text functions (reference)" and each function's own page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from ..operands import (
    NA,
    NUM,
    VALUE,
    ExcelError,
    Grid,
    Ref,
    XlError,
    elementwise,
    number_from_text,
    scalar,
    to_bool,
    to_int,
    to_number,
    to_text,
)
from .lookup import lifted
from .textformat import format_number

__all__ = ["FUNCTIONS", "MAC_FUNCTIONS"]

_WIDE = Context(prec=500)  # enough digits for any rounding a format or FIXED asks

_MAX_TEXT = 32767  # the longest text a cell holds
# CHAR/CODE use the Windows ANSI code page; its five unassigned bytes map to the same code point.
_ANSI = [chr(b) if b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes([b]).decode("cp1252") for b in range(256)]
_ANSI_CODE = {ch: b for b, ch in enumerate(_ANSI)}
# Excel for Mac's CHAR/CODE use the Macintosh character set (Mac Roman) instead.
_MAC = [bytes([b]).decode("mac_roman") for b in range(256)]
_MAC_CODE = {ch: b for b, ch in enumerate(_MAC)}
_OMITTED = object()  # an optional argument left out (a blank cell given for it is None)
_LOCALE = "<locale>"  # NUMBERVALUE's group separator when omitted: "," (or "." when "," is the decimal one)
_PLAIN = re.compile(r"(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


# ----------------------------------------------------------------------------- helpers
def _checked(text: str) -> str:
    if len(text) > _MAX_TEXT:
        raise ExcelError(VALUE)
    return text


def _count(v: Any, least: int) -> int:
    """A position or length argument, truncated; #VALUE! below ``least``."""
    n = to_int(v)
    if n < least:
        raise ExcelError(VALUE)
    return n


def _flat(args: tuple[Any, ...]) -> list[Any]:
    """Every value of the arguments, ranges and arrays row by row."""
    out: list[Any] = []
    for a in args:
        if isinstance(a, Ref):
            out.extend(a.values())
        elif isinstance(a, Grid):
            out.extend(a.flat())
        else:
            out.append(a)
    return out


def _first_value(fn: Callable[[Any], Any]) -> Callable[..., Any]:
    """A function of one value that Excel does not lift over arrays: given a range or an array
    (in an array formula) it reads the first value, as the corpus shows for N and T; a plain
    formula first cuts a range to one cell by implicit intersection (``scalar_parameters``)."""

    def first(value: Any) -> Any:
        return fn(scalar(value))

    first.__name__ = fn.__name__
    first.__doc__ = fn.__doc__
    first.scalar_parameters = True  # type: ignore[attr-defined]
    return first


# ----------------------------------------------------------------------------- extracting
@elementwise
def left(text: Any, num_chars: Any = 1.0) -> str:
    """LEFT: the first ``num_chars`` characters (Microsoft, "LEFT, LEFTB functions")."""
    return to_text(text)[:_count(num_chars, 0)]


@elementwise
def right(text: Any, num_chars: Any = 1.0) -> str:
    """RIGHT: the last ``num_chars`` characters (Microsoft, "RIGHT, RIGHTB functions")."""
    s, n = to_text(text), _count(num_chars, 0)
    return s[len(s) - n:] if n < len(s) else s


@elementwise
def mid(text: Any, start_num: Any, num_chars: Any) -> str:
    """MID: ``num_chars`` characters from position ``start_num`` (Microsoft, "MID, MIDB functions")."""
    s = to_text(text)
    start, n = _count(start_num, 1), _count(num_chars, 0)
    return s[start - 1:start - 1 + n]


@elementwise
def length(text: Any) -> float:
    """LEN: the number of characters (Microsoft, "LEN, LENB functions")."""
    return float(len(to_text(text)))


@elementwise
def replace(old_text: Any, start_num: Any, num_chars: Any, new_text: Any) -> str:
    """REPLACE: ``old[:start-1] & new & old[start-1+num:]`` (Microsoft, "REPLACE, REPLACEB functions")."""
    s = to_text(old_text)
    start, n = _count(start_num, 1), _count(num_chars, 0)
    return _checked(s[:start - 1] + to_text(new_text) + s[start - 1 + n:])


@elementwise
def substitute(text: Any, old_text: Any, new_text: Any, instance_num: Any = _OMITTED) -> str:
    """SUBSTITUTE: replace every (or only the ``instance_num``-th) ``old_text`` (Microsoft, "SUBSTITUTE function").
    An ``instance_num`` given must be a number from 1: an empty one or a logical is #VALUE!."""
    s, old, new = to_text(text), to_text(old_text), to_text(new_text)
    if instance_num is None or isinstance(instance_num, bool):
        raise ExcelError(VALUE)
    nth = None if instance_num is _OMITTED else _count(instance_num, 1)
    if not old:
        return s
    if nth is None:
        return _checked(s.replace(old, new))
    at = -len(old)
    for _ in range(nth):
        at = s.find(old, at + len(old))
        if at < 0:
            return s
    return _checked(s[:at] + new + s[at + len(old):])


def _wildcard(pattern: str) -> re.Pattern[str]:
    """``?`` any character, ``*`` any run, ``~`` escapes the next character."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "~" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append("." if c == "?" else ".*?" if c == "*" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


@elementwise
def find(find_text: Any, within_text: Any, start_num: Any = 1.0) -> float:
    """FIND: 1-based position of ``find_text`` in ``within_text``, case-sensitive
    (Microsoft, "FIND, FINDB functions")."""
    needle, hay = to_text(find_text), to_text(within_text)
    start = _count(start_num, 1)
    if start > len(hay) + (not needle):
        raise ExcelError(VALUE)
    at = hay.find(needle, start - 1)
    if at < 0:
        raise ExcelError(VALUE)
    return float(at + 1)


@elementwise
def search(find_text: Any, within_text: Any, start_num: Any = 1.0) -> float:
    """SEARCH: as FIND, without regard to case and with wildcards ``? * ~`` (Microsoft, "SEARCH, SEARCHB functions")."""
    needle, hay = to_text(find_text), to_text(within_text)
    start = _count(start_num, 1)
    if start > len(hay) + (not needle):
        raise ExcelError(VALUE)
    m = _wildcard(needle).search(hay, start - 1)
    if m is None:
        raise ExcelError(VALUE)
    return float(m.start() + 1)


def _before_after(after: bool) -> Callable[..., Any]:
    def fn(text: Any, delimiter: Any, instance_num: Any = 1.0, match_mode: Any = 0.0, match_end: Any = 0.0,
           if_not_found: Any = NA) -> Any:
        s = to_text(text)
        delims = [to_text(d) for d in _flat((delimiter,))]
        n = to_int(instance_num)
        fold, end = to_int(match_mode), to_int(match_end)
        if fold not in (0, 1) or end not in (0, 1):
            raise ExcelError(VALUE)
        if n == 0 or abs(n) > max(len(s), 1) or not delims:
            raise ExcelError(VALUE)
        hay = s.lower() if fold else s
        keys = [d.lower() if fold else d for d in delims]
        found: list[tuple[int, int]] = []
        i = 0
        while i <= len(hay):
            hit = next(((i, len(k)) for k in keys if hay.startswith(k, i)), None)
            if hit is not None:
                found.append(hit)
                i += max(hit[1], 1)
            else:
                i += 1
        if end:
            found = ([(0, 0)] if n < 0 else []) + found + ([(len(s), 0)] if n > 0 else [])
        if abs(n) > len(found):
            if if_not_found is None:
                return ""
            return if_not_found
        at, width = found[n - 1] if n > 0 else found[n]
        return s[at + width:] if after else s[:at]

    return fn


# ----------------------------------------------------------------------------- changing
@elementwise
def upper(text: Any) -> str:
    """UPPER: capital letters (Microsoft, "UPPER function")."""
    s = to_text(text)
    up = s.upper()
    return up if len(up) == len(s) else "".join(c if len(c.upper()) != 1 else c.upper() for c in s)


@elementwise
def lower(text: Any) -> str:
    """LOWER: small letters (Microsoft, "LOWER function")."""
    s = to_text(text)
    low = s.lower()
    return low if len(low) == len(s) else "".join(c if len(c.lower()) != 1 else c.lower() for c in s)


@elementwise
def proper(text: Any) -> str:
    """PROPER: a letter after a non-letter in capitals, other letters small (Microsoft, "PROPER function")."""
    out, prev = [], False
    for c in to_text(text):
        out.append((c.lower() if prev else c.upper()) if len(c.upper()) == 1 == len(c.lower()) else c)
        prev = c.isalpha()
    return "".join(out)


@elementwise
def trim(text: Any) -> str:
    """TRIM: no leading or trailing spaces, single spaces between words (Microsoft, "TRIM function")."""
    return " ".join(w for w in to_text(text).split(" ") if w)


@elementwise
def clean(text: Any) -> str:
    """CLEAN: without the control characters 0-31 (Microsoft, "CLEAN function")."""
    return "".join(c for c in to_text(text) if ord(c) >= 32)


@elementwise
def rept(text: Any, number_times: Any) -> str:
    """REPT: ``text`` repeated ``number_times`` times, at most 32,767 characters (Microsoft, "REPT function")."""
    s, n = to_text(text), _count(number_times, 0)
    if len(s) * n > _MAX_TEXT:
        raise ExcelError(VALUE)
    return s * n


@elementwise
def concatenate(*texts: Any) -> str:
    """CONCATENATE: the texts joined; ranges are taken element by element (Microsoft, "CONCATENATE function")."""
    return _checked("".join(to_text(v) for v in texts))


def concat(*args: Any) -> str:
    """CONCAT: every value of every argument (ranges included) joined (Microsoft, "CONCAT function")."""
    return _checked("".join(to_text(v) for v in _flat(args)))


def textjoin(delimiter: Any, ignore_empty: Any, *args: Any) -> str:
    """TEXTJOIN: the values joined with the delimiter(s), in turn; empty texts skipped when
    ``ignore_empty`` (Microsoft, "TEXTJOIN function")."""
    delims = [to_text(d) for d in _flat((delimiter,))]
    skip = to_bool(scalar(ignore_empty))
    parts = [to_text(v) for v in _flat(args)]
    if skip:
        parts = [p for p in parts if p]
    out = [parts[0]] if parts else []
    for k, p in enumerate(parts[1:]):
        out.append(delims[k % len(delims)])
        out.append(p)
    return _checked("".join(out))


# ----------------------------------------------------------------------------- comparing, codes
@elementwise
def exact(text1: Any, text2: Any) -> bool:
    """EXACT: the texts are identical, case included (Microsoft, "EXACT function")."""
    return to_text(text1) == to_text(text2)


def _char_code(charset: list[str], codes: dict[str, int]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """CHAR and CODE over one 256-character set: Windows' ANSI code page 1252, or the Macintosh set
    (Microsoft, "CHAR function": "Macintosh character set" on Mac, "ANSI character set" on Windows)."""

    @elementwise
    def char(number: Any) -> str:
        """CHAR: the character of code 1-255 in the character set (Microsoft, "CHAR function")."""
        n = to_int(number)
        if not 1 <= n <= 255:
            raise ExcelError(VALUE)
        return charset[n]

    @elementwise
    def code(text: Any) -> float:
        """CODE: the code of the first character in the set, 63 ("?") outside it (Microsoft, "CODE function")."""
        s = to_text(text)
        if not s:
            raise ExcelError(VALUE)
        return float(codes.get(s[0], 63))

    return char, code


char, code = _char_code(_ANSI, _ANSI_CODE)
mac_char, mac_code = _char_code(_MAC, _MAC_CODE)


@elementwise
def unichar(number: Any) -> str:
    """UNICHAR: the Unicode character of a code point (Microsoft, "UNICHAR function")."""
    n = to_int(number)
    if not 1 <= n <= 0x10FFFF:
        raise ExcelError(VALUE)
    if 0xD800 <= n <= 0xDFFF:
        raise ExcelError(NA)
    return chr(n)


@elementwise
def unicode(text: Any) -> float:
    """UNICODE: the code point of the first character (Microsoft, "UNICODE function")."""
    s = to_text(text)
    if not s:
        raise ExcelError(VALUE)
    return float(ord(s[0]))


@_first_value
def t(value: Any) -> Any:
    """T: the value if it is text, else "" (Microsoft, "T function"); of a range, its first cell."""
    if isinstance(value, XlError):
        return value
    return value if isinstance(value, str) else ""


@_first_value
def n(value: Any) -> Any:
    """N: a number as itself, TRUE as 1, anything else 0; errors pass; of a range, its first cell
    (Microsoft, "N function")."""
    if isinstance(value, XlError):
        return value
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return float(value) if isinstance(value, int | float) else 0.0


# ----------------------------------------------------------------------------- numbers and text
@elementwise
def value_(text: Any) -> float:
    """VALUE: the number a text represents (Microsoft, "VALUE function"); TRUE/FALSE give #VALUE!."""
    if isinstance(text, bool):
        raise ExcelError(VALUE)
    if isinstance(text, str):
        x = number_from_text(text)
        if x is None:
            raise ExcelError(VALUE)
        return x
    return to_number(text)


@elementwise
def numbervalue(text: Any, decimal_separator: Any = ".", group_separator: Any = _LOCALE) -> float:
    """NUMBERVALUE: a number read with the given separators; spaces ignored, each trailing ``%``
    divides by 100, ``(x)`` is negative (Microsoft, "NUMBERVALUE function")."""
    if isinstance(text, bool):
        raise ExcelError(VALUE)
    if not isinstance(text, str):
        return to_number(text)
    dec = to_text(decimal_separator)[:1]
    group = ("." if dec == "," else ",") if group_separator is _LOCALE else to_text(group_separator)[:1]
    if not dec or not group or dec == group:
        raise ExcelError(VALUE)
    s = "".join(text.split())
    if not s:
        return 0.0
    percents = len(s) - len(s.rstrip("%"))
    s = s.rstrip("%")
    negative = s.startswith("(") and s.endswith(")")
    if negative:
        s = s[1:-1]
        inner = len(s) - len(s.rstrip("%"))
        percents, s = percents + inner, s.rstrip("%")
    whole, sep, frac = s.partition(dec)
    if group in frac:
        raise ExcelError(VALUE)
    number = whole.replace(group, "") + ("." if sep else "") + frac
    if not _PLAIN.fullmatch(number[1:] if number[:1] in "+-" and not negative else number):
        raise ExcelError(VALUE)
    x = (-float(number) if negative else float(number)) / 100.0 ** percents
    if not math.isfinite(x):
        raise ExcelError(NUM)
    return x


def _rounded(number: Any, decimals: Any) -> tuple[str, bool]:
    """|number| rounded half away from zero to ``decimals`` places (may be negative), as plain
    digits at Excel's 15-digit precision, and whether it is negative."""
    x = to_number(number)
    places = to_int(decimals)
    if places > 127:
        raise ExcelError(VALUE)
    d = Decimal(f"{abs(x):.14e}")
    if places < 0:
        d = d.scaleb(places).quantize(Decimal(1), ROUND_HALF_UP, _WIDE).scaleb(-places)
        places = 0
    digits = f"{d.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, _WIDE):f}"
    return digits, x < 0 and digits.strip("0.") != ""


def _grouped(digits: str) -> str:
    whole, dot, frac = digits.partition(".")
    return f"{int(whole):,}" + dot + frac


@elementwise
def fixed(number: Any, decimals: Any = 2.0, no_commas: Any = False) -> str:
    """FIXED: the number rounded to ``decimals`` places as text, with thousands separators unless
    ``no_commas`` (Microsoft, "FIXED function")."""
    digits, negative = _rounded(number, decimals)
    text = digits if to_bool(no_commas) else _grouped(digits)
    return "-" + text if negative else text


@elementwise
def dollar(number: Any, decimals: Any = 2.0) -> str:
    """DOLLAR: currency format ``$#,##0.00_);($#,##0.00)`` with ``decimals`` places (Microsoft, "DOLLAR function")."""
    digits, negative = _rounded(number, decimals)
    text = "$" + _grouped(digits)
    return f"({text})" if negative else text


@elementwise
def text_(value: Any, format_text: Any) -> str:
    """TEXT: the value formatted by a number format code (Microsoft, "TEXT function")."""
    if isinstance(value, XlError):
        raise ExcelError(value)
    code_ = to_text(format_text)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        x = number_from_text(value)
        return format_number(value if x is None else x, code_)
    return format_number(to_number(value), code_)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "LEFT": left, "LEFTB": left, "RIGHT": right, "RIGHTB": right, "MID": mid, "MIDB": mid,
    "LEN": length, "LENB": length, "REPLACE": replace, "REPLACEB": replace, "SUBSTITUTE": substitute,
    "FIND": find, "FINDB": find, "SEARCH": search, "SEARCHB": search,
    "TEXTBEFORE": lifted(1)(_before_after(after=False)), "TEXTAFTER": lifted(1)(_before_after(after=True)),
    "UPPER": upper, "LOWER": lower, "PROPER": proper, "TRIM": trim, "CLEAN": clean, "REPT": rept,
    "CONCATENATE": concatenate, "CONCAT": concat, "TEXTJOIN": textjoin,
    "EXACT": exact, "CHAR": char, "CODE": code, "UNICHAR": unichar, "UNICODE": unicode, "T": t, "N": n,
    "VALUE": value_, "NUMBERVALUE": numbervalue, "FIXED": fixed, "DOLLAR": dollar, "TEXT": text_,
}

# The functions whose result differs in a workbook saved by Excel for Mac (docProps/app.xml names
# "Microsoft Macintosh Excel"): its character set is Mac Roman, not Windows-1252.
MAC_FUNCTIONS: dict[str, Callable[..., Any]] = {"CHAR": mac_char, "CODE": mac_code}
