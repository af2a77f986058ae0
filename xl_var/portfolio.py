r"""Portfolio VaR and ES by six methods, their Euler decomposition and incremental VaR.

Conventions
-----------
* ``returns`` is T×N (rows are periods), ``weights`` has N entries (fractions or
  currency amounts, negative for shorts). The portfolio is held at constant weights
  (rebalanced every period): its return in period t is :math:`y_t = r_t^\top w`.
* VaR and ES are positive losses in the units of returns × weights; the tail
  probability is :math:`\alpha = 1 - c` for confidence :math:`c`.
* Horizon :math:`h`: parametric methods use the moments of the sum of :math:`h` i.i.d.
  periods — mean :math:`h m_1`, volatility :math:`\sqrt h\,\sigma` (square-root-of-time
  rule), skewness :math:`S/\sqrt h` and excess kurtosis :math:`K/h` for ``modified``
  (:meth:`~xl_var.moments.PortfolioMoments.over_horizon`); ``t`` keeps its fitted df.
  This is what the Monte Carlo engine simulates for ``normal``. ``historical`` and
  ``fhs`` scale the one-period VaR and ES by :math:`\sqrt h` with ``scaling="sqrt"`` or
  use overlapping h-period sums of the scenarios with ``scaling="overlapping"``.

Methods (case-insensitive; aliases in brackets)
-----------------------------------------------
``normal`` [gaussian, parametric]
    Sample mean and unbiased (n−1) covariance, normal quantile.
``t`` [student, student-t]
    Student-t scaled to unit variance times the portfolio's sample standard deviation,
    plus the mean; ``df`` fitted by maximum likelihood to the portfolio series
    (:func:`~xl_var.parametric.fit_t_df`) or given. Closed-form ES.
``modified`` [cornish-fisher]
    Cornish–Fisher VaR and the modified ES of Boudt, Peterson & Croux (2008), floored
    at modified VaR; covariance divisor n−1, third and fourth moments divisor n
    (PerformanceAnalytics' conventions).
``historical``
    Type-7 empirical quantile of the constant-weight portfolio series; ES is the mean
    loss beyond it (:func:`~xl_var.historical.empirical_var_es`).
``ewma``
    RiskMetrics EWMA covariance (:func:`~xl_var.ewma.ewma_cov`, zero mean) with normal
    quantiles.
``fhs``
    Filtered historical simulation: each asset's returns standardised by its EWMA
    volatility and rescaled to today's (:func:`~xl_var.historical.fhs_scenarios`).

References
----------
Boudt, K., Peterson, B. G. and Croux, C. (2008), *Journal of Risk* 11(2), 79–103.
Jorion, P. (2007), *Value at Risk*, 3rd ed., McGraw-Hill.
Tasche, D. (2000), "Conditional expectation as quantile derivative".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike

from xl_var._inputs import MEASURES, SD_RANGE, ZERO_VOL, Problem, check_variance, prepare, vector
from xl_var._typing import FloatArray
from xl_var._validate import choose
from xl_var.book import Book
from xl_var.bookrisk import BookProblem, book_risk, prepare_book
from xl_var.errors import XlVarError
from xl_var.ewma import ewma_cov
from xl_var.historical import (
    component_es_scenarios,
    component_var_scenarios,
    empirical_var_es,
    fhs_scenarios,
    overlapping_sums,
)
from xl_var.methods import METHODS, REGISTRY
from xl_var.moments import PortfolioMoments, covariance_moments, recolour, sample_moments, with_correlation
from xl_var.parametric import Risk, fit_t_df

__all__ = [
    "METHODS",
    "Decomposition",
    "IncrementalResult",
    "RiskResult",
    "component_var",
    "incremental_var",
    "portfolio_var",
    "portfolio_volatility",
]



@dataclass(frozen=True)
class RiskResult:
    """Portfolio VaR and ES (positive losses, units of returns × weights).

    Attributes
    ----------
    var, es : float
        Value-at-Risk and expected shortfall over ``horizon`` periods.
    method : str
        Canonical method name.
    confidence : float
    horizon : int
    n_obs : int
        Rows of returns used (after ``missing="drop"``); 0 when computed from ``cov=``.
    """

    var: float
    es: float
    method: str
    confidence: float
    horizon: int
    n_obs: int


@dataclass(frozen=True)
class Decomposition:
    r"""Euler decomposition of a risk measure :math:`\rho(w)`.

    Attributes
    ----------
    total : float
        :math:`\rho(w)`.
    marginal : ndarray, shape (N,)
        :math:`\partial\rho/\partial w_i` (risk per unit of weight).
    component : ndarray, shape (N,)
        :math:`w_i\,\partial\rho/\partial w_i`; sums to ``total`` (negative for hedges).
    percent : ndarray, shape (N,)
        ``component / total`` as fractions summing to 1.
    """

    total: float
    marginal: FloatArray
    component: FloatArray
    percent: FloatArray


@dataclass(frozen=True)
class IncrementalResult:
    r"""Effect on the risk measure of adding ``new_position`` :math:`\Delta w`.

    Attributes
    ----------
    before, after : float
        :math:`\rho(w)` and :math:`\rho(w + \Delta w)`, each computed in full.
    exact : float
        ``after - before`` (incremental VaR by re-computation).
    first_order : float
        :math:`\nabla\rho(w)^\top\Delta w` (marginal VaR times the trade).
    """

    before: float
    after: float
    exact: float
    first_order: float


def _moments(p: Problem, gradient: bool) -> PortfolioMoments:
    """Portfolio moments by the method's estimator (:data:`xl_var.methods.REGISTRY`)."""
    if p.returns is None:
        assert p.cov is not None and p.mean is not None
        cov = p.cov if p.corr is None else with_correlation(p.cov, p.corr)
        return covariance_moments(cov, p.mean, p.weights, gradient=gradient)
    estimator = REGISTRY[p.method].estimator
    if estimator == "ewma":
        cov = ewma_cov(p.returns, p.lam)
        cov = cov if p.corr is None else with_correlation(cov, p.corr)
        return covariance_moments(cov, np.zeros(p.weights.size), p.weights, gradient=gradient)
    if estimator == "higher":
        data = p.returns if p.corr is None else recolour(p.returns, p.corr)
        return sample_moments(data, p.weights, higher=True, gradient=gradient)
    if p.corr is None:
        return sample_moments(p.returns, p.weights, gradient=gradient)
    cov = with_correlation(np.atleast_2d(np.cov(p.returns, rowvar=False)), p.corr)
    return covariance_moments(cov, p.returns.mean(axis=0), p.weights, gradient=gradient)


