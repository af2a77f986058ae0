"""Running chunks: on local threads, with progress and cancel, and the convergence loop.

``workers`` threads take chunk numbers from a shared counter (numpy releases the GIL
while drawing and in BLAS) and merge their reports into the shared accumulator. The
calling thread meanwhile checks the cancel token at least every 0.1 s and reports
progress at most every 0.25 s. A cancelled run stops taking chunks, waits for the
chunks in flight (one chunk is a few milliseconds to ~0.1 s of work) and raises
:class:`~xl_var.errors.Cancelled`. Callbacks are always called from the calling thread.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from xl_var.errors import Cancelled
from xl_var.montecarlo.chunks import Accumulator, RunSpec, simulate_chunk
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
    """Chunks on ``workers`` threads that take the next chunk number from a shared counter.

    Each thread draws its chunk with its own aligned scratch buffers and merges the
    report into the shared accumulator under a lock; the calling thread only waits,
    reports progress and checks the cancel token.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def run(self, model: ScenarioModel, spec: RunSpec, chunks: range, acc: Accumulator, monitor: Monitor) -> None:
        todo: Iterator[int] = iter(chunks)
        lock = threading.Lock()
        stop = threading.Event()
        errors: list[BaseException] = []

        def work() -> None:
            scratch = Scratch()
            try:
                while not stop.is_set():
                    with lock:
                        k = next(todo, None)
                    if k is None:
                        break
                    out = simulate_chunk(model, spec, k, acc.losses.threshold, acc.rows.threshold, scratch)
                    with lock:
                        acc.add(out)
            except BaseException as exc:  # reported in the calling thread
                errors.append(exc)
                stop.set()

        threads = [threading.Thread(target=work, name=f"xl-var-mc-{i}", daemon=True) for i in range(self.workers)]
        for t in threads:
            t.start()
        try:
            for t in threads:  # a join wakes as soon as its thread ends, else after POLL for a tick
                while t.is_alive():
                    t.join(POLL)
                    monitor.tick(acc.scenarios)
        finally:
            stop.set()
            for t in threads:
                t.join()
        if errors:
            raise errors[0]


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
        summary = summarize(acc, model, confidence, step=lambda: monitor.tick(acc.scenarios))
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
