"""Recalculate a workbook without Excel: xl-var's formula engine plus xl-var's functions.

:func:`evaluate` reads an openpyxl workbook (constants, formulas, array formulas, defined
names, tables), compiles every formula once per shape (:mod:`xl_var_cli.workbook.calc`) and
calculates them in dependency order, with xl-var's worksheet functions among Excel's. What
it adds to the engine:

* **Spills.** A dynamic-array formula (``COMPONENTVAR``, ``STRESSCORR``...) fills as many
  cells as its result has, like Excel 365: the book is calculated, each dynamic formula's
  full result's shape becomes its spill range, and the book is calculated again with those
  ranges (repeated until no spill range changes, so spills feeding spills settle). A spill
  that would overwrite a non-empty cell gives ``#SPILL!`` as Excel does. Legacy (Ctrl+Shift+
  Enter) array formulas keep their fixed range. A plain formula whose xl-var result is a
  table becomes a dynamic array, as it would when typed into Excel 365.
* **Excel-shaped arguments.** xl-var functions receive what xlwings would hand them
  (:mod:`xl_var_cli.workbook.values`), ``None`` for an omitted argument included.
* **What cannot be calculated** (functions the engine lacks, links to other workbooks,
  circular references, data tables) is left as the workbook last stored it and listed,
  never guessed; its dependents read the stored value.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook import Workbook
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.worksheet.worksheet import Worksheet

from xl_var_cli.workbook.calc.book import Book, CellKey
from xl_var_cli.workbook.calc.grammar import Node, tokens
from xl_var_cli.workbook.calc.library import borrowed_functions, excel_functions
from xl_var_cli.workbook.calc.operands import SPILL, Grid, Ref
from xl_var_cli.workbook.calc.structured import Table
from xl_var_cli.workbook.cells import ErrorValue, Key, coord, keys_of
from xl_var_cli.workbook.portable_arrays import Mark
from xl_var_cli.workbook.values import NotExcel, engine_value, file_value, udf_argument, udf_result

__all__ = ["Evaluation", "evaluate", "xl_functions"]

_MAX_ROW, _MAX_COL = 1_048_576, 16_384
_MAX_PASSES = 4
_STACK_BYTES = 512 * 1024 * 1024  # a chain of 100,000 formulas, each reading the one before, calculates
_RECURSION = 400_000


@dataclass(frozen=True)
class Evaluation:
    """Computed values of a workbook.

    Attributes
    ----------
    values : dict
        Every recalculated formula cell and every cell of a spill/array range -> its value
        (float, bool, str or :class:`ErrorValue`).
    arrays : dict
        Anchor of every array formula -> the range it now covers (``"B2:F9"``).
    dynamic : frozenset
        Anchors that are dynamic arrays (spill), as opposed to legacy fixed arrays.
    cleared : frozenset
        Cells that held an old spill's value and are now empty.
    computed : frozenset
        The formula cells (array anchors included) that were recalculated.
    skipped : dict
        Cells left as stored, with the reason (unsupported function, external link...).
    ours : frozenset
        The formula cells that call an xl-var function.
    """

    values: dict[Key, Any]
    arrays: dict[Key, str]
    dynamic: frozenset[Key]
    cleared: frozenset[Key]
    computed: frozenset[Key] = frozenset()
    skipped: dict[Key, str] = field(default_factory=dict)
    ours: frozenset[Key] = frozenset()


@functools.cache
def xl_functions() -> dict[str, Callable[..., Any]]:
    """xl-var's worksheet functions by Excel name (imported lazily: the UDF layer is heavy)."""
    module = importlib.import_module("xl_var_udfs")
    return {name: getattr(module, name) for name in module.__all__}


class _Library(dict[str, Callable[..., Any]]):
    """The functions a formula may call: xl-var's implementations of Excel's, then ``formulas``'
    for the rest, then xl-var's own worksheet functions. The last two are imported the first
    time a formula names a function the ones before lack: most workbooks need neither, and each
    takes a second or more to import."""

    def __init__(self, epoch: dt.datetime, mac: bool) -> None:
        super().__init__(excel_functions(mac))
        self.epoch = epoch
        self.ours: frozenset[str] = frozenset()
        self._borrowed = False

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        fn = super().get(name)
        if fn is None and not self.ours and name in _udf_names():
            self._load_ours()
            fn = super().get(name)
        if fn is None and not self._borrowed:
            self._borrowed = True
            for other, borrowed in borrowed_functions().items():
                self.setdefault(other, borrowed)
            fn = super().get(name)
        return default if fn is None else fn

    def _load_ours(self) -> None:
        for name, fn in xl_functions().items():

            def call(*args: Any, _fn: Callable[..., Any] = fn) -> Any:
                return udf_result(_fn(*(_udf_argument(a) for a in args)), self.epoch)

            self[name] = functools.update_wrapper(call, fn)
        self.ours = frozenset(xl_functions())


