"""Write computed values into an .xlsx package as formula results, keeping the formulas.

openpyxl cannot store a cached value next to a formula, so the values go into the
worksheet XML directly: each formula cell gets its ``<v>`` (``t="str"``/``"b"``/``"e"``
for text, logical and error results), each cell of a spill range gets its value, array
formulas of xl-var functions become portable (a plain formula at the anchor and a hidden
name over the range, :mod:`xl_var_cli.workbook.portable_arrays`), other array formulas get their new
range (dynamic arrays also their ``cm`` cell-metadata flag, with the metadata part Excel
expects), and ``calcPr`` is set so that Excel shows the stored values on open instead of
recalculating without the add-in. Every other byte of every part, and every other part,
is copied unchanged (see :mod:`xl_var_cli.workbook.xmlspans`; the cells are found by
:mod:`xl_var_cli.workbook.sheet_scan`).

:func:`values_only` turns a package into a snapshot without formulas (for printing, and
for readers that should see the numbers only).
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openpyxl.utils.cell import (
    column_index_from_string,
    coordinate_from_string,
    get_column_letter,
    range_boundaries,
)

from xl_var_cli.workbook.cells import ErrorValue, Key
from xl_var_cli.workbook.package import NS, Package, repack
from xl_var_cli.workbook.portable_arrays import Mark, with_marks
from xl_var_cli.workbook.sheet_scan import Cell, Formula, Sheet, gc_paused, read_sheet
from xl_var_cli.workbook.xmlspans import Span, attrs_xml, insert_after, scan, splice, text_xml

if TYPE_CHECKING:
    from xl_var_cli.workbook.engine import Evaluation

__all__ = ["CURRENT_CALC_ID", "cached_value", "formula_kinds", "sheet_parts", "values_only", "write_values"]

_PLAIN_COORDS = re.compile(r"^([A-Z]{1,3})([0-9]+)$", re.M)  # coordinates, one a line, as range_boundaries reads them
CURRENT_CALC_ID = 191029  # the calculation engine of Excel 2019/365: Excel trusts stored values from it
_SHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_META_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sheetMetadata"
_META_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml"
_XLDAPR_METADATA = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:xda="http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray">'
    '<metadataTypes count="1"><metadataType name="XLDAPR" minSupportedVersion="120000" copy="1" pasteAll="1" '
    'pasteValues="1" merge="1" splitFirst="1" rowColShift="1" clearFormats="1" clearComments="1" assign="1" '
    'coerce="1" cellMeta="1"/></metadataTypes>'
    '<futureMetadata name="XLDAPR" count="1"><bk><extLst><ext uri="{bdbb8cdc-fa1e-496e-a857-3c3f30c029c3}">'
    '<xda:dynamicArrayProperties fDynamic="1" fCollapsed="0"/></ext></extLst></bk></futureMetadata>'
    '<cellMetadata count="1"><bk><rc t="1" v="0"/></bk></cellMetadata></metadata>'
)


# ----------------------------------------------------------------------------- reading the sheets
def sheet_parts(pkg: Package) -> dict[str, str]:
    """Worksheet title -> part name, in workbook order."""
    book = pkg.xml(pkg.workbook_part)
    rels = pkg.rels(pkg.workbook_part)
    out = {}
    for sheet in book.iterfind("main:sheets/main:sheet", NS):
        kind, target = rels.get(sheet.get(f"{{{NS['r']}}}id", ""), ("", ""))
        if kind == _SHEET_REL and target in pkg.parts:
            out[sheet.get("name", "")] = target
    return out


def formula_kinds(pkg: Package) -> tuple[set[Key], set[Key]]:
    """(dynamic, shared): array formulas carrying cell metadata ``cm`` (Excel 365's dynamic
    arrays), and cells of Excel shared formulas (which must stay plain formulas)."""
    dynamic, shared = set(), set()
    for title, part in sheet_parts(pkg).items():
        for coord, cell in read_sheet(pkg.parts[part]).cells.items():
            kind = cell.f.attrs.get("t") if cell.f is not None else None
            if kind == "array" and "cm" in cell.attrs:
                dynamic.add((title, coord))
            elif kind == "shared":
                shared.add((title, coord))
    return dynamic, shared


def cached_value(pkg: Package) -> Callable[[Key], Any]:
    """A lookup of the value each formula cell last stored (for cells the engine must leave alone)."""
    sheets = {title: read_sheet(pkg.parts[part]) for title, part in sheet_parts(pkg).items()}

    def lookup(key: Key) -> Any:
        found = sheets[key[0]].cells.get(key[1]) if key[0] in sheets else None
        if found is None or not found.v:
            return None
        kind = found.attrs.get("t", "n")
        if kind == "n":
            try:
                return float(found.v)
            except ValueError:
                return ErrorValue("#VALUE!")
        if kind == "b":
            return found.v.strip() == "1"
        return ErrorValue(found.v) if kind == "e" else found.v

    return lookup


# ----------------------------------------------------------------------------- writing cells
def _number(x: float) -> str:
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _value_text(value: Any) -> tuple[str | None, str]:
    """The ``t`` attribute and the text of ``<v>`` for a value."""
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, ErrorValue):
        return "e", text_xml(str(value))
    if isinstance(value, int | float):
        return None, _number(value)
    return "str", text_xml(str(value))


@dataclass
class _CellEdit:
    value: Any = None
    clear: bool = False
    array_ref: str | None = None
    cm: str | None = None
    plain: bool = False  # a plain formula (the anchor of a portable array)


def _formula_xml(data: bytes, prefix: str, f: Formula, edit: _CellEdit) -> bytes:
    drop: tuple[str, ...]
    if edit.plain:  # the anchor of a portable array: an array formula loses its array attributes
        if "t" not in f.attrs:
            return data[f.start:f.end]
        head, drop = {}, ("t", "ref", "si", "aca")
    else:
        if edit.array_ref is None or (f.attrs.get("t") == "array" and f.attrs.get("ref") == edit.array_ref):
            return data[f.start:f.end]
        head, drop = {"t": "array", "ref": edit.array_ref}, ("t", "ref", "si")
    attrs = head | {k: v for k, v in f.attrs.items() if k not in drop}
    return f"<{prefix}f{attrs_xml(attrs)}>{text_xml(f.text)}</{prefix}f>".encode()


def _cell_xml(data: bytes, prefix: str, coord: str, cell: Cell | None, edit: _CellEdit) -> bytes:
    attrs = {"r": coord} if cell is None else {"r": coord} | cell.attrs
    if len(attrs) > 1:
        for k in ("t", "vm", "cm"):
            attrs.pop(k, None)
    if edit.cm:
        attrs["cm"] = edit.cm
    if edit.clear:
        return f"<{prefix}c{attrs_xml(attrs)}/>".encode()
    kind, text = _value_text(edit.value)
    if kind:
        attrs["t"] = kind
    f = None if cell is None else cell.f
    if f is not None and (edit.plain or edit.array_ref is not None):
        f_xml = _formula_xml(data, prefix, f, edit)
    else:
        f_xml = b"" if f is None else data[f.start:f.end]
    ext = None if cell is None else cell.ext
    return b"".join((f"<{prefix}c{attrs_xml(attrs)}>".encode(), f_xml, f"<{prefix}v>{text}</{prefix}v>".encode(),
                     b"" if ext is None else data[ext[0]:ext[1]], f"</{prefix}c>".encode()))


def _patch_sheet(data: bytes, edits: Mapping[str, _CellEdit]) -> bytes:
    sheet = read_sheet(data)
    if sheet.sheet_data is None:
        raise ValueError("worksheet has no sheetData")
    prefix = sheet.sheet_data.qname[: -len("sheetData")]
    out: list[tuple[int, int, bytes]] = []
    new_rows: dict[int, list[tuple[int, bytes]]] = {}
    for coord, edit in edits.items():
        found = sheet.cells.get(coord)
        if found is not None:
            out.append((found.start, found.end, _cell_xml(data, prefix, coord, found, edit)))
        elif not edit.clear:
            letters, row = coordinate_from_string(coord)
            new_rows.setdefault(row, []).append((column_index_from_string(letters),
                                                 _cell_xml(data, prefix, coord, None, edit)))
    by_row: dict[int, list[tuple[int, Cell]]] = {}  # id of a row -> its cells' columns, when needed
    for row_number, items in new_rows.items():
        items.sort()
        row = sheet.rows.get(row_number)
        if row is None:
            continue
        if not row.empty and not by_row:
            for coord, c in sheet.cells.items():
                by_row.setdefault(id(c.row), []).append(
                    (column_index_from_string(coordinate_from_string(coord)[0]), c))
        out.extend(_insert_into_row(data, prefix, row, by_row.get(id(row), []), items))
    missing = sorted(r for r in new_rows if r not in sheet.rows)
    if missing:
        out.extend(_insert_rows(sheet, prefix, missing, new_rows))
    out.extend(_dimension(sheet, [c for c, e in edits.items() if not e.clear]))
    return splice(data, out)


def _insert_into_row(data: bytes, prefix: str, row: Span, existing: list[tuple[int, Cell]],
                     items: list[tuple[int, bytes]]) -> list[tuple[int, int, bytes]]:
    """Edits adding new cells (column, XML) to a row whose cells are ``existing`` (column, cell)."""
    attrs = {k: v for k, v in row.attrs.items() if k != "spans"}  # spans is an optional hint; now stale
    head = f"<{prefix}row{attrs_xml(attrs)}>".encode()
    if row.empty:
        return [(row.start, row.end, head + b"".join(x for _, x in items) + f"</{prefix}row>".encode())]
    edits = [(row.start, row.open_end, head)]
    for col, xml_bytes in items:
        after = next((c for k, c in existing if k > col), None)
        pos = after.start if after else _row_close(data, row)
        edits.append((pos, pos, xml_bytes))
    return edits


def _row_close(data: bytes, row: Span) -> int:
    """Offset of a non-empty row's ``</row>`` tag."""
    return data.rindex(b"<", row.open_end, row.end)


