"""The rule that an xl-var function never raises into a cell.

:func:`excel_function` wraps each function's implementation:

* :class:`~xl_var_udfs.excel.ExcelError` (bad input found by the conversion layer)
  returns its one line, e.g. ``"#VALUE! weights has 3 entries but returns has 4 columns"``;
* :class:`xl_var.XlVarError` (bad input found by the engine) returns ``"#NUM! ..."`` for a
  number outside its domain or a calculation with no finite answer, else ``"#VALUE! ..."``;
* anything else is a bug: the cell gets ``"#VALUE! internal error: <one line>"`` and the
  traceback goes to the log file (:mod:`xl_var_udfs.logs`);
* floating-point warnings (overflow on absurd inputs) are silenced, since a cell has no
  console to show them; instead a single-number result that is NaN or infinite becomes
  ``"#NUM! ..."``. Spilled results are made of cells by :func:`~xl_var_udfs.excel.cell`
  and :func:`~xl_var_udfs.excel.spill_matrix`, which never let NaN or inf through.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from xl_var import XlVarError
from xl_var_udfs.cells import as_excel_error
from xl_var_udfs.excel import ExcelError, number
from xl_var_udfs.logs import log_exception

__all__ = ["excel_function", "internal_error_line"]

F = TypeVar("F", bound=Callable[..., Any])
_MAX_MESSAGE = 160


def internal_error_line(exc: BaseException, where: str, context: str = "") -> str:
    """Log ``exc`` and return the one line for the cell: ``"#VALUE! internal error: ..."``."""
    path = log_exception(where, exc, context)
    first = (str(exc).strip().splitlines() or [""])[0][:_MAX_MESSAGE]
    what = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return f"#VALUE! internal error: {what}" + (f" (details in {path})" if path else "")


def _describe_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Argument shapes for the log (ranges by size only, never their numbers); never raises."""

    def one(v: Any) -> str:
        try:
            if isinstance(v, (list, tuple, np.ndarray)):
                rows, cols = (*np.shape(v), 1, 1)[:2]  # a 0-d array has shape (): 1x1
                return f"<range {rows}x{cols}>"
            return repr(v)[:40]
        except Exception as exc:  # ragged rows, a broken __repr__: the error line must still come back
            return f"<{type(v).__name__}, not described: {type(exc).__name__}>"

    parts = [one(v) for v in args] + [f"{k}={one(v)}" for k, v in kwargs.items()]
    return "arguments: " + ", ".join(parts)


def excel_function(f: F) -> F:
    """Make ``f`` return one error line instead of raising, and never return NaN/inf as a number."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with np.errstate(all="ignore"):  # a cell has no console: results are checked instead
                out = f(*args, **kwargs)
            if isinstance(out, (float, int, np.floating, np.integer)) and not isinstance(out, bool):
                return number(out, "the result")
            return out
        except ExcelError as exc:
            return exc.line
        except XlVarError as exc:
            return as_excel_error(exc).line
        except Exception as exc:
            return internal_error_line(exc, f.__name__, _describe_args(args, kwargs))

    return wrapper  # type: ignore[return-value]
