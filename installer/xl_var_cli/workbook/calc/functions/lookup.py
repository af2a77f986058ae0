"""Excel's search functions: MATCH, VLOOKUP, HLOOKUP, LOOKUP, XLOOKUP and XMATCH.

Approximate searches reproduce Excel's binary search, so unsorted data gives the answer Excel's
search lands on, not a scan's: the search keeps a window ``(lo, hi)`` of positions known to be
too low and too high, looks at the middle, steps right over values of another type (blanks,
errors, text when looking for a number...), and on an equal value moves to the last of a run of
equal values. Comparisons ignore case; values of another type never match (``"1"`` is not 1).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any

from ..operands import NA, REF, VALUE, ExcelError, Grid, Ref, XlError, elementwise, scalar, to_bool, to_int, to_number

__all__ = ["FUNCTIONS"]

_LONG = 65536  # a reference longer than this is cut at the sheet's last used row/column before searching
_FEW = 64  # a binary search in a longer line of a reference reads its cells one by one


# ----------------------------------------------------------------------------- reading the searched values
def shape_of(arg: Any) -> tuple[int, int]:
    """Rows and columns of an argument (a scalar is 1 x 1)."""
    return arg.shape if isinstance(arg, Ref | Grid) else (1, 1)


class _Cells:
    """A row or column of a reference read cell by cell, for a binary search that reads few of them."""

    __slots__ = ("across", "book", "col", "row", "sheet", "size")

    def __init__(self, ref: Ref, k: int, size: int, across: bool) -> None:
        self.book, self.sheet, self.size, self.across = ref.book, ref.sheet, size, across
        self.row, self.col = (ref.r1 + k, ref.c1) if across else (ref.r1, ref.c1 + k)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> Any:
        if self.across:
            return self.book.value(self.sheet, self.row, self.col + i)
        return self.book.value(self.sheet, self.row + i, self.col)


def line_of(arg: Any, k: int, across: bool, lazy: bool = False) -> Any:
    """Row ``k`` (``across``) or column ``k`` of an argument, as a list of values (a long line of a
    reference is cut at the sheet's last used row/column; with ``lazy``, it is read when indexed)."""
    if isinstance(arg, Ref):
        r1, c1, r2, c2 = arg.r1, arg.c1, arg.r2, arg.c2
        if (c2 - c1 if across else r2 - r1) > _LONG:
            last_row, last_col = arg.book.extent(arg.sheet)
            r2, c2 = (r2, max(c1, min(c2, last_col))) if across else (max(r1, min(r2, last_row)), c2)
        size = c2 - c1 + 1 if across else r2 - r1 + 1
        if lazy and size > _FEW:
            return _Cells(arg, k, size, across)
        if across:
            return arg.book.block(arg.sheet, r1 + k, c1, r1 + k, c2)[0]
        return [row[0] for row in arg.book.block(arg.sheet, r1, c1 + k, r2, c1 + k)]
    if isinstance(arg, Grid):
        return list(arg.rows[k]) if across else [row[k] for row in arg.rows]
    return [arg]


def value_at(arg: Any, i: int, j: int) -> Any:
    """The value at 0-based (i, j) of an argument; a blank cell reads as 0, as a lookup result does."""
    if isinstance(arg, Ref):
        v = arg.book.value(arg.sheet, arg.r1 + i, arg.c1 + j)
        return 0.0 if v is None else v
    if isinstance(arg, Grid):
        return arg.rows[i][j]
    return arg


def vector_of(arg: Any, lazy: bool = False) -> tuple[Any, bool]:
    """The values of a one-row or one-column argument and whether it is a row; #N/A if 2-D."""
    rows, cols = shape_of(arg)
    if rows > 1 and cols > 1:
        raise ExcelError(NA)
    return line_of(arg, 0, rows == 1 and cols > 1, lazy), rows == 1 and cols > 1


# ----------------------------------------------------------------------------- comparing and searching
def lookup_key(v: Any) -> Any:
    """The lookup value as searched: errors raise, a blank is 0, text is lower-cased."""
    if isinstance(v, XlError):
        raise ExcelError(v)
    if v is None:
        return 0.0
    if isinstance(v, str):
        return v.lower()
    return v if isinstance(v, bool) else float(v)


def _cmp(key: Any, item: Any) -> int | None:
    """-1, 0 or 1 as ``key`` is below, equal to or above ``item``; None if they differ in type."""
    cls = key.__class__
    if item.__class__ is not cls:
        return None
    if cls is str:
        item = item.lower()
    return -1 if key < item else 1 if key > item else 0


def approximate(items: Any, key: Any, sign: int = 1) -> int:
    """Excel's binary search: the position of the last value <= ``key`` (>= with ``sign`` -1), or -1.

    Rule of MATCH type 1, VLOOKUP/HLOOKUP/LOOKUP approximate match (Microsoft, "MATCH function",
    "VLOOKUP function"): the data is assumed sorted; values of another type are stepped over.
    """
    lo, hi = -1, len(items)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        c = _cmp(key, items[mid])
        if c is None:
            j = mid + 1
            while j < hi and (c := _cmp(key, items[j])) is None:
                j += 1
            if j == hi:
                hi = mid
                continue
            mid = j
        c *= sign  # type: ignore[operator]
        if c == 0:
            while mid + 1 < hi and _cmp(key, items[mid + 1]) == 0:
                mid += 1
            return mid
        if c < 0:
            hi = mid
        else:
            lo = mid
    return lo


@functools.lru_cache(maxsize=512)
def _wildcards(text: str) -> re.Pattern[str] | None:
    """The regular expression of a (lower-case) pattern with ``*``, ``?`` and ``~`` escapes, or None."""
    if not any(ch in text for ch in "*?~"):
        return None
    parts, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "~" and i + 1 < len(text) and text[i + 1] in "*?~":
            parts.append(re.escape(text[i + 1]))
            i += 2
            continue
        parts.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(parts), re.S)


