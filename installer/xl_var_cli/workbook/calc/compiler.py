"""Syntax trees (:mod:`~xl_var_cli.workbook.calc.grammar`) compiled to Python functions.

A formula becomes the source of one function ``f(r, c, p)`` of its cell's row and column and of
the cells its references name (``p``), built once per shape
(:func:`~xl_var_cli.workbook.calc.grammar.shape_key`: the formula with its cell references taken
out) and per sheet, and shared by every formula of that shape. References become calls that build a
:class:`~xl_var_cli.workbook.calc.operands.Ref`; operators, the functions of the library and
the forms Excel evaluates lazily (``IF``, ``IFERROR``, ``IFNA``, ``IFS``, ``SWITCH``) become
calls of their Python counterparts; an error raised inside a function
(:class:`~xl_var_cli.workbook.calc.operands.ExcelError`) becomes that function's value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from xl_var_cli.workbook.calc import operators
from xl_var_cli.workbook.calc.grammar import Node
from xl_var_cli.workbook.calc.operands import (
    NA,
    ExcelError,
    Grid,
    Ref,
    XlError,
    as_grid,
    compare,
    elementwise,
    scalar,
    to_bool,
)

__all__ = ["Uncomputable", "Unsupported", "compile_formula"]

_MAX_ROW, _MAX_COL = 1_048_576, 16_384
_ARRAY_ARGUMENTS = frozenset({"SUMPRODUCT"})  # Excel evaluates their arguments as arrays in any formula


def _value_arguments(name: str, count: int) -> frozenset[int]:
    """Arguments a function that takes ranges wants as single values (criteria, lookup values, k):
    a plain formula meets a range there by implicit intersection, as Excel does."""
    if name in ("COUNTIF", "SUMIF", "AVERAGEIF"):
        return frozenset({1})
    if name == "COUNTIFS":
        return frozenset(range(1, count, 2))
    if name in ("SUMIFS", "AVERAGEIFS", "MAXIFS", "MINIFS"):
        return frozenset(range(2, count, 2))
    if name in ("VLOOKUP", "HLOOKUP"):
        return frozenset({0, 2, 3})
    if name in ("MATCH", "XMATCH"):
        return frozenset({0, 2, 3})
    if name in ("LARGE", "SMALL", "PERCENTILE", "QUARTILE", "PERCENTILE.INC", "QUARTILE.INC"):
        return frozenset({1})
    return frozenset()


class Unsupported(Exception):
    """A formula the engine cannot calculate (an unknown function, LAMBDA...): its reason."""


class Uncomputable(Exception):
    """A function failed for a reason that is no Excel error (a defect): the cell keeps its stored value."""


def call(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, with an :class:`ExcelError` raised inside it as its value."""
    try:
        return fn(*args)
    except ExcelError as exc:
        return exc.error
    except (Uncomputable, RecursionError):
        raise
    except Exception as exc:  # a defect in one function must not stop the workbook: the cell is listed
        name = getattr(fn, "__name__", "a function")
        raise Uncomputable(f"{name} failed ({type(exc).__name__}: {exc})") from exc


def _truth(v: Any) -> Any:
    """IF's test: a logical, or the error that stands in for one."""
    if isinstance(v, XlError):
        return v
    try:
        return to_bool(v)
    except ExcelError as exc:
        return exc.error


def if_(test: Any, then: Callable[[], Any], other: Callable[[], Any]) -> Any:
    """IF(test, then, else): only the branch taken is evaluated; an array test selects element by element."""
    if isinstance(test, Grid | Ref) and test.shape != (1, 1):
        grid, a, b = as_grid(test), then(), other()
        ga = as_grid(a) if isinstance(a, Grid | Ref) else None
        gb = as_grid(b) if isinstance(b, Grid | Ref) else None
        rows = []
        for i, row in enumerate(grid.rows):
            out = []
            for j, v in enumerate(row):
                t = _truth(v)
                if isinstance(t, XlError):
                    out.append(t)
                elif t:
                    out.append(ga.at(i, j) if ga is not None else a)
                else:
                    out.append(gb.at(i, j) if gb is not None else b)
            rows.append(out)
        return Grid(rows)
    t = _truth(scalar(test))
    if isinstance(t, XlError):
        return t
    return then() if t else other()


