"""Dates in a label column, and putting rows in time order.

A label (first) column holds dates when its cells are dates (``datetime``), Excel date
serials (whole numbers whose steps are whole days as a calendar spaces them), or date
text in one of the forms exports write:

* ISO ``2024-12-01`` (a time and ``Z``/``UTC``/offset may follow) and ``2024/12/01``;
* ``Dec 01, 2024``, ``December 1, 2024``, ``01 Dec 2024``, ``01-Dec-2024``;
* ``01.12.2024`` (day first, as European Excel writes it);
* ``12/01/2024`` and ``12-01-2024``: month or day first is decided from the whole column
  (a first part above 12 means day first, a second part above 12 month first); when every
  date reads both ways the column is refused, asking for ISO dates.

Rows are then put oldest first (:func:`time_order`); dates that repeat, or that neither
rise nor fall throughout, are refused naming the first such row.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from xl_var._typing import FloatArray, IntArray
from xl_var_udfs.cells import ExcelError, is_blank, is_error, is_label, is_number, to_float

__all__ = ["EXCEL_EPOCH", "is_calendar_serials", "is_label_column", "label_dates", "time_order"]

EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # serial 0 of Excel's 1900 date system (serial 61 = 1900-03-01)
_SERIAL_MIN, _SERIAL_MAX = 10_000, 2_958_465  # 1927-05-18 .. 9999-12-31
# Steps (in days) of the calendars data come in: daily or business days, weekly, monthly, quarterly, yearly.
_CALENDARS = (frozenset({1, 2, 3, 4}), frozenset({7}), frozenset(range(28, 32)), frozenset(range(89, 93)),
              frozenset({365, 366}))
_DATE_WORDS = re.compile(r"date|time|day|period|month|week|year|stamp|snapped|as.?of|datum|fecha", re.I)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_SHAPES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"\d{4}/\d{1,2}/\d{1,2}"), ("%Y/%m/%d",)),
    (re.compile(r"[A-Za-z]{3,9}\.? \d{1,2},? \d{4}"), ("%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y")),
    (re.compile(r"\d{1,2}[ -][A-Za-z]{3,9}[ -]\d{4}"), ("%d %b %Y", "%d-%b-%Y", "%d %B %Y", "%d-%B-%Y")),
    (re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}"), ("%d.%m.%Y",)),
    (re.compile(r"\d{1,2}/\d{1,2}/\d{4}"), ("%m/%d/%Y", "%d/%m/%Y")),
    (re.compile(r"\d{1,2}-\d{1,2}-\d{4}"), ("%m-%d-%Y", "%d-%m-%Y")),
)


def is_calendar_serials(values: FloatArray) -> bool:
    """Whether numbers step like Excel date serials: whole, in the serial range, strictly rising or
    falling, and at least 90% of the steps (and the median one) those of one calendar (1-4 days,
    7, 28-31, 89-92 or 365-366)."""
    if values.size < 2 or not (np.all(values == np.round(values)) and values.min() >= _SERIAL_MIN
                               and values.max() <= _SERIAL_MAX):
        return False
    step = np.diff(values)
    if not (np.all(step > 0) or np.all(step < 0)):
        return False
    days = np.abs(step).astype(np.int64)
    median = int(np.median(days))
    for calendar in _CALENDARS:
        if median in calendar and np.isin(days, list(calendar)).mean() >= 0.9:
            return True
    return False


def is_label_column(cells: Sequence[Any], head: Any, name: str) -> bool:
    """Whether a first column holds labels: dates, text, or whole numbers that are Excel date serials.

    ``head`` is the column's header cell (None without a header row). Whole numbers in the
    serial range that rise or fall strictly are date serials when the header says so (a word
    such as "Date", "Time", "Day", "Period"), or, without such a header, when they step like a
    calendar (:func:`is_calendar_serials`); prices that rise are data. Calendar steps under a
    header naming something else (an asset) are refused as ambiguous.
    """
    if set(map(type, cells)) <= {dt.datetime, dt.date}:
        return True
    first = next((v for v in cells if not (is_blank(v) or is_error(v))), None)
    if first is None:
        return False
    if is_label(first):
        return all(is_label(v) or is_blank(v) or is_error(v) for v in cells)
    if len(cells) < 2 or not all(is_number(v) for v in cells):
        return False
    values = np.array([to_float(v) for v in cells])
    title = head.strip() if isinstance(head, str) else ""
    if _DATE_WORDS.search(title):
        step = np.diff(values)
        return bool(np.all(values == np.round(values)) and values.min() >= _SERIAL_MIN
                    and values.max() <= _SERIAL_MAX and (np.all(step > 0) or np.all(step < 0)))
    if not is_calendar_serials(values):
        return False
    if title:
        raise ExcelError("#VALUE!", f"{name} column 1 ({title!r}) holds whole numbers that step like Excel "
                                    "dates: if they are dates, head the column 'Date' or format it as dates; "
                                    "if they are data, put a date or text column before them")
    return True


def _iso(text: str) -> dt.datetime:
    stamp = dt.datetime.fromisoformat(text.removesuffix(" UTC").strip())
    return stamp.replace(tzinfo=None)


def _text_format(texts: list[tuple[int, str]], name: str) -> tuple[str, ...] | None:
    """The strptime formats (``("iso",)`` for ISO) that read every text of a date column; None when the
    first text is no date. Raises when a text reads no way the first does, or day and month can't be told."""
    first = texts[0][1]
    if _ISO.fullmatch(first.removesuffix(" UTC")):
        return ("iso",)
    for shape, formats in _SHAPES:
        if not shape.fullmatch(first):
            continue
        fits = []
        for fmt in formats:
            try:
                for _, t in texts:
                    dt.datetime.strptime(t, fmt)
            except ValueError:
                continue
            fits.append(fmt)
        if len(fits) > 1 and "%m" in fits[0]:
            raise ExcelError("#VALUE!", f"{name} column 1 holds dates such as {first!r} that read as day/month "
                                        "or month/day: write them as ISO dates (2024-12-01) or as Excel dates")
        return tuple(fits[:1]) or formats  # none reads every text: parsing names the first bad one
    return None


