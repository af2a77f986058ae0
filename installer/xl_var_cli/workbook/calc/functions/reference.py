"""Excel's reference and array functions: INDEX, OFFSET, CHOOSE, ROW, COLUMN, ROWS, COLUMNS, AREAS,
TRANSPOSE and the dynamic-array functions UNIQUE, SORT, SORTBY, FILTER and SEQUENCE.

INDEX, OFFSET and CHOOSE return references when given references, so that ``SUM(A1:INDEX(...))``
and ``ROW(OFFSET(...))`` work; the dynamic-array functions return a :class:`Grid` (a blank cell
read from a reference becomes 0 there, as in Excel's spilled results).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..operands import (
    CALC,
    REF,
    VALUE,
    ExcelError,
    Grid,
    Ref,
    XlError,
    as_grid,
    scalar,
    to_bool,
    to_int,
    to_number,
)
from .lookup import lifted, shape_of

__all__ = ["FUNCTIONS"]

_MAX_ROW, _MAX_COL = 1048576, 16384


def _index_number(v: Any) -> int | None:
    """A row/column/area number argument: None when omitted, truncated; negative: #VALUE!."""
    if v is None:
        return None
    n = to_int(v)
    if n < 0:
        raise ExcelError(VALUE)
    return n


def _filled(rows: list[list[Any]]) -> Grid:
    """A result array, blanks as 0."""
    return Grid([[0.0 if v is None else v for v in row] for row in rows])


# ----------------------------------------------------------------------------- INDEX
_OMITTED: Any = object()  # INDEX's column_num not given at all (an empty argument is 0)


@lifted(0)
def _index(array: Any, row_num: Any = None, column_num: Any = _OMITTED, area_num: Any = None) -> Any:
    """The cell, row or column of ``array`` at ``row_num``, ``column_num`` (Microsoft, "INDEX function").

    Row or column 0 (or empty) selects the whole column or row; a single number indexes along a
    one-row or one-column area or array (a 2-D array gives the row; a 2-D reference #REF!). A
    reference gives a reference, an array values. ``area_num`` picks an area of a union (a tuple
    of references). Negative: #VALUE!; beyond the area or the areas: #REF!.
    """
    for v in (array, row_num, column_num, area_num):
        if isinstance(v, XlError):
            return v
    omitted = column_num is _OMITTED
    r, c, area = _index_number(row_num), _index_number(None if omitted else column_num), _index_number(area_num)
    if isinstance(array, tuple | list):
        if (area or 1) > len(array):
            raise ExcelError(REF)
        array = array[(area or 1) - 1]
    elif area is not None and area > 1:
        raise ExcelError(REF)
    height, width = shape_of(array)
    if height == 1 and omitted and r is not None:
        r, c = 1, r  # one row: the single number picks along it
    elif omitted and isinstance(array, Ref) and height > 1 and width > 1:
        raise ExcelError(REF)
    r, c = r or 0, c or 0
    if r > height or c > width:
        raise ExcelError(REF)
    i1, i2 = (r - 1, r - 1) if r else (0, height - 1)
    j1, j2 = (c - 1, c - 1) if c else (0, width - 1)
    if isinstance(array, Ref):
        return Ref(array.book, array.sheet, array.r1 + i1, array.c1 + j1, array.r1 + i2, array.c1 + j2)
    rows = as_grid(array).rows
    if i1 == i2 and j1 == j2:
        return rows[i1][j1]
    return Grid([row[j1:j2 + 1] for row in rows[i1:i2 + 1]])


# ----------------------------------------------------------------------------- OFFSET
def _offset(reference: Any, rows: Any, cols: Any, height: Any = None, width: Any = None) -> Any:
    """The reference ``rows`` down and ``cols`` right of ``reference``, ``height`` x ``width`` in size
    (default: the size of ``reference``) (Microsoft, "OFFSET function").

    Not a reference: #VALUE!; height or width 0, or off the sheet: #REF!. A negative height or
    width extends up or left from the moved corner.
    """
    if not isinstance(reference, Ref):
        raise ExcelError(VALUE)
    dr, dc = to_int(scalar(rows)), to_int(scalar(cols))
    h = reference.shape[0] if height is None else to_int(scalar(height))
    w = reference.shape[1] if width is None else to_int(scalar(width))
    if h == 0 or w == 0:
        raise ExcelError(REF)
    r1, c1 = reference.r1 + dr, reference.c1 + dc
    r1, r2 = (r1, r1 + h - 1) if h > 0 else (r1 + h + 1, r1)
    c1, c2 = (c1, c1 + w - 1) if w > 0 else (c1 + w + 1, c1)
    if r1 < 1 or c1 < 1 or r2 > _MAX_ROW or c2 > _MAX_COL:
        raise ExcelError(REF)
    return Ref(reference.book, reference.sheet, r1, c1, r2, c2)


