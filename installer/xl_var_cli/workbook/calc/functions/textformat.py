"""Excel number format codes, as the TEXT function applies them.

A code has up to four sections separated by ``;`` (positive; negative; zero; text), each made of
digit placeholders (``0 # ?``), ``.``, ``,`` (thousands separator, or scaling by 1000 when it
ends the digits), ``%``, ``E+``/``E-``, fractions (``# ?/?``), date and time codes (``d m y h s``,
``AM/PM``, ``[h]``...), ``General``, ``@`` (the text) and literals (quoted, ``\\``-escaped, or
any other character). Reference: Microsoft, "Number format codes" and "Review guidelines for
customizing a number format"; the behaviour on odd codes follows what Excel computes.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache

from ..operands import VALUE, ExcelError, general_text

__all__ = ["format_number"]

_WIDE = Context(prec=500)  # enough digits for any rounding a format or FIXED asks

_COLOURS = {"black", "blue", "cyan", "green", "magenta", "red", "white", "yellow"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_DAYS = ("Saturday", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_ELAPSED = {"h", "hh", "m", "mm", "s", "ss"}
_ORDINAL_1899_12_30 = 693594
_MAX_SERIAL = 2958466  # 10000-01-01: dates from here on cannot be shown

Token = tuple[str, str]  # (kind, text): lit dig dot comma pct exp slash at date sub ampm gen


class _Section:
    """One parsed section: its tokens, kind (number, date or text) and optional [condition]."""

    __slots__ = ("cond", "kind", "tokens")

    def __init__(self, tokens: list[Token], kind: str, cond: tuple[str, float] | None) -> None:
        self.tokens, self.kind, self.cond = tokens, kind, cond


def _split(code: str) -> list[str]:
    """The sections of ``code``: split at ``;`` outside quotes, escapes and brackets."""
    parts, start, i, n = [], 0, 0, len(code)
    while i < n:
        c = code[i]
        if c == '"':
            j = code.find('"', i + 1)
            i = n if j < 0 else j + 1
            continue
        if c in "\\_*":
            i += 2
            continue
        if c == "[":
            j = code.find("]", i)
            i = n if j < 0 else j + 1
            continue
        if c == ";":
            parts.append(code[start:i])
            start = i + 1
        i += 1
    parts.append(code[start:])
    return parts


def _bracket(inner: str, tokens: list[Token]) -> tuple[str, float] | None:
    """Handle ``[...]``: a colour (ignored), a condition (returned), elapsed time or [$currency]."""
    low = inner.lower()
    if low in _COLOURS or low.startswith("color"):
        return None
    if low[:1] in "<>=":
        op = low[:2] if low[:2] in ("<=", ">=", "<>") else low[:1]
        try:
            return op, float(low[len(op):])
        except ValueError:
            raise ExcelError(VALUE) from None
    if low in _ELAPSED or (len(set(low)) == 1 and low[0] in "hms"):
        tokens.append(("date", "[" + low))
        return None
    if low.startswith("$"):
        tokens.append(("lit", inner[1:].split("-", 1)[0]))
        return None
    raise ExcelError(VALUE)


def _tokenize(text: str) -> _Section:
    tokens: list[Token] = []
    cond = None
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        low = c.lower()
        if c == '"':
            j = text.find('"', i + 1)
            if j < 0:
                raise ExcelError(VALUE)
            tokens.append(("lit", text[i + 1:j]))
            i = j + 1
        elif c == "\\":
            tokens.append(("lit", text[i + 1:i + 2]))
            i += 2
        elif c == "_":
            tokens.append(("lit", " "))
            i += 2
        elif c == "*":
            i += 2
        elif c == "[":
            j = text.find("]", i)
            if j < 0:
                raise ExcelError(VALUE)
            cond = _bracket(text[i + 1:j], tokens) or cond
            i = j + 1
        elif c in "0#?":
            tokens.append(("dig", c))
            i += 1
        elif c in ".,%@/":
            tokens.append(({".": "dot", ",": "comma", "%": "pct", "@": "at", "/": "slash"}[c], c))
            i += 1
        elif low == "e" and text[i + 1:i + 2] in ("+", "-"):
            tokens.append(("exp", text[i + 1]))
            i += 2
        elif text[i:i + 5].upper() == "AM/PM":
            tokens.append(("ampm", "AM/PM"))
            i += 5
        elif text[i:i + 3].upper() == "A/P":
            tokens.append(("ampm", text[i] + "/" + text[i + 2]))
            i += 3
        elif text[i:i + 7].lower() == "general":
            tokens.append(("gen", ""))
            i += 7
        elif low in "ymdhs":
            j = i
            while j < n and text[j].lower() == low:
                j += 1
            tokens.append(("date", low * (j - i)))
            i = j
        else:
            tokens.append(("lit", c))
            i += 1
    kinds = {k for k, _ in tokens}
    if "at" in kinds:
        if kinds & {"dig", "date", "gen", "exp"}:
            raise ExcelError(VALUE)
        return _Section(tokens, "text", cond)
    if "date" in kinds:
        return _Section(_date_tokens(tokens), "date", cond)
    return _Section(tokens, "number", cond)


def _date_tokens(tokens: list[Token]) -> list[Token]:
    """Resolve a date section: fractional seconds, minutes versus months, stray characters."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "dot" and out and out[-1][0] == "date" and out[-1][1][-1] == "s" \
                and i + 1 < len(tokens) and tokens[i + 1] == ("dig", "0"):
            j = i + 1
            while j < len(tokens) and tokens[j] == ("dig", "0"):
                j += 1
            out.append(("sub", str(min(j - i - 1, 3))))
            i = j
            continue
        if kind in ("dig", "exp", "gen"):
            raise ExcelError(VALUE)
        out.append(("lit", text) if kind in ("dot", "comma", "pct", "slash") else (kind, text))
        i += 1
    dates = [k for k, (kind, _) in enumerate(out) if kind == "date"]
    for pos, k in enumerate(dates):
        text = out[k][1]
        if text[0] != "m":
            continue
        prev = out[dates[pos - 1]][1] if pos else ""
        nxt = out[dates[pos + 1]][1] if pos + 1 < len(dates) else ""
        if len(text) <= 2 and (prev[-1:] == "h" or nxt[-1:] == "s"):
            out[k] = ("date", "M" * len(text))  # minutes
    return out


