"""Write computed values into an .xlsx package as formula results, keeping the formulas.

openpyxl cannot store a cached value next to a formula, so the values go into the
worksheet XML directly: each formula cell gets its ``<v>`` (``t="str"``/``"b"``/``"e"``
for text, logical and error results), each cell of a spill range gets its value, array
formulas of xl-var functions become portable (a plain formula at the anchor and a hidden
name over the range, :mod:`xl_var_cli.workbook.portable_arrays`), other array formulas get their new
range (dynamic arrays also their ``cm`` cell-metadata flag, with the metadata part Excel
expects), and ``calcPr`` is set so that Excel shows the stored values on open instead of
recalculating without the add-in. Every other byte of every part, and every other part,
is copied unchanged (see :mod:`xl_var_cli.workbook.xmlspans`).

:func:`values_only` turns a package into a snapshot without formulas (for printing, and
for readers that should see the numbers only).
"""

from __future__ import annotations

import dataclasses
import functools
import posixpath
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
from xl_var_cli.workbook.xmlspans import Span, attrs_xml, insert_after, scan, splice, text_xml

if TYPE_CHECKING:
    from xl_var_cli.workbook.engine import Evaluation

__all__ = ["CURRENT_CALC_ID", "cached_value", "formula_kinds", "sheet_parts", "values_only", "write_values"]

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
@dataclass
class _Sheet:
    """A worksheet part's scanned structure."""

    data: bytes
    root: Span
    sheet_data: Span | None
    rows: dict[int, Span]
    cells: dict[str, tuple[Span, Span]]  # coordinate -> (cell, its row)


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


def _wanted(path: tuple[str, ...]) -> bool:
    if len(path) == 1:
        return True
    if path[1] == "dimension":
        return len(path) == 2
    if path[1] != "sheetData":
        return False
    return len(path) <= 3 or (len(path) == 4 and path[3] == "c") or len(path) == 5


@functools.lru_cache(maxsize=64)
def _read_sheet(data: bytes) -> _Sheet:
    """The structure of a worksheet part (cached: one refresh reads each sheet several times)."""
    top = scan(data, _wanted, lambda p: len(p) == 5 and p[4] in ("f", "v"))
    root = top[0]
    sheet_data = next((s for s in root.children if s.name == "sheetData"), None)
    rows: dict[int, Span] = {}
    cells: dict[str, tuple[Span, Span]] = {}
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
            cells[f"{get_column_letter(last_col)}{last_row}"] = (c, row)
    return _Sheet(data, root, sheet_data, rows, cells)


def _child(cell: Span, name: str) -> Span | None:
    return next((s for s in cell.children if s.name == name), None)


def formula_kinds(pkg: Package) -> tuple[set[Key], set[Key]]:
    """(dynamic, shared): array formulas carrying cell metadata ``cm`` (Excel 365's dynamic
    arrays), and cells of Excel shared formulas (which must stay plain formulas)."""
    dynamic, shared = set(), set()
    for title, part in sheet_parts(pkg).items():
        for coord, (cell, _) in _read_sheet(pkg.parts[part]).cells.items():
            kind = f.attrs.get("t") if (f := _child(cell, "f")) is not None else None
            if kind == "array" and "cm" in cell.attrs:
                dynamic.add((title, coord))
            elif kind == "shared":
                shared.add((title, coord))
    return dynamic, shared


def cached_value(pkg: Package) -> Callable[[Key], Any]:
    """A lookup of the value each formula cell last stored (for cells the engine must leave alone)."""
    sheets = {title: _read_sheet(pkg.parts[part]) for title, part in sheet_parts(pkg).items()}

    def lookup(key: Key) -> Any:
        found = sheets[key[0]].cells.get(key[1]) if key[0] in sheets else None
        v = _child(found[0], "v") if found else None
        if v is None or not v.text:
            return None
        kind = found[0].attrs.get("t", "n") if found else "n"
        if kind == "n":
            try:
                return float(v.text)
            except ValueError:
                return ErrorValue("#VALUE!")
        if kind == "b":
            return v.text.strip() == "1"
        return ErrorValue(v.text) if kind == "e" else v.text

    return lookup


# ----------------------------------------------------------------------------- writing cells
def _number(x: float) -> str:
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _value_xml(prefix: str, value: Any) -> tuple[str | None, str]:
    """The ``t`` attribute and ``<v>`` element for a value."""
    if isinstance(value, bool):
        return "b", f"<{prefix}v>{int(value)}</{prefix}v>"
    if isinstance(value, ErrorValue):
        return "e", f"<{prefix}v>{text_xml(str(value))}</{prefix}v>"
    if isinstance(value, int | float):
        return None, f"<{prefix}v>{_number(value)}</{prefix}v>"
    return "str", f"<{prefix}v>{text_xml(str(value))}</{prefix}v>"


@dataclass
class _CellEdit:
    value: Any = None
    clear: bool = False
    array_ref: str | None = None
    cm: str | None = None
    plain: bool = False  # a plain formula (the anchor of a portable array)