def _udf_names() -> frozenset[str]:
    """xl-var's worksheet function names (the UDF package lists them without loading them)."""
    return frozenset(importlib.import_module("xl_var_udfs").__all__)


def _udf_argument(arg: Any) -> Any:
    """:func:`udf_argument`, converted once per range and pass (forty calls on one table read it
    once); each call gets its own copy of the rows."""
    if not isinstance(arg, Ref) or arg.shape == (1, 1):
        return udf_argument(arg)
    key = ("udf", arg.sheet, arg.r1, arg.c1, arg.r2, arg.c2)
    memo = arg.book.memo  # type: ignore[attr-defined]
    rows = memo.get(key)
    if rows is None:
        rows = memo[key] = udf_argument(arg)
    return [list(row) for row in rows]


def _cell_key(key: Key) -> CellKey:
    col, row, _, _ = range_boundaries(key[1])
    return key[0], row, col


def _key(cell: CellKey) -> Key:
    return cell[0], coord(cell[1], cell[2])


def _calls(node: Node, names: frozenset[str]) -> bool:
    """Whether a syntax tree calls one of ``names``."""
    if node[0] == "call":
        return node[1] in names or any(_calls(a, names) for a in node[2])
    return any(_calls(x, names) for x in node[1:] if isinstance(x, tuple) and x and isinstance(x[0], str))


# ----------------------------------------------------------------------------- the book as read
@dataclass
class _Read:
    book: Book
    formulas: dict[CellKey, str] = field(default_factory=dict)  # plain formulas
    arrays: dict[CellKey, str] = field(default_factory=dict)  # anchor -> stored ref
    ours: set[CellKey] = field(default_factory=set)
    skipped: dict[CellKey, str] = field(default_factory=dict)
    constants: set[CellKey] = field(default_factory=set)


def _tables(ws: Worksheet) -> Iterable[Table]:
    for table in ws.tables.values():
        c1, r1, c2, r2 = range_boundaries(table.ref)
        header = 0 if table.headerRowCount == 0 else 1
        totals = int(table.totalsRowCount or 0)
        columns = tuple(col.name for col in table.tableColumns)
        yield Table(table.name, ws.title, r1, c1, r2, c2, header, totals, columns)


def _read(wb: Workbook, cached: Callable[[Key], Any], functions: _Library) -> _Read:
    """Constants, formulas, array formulas, names and tables of ``wb``, compiled."""
    epoch = wb.epoch
    sheets = [ws for ws in wb.worksheets if isinstance(ws, Worksheet)]
    constants: dict[CellKey, Any] = {}
    texts: dict[CellKey, tuple[str, str | None]] = {}  # cell -> (formula, array ref or None)
    skipped: dict[CellKey, str] = {}
    names: dict[str, str] = {}
    tables: dict[str, Table] = {}
    for ws in sheets:
        title = ws.title
        for (row, col), c in ws._cells.items():  # openpyxl's sparse cell store
            v = c.value
            if v is None:
                continue
            if isinstance(v, DataTableFormula):
                skipped[(title, row, col)] = "is a data table (What-If analysis)"
                continue
            if isinstance(v, ArrayFormula):
                texts[(title, row, col)] = (v.text or "=", (v.ref or coord(row, col)).replace("$", ""))
            elif c.data_type == "f":
                texts[(title, row, col)] = (str(v), None)
            else:
                constants[(title, row, col)] = engine_value(
                    ErrorValue(str(v).upper()) if c.data_type == "e" else v, epoch)
        for name, dn in ws.defined_names.items():
            target = dn.attr_text if "!" in dn.attr_text else f"'{title.replace(chr(39), chr(39) * 2)}'!{dn.attr_text}"
            names[f"{title.upper()}!{name.upper()}"] = "=" + target
        for table in _tables(ws):
            tables[table.name.upper()] = table
    for name, dn in wb.defined_names.items():
        if not (dn.hidden or name.startswith("_xlnm.")) and dn.attr_text:
            names[name.upper()] = "=" + dn.attr_text
    book = Book((ws.title for ws in sheets), constants, functions, names, tables)
    read = _Read(book, skipped=skipped, constants=set(constants))
    calls_ours: dict[int, bool] = {}  # by syntax tree: cells of one shape share theirs
    for key, (text, ref) in texts.items():
        external = "[" in text and _external(text)
        reason = "refers to another workbook" if external else book.add_formula(key, text, ref is not None)
        if not reason:
            node = book.formulas[key].node
            hit = calls_ours.get(id(node))
            if hit is None:  # xl-var's names are known once a formula named one (functions.ours)
                hit = calls_ours[id(node)] = bool(functions.ours) and _calls(node, functions.ours)
            if hit:
                read.ours.add(key)
        if reason:
            if any(name in text.upper() for name in functions.ours):
                read.ours.add(key)
            read.skipped[key] = reason
            book.cells[key] = engine_value(cached(_key(key)), epoch)
        elif ref is not None:
            read.arrays[key] = ref
        else:
            read.formulas[key] = text
    for key in skipped:
        book.cells.setdefault(key, engine_value(cached(_key(key)), epoch))
    return read