@lru_cache(maxsize=512)
def _parse(code: str) -> tuple[_Section, ...]:
    """The sections of a format code (cached: workbooks use few codes, many times)."""
    sections = tuple(_tokenize(s) for s in _split(code))
    if len(sections) > 4 or any(s.kind == "text" for s in sections[:-1]):
        raise ExcelError(VALUE)
    return sections


def _decimal(x: float) -> Decimal:
    """``x`` to Excel's precision: 15 significant digits."""
    return Decimal(f"{x:.14e}")


def _general(x: float) -> str:
    """General format as TEXT shows it: at most 11 characters."""
    text = general_text(x)
    if len(text) <= 11:
        return text
    ax = abs(x)
    if 1e-4 <= ax < 1e11:
        places = 10 - len(str(int(ax))) - (x < 0)
        text = f"{_decimal(x).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, _WIDE):f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, exp = f"{x:.5E}".split("E")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}E{exp[0]}{int(exp[1:]):02d}"


def _condition(cond: tuple[str, float], x: float) -> bool:
    op, v = cond
    return {"<": x < v, "<=": x <= v, ">": x > v, ">=": x >= v, "=": x == v, "<>": x != v}[op]


def _choose(sections: tuple[_Section, ...], x: float) -> tuple[_Section | None, bool]:
    """The section that formats ``x`` and whether a minus sign is prefixed (value shown as |x|)."""
    secs = [s for s in sections if s.kind != "text"]
    if not secs:
        return None, x < 0
    if secs[0].cond or (len(secs) > 1 and secs[1].cond):
        for k, sec in enumerate(secs[:2]):
            cond = sec.cond or ((">=", 0.0) if k == 0 else None)
            if cond is None or _condition(cond, x):
                return sec, x < 0 and not (k == 1 and cond == ("<", 0.0))
        if len(secs) > 2:
            return secs[2], x < 0
        raise ExcelError(VALUE)
    if len(secs) == 1:
        return secs[0], x < 0
    if x < 0:
        return secs[1], False
    if x == 0 and len(secs) > 2:
        return secs[2], False
    return secs[0], False


