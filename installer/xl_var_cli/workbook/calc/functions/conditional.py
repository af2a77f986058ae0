"""Excel's conditional aggregates: COUNTIF(S), SUMIF(S), AVERAGEIF(S), MAXIFS, MINIFS, COUNTBLANK.

The criteria follow Microsoft, "COUNTIFS function": an operator prefix (=, <>, <, <=, >, >=),
wildcards ``* ? ~`` for text, number text compared as numbers, an empty criteria cell read as 0;
the range aggregated takes the shape of the first criteria range from its top-left cell
(Microsoft, "SUMIF function"). Sums run left to right in plain double precision, as Excel does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

from ..operands import VALUE, ExcelError, Ref, XlError, compare, elementwise, number_from_text
from .aggregate import _LONG, _flat, _mean, _shape, _total, _used

__all__ = ["FUNCTIONS"]

Predicate = Callable[[Any], bool]

_OPS = ("<=", ">=", "<>", "<", ">", "=")
_TESTS: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0, "<>": lambda c: c != 0, "<": lambda c: c < 0, "<=": lambda c: c <= 0,
    ">": lambda c: c > 0, ">=": lambda c: c >= 0,
}


def _wildcard(text: str) -> re.Pattern[str]:
    """``* ? ~`` pattern (``~`` escapes the next character) as a case-insensitive full-match regex."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "~" and i + 1 < len(text):
            i += 1
            out.append(re.escape(text[i]))
        else:
            out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _number_test(op: str, target: float) -> Predicate:
    test = _TESTS[op]

    def match(v: Any) -> bool:
        if v.__class__ is float:
            return test((v > target) - (v < target))
        if isinstance(v, str) and op in ("=", "<>"):
            x = number_from_text(v)
            return (x == target) == (op == "=")
        return op == "<>"

    return match


def _same_kind_test(op: str, target: Any, kind: type) -> Predicate:
    """Compare with values of ``kind`` only (text, logicals, errors); other kinds match only ``<>``."""
    test = _TESTS[op]
    if kind is XlError:
        return lambda v: (v is target) == (op == "=") if op in ("=", "<>") else False
    return lambda v: test(compare(v, target)) if isinstance(v, kind) else op == "<>"


@functools.lru_cache(maxsize=1024)
def _criterion(kind: type, crit: Any) -> Predicate:
    """A cell predicate for one criteria value (cached: the same criteria recur across cells)."""
    if kind is float:
        return _number_test("=", crit)
    if kind is bool or kind is XlError:
        return _same_kind_test("=", crit, kind)
    op = next((o for o in _OPS if crit.startswith(o)), "")
    rest = crit[len(op):]
    if rest == "":
        if op in ("", "="):
            return (lambda v: v is None or v == "") if op == "" else (lambda v: v is None)
        if op == "<>":
            return lambda v: v is not None
    op = op or "="
    number = number_from_text(rest)
    if number is not None:
        return _number_test(op, number)
    if rest.upper() in ("TRUE", "FALSE"):
        return _same_kind_test(op, rest.upper() == "TRUE", bool)
    if rest.startswith("#") and XlError._codes.get(rest.upper()) is not None:
        return _same_kind_test(op, XlError(rest.upper()), XlError)
    if op in ("=", "<>") and any(ch in rest for ch in "*?~"):
        pattern = _wildcard(rest)
        want = op == "="
        return lambda v: (isinstance(v, str) and pattern.fullmatch(v) is not None) == want
    return _same_kind_test(op, rest, str)


def _predicate(crit: Any) -> Predicate:
    if crit is None:
        crit = 0.0
    return _criterion(crit.__class__, crit)


def _window(ranges: list[Any]) -> tuple[list[list[Any]], int]:
    """The values of equally shaped ranges, whole columns read only down to the last used row of
    any of them; and how many cells were left unread (blank in every range)."""
    h, w = _shape(ranges[0])
    if h - 1 <= _LONG or not all(isinstance(r, Ref) for r in ranges):
        return [_flat(r) for r in ranges], 0
    hh = ww = 1
    for r in ranges:
        used = _used(r)
        hh, ww = max(hh, used.r2 - r.r1 + 1), max(ww, used.c2 - r.c1 + 1)
    cut = [Ref(r.book, r.sheet, r.r1, r.c1, r.r1 + hh - 1, r.c1 + ww - 1) for r in ranges]
    return [_flat(r) for r in cut], h * w - hh * ww


def _fitted(values: Any, shape: tuple[int, int]) -> Any:
    """A SUMIF/AVERAGEIF sum range, taken with the criteria range's shape from its top-left cell."""
    if isinstance(values, Ref) and values.shape != shape:
        h, w = shape
        return Ref(values.book, values.sheet, values.r1, values.c1, values.r1 + h - 1, values.c1 + w - 1)
    if _shape(values) != shape:
        raise ExcelError(VALUE)
    return values


def _picked_numbers(values: list[Any], indexes: list[int]) -> list[float]:
    out = []
    for i in indexes:
        v = values[i]
        if v.__class__ is float:
            out.append(v)
        elif isinstance(v, XlError):
            raise ExcelError(v)
    return out


def _conditional(reduce: Callable[[list[float]], float] | None, single: bool) -> Callable[..., Any]:
    """A criteria function: SUMIF-like when ``single`` (range, criteria, [sum_range]), else
    SUMIFS-like (target, range1, criteria1, ...), reducing the target's selected numbers; with no
    ``reduce``, COUNTIF/COUNTIFS (range1, criteria1, ...) counting the selected cells. A
    criterion given as an array makes the result an array."""

    def fn(*args: Any) -> Any:
        if reduce is None:
            ranges, criteria, target = list(args[0::2]), list(args[1::2]), None
        elif single:
            ranges, criteria = [args[0]], [args[1]]
            target = _fitted(args[2] if len(args) > 2 and args[2] is not None else args[0], _shape(args[0]))
        else:
            ranges, criteria, target = list(args[1::2]), list(args[2::2]), args[0]
        read = ranges if target is None else [*ranges, target]
        if len(ranges) != len(criteria) or len({_shape(r) for r in read}) != 1:
            raise ExcelError(VALUE)
        flats, unread = _window(read)

        def one(*cs: Any) -> float:
            tests = [_predicate(c) for c in cs]
            indexes: Sequence[int] = range(len(flats[0]))
            for values, test in zip(flats, tests, strict=False):
                indexes = [i for i in indexes if test(values[i])]
            if reduce is not None:
                return reduce(_picked_numbers(flats[-1], list(indexes)))
            return float(len(indexes) + (unread if all(t(None) for t in tests) else 0))

        return elementwise(one)(*criteria)

    return fn


def _max_or_zero(xs: list[float]) -> float:
    return max(xs) if xs else 0.0


def _min_or_zero(xs: list[float]) -> float:
    return min(xs) if xs else 0.0


def _countblank(*args: Any) -> float:
    """COUNTBLANK(range): empty cells and cells holding "" (Microsoft, "COUNTBLANK function")."""
    n = 0
    for arg in args:
        (values,), unread = _window([arg])
        n += unread + sum(1 for v in values if v is None or v == "")
    return float(n)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "COUNTBLANK": _countblank,
    "SUMIF": _conditional(_total, True), "SUMIFS": _conditional(_total, False),
    "AVERAGEIF": _conditional(_mean, True), "AVERAGEIFS": _conditional(_mean, False),
    "MAXIFS": _conditional(_max_or_zero, False), "MINIFS": _conditional(_min_or_zero, False),
    "COUNTIF": _conditional(None, True), "COUNTIFS": _conditional(None, False),
}
