"""Input validation of the portfolio risk functions, done once per public call.

:func:`prepare` turns the user's arguments into a :class:`Problem` of clean float64
arrays and canonical option names, raising :class:`~xl_var.errors.XlVarError` with a
message that names the argument and the fix (shape mismatch, too few observations for
the method, NaN/inf, confidence, horizon, correlation, covariance, unknown method...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from xl_var._typing import FloatArray
from xl_var._validate import (
    as_matrix,
    as_vector,
    check_confidence,
    check_horizon,
    check_lambda,
    choose,
    clean_returns,
)
from xl_var.correlation import correlation_input, nearest_correlation
from xl_var.errors import XlVarError
from xl_var.methods import METHODS, MIN_OBS, SCENARIO_METHODS

__all__ = ["MEASURES", "METHODS", "MIN_OBS", "SCENARIO_METHODS", "Problem", "check_cov", "check_df", "check_variance",
           "covariance_inputs", "prepare", "refuse_covariance_with_returns", "vector"]


MEASURES = {"var": ("value-at-risk", "value at risk"), "es": ("expected shortfall", "cvar", "etl")}
_SCALINGS = {"sqrt": (), "overlapping": ()}
ZERO_VOL = 1e-12  # portfolio volatility below this fraction of PortfolioMoments.scale counts as zero
SD_RANGE = (1e-150, 1e150)  # sd^4 and its reciprocal stay finite and normal inside this range


@dataclass(frozen=True)
class Problem:
    """Validated inputs shared by the public functions."""

    returns: FloatArray | None
    weights: FloatArray
    method: str
    confidence: float
    horizon: int
    cov: FloatArray | None
    mean: FloatArray | None
    corr: FloatArray | None
    df: float | None
    lam: float
    scaling: str


def vector(x: ArrayLike, name: str, n: int | None, source: str) -> FloatArray:
    """``x`` as a float vector (a scalar is one entry) of ``n`` entries; ``source`` says where n came from."""
    try:
        scalar = np.ndim(x) == 0
    except ValueError:  # ragged nested lists: as_vector names the problem
        scalar = False
    vec = as_vector(np.array([x], dtype=object) if scalar else x, name)
    if n is not None and vec.size != n:
        raise XlVarError(f"{name} has {vec.size} entries but {source}: give one per asset")
    return vec


def check_df(df: Any, name: str, allowed: tuple[str, ...] = ("t",), kind: str = "method") -> float | None:
    """Degrees of freedom above 2, or None; ``df`` applies only when ``name`` is one of ``allowed``.

    ``kind`` ("method" or "model") and ``name`` (the chosen one) are for the messages.
    """
    if df is None:
        return None
    if name not in allowed:
        which = (f"only to {kind}='{allowed[0]}'" if len(allowed) == 1
                 else f"to {kind}s " + " and ".join(f"'{a}'" for a in allowed))
        raise XlVarError(f"df applies {which} (got {kind}='{name}'): leave df out")
    try:
        nu = float(df)
    except (TypeError, ValueError):
        raise XlVarError("df must be a number greater than 2, e.g. 5") from None
    if not math.isfinite(nu) or nu <= 2.0:
        raise XlVarError(f"df must be a number greater than 2 (the unit-variance t needs finite variance); "
                         f"got {nu:g}")
    return nu


def check_cov(cov: ArrayLike, n: int) -> FloatArray:
    """An n×n symmetric positive semi-definite covariance (symmetrised exactly)."""
    c = as_matrix(cov, "cov")
    if c.shape != (n, n):
        raise XlVarError(f"cov is {c.shape[0]}×{c.shape[1]} but weights has {n} entries: "
                         f"give an {n}×{n} covariance matrix")
    tol = 1e-10 * max(float(np.abs(c).max()), np.finfo(np.float64).tiny)
    if np.abs(c - c.T).max() > tol:
        r, k = np.unravel_index(int(np.argmax(np.abs(c - c.T))), c.shape)
        raise XlVarError(f"cov is not symmetric: row {r + 1}, column {k + 1} differs from row {k + 1}, "
                         f"column {r + 1}; make them equal")
    c = 0.5 * (c + c.T)
    low = float(np.linalg.eigvalsh(c)[0])
    if low < -tol * n:
        raise XlVarError(f"cov is not positive semi-definite (smallest eigenvalue {low:.3g}): "
                         "give a valid covariance matrix")
    return c


def covariance_inputs(weights: ArrayLike, cov: ArrayLike | None, mean: ArrayLike | None, nu: float | None, *,
                      kind: str, name: str) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Validate the ``returns=None`` path (normal or t with ``cov=``): weights, cov and mean (None if omitted).

    ``kind`` is "method" or "model" and ``name`` the chosen one, for the messages.
    """
    if name not in ("normal", "t"):
        raise XlVarError(f"{kind} '{name}' works from returns: give returns, or use {kind} 'normal' or 't' "
                         "with cov=")
    if cov is None:
        raise XlVarError("give returns (a T×N table), or returns=None with cov= (an N×N covariance)")
    if name == "t" and nu is None:
        raise XlVarError(f"{kind} 't' with cov= needs df= (degrees of freedom above 2): there is no "
                         "return series to fit it to")
    w = vector(weights, "weights", None, "")
    n = w.size
    cov_ = check_cov(cov, n)
    mean_ = None if mean is None else vector(mean, "mean", n, f"cov is {n}×{n}")
    return w, cov_, mean_


