"""Excel's date and time functions, in the 1900 date system.

A date is a serial number of days: 1 is 1900-01-01, 60 the fictitious 1900-02-29 Excel keeps for
compatibility with Lotus 1-2-3, 0 is "1900-01-00", 2958465 is 9999-12-31; the fraction is the time of
day. Weekdays follow the serial (serial 1 is a Sunday). Dates outside 0..2958465 give #NUM!; date
arguments are truncated and may be text that reads as a date (en-US, as in Microsoft's "DATEVALUE
function"). Sources: Microsoft's page for each function ("DATE function", "YEARFRAC function", ...).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from typing import Any

from ..datetext import SERIAL_ZERO, month_days, read_datetime, serial_of
from ..operands import (
    NUM,
    VALUE,
    ExcelError,
    Grid,
    Ref,
    elementwise,
    scalar_only,
    to_bool,
    to_number,
    to_text,
)

__all__ = ["FUNCTIONS"]

_MAX = 2958465  # 9999-12-31

# ----------------------------------------------------------------------------- calendar
def _ymd(n: int) -> tuple[int, int, int]:
    """Year, month, day of serial ``n`` (0 is 1900-01-00, 60 is 1900-02-29)."""
    if n == 0:
        return 1900, 1, 0
    if n == 60:
        return 1900, 2, 29
    d = SERIAL_ZERO + dt.timedelta(days=n - (n > 60))
    return d.year, d.month, d.day


def _day_number(y: int, m: int, d: int) -> int:
    """Serial of a date from year 1 to 9999, negative before 1900; months and days roll over as in DATE."""
    y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    if not 1 <= y <= 9999:
        raise ExcelError(NUM)
    return serial_of(y, m, d)


def _serial(y: int, m: int, d: int) -> int:
    """Serial of year ``y``, month ``m`` and day ``d``, rolling over as in DATE; #NUM! out of 0..2958465."""
    n = _day_number(y, m, d)
    if not 0 <= n <= _MAX:
        raise ExcelError(NUM)
    return n


def _weekday(n: int) -> int:
    """Day of the week of serial ``n``, Monday 0 ... Sunday 6."""
    return (n + 5) % 7


def _int(v: Any, *, logical: bool = True) -> int:
    """A whole-number argument (months, days, basis...), truncated; text may be a date. The Analysis
    ToolPak functions (``logical=False``) refuse TRUE/FALSE with #VALUE!."""
    if not logical and isinstance(v, bool):
        raise ExcelError(VALUE)
    x = to_number(v)
    if not math.isfinite(x):
        raise ExcelError(NUM)
    return int(x)


def _date(v: Any, *, logical: bool = True) -> int:
    """A date argument truncated to its serial; #NUM! outside 0..2958465. The Analysis ToolPak
    functions (``logical=False``) refuse TRUE/FALSE with #VALUE!."""
    if not logical and isinstance(v, bool):
        raise ExcelError(VALUE)
    x = to_number(v)
    if not 0 <= x < _MAX + 1:
        raise ExcelError(NUM)
    return int(x)


# ----------------------------------------------------------------------------- parts of a date
@elementwise
def date(year: Any, month: Any, day: Any) -> float:
    """Serial of a date; a year below 1900 has 1900 added, months and days roll over (Microsoft, "DATE function")."""
    y, m, d = _int(year), _int(month), _int(day)
    if not 0 <= y < 10000:
        raise ExcelError(NUM)
    return float(_serial(y + 1900 if y < 1900 else y, m, d))


@elementwise
def year(serial_number: Any) -> float:
    """Year of a date, 1900..9999 (Microsoft, "YEAR function")."""
    return float(_ymd(_date(serial_number))[0])


@elementwise
def month(serial_number: Any) -> float:
    """Month of a date, 1..12 (Microsoft, "MONTH function")."""
    return float(_ymd(_date(serial_number))[1])


@elementwise
def day(serial_number: Any) -> float:
    """Day of the month of a date, 0..31 (Microsoft, "DAY function")."""
    return float(_ymd(_date(serial_number))[2])


def _second_of_day(v: Any) -> int:
    """Seconds since midnight of a date/time, rounded to the nearest second."""
    x = to_number(v)
    if not 0 <= x < _MAX + 1:
        raise ExcelError(NUM)
    return int((x - math.floor(x)) * 86400 + 0.5) % 86400


