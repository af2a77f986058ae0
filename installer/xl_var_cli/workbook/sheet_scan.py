"""Where a worksheet part's rows and cells sit, in bytes, read fast.

A refresh reads every cell of every sheet (formula kinds, stored values) and rewrites the
cells it recalculated in place (:mod:`xl_var_cli.workbook.sheet_xml`). :func:`read_sheet`
finds them: :func:`read_sheet_fast` reads ``sheetData`` with one regular expression whose
grammar is that of the cells Excel and other writers store (``<c>`` with ``<f>``, ``<v>``,
``<is>``, ``<extLst>`` children in schema order, under ``<row>``, all with the prefix of
``sheetData``). Anything else (another encoding than UTF-8, comments, CDATA or processing
instructions in ``sheetData``, other elements or text among the cells, mixed prefixes, a
``dimension`` after ``sheetData``) makes it give up, and :func:`read_sheet_expat` reads the
part with expat (:func:`~xl_var_cli.workbook.xmlspans.scan`), the reference the fast reader
is tested against. Parts are well-formed by the time they are read here (checked when the
package was read, :mod:`xl_var_cli.workbook.package`).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter

from xl_var_cli.workbook.xmlspans import ATTRIBUTES, Span, char_data, parse_attrs, scan

__all__ = ["Cell", "Formula", "Sheet", "gc_paused", "read_sheet", "read_sheet_expat", "read_sheet_fast"]


class Formula(NamedTuple):
    """A cell's ``<f>``: its byte span, attributes and text."""

    start: int
    end: int
    attrs: dict[str, str]
    text: str


@dataclass(slots=True)
class Cell:
    """A ``<c>`` element: its byte span, attributes, row, and the children xl-var reads or keeps."""

    start: int
    end: int
    attrs: dict[str, str]
    row: Span
    f: Formula | None
    v: str | None  # the text of its <v>, None without one
    ext: tuple[int, int] | None  # the byte span of its <extLst>


@dataclass
class Sheet:
    """A worksheet part: its ``sheetData`` and ``dimension``, rows (their ``children`` left empty) and cells.

    Cells are keyed by coordinate, from the row's ``r`` and the cell's column (``r`` or the
    one after the previous cell's); a later row or cell of the same coordinate wins.
    """

    data: bytes
    sheet_data: Span | None
    dimension: Span | None
    rows: dict[int, Span]
    cells: dict[str, Cell]


@functools.lru_cache(maxsize=64)
def read_sheet(data: bytes) -> Sheet:
    """The structure of a worksheet part (cached: one refresh reads each sheet several times)."""
    with gc_paused():
        return read_sheet_fast(data) or read_sheet_expat(data)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (for loops that make many objects and no cycles: with a
    large workbook loaded, the collections they trigger cost more than the loops)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ----------------------------------------------------------------------------- the reference reader
def _wanted(path: tuple[str, ...]) -> bool:
    if len(path) == 1:
        return True
    if path[1] == "dimension":
        return len(path) == 2
    if path[1] != "sheetData":
        return False
    return len(path) <= 3 or (len(path) == 4 and path[3] == "c") or len(path) == 5


def read_sheet_expat(data: bytes) -> Sheet:
    """The structure of any well-formed worksheet part, read with expat."""
    root = scan(data, _wanted, lambda p: len(p) == 5 and p[4] in ("f", "v"))[0]
    dimension = next((s for s in root.children if s.name == "dimension"), None)
    sheet_data = next((s for s in root.children if s.name == "sheetData"), None)
    rows: dict[int, Span] = {}
    cells: dict[str, Cell] = {}
    last_row = 0
    for row in sheet_data.children if sheet_data else []:
        last_row = int(row.attrs.get("r", last_row + 1))
        rows[last_row] = row
        last_col = 0
        for c in row.children:
            if "r" in c.attrs:
                letters, _ = coordinate_from_string(c.attrs["r"])
                last_col = column_index_from_string(letters)
            else:
                last_col += 1
            f, v, ext = (next((s for s in c.children if s.name == name), None) for name in ("f", "v", "extLst"))
            cells[f"{get_column_letter(last_col)}{last_row}"] = Cell(
                c.start, c.end, c.attrs, row, None if f is None else Formula(f.start, f.end, f.attrs, f.text),
                None if v is None else v.text, None if ext is None else (ext.start, ext.end))
        row.children = []
    if sheet_data is not None:
        sheet_data.children = []
    return Sheet(data, sheet_data, dimension, rows, cells)


# ----------------------------------------------------------------------------- the fast reader
_A = b"(" + ATTRIBUTES + rb")\s*"  # a start tag's attributes, captured
_N = ATTRIBUTES + rb"\s*"  # the same, not captured
_HEAD = re.compile(  # one piece of the part before sheetData: a tag (groups 1-6), text, comment or PI
    rb"\s*(?:(<(/?)((?:[^\s/>:!?]+:)?([^\s/>:!?]+))" + _A + rb"(/?)>)|<\?.*?\?>|<!--.*?-->|[^<\s][^<]*)", re.S)
_ENCODING = re.compile(rb"""<\?xml\s[^?]*?encoding\s*=\s*["']([^"']*)["']""")
_DIMENSION = re.compile(rb"<(?:[^\s/>:!?]+:)?dimension[\s/>]")
_ROW, _ROW_END, _CELL, _END = 1, 4, 5, 16  # the groups of _content's alternatives


