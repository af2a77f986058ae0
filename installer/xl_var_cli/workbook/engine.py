"""Recalculate a workbook without Excel: the ``formulas`` engine plus xl-var's functions.

:func:`evaluate` reads an openpyxl workbook (formulas, constants, defined names), registers
every function of :mod:`xl_var_udfs` with the ``formulas`` package, and computes every
formula. ``formulas`` (https://formulas.readthedocs.io) evaluates Excel's own functions,
cross-sheet references and named ranges; what it lacks is done here:

* **Spills.** A dynamic-array formula (``COMPONENTVAR``, ``STRESSCORR``...) fills as many
  cells as its result has, like Excel 365: the formula is evaluated, its full result's
  shape becomes the spill range, and the book is evaluated again with that range
  (repeated until no spill range changes, so spills feeding spills settle). A spill that
  would overwrite a non-empty cell gives ``#SPILL!`` as Excel does. Legacy (Ctrl+Shift+
  Enter) array formulas keep their fixed range. A plain formula whose xl-var result is a
  table becomes a dynamic array, as it would when typed into Excel 365.
* **Excel-shaped arguments.** xl-var functions receive what xlwings would hand them:
  lists of rows, a single cell as a scalar, blanks as ``None``, errors as ``"#N/A"``
  strings, dates as :class:`datetime.datetime`, and ``None`` for an omitted argument
  (:mod:`xl_var_cli.workbook.values` converts values at each border).
* **Excel's legacy semantics.** A plain (non-array) formula whose result is an array shows
  one value, by Excel's implicit intersection
  (:func:`~xl_var_cli.workbook.values.implicit_intersection`); ``INDEX`` with row or column 0
  gives the whole column or row; a complex number (a negative number to a fractional power)
  is ``#NUM!``.
* **What cannot be calculated** (functions ``formulas`` lacks, links to other workbooks,
  circular references, results that are no Excel value) is left as the workbook last
  stored it and listed, never guessed and never written as Python's text for an object.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import formulas
import numpy as np
import schedula as sh
from formulas.functions import Array, wrap_func, wrap_impure_func
from formulas.functions.look import xindex
from formulas.ranges import Ranges
from formulas.tokens.operand import XlError
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook import Workbook
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.worksheet.worksheet import Worksheet

from xl_var_cli.workbook.cells import ErrorValue, Key, cells_of, coord, keys_of
from xl_var_cli.workbook.formula_text import Rewritten, references, rewrite, split_ref
from xl_var_cli.workbook.portable_arrays import Mark
from xl_var_cli.workbook.values import (
    Area,
    NotExcel,
    engine_value,
    file_value,
    implicit_intersection,
    udf_argument,
    udf_result,
)

__all__ = ["Evaluation", "evaluate", "xl_functions"]

_BOOK = "XLVAR.XLSX"
_MAX_ROW, _MAX_COL = 1_048_576, 16_384
_MAX_PASSES = 4


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


def _whole(number: Any, size: int, vertical: bool) -> Any:
    """INDEX's row/column number 0 (or omitted) as the array 1..size that selects the whole column/row."""
    value = number.value if isinstance(number, Ranges) else number
    first = np.ravel(value)[0] if np.size(value) == 1 else None
    if value is sh.EMPTY or first is sh.EMPTY or (not isinstance(first, bool | str | None) and first == 0):
        return np.arange(1, size + 1).reshape((size, 1) if vertical else (1, size)).view(Array)
    return number


def _index(array: Any, row_num: Any, col_num: Any = None, area_num: Any = 1) -> Any:
    """Excel's INDEX: row or column number 0 means the whole column or row of the area, and so does
    an omitted column number for an area of several rows and columns."""
    if isinstance(array, Ranges):
        area = array.ranges[0]
        rows, cols = int(area["r2"]) - int(area["r1"]) + 1, int(area["n2"]) - int(area["n1"]) + 1
    else:
        rows, cols = np.shape(np.atleast_2d(array))
    if col_num is None and min(rows, cols) > 1:
        col_num = 0
    if col_num is not None:
        row_num, col_num = _whole(row_num, rows, True), _whole(col_num, cols, False)
    return xindex(array, row_num, col_num, area_num)


def _register(epoch: dt.datetime) -> set[str]:
    """Put xl-var's functions in ``formulas``' function table (idempotent); return their names."""
    table = formulas.get_functions()
    table["INDEX"] = dict(table["INDEX"], function=wrap_impure_func(wrap_func(_index, ranges=True)))
    for name, fn in xl_functions().items():

        def call(*args: Any, _fn: Callable[..., Any] = fn) -> Any:
            return udf_result(_fn(*(udf_argument(a) for a in args)), epoch)

        table[name] = wrap_func(functools.update_wrapper(call, fn))
    return set(xl_functions())

