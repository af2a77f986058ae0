"""Portable arrays: xl-var's array results stored so that every spreadsheet application shows them.

LibreOffice recalculates every array formula when it opens a file (7.4 always does,
whatever the file stores or its recalculation setting says) and does not know xl-var's
functions, so an array formula calling one shows ``#NAME?`` in all its cells there. Its
single-cell formulas, on the other hand, show the value the file stores. So ``xl-var
refresh`` stores an array formula that calls an xl-var function *portably*:

* its top-left cell holds the formula as a plain formula, with the top-left value stored;
* the other cells of its range hold their values;
* a hidden workbook name over the range records what it was::

      _xlvar_spill_N   a dynamic array (Excel 365) anchored at the range's top-left cell
      _xlvar_array_N   a fixed-size (Ctrl+Shift+Enter) array formula over the range

Every application then shows the numbers. Excel with the add-in turns the ranges back into
live array formulas when the workbook opens (``MakeLive`` in ``xl_var_cli/addin/XlVarRibbon.bas``,
which uses the same prefixes, :data:`SPILL_PREFIX` and :data:`ARRAY_PREFIX`), and the next
refresh reads the names back (:func:`read_marks`), so the spill keeps its meaning there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from openpyxl.utils.cell import absolute_coordinate, get_column_letter, quote_sheetname, range_to_tuple

from xl_var_cli.workbook.cells import Key
from xl_var_cli.workbook.package import Package
from xl_var_cli.workbook.xmlspans import attrs_xml, insert_after, scan, splice, text_xml

__all__ = ["ARRAY_PREFIX", "SPILL_PREFIX", "Mark", "read_marks", "with_marks"]

SPILL_PREFIX = "_xlvar_spill_"
ARRAY_PREFIX = "_xlvar_array_"
_NAMES_AFTER = ("externalReferences", "functionGroups", "sheets")  # CT_Workbook's order before definedNames


class Mark(NamedTuple):
    """What a portable range was: its range (``"A8:E15"``) and whether it is a dynamic array."""

    ref: str
    dynamic: bool


def _ours(name: str) -> bool:
    return name.lower().startswith((SPILL_PREFIX, ARRAY_PREFIX))


def read_marks(pkg: Package) -> dict[Key, Mark]:
    """The portable ranges recorded in ``pkg``'s workbook: anchor cell -> :class:`Mark`.

    Names that do not parse as a range on one sheet are ignored (a user may have edited them).
    """
    top = scan(pkg.parts[pkg.workbook_part], lambda p: len(p) <= 3, lambda p: len(p) == 3)[0]
    out: dict[Key, Mark] = {}
    for group in (s for s in top.children if s.name == "definedNames"):
        for dn in group.children:
            name = dn.attrs.get("name", "")
            if not _ours(name) or "localSheetId" in dn.attrs:
                continue
            try:
                sheet, bounds = range_to_tuple(dn.text.strip())
            except ValueError:
                continue
            if None in bounds:  # whole rows or columns: not a range refresh wrote
                continue
            min_col, min_row, max_col, max_row = bounds
            first, last = f"{get_column_letter(min_col)}{min_row}", f"{get_column_letter(max_col)}{max_row}"
            ref = first if first == last else f"{first}:{last}"
            out[(sheet.replace("''", "'"), first)] = Mark(ref, name.lower().startswith(SPILL_PREFIX))
    return out


def _name_xml(prefix: str, number: int, sheet: str, mark: Mark) -> bytes:
    attrs = {"name": f"{SPILL_PREFIX if mark.dynamic else ARRAY_PREFIX}{number}", "hidden": "1"}
    target = quote_sheetname(sheet) + "!" + absolute_coordinate(mark.ref)
    return f"<{prefix}definedName{attrs_xml(attrs)}>{text_xml(target)}</{prefix}definedName>".encode()


def with_marks(data: bytes, marks: Mapping[Key, Mark]) -> bytes:
    """A workbook part (``xl/workbook.xml``) whose portable-range names are exactly ``marks``.

    The names it held before are removed (an emptied ``definedNames`` with them); every other
    byte is kept.
    """
    top = scan(data, lambda p: len(p) <= 3)[0]
    prefix = top.qname[: -len(top.name)]
    new = b"".join(_name_xml(prefix, i, sheet, m) for i, ((sheet, _), m) in enumerate(sorted(marks.items()), 1))
    group = next((s for s in top.children if s.name == "definedNames"), None)
    if group is None:
        if not new:
            return data
        block = f"<{prefix}definedNames>".encode() + new + f"</{prefix}definedNames>".encode()
        placed = insert_after(data, top, _NAMES_AFTER, block)
        if placed is None:
            raise ValueError("workbook part has no <sheets>")
        return placed
    old = [s for s in group.children if _ours(s.attrs.get("name", ""))]
    if len(old) == len(group.children) and not new:
        return splice(data, [(group.start, group.end, b"")])
    edits = [(s.start, s.end, b"") for s in old]
    if group.empty:
        edits.append((group.start, group.end, f"<{group.qname}>".encode() + new + f"</{group.qname}>".encode()))
    else:
        close = data.rindex(b"<", group.open_end, group.end)
        edits.append((close, close, new))
    return splice(data, edits)