def _scenario_risk(p: Problem, gradient: bool, label: str) -> Risk:
    assert p.returns is not None
    x = p.returns if REGISTRY[p.method].estimator == "historical" else fhs_scenarios(p.returns, p.lam)
    factor = math.sqrt(p.horizon)
    if p.scaling == "overlapping":
        x, factor = overlapping_sums(x, p.horizon), 1.0
    loss = -(x @ p.weights)
    sd = float(loss.std())
    flat = x.reshape(-1)
    with np.errstate(over="ignore"):
        bound = float(np.abs(p.weights).sum()) * math.sqrt(float(np.einsum("i,i", flat, flat)) / len(x))  # ≥ exact
    if not max(ZERO_VOL * bound, SD_RANGE[0]) < sd < SD_RANGE[1]:  # only then is the exact scale needed
        check_variance(sd, float(np.abs(p.weights) @ np.sqrt(np.mean(x * x, axis=0))), label)
    var, es = empirical_var_es(loss, p.confidence)
    if not gradient:
        return Risk(var, es).scaled(factor)
    unit = -x  # the loss of one unit of each asset, per scenario
    return Risk(var, es, component_var_scenarios(loss, unit, var),
                component_es_scenarios(loss, unit, var)).scaled(factor)


def _risk(p: Problem, *, gradient: bool, label: str = "weights") -> Risk:
    """One-period risk by ``p.method`` scaled to the horizon, with gradients if asked."""
    method = REGISTRY[p.method]
    if method.scenarios:
        return _scenario_risk(p, gradient, label)
    m = _moments(p, gradient)
    check_variance(m.sd, m.scale, label)
    m = m.over_horizon(p.horizon)
    nu = p.df
    if method.fits_df and nu is None:  # fitted to the observed portfolio series (prepare() demands df with cov=)
        assert p.returns is not None
        nu = fit_t_df(p.returns @ p.weights)
    assert method.risk is not None
    return method.risk(m, p.confidence, math.nan if nu is None else nu)


def _refuse_zero(total: float, which: str) -> None:
    if total == 0.0:
        raise XlVarError(f"the portfolio {which.upper()} is exactly zero, so percent contributions are "
                         "undefined: check the weights")


def _refuse_book_options(assets: object, revaluation: object, time_decay: object, vol_shock: object) -> None:
    """``assets``/``revaluation``/``time_decay``/``vol_shock`` need a Book as weights."""
    given = [n for n, v in (("assets", assets), ("revaluation", revaluation), ("vol_shock", vol_shock))
             if v is not None] + (["time_decay"] if time_decay else [])
    if given:
        raise XlVarError(f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to a Book of positions given "
                         "as weights: leave it out, or pass an xl_var.Book")


