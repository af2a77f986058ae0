"""A workbook's cells calculated on demand, in dependency order.

:class:`Book` holds the constants and compiled formulas of every sheet. Reading a cell that
holds a formula calculates it first (depth first, so each formula runs once, after what it
reads); a cell met again while it is being calculated is a circular reference. Array
formulas and spills write their whole range; a plain formula whose result is an array shows
one value by Excel's implicit intersection (Microsoft, "Implicit intersection operator: @").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from xl_var_cli.workbook.calc import compiler
from xl_var_cli.workbook.calc.grammar import FormulaSyntaxError, Node, parse, parse_reference, shape_key
from xl_var_cli.workbook.calc.operands import NA, NAME, REF, VALUE, Grid, Ref, XlError, scalar, to_bool, to_text
from xl_var_cli.workbook.calc.structured import Table, resolve_structured

__all__ = ["Book", "CellKey", "Circular"]

CellKey = tuple[str, int, int]
"""(sheet title, row, column), 1-based."""

_UNSET = type("_Unset", (), {"__repr__": lambda self: "<unset>"})()
_PENDING = type("_Pending", (), {"__repr__": lambda self: "<pending>"})()


class Circular(Exception):
    """A cell was read while it was being calculated."""


@dataclass(slots=True)
class _Formula:
    text: str
    run: Callable[[int, int, tuple[int, ...]], Any]
    node: Node
    points: tuple[int, ...]  # the cells its references name, as shape_key found them


def _why(exc: Exception) -> str:
    """Why a formula could not be calculated, for the list of cells left as stored."""
    if isinstance(exc, Circular):
        return "(circular reference)"
    if isinstance(exc, compiler.Uncomputable):
        return f"({exc})"
    if isinstance(exc, RecursionError):
        return "(too deep a chain of references)"
    return f"({type(exc).__name__}: {exc})"  # a defect


class Book:
    """Constants and formulas of a workbook, calculated when read.

    Parameters
    ----------
    sheets : iterable of str
        Sheet titles in workbook order.
    constants : mapping
        (title, row, col) -> value (:mod:`~xl_var_cli.workbook.calc.operands`).
    functions : mapping
        Excel function name -> implementation.
    names : mapping
        Upper-case defined name -> its formula text (``"=Sheet1!$A$1:$B$9"``); a sheet-scoped
        name is keyed ``"TITLE!NAME"`` (upper case).
    tables : mapping
        Upper-case table name -> :class:`~xl_var_cli.workbook.calc.structured.Table`.
    """

    def __init__(self, sheets: Iterable[str], constants: Mapping[CellKey, Any],
                 functions: Mapping[str, Callable[..., Any]], names: Mapping[str, str] | None = None,
                 tables: Mapping[str, Table] | None = None) -> None:
        self.order = list(sheets)
        self._titles = {t.upper(): t for t in self.order}
        self.cells: dict[CellKey, Any] = dict(constants)
        self.functions = functions
        self.names = dict(names or {})
        self.tables = dict(tables or {})
        self.formulas: dict[CellKey, _Formula] = {}
        self.arrays: dict[CellKey, tuple[int, int]] = {}  # anchor -> (last row, last col)
        self.cover: dict[CellKey, CellKey] = {}  # cell of an array range -> its anchor
        self.results: dict[CellKey, Any] = {}  # watched formula -> its whole result
        self.watch: set[CellKey] = set()  # formulas whose whole result the caller wants (spill candidates)
        self.failed: dict[CellKey, str] = {}
        self.memo: dict[Any, Any] = {}  # callers' results derived from final cell values; emptied by reset
        self.stored: Callable[[CellKey], Any] = lambda key: None  # what the file stored: a failed cell shows it
        self._shapes: dict[tuple[str, str, bool], tuple[Node, Callable[[int, int, tuple[int, ...]], Any]]] = {}
        self._name_cache: dict[tuple[str, str], tuple[Callable[..., Any], tuple[int, ...]] | XlError] = {}
        self._extent: dict[str, list[int]] = {t: [1, 1] for t in self.order}
        for (sheet, r, c) in self.cells:
            self._grow(sheet, r, c)
        self._runtime = {"_ref": self._ref, "_name": self._name, "_table": self._table, "_spill": self._spill,
                         "_single": self._single, "_indirect": self._indirect,
                         "_cell": self._cell}

    # ------------------------------------------------------------------------- building
    def title(self, sheet: str) -> str:
        """A sheet name as written in a formula -> its title (#REF! stands in for an unknown sheet)."""
        return self._titles.get(sheet.upper(), sheet)

    def _grow(self, sheet: str, r: int, c: int) -> None:
        ext = self._extent.setdefault(sheet, [1, 1])
        if r > ext[0]:
            ext[0] = r
        if c > ext[1]:
            ext[1] = c

    def _compiled(self, text: str, sheet: str, r: int, c: int, array: bool
                  ) -> tuple[Node, Callable[[int, int, tuple[int, ...]], Any], tuple[int, ...]]:
        """The compiled function of ``text`` at (r, c), shared by every formula of its shape, and
        the cell endpoints it reads there.

        Raises :class:`FormulaSyntaxError` or :class:`compiler.Unsupported`.
        """
        key, points = shape_key(text)
        shape = (sheet, key, array)
        compiled = self._shapes.get(shape)
        if compiled is None:
            node, count = parse(text, r, c, slots=True)
            if count * 2 != len(points):  # the two readings disagree: this formula's own tree, unshared
                node, _ = parse(text, r, c)
                shape, points = (sheet, f"{r},{c}:{text}", array), ()
            compiled = (node, compiler.compile_formula(node, sheet, self.functions, self._runtime, self.title,
                                                       array))
            self._shapes[shape] = compiled
        return compiled[0], compiled[1], points

    def add_formula(self, key: CellKey, text: str, array: bool = False) -> str:
        """Compile the formula of a cell (an array formula with ``array``); the reason it cannot be
        calculated, or ""."""
        sheet, r, c = key
        try:
            node, run, points = self._compiled(text, sheet, r, c, array)
        except FormulaSyntaxError as exc:
            return f"cannot be parsed ({exc})"
        except compiler.Unsupported as exc:
            return str(exc)
        except (SyntaxError, RecursionError, MemoryError):
            return "is too deeply nested to compile"
        self.formulas[key] = _Formula(text, run, node, points)
        self.cells[key] = _UNSET
        self._grow(sheet, r, c)
        return ""

    def set_arrays(self, arrays: Mapping[CellKey, tuple[int, int]]) -> None:
        """The ranges array formulas and spills cover now: anchor -> (last row, last column)."""
        self.arrays = dict(arrays)
        self.cover = {}
        for (sheet, r1, c1), (r2, c2) in self.arrays.items():
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    if (r, c) != (r1, c1):
                        self.cover[(sheet, r, c)] = (sheet, r1, c1)
                        self.cells[(sheet, r, c)] = _UNSET
            self._grow(sheet, r2, c2)

    def reset(self) -> None:
        """Forget every calculated value (before a new pass with other array ranges)."""
        for key in self.formulas:
            self.cells[key] = _UNSET
        for key in self.cover:  # the old ranges' cells are empty unless a new range covers them (set_arrays)
            self.cells.pop(key, None)
        self.results.clear()
        self.failed.clear()
        self.memo.clear()

    def fail(self, key: CellKey, reason: str, shown: Any) -> None:
        """Mark a formula as not calculated: it shows ``shown`` (its stored value) to its readers."""
        self.failed[key] = reason
        self.cells[key] = shown

    # ------------------------------------------------------------------------- reading (Sheetlike)
    def value(self, sheet: str, row: int, col: int) -> Any:
        key = (sheet, row, col)
        v = self.cells.get(key)
        if v is _UNSET or v is _PENDING:
            return self._resolve(key)
        return v

    def block(self, sheet: str, r1: int, c1: int, r2: int, c2: int) -> list[list[Any]]:
        """The values of a rectangle, row by row (large ones are shared: callers must not modify them)."""
        ext = self._extent.get(sheet)
        if ext is None:
            return [[REF]]
        r2, c2 = min(r2, ext[0]), min(c2, ext[1])
        if r2 < r1 or c2 < c1:
            return [[None]]
        big = (r2 - r1 + 1) * (c2 - c1 + 1) > 64
        if big and (seen := self.memo.get(("block", sheet, r1, c1, r2, c2))) is not None:
            return seen  # type: ignore[no-any-return]
        get = self.cells.get
        cols = range(c1, c2 + 1)
        rows = []
        for r in range(r1, r2 + 1):
            row = [get((sheet, r, c)) for c in cols]
            if _UNSET in row or _PENDING in row:
                row = [self._resolve((sheet, r, c)) if x is _UNSET or x is _PENDING else x
                       for x, c in zip(row, cols, strict=True)]
            rows.append(row)
        if big:  # every cell of it is final now (for this pass): a table read by 2,000 lookups is read once
            self.memo[("block", sheet, r1, c1, r2, c2)] = rows
        return rows

    def extent(self, sheet: str) -> tuple[int, int]:
        ext = self._extent.get(sheet, [1, 1])
        return ext[0], ext[1]

    # ------------------------------------------------------------------------- calculating
    def _resolve(self, key: CellKey) -> Any:
        v = self.cells.get(key)
        if v is _PENDING:
            raise Circular(key)
        if key in self.formulas:
            self.compute(key)
        elif key in self.cover:
            self.compute(self.cover[key])
            if self.cells.get(key) is _UNSET:  # the anchor failed: its range keeps what it stored
                self.cells[key] = self.stored(key)
        return self.cells.get(key)

    def compute(self, key: CellKey) -> None:
        """Calculate the formula of ``key`` (once), and write its cell or range."""
        if self.cells.get(key) is not _UNSET:
            return
        formula = self.formulas[key]
        self.cells[key] = _PENDING
        _sheet, r, c = key
        try:
            result = formula.run(r, c, formula.points)
        except Exception as exc:  # each costs this one cell (listed, its stored value kept), never the workbook
            self.fail(key, f"could not be calculated {_why(exc)}", self.stored(key))
            return
        if key in self.watch:
            self.results[key] = result
        if key in self.arrays:
            self._write_range(key, result)
        else:  # a plain formula shows one value (implicit intersection); never a blank: =A1 of an empty A1 is 0
            v = self._single(result, r, c)
            self.cells[key] = 0.0 if v is None else v

    def _write_range(self, key: CellKey, result: Any) -> None:
        sheet, r1, c1 = key
        r2, c2 = self.arrays[key]
        grid = result.grid() if isinstance(result, Ref) else result if isinstance(result, Grid) else Grid([[result]])
        rows, cols = grid.shape
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                i, j = r - r1, c - c1
                if (rows > 1 and i >= rows) or (cols > 1 and j >= cols):
                    v = NA
                else:
                    v = grid.at(i, j)
                self.cells[(sheet, r, c)] = 0.0 if v is None else v

    def run(self) -> None:
        """Calculate every formula, in sheet, row, column order (each reads what it needs first)."""
        rank = {t: i for i, t in enumerate(self.order)}
        for key in sorted(self.formulas, key=lambda k: (rank.get(k[0], 0), k[1], k[2])):
            if self.cells.get(key) is _UNSET:
                self.compute(key)

    # ------------------------------------------------------------------------- runtime of compiled formulas
    def _ref(self, sheet: str, r1: int, c1: int, r2: int, c2: int) -> Any:
        if sheet not in self._extent:
            return REF
        if r1 > r2:
            r1, r2 = r2, r1
        if c1 > c2:
            c1, c2 = c2, c1
        if r1 < 1 or c1 < 1:
            return REF
        return Ref(self, sheet, r1, c1, r2, c2)

    def _name(self, name: str, sheet: str, r: int, c: int) -> Any:
        scoped = f"{sheet.upper()}!{name}"
        text = self.names.get(scoped) or self.names.get(name)
        if text is None:
            table = self.tables.get(name)
            if table is not None:
                return resolve_structured(self, table, "", r)
            return NAME
        cached = self._name_cache.get((sheet, name))
        if cached is None:
            try:  # a name's references are as written: evaluated at (0, 0)
                _, run, points = self._compiled(text, sheet, 0, 0, False)
                cached = (run, points)
            except (FormulaSyntaxError, compiler.Unsupported):
                cached = NAME
            self._name_cache[(sheet, name)] = cached
        return cached if isinstance(cached, XlError) else cached[0](0, 0, cached[1])

    def _table(self, text: str, sheet: str, r: int, c: int) -> Any:
        name, _, spec = text.partition("[")
        if name:
            table = self.tables.get(name.upper())
        else:
            table = next((t for t in self.tables.values() if t.holds(sheet, r, c)), None)
        if table is None:
            return REF
        return resolve_structured(self, table, "[" + spec, r)

    def _spill(self, anchor: Any) -> Any:
        if not isinstance(anchor, Ref):
            return anchor
        last = self.arrays.get((anchor.sheet, anchor.r1, anchor.c1))
        if last is None:
            return REF
        return Ref(self, anchor.sheet, anchor.r1, anchor.c1, last[0], last[1])

    def _cell(self, sheet: str, row: int, col: int) -> Any:
        """The value of one cell a plain formula reads (``#REF!`` off the sheet or for an unknown sheet)."""
        v = self.cells.get((sheet, row, col), _UNSET if sheet in self._extent else REF)
        if v is _UNSET:
            if row < 1 or col < 1 or sheet not in self._extent:
                return REF
            v = self.cells.get((sheet, row, col))
            if v is _UNSET or v is _PENDING:
                return self._resolve((sheet, row, col))
        elif v is _PENDING:
            return self._resolve((sheet, row, col))
        return v

    def _single(self, x: Any, r: int, c: int, keep_arrays: bool = False) -> Any:
        """Implicit intersection of a reference with the cell (r, c); an array's first value (or the
        array itself with ``keep_arrays``: an operand of a plain formula)."""
        if isinstance(x, Grid):
            return x if keep_arrays else x.rows[0][0]
        if not isinstance(x, Ref):
            return x
        if x.r1 == x.r2 and x.c1 == x.c2:
            return self.value(x.sheet, x.r1, x.c1)
        if x.c1 == x.c2 and x.r1 <= r <= x.r2:
            return self.value(x.sheet, r, x.c1)
        if x.r1 == x.r2 and x.c1 <= c <= x.c2:
            return self.value(x.sheet, x.r1, c)
        return VALUE

    def _indirect(self, sheet: str, text: Any, a1: Any = True) -> Any:
        """INDIRECT(ref_text, [a1]): the A1 reference or name written in ``text`` (R1C1 style: #REF!)."""
        text, a1 = scalar(text), scalar(a1)
        if isinstance(text, XlError):
            return text
        if not (a1 is None or to_bool(a1)):
            return REF
        text = to_text(text)
        node = parse_reference(text.strip(), 0, 0)
        if node is None:
            upper = text.strip().upper()
            return self._name(upper, sheet, 1, 1) if upper in self.names or upper in self.tables else REF
        _, named, (r1, c1, r2, c2), _ = node
        return self._ref(self.title(named) if named else sheet, r1 or 1, c1 or 1, r2 or 1_048_576, c2 or 16_384)
