"""Excel's 1900 date system, and dates and times written as text read as en-US Excel reads them.

One reader serves every place Excel turns text into a date or time: arithmetic on text
(``="1/31/2020"+1``), VALUE, DATEVALUE, TIMEVALUE and the date arguments of the date
functions (Microsoft, "DATEVALUE function", "TIMEVALUE function", "VALUE function").

Serial 1 is 1900-01-01, and serial 60 the 29 February 1900 that never was (Excel keeps
Lotus 1-2-3's leap-year bug), so a date from March 1900 on is one day further than the calendar
count. Accepted dates: ``1/31/2020``, ``1/31/20``, ``2020-01-31``, ``2020/1/31``,
``31-Jan-2020``, ``31 January 2020``, ``January 31, 2020``, ``Jan 31`` and ``1/31`` (this
year), ``Jan 2020`` and ``1/2020`` (the 1st); times ``10:30``, ``10:30:15.25``, ``5 PM``,
``10:30 am``, a last field up to 9999 (``0:0:9999``, ``59:9999.5`` as minutes and seconds),
and a date followed by a time.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

__all__ = ["SERIAL_ZERO", "month_days", "read_datetime", "serial_of"]

SERIAL_ZERO = dt.date(1899, 12, 31)
"""The day serial 0 stands for (1900-01-00); before March 1900 a serial counts days from it."""
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {"sept": 9}
_CLOCK = re.compile(r"(?i)(?:^|[\s,])(\d+)(?::(\d+)(?::(\d+(?:\.\d*)?))?\s*([ap]m?)?|\s*([ap]m?))\s*$")
_LOOSE = re.compile(r"^(\d+):(\d+)(?::(\d+))?(\.\d*)?$")
_STAMP = re.compile(r"^(.*\d)\s+(\d+:\d+(?::\d+)?(?:\.\d*)?)$")


def month_days(y: int, m: int) -> int:
    """Days in month ``m`` of year ``y`` (29 for February 1900, as Excel counts it)."""
    return 29 if (y, m) == (1900, 2) else calendar.monthrange(y, m)[1]


def serial_of(y: int, m: int, d: int) -> int:
    """Serial of the first of month ``m`` of year ``y`` plus ``d - 1`` days (``d`` may run past the
    month): days since 1899-12-31, plus one from March 1900 on (the phantom 29 February)."""
    return (dt.date(y, m, 1) - SERIAL_ZERO).days + ((y, m) > (1900, 2)) + d - 1


def _year(token: str) -> int:
    y = int(token)
    return y + (2000 if y < 30 else 1900) if len(token) <= 2 else y


def _date(text: str) -> int | None:
    """Serial of a date written in ``text``, or None."""
    if not re.fullmatch(r"[A-Za-z0-9/\-\s,]+", text):
        return None
    tokens = re.findall(r"[A-Za-z]+|\d+", text)
    names = [i for i, t in enumerate(tokens) if t.isalpha()]
    this_year = dt.date.today().year
    if not names and len(tokens) == 3:
        m, d, y = (tokens[1], tokens[2], tokens[0]) if len(tokens[0]) > 2 else tokens
        year, month, day = _year(y), int(m), int(d)
    elif not names and len(tokens) == 2:
        a, b = tokens if len(tokens[0]) <= 2 else tokens[::-1]
        month, day, year = (int(a), int(b), this_year) if int(b) <= 31 and len(b) <= 2 else (int(a), 1, _year(b))
    elif names in ([0], [1]) and len(tokens) in (2, 3) and tokens[names[0]].lower() in _MONTHS:
        month = _MONTHS[tokens[names[0]].lower()]
        rest = [t for t in tokens if not t.isalpha()]
        if len(rest) == 2:
            day, year = int(rest[0]), _year(rest[1])
        elif int(rest[0]) <= 31 and len(rest[0]) <= 2:
            day, year = int(rest[0]), this_year
        else:
            day, year = 1, _year(rest[0])
    else:
        return None
    if not (1900 <= year <= 9999 and 1 <= month <= 12 and 1 <= day <= month_days(year, month)):
        return None
    return serial_of(year, month, day)


def _loose_time(text: str) -> float | None:
    """``h:m``, ``m:s.f`` or ``h:m:s(.f)`` as a day fraction; the last field may run to 9999 when the
    one before stays in its range (hours 0-23, minutes 0-59)."""
    m = _LOOSE.match(text)
    if not m:
        return None
    a, b, c, frac = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    if c is not None:  # h:m:s(.f)
        last, bound, seconds = int(c), a <= 23, a * 3600 + b * 60 + int(c) + float(frac or 0)
        if b > 59:
            return None
    elif frac and len(frac) > 1:  # m:s.f
        last, bound, seconds = b, a <= 59, a * 60 + b + float(frac)
    else:  # h:m, a trailing "." allowed
        last, bound, seconds = b, a <= 23, a * 3600 + b * 60
    if last > 9999 or (last > 59 and not bound):
        return None
    return seconds / 86400.0


def _clock(text: str) -> tuple[str, float | None] | None:
    """A trailing time of day (``10:30``, ``10:30:15.5 PM``, ``5 PM``) split off ``text``: (rest, day
    fraction), (text, None) without one, None for a time no clock shows."""
    m = _CLOCK.search(text)
    if not m or (m.group(2) is None and m.group(5) is None):
        return text, None
    h, mi, s = int(m.group(1)), int(m.group(2) or 0), float(m.group(3) or 0)
    half = (m.group(4) or m.group(5) or "").lower()
    if mi > 59 or s >= 60 or (half and h > 12):
        return None
    if half:
        h = h % 12 + (12 if half.startswith("p") else 0)
    return text[:m.start()].strip(" ,"), (h * 3600 + mi * 60 + s) / 86400 % 1


def read_datetime(text: str) -> tuple[int | None, float | None] | None:
    """The date serial and the time of day (a day fraction) written in ``text``, either None where
    absent; None when ``text`` is no date or time Excel reads."""
    text = text.strip()
    loose = _loose_time(text)
    if loose is not None:
        return None, loose
    split = _clock(text)
    if split is None:
        stamp = _STAMP.match(text)  # a date and a time past the clock's range (23:99)
        if stamp is None:
            return None
        day, time = _date(stamp.group(1)), _loose_time(stamp.group(2))
        return None if day is None or time is None else (day, time)
    rest, time = split
    if not rest:
        return None if time is None else (None, time)
    day = _date(rest)
    return None if day is None else (day, time)