@elementwise
def hour(serial_number: Any) -> float:
    """Hour of a time, 0..23 (Microsoft, "HOUR function")."""
    return float(_second_of_day(serial_number) // 3600)


@elementwise
def minute(serial_number: Any) -> float:
    """Minute of a time, 0..59 (Microsoft, "MINUTE function")."""
    return float(_second_of_day(serial_number) // 60 % 60)


@elementwise
def second(serial_number: Any) -> float:
    """Second of a time, 0..59 (Microsoft, "SECOND function")."""
    return float(_second_of_day(serial_number) % 60)


@elementwise
def time(hour: Any, minute: Any, second: Any) -> float:
    """``(hour*3600 + minute*60 + second) / 86400`` modulo one day; each argument truncated and at most
    32767, a negative total #NUM! (Microsoft, "TIME function")."""
    h, m, s = _int(hour), _int(minute), _int(second)
    total = (h * 3600 + m * 60 + s) / 86400
    if max(h, m, s) > 32767 or total < 0:
        raise ExcelError(NUM)
    return total - math.floor(total)  # not total % 1: Excel keeps the rounding of the whole days


def now() -> float:
    """The current local date and time as a serial (Microsoft, "NOW function")."""
    stamp = dt.datetime.now()
    return (stamp - dt.datetime(1899, 12, 30)).total_seconds() / 86400


def today() -> float:
    """The current local date as a serial (Microsoft, "TODAY function")."""
    return float((dt.date.today() - dt.date(1899, 12, 30)).days)


@elementwise
def datevalue(date_text: Any) -> float:
    """Serial of the date written in ``date_text``, any time ignored (Microsoft, "DATEVALUE function")."""
    if not isinstance(date_text, str):
        to_text(date_text)  # errors propagate
        raise ExcelError(VALUE)
    read = read_datetime(date_text)
    if read is None or read[0] is None:
        raise ExcelError(VALUE)
    return float(read[0])


@elementwise
def timevalue(time_text: Any) -> float:
    """Day fraction of the time written in ``time_text``, any date ignored (Microsoft, "TIMEVALUE function")."""
    if not isinstance(time_text, str):
        to_text(time_text)
        raise ExcelError(VALUE)
    read = read_datetime(time_text)
    if read is None:
        raise ExcelError(VALUE)
    x = (read[0] or 0.0) + (read[1] or 0.0)
    return x - math.floor(x)  # Excel takes the fraction of the whole date and time


# ----------------------------------------------------------------------------- weeks
_WEEK_START = {1: 6, 2: 0} | {11 + k: k for k in range(7)}  # return type -> first day (Monday 0)


@elementwise
def weekday(serial_number: Any, return_type: Any = None) -> float:
    """Day of the week: type 1 Sunday=1..Saturday=7, 2 Monday=1..Sunday=7, 3 Monday=0..Sunday=6, 11..17
    Monday..Sunday=1 (Microsoft, "WEEKDAY function")."""
    n = _date(serial_number)
    t = 1 if return_type is None else _int(return_type)
    if t == 3:
        return float(_weekday(n))
    if t not in _WEEK_START:
        raise ExcelError(NUM)
    return float((_weekday(n) - _WEEK_START[t]) % 7 + 1)


def _isoweek(n: int) -> int:
    thursday = n - _weekday(n) + 3
    y = _ymd(thursday)[0] if thursday > 0 else 1899
    return (thursday - _day_number(y, 1, 1)) // 7 + 1


@scalar_only
def weeknum(serial_number: Any, return_type: Any = None) -> float:
    """Week of the year: week 1 holds January 1 and weeks start on the day ``return_type`` names (1 Sunday,
    2 Monday, 11..17 Monday..Sunday); 21 is the ISO week (Microsoft, "WEEKNUM function")."""
    n = _date(serial_number, logical=False)
    t = 1 if return_type is None else _int(return_type)
    if t == 21:
        return float(_isoweek(n))
    if t not in _WEEK_START:
        raise ExcelError(NUM)
    jan1 = _serial(_ymd(n)[0], 1, 1)
    return float((n - jan1 + (_weekday(jan1) - _WEEK_START[t]) % 7) // 7 + 1)


@elementwise
def isoweeknum(date: Any) -> float:
    """ISO 8601 week number: weeks start on Monday, week 1 holds the year's first Thursday (Microsoft,
    "ISOWEEKNUM function")."""
    return float(_isoweek(_date(date)))


# ----------------------------------------------------------------------------- months and differences
@scalar_only
def edate(start_date: Any, months: Any) -> float:
    """The same day ``months`` months later, capped at the month's last day (Microsoft, "EDATE function")."""
    y, m, d = _ymd(_date(start_date, logical=False))
    m += _int(months, logical=False)
    y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    if not 1900 <= y <= 9999:
        raise ExcelError(NUM)
    return float(_serial(y, m, min(d, month_days(y, m))))


@scalar_only
def eomonth(start_date: Any, months: Any) -> float:
    """The last day of the month ``months`` months from ``start_date`` (Microsoft, "EOMONTH function")."""
    y, m, _ = _ymd(_date(start_date, logical=False))
    return float(_serial(y, m + _int(months, logical=False) + 1, 0))


@elementwise
def datedif(start_date: Any, end_date: Any, unit: Any) -> float:
    """Whole years "Y", months "M", days "D" between two dates; "MD" days, "YM" months, "YD" days ignoring
    the larger units, with Excel's rolling of day numbers (Microsoft, "DATEDIF function")."""
    s, e = _date(start_date), _date(end_date)
    u = to_text(unit).upper()
    if s > e:
        raise ExcelError(NUM)
    (y1, m1, d1), (y2, m2, d2) = _ymd(s), _ymd(e)
    months = (y2 - y1) * 12 + m2 - m1 - (d2 < d1)
    if u == "D":
        return float(e - s)
    if u == "M":
        return float(months)
    if u == "Y":
        return float(months // 12)
    if u == "YM":
        return float(months % 12)
    if u == "MD":
        return float(d2 - d1 if d2 >= d1 else e - _serial(y2, m2 - 1, d1))
    if u == "YD":
        return float(_day_number(y1 if (m2, d2) >= (m1, d1) else y1 + 1, m2, d2) - s)
    raise ExcelError(NUM)


@elementwise
def days(end_date: Any, start_date: Any) -> float:
    """``end_date - start_date`` in whole days (Microsoft, "DAYS function")."""
    return float(_date(end_date) - _date(start_date))


@elementwise
def days360(start_date: Any, end_date: Any, method: Any = None) -> float:
    """Days between two dates in a 360-day year. US (NASD): a start on the month's last day is the 30th; an
    end on the 31st is the 30th if the start is the 30th or later. European (``method`` TRUE): any 31st is
    the 30th (Microsoft, "DAYS360 function")."""
    s, e = _date(start_date), _date(end_date)
    (y1, m1, d1), (y2, m2, d2) = _ymd(s), _ymd(e)
    if to_bool(method):
        d1, d2 = min(d1, 30), min(d2, 30)
    else:
        if d1 == month_days(y1, m1):
            d1 = 30
        if d2 == 31 and d1 >= 30:
            d2 = 30
    return float((y2 - y1) * 360 + (m2 - m1) * 30 + d2 - d1)


def _actual_actual(s: int, e: int) -> float:
    """Basis 1: days over the year length (366 when a February 29 falls in the period) for periods up to a
    year, else over the average length of the calendar years spanned."""
    (y1, m1, d1), (y2, m2, d2) = _ymd(s), _ymd(e)
    if y1 == y2 or (y1 + 1 == y2 and (m1, d1) >= (m2, d2)):
        if y1 == y2:
            length = 366 if calendar.isleap(y1) else 365
        elif ((calendar.isleap(y1) and s < _serial(y1, 3, 1)) or (calendar.isleap(y2) and e >= _serial(y2, 3, 1))
              or (m2, d2) == (2, 29)):
            length = 366
        else:
            length = 365
        return (e - s) / length
    years = range(y1, y2 + 1)  # lengths of the real calendar: 1900 is not a leap year here
    return (e - s) / (sum(366 if calendar.isleap(y) else 365 for y in years) / len(years))


@scalar_only
def yearfrac(start_date: Any, end_date: Any, basis: Any = None) -> float:
    """Fraction of a year between two dates: basis 0 US 30/360 (a start on the 31st or on February's last
    day is the 30th; an end on the 31st is the 30th after a start on the 30th or 31st; both on February's
    last day count as equal), 1 actual/actual, 2 actual/360, 3 actual/365, 4 European 30/360 (Microsoft,
    "YEARFRAC function")."""
    b = 0 if basis is None else _int(basis, logical=False)  # checked before the dates, as Excel does
    if not 0 <= b <= 4:
        raise ExcelError(NUM)
    s, e = sorted((_date(start_date, logical=False), _date(end_date, logical=False)))
    if b == 1:
        return _actual_actual(s, e)
    if b in (2, 3):
        return (e - s) / (360 if b == 2 else 365)
    (y1, m1, d1), (y2, m2, d2) = _ymd(s), _ymd(e)
    if b == 4:
        d1, d2 = min(d1, 30), min(d2, 30)
    elif d1 == 31:
        d1, d2 = 30, 30 if d2 == 31 else d2
    elif d1 == 30 and d2 == 31:
        d2 = 30
    elif m1 == 2 and d1 == month_days(y1, 2):
        d1, d2 = 30, 30 if m2 == 2 and d2 == month_days(y2, 2) else d2
    return ((y2 - y1) * 360 + (m2 - m1) * 30 + d2 - d1) / 360


# ----------------------------------------------------------------------------- working days
_WEEKENDS = {1: (5, 6), 2: (6, 0), 3: (0, 1), 4: (1, 2), 5: (2, 3), 6: (3, 4), 7: (4, 5)} | {
    11 + k: ((k + 6) % 7,) for k in range(7)}


def _workweek(weekend: Any) -> tuple[bool, ...]:
    """Which days (Monday first) are working days for a weekend code (1..7, 11..17) or a 7-character
    string of 0 (working) and 1 (weekend) (Microsoft, "NETWORKDAYS.INTL function")."""
    if weekend is None:
        weekend = 1.0
    if isinstance(weekend, str):
        if len(weekend) != 7 or weekend.strip("01"):
            raise ExcelError(VALUE)
        return tuple(ch == "0" for ch in weekend)
    code = _int(weekend)
    if code not in _WEEKENDS:
        raise ExcelError(NUM)
    return tuple(i not in _WEEKENDS[code] for i in range(7))


def _holidays(holidays: Any) -> set[int]:
    """The holiday serials of a range, an array or a single value (blanks skipped)."""
    values: Iterable[Any] = (
        holidays.values() if isinstance(holidays, Ref) else holidays.flat() if isinstance(holidays, Grid)
        else (holidays,))
    return {_date(v, logical=False) for v in values if v is not None}


def _networkdays(s: int, e: int, work: tuple[bool, ...], holidays: set[int]) -> float:
    if s > e:
        return -_networkdays(e, s, work, holidays)
    full, rest = divmod(e - s + 1, 7)
    count = full * sum(work) + sum(work[(s + 5 + i) % 7] for i in range(rest))
    return float(count - sum(1 for h in holidays if s <= h <= e and work[_weekday(h)]))


def _workday(s: int, n: int, work: tuple[bool, ...], holidays: set[int]) -> float:
    per_week = sum(work)
    if n and not per_week:
        raise ExcelError(VALUE)
    step = 1 if n > 0 else -1
    off = sorted(h for h in holidays if work[_weekday(h)])
    left = abs(n)
    while left:
        weeks = (left - 1) // per_week
        t, left = s + step * 7 * weeks, left - weeks * per_week
        while left:
            t += step
            left -= work[_weekday(t)]
        lo, hi = (s + 1, t) if step > 0 else (t, s - 1)
        left, s = bisect_right(off, hi) - bisect_left(off, lo), t
    if not 0 <= s <= _MAX:
        raise ExcelError(NUM)
    return float(s)


def networkdays(start_date: Any, end_date: Any, holidays: Any = None) -> Any:
    """Working days (Monday to Friday, less ``holidays``) from start to end inclusive, negative when the
    end is earlier (Microsoft, "NETWORKDAYS function")."""
    return networkdays_intl(start_date, end_date, None, holidays)


def networkdays_intl(start_date: Any, end_date: Any, weekend: Any = None, holidays: Any = None) -> Any:
    """Working days from start to end inclusive with a chosen weekend (Microsoft, "NETWORKDAYS.INTL function")."""
    off = _holidays(holidays)

    @elementwise
    def one(s: Any, e: Any, w: Any) -> float:
        return _networkdays(_date(s, logical=False), _date(e, logical=False), _workweek(w), off)

    return one(start_date, end_date, weekend)


def workday(start_date: Any, days: Any, holidays: Any = None) -> Any:
    """The date ``days`` working days (Monday to Friday, not ``holidays``) after or before ``start_date``
    (Microsoft, "WORKDAY function")."""
    return workday_intl(start_date, days, None, holidays)


def workday_intl(start_date: Any, days: Any, weekend: Any = None, holidays: Any = None) -> Any:
    """The date ``days`` working days from ``start_date`` with a chosen weekend (Microsoft, "WORKDAY.INTL
    function")."""
    off = _holidays(holidays)

    @elementwise
    def one(s: Any, n: Any, w: Any) -> float:
        return _workday(_date(s, logical=False), _int(n, logical=False), _workweek(w), off)

    return one(start_date, days, weekend)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "DATE": date, "YEAR": year, "MONTH": month, "DAY": day, "HOUR": hour, "MINUTE": minute, "SECOND": second,
    "TIME": time, "NOW": now, "TODAY": today, "DATEVALUE": datevalue, "TIMEVALUE": timevalue,
    "WEEKDAY": weekday, "WEEKNUM": weeknum, "ISOWEEKNUM": isoweeknum, "EDATE": edate, "EOMONTH": eomonth,
    "DATEDIF": datedif, "DAYS": days, "DAYS360": days360, "YEARFRAC": yearfrac,
    "NETWORKDAYS": networkdays, "NETWORKDAYS.INTL": networkdays_intl, "WORKDAY": workday,
    "WORKDAY.INTL": workday_intl,
}