def iferror(value: Callable[[], Any], fallback: Callable[[], Any], only_na: bool = False) -> Any:
    """IFERROR / IFNA: the value, or the fallback where it is an error (#N/A only, for IFNA)."""
    v = value()

    def bad(x: Any) -> bool:
        return isinstance(x, XlError) and (x is NA or not only_na)

    if isinstance(v, Grid | Ref) and v.shape != (1, 1):
        grid = as_grid(v)
        if not any(bad(x) for x in grid.flat()):
            return v
        alt = fallback()
        return Grid([[alt if bad(x) else x for x in row] for row in grid.rows])
    s = scalar(v) if isinstance(v, Grid | Ref) else v
    return fallback() if bad(s) else v


def _is_array(v: Any) -> bool:
    return isinstance(v, Grid | Ref) and v.shape != (1, 1)


def _ifs_values(*pairs: Any) -> Any:
    for k in range(0, len(pairs) - 1, 2):
        t = _truth(pairs[k])
        if isinstance(t, XlError):
            return t
        if t:
            return pairs[k + 1]
    return NA


def _switch_values(target: Any, *cases: Any) -> Any:
    if isinstance(target, XlError):
        return target
    for k in range(0, len(cases) - 1, 2):
        if isinstance(cases[k], XlError):
            return cases[k]
        if compare(target, cases[k]) == 0:
            return cases[k + 1]
    return cases[-1] if len(cases) % 2 else NA


def ifs(*pairs: Callable[[], Any]) -> Any:
    """IFS(test1, value1, ...): the value of the first true test, #N/A if none; element by element
    when a test is an array (then every argument is evaluated)."""
    for k in range(0, len(pairs) - 1, 2):
        test = pairs[k]()
        if _is_array(test):
            return elementwise(_ifs_values)(*(test if i == k else p() for i, p in enumerate(pairs)))
        t = _truth(scalar(test))
        if isinstance(t, XlError):
            return t
        if t:
            return pairs[k + 1]()
    return NA


def switch(expr: Any, *cases: Callable[[], Any]) -> Any:
    """SWITCH(expression, value1, result1, ..., [default]); element by element over an array expression."""
    if _is_array(expr):
        return elementwise(_switch_values)(expr, *(c() for c in cases))
    target = scalar(expr)
    if isinstance(target, XlError):
        return target
    for k in range(0, len(cases) - 1, 2):
        candidate = scalar(cases[k]())
        if isinstance(candidate, XlError):
            return candidate
        if compare(target, candidate) == 0:
            return cases[k + 1]()
    return cases[-1]() if len(cases) % 2 else NA


