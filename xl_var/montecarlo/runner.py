"""Running chunks: on local threads, with progress and cancel, and the convergence loop.

The calling thread submits chunks to a pool of ``workers`` threads (numpy releases the
GIL while drawing and in BLAS), merges each chunk's report as it arrives, and between
arrivals, at least every 0.1 s, checks the cancel token and reports progress (at most
every 0.25 s). A cancelled run stops submitting, waits for the chunks in flight
(one chunk is a few milliseconds to ~0.1 s of work) and raises
:class:`~xl_var.errors.Cancelled`. Callbacks are always called from the calling thread.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Protocol

from xl_var.errors import Cancelled
from xl_var.montecarlo.chunks import Accumulator, ChunkOut, RunSpec, simulate_chunk
from xl_var.montecarlo.models import ScenarioModel, Scratch
from xl_var.montecarlo.result import Summary, summarize

__all__ = ["ChunkRunner", "Monitor", "ThreadRunner", "execute"]

#: Longest wait between two cancel checks, seconds.
POLL = 0.1
#: Shortest interval between two progress calls, seconds.
PROGRESS_EVERY = 0.25


class Monitor:
    """Progress reporting and cancel checks for one run (called from the calling thread)."""

    def __init__(self, progress: Callable[[int, int], Any] | None, cancel: Any, total: int) -> None:
        self.progress = progress
        self.cancel = cancel
        self.total = total
        self._last = -math.inf

    def tick(self, done: int, *, force: bool = False) -> None:
        """Raise :class:`Cancelled` if the token is set; report progress when due."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled(f"Monte Carlo cancelled after {done:,} scenarios")
        now = time.monotonic()
        if self.progress is not None and (force or now - self._last >= PROGRESS_EVERY):
            self._last = now
            self.progress(done, self.total)


class ChunkRunner(Protocol):
    """Runs a range of chunks into an accumulator (threads here, Dask in ``dask_backend``)."""

    def run(self, model: ScenarioModel, spec: RunSpec, chunks: range, acc: Accumulator, monitor: Monitor) -> None:
        """Simulate ``chunks`` and merge them into ``acc``, ticking ``monitor``."""


class ThreadRunner:
    """Chunks on a pool of ``workers`` threads, each with its own aligned scratch buffers."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._local = threading.local()

    def _chunk(self, model: ScenarioModel, spec: RunSpec, k: int, lt: float, rt: float) -> ChunkOut:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = Scratch()
        return simulate_chunk(model, spec, k, lt, rt, scratch)

    def run(self, model: ScenarioModel, spec: RunSpec, chunks: range, acc: Accumulator, monitor: Monitor) -> None:
        todo: Iterator[int] = iter(chunks)
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="xl-var-mc")
        pending: set[Future[ChunkOut]] = set()

        def submit() -> None:
            k = next(todo, None)
            if k is not None:
                pending.add(pool.submit(self._chunk, model, spec, k, acc.losses.threshold, acc.rows.threshold))

        try:
            for _ in range(2 * self.workers):
                submit()
            while pending:
                done, _ = wait(pending, timeout=POLL, return_when=FIRST_COMPLETED)
                for f in done:
                    pending.discard(f)
                    acc.add(f.result())
                    submit()
                monitor.tick(acc.scenarios)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def execute(
    model: ScenarioModel,
    spec: RunSpec,
    runner: ChunkRunner,
    monitor: Monitor,
    confidence: tuple[float, ...],
    scenarios: int,
    target_rse: float | None,
) -> tuple[Accumulator, Summary, bool | None]:
    """Run to ``spec.max_scenarios``, or, with ``target_rse``, in rounds until it is met.

    In convergence mode the first round has ``scenarios`` scenarios; after each round the
    relative standard error :math:`r` of VaR at the highest confidence is compared with
    the target :math:`r^*`, and the next round ends at
    :math:`1.1\\,S\\,(r/r^*)^2` scenarios (at least one more chunk, at most the cap),
    rounded up to whole chunks. Rounds end on whole chunks, so the stopping point, and
    the result, are the same for any number of workers.

    Returns
    -------
    (acc, summary, converged)
        ``converged`` is None without ``target_rse``.
    """
    acc = Accumulator(spec)
    goal = -(-scenarios // spec.chunk_size) if target_rse is not None else spec.n_chunks
    while True:
        monitor.total = min(goal * spec.chunk_size, spec.max_scenarios)
        runner.run(model, spec, range(acc.chunks, goal), acc, monitor)
        summary = summarize(acc, model, confidence)
        if target_rse is None:
            converged = None
            break
        if summary.rse <= target_rse or goal >= spec.n_chunks:
            converged = summary.rse <= target_rse
            break
        need = 1.1 * acc.scenarios * (summary.rse / target_rse) ** 2
        goal = min(spec.n_chunks, max(goal + 1, math.ceil(need / spec.chunk_size)))
    monitor.tick(acc.scenarios, force=True)
    return acc, summary, converged