# ----------------------------------------------------------------------------- CHOOSE
def _choose(index_num: Any, *values: Any) -> Any:
    """The ``index_num``-th value (truncated) (Microsoft, "CHOOSE function").

    The chosen argument comes back as it is (a reference stays a reference); outside 1..count:
    #VALUE!. An array of indexes gives an array of choices.
    """
    if isinstance(index_num, Grid) or (isinstance(index_num, Ref) and index_num.shape != (1, 1)):
        picks = as_grid(index_num)
        height, width = picks.shape
        for v in values:
            h, w = shape_of(v)
            height, width = max(height, h), max(width, w)
        grids = [as_grid(v) for v in values]
        out = []
        for i in range(height):
            row = []
            for j in range(width):
                try:
                    row.append(_pick_value(grids, picks.at(i, j), i, j))
                except ExcelError as exc:
                    row.append(exc.error)
            out.append(row)
        return _filled(out)
    n = to_int(scalar(index_num))
    if not 1 <= n <= len(values):
        raise ExcelError(VALUE)
    return values[n - 1]


def _pick_value(grids: list[Grid], index: Any, i: int, j: int) -> Any:
    n = to_int(index)
    if not 1 <= n <= len(grids):
        raise ExcelError(VALUE)
    return grids[n - 1].at(i, j)


# ----------------------------------------------------------------------------- ROW, COLUMN, ROWS, COLUMNS, AREAS
def _row(reference: Any) -> Any:
    """Row number of a reference; a taller one gives a column of row numbers (Microsoft, "ROW function");
    an error (an empty intersection's #NULL!) is the result."""
    if isinstance(reference, XlError):
        return reference
    if not isinstance(reference, Ref):
        raise ExcelError(VALUE)
    if reference.r1 == reference.r2:
        return float(reference.r1)
    return Grid([[float(r)] for r in range(reference.r1, reference.r2 + 1)])


def _column(reference: Any) -> Any:
    """Column number of a reference; a wider one gives a row of numbers (Microsoft, "COLUMN function");
    an error (an empty intersection's #NULL!) is the result."""
    if isinstance(reference, XlError):
        return reference
    if not isinstance(reference, Ref):
        raise ExcelError(VALUE)
    if reference.c1 == reference.c2:
        return float(reference.c1)
    return Grid([[float(c) for c in range(reference.c1, reference.c2 + 1)]])


def _rows(array: Any) -> Any:
    """Number of rows of a reference or array (Microsoft, "ROWS function"); a union: #REF!."""
    if isinstance(array, tuple | list):
        return REF
    return array if isinstance(array, XlError) else float(shape_of(array)[0])


def _columns(array: Any) -> Any:
    """Number of columns of a reference or array (Microsoft, "COLUMNS function"); a union: #REF!."""
    if isinstance(array, tuple | list):
        return REF
    return array if isinstance(array, XlError) else float(shape_of(array)[1])


def _areas(reference: Any) -> Any:
    """Number of areas in a reference: 1 for a rectangle, the count of a union (Microsoft, "AREAS function")."""
    if isinstance(reference, list | tuple):
        return float(len(reference))
    if isinstance(reference, Ref):
        return 1.0
    return reference if isinstance(reference, XlError) else VALUE


# ----------------------------------------------------------------------------- array reshaping
def _transpose(array: Any) -> Any:
    """Rows become columns (Microsoft, "TRANSPOSE function")."""
    rows = as_grid(array).rows
    return _filled([list(col) for col in zip(*rows, strict=True)])


def _sequence(rows: Any, columns: Any = None, start: Any = None, step: Any = None) -> Any:
    """A ``rows`` x ``columns`` array counting from ``start`` by ``step`` along rows
    (Microsoft, "SEQUENCE function"). Omitted: 1 column, start 1, step 1; a size 0: #CALC!;
    negative: #VALUE!."""
    n = to_int(scalar(rows))
    m = 1 if columns is None else to_int(scalar(columns))
    first = 1.0 if start is None else to_number(scalar(start))
    by = 1.0 if step is None else to_number(scalar(step))
    if n < 0 or m < 0:
        raise ExcelError(VALUE)
    if n == 0 or m == 0:
        raise ExcelError(CALC)
    return Grid([[first + (i * m + j) * by for j in range(m)] for i in range(n)])


_ERROR_ORDER = {code: n for n, code in enumerate(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))}


def _sort_key(v: Any) -> tuple[int, Any]:
    """Order of SORT: numbers, text (ignoring case), logicals, errors (by code), blanks."""
    if v is None:
        return 4, 0
    if isinstance(v, bool):
        return 2, v
    if isinstance(v, float | int):
        return 0, v
    if isinstance(v, str):
        return 1, v.lower()
    return 3, _ERROR_ORDER.get(v.code, 7)


def _sorted_lines(lines: list[list[Any]], keys: list[tuple[list[Any], int]]) -> list[list[Any]]:
    """``lines`` stably sorted by each (values, order) in ``keys``, the first key most significant."""
    order = list(range(len(lines)))
    for values, direction in reversed(keys):
        order.sort(key=lambda k, values=values: _sort_key(values[k]), reverse=direction < 0)
    return [lines[k] for k in order]


def _direction(v: Any) -> int:
    d = 1 if v is None else to_int(v)
    if d not in (1, -1):
        raise ExcelError(VALUE)
    return d


