"""Input validation shared by every public engine function.

Each public function calls these helpers once, at its top, and then works on clean
``float64`` arrays. All failures raise :class:`~xl_var.errors.XlVarError` whose
message names the argument and the fix.

Tables are converted once, here, to C-ordered ``float64`` (at most one copy: none when the
caller's array already is one). :func:`clean_returns` also refuses a table that looks like
price levels rather than returns (:class:`~xl_var.errors.LooksLikePrices`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from xl_var._typing import FloatArray
from xl_var.errors import LooksLikePrices, XlVarError

__all__ = [
    "MAX_HORIZON",
    "MAX_VOL",
    "PRICE_LEVEL",
    "PRICE_STEP",
    "as_matrix",
    "as_vector",
    "check_confidence",
    "check_horizon",
    "check_lambda",
    "check_positive_int",
    "choose",
    "clean_returns",
    "refuse_prices",
]

#: Largest implied vol accepted anywhere (1000 %): a vol typed as 60.5 for 60.5 % is refused, not priced.
MAX_VOL = 10.0

#: Longest horizon accepted, in periods (about 4,000 years of daily returns): beyond it the
#: square-root-of-time and overlapping-sum rules mean nothing and integer arithmetic overflows.
MAX_HORIZON = 1_000_000
#: A returns table whose values are all positive with a median above PRICE_LEVEL (a typical
#: return of +50% a period) and that moves a median of at most PRICE_STEP (20%) of its value
#: from one row to the next is a table of price levels (or gross returns 1 + r), not returns.
PRICE_LEVEL = 0.5
PRICE_STEP = 0.2


def _to_float(x: ArrayLike, name: str) -> FloatArray:
    """``x`` as a C-ordered float64 array: one conversion, no copy when it already is one."""
    try:
        arr = np.asarray(x, dtype=np.float64, order="C")
    except (TypeError, ValueError) as exc:
        raise XlVarError(f"{name} must contain only numbers ({exc})") from None
    return arr


def _all_finite(arr: FloatArray) -> bool:
    """Whether every entry is finite, in one pass that allocates nothing.

    The sum of squares is finite exactly when every entry is, unless an entry exceeds about
    1e154 in size; only then are the entries looked at one by one.
    """
    flat = arr.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        squares = np.einsum("i,i", flat, flat)  # a plain C loop: BLAS ddot threads can stall a loaded machine
    return bool(np.isfinite(squares)) or bool(np.isfinite(flat).all())


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
    (BLAS sums in a layout-dependent order), and it is the fast order for everything
    downstream; ``x`` is copied at most once (not at all when it already is C-ordered
    float64), so a pandas ``DataFrame.to_numpy()`` (column-major) costs one copy here.
    """
    arr = _to_float(x, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise XlVarError(f"{name} must be a 2-D table (rows are periods, columns are assets); got {arr.ndim}-D")
    if arr.size == 0:
        raise XlVarError(f"{name} is empty: give at least one row and one column")
    if finite and not _all_finite(arr):
        r, c = np.argwhere(~np.isfinite(arr))[0]
        raise XlVarError(f"{name} row {r + 1}, column {c + 1} is not a finite number: fix it or use missing='drop'")
    return arr


def clean_returns(
    returns: ArrayLike, *, missing: str = "raise", min_obs: int = 2, method: str | None = None
) -> FloatArray:
    """Validate a T×N returns table; handle NaN/inf rows by ``missing`` ("raise" or "drop").

    Returns a C-ordered float64 array (see :func:`as_matrix`); a table that looks like
    price levels is refused (:func:`refuse_prices`).
    """
    missing = choose(missing, "missing", {"raise": (), "drop": ()})
    arr = as_matrix(returns, "returns", finite=missing == "raise")
    if missing == "drop" and not _all_finite(arr):
        arr = arr[np.all(np.isfinite(arr), axis=1)]
    refuse_prices(arr)
    if arr.shape[0] < min_obs:
        what = f"the {method} method" if method else "this calculation"
        raise XlVarError(
            f"returns has {arr.shape[0]} usable rows but {what} needs at least {min_obs}: give more history"
        )
    return arr


def refuse_prices(arr: FloatArray, name: str = "returns") -> None:
    r"""Refuse a finite T×N table that looks like price levels rather than returns.

    The table is refused when all three hold:

    .. math::

        \min_{t,i} x_{t,i} > 0, \qquad
        \operatorname{median}_{t,i} x_{t,i} > 0.5, \qquad
        \operatorname{median}_{t \ge 2,\,i} \frac{|x_{t,i} - x_{t-1,i}|}{x_{t-1,i}} \le 0.2,

    i.e. every value is positive, a typical value is far from zero (a return of +50% a
    period), and the values move by a small fraction of themselves from row to row, as
    price levels (and gross returns :math:`1 + r`) do and returns do not: independent
    draws move by about their own size. Returns in percent units (1.5 for 1.5%) have
    negative values and pass. The first test looks at the first row, and at the whole table
    only when that row is all positive, so returns cost next to nothing; tables with fewer
    than two rows are not judged.

    Raises
    ------
    LooksLikePrices
        With the evidence (count and range of the values, median move) and the generic fix,
        after the last colon, so that each layer can word its own
        (``RETURNS(...)`` in Excel, ``--prices`` on the command line).

    References
    ----------
    J. Y. Campbell, A. W. Lo and A. C. MacKinlay, *The Econometrics of Financial
    Markets*, 1997, §1.4 (prices are integrated, returns are not).
    """
    if arr.shape[0] < 2 or not (arr[0].min() > 0.0 and arr.min() > 0.0):
        return
    if not float(np.median(arr)) > PRICE_LEVEL:
        return
    step = float(np.median(np.abs(np.diff(arr, axis=0)) / arr[:-1]))
    if step > PRICE_STEP:
        return
    raise LooksLikePrices(
        f"{name} look like prices, not returns: all {arr.size:,} values are positive, between "
        f"{_number(float(arr.min()))} and {_number(float(arr.max()))}, and move a median {step:.2%} from one row "
        "to the next: convert the prices to returns first", argument=name)


def _number(x: float) -> str:
    """A value for a message: thousands separators, five significant digits below 100,000."""
    return f"{x:,.0f}" if abs(x) >= 1e5 else f"{x:,.5g}"


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
    """Return a horizon in periods, an integer from 1 to :data:`MAX_HORIZON`."""
    return check_positive_int(horizon, "horizon", what="a whole number of periods, 1 or more", most=MAX_HORIZON)


def check_positive_int(value: Any, name: str, *, what: str = "a whole number, 1 or more",
                       most: int | None = None) -> int:
    """Return ``value`` as an int ≥ 1 and ≤ ``most`` (floats such as 10.0 or 1e6 are accepted when whole)."""
    try:
        f = float(value)
    except OverflowError:  # an int beyond double precision
        f = math.inf
    except (TypeError, ValueError):
        raise XlVarError(f"{name} must be {what}") from None
    if most is not None and f > most:
        raise XlVarError(f"{name} must be at most {most:,}; got {f:,.15g}: check its units")
    if not math.isfinite(f) or f < 1 or f != int(f):
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
