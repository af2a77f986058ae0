r"""Bounded-memory tail of a Monte Carlo loss sample and the statistics read from it.

A run of :math:`S` scenarios never holds all :math:`S` losses: VaR, ES and their
intervals at confidence :math:`c` only need the :math:`\approx S(1-c)` largest losses
(plus a few order statistics below the VaR for its interval), and the Euler
decomposition only needs the position losses of those scenarios and of the kernel
window around the VaR. :class:`TailKeeper` keeps the ``capacity`` largest losses seen
so far (optionally with the scenario index and a *payload* row from which the
position losses are recomputed), whatever the order in which chunks arrive: its final
content is the top ``capacity`` losses of the whole sample, ordered by (loss
descending, scenario index ascending), so results do not depend on threads or
workers.

Statistics (:func:`tail_statistics`), with :math:`L_{(1)} \le \dots \le L_{(S)}` the
sorted losses and :math:`z = \Phi^{-1}(0.975)`:

* VaR is the type-7 quantile :math:`L_{(j+1)} + g\,(L_{(j+2)} - L_{(j+1)})`,
  :math:`j + g = (S-1)c` (numpy ``"linear"``, as the historical method).
* ES is the mean of the losses strictly above the VaR (as the historical method).
* The 95% interval for VaR is the distribution-free order-statistic interval
  :math:`[L_{(r)}, L_{(s)}]`, :math:`r, s = Sc \mp z\sqrt{Sc(1-c)}` (rounded outward),
  and its standard error is the interval's half-width over :math:`z`
  (David & Nagaraja 2003, §7.1).
* The standard error of ES is the square root of its asymptotic variance
  :math:`\big[\operatorname{Var}(L \mid L > \mathrm{VaR}) + c\,(\mathrm{ES}-\mathrm{VaR})^2\big]
  / \big(S(1-c)\big)` (Manistre & Hancock 2005) and its interval is ES :math:`\pm z`·SE.

References
----------
David, H. A. and Nagaraja, H. N. (2003), *Order Statistics*, 3rd ed., Wiley, §7.1.
Manistre, B. J. and Hancock, G. H. (2005), "Variance of the CTE estimator",
*North American Actuarial Journal* 9(2), 129–156.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xl_var._typing import FloatArray, IntArray

__all__ = ["Z95", "TailKeeper", "TailStats", "tail_size", "tail_statistics"]


#: Two-sided 95% normal quantile used for every interval.
Z95 = 1.959963984540054


def _ci_ranks(scenarios: int, confidence: float) -> tuple[int, int]:
    """1-based ascending ranks (r, s) of the order-statistic 95% interval for the c-quantile."""
    centre = scenarios * confidence
    half = Z95 * math.sqrt(scenarios * confidence * (1.0 - confidence))
    r = min(max(math.floor(centre - half), 1), scenarios)
    s = min(max(math.ceil(centre + half), 1), scenarios)
    return r, s


def tail_size(scenarios: int, confidence: float) -> int:
    """Number of largest losses that :func:`tail_statistics` reads at ``confidence``.

    Parameters
    ----------
    scenarios : int
        Total number of scenarios :math:`S`.
    confidence : float
        Confidence level :math:`c`.

    Returns
    -------
    int
        :math:`S - \\min(j, r - 1)` with :math:`j = \\lfloor (S-1)c \\rfloor` (the VaR's
        lower order statistic) and :math:`r` the lower rank of the VaR interval, at
        most :math:`S`.
    """
    j = math.floor((scenarios - 1) * confidence)
    r, _ = _ci_ranks(scenarios, confidence)
    return min(scenarios, scenarios - min(j, r - 1))


@dataclass(frozen=True)
class TailStats:
    """VaR, ES, their standard errors and 95% intervals at one confidence level."""

    var: float
    es: float
    var_se: float
    es_se: float
    var_ci: tuple[float, float]
    es_ci: tuple[float, float]


def tail_statistics(top: FloatArray, scenarios: int, confidence: float) -> TailStats:
    r"""VaR, ES, standard errors and 95% intervals from the largest losses.

    Parameters
    ----------
    top : ndarray, shape (k,)
        The k largest of the :math:`S` losses, sorted descending, with
        ``k >= tail_size(S, c)``.
    scenarios : int
        :math:`S`, the number of scenarios the losses come from.
    confidence : float
        :math:`c`.

    Returns
    -------
    TailStats
        See the module docstring for every formula.
    """
    s = scenarios
    need = tail_size(s, confidence)
    if top.size < need:
        raise ValueError(f"tail_statistics needs the {need} largest losses; got {top.size}")

    def ascending(rank0: int) -> float:  # 0-based ascending rank -> value
        return float(top[s - 1 - rank0])

    h = (s - 1) * confidence
    j = math.floor(h)
    g = h - j
    lo = ascending(j)
    var = lo if j + 1 >= s else lo + g * (ascending(j + 1) - lo)
    beyond = top[top > var]
    es = float(beyond.mean()) if beyond.size else var
    r, u = _ci_ranks(s, confidence)
    var_ci = (ascending(r - 1), ascending(u - 1))
    var_se = (var_ci[1] - var_ci[0]) / (2.0 * Z95)
    tail_var = float(beyond.var(ddof=1)) if beyond.size > 1 else 0.0
    es_se = math.sqrt((tail_var + confidence * (es - var) ** 2) / (s * (1.0 - confidence)))
    return TailStats(var, es, var_se, es_se, var_ci, (es - Z95 * es_se, es + Z95 * es_se))


class TailKeeper:
    """The ``capacity`` largest losses of a stream, with optional index and payload rows.

    Rows are offered in batches (already filtered by :attr:`threshold` or not: any
    superset is fine) and copied into storage that grows geometrically. When it holds
    more than ``1.5·capacity + 1024`` rows, those below the ``capacity``-th largest loss
    are dropped (an O(n) partition; kept rows fill the holes, no sort); :meth:`ranked`
    sorts once by (loss descending, index ascending) and cuts to ``capacity``.

    Parameters
    ----------
    capacity : int
        How many of the largest losses to keep.
    with_rows : bool
        Keep the scenario index and a payload row with each loss (ties are then broken
        by index, so the kept payloads are deterministic); without, only the loss
        values are kept (ties are then irrelevant).
    """

    def __init__(self, capacity: int, *, with_rows: bool = False) -> None:
        self.capacity = int(capacity)
        self.with_rows = with_rows
        self.threshold = -math.inf
        self._n = 0
        self._loss: FloatArray = np.empty(0)
        self._index: IntArray = np.empty(0, dtype=np.int64)
        self._payload: NDArray[Any] | None = None

    def __len__(self) -> int:
        return self._n

    def __getstate__(self) -> dict[str, Any]:  # pickle (Dask) only the rows held
        state = dict(self.__dict__)
        n = self._n
        state["_loss"], state["_index"] = self._loss[:n].copy(), self._index[:n].copy()
        state["_payload"] = None if self._payload is None else self._payload[:n].copy()
        return state

    @property
    def _limit(self) -> int:
        """Rows held before a prune: 1.5 × capacity + 1024."""
        return self.capacity + self.capacity // 2 + 1024

    def _reserve(self, need: int, payload: NDArray[Any] | None) -> None:
        size = self._loss.size
        if need <= size and (payload is None or self._payload is not None):
            return
        new = max(need, min(2 * size, self._limit + 16384), 1024)  # doubling; headroom for a chunk's rows
        n = self._n
        grown = np.empty(new)
        grown[:n] = self._loss[:n]
        self._loss = grown
        if self.with_rows and payload is not None:
            index = np.empty(new, dtype=np.int64)
            index[:n] = self._index[:n]
            rows = np.empty((new, *payload.shape[1:]), dtype=payload.dtype)
            if self._payload is not None:
                rows[:n] = self._payload[:n]
            self._index, self._payload = index, rows

    def add(self, loss: FloatArray, index: IntArray | None = None, payload: NDArray[Any] | None = None) -> None:
        """Offer rows; those below :attr:`threshold` may be dropped at the next prune."""
        m = loss.size
        if m == 0:
            return
        if self.with_rows and (index is None or payload is None):
            raise ValueError("this TailKeeper keeps rows: pass index and payload")
        if self._n + m > self._limit and self._n > self.capacity:
            self._prune()  # make room first, so the storage rarely has to grow
        n = self._n
        self._reserve(n + m, payload if self.with_rows else None)
        self._loss[n:n + m] = loss
        if index is not None and payload is not None and self._payload is not None:
            self._index[n:n + m] = index
            self._payload[n:n + m] = payload
        self._n = n + m
        if self._n > self._limit:
            self._prune()

    def merge(self, other: TailKeeper) -> None:
        """Add everything ``other`` holds."""
        n = other._n
        payload = None if other._payload is None else other._payload[:n]
        self.add(other._loss[:n], other._index[:n] if self.with_rows else None, payload)

    def _prune(self) -> None:
        """Keep the rows at or above the ``capacity``-th largest loss (ties kept; no sorting).

        Kept rows beyond the new end move into the holes left by dropped rows before it.
        """
        n, k = self._n, self.capacity
        cut = float(np.partition(self._loss[:n], n - k)[n - k])
        keep = self._loss[:n] >= cut
        new_n = int(np.count_nonzero(keep))
        holes = np.flatnonzero(~keep[:new_n])
        movers = np.flatnonzero(keep[new_n:]) + new_n
        for arr in [self._loss] + ([self._index, self._payload] if self._payload is not None else []):
            arr[holes] = arr[movers]
        self._n = new_n
        self.threshold = cut

    def ranked(self) -> tuple[FloatArray, IntArray, IntArray]:
        """The top ``capacity`` rows sorted by loss descending then index ascending.

        Returns
        -------
        (loss, index, order)
            Losses and scenario indices in that order, and the storage positions to pass
            to :meth:`payload`.
        """
        n = self._n
        loss, index = self._loss[:n], self._index[:n]
        k = min(self.capacity, n)
        rows = np.arange(n)
        if k < n:  # a superset of the top k (ties at the cut) before the full sort
            rows = np.flatnonzero(loss >= np.partition(loss, n - k)[n - k])
        order: IntArray = rows[np.lexsort((index[rows], -loss[rows]))[:k]]
        return loss[order], index[order], order

    def top_losses(self) -> FloatArray:
        """The largest ``capacity`` losses, sorted descending."""
        n = self._n
        k = min(self.capacity, n)
        part = np.partition(self._loss[:n], n - k)[n - k:] if k < n else self._loss[:n]
        out: FloatArray = np.sort(part)[::-1].copy()
        return out

    def payload(self, order: IntArray) -> NDArray[Any]:
        """Payload rows at storage positions ``order`` (from :meth:`ranked`)."""
        if self._payload is None:
            raise ValueError("this TailKeeper keeps no rows")
        out: NDArray[Any] = self._payload[order]
        return out