def _insert_rows(sheet: Sheet, prefix: str, numbers: list[int],
                 new_rows: dict[int, list[tuple[int, bytes]]]) -> list[tuple[int, int, bytes]]:
    sd = sheet.sheet_data
    assert sd is not None
    edits = []
    if sd.empty:
        body = b"".join(_row_xml(prefix, n, new_rows[n]) for n in numbers)
        return [(sd.start, sd.end, f"<{sd.qname}>".encode() + body + f"</{sd.qname}>".encode())]
    existing = sorted(sheet.rows.items())
    for n in numbers:
        after = next((span for k, span in existing if k > n), None)
        pos = after.start if after else sheet.data.rindex(b"<", sd.open_end, sd.end)
        edits.append((pos, pos, _row_xml(prefix, n, new_rows[n])))
    return edits


def _row_xml(prefix: str, number: int, items: list[tuple[int, bytes]]) -> bytes:
    return f'<{prefix}row r="{number}">'.encode() + b"".join(x for _, x in items) + f"</{prefix}row>".encode()


def _dimension(sheet: Sheet, extra: list[str]) -> list[tuple[int, int, bytes]]:
    """The edit widening ``<dimension ref>`` to cover newly written cells (none if it has no ref)."""
    dim = sheet.dimension
    if dim is None or not extra or "ref" not in dim.attrs:
        return []
    min_col, min_row, max_col, max_row = range_boundaries(dim.attrs["ref"].split(":")[0] + ":" +
                                                          dim.attrs["ref"].split(":")[-1])
    lines = "\n".join(extra)
    plain = _PLAIN_COORDS.findall(lines) if lines.count("\n") == len(extra) - 1 else []
    if len(plain) == len(extra):  # every one is letters and digits: read them all at once
        letters, digits = (set(x) for x in zip(*plain, strict=True))
        cols, rows = [column_index_from_string(x) for x in letters], [int(x) for x in digits]
        min_col, min_row, max_col, max_row = min(min_col, *cols), min(min_row, *rows), max(max_col, *cols), \
            max(max_row, *rows)
    else:
        for coord in extra:
            c, r, _, _ = range_boundaries(coord)
            min_col, min_row, max_col, max_row = min(min_col, c), min(min_row, r), max(max_col, c), max(max_row, r)
    ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{max_row}"
    attrs = dict(dim.attrs) | {"ref": ref}
    return [(dim.start, dim.end, f"<{dim.qname}{attrs_xml(attrs)}/>".encode())]


