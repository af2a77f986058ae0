"""Input validation shared by every public engine function.

Each public function calls these helpers once, at its top, and then works on clean
``float64`` arrays. All failures raise :class:`~xl_var.errors.XlVarError` whose
message names the argument and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from xl_var._typing import FloatArray
from xl_var.errors import XlVarError

__all__ = [
    "as_matrix",
    "as_vector",
    "check_confidence",
    "check_horizon",
    "check_lambda",
    "check_positive_int",
    "choose",
    "clean_returns",
]



def _to_float(x: ArrayLike, name: str) -> FloatArray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise XlVarError(f"{name} must contain only numbers ({exc})") from None
    return arr


def as_vector(x: ArrayLike, name: str, *, size: int | None = None, finite: bool = True) -> FloatArray:
    """Return ``x`` as a 1-D float64 array, checking length and finiteness."""
    arr = _to_float(x, name)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise XlVarError(f"{name} must be a single row or column of numbers (got shape {arr.shape})")
    if arr.size == 0:
        raise XlVarError(f"{name} is empty: give at least one number")
    if size is not None and arr.size != size:
        raise XlVarError(f"{name} has {arr.size} entries but returns has {size} columns: give one per asset")
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise XlVarError(f"{name} entry {bad + 1} is not a finite number: replace it with a number")
    return arr


def as_matrix(x: ArrayLike, name: str, *, finite: bool = True) -> FloatArray:
    """Return ``x`` as a C-contiguous 2-D float64 array (a 1-D input becomes one column).

    Row-major order makes results bit-identical whatever layout the caller's array had
    (BLAS sums in a layout-dependent order).
    """
    arr = np.ascontiguousarray(_to_float(x, name))
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise XlVarError(f"{name} must be a 2-D table (rows are periods, columns are assets); got {arr.ndim}-D")
    if arr.size == 0:
        raise XlVarError(f"{name} is empty: give at least one row and one column")
    if finite and not np.all(np.isfinite(arr)):
        r, c = np.argwhere(~np.isfinite(arr))[0]
        raise XlVarError(f"{name} row {r + 1}, column {c + 1} is not a finite number: fix it or use missing='drop'")
    return arr


def clean_returns(
    returns: ArrayLike, *, missing: str = "raise", min_obs: int = 2, method: str | None = None
) -> FloatArray:
    """Validate a T×N returns table; handle NaN/inf rows by ``missing`` ("raise" or "drop")."""
    missing = choose(missing, "missing", {"raise": (), "drop": ()})
    arr = as_matrix(returns, "returns", finite=missing == "raise")
    if missing == "drop":
        arr = arr[np.all(np.isfinite(arr), axis=1)]
    if arr.shape[0] < min_obs:
        what = f"the {method} method" if method else "this calculation"
        raise XlVarError(
            f"returns has {arr.shape[0]} usable rows but {what} needs at least {min_obs}: give more history"
        )
    return arr


def check_confidence(confidence: Any, name: str = "confidence") -> float:
    """Return a confidence level in (0, 1); suggest ``1 - c`` when a tail probability was given."""
    try:
        c = float(confidence)
    except (TypeError, ValueError):
        raise XlVarError(f"{name} must be a number between 0 and 1, e.g. 0.99") from None
    if not np.isfinite(c) or not 0.0 < c < 1.0:
        hint = f": did you mean {c / 100:g}?" if 1.0 < c < 100.0 else ""
        raise XlVarError(f"{name} must be between 0 and 1 (e.g. 0.99 or 99%); got {c:g}{hint}")
    if c < 0.5:
        raise XlVarError(f"{name} must be a confidence level such as 0.99, not a tail probability: "
                         f"got {c:g}, did you mean {1 - c:g}?")
    return c


def check_horizon(horizon: Any) -> int:
    """Return a horizon in periods, an integer ≥ 1."""
    return check_positive_int(horizon, "horizon", what="a whole number of periods, 1 or more")


def check_positive_int(value: Any, name: str, *, what: str = "a whole number, 1 or more") -> int:
    """Return ``value`` as an int ≥ 1 (floats such as 10.0 or 1e6 are accepted when whole)."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise XlVarError(f"{name} must be {what}") from None
    if not np.isfinite(f) or f < 1 or f != int(f):
        raise XlVarError(f"{name} must be {what}; got {value!r}")
    return int(f)


def check_lambda(lam: Any, name: str = "lam") -> float:
    """Return an EWMA decay factor in (0, 1)."""
    try:
        x = float(lam)
    except (TypeError, ValueError):
        raise XlVarError(f"{name} must be a decay factor between 0 and 1, e.g. 0.94") from None
    if not np.isfinite(x) or not 0.0 < x < 1.0:
        raise XlVarError(f"{name} must be a decay factor between 0 and 1, e.g. 0.94; got {x:g}")
    return x


def choose(value: Any, name: str, choices: Mapping[str, Iterable[str]]) -> str:
    """Resolve a case-insensitive choice with aliases: ``choices`` maps canonical name → aliases."""
    key = str(value).strip().lower() if value is not None else ""
    for canonical, aliases in choices.items():
        if key == canonical or key in aliases:
            return canonical
    listed = ", ".join(f"'{c}'" for c in choices)
    raise XlVarError(f"{name} must be one of {listed}; got {value!r}")