def exact(items: list[Any], key: Any, wildcards: bool, reverse: bool = False) -> int:
    """The position of the first value equal to ``key`` (the last with ``reverse``), or -1.

    Text matches without regard to case, with ``*``/``?``/``~`` wildcards when ``wildcards``.
    """
    order = range(len(items) - 1, -1, -1) if reverse else range(len(items))
    cls = key.__class__
    pattern = _wildcards(key) if wildcards and cls is str else None
    if pattern is not None:
        match = pattern.fullmatch
        return next((i for i in order if items[i].__class__ is str and match(items[i].lower())), -1)
    if cls is str:
        return next((i for i in order if items[i].__class__ is str and items[i].lower() == key), -1)
    if reverse:
        return next((i for i in order if items[i].__class__ is cls and items[i] == key), -1)
    start = 0
    while True:  # list.index finds equal numbers fast; True == 1.0 in Python, so check the type
        try:
            i = items.index(key, start)
        except ValueError:
            return -1
        if items[i].__class__ is cls:
            return i
        start = i + 1


def _descending(items: list[Any], key: Any) -> int:
    """MATCH type -1: scan while values are >= ``key``; the last such position (or the equal one), or -1."""
    best = -1
    for i, item in enumerate(items):
        c = _cmp(key, item)
        if c is None:
            continue
        if c == 0:
            return i
        if c > 0:
            break
        best = i
    return best


def _rank(v: Any, blank: int) -> tuple[int, Any]:
    """XLOOKUP/XMATCH's order of a value: numbers < text (folded case) < logicals; a blank ranks ``blank``."""
    if v.__class__ is float:
        return 0, v
    if isinstance(v, str):
        return 1, v.casefold()
    if isinstance(v, bool):
        return 2, v
    if v is None or isinstance(v, XlError):
        return blank, 0
    return 0, float(v)


def _mode(v: Any, allowed: tuple[int, ...]) -> int:
    """A match_mode/search_mode argument, rounded down; not one of ``allowed``: #VALUE!."""
    n = math.floor(to_number(v))
    if n not in allowed:
        raise ExcelError(VALUE)
    return n


