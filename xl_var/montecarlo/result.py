r"""The Monte Carlo result and how it is read from the accumulated tail.

VaR, ES, their standard errors and 95% intervals come from the kept largest losses
(:func:`xl_var.montecarlo.tail.tail_statistics`). At the highest confidence level the
position losses of the kept scenarios are recomputed in float64 and the portfolio
losses used there are their row sums, so the decomposition adds up exactly:

* component ES: each position's mean loss over the scenarios beyond the VaR (the
  definition of :func:`xl_var.historical.component_es_scenarios`, summed block by block
  so that the tail's position losses are never all in memory), summing to ES;
* component VaR: the Epperlein–Smillie triangular-kernel estimator of the historical
  method (:func:`xl_var.historical.component_var_scenarios`), summing to VaR, with the
  PerformanceAnalytics bandwidth :math:`2.575\,\sigma_L S^{-1/5}` computed from all
  :math:`S` losses. Should the kept scenarios not reach :math:`\mathrm{VaR} - b` the
  bandwidth is capped at the kept window (deterministically).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xl_var._typing import FloatArray
from xl_var.historical import component_es_scenarios, component_var_scenarios, kernel_bandwidth
from xl_var.montecarlo.chunks import Accumulator
from xl_var.montecarlo.models import ScenarioModel
from xl_var.montecarlo.tail import TailStats, tail_statistics

__all__ = ["MCResult", "Summary", "summarize"]


_BLOCK = 2048  # kept scenarios whose position losses are recomputed at a time


@dataclass(frozen=True)
class MCResult:
    """Monte Carlo VaR and ES with standard errors, intervals, decomposition and histogram.

    Attributes
    ----------
    var, es : ndarray, shape (k,)
        VaR and ES (positive losses over the horizon), one per confidence level.
    var_se, es_se : ndarray, shape (k,)
        Standard errors (order-statistic interval half-width / 1.96 for VaR; asymptotic
        Manistre–Hancock formula for ES).
    var_ci, es_ci : ndarray, shape (k, 2)
        95% intervals (lower, upper).
    component_var, component_es : ndarray, shape (N,)
        Euler contributions per asset at the highest confidence; they add up to the VaR
        and ES at that level.
    confidence : tuple of float
        The confidence levels, in the order given.
    horizon : int
        Horizon in periods.
    seed : int
        The seed that reproduces the run (drawn from the OS when ``seed=None``).
    scenarios : int
        Scenarios simulated.
    model : str
        Canonical model name.
    df : float or None
        Degrees of freedom used by ``t`` and ``t-copula`` (given or fitted).
    sobol : bool
        Whether scrambled Sobol draws were used.
    chunk_size : int
        Scenarios per chunk (the unit the seed is split over).
    converged : bool or None
        With ``target_rse``: whether the target was met before ``max_scenarios``.
    hist_edges : ndarray, shape (bins + 1,)
        Bin edges of the loss histogram (expected loss ± 6 standard deviations); losses
        outside are counted in the first or last bin. P&L is minus the loss.
    hist_counts : ndarray of int64, shape (bins,)
        Scenarios per bin; identical whatever the number of workers.
    elapsed : float
        Wall-clock seconds.
    """

    var: FloatArray
    es: FloatArray
    var_se: FloatArray
    es_se: FloatArray
    var_ci: FloatArray
    es_ci: FloatArray
    component_var: FloatArray
    component_es: FloatArray
    confidence: tuple[float, ...]
    horizon: int
    seed: int
    scenarios: int
    model: str
    df: float | None
    sobol: bool
    chunk_size: int
    converged: bool | None
    hist_edges: FloatArray
    hist_counts: NDArray[np.int64]
    elapsed: float


@dataclass(frozen=True)
class Summary:
    """Statistics read from an :class:`~xl_var.montecarlo.chunks.Accumulator`."""

    stats: tuple[TailStats, ...]
    star: TailStats
    component_var: FloatArray
    component_es: FloatArray

    @property
    def rse(self) -> float:
        """Relative standard error of VaR at the highest confidence (inf when VaR is 0)."""
        return self.star.var_se / abs(self.star.var) if self.star.var != 0.0 else float("inf")


def summarize(acc: Accumulator, model: ScenarioModel, confidence: tuple[float, ...],
              step: Callable[[], object] | None = None) -> Summary:
    """VaR/ES statistics at every confidence and the decomposition at the highest one.

    Parameters
    ----------
    acc : Accumulator
        Merged reports of the chunks of the run.
    model : ScenarioModel
        The model (recomputes position losses from the kept payloads).
    confidence : tuple of float
    step : callable, optional
        Called before each block of kept scenarios (progress and cancel checks).

    Returns
    -------
    Summary
    """
    s = acc.scenarios
    c_star = max(confidence)
    _, index, stored = acc.rows.ranked()

    def blocks(rows: NDArray[np.intp]) -> Iterator[NDArray[Any]]:  # one block of payloads at a time
        for i in range(0, rows.size, _BLOCK):
            if step is not None:
                step()
            yield acc.rows.payload(stored[rows[i:i + _BLOCK]])

    pl = np.concatenate([model.portfolio_losses(p) for p in blocks(np.arange(index.size))])
    order = np.lexsort((index, -pl))
    pl = pl[order]
    star = tail_statistics(pl, s, c_star)
    top_loss = acc.losses.top_losses()
    stats = tuple(star if c == c_star else tail_statistics(top_loss, s, c) for c in confidence)
    bandwidth = kernel_bandwidth(acc.std(), s)
    if pl.size < s:
        bandwidth = min(bandwidth, star.var - float(pl[-1]))
    # Component VaR reads the kernel window |L - VaR| < b and the scenarios bracketing VaR;
    # component ES the tail L > VaR, block by block: never all kept positions at once.
    m = int(np.count_nonzero(pl > star.var))
    lo = min(int(np.count_nonzero(pl >= star.var + bandwidth)), max(m - 1, 0))
    hi = min(pl.size, max(int(np.count_nonzero(pl > star.var - bandwidth)), m) + 1)
    window = np.concatenate([model.position_losses(p) for p in blocks(order[lo:hi])])
    component_var = component_var_scenarios(window.sum(axis=1), window, star.var, bandwidth=bandwidth)
    if m == 0:  # no loss beyond VaR: the estimator's own fallback on the window
        component_es = component_es_scenarios(window.sum(axis=1), window, star.var)
    else:
        component_es = np.zeros(model.n_assets)
        for p in blocks(order[:m]):
            component_es += model.position_loss_sum(p)
        component_es /= m
    return Summary(
        stats=stats,
        star=star,
        component_var=component_var,
        component_es=component_es,
    )
