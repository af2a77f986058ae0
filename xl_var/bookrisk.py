r"""VaR, ES and Euler components of a :class:`~xl_var.book.Book` against returns of its underlyings.

``method`` keeps choosing the return model (as for weights) and ``revaluation`` how the
book maps returns :math:`r` (one column per underlying, simple returns: :math:`S_1 =
S_0(1 + r)`) to USD P&L:

``"full"`` (default for ``historical`` and ``fhs``)
    Every position repriced in every scenario (:meth:`~xl_var.book.Book.unit_pnl`).
    Needs scenarios: a parametric method with ``"full"`` is refused (use
    :func:`~xl_var.montecarlo.monte_carlo` with the book).
``"delta"`` (default for ``normal``, ``t``, ``modified``, ``ewma``)
    Each position is its dollar delta :math:`\delta_i = S\,\partial\Pi_i/\partial S` on
    its underlying's return: the linear methods run on the T×P table
    :math:`r_{t,u(i)}` with weights :math:`\delta_i`.
``"delta-gamma"``
    :math:`\Pi = \delta r + \tfrac12\Gamma r^2 + \theta\,\Delta t` per position
    (``gamma_usd`` and ``theta`` of :meth:`~xl_var.book.Book.greeks`). Scenario methods
    evaluate it on each scenario; ``normal`` and ``ewma`` pass the book's dollar delta,
    diagonal dollar gamma and the (sample or EWMA) covariance of the underlyings to
    :func:`~xl_var.deltagamma.delta_gamma_var` (Cornish–Fisher on the exact cumulants,
    zero mean); ``t`` and ``modified`` are refused.

Horizon :math:`h`: ``scaling="sqrt"`` scales the *moves* by :math:`\sqrt h` before
revaluation (never the P&L, which is not linear); ``"overlapping"`` revalues
overlapping h-period sums of returns. ``time_decay=True`` reprices at valuation plus
:math:`h` periods of ``period`` days (default one day per period); otherwise scenarios
are instantaneous. ``vol_shock`` (full revaluation only): a number is a relative shift
of every implied vol (0.1 → vols × 1.1); a T×U array gives absolute implied-vol changes
aligned with the returns (historical and fhs).

Components are per position, in USD, summing to the total: exact for ES and kernel
estimates for VaR over scenarios (:mod:`xl_var.historical`), analytic for the delta
methods, and central differences in the quantities for parametric delta-gamma (VaR is
homogeneous of degree one in the quantities, so the Euler sum holds to the
differencing error, about 1e-8 relative). ``marginal`` is per unit of quantity.

References
----------
Jorion, P. (2007), *Value at Risk*, 3rd ed., ch. 11 (VaR of options: delta-normal,
delta-gamma, full revaluation); Pritsker, M. (1997), "Evaluating value at risk
methodologies", *Journal of Financial Services Research* 12, 201–242.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from xl_var._inputs import Problem
from xl_var._typing import FloatArray
from xl_var._validate import as_matrix, check_confidence, check_horizon, check_lambda, choose, clean_returns
from xl_var.book import DAYS_PER_YEAR, Book
from xl_var.errors import XlVarError
from xl_var.ewma import ewma_cov
from xl_var.historical import fhs_scenarios, overlapping_sums
from xl_var.methods import REGISTRY, REVALUATION_NAMES, SCENARIO_METHODS

if TYPE_CHECKING:  # portfolio imports this module
    from xl_var.portfolio import RiskResult

__all__ = ["BookProblem", "book_returns", "book_risk", "decay_years", "prepare_book"]

_PERIODS = {"day": 1.0, "week": 7.0, "month": DAYS_PER_YEAR / 12.0, "year": DAYS_PER_YEAR}
_FD_STEP = 1e-6  # relative step of the central differences of parametric delta-gamma components


@dataclass(frozen=True)
class BookProblem:
    """Validated inputs of one book risk call (returns aligned to the book's underlyings)."""

    book: Book
    returns: FloatArray  # T×U, columns in book.underlyings order
    method: str
    revaluation: str
    confidence: float
    horizon: int
    lam: float
    scaling: str
    dt: float  # years of decay over the horizon (0 when time_decay is False)
    vol_shock: float | FloatArray | None  # relative shift, or T×U absolute changes


def _align(returns: FloatArray, book: Book, assets: Sequence[str] | None) -> FloatArray:
    if assets is None:
        raise XlVarError(f"assets must name the columns of returns (the underlyings, e.g. "
                         f"{list(book.underlyings)}) when weights is a Book")
    names = [str(a).strip().upper() for a in (assets if not isinstance(assets, str) else [assets])]
    if len(names) != returns.shape[1]:
        raise XlVarError(f"assets names {len(names)} columns but returns has {returns.shape[1]}: "
                         "give one name per column")
    cols = []
    for u in book.underlyings:
        if u not in names:
            raise XlVarError(f"{book.first_position(u)}: returns have no column for {u} (assets are {names}): "
                             "add its returns")
        cols.append(names.index(u))
    return np.ascontiguousarray(returns[:, cols])


def book_returns(returns: ArrayLike, book: Book, assets: Sequence[str] | None) -> FloatArray:
    """The columns of ``returns`` (T×N, not yet cleaned) for ``book.underlyings``, in that order, matched to
    ``assets`` by name (the caller cleans them with its own ``missing`` rule)."""
    return _align(as_matrix(returns, "returns", finite=False), book, assets)


def decay_years(time_decay: Any, horizon: Any, period: Any) -> float:
    """Years of time decay over ``horizon`` periods of ``period`` days (0 without ``time_decay``)."""
    return check_horizon(horizon) * _period_days(period) / DAYS_PER_YEAR if time_decay else 0.0


def _period_days(period: Any) -> float:
    if isinstance(period, str):
        return _PERIODS[choose(period, "period", {k: () for k in _PERIODS})]
    try:
        days = float(period)
    except (TypeError, ValueError):
        days = math.nan
    if not math.isfinite(days) or days <= 0.0:
        raise XlVarError(f"period must be the length of one period in days (e.g. 1, 7) or 'day', 'week', 'month'; "
                         f"got {period!r}")
    return days


def prepare_book(returns: ArrayLike, book: Book, *, assets: Sequence[str] | None, method: str,
                 revaluation: Any, confidence: Any, horizon: Any, lam: Any, scaling: Any, missing: str,
                 time_decay: bool, period: Any, vol_shock: Any, corr: Any, cov: Any, df: Any) -> BookProblem:
    """Validate a book risk call once; ``method`` is already canonical."""
    if cov is not None or corr is not None:
        raise XlVarError("cov= and corr= are not used with a Book: give the underlyings' returns")
    if df is not None:
        raise XlVarError("df= is not used with a Book: leave it out")
    reval = (choose(revaluation, "revaluation", REVALUATION_NAMES) if revaluation is not None
             else REGISTRY[method].default_revaluation)
    if reval == "full" and method not in SCENARIO_METHODS:
        raise XlVarError(f"revaluation='full' reprices the book in scenarios: use method 'historical' or 'fhs', or "
                         f"monte_carlo with the book; method '{method}' takes revaluation 'delta' or 'delta-gamma'")
    if reval == "delta-gamma" and method in ("t", "modified"):
        raise XlVarError(f"revaluation='delta-gamma' with a parametric method assumes normal returns: use method "
                         f"'normal' or 'ewma' (or a scenario method); got '{method}'")
    h = check_horizon(horizon)
    scaling_ = choose(scaling, "scaling", {"sqrt": (), "overlapping": ()})
    if scaling_ == "overlapping" and method not in SCENARIO_METHODS:
        raise XlVarError(f"scaling='overlapping' applies to the historical and fhs methods; got '{method}'")
    shock: float | FloatArray | None = None
    raw = as_matrix(returns, "returns", finite=False)
    n_ret = raw.shape[1]  # the returns' columns (a vol_shock table is cleaned beside them)
    if vol_shock is not None:
        if reval != "full":
            raise XlVarError("vol_shock applies to revaluation='full': leave it out or reprice in full")
        if np.ndim(vol_shock) == 0:
            try:
                shock = float(vol_shock)
            except (TypeError, ValueError):
                shock = math.nan
            if not math.isfinite(shock) or shock <= -1.0:
                raise XlVarError(f"vol_shock must be a relative shift above -1 (0.1 = vols up 10%); got {vol_shock!r}")
        else:
            arr = as_matrix(vol_shock, "vol_shock", finite=False)
            if arr.shape != raw.shape:
                raise XlVarError(f"vol_shock is {arr.shape[0]}×{arr.shape[1]} but returns is {raw.shape[0]}×"
                                 f"{raw.shape[1]}: give one implied-vol change per return, or one number")
            raw = np.hstack([raw, arr])  # cleaned (and rows dropped) together
    need = 2 + (h - 1 if scaling_ == "overlapping" else 0)
    data = clean_returns(raw, missing=missing, min_obs=need, method=method)
    if vol_shock is not None and shock is None:
        shock = _align(np.ascontiguousarray(data[:, n_ret:]), book, assets)
    aligned = _align(np.ascontiguousarray(data[:, :n_ret]), book, assets)
    dt = decay_years(time_decay, h, period)
    return BookProblem(book, aligned, method, reval, check_confidence(confidence), h, check_lambda(lam), scaling_,
                       dt, shock)


def _moves(bp: BookProblem) -> tuple[FloatArray, FloatArray | None]:
    """Scenario moves of the underlyings over the horizon (and the vol changes that go with them)."""
    x = bp.returns if REGISTRY[bp.method].estimator == "historical" else fhs_scenarios(bp.returns, bp.lam)
    shock = bp.vol_shock if isinstance(bp.vol_shock, np.ndarray) else None
    if bp.scaling == "overlapping":
        x = overlapping_sums(x, bp.horizon)
        shock = None if shock is None else overlapping_sums(shock, bp.horizon)
    elif bp.horizon > 1:
        x = x * math.sqrt(bp.horizon)
        shock = None if shock is None else shock * math.sqrt(bp.horizon)
    if np.any(x <= -1.0):
        raise XlVarError(f"a {bp.horizon}-period move of the underlyings falls below -100%: use "
                         "scaling='overlapping' or a shorter horizon")
    return x, shock


def _unit_pnl(bp: BookProblem) -> FloatArray:
    """USD P&L of one unit of each position in each scenario (T×P) under ``bp.revaluation``."""
    book = bp.book
    x, shock = _moves(bp)
    shifts: Any = None
    if shock is not None:
        shifts = shock[:, book.underlying_index]
    elif isinstance(bp.vol_shock, float):
        shifts = np.where(book.is_option, np.nan_to_num(book.vol) * bp.vol_shock, 0.0)
    return book.unit_pnl(x, shifts, dt=bp.dt, revaluation=bp.revaluation)


def _scenario_problem(bp: BookProblem, unit: FloatArray, weights: FloatArray) -> Problem:
    """The table of per-unit P&L as a one-period historical problem, so components come out per position."""
    return Problem(unit, weights, "historical", bp.confidence, 1, None, None, None, None, bp.lam, "sqrt")


def _delta_gamma(bp: BookProblem) -> Callable[[FloatArray], RiskResult]:
    """Parametric delta-gamma VaR and ES of the book as a function of its quantities.

    The unit Greeks and the (sample or EWMA) covariance are computed once; each call
    aggregates the dollar delta and diagonal dollar gamma per underlying for ``q``.
    """
    from xl_var.deltagamma import delta_gamma_var

    book = bp.book
    unit = book.unit_greeks()
    cov = (ewma_cov(bp.returns, bp.lam) if bp.method == "ewma"
           else np.atleast_2d(np.cov(bp.returns, rowvar=False, ddof=1)))
    per_period = bp.dt * DAYS_PER_YEAR / bp.horizon  # days of decay per period

    def risk(q: FloatArray) -> RiskResult:
        gamma = np.diag(book.by_underlying(unit.gamma_usd * q))
        return delta_gamma_var(book.by_underlying(unit.delta_usd * q), gamma, cov, confidence=bp.confidence,
                               horizon=bp.horizon, theta=float(unit.theta @ q) * per_period,
                               method="cornish-fisher")

    return risk


def book_risk(bp: BookProblem, which: str, *, gradient: bool) -> tuple[float, float, FloatArray | None]:
    """(VaR, ES, components per position of ``which`` or None) of the book.

    ``which`` ("var" or "es") picks the measure the components decompose.
    """
    from xl_var.portfolio import _risk

    book = bp.book
    q = np.asarray(book.quantity, dtype=np.float64)
    if bp.method in SCENARIO_METHODS:
        risk = _risk(_scenario_problem(bp, _unit_pnl(bp), q), gradient=gradient, label="the book")
        grad = risk.grad_var if which == "var" else risk.grad_es
        return risk.var, risk.es, None if grad is None else q * grad
    if bp.revaluation == "delta":
        dollar = q * book.unit_greeks().delta_usd
        p = Problem(np.ascontiguousarray(bp.returns[:, book.underlying_index]), dollar, bp.method, bp.confidence,
                    bp.horizon, None, None, None, None, bp.lam, "sqrt")
        risk = _risk(p, gradient=gradient, label="the book's deltas")
        grad = risk.grad_var if which == "var" else risk.grad_es
        return risk.var, risk.es, None if grad is None else dollar * grad
    risk_of = _delta_gamma(bp)
    res = risk_of(q)
    if not gradient:
        return res.var, res.es, None
    comp = np.empty(q.size)
    for i in range(q.size):
        step = _FD_STEP * max(abs(q[i]), 1.0)
        up, down = q.copy(), q.copy()
        up[i] += step
        down[i] -= step
        hi, lo = risk_of(up), risk_of(down)
        diff = hi.var - lo.var if which == "var" else hi.es - lo.es
        comp[i] = q[i] * diff / (2.0 * step)
    return res.var, res.es, comp