def _external(text: str) -> bool:
    """Whether a formula refers to another workbook (``[1]Sheet1!A1``, ``'C:\\x\\[b.xlsx]S'!A1``)."""
    return any(t.subtype == "RANGE" and t.value.lstrip("'").startswith("[") for t in tokens(text) or [])


# ----------------------------------------------------------------------------- spills
Last = tuple[int, int]
"""The last row and column of an array's range."""


def _last(anchor: CellKey, shape: tuple[int, int]) -> Last | None:
    last_row, last_col = anchor[1] + shape[0] - 1, anchor[2] + shape[1] - 1
    if last_row > _MAX_ROW or last_col > _MAX_COL:
        return None
    return last_row, last_col


def _cells(anchor: CellKey, last: Last) -> list[CellKey]:
    return [(anchor[0], r, c) for r in range(anchor[1], last[0] + 1) for c in range(anchor[2], last[1] + 1)
            if (r, c) != anchor[1:]]


def _place_spills(read: _Read, shapes: Mapping[CellKey, tuple[int, int]], fixed: Mapping[CellKey, Last],
                  dynamic: set[CellKey], rank: Mapping[str, int]) -> tuple[dict[CellKey, Last], set[CellKey]]:
    """Spill ranges for ``shapes``, claimed in sheet/row/column order.

    A dynamic array whose range would cover a filled cell (or another spill) is blocked
    (``#SPILL!``); a plain formula whose table cannot spill stays a plain formula.
    """
    taken = read.constants | set(read.formulas) | set(read.arrays) | set(read.skipped)
    for anchor, last in fixed.items():
        taken.update(_cells(anchor, last))
    spills, blocked = dict(fixed), set()
    for anchor in sorted(shapes, key=lambda k: (rank.get(k[0], 0), k[1], k[2])):
        last = _last(anchor, shapes[anchor])
        cells = [] if last is None else _cells(anchor, last)
        if last is None or taken.intersection(cells):
            if anchor in dynamic:
                blocked.add(anchor)
                spills[anchor] = anchor[1:]
            continue
        spills[anchor] = last
        taken.update(cells)
    return spills, blocked


def _shape(result: Any) -> tuple[int, int]:
    if isinstance(result, Grid | Ref):
        return result.shape
    return (1, 1)