class _Emitter:
    def __init__(self, sheet: str, functions: Mapping[str, Callable[..., Any]], sheet_title: Callable[[str], str],
                 array: bool):
        self.sheet = sheet
        self.array = array
        self.functions = functions
        self.sheet_title = sheet_title
        self.constants: dict[str, Any] = {}

    def constant(self, value: Any) -> str:
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name

    def emit(self, node: Node) -> str:
        kind = node[0]
        if kind == "num":
            return repr(float(node[1]))
        if kind == "str":
            return repr(node[1])
        if kind == "bool":
            return repr(node[1])
        if kind == "err":
            return self.constant(XlError(node[1]))
        if kind == "missing":
            return "None"
        if kind == "array":
            rows = [[self.literal(x) for x in row] for row in node[1]]
            return self.constant(Grid(rows))
        if kind == "ref":
            return self.ref(node)
        if kind == "name":
            if node[1].startswith(("_XLETA.", "_XLPM.")):
                raise Unsupported("uses LAMBDA, LET or a function passed by name, which the formula engine lacks")
            return f"_name({node[1]!r}, {self.sheet!r} if {node[2]!r} is None else {node[2]!r}, r, c)"
        if kind == "table":
            return f"_table({node[1]!r}, {self.sheet!r}, r, c)"
        if kind == "spill":
            return f"_spill({self.ref(node[1])})"
        if kind == "neg":
            return f"_neg({self.value(node[1])})"
        if kind == "pct":
            return f"_pct({self.value(node[1])})"
        if kind == "op":
            symbol = node[1]
            if symbol == ":":
                return f"_span({self.emit(node[2])}, {self.emit(node[3])})"
            if symbol == " ":
                return f"_isect({self.emit(node[2])}, {self.emit(node[3])})"
            return f"{self.constant(operators.BINARY[symbol])}({self.value(node[2])}, {self.value(node[3])})"
        if kind == "call":
            return self.call(node[1], node[2])
        raise Unsupported(f"cannot compile {kind}")

    def value(self, node: Node) -> str:
        """An operand where one value is expected: in a plain (non-array) formula a reference of several
        cells is cut to the one on the formula's row or column (Excel's implicit intersection)."""
        if not self.array and node[0] == "ref" and _one_cell(node):
            return self.cell(node)  # one cell: its value, without building a reference
        code = self.emit(node)
        if self.array or node[0] in ("num", "str", "bool", "err", "missing", "array"):
            return code
        return f"_single({code}, r, c, True)"

    def cell(self, node: Node) -> str:
        _, sheet, (row, col, _, _), (fixed_row, fixed_col, _, _), *slots = node
        title = self.sheet if sheet is None else self.sheet_title(sheet)
        if slots and slots[0]:
            k = 2 * slots[0][0]
            return f"_cell({title!r}, p[{k}], p[{k + 1}])"
        r = str(row) if fixed_row else f"r+{row}" if row >= 0 else f"r{row}"
        c = str(col) if fixed_col else f"c+{col}" if col >= 0 else f"c{col}"
        return f"_cell({title!r}, {r}, {c})"

    def literal(self, node: Node) -> Any:
        kind = node[0]
        if kind in ("num", "str", "bool"):
            return node[1]
        if kind == "err":
            return XlError(node[1])
        raise Unsupported("an array constant holds something other than constants")

    def ref(self, node: Node) -> str:
        _, sheet, offsets, absolute, *slots = node
        title = self.sheet if sheet is None else self.sheet_title(sheet)
        if slots and slots[0]:  # its cells are the formula's own points (p): one tree serves its shape
            ends = [2 * k for k in slots[0]]
            rows, cols = [f"p[{k}]" for k in ends], [f"p[{k + 1}]" for k in ends]
            if len(ends) <= 2:
                return f"_ref({title!r}, {rows[0]}, {cols[0]}, {rows[-1]}, {cols[-1]})"
            return (f"_ref({title!r}, min({', '.join(rows)}), min({', '.join(cols)}), max({', '.join(rows)}), "
                    f"max({', '.join(cols)}))")
        parts = []
        for value, fixed, here, open_end in zip(offsets, absolute, "rcrc", (1, 1, _MAX_ROW, _MAX_COL), strict=True):
            if fixed:
                parts.append(str(value or open_end))
            else:
                parts.append(f"{here}+{value}" if value >= 0 else f"{here}{value}")
        return f"_ref({title!r}, {', '.join(parts)})"

    def lazy(self, node: Node) -> str:
        return f"(lambda: {self.emit(node)})"

    def call(self, name: str, args: tuple[Node, ...]) -> str:
        if name == "IF":
            if not 1 <= len(args) <= 3:
                raise Unsupported("IF takes 1 to 3 arguments")
            then = self.lazy(args[1]) if len(args) > 1 and args[1][0] != "missing" else "(lambda: 0.0)"
            other = self.lazy(args[2]) if len(args) > 2 and args[2][0] != "missing" else (
                "(lambda: 0.0)" if len(args) > 2 else "(lambda: False)")
            return f"_if({self.emit(args[0])}, {then}, {other})"
        if name in ("IFERROR", "IFNA") and len(args) == 2:
            return f"_iferror({self.lazy(args[0])}, {self.lazy(args[1])}, {name == 'IFNA'})"
        if name == "IFS":
            return f"_ifs({', '.join(self.lazy(a) for a in args)})"
        if name == "SWITCH" and len(args) >= 3:
            return f"_switch({self.emit(args[0])}, {', '.join(self.lazy(a) for a in args[1:])})"
        if name in ("ROW", "COLUMN") and not args:
            return "float(r)" if name == "ROW" else "float(c)"
        if name == "INDIRECT" and 1 <= len(args) <= 2:
            return f"_call(_indirect, {self.sheet!r}, {', '.join(self.emit(a) for a in args)})"
        if name == "SINGLE" and len(args) == 1:
            return f"_single({self.emit(args[0])}, r, c)"
        fn = self.functions.get(name)
        if fn is None:
            raise Unsupported(f"uses {name}, which the formula engine lacks")
        if name in _ARRAY_ARGUMENTS and not self.array:  # evaluated as arrays even in a plain formula
            self.array = True
            try:
                return f"_call({self.constant(fn)}{''.join(', ' + self.emit(a) for a in args)})"
            finally:
                self.array = False
        if getattr(fn, "scalar_parameters", False):
            return f"_call({self.constant(fn)}{''.join(', ' + self.value(a) for a in args)})"
        values = _value_arguments(name, len(args))
        parts = [self.value(a) if i in values else self.emit(a) for i, a in enumerate(args)]
        return f"_call({self.constant(fn)}{''.join(', ' + p for p in parts)})"