def _formula_xml(sheet: _Sheet, prefix: str, f: Span, edit: _CellEdit) -> bytes:
    drop: tuple[str, ...]
    if edit.plain:  # the anchor of a portable array: an array formula loses its array attributes
        if "t" not in f.attrs:
            return sheet.data[f.start:f.end]
        head, drop = {}, ("t", "ref", "si", "aca")
    else:
        if edit.array_ref is None or (f.attrs.get("t") == "array" and f.attrs.get("ref") == edit.array_ref):
            return sheet.data[f.start:f.end]
        head, drop = {"t": "array", "ref": edit.array_ref}, ("t", "ref", "si")
    attrs = head | {k: v for k, v in f.attrs.items() if k not in drop}
    return f"<{prefix}f{attrs_xml(attrs)}>{text_xml(f.text)}</{prefix}f>".encode()


def _cell_xml(sheet: _Sheet, prefix: str, coord: str, cell: Span | None, edit: _CellEdit) -> bytes:
    attrs = {"r": coord} | (dict(cell.attrs) if cell else {})
    for k in ("t", "vm", "cm"):
        attrs.pop(k, None)
    if edit.cm:
        attrs["cm"] = edit.cm
    body = []
    f = _child(cell, "f") if cell else None
    if f is not None and not edit.clear:
        body.append(_formula_xml(sheet, prefix, f, edit))
    if not edit.clear:
        kind, v = _value_xml(prefix, edit.value)
        if kind:
            attrs["t"] = kind
        body.append(v.encode())
        ext = _child(cell, "extLst") if cell else None
        if ext is not None:
            body.append(sheet.data[ext.start:ext.end])
    inner = b"".join(body)
    head = f"<{prefix}c{attrs_xml(attrs)}"
    return (head + ">").encode() + inner + f"</{prefix}c>".encode() if inner else (head + "/>").encode()


def _patch_sheet(data: bytes, edits: Mapping[str, _CellEdit]) -> bytes:
    sheet = _read_sheet(data)
    if sheet.sheet_data is None:
        raise ValueError("worksheet has no sheetData")
    prefix = sheet.sheet_data.qname[: -len("sheetData")]
    out: list[tuple[int, int, bytes]] = []
    new_rows: dict[int, list[tuple[int, bytes]]] = {}
    for coord, edit in edits.items():
        found = sheet.cells.get(coord)
        if found:
            out.append((found[0].start, found[0].end, _cell_xml(sheet, prefix, coord, found[0], edit)))
        elif not edit.clear:
            letters, row = coordinate_from_string(coord)
            new_rows.setdefault(row, []).append((column_index_from_string(letters),
                                                 _cell_xml(sheet, prefix, coord, None, edit)))
    for row_number, items in new_rows.items():
        items.sort()
        row = sheet.rows.get(row_number)
        if row is None:
            continue
        out.extend(_insert_into_row(sheet, prefix, row, row_number, items))
    missing = sorted(r for r in new_rows if r not in sheet.rows)
    if missing:
        out.extend(_insert_rows(sheet, prefix, missing, new_rows))
    out.extend(_dimension(sheet, [c for c, e in edits.items() if not e.clear]))
    return splice(data, out)


def _insert_into_row(sheet: _Sheet, prefix: str, row: Span, row_number: int,
                     items: list[tuple[int, bytes]]) -> list[tuple[int, int, bytes]]:
    attrs = {k: v for k, v in row.attrs.items() if k != "spans"}  # spans is an optional hint; now stale
    head = f"<{prefix}row{attrs_xml(attrs)}>".encode()
    if row.empty:
        return [(row.start, row.end, head + b"".join(x for _, x in items) + f"</{prefix}row>".encode())]
    edits = [(row.start, row.open_end, head)]
    existing = [(column_index_from_string(coordinate_from_string(coord)[0]), c)
                for coord, (c, r) in sheet.cells.items() if r is row]
    for col, xml_bytes in items:
        after = next((c for k, c in existing if k > col), None)
        pos = after.start if after else _row_close(sheet.data, row)
        edits.append((pos, pos, xml_bytes))
    return edits


def _row_close(data: bytes, row: Span) -> int:
    """Offset of a non-empty row's ``</row>`` tag."""
    return data.rindex(b"<", row.open_end, row.end)


def _insert_rows(sheet: _Sheet, prefix: str, numbers: list[int],
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


def _dimension(sheet: _Sheet, extra: list[str]) -> list[tuple[int, int, bytes]]:
    """The edit widening ``<dimension ref>`` to cover newly written cells (none if it has no ref)."""
    dim = next((s for s in sheet.root.children if s.name == "dimension"), None)
    if dim is None or not extra or "ref" not in dim.attrs:
        return []
    min_col, min_row, max_col, max_row = range_boundaries(dim.attrs["ref"].split(":")[0] + ":" +
                                                          dim.attrs["ref"].split(":")[-1])
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
        sheet = _read_sheet(parts[part])
        cuts = [(f.start, f.end, b"") for cell, _ in sheet.cells.values() if (f := _child(cell, "f")) is not None]
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