def format_number(value: float | str, code: str) -> str:
    """``value`` formatted by the number format ``code`` as Excel's TEXT does (#VALUE! raised
    for a code Excel rejects). Text goes through the text section, or is returned unchanged."""
    sections = _parse(code)
    if isinstance(value, str):
        sec = sections[-1] if len(sections) == 4 or sections[-1].kind == "text" else None
        if sec is None:
            return value
        return "".join(value if kind == "at" else text for kind, text in sec.tokens)
    section, minus = _choose(sections, value)
    x = abs(value)
    if section is None:
        text = general_text(x)
    elif section.kind == "date":
        if value < 0 and not (len(section.tokens) == 1 and section.tokens[0][1][0] == "["):
            raise ExcelError(VALUE)  # Excel shows negative dates and times as ####
        text = _format_date(x, section.tokens)
    else:
        text = _format_numeric(x, section.tokens)
    return "-" + text if minus else text


# ----------------------------------------------------------------------------- numbers
def _format_numeric(x: float, tokens: list[Token]) -> str:
    kinds = [k for k, _ in tokens]
    if "gen" in kinds:
        return "".join(_general(x) if k == "gen" else t for k, t in tokens if k in ("gen", "lit", "pct"))
    if "dig" not in kinds:
        return "".join(t for _, t in tokens)
    x *= 100.0 ** kinds.count("pct")
    if "slash" in kinds:
        at = kinds.index("slash")
        if at > 0 and kinds[at - 1] == "dig":
            return _format_fraction(x, tokens, at)
    if "exp" in kinds:
        at = kinds.index("exp")
        if "dot" in kinds[at:]:
            raise ExcelError(VALUE)
        return _format_scientific(x, tokens[:at], tokens[at], tokens[at + 1:])
    tokens, grouping, scale = _commas(tokens)
    x /= 1000.0 ** scale
    kinds = [k for k, _ in tokens]
    dot = kinds.index("dot") if "dot" in kinds else len(tokens)
    places = kinds[dot:].count("dig")
    digits = f"{_decimal(x).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, _WIDE):f}"
    whole, _, frac = digits.partition(".")
    return _integer_part(whole.lstrip("0"), tokens[:dot], grouping) + _fraction_part(frac, tokens[dot:])


def _commas(tokens: list[Token]) -> tuple[list[Token], bool, int]:
    """Classify each comma: thousands separator, scaling by 1000, dropped, or a literal."""
    out: list[Token] = []
    grouping, scale = False, 0
    dot = next((k for k, (kind, _) in enumerate(tokens) if kind == "dot"), len(tokens))
    for k, (kind, text) in enumerate(tokens):
        if kind != "comma":
            out.append((kind, text))
            continue
        if k == 0 or tokens[k - 1][0] not in ("dig", "comma"):
            out.append(("lit", ","))
        elif k + 1 < len(tokens) and tokens[k + 1][0] == "dig":
            grouping = grouping or k < dot
        elif not any(kind2 == "dig" for kind2, _ in tokens[k + 1:(dot if k < dot else len(tokens))]):
            scale += 1
    return out, grouping, scale