def xsearch(items: list[Any], value: Any, match_mode: Any, search_mode: Any) -> int:
    """XMATCH/XLOOKUP's search (Microsoft, "XMATCH function"): the position found, or -1.

    match_mode 0 exact, -1/1 exact or next smaller/larger, 2 wildcards, 3 regular expression;
    search_mode 1 first to last, -1 last to first, 2/-2 binary search on ascending/descending data.
    Unlike MATCH, values of all types are ordered (numbers < text < logicals), text compares by
    folded case ("ß" equals "ss"), and a blank lookup value is above everything and equals nothing.
    """
    if isinstance(value, XlError):
        raise ExcelError(value)
    mode = _mode(0.0 if match_mode is None else match_mode, (-1, 0, 1, 2, 3))
    order = _mode(1.0 if search_mode is None else search_mode, (-2, -1, 1, 2))
    if mode >= 2 and abs(order) == 2:
        raise ExcelError(VALUE)
    if mode >= 2 and isinstance(value, str):
        text = value.lower()
        try:
            pattern = (_wildcards(text) or re.compile(re.escape(text))) if mode == 2 else re.compile(value)
        except re.error:
            raise ExcelError(VALUE) from None
        test = pattern.fullmatch if mode == 2 else pattern.search
        fold = str.lower if mode == 2 else str
        positions = range(len(items) - 1, -1, -1) if order < 0 else range(len(items))
        return next((i for i in positions if isinstance(items[i], str) and test(fold(items[i]))), -1)
    if mode != -1 and mode != 1 and abs(order) == 1:  # exact: the fast way
        if value is None:
            return -1
        if isinstance(value, str):
            folded = value.casefold()
            positions = range(len(items) - 1, -1, -1) if order < 0 else range(len(items))
            return next((i for i in positions if items[i].__class__ is str and items[i].casefold() == folded), -1)
        return exact(items, value if isinstance(value, bool) else float(value), False, order < 0)
    key = _rank(value, 3)
    if abs(order) == 2:
        return _xbinary(items, key, 0 if mode >= 2 else mode, order // 2)
    best, best_key = -1, key
    for i in range(len(items) - 1, -1, -1) if order < 0 else range(len(items)):
        k = _rank(items[i], 4)
        if k == key:
            return i
        if k[0] < 4 and mode in (-1, 1) and (k < key if mode < 0 else k > key):
            if best < 0 or (k > best_key if mode < 0 else k < best_key):
                best, best_key = i, k
    return best


def _xbinary(items: list[Any], key: tuple[int, Any], mode: int, sign: int) -> int:
    """Binary search of XMATCH search_mode 2 (``sign`` 1, ascending data) or -2 (``sign`` -1)."""
    lo, hi = 0, len(items) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        k = _rank(items[mid], 4)
        if k == key:
            return mid
        if (k > key) == (sign > 0):
            hi = mid - 1
        else:
            lo = mid + 1
    smaller, larger = (hi, lo) if sign > 0 else (lo, hi)
    found = smaller if mode < 0 else larger if mode > 0 else -1
    return found if 0 <= found < len(items) else -1


# ----------------------------------------------------------------------------- array lifting
class _Whole:
    """An argument passed whole (a table), hidden from :func:`elementwise`'s broadcasting."""

    __slots__ = ("arg",)

    def __init__(self, arg: Any) -> None:
        self.arg = arg


def lifted(*whole: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Apply a function element by element over its scalar arguments (an array of lookup values
    gives an array of results); the arguments at positions ``whole`` are passed as they are."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        each = elementwise(lambda *args: fn(*(a.arg if isinstance(a, _Whole) else a for a in args)))

        def call(*args: Any) -> Any:
            result = each(*(_Whole(a) if i in whole else a for i, a in enumerate(args)))
            if isinstance(result, Grid):
                for row in result.rows:
                    row[:] = [scalar(v) if isinstance(v, Ref | Grid) else v for v in row]
            return result

        return functools.update_wrapper(call, fn)

    return decorate


# ----------------------------------------------------------------------------- the functions
@lifted(1)
def _match(lookup_value: Any, lookup_array: Any, match_type: Any = 1.0) -> Any:
    """Position of ``lookup_value`` in a row or column (Microsoft, "MATCH function").

    match_type 1 (default): the largest value <= lookup_value (binary search); 0: the first equal
    value (wildcards in text); -1: the smallest value >= lookup_value (data sorted descending).
    """
    key = lookup_key(lookup_value)
    kind = to_number(match_type)
    items, _ = vector_of(lookup_array, kind > 0)
    i = approximate(items, key) if kind > 0 else exact(items, key, True) if kind == 0 else _descending(items, key)
    return NA if i < 0 else float(i + 1)


def _table_lookup(lookup_value: Any, table: Any, index: Any, range_lookup: Any, across: bool) -> Any:
    """VLOOKUP (down the first column) and HLOOKUP (``across`` the first row)."""
    key = lookup_key(lookup_value)
    n = to_int(scalar(index))
    rows, cols = shape_of(table)
    if n < 1:
        raise ExcelError(VALUE)
    if n > (rows if across else cols):
        raise ExcelError(REF)
    approx = to_bool(scalar(range_lookup))
    items = line_of(table, 0, across, approx)
    i = approximate(items, key) if approx else exact(items, key, True)
    if i < 0:
        return NA
    return value_at(table, n - 1, i) if across else value_at(table, i, n - 1)


@lifted(1, 2, 3)
def _vlookup(lookup_value: Any, table_array: Any, col_index_num: Any, range_lookup: Any = True) -> Any:
    """Value in column ``col_index_num`` of the row found in the first column (Microsoft, "VLOOKUP function").

    range_lookup TRUE (default): approximate (binary search, largest value <= lookup_value);
    FALSE: exact, with wildcards in text. col_index_num < 1: #VALUE!; beyond the table: #REF!.
    """
    return _table_lookup(lookup_value, table_array, col_index_num, range_lookup, False)


@lifted(1, 2, 3)
def _hlookup(lookup_value: Any, table_array: Any, row_index_num: Any, range_lookup: Any = True) -> Any:
    """Value in row ``row_index_num`` of the column found in the first row (Microsoft, "HLOOKUP function").

    As VLOOKUP with rows and columns exchanged.
    """
    return _table_lookup(lookup_value, table_array, row_index_num, range_lookup, True)


@lifted(1, 2)
def _lookup(lookup_value: Any, lookup_vector: Any, result_vector: Any = None) -> Any:
    """Approximate lookup, vector or array form (Microsoft, "LOOKUP function").

    The searched values are the first row of a 2-D array with more columns than rows, else its
    first column; the result comes from ``result_vector`` (a row or column, else #N/A) or, in
    the array form, from the last row or column. Binary search for the largest value <= lookup_value.
    """
    key = lookup_key(lookup_value)
    rows, cols = shape_of(lookup_vector)
    across = cols > rows
    i = approximate(line_of(lookup_vector, 0, across, True), key)
    if i < 0:
        return NA
    if result_vector is None:
        return value_at(lookup_vector, rows - 1, i) if across else value_at(lookup_vector, i, cols - 1)
    height, width = shape_of(result_vector)
    if height > 1 and width > 1:
        return NA
    if isinstance(result_vector, Ref):  # a reference extends as far as needed, as Excel's does
        along_row = width > 1 or (height == 1 and across)
        return value_at(result_vector, 0, i) if along_row else value_at(result_vector, i, 0)
    values, _ = vector_of(result_vector)
    return values[i] if i < len(values) else NA


def _x_oriented(lookup_array: Any) -> tuple[list[Any], bool]:
    """XLOOKUP/XMATCH's lookup array as values and whether it is a row; #VALUE! when 2-D."""
    rows, cols = shape_of(lookup_array)
    if rows > 1 and cols > 1:
        raise ExcelError(VALUE)
    return line_of(lookup_array, 0, rows == 1 and cols > 1), rows == 1 and cols > 1


@lifted(1)
def _xmatch(lookup_value: Any, lookup_array: Any, match_mode: Any = 0.0, search_mode: Any = 1.0) -> Any:
    """Position of ``lookup_value`` in a row or column (Microsoft, "XMATCH function").

    match_mode 0 exact (default), -1 exact or next smaller, 1 exact or next larger, 2 wildcards;
    search_mode 1 first to last (default), -1 last to first, 2/-2 binary search (ascending/descending).
    """
    items, _ = _x_oriented(lookup_array)
    i = xsearch(items, lookup_value, match_mode, search_mode)
    return NA if i < 0 else float(i + 1)


@lifted(1, 2, 3)
def _xlookup(lookup_value: Any, lookup_array: Any, return_array: Any, if_not_found: Any = None,
             match_mode: Any = 0.0, search_mode: Any = 1.0) -> Any:
    """The item of ``return_array`` at the position of ``lookup_value`` in ``lookup_array``
    (Microsoft, "XLOOKUP function").

    Modes as XMATCH. A 2-D return array gives the whole row (lookup array a column) or column
    (lookup array a row); a reference gives a reference. Not found: ``if_not_found``, else #N/A;
    return array not as long as the lookup array: #VALUE!.
    """
    items, across = _x_oriented(lookup_array)
    rows, cols = shape_of(return_array)
    if (cols if across else rows) != len(items):
        raise ExcelError(VALUE)
    i = xsearch(items, lookup_value, match_mode, search_mode)
    if i < 0:
        return NA if if_not_found is None else if_not_found
    if isinstance(return_array, Ref):
        book, sheet, r1, c1 = return_array.book, return_array.sheet, return_array.r1, return_array.c1
        if across:
            return Ref(book, sheet, r1, c1 + i, return_array.r2, c1 + i)
        return Ref(book, sheet, r1 + i, c1, r1 + i, return_array.c2)
    if not isinstance(return_array, Grid):
        return return_array
    picked = [[row[i]] for row in return_array.rows] if across else [list(return_array.rows[i])]
    return picked[0][0] if len(picked) == 1 and len(picked[0]) == 1 else Grid(picked)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "MATCH": _match,
    "VLOOKUP": _vlookup,
    "HLOOKUP": _hlookup,
    "LOOKUP": _lookup,
    "XMATCH": _xmatch,
    "XLOOKUP": _xlookup,
}
