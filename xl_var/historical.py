r"""Scenario-based VaR/ES and their Euler decomposition (historical, FHS, Monte Carlo).

Everything here works on *losses* (positive numbers are losses): a vector of
portfolio losses :math:`L_s` over scenarios :math:`s` and a matrix whose columns are
the losses of each position (or of one unit of each asset) in the same scenarios.

* :func:`empirical_var_es` — VaR as the type-7 empirical quantile and ES as the mean
  loss strictly beyond it, exactly as PerformanceAnalytics' ``VaR.historical`` and
  ``ES.historical``.
* :func:`component_es_scenarios` — each position's mean loss over the tail scenarios
  (the exact Euler allocation of historical ES).
* :func:`component_var_scenarios` — the Epperlein & Smillie (2006) triangular-kernel
  estimator of :math:`E[\,\ell_i \mid L = \mathrm{VaR}\,]`, rescaled so the components
  add up to VaR (PerformanceAnalytics ``VaR.kernel.portfolio``).
* :func:`overlapping_sums` and :func:`fhs_scenarios` build the scenario sets of the
  ``historical`` and ``fhs`` methods.

The two component estimators accept any subset of scenarios that contains the whole
tail (``L > var``) and the neighbourhood of the VaR (``|L - var| < bandwidth``), so a
Monte Carlo run may keep only those rows; pass ``bandwidth`` computed from the full
scenario set with :func:`kernel_bandwidth`.

References
----------
Epperlein, E. and Smillie, A. (2006), "Cracking VaR with kernels", *Risk* 19(8), 70–74.
Tasche, D. (2000), "Conditional expectation as quantile derivative", working paper.
Boudt, K., Peterson, B. G. and Croux, C. (2008), "Estimation and decomposition of
downside risk for portfolios with non-normal returns", *Journal of Risk* 11(2), 79–103.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from xl_var._typing import FloatArray
from xl_var.errors import XlVarError
from xl_var.ewma import ewma_variance_path

__all__ = [
    "KERNEL_CONSTANT",
    "component_es_scenarios",
    "component_var_scenarios",
    "empirical_var_es",
    "fhs_scenarios",
    "kernel_bandwidth",
    "overlapping_sums",
    "quantile7",
]


#: Bandwidth constant of PerformanceAnalytics' ``VaR.kernel.portfolio``: b = 2.575·sd·n^(-1/5).
KERNEL_CONSTANT = 2.575


def empirical_var_es(losses: FloatArray, confidence: float) -> tuple[float, float]:
    r"""Historical VaR and ES of a loss sample.

    .. math::

        \mathrm{VaR} = -Q_7(-L,\ 1-c), \qquad
        \mathrm{ES} = \operatorname{mean}\{L_s : L_s > \mathrm{VaR}\}
        \ (\text{or VaR when no loss exceeds it}),

    where :math:`Q_7` is the linearly interpolated quantile (R type 7, numpy
    ``"linear"``, Excel ``PERCENTILE.INC``) of the returns :math:`-L`. This is
    PerformanceAnalytics' ``VaR.historical``/``ES.historical`` (``r[r < q]``).

    Parameters
    ----------
    losses : ndarray, shape (n,)
        Scenario losses (positive = loss).
    confidence : float
        Confidence level :math:`c` in (0, 1).

    Returns
    -------
    (var, es) : tuple of float
    """
    returns = -losses
    q = quantile7(returns, 1.0 - confidence)
    tail = returns[returns < q]
    var = -q
    es = float(-tail.mean()) if tail.size else var
    return var, es


def quantile7(x: FloatArray, p: float) -> float:
    r"""Type-7 (linearly interpolated) quantile of a finite sample, by partial sorting.

    .. math::

        Q_7(p) = x_{(k)} + \gamma\,(x_{(k+1)} - x_{(k)}), \qquad
        k = \lfloor (n-1)p \rfloor, \quad \gamma = (n-1)p - k,

    with order statistics :math:`x_{(0)} \le \dots \le x_{(n-1)}`, evaluated exactly as
    ``numpy.quantile(x, p)`` does (method ``"linear"``: the same index arithmetic and the
    same two-sided interpolation formula, ``x_{(k+1)} - (1-\gamma)(x_{(k+1)} - x_{(k)})``
    when :math:`\gamma \ge 1/2`), so the result is bit-identical to it; ``np.partition``
    on the two order statistics needed replaces numpy's general machinery (about 8× faster
    on 2,500 values).

    Parameters
    ----------
    x : ndarray, shape (n,)
        Finite sample, n ≥ 1 (not modified).
    p : float
        Probability in [0, 1].

    Returns
    -------
    float

    References
    ----------
    R. J. Hyndman and Y. Fan, "Sample quantiles in statistical packages", *The American
    Statistician* 50(4), 361–365, 1996 (definition 7).
    """
    n = x.size
    v = (n - 1) * p
    if v >= n - 1:
        return float(x.max())
    k = math.floor(v)
    part = np.partition(x, (k, k + 1))
    a, b = float(part[k]), float(part[k + 1])
    g = v - k
    d = b - a
    return b - d * (1.0 - g) if g >= 0.5 else a + d * g


def kernel_bandwidth(std: float, n: int) -> float:
    r"""Bandwidth :math:`b = 2.575\,\sigma_L\,n^{-1/5}` of the triangular kernel.

    Parameters
    ----------
    std : float
        Standard deviation (divisor n−1) of the portfolio losses over *all* scenarios.
    n : int
        Number of scenarios in the full set.

    Returns
    -------
    float
        The bandwidth used by :func:`component_var_scenarios` (PerformanceAnalytics'
        ``VaR.kernel.portfolio`` rule).
    """
    return float(KERNEL_CONSTANT * std * n ** -0.2)


def _losses(portfolio_loss: ArrayLike, position_loss: ArrayLike) -> tuple[FloatArray, FloatArray]:
    pl = np.asarray(portfolio_loss, dtype=np.float64).ravel()
    pos = np.asarray(position_loss, dtype=np.float64)
    if pos.ndim == 1:
        pos = pos[:, None]
    if pos.ndim != 2 or pos.shape[0] != pl.size:
        raise XlVarError(f"position_loss must have one row per scenario ({pl.size}); got shape {pos.shape}")
    if pl.size == 0:
        raise XlVarError("portfolio_loss is empty: give at least one scenario")
    return pl, pos


def _normalised_mean(weights: FloatArray, pl: FloatArray, pos: FloatArray, var: float) -> FloatArray | None:
    """``var * Σ k·pos / Σ k·L`` over the rows where ``k > 0``; None when ``Σ k·L`` vanishes."""
    rows = weights > 0.0
    k = weights[rows]
    denom = float(k @ pl[rows])
    if denom == 0.0:
        return None
    out: FloatArray = (k @ pos[rows]) * (var / denom)
    return out


def _bracket_weights(pl: FloatArray, var: float) -> FloatArray:
    """Linear-interpolation weights on the scenarios just below and above ``var``.

    This is the exact derivative of the type-7 quantile when ``var`` is interpolated
    between two adjacent order statistics.
    """
    w = np.zeros_like(pl)
    below = np.flatnonzero(pl <= var)
    above = np.flatnonzero(pl >= var)
    if below.size == 0 or above.size == 0:
        w[np.argmin(np.abs(pl - var))] = 1.0
        return w
    lo = below[np.argmax(pl[below])]
    hi = above[np.argmin(pl[above])]
    gap = pl[hi] - pl[lo]
    g = 0.0 if gap == 0.0 else (var - pl[lo]) / gap
    w[lo] += 1.0 - g
    w[hi] += g
    return w


def component_var_scenarios(
    portfolio_loss: ArrayLike, position_loss: ArrayLike, var: float, *, bandwidth: float | None = None
) -> FloatArray:
    r"""Kernel estimator of component (or marginal) VaR from scenarios.

    With triangular kernel weights :math:`k_s = \max(0,\ 1 - |L_s - \mathrm{VaR}|/b)`,

    .. math::

        C_i = \mathrm{VaR}\;\frac{\sum_s k_s\,\ell_{s,i}}{\sum_s k_s\,L_s},

    the kernel estimate of :math:`E[\ell_i \mid L = \mathrm{VaR}]` (the Euler
    contribution, Gouriéroux–Laurent–Scaillet 2000) rescaled so that
    :math:`\sum_i C_i = \mathrm{VaR}` whenever the rows of ``position_loss`` add up to
    ``portfolio_loss`` (Epperlein & Smillie 2006; PerformanceAnalytics
    ``VaR.kernel.portfolio``). Columns may also be losses of *one unit* of each asset:
    the result is then the marginal VaR :math:`\partial\mathrm{VaR}/\partial w_i` with
    the same rescaling, and ``w * result`` are the components.

    When no scenario falls inside the kernel window (or the weighted portfolio loss
    is exactly zero) the two scenarios bracketing the VaR are used with linear
    interpolation weights, the exact derivative of the type-7 quantile.

    Parameters
    ----------
    portfolio_loss : array_like, shape (n,)
        Portfolio loss in each scenario (positive = loss).
    position_loss : array_like, shape (n, k)
        Loss of each position (or unit asset) in each scenario.
    var : float
        The portfolio VaR the components must add up to.
    bandwidth : float, optional
        Kernel half-width :math:`b`; default :func:`kernel_bandwidth` of the given
        losses. Pass it explicitly when ``portfolio_loss`` is a subset of scenarios.

    Returns
    -------
    ndarray, shape (k,)
        Component VaR per column.

    References
    ----------
    Epperlein, E. and Smillie, A. (2006), "Cracking VaR with kernels", *Risk* 19(8).
    """
    pl, pos = _losses(portfolio_loss, position_loss)
    var = float(var)
    if bandwidth is None:
        bandwidth = kernel_bandwidth(float(np.std(pl, ddof=1)) if pl.size > 1 else 0.0, pl.size)
    if bandwidth > 0.0:
        out = _normalised_mean(np.maximum(0.0, 1.0 - np.abs(pl - var) / bandwidth), pl, pos, var)
        if out is not None:
            return out
    weights = _bracket_weights(pl, var)
    out = _normalised_mean(weights, pl, pos, var)
    if out is not None:
        return out
    mean: FloatArray = (weights @ pos) / weights.sum()  # var == 0 here: the mean already sums to it
    return mean


def component_es_scenarios(portfolio_loss: ArrayLike, position_loss: ArrayLike, var: float) -> FloatArray:
    r"""Component ES: each position's mean loss over the tail scenarios.

    .. math::

        C_i = \frac{1}{|S|}\sum_{s \in S} \ell_{s,i}, \qquad S = \{s : L_s > \mathrm{VaR}\},

    the exact Euler allocation of historical ES (Tasche 2000): the components add up to
    :math:`\mathrm{ES} = \operatorname{mean}_{s\in S} L_s` (as in
    :func:`empirical_var_es`) when the rows of ``position_loss`` add up to
    ``portfolio_loss``. If no loss exceeds the VaR, ES equals VaR (PerformanceAnalytics'
    convention) and the scenarios with :math:`L_s = \mathrm{VaR}` are used, or, when
    there are none, :func:`component_var_scenarios`.

    Parameters
    ----------
    portfolio_loss : array_like, shape (n,)
        Portfolio loss per scenario; any subset holding every scenario with
        ``L > var`` gives the same result.
    position_loss : array_like, shape (n, k)
        Loss of each position (or of one unit of each asset, for marginal ES).
    var : float
        The portfolio VaR that defines the tail.

    Returns
    -------
    ndarray, shape (k,)
        Component ES per column.
    """
    pl, pos = _losses(portfolio_loss, position_loss)
    var = float(var)
    tail = pl > var
    if not tail.any():
        tail = pl == var
    if not tail.any():
        return component_var_scenarios(pl, pos, var)
    out: FloatArray = pos[tail].mean(axis=0)
    return out


def overlapping_sums(x: FloatArray, horizon: int) -> FloatArray:
    r"""Overlapping ``horizon``-period sums along the first axis.

    .. math::  s_t = \sum_{k=0}^{h-1} x_{t+k}, \qquad t = 1, \dots, T-h+1 .

    Summing one-period returns of a constant-weight portfolio gives its h-period
    return exactly for log returns and to first order for simple returns.

    Parameters
    ----------
    x : ndarray, shape (T,) or (T, N)
    horizon : int
        Window length :math:`h \ge 1` (``h = 1`` returns ``x`` unchanged).

    Returns
    -------
    ndarray, shape (T - h + 1,) or (T - h + 1, N)
    """
    if horizon == 1:
        return x
    out: FloatArray = sliding_window_view(x, horizon, axis=0).sum(axis=-1)
    return out


def fhs_scenarios(returns: FloatArray, lam: float) -> FloatArray:
    r"""Filtered historical simulation scenarios, one asset at a time.

    Each asset's returns are standardised by its own EWMA volatility forecast and
    rescaled to today's forecast (Barone-Adesi, Giannopoulos & Vosper 1999; Hull &
    White 1998):

    .. math::

        \tilde r_{t,i} = \frac{r_{t,i}}{\sigma_{t,i}}\,\sigma_{T+1,i},

    with :math:`\sigma^2_{t,i}` from :func:`xl_var.ewma.ewma_variance_path` (the
    RiskMetrics recursion, zero mean). Filtering each asset keeps position-level
    scenarios, so the portfolio scenario is :math:`\tilde r_t^\top w`.

    Parameters
    ----------
    returns : ndarray, shape (T, N)
        Clean returns.
    lam : float
        EWMA decay factor.

    Returns
    -------
    ndarray, shape (T, N)
        Filtered scenarios; an asset whose returns are all zero stays zero.
    """
    sigma = np.sqrt(ewma_variance_path(returns, lam))
    ratio = np.divide(sigma[-1], sigma[:-1], out=np.zeros_like(returns), where=sigma[:-1] > 0.0)
    out: FloatArray = returns * ratio
    return out