def _integer_part(digits: str, tokens: list[Token], grouping: bool) -> str:
    """Place the integer digits (``""`` for 0) right to left into the placeholders of ``tokens``."""
    slots = [k for k, (kind, _) in enumerate(tokens) if kind == "dig"]
    if not slots:
        return "".join(t for _, t in tokens) + digits

    def digit(pos: int, pad: str) -> str:
        d = digits[-1 - pos] if pos < len(digits) else {"0": "0", "?": " "}.get(pad, "")
        return d + "," if grouping and d.isdigit() and pos and pos % 3 == 0 else d

    pieces, pos = [], 0
    for k in range(len(tokens) - 1, -1, -1):
        kind, text = tokens[k]
        if kind != "dig":
            pieces.append(text)
            continue
        if k == slots[0]:
            last = max(len(digits), pos + 1)
            pieces.extend(digit(p, text) for p in range(pos, last))
        else:
            pieces.append(digit(pos, text))
        pos += 1
    return "".join(reversed(pieces))


def _fraction_part(digits: str, tokens: list[Token]) -> str:
    """The decimal point and fractional digits; trailing zeros under ``#`` vanish, under ``?`` are spaces."""
    if not tokens:
        return ""
    slots = [t for kind, t in tokens if kind == "dig"]
    shown = list(digits)
    for k in range(len(slots) - 1, -1, -1):
        if shown[k] != "0":
            break
        if slots[k] != "0":
            shown[k] = "" if slots[k] == "#" else " "
    out, pos = [], 0
    for kind, text in tokens:
        if kind == "dig":
            out.append(shown[pos])
            pos += 1
        else:
            out.append(text)
    return "".join(out)


def _format_scientific(x: float, mantissa: list[Token], exp: Token, rest: list[Token]) -> str:
    mantissa = [t for t in mantissa if t[0] != "comma"]
    kinds = [k for k, _ in mantissa]
    dot = kinds.index("dot") if "dot" in kinds else len(mantissa)
    ints = [t for k, t in mantissa[:dot] if k == "dig"]
    places = kinds[dot:].count("dig")
    step = len(ints) if len(ints) > 1 and "#" in ints else 1
    shift = 0 if step > 1 else max(len(ints), 1) - 1
    e = 0
    d = Decimal(0)
    if x:
        d = _decimal(x)
        e = math.floor((d.adjusted() - shift) / step) * step
        m = d.scaleb(-e).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, _WIDE)
        if m >= Decimal(10) ** (shift + step):
            e += step
        d = d.scaleb(-e)
    digits = f"{d.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, _WIDE):f}"
    whole, _, frac = digits.partition(".")
    exp_slots = [t for k, t in rest if k == "dig"]
    sign = "-" if e < 0 else "+" if exp[1] == "+" else ""
    power = _integer_part(str(abs(e)) if e else "", [("dig", t) for t in exp_slots], False)
    tail = "".join(t for k, t in rest if k != "dig")
    return (_integer_part(whole.lstrip("0"), mantissa[:dot], False) + _fraction_part(frac, mantissa[dot:])
            + "E" + sign + power + tail)


def _format_fraction(x: float, tokens: list[Token], slash: int) -> str:
    start = slash
    while start > 0 and tokens[start - 1][0] == "dig":
        start -= 1
    num_slots = [t for _, t in tokens[start:slash]]
    end = slash + 1
    while end < len(tokens) and tokens[end][0] == "dig":
        end += 1
    den_slots = [t for _, t in tokens[slash + 1:end]]
    fixed = 0
    if not den_slots:
        while end < len(tokens) and tokens[end][0] == "lit" and tokens[end][1].isdigit():
            fixed = fixed * 10 + int(tokens[end][1])
            end += 1
    head = tokens[:start]
    has_whole = any(k == "dig" for k, _ in head)
    whole = math.floor(x) if has_whole else 0
    num, den = _best_fraction(x - whole, fixed, 10 ** len(den_slots) - 1)
    if num == den and has_whole:
        whole, num = whole + 1, 0
    left = _integer_part(str(whole) if whole else "", [t for t in head if t[0] != "comma"], False)
    if num == 0 and has_whole:
        width = len(num_slots) + 1 + (len(den_slots) or len(str(fixed)))
        lits = "".join(t for k, t in tokens[end:] if k != "dig")
        return (left if whole else left.rstrip() or "0") + " " * width + lits
    numerator = str(num).rjust(len(num_slots), " " if "?" in num_slots else "0" if "0" in num_slots else " ")
    if num_slots and set(num_slots) == {"#"}:
        numerator = str(num)
    denominator = str(den).ljust(len(den_slots), " " if "?" in den_slots else "0" if "0" in den_slots else " ")
    if den_slots and set(den_slots) == {"#"}:
        denominator = str(den)
    return left + numerator + "/" + denominator + "".join(t for _, t in tokens[end:])


