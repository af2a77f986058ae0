"""Cell values between the file, xl-var's functions and the formula engine.

A value crosses three borders during a recalculation, each with its own conventions:

* **into the engine** (:func:`engine_value`): the engine's values
  (:mod:`~xl_var_cli.workbook.calc.operands`): numbers as float, errors as
  :class:`~xl_var_cli.workbook.calc.operands.XlError`, dates as serial numbers that remember
  they are dates (:class:`ExcelDate`);
* **into xl-var's functions** (:func:`udf_argument`) and back (:func:`udf_result`): what
  xlwings would hand them, i.e. lists of rows, a single cell as a scalar, blanks as ``None``,
  errors as ``"#N/A"`` strings, dates as :class:`datetime.datetime`, and ``None`` for an
  omitted argument; their tables come back as arrays whose empty places are ``""``;
* **into the file** (:func:`file_value`): float, bool, str or
  :class:`~xl_var_cli.workbook.cells.ErrorValue`; anything else (a Python object that is no
  Excel value) raises :class:`NotExcel` rather than reach the file as its Python text.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
from openpyxl.utils.datetime import to_excel

from xl_var_cli.workbook.calc.operands import NUM, VALUE, Grid, Ref, XlError
from xl_var_cli.workbook.cells import ErrorValue

__all__ = ["ExcelDate", "NotExcel", "engine_value", "file_value", "udf_argument", "udf_result"]


class NotExcel(Exception):
    """A result that is no Excel value (a Python object let through)."""


class ExcelDate(float):
    """A date as Excel computes with it (a serial number) that still knows it is a date."""

    date: dt.datetime

    def __new__(cls, serial: float, date: dt.datetime) -> ExcelDate:
        obj = super().__new__(cls, serial)
        obj.date = date
        return obj


def engine_value(x: Any, epoch: dt.datetime) -> Any:
    """A cell value (stored, cached or returned by an xl-var function) as the engine holds it."""
    if x is None or isinstance(x, str | bool | XlError):
        return XlError(str(x)) if isinstance(x, ErrorValue) else x
    if isinstance(x, dt.datetime | dt.date):
        stamp = x if isinstance(x, dt.datetime) else dt.datetime.combine(x, dt.time())
        return ExcelDate(float(to_excel(stamp, epoch)), stamp)
    if isinstance(x, dt.time):
        return float(to_excel(x))
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, int | float):
        return float(x) if math.isfinite(x) else NUM
    return VALUE


def _excel_scalar(x: Any) -> Any:
    """One engine value as xlwings would deliver it."""
    if isinstance(x, ExcelDate):
        return x.date
    if isinstance(x, XlError):
        return x.code
    return x


def udf_argument(v: Any) -> Any:
    """An argument from the engine as xlwings would hand it to an xl-var function."""
    if isinstance(v, Ref | Grid):
        rows = v.grid().rows if isinstance(v, Ref) else v.rows
        out = [[_excel_scalar(x) for x in row] for row in rows]
        return out[0][0] if len(out) == 1 and len(out[0]) == 1 else out
    return _excel_scalar(v)


def udf_result(out: Any, epoch: dt.datetime) -> Any:
    """An xl-var function's return value as the engine's value (a :class:`Grid` for a table)."""
    if isinstance(out, np.ndarray) or (isinstance(out, list | tuple) and out):
        rows = [r if isinstance(r, list | tuple | np.ndarray) else [r] for r in out]
        if len(rows) == 1 and len(rows[0]) == 1:
            return udf_result(rows[0][0], epoch)
        width = max(len(r) for r in rows)
        return Grid([[udf_result(x, epoch) for x in row] + [""] * (width - len(row)) for row in rows])
    if out is None:
        return ""
    return engine_value(out, epoch)


def file_value(x: Any) -> Any:
    """A computed cell as a plain Python value for the file (a blank a formula reads shows 0).

    Raises
    ------
    NotExcel
        For an object that is no Excel value (it must not reach the file as its Python text).
    """
    if x is None:
        return 0.0
    if isinstance(x, XlError):
        return ErrorValue(x.code)
    if isinstance(x, bool):
        return x
    if isinstance(x, int | float):
        return float(x) if math.isfinite(x) else ErrorValue("#NUM!")
    if isinstance(x, str):
        return str(x)
    if isinstance(x, dt.datetime | dt.date):
        return float(to_excel(x))
    raise NotExcel(f"a Python {type(x).__name__}")