# ----------------------------------------------------------------------------- workbook-level parts
_CALC_PR_AFTER = ("definedNames", "externalReferences", "functionGroups", "sheets")


def _with_calc_pr(data: bytes) -> bytes:
    """Mark the stored values as calculated by a current Excel, and drop ``fullCalcOnLoad``."""
    top = scan(data, lambda p: len(p) <= 2)[0]
    prefix = top.qname[: -len(top.name)]
    calc = next((s for s in top.children if s.name == "calcPr"), None)
    attrs = dict(calc.attrs) if calc else {}
    attrs.pop("fullCalcOnLoad", None)
    if int(attrs.get("calcId", "0") or 0) < CURRENT_CALC_ID:
        attrs["calcId"] = str(CURRENT_CALC_ID)
    new = f"<{prefix}calcPr{attrs_xml(attrs)}/>".encode()
    if calc is not None:
        return splice(data, [(calc.start, calc.end, new)])
    return insert_after(data, top, _CALC_PR_AFTER, new) or data


def _dynamic_cm(parts: dict[str, bytes], workbook: str, rels: dict[str, tuple[str, str]]) -> str | None:
    """The ``cm`` index meaning "dynamic array", adding Excel's metadata part if the book has none.

    Returns None when the book has a metadata part without that entry (left alone: the
    arrays are then written as legacy fixed-size arrays).
    """
    existing = next((target for kind, target in rels.values() if kind == _META_REL), None)
    if existing is None:
        folder = posixpath.dirname(workbook)
        name = posixpath.join(folder, "metadata.xml")
        rels_name = posixpath.join(folder, "_rels", posixpath.basename(workbook) + ".rels")
        if name in parts or rels_name not in parts:
            return None
        parts[name] = _XLDAPR_METADATA.encode()
        rid = next(f"rIdXlVar{i}" for i in range(1, 1000) if f"rIdXlVar{i}" not in rels)
        rel = (f'<Relationship Id="{rid}" Type="{_META_REL}" '
               f'Target="{posixpath.relpath(name, folder)}"/>').encode()
        parts[rels_name] = _insert_before_close(parts[rels_name], rel)
        override = f'<Override PartName="/{name}" ContentType="{_META_CT}"/>'.encode()
        parts["[Content_Types].xml"] = _insert_before_close(parts["[Content_Types].xml"], override)
        return "1"
    return _find_xldapr(parts.get(existing, b""))