def _deep(run: Callable[[], Any]) -> Any:
    """``run()`` on a thread with a large stack: dependency chains recurse as deep as they are long."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = run()
        except BaseException as exc:  # handed back to the caller's thread
            out["error"] = exc

    old_stack, old_limit = threading.stack_size(_STACK_BYTES), sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, _RECURSION))
    try:
        worker = threading.Thread(target=target, name="xl-var-calc", daemon=True)
        worker.start()
    finally:
        threading.stack_size(old_stack)
    worker.join()
    sys.setrecursionlimit(old_limit)
    if "error" in out:
        raise out["error"]
    return out["value"]


def evaluate(wb: Workbook, dynamic: Iterable[Key] = (),
             cached: Callable[[Key], Any] = lambda key: ErrorValue("#N/A"), plain: Iterable[Key] = (),
             portable: Mapping[Key, Mark] | None = None, our_arrays_spill: bool = False,
             mac: bool = False) -> Evaluation:
    """Calculate every formula of ``wb``.

    Parameters
    ----------
    wb : openpyxl.Workbook
        Loaded with formulas (``data_only=False``).
    dynamic : iterable of Key
        Anchors of array formulas that are dynamic arrays (cell metadata ``cm`` in the file).
    cached : callable
        The value the file last stored for a cell; it stands in for formulas the engine
        cannot calculate, so that their dependents still see a value.
    plain : iterable of Key
        Formulas that stay plain formulas even if their result is a table (Excel's shared
        formulas: the file stores them as a group that one array formula would break).
    portable : mapping of Key to Mark, optional
        Array formulas of xl-var functions stored portably
        (:mod:`xl_var_cli.workbook.portable_arrays`): a plain formula at the anchor, values in
        the rest of the range. They are calculated as the array formulas they stand for.
    our_arrays_spill : bool
        Every array formula calling an xl-var function is a dynamic array too: a workbook saved
        by openpyxl (the report's templates) has lost the ``cm`` flag that says so.
    mac : bool
        The workbook was saved by Excel for the Mac: functions whose results differ by platform
        (CHAR, CODE: the Macintosh character set) give what that Excel shows.
    """
    return _deep(lambda: _evaluate(wb, dynamic, cached, plain, portable, our_arrays_spill, mac))


def _evaluate(wb: Workbook, dynamic_keys: Iterable[Key], cached: Callable[[Key], Any], plain: Iterable[Key],
              portable: Mapping[Key, Mark] | None, our_arrays_spill: bool, mac: bool) -> Evaluation:
    read = _read(wb, cached, _Library(wb.epoch, mac))
    book = read.book
    book.stored = lambda cell: engine_value(cached(_key(cell)), wb.epoch)  # read only for a cell that fails
    dynamic = {_cell_key(k) for k in dynamic_keys}
    if our_arrays_spill:
        dynamic |= read.ours & read.arrays.keys()
    for key, (ref, is_dynamic) in (portable or {}).items():
        cell = _cell_key(key)
        if cell in read.formulas and cell in read.ours:
            book.add_formula(cell, read.formulas.pop(cell), array=True)
            read.arrays[cell] = ref
            if is_dynamic:
                dynamic.add(cell)
    dynamic &= read.arrays.keys()
    stored_last: dict[CellKey, Last] = {}
    for k, ref in read.arrays.items():
        _, _, max_col, max_row = range_boundaries(ref)
        stored_last[k] = (max_row, max_col)
    old_cover = {c for k in dynamic for c in _cells(k, stored_last[k])}  # skipped anchors keep theirs (below)
    for cell in old_cover:  # an old spill's cells are not constants: the new result decides them
        book.cells.pop(cell, None)
        read.constants.discard(cell)
    fixed = {k: stored_last[k] for k in read.arrays if k not in dynamic}
    keep = {_cell_key(k) for k in plain}
    candidates = dynamic | {k for k in read.formulas if k not in keep and k in read.ours}
    spills = fixed | {k: stored_last[k] for k in dynamic}
    rank = {t: i for i, t in enumerate(book.order)}
    blocked: set[CellKey] = set()
    book.watch = set(candidates)
    for attempt in range(_MAX_PASSES):
        book.set_arrays({k: last for k, last in spills.items() if k not in blocked})
        book.run()
        shapes = {key: _shape(book.results[key]) for key in candidates if key in book.results}
        shapes = {key: shape for key, shape in shapes.items() if key in dynamic or shape != (1, 1)}
        new_spills, blocked = _place_spills(read, shapes, fixed, dynamic, rank)
        if new_spills == spills or attempt == _MAX_PASSES - 1:
            break
        spills = new_spills
        book.reset()
    return _collect(read, spills, fixed, blocked, old_cover, stored_last)


def _collect(read: _Read, spills: dict[CellKey, Last], fixed: Mapping[CellKey, Last], blocked: set[CellKey],
             old_cover: set[CellKey], stored_last: Mapping[CellKey, Last]) -> Evaluation:
    book = read.book
    values: dict[Key, Any] = {}
    skipped = {_key(k): reason for k, reason in read.skipped.items()}
    skipped.update({_key(k): reason for k, reason in book.failed.items()})
    arrays: dict[Key, str] = {}
    computed = []
    for key in list(read.formulas) + list(read.arrays):
        if key in book.failed:
            continue
        if key in blocked:
            values[_key(key)] = ErrorValue(SPILL.code)
            arrays[_key(key)] = _key(key)[1]
            computed.append(_key(key))
            continue
        last = spills.get(key)
        cells = [key] + ([] if last is None else _cells(key, last))
        try:
            out = {_key(c): file_value(book.cells.get(c)) for c in cells}
        except NotExcel as exc:
            skipped[_key(key)] = f"gave {exc}, which is no Excel value"
            continue
        values.update(out)
        computed.append(_key(key))
        if last is not None:
            arrays[_key(key)] = _key(key)[1] if last == key[1:] else f"{_key(key)[1]}:{coord(*last)}"
    covered = {c for a, r in arrays.items() for c in keys_of(a, r)}
    kept = {c for a in read.arrays if _key(a) in skipped for c in _cells(a, stored_last[a])}  # as stored
    return Evaluation(values=values, arrays=arrays,
                      dynamic=frozenset(_key(k) for k in spills if k not in fixed and _key(k) in arrays),
                      cleared=frozenset(_key(c) for c in old_cover - kept) - covered,
                      computed=frozenset(computed), skipped=skipped, ours=frozenset(_key(k) for k in read.ours))