def _sort(array: Any, sort_index: Any = None, sort_order: Any = None, by_col: Any = None) -> Any:
    """The rows (columns with ``by_col``) of ``array`` sorted by the ``sort_index``-th column (row),
    ascending (1) or descending (-1) (Microsoft, "SORT function"). Index out of range or order
    not 1/-1: #VALUE!."""
    rows = as_grid(array).rows
    across = by_col is not None and to_bool(scalar(by_col))
    lines = [list(col) for col in zip(*rows, strict=True)] if across else rows
    indexes = [1.0] if sort_index is None else list(as_grid(sort_index).flat())
    orders = [None] if sort_order is None else list(as_grid(sort_order).flat())
    if len(orders) > len(indexes):
        raise ExcelError(VALUE)
    keys = []
    for n, k in enumerate(indexes):
        pos = to_int(k)
        if not 1 <= pos <= len(lines[0]):
            raise ExcelError(VALUE)
        keys.append(([line[pos - 1] for line in lines], _direction(orders[n] if n < len(orders) else orders[-1])))
    result = _sorted_lines(lines, keys)
    return _filled([list(col) for col in zip(*result, strict=True)] if across else result)


def _sortby(array: Any, *by: Any) -> Any:
    """The rows (or columns) of ``array`` sorted by ``by_array1, sort_order1, ...``, each a row or
    column as long as the array (Microsoft, "SORTBY function"); otherwise #VALUE!."""
    rows = as_grid(array).rows
    height, width = len(rows), len(rows[0])
    keys, across = [], None
    for n in range(0, len(by), 2):
        h, w = shape_of(by[n])
        line_across = (h == 1 and w > 1) or (h == 1 and w == 1 and height == 1 and width > 1)
        if (h > 1 and w > 1) or (across is not None and across != line_across):
            raise ExcelError(VALUE)
        across = line_across
        values = list(as_grid(by[n]).flat())
        if len(values) != (width if across else height):
            raise ExcelError(VALUE)
        keys.append((values, _direction(scalar(by[n + 1]) if n + 1 < len(by) else None)))
    if not keys:
        raise ExcelError(VALUE)
    lines = [list(col) for col in zip(*rows, strict=True)] if across else rows
    result = _sorted_lines(lines, keys)
    return _filled([list(col) for col in zip(*result, strict=True)] if across else result)


def _identity(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else (v.__class__, v)


@lifted(0)
def _unique(array: Any, by_col: Any = None, exactly_once: Any = None) -> Any:
    """The distinct rows (columns with ``by_col``) of ``array``, in order of first appearance, text
    compared without regard to case; with ``exactly_once`` only those appearing once
    (Microsoft, "UNIQUE function"). None: #CALC!. Arrays of flags give an array of results, each
    the first value of its own UNIQUE (an array cannot nest in an array)."""
    rows = as_grid(array).rows
    across = by_col is not None and to_bool(by_col)
    once = exactly_once is not None and to_bool(exactly_once)
    lines = [list(col) for col in zip(*rows, strict=True)] if across else rows
    counts: dict[tuple[Any, ...], int] = {}
    firsts: dict[tuple[Any, ...], list[Any]] = {}
    for line in lines:
        key = tuple(_identity(v) for v in line)
        counts[key] = counts.get(key, 0) + 1
        firsts.setdefault(key, line)
    result = [line for key, line in firsts.items() if not once or counts[key] == 1]
    if not result:
        raise ExcelError(CALC)
    return _filled([list(col) for col in zip(*result, strict=True)] if across else result)


def _filter(array: Any, include: Any, if_empty: Any = CALC) -> Any:
    """The rows (or columns) of ``array`` whose ``include`` value is true: ``include`` is a column
    as tall as the array or a row as wide (Microsoft, "FILTER function"). Otherwise #VALUE!; an
    error in ``include`` is the result, text #VALUE!; nothing kept: ``if_empty``, else #CALC!."""
    rows = as_grid(array).rows
    height, width = len(rows), len(rows[0])
    h, w = shape_of(include)
    flags = list(as_grid(include).flat())
    if w == 1 and h == height:
        across = False
    elif h == 1 and w == width:
        across = True
    else:
        raise ExcelError(VALUE)
    keep = []
    for v in flags:
        if isinstance(v, XlError):
            return v
        if isinstance(v, str):
            raise ExcelError(VALUE)
        keep.append(to_bool(v))
    if across:
        result = [[row[j] for j in range(width) if keep[j]] for row in rows]
        empty = not result[0]
    else:
        result = [row for row, k in zip(rows, keep, strict=True) if k]
        empty = not result
    if empty:
        return 0.0 if if_empty is None else if_empty
    return _filled(result)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "INDEX": _index,
    "OFFSET": _offset,
    "CHOOSE": _choose,
    "ROW": _row,
    "COLUMN": _column,
    "ROWS": _rows,
    "COLUMNS": _columns,
    "AREAS": _areas,
    "TRANSPOSE": _transpose,
    "SEQUENCE": _sequence,
    "SORT": _sort,
    "SORTBY": _sortby,
    "UNIQUE": _unique,
    "FILTER": _filter,
}