@functools.lru_cache(maxsize=8)
def _content(prefix: bytes) -> re.Pattern[bytes]:
    """One piece of ``sheetData``'s content, its elements named with ``prefix``.

    Groups: 1 a row's start tag (2 attributes, 3 ``/`` of an empty row), 4 a row's end tag,
    5 a cell (6 attributes: 7 a first ``r`` naming a cell the usual way, 8 its row, 9 the
    attributes after it; 10 ``<f>``, 11 its attributes, 12 its text; 13 ``<v>``, 14 its text;
    15 ``<extLst>``), 16 the end of sheetData, 17 anything else (not read here).
    """
    p = re.escape(prefix)

    def element(name: bytes, attrs: bytes, body: bytes) -> bytes:
        return rb"<%s%s%s(?:/>|>%s</%s%s\s*>)" % (p, name, attrs, body, p, name)

    def nested(name: bytes) -> bytes:  # any content but another element of this name, comments, PIs, CDATA
        return rb"[^<]*(?:<(?![!?]|/?%s%s[\s/>])[^<]*)*" % (p, name)

    cell_attrs = rb"""((?:\s+r="([A-Z]{1,3}([1-9][0-9]*))")?(%s))\s*""" % ATTRIBUTES
    cell = element(b"c", cell_attrs, rb"\s*(?:(%s)\s*)?(?:(%s)\s*)?(?:%s\s*)?(?:(%s)\s*)?" % (
        element(b"f", _A, rb"([^<]*)"), element(b"v", _N, rb"([^<]*)"),
        element(b"is", _N, nested(b"is")), element(b"extLst", _N, nested(b"extLst"))))
    return re.compile(rb"\s*(?:(<%srow%s(/?)>)|(</%srow\s*>)|(%s)|(</%ssheetData\s*>)|(\S))" % (
        p, _A, p, cell, p))


def read_sheet_fast(data: bytes) -> Sheet | None:
    """The structure of a worksheet part as :func:`read_sheet_expat` reads it, or None where this
    reader does not know the part's shape."""
    head = _read_head(data)
    if head is None:
        return None
    root, dimension, sheet_data = head
    prefix = sheet_data.qname[: -len("sheetData")]
    path = (root, "sheetData", "row")
    rows: dict[int, Span] = {}
    cells: dict[str, Cell] = {}
    row: Span | None = None
    last_row = 0
    last_col: int | str = 0  # or the coordinate of the last cell (its column is read when needed)
    this_row = b""
    if sheet_data.empty:
        sheet_data.end = sheet_data.open_end
    for m in [] if sheet_data.empty else _content(prefix.encode()).finditer(data, sheet_data.open_end):
        kind = m.lastindex
        if kind == _CELL and row is not None:
            r, digits, after_r, f_attrs, f_text, v_text = m.group(7, 8, 9, 11, 12, 14)
            if r is not None and digits == this_row:
                last_col = coord = r.decode()
                attrs = parse_attrs(m.group(6)) if after_r else {"r": coord}
            else:
                attrs = parse_attrs(m.group(6))
                col = column_index_from_string(last_col[: len(last_col) - len(this_row)]) \
                    if isinstance(last_col, str) else last_col
                last_col = column_index_from_string(coordinate_from_string(attrs["r"])[0]) if "r" in attrs \
                    else col + 1
                coord = f"{get_column_letter(last_col)}{last_row}"
            f_start, f_end = m.span(10)  # -1 for what a cell does not have
            cells[coord] = Cell(
                m.start(5), m.end(5), attrs, row,
                None if f_start < 0 else Formula(f_start, f_end, parse_attrs(f_attrs) if f_attrs else {},
                                                 char_data(f_text) if f_text else ""),
                None if m.start(13) < 0 else char_data(v_text) if v_text else "",
                None if m.start(15) < 0 else m.span(15))
        elif kind == _ROW and row is None:
            attrs = parse_attrs(m.group(2))
            last_row, last_col = int(attrs.get("r", last_row + 1)), 0
            this_row = str(last_row).encode() if last_row > 0 else b""  # b"": every r is read the long way
            span = Span("row", prefix + "row", attrs, m.start(1), m.end(1), bool(m.group(3)), path)
            rows[last_row] = span
            if span.empty:
                span.end = span.open_end
            else:
                row = span
        elif kind == _ROW_END and row is not None:
            row.end, row = m.end(4), None
        elif kind == _END and row is None:
            sheet_data.end = m.end(16)
            break
        else:
            return None
    if sheet_data.end < 0 or (dimension is None and _DIMENSION.search(data, sheet_data.end)):
        return None
    return Sheet(data, sheet_data, dimension, rows, cells)


def _read_head(data: bytes) -> tuple[str, Span | None, Span] | None:
    """The root's local name, the first ``dimension`` and the ``sheetData`` (its end unknown yet), or None."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    declared = _ENCODING.match(body)
    if not body.startswith(b"<") or b"\0" in body[:4] or (declared and declared.group(1).lower() != b"utf-8"):
        return None  # expat would read another encoding than UTF-8
    stack: list[str] = []
    dimension: Span | None = None
    pos = 0
    while m := _HEAD.match(data, pos):
        pos = m.end()
        if m.group(1) is None:  # text, a comment or a processing instruction
            continue
        closing, qname, local, empty = (x.decode() for x in m.group(2, 3, 4, 6))
        if closing:
            if len(stack) == 2 and dimension is not None and dimension.end < 0:
                dimension.end = pos
            stack.pop()
            if not stack:
                return None
            continue
        stack.append(local)
        if len(stack) == 2 and local in ("sheetData", "dimension"):
            span = Span(local, qname, parse_attrs(m.group(5)), m.start(1), pos, bool(empty), tuple(stack))
            if local == "sheetData":
                return stack[0], dimension, span
            if dimension is None:
                dimension = span
                if span.empty:
                    dimension.end = pos
        if empty:
            stack.pop()
    return None