def refuse_covariance_with_returns(cov: ArrayLike | None, mean: ArrayLike | None) -> None:
    """``cov=``/``mean=`` replace returns; giving both is a mistake."""
    if cov is not None or mean is not None:
        raise XlVarError("cov= and mean= replace returns: pass returns=None to use them, or leave them out")


def _min_obs(method: str, horizon: int, scaling: str, df: float | None) -> int:
    """Rows each method needs; overlapping h-period sums use h - 1 rows more."""
    need = MIN_OBS["normal"] if method == "t" and df is not None else MIN_OBS[method]
    return need + horizon - 1 if scaling == "overlapping" else need


def prepare(returns: ArrayLike | None, weights: ArrayLike, *, method: str, confidence: Any, horizon: Any,
             cov: ArrayLike | None, mean: ArrayLike | None, corr: ArrayLike | None, df: Any, lam: Any,
             scaling: Any, missing: str) -> Problem:
    """Validate everything once; ``method`` is already canonical."""
    c = check_confidence(confidence)
    h = check_horizon(horizon)
    lam_ = check_lambda(lam)
    scaling_ = choose(scaling, "scaling", _SCALINGS)
    if scaling_ == "overlapping" and method not in SCENARIO_METHODS:
        raise XlVarError(f"scaling='overlapping' applies to the historical and fhs methods; "
                         f"method '{method}' scales by the square root of the horizon: leave scaling out")
    nu = check_df(df, method)
    data: FloatArray | None = None
    cov_: FloatArray | None = None
    mean_: FloatArray | None = None
    if returns is None:
        w, cov_, mean_ = covariance_inputs(weights, cov, mean, nu, kind="method", name=method)
        n = w.size
        mean_ = np.zeros(n) if mean_ is None else mean_
        source = f"cov is {n}×{n}"
    else:
        refuse_covariance_with_returns(cov, mean)
        data = clean_returns(returns, missing=missing, min_obs=_min_obs(method, h, scaling_, nu),
                             method=method)
        n = data.shape[1]
        source = f"returns has {n} columns"
        w = vector(weights, "weights", n, source)
    corr_: FloatArray | None = None
    if corr is not None:
        if method in SCENARIO_METHODS:
            raise XlVarError(f"corr= applies to the parametric methods (normal, t, modified, ewma); method "
                             f"'{method}' uses the co-movements in the scenarios: leave corr out")
        corr_ = correlation_input(corr, "corr")
        if corr_.shape[0] != n:
            raise XlVarError(f"corr is {corr_.shape[0]}×{corr_.shape[0]} but {source}: "
                             "give one row and one column per asset")
        corr_ = nearest_correlation(corr_)  # unchanged when already positive semi-definite
    return Problem(data, w, method, c, h, cov_, mean_, corr_, nu, lam_, scaling_)


def check_variance(sd: float, scale: float, label: str) -> None:
    """Reject a zero-variance portfolio, and one whose size double precision cannot carry."""
    if not (math.isfinite(sd) and math.isfinite(scale)):
        raise XlVarError(f"the portfolio of {label} overflows: returns × weights are too large for double precision "
                         "arithmetic (no finite variance): rescale them, e.g. returns as fractions (0.01 for 1%)")
    if not sd > ZERO_VOL * scale:
        raise XlVarError(f"the portfolio of {label} has zero variance (weights all zero, returns constant or "
                         "a perfect hedge), so its VaR is undefined: check the weights and returns")
    if not SD_RANGE[0] < sd < SD_RANGE[1]:
        raise XlVarError(f"the portfolio of {label} has standard deviation {sd:.3g}, outside the "
                         f"{SD_RANGE[0]:g} to {SD_RANGE[1]:g} that double precision carries through higher "
                         "moments: express returns and weights in other units")