def _insert_before_close(data: bytes, new: bytes) -> bytes:
    top = scan(data, lambda p: len(p) == 1)[0]
    if top.empty:
        return splice(data, [(top.start, top.end, data[top.start:top.open_end - 2] + b">" + new +
                              f"</{top.qname}>".encode())])
    close = data.rindex(b"<", top.open_end, top.end)
    return splice(data, [(close, close, new)])


def _find_xldapr(data: bytes) -> str | None:
    from xml.etree.ElementTree import fromstring  # already checked by defusedxml in read_package

    if not data:
        return None
    root = fromstring(data)
    main, xda = NS["main"], "http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray"
    types = [t.get("name") for t in root.iterfind(f"{{{main}}}metadataTypes/{{{main}}}metadataType")]
    if "XLDAPR" not in types:
        return None
    future = root.find(f"{{{main}}}futureMetadata[@name='XLDAPR']")
    blocks = [] if future is None else future.findall(f"{{{main}}}bk")
    dynamic = [i for i, bk in enumerate(blocks)
               if any(p.get("fDynamic") in ("1", "true") and p.get("fCollapsed", "0") in ("0", "false")
                      for p in bk.iter(f"{{{xda}}}dynamicArrayProperties"))]
    for index, bk in enumerate(root.iterfind(f"{{{main}}}cellMetadata/{{{main}}}bk"), start=1):
        for rc in bk.iterfind(f"{{{main}}}rc"):
            if rc.get("t") == str(types.index("XLDAPR") + 1) and rc.get("v", "-1").isdigit() \
                    and int(rc.get("v", "-1")) in dynamic:
                return str(index)
    return None