def _best_fraction(frac: float, fixed: int, max_den: int) -> tuple[int, int]:
    if fixed:
        return int(Decimal(frac * fixed).quantize(Decimal(1), ROUND_HALF_UP, _WIDE)), fixed
    best = (round(frac), 1)
    err = abs(frac - best[0])
    for q in range(2, max(max_den, 1) + 1):
        p = int(frac * q + 0.5)
        e = abs(frac - p / q)
        if e < err - 1e-12:
            best, err = (p, q), e
    return best


# ----------------------------------------------------------------------------- dates and times
def _ymd(days: int) -> tuple[int, int, int]:
    """Year, month, day of a serial day in the 1900 date system (0 is 1900-01-00, 60 is 1900-02-29)."""
    if days == 0:
        return 1900, 1, 0
    if days == 60:
        return 1900, 2, 29
    d = date.fromordinal(_ORDINAL_1899_12_30 + days + (1 if days < 60 else 0))
    return d.year, d.month, d.day


def _format_date(x: float, tokens: list[Token]) -> str:
    places = max((int(t) for k, t in tokens if k == "sub"), default=0)
    unit = 10 ** places
    total = int(Decimal(repr(x * 86400 * unit)).quantize(Decimal(1), ROUND_HALF_UP, _WIDE))
    seconds, sub = divmod(total, unit)
    days = seconds // 86400
    calendar = any(k == "date" and t[0] != "[" for k, t in tokens)
    if calendar and days >= _MAX_SERIAL:
        raise ExcelError(VALUE)
    year, month, day = _ymd(days) if calendar else (1900, 1, 0)
    hour, minute, second = seconds // 3600 % 24, seconds // 60 % 60, seconds % 60
    twelve = any(k == "ampm" for k, _ in tokens)
    out: list[str] = []
    for k, (kind, text) in enumerate(tokens):
        if kind == "lit":
            out.append(text)
        elif kind == "sub":
            out.append("." + str(sub).rjust(places, "0")[:int(text)])
        elif kind == "ampm":
            am = hour < 12
            out.append(("AM" if am else "PM") if text == "AM/PM" else text[0] if am else text[2])
        elif kind == "date":
            out.append(_date_field(text, tokens, k, seconds, (days, year, month, day, hour, minute, second), twelve))
    return "".join(out)


def _date_field(text: str, tokens: list[Token], k: int, seconds: int,
                parts: tuple[int, int, int, int, int, int, int], twelve: bool) -> str:
    days, year, month, day, hour, minute, second = parts
    n = len(text)
    c = text[0]
    if c == "[":
        return str(seconds // {"h": 3600, "m": 60, "s": 1}[text[1]]).rjust(n - 1, "0")
    if c == "y":
        return f"{year % 100:02d}" if n <= 2 else f"{year:04d}"
    if c == "m":
        name = _MONTHS[month - 1]
        return str(month).rjust(n, "0") if n <= 2 else name[:3] if n == 3 else name[0] if n == 5 else name
    if c == "d":
        weekday = _DAYS[days % 7]  # serial 1 (1900-01-01) is a Sunday in Excel
        return str(day).rjust(n, "0") if n <= 2 else weekday[:3] if n == 3 else weekday
    if c == "h":
        if twelve:
            hour = hour % 12 or 12
        return str(hour).rjust(min(n, 2), "0")
    if c == "M":
        return str(minute).rjust(min(n, 2), "0")
    return str(second).rjust(min(n, 2), "0")
