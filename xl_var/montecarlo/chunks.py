r"""Chunks of scenarios: the unit of reproducible work, and what their results merge into.

Chunk :math:`k` holds scenarios :math:`k\cdot C, \dots, (k+1)C - 1` and draws them from
its own generator, ``SFC64(SeedSequence(seed, spawn_key=(k,)))`` (SFC64 is numpy's
fastest bit generator), so its scenarios do not depend on which thread, process or
machine computes it. A chunk reports

* the histogram counts of its losses on fixed bin edges (integers),
* the sums of :math:`L - m` and :math:`(L - m)^2` (:math:`m` the model's expected loss),
* the losses above the current loss-tail threshold, and the scenario index and payload
  of those above the current row threshold.

:class:`Accumulator` merges chunk reports in any order: integer counts, the
``math.fsum`` of the per-chunk sums (exactly rounded, hence order-free) and two
:class:`~xl_var.montecarlo.tail.TailKeeper` whose final content does not depend on the
order either. Any threshold below the final one is valid, so workers may read a stale
threshold without changing the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from xl_var._typing import FloatArray, IntArray
from xl_var.historical import kernel_bandwidth
from xl_var.montecarlo.models import ScenarioModel, Scratch
from xl_var.montecarlo.tail import TailKeeper, tail_size

__all__ = ["Accumulator", "ChunkOut", "RunSpec", "chunk_rng", "row_capacity", "simulate_chunk", "simulate_chunks"]


#: Half-width of the loss histogram in standard deviations of the loss.
HIST_HALF_WIDTH = 6.0


def chunk_rng(seed: int, k: int) -> np.random.Generator:
    """The generator of chunk ``k``: SFC64 seeded by ``SeedSequence(seed, spawn_key=(k,))``."""
    return np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(k,))))


def row_capacity(scenarios: int, confidence: float) -> int:
    r"""How many top scenarios keep their payload: the tail plus the kernel window below VaR.

    The window :math:`(\mathrm{VaR} - b, \mathrm{VaR}]`, :math:`b = 2.575\,\sigma\,S^{-1/5}`
    (:func:`~xl_var.historical.kernel_bandwidth`),
    holds about :math:`S(1-c)\,\lambda b` scenarios, :math:`\lambda = f(\mathrm{VaR})/(1-c)`
    the loss distribution's hazard rate at the VaR. For a normal loss
    :math:`\lambda\sigma \approx z_c + 1/z_c`; heavier tails have smaller hazard. Twice
    the normal value is kept, plus 1024 rows; if that ever falls short, the kernel
    bandwidth is capped to the kept window (see :mod:`xl_var.montecarlo.result`).
    """
    z = max(float(ndtri(confidence)), 1.0)
    window = 2.0 * (z + 1.0 / z) * kernel_bandwidth(1.0, scenarios)
    return int(min(scenarios, math.ceil(tail_size(scenarios, confidence) * (1.0 + window)) + 1024))


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs besides the model: seed, chunking, capacities, bin edges."""

    seed: int
    chunk_size: int
    max_scenarios: int
    loss_capacity: int
    row_capacity: int
    edges: FloatArray

    def rows(self, k: int) -> int:
        """Scenarios in chunk ``k`` (the chunk that reaches ``max_scenarios`` may be short)."""
        return min(self.chunk_size, self.max_scenarios - k * self.chunk_size)

    @property
    def n_chunks(self) -> int:
        """Number of chunks up to ``max_scenarios``."""
        return -(-self.max_scenarios // self.chunk_size)


@dataclass(frozen=True)
class ChunkOut:
    """What one chunk reports (see the module docstring)."""

    k: int
    rows: int
    counts: IntArray
    sum1: float
    sum2: float
    tail_loss: FloatArray
    row_loss: FloatArray
    row_index: IntArray
    row_payload: NDArray[Any]


def _histogram(loss: FloatArray, edges: FloatArray) -> IntArray:
    bins = edges.size - 1
    pos = np.floor((loss - edges[0]) * (bins / (edges[-1] - edges[0])))
    idx = np.clip(pos, 0, bins - 1).astype(np.intp)
    out: IntArray = np.bincount(idx, minlength=bins).astype(np.int64)
    return out


def simulate_chunk(
    model: ScenarioModel, spec: RunSpec, k: int, loss_threshold: float, row_threshold: float, scratch: Scratch
) -> ChunkOut:
    """Draw chunk ``k`` and report it, keeping losses ≥ ``loss_threshold`` and rows ≥ ``row_threshold``."""
    rows = spec.rows(k)
    loss, state = model.simulate(chunk_rng(spec.seed, k), rows, scratch)
    d = loss - model.centre
    sel = np.flatnonzero(loss >= row_threshold)
    return ChunkOut(
        k=k,
        rows=rows,
        counts=_histogram(loss, spec.edges),
        sum1=float(d.sum()),
        sum2=float(d @ d),
        tail_loss=loss[loss >= loss_threshold],
        row_loss=loss[sel],
        row_index=sel.astype(np.int64) + k * spec.chunk_size,
        row_payload=model.payload(state, sel),
    )


class Accumulator:
    """Order-free merge of chunk reports."""

    def __init__(self, spec: RunSpec) -> None:
        self.counts = np.zeros(spec.edges.size - 1, dtype=np.int64)
        self.sum1: list[float] = []
        self.sum2: list[float] = []
        self.scenarios = 0
        self.chunks = 0
        self.losses = TailKeeper(spec.loss_capacity)
        self.rows = TailKeeper(spec.row_capacity, with_rows=True)

    def add(self, out: ChunkOut) -> None:
        """Merge one chunk's report."""
        self.counts += out.counts
        self.sum1.append(out.sum1)
        self.sum2.append(out.sum2)
        self.scenarios += out.rows
        self.chunks += 1
        self.losses.add(out.tail_loss)
        self.rows.add(out.row_loss, out.row_index, out.row_payload)

    def merge(self, other: Accumulator) -> None:
        """Merge everything ``other`` accumulated."""
        self.counts += other.counts
        self.sum1 += other.sum1
        self.sum2 += other.sum2
        self.scenarios += other.scenarios
        self.chunks += other.chunks
        self.losses.merge(other.losses)
        self.rows.merge(other.rows)

    def std(self) -> float:
        """Standard deviation (divisor S−1) of all losses, from the exactly rounded sums."""
        n = self.scenarios
        s1, s2 = math.fsum(self.sum1), math.fsum(self.sum2)
        return math.sqrt(max(s2 - s1 * s1 / n, 0.0) / (n - 1)) if n > 1 else 0.0


def simulate_chunks(model: ScenarioModel, spec: RunSpec, chunks: range) -> Accumulator:
    """Run ``chunks`` one after another into a fresh :class:`Accumulator` (one Dask task)."""
    acc = Accumulator(spec)
    scratch = Scratch()
    for k in chunks:
        acc.add(simulate_chunk(model, spec, k, acc.losses.threshold, acc.rows.threshold, scratch))
    return acc
