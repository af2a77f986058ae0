"""Monte Carlo VaR and ES: chunked, reproducible, bounded-memory simulation.

:func:`monte_carlo` is the entry point and :class:`MCResult` its result. Modules:
:mod:`~xl_var.montecarlo.models` (scenario models), :mod:`~xl_var.montecarlo.marginals`
(t copula with empirical marginals), :mod:`~xl_var.montecarlo.tail` (bounded tail and
standard errors), :mod:`~xl_var.montecarlo.chunks` (per-chunk seeds and merging),
:mod:`~xl_var.montecarlo.runner` (threads, progress, cancel, convergence),
:mod:`~xl_var.montecarlo.dask_backend` (Dask clusters) and
:mod:`~xl_var.montecarlo.result`.
"""

from __future__ import annotations

from xl_var.montecarlo.api import monte_carlo
from xl_var.montecarlo.result import MCResult

__all__ = ["MCResult", "monte_carlo"]
