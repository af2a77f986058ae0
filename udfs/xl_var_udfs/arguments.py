"""Single-cell arguments of the worksheet functions: numbers, confidence, horizon, λ, text, choices, booleans.

Each reader takes what Excel passes for one cell (a number, text, a bool, None for blank or
an omitted argument, an error value), returns the clean value or the default, and raises
:class:`~xl_var_udfs.cells.ExcelError` naming the argument: ``#VALUE!`` for a wrong type or
choice, ``#NUM!`` for a number outside its range. Number text (``"99%"``, ``"1,250,000"``) is
read by :mod:`xl_var_udfs.numbertext`; text that reads two ways is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

import numpy as np

from xl_var._validate import check_confidence, check_horizon, check_lambda, choose
from xl_var_udfs.cells import ExcelError, describe, is_blank, is_error, is_number, reraise_as, to_float
from xl_var_udfs.numbertext import NumberTextError, read_number

__all__ = ["opt_bool", "opt_choice", "opt_confidence", "opt_horizon", "opt_lambda", "opt_missing", "opt_number",
           "opt_text"]

_MISSING = {"raise": (), "drop": ()}  # what a blank or error cell inside the numbers does


def _scalar(x: Any, name: str) -> Any:
    if isinstance(x, (list, tuple, np.ndarray)):
        arr = np.asarray(x, dtype=object)
        if arr.size != 1:
            shape = arr.shape if arr.ndim == 2 else (1, arr.size)
            raise ExcelError(
                "#VALUE!", f"{name} must be a single value, not a range of {shape[0]} × {shape[1]} cells"
            )
        x = arr.reshape(-1)[0]
    if is_error(x):
        raise ExcelError.passthrough(x, name)
    return x


@overload
def opt_number(x: Any, name: str, default: float) -> float: ...
@overload
def opt_number(x: Any, name: str, default: None) -> float | None: ...
def opt_number(x: Any, name: str, default: float | None) -> float | None:
    """A number, or ``default`` when omitted/blank; text such as ``"99%"``, ``"0.5"`` or ``"$1,250,000"`` is
    read too (:func:`~xl_var_udfs.numbertext.read_number`), and text that reads two ways (``"1,5"``) refused."""
    x = _scalar(x, name)
    if is_blank(x):
        return default
    if is_number(x):
        return to_float(x)
    if isinstance(x, str):
        try:
            read = read_number(x)
        except NumberTextError as exc:
            raise ExcelError("#VALUE!", f"{name}: {exc}") from None
        if read is not None:
            return read.value
    raise ExcelError("#VALUE!", f"{name} must be a number; got {describe(x).split(',')[0]}")


def opt_confidence(x: Any, default: float = 0.99) -> float:
    """A confidence level in (0, 1) such as ``99%``; ``default`` when omitted; out of range is ``#NUM!``."""
    c = opt_number(x, "confidence", default)
    with reraise_as("#NUM!"):
        return check_confidence(c)


def opt_horizon(x: Any, default: int = 1) -> int:
    """A horizon in periods (a whole number, 1 or more); ``default`` when omitted; else ``#NUM!``."""
    h = opt_number(x, "horizon", default)
    with reraise_as("#NUM!"):
        return check_horizon(h)


def opt_lambda(x: Any, name: str = "lam", default: float = 0.94) -> float:
    """An EWMA decay factor in (0, 1); ``default`` when omitted; else ``#NUM!``."""
    lam = opt_number(x, name, default)
    with reraise_as("#NUM!"):
        return check_lambda(lam, name)


def opt_text(x: Any, name: str, default: str) -> str:
    """Text (stripped), or ``default`` when omitted/blank."""
    x = _scalar(x, name)
    if is_blank(x):
        return default
    if not isinstance(x, str):
        raise ExcelError("#VALUE!", f'{name} must be text such as "{default}"; got {x!r}')
    return x.strip()


def opt_choice(x: Any, name: str, choices: Mapping[str, tuple[str, ...]], default: str) -> str:
    """A case-insensitive choice (canonical name) from ``choices``, or ``default``."""
    with reraise_as("#VALUE!"):
        return choose(opt_text(x, name, default), name, choices)


def opt_missing(x: Any) -> str:
    """The ``missing`` argument: ``"raise"`` (default) or ``"drop"``, case-insensitive."""
    return opt_choice(x, "missing", _MISSING, "raise")


def opt_bool(x: Any, name: str, default: bool) -> bool:
    """TRUE/FALSE, 1/0 or the text "TRUE"/"FALSE"/"yes"/"no"; ``default`` when omitted/blank."""
    x = _scalar(x, name)
    if is_blank(x):
        return default
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if is_number(x) and to_float(x) in (0.0, 1.0):
        return bool(x)
    if isinstance(x, str) and x.strip().lower() in {"true", "false", "yes", "no"}:
        return x.strip().lower() in {"true", "yes"}
    raise ExcelError("#VALUE!", f"{name} must be TRUE or FALSE; got {x!r}")