def _book_problem(returns: ArrayLike | None, book: Book, method: str, confidence: object, horizon: object,
                  lam: object, scaling: object, missing: str, assets: Sequence[str] | None, revaluation: str | None,
                  time_decay: bool, period: float | str, vol_shock: ArrayLike | float | None, cov: object,
                  corr: object, df: object) -> BookProblem:
    if returns is None:
        raise XlVarError("a Book needs returns of its underlyings (one column each, named by assets=)")
    return prepare_book(returns, book, assets=assets, method=method, revaluation=revaluation, confidence=confidence,
                        horizon=horizon, lam=lam, scaling=scaling, missing=missing, time_decay=bool(time_decay),
                        period=period, vol_shock=vol_shock, corr=corr, cov=cov, df=df)


def portfolio_var(
    returns: ArrayLike | None, weights: ArrayLike | Book, confidence: float = 0.99, horizon: int = 1,
    method: str = "historical", *, cov: ArrayLike | None = None, mean: ArrayLike | None = None,
    corr: ArrayLike | None = None, df: float | None = None, lam: float = 0.94, scaling: str = "sqrt",
    missing: str = "raise", assets: Sequence[str] | None = None, revaluation: str | None = None,
    time_decay: bool = False, period: float | str = 1.0, vol_shock: ArrayLike | float | None = None,
) -> RiskResult:
    r"""Portfolio Value-at-Risk and expected shortfall.

    .. math::

        \mathrm{VaR}_c = -q_{1-c}(Y_h), \qquad
        \mathrm{ES}_c = -E[\,Y_h \mid Y_h \le q_{1-c}(Y_h)\,], \qquad
        Y_h = \textstyle\sum_{s=1}^{h} r_s^\top w,

    with the quantile :math:`q` and the tail expectation given by ``method`` (see the
    module docstring: normal :math:`-h m_1 - z\sigma\sqrt h`; t :math:`-h m_1 - k
    t_\alpha\sigma\sqrt h`; modified :math:`-h m_1 - g\sigma\sqrt h` with the
    Cornish–Fisher :math:`g` of the h-period skewness and kurtosis; historical and fhs
    empirical quantiles, times :math:`\sqrt h` or of overlapping h-period sums).

    Parameters
    ----------
    returns : array_like, shape (T, N), or None
        Periodic returns, rows are periods. ``None`` with ``cov=`` for the normal and
        t methods.
    weights : array_like, shape (N,), or Book
        Fractions or currency amounts; results come out in the same units. A
        :class:`~xl_var.book.Book` of spot, futures and options instead gives USD
        results by the book's ``revaluation``.
    confidence : float, default 0.99
        Confidence level in (0, 1); 0.05 is rejected with "did you mean 0.95?".
    horizon : int, default 1
        Horizon in periods of the returns.
    method : str, default "historical"
        ``normal``, ``t``, ``modified``, ``historical``, ``ewma`` or ``fhs`` (aliases in
        the module docstring).
    cov, mean : array_like, optional
        N×N covariance and N means (default zero) used instead of ``returns``.
    corr : array_like, optional
        Correlation matrix replacing the estimated one while keeping each asset's
        volatility (parametric methods; a non-PSD matrix is repaired with
        :func:`~xl_var.correlation.nearest_correlation`). ``modified`` re-colours the
        returns to it (:func:`~xl_var.moments.recolour`); ``t`` keeps the df fitted to
        the observed portfolio.
    df : float, optional
        Degrees of freedom (> 2) for ``t``; fitted when omitted.
    lam : float, default 0.94
        EWMA decay for ``ewma`` and ``fhs``.
    scaling : {"sqrt", "overlapping"}, default "sqrt"
        Horizon rule for ``historical`` and ``fhs``.
    missing : {"raise", "drop"}, default "raise"
        What to do with rows holding NaN/inf.
    assets, revaluation, time_decay, period, vol_shock
        With a :class:`~xl_var.book.Book` as ``weights``: the names of the columns of
        ``returns`` (the underlyings), how the book is repriced (``"full"``,
        ``"delta"``, ``"delta-gamma"``; default full for historical/fhs, delta
        otherwise), whether scenarios reprice at valuation + horizon, the length of
        one period in days (or "day", "week", "month"), and an implied-vol shock
        (see :mod:`xl_var.bookrisk`). Results are then in USD.

    Returns
    -------
    RiskResult

    Raises
    ------
    XlVarError
        Bad input; the message names the argument and the fix.

    References
    ----------
    Boudt, Peterson & Croux (2008); Jorion (2007); RiskMetrics Technical Document (1996);
    Barone-Adesi, Giannopoulos & Vosper (1999), "VaR without correlations for portfolios
    of derivative securities", *Journal of Futures Markets* 19(5).

    Examples
    --------
    >>> import numpy as np
    >>> r = np.random.default_rng(0).normal(0.0, 0.01, size=(500, 2))
    >>> res = portfolio_var(r, [0.5, 0.5], 0.99, method="normal")
    >>> res.es > res.var > 0
    True
    """
    name = choose(method, "method", METHODS)
    if isinstance(weights, Book):
        bp = _book_problem(returns, weights, name, confidence, horizon, lam, scaling, missing, assets, revaluation,
                           time_decay, period, vol_shock, cov, corr, df)
        var, es, _ = book_risk(bp, "var", gradient=False)
        return RiskResult(var, es, name, bp.confidence, bp.horizon, int(bp.returns.shape[0]))
    _refuse_book_options(assets, revaluation, time_decay, vol_shock)
    p = prepare(returns, weights, method=name, confidence=confidence,
                 horizon=horizon, cov=cov, mean=mean, corr=corr, df=df, lam=lam, scaling=scaling,
                 missing=missing)
    risk = _risk(p, gradient=False)
    n_obs = 0 if p.returns is None else int(p.returns.shape[0])
    return RiskResult(risk.var, risk.es, p.method, p.confidence, p.horizon, n_obs)


