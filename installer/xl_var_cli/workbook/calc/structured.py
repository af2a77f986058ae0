"""Excel tables and their structured references (``Sales[Amount]``, ``Sales[[#This Row],[Qty]]``,
``[@Qty]``, ``Sales[#All]``, ``Sales[[Jan]:[Mar]]``) as cell references.

Rules from Microsoft, "Using structured references with Excel tables": a column specifier
alone means its data rows; ``#All``, ``#Data``, ``#Headers``, ``#Totals`` and ``#This Row``
choose rows (``@`` is ``#This Row``); two specifiers joined by ``:`` span the columns between
them; ``'`` escapes a special character in a column's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xl_var_cli.workbook.calc.operands import REF, VALUE, Ref, Sheetlike

__all__ = ["Table", "resolve_structured"]


@dataclass(frozen=True)
class Table:
    """An Excel table: its range (header and totals rows included) and column names."""

    name: str
    sheet: str
    r1: int
    c1: int
    r2: int
    c2: int
    header_rows: int
    totals_rows: int
    columns: tuple[str, ...]

    def holds(self, sheet: str, r: int, c: int) -> bool:
        return sheet == self.sheet and self.r1 <= r <= self.r2 and self.c1 <= c <= self.c2

    def column(self, name: str) -> int | None:
        """1-based sheet column of a table column (case-insensitive), None if it has no such column."""
        wanted = name.strip().upper()
        for i, col in enumerate(self.columns):
            if col.upper() == wanted:
                return self.c1 + i
        return None


def _items(spec: str) -> list[str]:
    """The comma-separated items of ``[...]`` at the top level, each without its brackets."""
    inner = spec[1:-1] if spec.startswith("[") and spec.endswith("]") else spec
    if not inner.startswith("[") and "," not in inner:
        return [inner] if inner else []
    items, depth, current, escaped = [], 0, "", False
    for ch in inner:
        if escaped:
            current += ch
            escaped = False
            continue
        if ch == "'":
            current += ch
            escaped = True
            continue
        if ch == "[":
            depth += 1
            if depth == 1:
                continue
        elif ch == "]":
            depth -= 1
            if depth == 0:
                continue
        elif ch == "," and depth == 0:
            items.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        items.append(current.strip())
    return items


def _unescape(name: str) -> str:
    out, escaped = "", False
    for ch in name:
        if ch == "'" and not escaped:
            escaped = True
            continue
        out += ch
        escaped = False
    return out


def resolve_structured(book: Sheetlike, table: Table, spec: str, row: int) -> Any:
    """The cells a structured reference names, for a formula on sheet row ``row``."""
    specials: set[str] = set()
    columns: list[str] = []
    items = _items(spec) if spec else []
    for item in items:
        if item.startswith("@"):
            specials.add("#THIS ROW")
            item = item[1:].strip()
            if item.startswith("[") and item.endswith("]"):
                item = item[1:-1]
            if not item:
                continue
        if item.startswith("#"):
            specials.add(item.upper())
        elif item:
            columns.append(item)
    data_first, data_last = table.r1 + table.header_rows, table.r2 - table.totals_rows
    if "#THIS ROW" in specials:
        if not data_first <= row <= data_last:
            return VALUE
        r1 = r2 = row
    elif "#ALL" in specials:
        r1, r2 = table.r1, table.r2
    else:
        wants = {s for s in specials if s in ("#HEADERS", "#DATA", "#TOTALS")} or {"#DATA"}
        spans = {"#HEADERS": (table.r1, table.r1 + table.header_rows - 1), "#DATA": (data_first, data_last),
                 "#TOTALS": (data_last + 1, table.r2)}
        chosen = [spans[s] for s in wants if spans[s][0] <= spans[s][1]]
        if not chosen:
            return REF
        r1, r2 = min(a for a, _ in chosen), max(b for _, b in chosen)
    c1, c2 = table.c1, table.c2
    if columns:
        bounds = []
        for item in columns:
            whole = table.column(_unescape(item))
            for part in [item] if whole is not None else item.split(":"):
                col = table.column(_unescape(part.strip().strip("[]")))
                if col is None:
                    return REF
                bounds.append(col)
        c1, c2 = min(bounds), max(bounds)
    return Ref(book, table.sheet, r1, c1, r2, c2)