# ----------------------------------------------------------------------------- packages
def write_values(pkg: Package, ev: Evaluation, stored: Mapping[Key, Mark]) -> tuple[Package, list[str]]:
    """The package with ``ev``'s values stored as formula results (its ``raw`` is the new file's bytes);
    also a list of notes for the user.

    ``stored`` are the portable arrays the workbook recorded before it was recalculated
    (:func:`~xl_var_cli.workbook.portable_arrays.read_marks`): those of cells left as stored keep theirs.
    """
    parts = dict(pkg.parts)
    notes: list[str] = []
    by_sheet: dict[str, dict[str, _CellEdit]] = {}
    marks = {key: Mark(ref, key in ev.dynamic) for key, ref in ev.arrays.items() if key in ev.ours}
    marks |= {key: mark for key, mark in stored.items() if key in ev.skipped}  # left as stored
    cm = None
    if ev.dynamic - marks.keys():
        cm = _dynamic_cm(parts, pkg.workbook_part, pkg.rels(pkg.workbook_part))
        if cm is None:
            notes.append("the workbook's cell-metadata part has no dynamic-array entry: spilled formulas "
                         "are stored as fixed-size array formulas")
    with gc_paused():  # one object or more per cell, no cycles
        for (sheet, coord), value in ev.values.items():
            by_sheet.setdefault(sheet, {})[coord] = _CellEdit(value=value)
        for (sheet, coord), ref in ev.arrays.items():
            edit = by_sheet.setdefault(sheet, {}).setdefault(coord, _CellEdit(value=ErrorValue("#N/A")))
            if (sheet, coord) in marks:
                edit.plain = True
                continue
            edit.array_ref = ref
            edit.cm = cm if (sheet, coord) in ev.dynamic else None
        for sheet, coord in ev.cleared:
            by_sheet.setdefault(sheet, {})[coord] = _CellEdit(clear=True)
        for title, part in sheet_parts(pkg).items():
            edits = by_sheet.get(title)
            if edits:
                parts[part] = _patch_sheet(parts[part], edits)
    parts[pkg.workbook_part] = with_marks(_with_calc_pr(parts[pkg.workbook_part]), marks)
    return dataclasses.replace(pkg, raw=repack(pkg, parts), parts=parts), notes


def values_only(pkg: Package, hide: Sequence[str] = ()) -> bytes:
    """The package with every formula removed and its stored result kept as the cell's value.

    Sheets named in ``hide`` are hidden (a printed snapshot leaves out its data sheets).
    """
    parts = dict(pkg.parts)
    for part in sheet_parts(pkg).values():
        cuts = [(c.f.start, c.f.end, b"") for c in read_sheet(parts[part]).cells.values() if c.f is not None]
        parts[part] = splice(parts[part], cuts)
    parts[pkg.workbook_part] = with_marks(parts[pkg.workbook_part], {})  # no formula left to make live
    if hide:
        book = parts[pkg.workbook_part]
        top = scan(book, lambda p: len(p) <= 3 and p[1:2] in ((), ("sheets",)))[0]
        sheets = [s for group in top.children if group.name == "sheets" for s in group.children]
        edits = [(s.start, s.end, f"<{s.qname}{attrs_xml(s.attrs | {'state': 'hidden'})}/>".encode())
                 for s in sheets if s.attrs.get("name") in hide]
        if len(edits) < len(sheets):
            parts[pkg.workbook_part] = splice(book, edits)
    return repack(pkg, parts)