def component_var(
    returns: ArrayLike | None, weights: ArrayLike | Book, confidence: float = 0.99, horizon: int = 1,
    method: str = "normal", measure: str = "var", *, cov: ArrayLike | None = None,
    mean: ArrayLike | None = None, corr: ArrayLike | None = None, df: float | None = None,
    lam: float = 0.94, scaling: str = "sqrt", missing: str = "raise", assets: Sequence[str] | None = None,
    revaluation: str | None = None, time_decay: bool = False, period: float | str = 1.0,
    vol_shock: ArrayLike | float | None = None,
) -> Decomposition:
    r"""Euler decomposition of portfolio VaR or ES into marginal and component risk.

    .. math::

        M_i = \frac{\partial\rho}{\partial w_i}, \qquad C_i = w_i M_i, \qquad
        \sum_i C_i = \rho(w) \quad (\rho \text{ homogeneous of degree one}).

    * normal, t, modified, ewma: analytic gradients
      (:mod:`xl_var.parametric`); the t gradient holds the fitted df fixed. Co-moment
      terms come from the portfolio series in O(T·N) (:mod:`xl_var.moments`).
      Components add up to the total to rounding (1e-12 relative).
    * historical, fhs: component ES is each position's mean loss over the tail
      scenarios (exact); component VaR is the Epperlein–Smillie kernel estimate of
      :math:`E[\ell_i \mid L = \mathrm{VaR}]` rescaled to add up to VaR
      (:mod:`xl_var.historical`); marginals are the same estimates per unit of weight.

    Parameters
    ----------
    returns, weights, confidence, horizon, method
        As :func:`portfolio_var` (default method ``normal``).
    measure : {"var", "es"}, default "var"
        Decompose VaR or expected shortfall.
    cov, mean, corr, df, lam, scaling, missing, assets, revaluation, time_decay, period, vol_shock
        As :func:`portfolio_var`. With a book the components are per position and
        ``marginal`` is per unit of each position's quantity.

    Returns
    -------
    Decomposition

    References
    ----------
    Tasche, D. (2000); Boudt, Peterson & Croux (2008); Epperlein, E. and Smillie, A.
    (2006), "Cracking VaR with kernels", *Risk* 19(8), 70–74.
    """
    which = choose(measure, "measure", MEASURES)
    name = choose(method, "method", METHODS)
    if isinstance(weights, Book):
        bp = _book_problem(returns, weights, name, confidence, horizon, lam, scaling, missing, assets, revaluation,
                           time_decay, period, vol_shock, cov, corr, df)
        var, es, comp = book_risk(bp, which, gradient=True)
        assert comp is not None
        total = var if which == "var" else es
        _refuse_zero(total, which)
        q = weights.quantity
        marginal_q = np.divide(comp, q, out=np.zeros_like(comp), where=q != 0.0)
        return Decomposition(float(total), marginal_q, comp, comp / total)
    _refuse_book_options(assets, revaluation, time_decay, vol_shock)
    p = prepare(returns, weights, method=name, confidence=confidence,
                 horizon=horizon, cov=cov, mean=mean, corr=corr, df=df, lam=lam, scaling=scaling,
                 missing=missing)
    risk = _risk(p, gradient=True)
    total, marginal = (risk.var, risk.grad_var) if which == "var" else (risk.es, risk.grad_es)
    assert marginal is not None
    _refuse_zero(total, which)
    component = p.weights * marginal
    return Decomposition(float(total), marginal, component, component / total)