def label_dates(cells: Sequence[Any], name: str, row: int) -> list[dt.datetime | None] | None:
    """The dates of a label column (None for a blank or error cell), or None when it holds no dates.

    ``row`` is the range row of ``cells[0]`` (for messages). Numbers are Excel date serials (the
    caller decided the column holds them). Raises :class:`ExcelError` for a text that is no date
    like the others, naming its row.
    """
    if set(map(type, cells)) == {dt.datetime}:  # the usual Excel date column: nothing to convert
        return list(cells)
    texts = [(i, v.strip()) for i, v in enumerate(cells) if isinstance(v, str) and not is_blank(v)
             and not is_error(v)]
    formats = _text_format(texts, name) if texts else ()
    if formats is None:
        return None
    out: list[dt.datetime | None] = [None] * len(cells)
    for i, v in enumerate(cells):
        if isinstance(v, dt.datetime):
            out[i] = v
        elif isinstance(v, dt.date):
            out[i] = dt.datetime(v.year, v.month, v.day)
        elif is_number(v):
            out[i] = EXCEL_EPOCH + dt.timedelta(days=float(v))
    fmt = formats[0] if formats else ""
    for i, t in texts:
        try:
            out[i] = _iso(t) if fmt == "iso" else dt.datetime.strptime(t, fmt)
        except ValueError:
            raise ExcelError("#VALUE!", f"{name} row {row + i}, column 1 ({t!r}) is not a date like "
                                        f"{texts[0][1]!r} above it: fix it") from None
    return out


def time_order(dates: Sequence[dt.datetime | None], name: str, row: int) -> IntArray:
    """The row order that puts ``dates`` oldest first: as they are, or reversed (newest-first exports).

    Blank dates move with their rows. Raises :class:`ExcelError` naming the first row whose date
    repeats an earlier one, or that is out of order when the dates neither rise nor fall throughout.
    """
    identity = np.arange(len(dates), dtype=np.intp)
    try:  # strictly rising (or falling) dates cannot repeat: the usual case, decided by comparisons alone
        if all(map(operator.lt, dates, itertools.islice(dates, 1, None))):
            return identity
        if all(map(operator.gt, dates, itertools.islice(dates, 1, None))):
            return identity[::-1].copy()
    except TypeError:  # blanks, or naive and timezone-aware dates mixed: compared as seconds below
        pass
    known = [d for d in dates if d is not None]
    if len(known) < 2:
        return identity
    where = np.array([i for i, d in enumerate(dates) if d is not None], dtype=np.intp)
    keys = _seconds(known)
    step = np.diff(keys)
    if np.all(step > 0):
        return identity
    if np.all(step < 0):
        return identity[::-1].copy()
    if np.unique(keys).size < keys.size:
        seen: dict[float, int] = {}
        for i, k in zip(where.tolist(), keys.tolist(), strict=True):
            if k in seen:
                raise ExcelError("#VALUE!", f"{name} row {row + i}, column 1 repeats the date {_show(dates[i])} of "
                                            f"row {row + seen[k]}: remove one of them")
            seen[k] = i
    rising = np.count_nonzero(step > 0) >= np.count_nonzero(step < 0)
    i = int(where[np.flatnonzero((step < 0) if rising else (step > 0))[0] + 1])
    raise ExcelError("#VALUE!", f"{name} row {row + i}, column 1 ({_show(dates[i])}) is out of date order: the "
                                "dates must rise or fall throughout; sort the rows by date")


def _seconds(dates: list[dt.datetime]) -> FloatArray:
    """Seconds since Excel's epoch of each date; timezone-aware ones (as pywin32 delivers them) in UTC."""
    naive = [d.astimezone(dt.UTC).replace(tzinfo=None) if d.tzinfo is not None else d for d in dates]
    us = np.array(naive, dtype="datetime64[us]") - np.datetime64(EXCEL_EPOCH, "us")  # converted in C
    out: FloatArray = us.astype(np.float64) / 1e6
    return out


def _show(d: dt.datetime | None) -> str:
    if d is None:  # pragma: no cover - only dated rows are named
        return ""
    return d.date().isoformat() if d.time() == dt.time() else d.isoformat(sep=" ")