_RUNTIME = {"_call": call, "_if": if_, "_iferror": iferror, "_ifs": ifs, "_switch": switch,
            "_neg": operators.negate, "_pct": operators.percent, "_span": operators.span,
            "_isect": operators.intersect}


def _one_cell(node: Node) -> bool:
    """Whether a ``ref`` node names one cell."""
    if len(node) > 4:
        return len(node[4]) == 1
    return bool(node[2][:2] == node[2][2:] and node[3][:2] == node[3][2:])


def compile_formula(node: Node, sheet: str, functions: Mapping[str, Callable[..., Any]],
                    runtime: Mapping[str, Any], sheet_title: Callable[[str], str],
                    array: bool = False) -> Callable[[int, int, tuple[int, ...]], Any]:
    """The function ``f(r, c, p)`` that calculates ``node`` for the cell at row r, column c of
    ``sheet``, whose references name the cells ``p`` (row, column pairs; see
    :func:`~xl_var_cli.workbook.calc.grammar.shape_key`) where the tree numbers them.

    Parameters
    ----------
    node : Node
        The syntax tree, its relative references offsets from (r, c).
    sheet : str
        The sheet that holds the formula (references without a sheet name point there).
    functions : mapping
        Excel function name -> implementation.
    runtime : mapping
        The book's ``_ref``, ``_name``, ``_table``, ``_spill`` and ``_single`` callables.
    sheet_title : callable
        A sheet name as written in a formula -> the book's title for it.
    array : bool
        An array formula (operators and functions of values go element by element over
        ranges), as opposed to a plain one (where a range meets them by implicit intersection).

    Raises
    ------
    Unsupported
        For a function the library lacks, or syntax the engine does not calculate.
    """
    emitter = _Emitter(sheet, functions, sheet_title, array)
    body = emitter.emit(node)
    namespace: dict[str, Any] = {**_RUNTIME, **runtime, **emitter.constants}
    exec(f"def _formula(r, c, p):\n    return {body}\n", namespace)  # source built above from the tree
    formula: Callable[[int, int, tuple[int, ...]], Any] = namespace["_formula"]
    return formula