# ----------------------------------------------------------------------------- the book as read
@dataclass
class _Book:
    epoch: dt.datetime
    constants: dict[Key, Any] = field(default_factory=dict)
    formulas: dict[Key, str] = field(default_factory=dict)
    arrays: dict[Key, tuple[str, str]] = field(default_factory=dict)  # anchor -> (text, stored ref)
    ours: set[Key] = field(default_factory=set)  # formulas calling an xl-var function
    names: dict[str, str] = field(default_factory=dict)
    skipped: dict[Key, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # sheet titles

    def computed(self) -> list[tuple[Key, str]]:
        """Every formula the engine calculates: (cell, text)."""
        return list(self.formulas.items()) + [(k, text) for k, (text, _) in self.arrays.items()]


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _read_book(wb: Workbook, ours: set[str], cached: Callable[[Key], Any]) -> _Book:
    """Constants, formulas, array formulas and names of ``wb``; what cannot be calculated is set aside."""
    book = _Book(epoch=wb.epoch)
    known = set(formulas.get_functions()) | ours
    for ws in wb.worksheets:
        if not isinstance(ws, Worksheet):
            continue
        book.order.append(ws.title)
        for (row, col), c in sorted(ws._cells.items()):  # openpyxl's sparse cell store (formulas reads it too)
            v, key = c.value, (ws.title, coord(row, col))
            if v is None:
                continue
            if isinstance(v, DataTableFormula):
                book.skipped[key] = "is a data table (What-If analysis)"
                continue
            text = v.text or "=" if isinstance(v, ArrayFormula) else str(v) if c.data_type == "f" else None
            if text is None:
                book.constants[key] = engine_value(ErrorValue(str(v).upper()) if c.data_type == "e" else v,
                                                    wb.epoch)
                continue
            rewritten = rewrite(text, ours, known, lambda sheet, cell: None)
            reason = _unsupported(rewritten)
            if rewritten.calls_ours:
                book.ours.add(key)
            if reason:
                book.skipped[key] = reason
                book.constants[key] = engine_value(cached(key), wb.epoch)
            elif isinstance(v, ArrayFormula):
                book.arrays[key] = (text, (v.ref or key[1]).replace("$", ""))
            else:
                book.formulas[key] = text
        for name, dn in ws.defined_names.items():  # sheet-scoped names count where no global one exists
            target = dn.attr_text if "!" in dn.attr_text else f"{_quoted(ws.title)}!{dn.attr_text}"
            book.names.setdefault(name.upper(), "=" + target)
    for name, dn in wb.defined_names.items():
        if not (dn.hidden or name.startswith("_xlnm.")) and dn.attr_text:
            book.names[name.upper()] = "=" + dn.attr_text
    return book


# ----------------------------------------------------------------------------- one pass of the engine
def _unsupported(rewritten: Rewritten) -> str:
    """Why the engine cannot calculate a formula ("" when it can)."""
    if rewritten.external:
        return "refers to another workbook"
    if rewritten.unknown_functions:
        return "uses " + ", ".join(rewritten.unknown_functions) + ", which the formula engine lacks"
    try:
        formulas.Parser().ast(rewritten.text)
    except Exception as exc:  # formulas raises its own error types for syntax it cannot parse
        return f"cannot be parsed ({type(exc).__name__})"
    return ""


def _constant(value: Any) -> Any:
    """A model value ready for ``from_dict``: text that looks like a formula stays text."""
    if isinstance(value, str) and not isinstance(value, XlError) and formulas.Parser().is_formula(value):
        return '="' + value.replace('"', '""') + '"'
    return value


def _blocks(constants: Mapping[Key, Any]) -> Iterable[tuple[str, str, Any]]:
    """Constants grouped into rectangular blocks: (sheet, "A1:G783", 2-D array) or (sheet, "A1", value).

    ``formulas`` links every cell to every range that reads it; a data table handed over as
    one block instead of thousands of cells keeps that graph small (a rolling window over
    the returns is then one link, not one per cell).
    """
    runs: dict[tuple[str, int], list[list[int]]] = {}
    singles = []
    for (sheet, at), value in constants.items():
        min_col, row, _, _ = range_boundaries(at)
        if isinstance(_constant(value), str) and _constant(value) != value:  # text shown as a formula
            singles.append((sheet, at, _constant(value)))
            continue
        cols = runs.setdefault((sheet, row), [])
        if cols and cols[-1][1] == min_col - 1:
            cols[-1][1] = min_col
        else:
            cols.append([min_col, min_col])
    open_blocks: dict[tuple[str, int, int], list[int]] = {}  # (sheet, first col, last col) -> [first row, last row]
    done: list[tuple[str, int, int, int, int]] = []
    for (sheet, row), spans in sorted(runs.items()):
        for c1, c2 in spans:
            block = open_blocks.get((sheet, c1, c2))
            if block and block[1] == row - 1:
                block[1] = row
                continue
            if block:
                done.append((sheet, c1, c2, block[0], block[1]))
            open_blocks[(sheet, c1, c2)] = [row, row]
    done += [(sheet, c1, c2, r1, r2) for (sheet, c1, c2), (r1, r2) in open_blocks.items()]
    for sheet, c1, c2, r1, r2 in done:
        if (c1, r1) == (c2, r2):
            yield sheet, coord(r1, c1), constants[(sheet, coord(r1, c1))]
            continue
        grid = np.empty((r2 - r1 + 1, c2 - c1 + 1), dtype=object)
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                grid[r - r1, c - c1] = constants[(sheet, coord(r, c))]
        yield sheet, f"{coord(r1, c1)}:{coord(r2, c2)}", grid
    yield from singles


class _Pass:
    """The ``formulas`` model of the book for given array/spill ranges, calculated."""

    def __init__(self, book: _Book, spills: Mapping[Key, str], ours: set[str]) -> None:
        self.spills = spills
        alias = {t: f"XLVARSHEET{i + 1}" for i, t in enumerate(book.order)}  # formulas mishandles some names
        sheets = {t.upper(): a for t, a in alias.items()}
        quoted = {t: f"'[{_BOOK}]{a}'!" for t, a in alias.items()}
        self.prefix = {t: str(formulas.Ranges().push(q + "A1").ranges[0]["name"])[:-2]  # as the engine names it
                       for t, q in quoted.items()}
        known = set(formulas.get_functions()) | ours
        by_upper = {t.upper(): t for t in book.order}

        def spill_of(sheet: str | None, cell: str, here: str) -> str | None:
            return spills.get((by_upper.get(sheet.upper(), sheet) if sheet else here, cell))

        cover = {c for a, ref in spills.items() for c in keys_of(a, ref) if c != a}
        model: dict[str, Any] = {}
        for sheet, ref, value in _blocks({k: v for k, v in book.constants.items() if k not in cover}):
            model[quoted[sheet] + ref] = value
        for key, text in book.computed():
            if key not in cover:
                rewritten = rewrite(text, ours, known, functools.partial(spill_of, here=key[0]), sheets)
                model[quoted[key[0]] + spills.get(key, key[1])] = rewritten.text
        for name, text in book.names.items():
            model[f"'[{_BOOK}]'!{name}"] = rewrite(text, ours, known, lambda sheet, cell: None, sheets).text
        self.model = formulas.ExcelModel().from_dict(model)
        self.solution = self.model.calculate()

    def node(self, key: Key) -> str:
        """The engine's name for a formula's output: its cell, or its array/spill range."""
        return self.prefix[key[0]] + self.spills.get(key, key[1])

    def full_result(self, key: Key) -> Any:
        """The formula's whole result (a value, array or reference) before it is cut to its cell or range."""
        cell = self.model.cells.get(self.node(key))
        if cell is None or cell.func is None:
            return None
        pipe = cell.func.func
        return getattr(pipe, "solution", {}).get(pipe.outputs[0])

    def full_shape(self, key: Key) -> tuple[int, int] | None:
        """Rows x columns of the formula's whole result."""
        result = self.full_result(key)
        if result is None:
            return None
        shape = np.shape(getattr(result, "value", result))
        return (1, 1) if len(shape) < 2 else (int(shape[0]), int(shape[1]))

    def block(self, key: Key) -> np.ndarray | None:
        result = self.solution.get(self.node(key))
        return None if result is None else np.atleast_2d(np.asarray(result.value, dtype=object))


# ----------------------------------------------------------------------------- spills
def _spill_ref(anchor: str, shape: tuple[int, int]) -> str | None:
    min_col, min_row, _, _ = range_boundaries(anchor)
    last_row, last_col = min_row + shape[0] - 1, min_col + shape[1] - 1
    if last_row > _MAX_ROW or last_col > _MAX_COL:
        return None
    return anchor if shape == (1, 1) else f"{anchor}:{coord(last_row, last_col)}"


def _position(book: _Book, key: Key) -> tuple[int, int, int]:
    min_col, min_row, _, _ = range_boundaries(key[1])
    return book.order.index(key[0]), min_row, min_col


def _place_spills(book: _Book, shapes: Mapping[Key, tuple[int, int]], fixed: Mapping[Key, str],
                  dynamic: set[Key]) -> tuple[dict[Key, str], set[Key]]:
    """Spill ranges for ``shapes``, claimed in sheet/row/column order.

    A dynamic array whose range would cover a filled cell (or another spill) is blocked
    (``#SPILL!``); a plain formula whose table cannot spill stays a plain formula.
    """
    taken = set(book.constants) | set(book.formulas) | set(book.arrays)
    for anchor, fixed_ref in fixed.items():
        taken.update(keys_of(anchor, fixed_ref))
    spills, blocked = dict(fixed), set()
    for anchor in sorted(shapes, key=functools.partial(_position, book)):
        ref = _spill_ref(anchor[1], shapes[anchor])
        cells = [] if ref is None else [c for c in keys_of(anchor, ref) if c != anchor]
        if ref is None or taken.intersection(cells):
            if anchor in dynamic:
                blocked.add(anchor)
                spills[anchor] = anchor[1]
            continue
        spills[anchor] = ref
        taken.update(cells)
    return spills, blocked


def evaluate(wb: Workbook, dynamic: Iterable[Key] = (),
             cached: Callable[[Key], Any] = lambda key: ErrorValue("#N/A"), plain: Iterable[Key] = (),
             portable: Mapping[Key, Mark] | None = None, our_arrays_spill: bool = False) -> Evaluation:
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
    """
    ours = _register(wb.epoch)
    book = _read_book(wb, ours, cached)
    dynamic = set(dynamic)
    if our_arrays_spill:
        dynamic |= book.ours & book.arrays.keys()
    for key, (ref, is_dynamic) in (portable or {}).items():
        if key in book.formulas and key in book.ours:
            book.arrays[key] = (book.formulas.pop(key), ref)
            if is_dynamic:
                dynamic.add(key)
    dynamic = {k for k in dynamic if k in book.arrays}
    fixed = {k: ref for k, (_, ref) in book.arrays.items() if k not in dynamic}
    for k in dynamic:  # an old spill's cells are not constants: the new result decides them
        for c in keys_of(k, book.arrays[k][1]):
            if c != k:
                book.constants.pop(c, None)
    keep = set(plain)
    candidates = dynamic | {k for k in book.formulas if k not in keep and k in book.ours}
    spills = dict(fixed) | {k: book.arrays[k][1] for k in dynamic}
    run = _Pass(book, spills, ours)
    blocked: set[Key] = set()
    for _ in range(_MAX_PASSES):
        shapes = {}
        for key in candidates:
            shape = run.full_shape(key)
            if shape is not None and (key in dynamic or shape != (1, 1)):
                shapes[key] = shape
        new_spills, blocked = _place_spills(book, shapes, fixed, dynamic)
        if new_spills == spills:
            break
        spills = new_spills
        run = _Pass(book, spills, ours)
    return _collect(book, run, spills, fixed, blocked,
                    {c for k in dynamic for c in keys_of(k, book.arrays[k][1]) if c != k})


def _areas(book: _Book, text: str) -> list[Area]:
    """Where the references (and names of references) of a formula lie, in formula order."""
    out = []
    for ref in references(text):
        target = book.names.get(ref.upper(), "=" + ref)[1:]
        try:
            min_col, min_row, max_col, max_row = range_boundaries(split_ref(target)[1])
        except (ValueError, TypeError):  # a name of a formula or constant, or not a reference
            continue
        if None not in (min_col, min_row, max_col, max_row):
            out.append((min_col, min_row, max_col, max_row))
    return out


def _collect(book: _Book, run: _Pass, spills: dict[Key, str], fixed: Mapping[Key, str], blocked: set[Key],
             old_cover: set[Key]) -> Evaluation:
    values: dict[Key, Any] = {}
    skipped = dict(book.skipped)
    for key, text in book.computed():
        block = run.block(key)
        if block is None:
            skipped[key] = "could not be calculated (circular reference?)"
            continue
        if key in blocked:
            values[key] = ErrorValue("#SPILL!")
            continue
        ref = spills.get(key, key[1])
        min_col, min_row, _, _ = range_boundaries(ref)
        if key in book.formulas and ref == key[1] and key not in book.ours:  # legacy: implicit intersection
            shown = implicit_intersection(run.full_result(key), min_row, min_col, _areas(book, text))
            block = np.array([[shown]], dtype=object)
        try:
            cells = {(key[0], coord(r, c)): file_value(block[r - min_row, c - min_col])
                     if r - min_row < block.shape[0] and c - min_col < block.shape[1] else ErrorValue("#N/A")
                     for r, c in cells_of(ref)}
        except NotExcel as exc:
            skipped[key] = f"gave {exc}, which is no Excel value"
            continue
        values.update(cells)
    arrays = {k: ref for k, ref in spills.items() if k not in skipped}
    covered = {c for a, r in arrays.items() for c in keys_of(a, r)}
    return Evaluation(values=values, arrays=arrays, dynamic=frozenset(k for k in arrays if k not in fixed),
                      cleared=frozenset(old_cover - covered),
                      computed=frozenset(k for k, _ in book.computed() if k not in skipped), skipped=skipped,
                      ours=frozenset(book.ours))