def incremental_var(
    returns: ArrayLike | None, weights: ArrayLike, new_position: ArrayLike, confidence: float = 0.99,
    horizon: int = 1, method: str = "normal", measure: str = "var", *, cov: ArrayLike | None = None,
    mean: ArrayLike | None = None, corr: ArrayLike | None = None, df: float | None = None,
    lam: float = 0.94, scaling: str = "sqrt", missing: str = "raise",
) -> IncrementalResult:
    r"""Incremental VaR (or ES) of adding ``new_position`` to the portfolio.

    .. math::

        \Delta\rho_{\text{exact}} = \rho(w + \Delta w) - \rho(w), \qquad
        \Delta\rho_{\text{first order}} = \nabla\rho(w)^\top \Delta w .

    ``after`` is a full re-computation (for ``t`` with a fitted df, df is refitted);
    a trade that closes every position has ``after = 0``. The first-order estimate uses
    the marginals of :func:`component_var`.

    Parameters
    ----------
    returns, weights, confidence, horizon, method, measure
        As :func:`component_var`.
    new_position : array_like, shape (N,)
        The trade :math:`\Delta w` in the same units as ``weights`` (zeros for assets
        not traded; a new asset enters as a column of ``returns`` with weight 0).
    cov, mean, corr, df, lam, scaling, missing
        As :func:`portfolio_var`.

    Returns
    -------
    IncrementalResult

    References
    ----------
    Jorion, P. (2007), *Value at Risk*, 3rd ed., §7.2 (marginal, incremental and
    component VaR).
    """
    which = choose(measure, "measure", MEASURES)
    p = prepare(returns, weights, method=choose(method, "method", METHODS), confidence=confidence,
                 horizon=horizon, cov=cov, mean=mean, corr=corr, df=df, lam=lam, scaling=scaling,
                 missing=missing)
    n = p.weights.size
    source = f"returns has {n} columns" if p.returns is not None else f"cov is {n}×{n}"
    delta = vector(new_position, "new_position", n, source)
    before = _risk(p, gradient=True)
    after_w = p.weights + delta
    rho, grad = (before.var, before.grad_var) if which == "var" else (before.es, before.grad_es)
    assert grad is not None
    if not np.any(after_w):
        after = 0.0
    else:
        res = _risk(replace(p, weights=after_w), gradient=False, label="weights + new_position")
        after = res.var if which == "var" else res.es
    return IncrementalResult(rho, after, after - rho, float(grad @ delta))


def portfolio_volatility(
    returns: ArrayLike | None, weights: ArrayLike, horizon: int = 1, method: str = "sample",
    lam: float = 0.94, *, cov: ArrayLike | None = None, corr: ArrayLike | None = None,
    missing: str = "raise",
) -> float:
    r"""Portfolio volatility :math:`\sqrt{w^\top\Sigma w}\,\sqrt h`.

    Parameters
    ----------
    returns : array_like, shape (T, N), or None
        Returns; ``None`` with ``cov=``.
    weights : array_like, shape (N,)
    horizon : int, default 1
        Periods; the one-period volatility is scaled by :math:`\sqrt h`.
    method : {"sample", "ewma"}, default "sample"
        :math:`\Sigma` = unbiased sample covariance (n−1) or the RiskMetrics EWMA
        covariance (:func:`~xl_var.ewma.ewma_cov`).
    lam : float, default 0.94
        EWMA decay.
    cov : array_like, optional
        Covariance used instead of ``returns`` (with ``method="sample"``).
    corr : array_like, optional
        Correlation replacing the estimated one, keeping each asset's volatility.
    missing : {"raise", "drop"}, default "raise"

    Returns
    -------
    float
        Volatility in the units of returns × weights (0 for an all-zero portfolio).

    References
    ----------
    Markowitz, H. (1952), "Portfolio selection", *Journal of Finance* 7(1), 77–91;
    RiskMetrics Technical Document (1996), §5.2.
    """
    engine_method = {"sample": "normal", "ewma": "ewma"}[choose(method, "method", {"sample": (), "ewma": ()})]
    p = prepare(returns, weights, method=engine_method, confidence=0.99, horizon=horizon, cov=cov,
                 mean=None, corr=corr, df=None, lam=lam, scaling="sqrt", missing=missing)
    return _moments(p, gradient=False).sd * math.sqrt(p.horizon)
