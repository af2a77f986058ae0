"""Every function a formula can call: Excel's, then the ``formulas`` package's for the rest.

xl-var's own implementations of Excel's functions (:mod:`~xl_var_cli.workbook.calc.functions`,
written against Excel's documentation and checked against values Excel saved) come first.
A function they do not cover is taken from the ``formulas`` package
(https://formulas.readthedocs.io), which implements some 600 of Excel's functions: its
arguments and result are translated at the border (:func:`borrowed`). Functions that need a
reference's position rather than its values are never borrowed, because ``formulas`` would
receive values only.
"""

from __future__ import annotations

import functools
import importlib
import math
import pkgutil
from collections.abc import Callable
from typing import Any

import numpy as np

from xl_var_cli.workbook.calc import functions as _family
from xl_var_cli.workbook.calc.operands import NUM, Grid, Ref, XlError

__all__ = ["borrowed", "borrowed_functions", "excel_functions"]

_NEEDS_POSITION = frozenset({
    "ROW", "COLUMN", "ROWS", "COLUMNS", "OFFSET", "INDIRECT", "INDEX", "CELL", "ISREF", "ISFORMULA",
    "FORMULATEXT", "AREAS", "LAMBDA", "LET", "SUBTOTAL", "AGGREGATE", "SHEET", "SHEETS", "INFO",
    "TRIMRANGE", "MAP", "REDUCE", "SCAN", "BYROW", "BYCOL", "MAKEARRAY", "ISOMITTED",
})


def _to_formulas(v: Any) -> Any:
    import schedula as sh
    from formulas.functions import Array
    from formulas.tokens.operand import Error

    def one(x: Any) -> Any:
        if x is None:
            return sh.EMPTY
        if isinstance(x, XlError):
            return Error.errors.get(x.code, Error.errors["#VALUE!"])
        return x

    if isinstance(v, Ref | Grid):
        grid = v.grid() if isinstance(v, Ref) else v
        out = np.empty(grid.shape, dtype=object)
        for i, row in enumerate(grid.rows):
            for j, x in enumerate(row):
                out[i, j] = one(x)
        return out.view(Array)
    return one(v)


def _from_formulas(x: Any) -> Any:
    import schedula as sh
    from formulas.tokens.operand import XlError as FormulasError

    if isinstance(x, np.ndarray):
        grid = np.atleast_2d(x)
        if grid.ndim != 2:
            return NUM
        rows = [[_from_formulas(v) for v in row] for row in grid.tolist()]
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else Grid(rows)
    if isinstance(x, FormulasError):
        return XlError(str(x))
    if x is sh.EMPTY:
        return None
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, bool | str):
        return x
    if isinstance(x, complex):
        return NUM
    if isinstance(x, int | float):
        return float(x) if math.isfinite(x) else NUM
    raise TypeError(f"formulas returned a {type(x).__name__}")


def borrowed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``formulas``' implementation of ``name`` taking and giving the engine's values."""

    def call(*args: Any) -> Any:
        return _from_formulas(fn(*(_to_formulas(a) for a in args)))

    call.__name__ = name
    return call


@functools.cache
def excel_functions(mac: bool = False) -> dict[str, Callable[..., Any]]:
    """Excel function name -> xl-var's own implementation.

    With ``mac``, as Excel for the Mac computes them: a family module's ``MAC_FUNCTIONS``
    (CHAR and CODE use the Macintosh character set there) replace their Windows versions.
    """
    table: dict[str, Callable[..., Any]] = {}
    for info in pkgutil.iter_modules(_family.__path__):
        module = importlib.import_module(f"{_family.__name__}.{info.name}")
        table.update(getattr(module, "FUNCTIONS", {}))
        if mac:
            table.update(getattr(module, "MAC_FUNCTIONS", {}))
    return table


@functools.cache
def borrowed_functions() -> dict[str, Callable[..., Any]]:
    """Excel function name -> ``formulas``' implementation, for the functions xl-var's own lack
    (imported on first need: ``formulas`` loads scipy.stats and more, a second or so)."""
    import formulas

    own = excel_functions()
    table: dict[str, Callable[..., Any]] = {}
    for raw, entry in formulas.get_functions().items():
        fn = entry.get("function") if isinstance(entry, dict) else entry
        name = raw.upper().removeprefix("_XLFN.").removeprefix("_XLWS.")
        if callable(fn) and name not in _NEEDS_POSITION and name not in own:
            table[name] = borrowed(name, fn)
    return table
