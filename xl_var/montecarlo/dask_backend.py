"""Running the chunks on a Dask distributed cluster (optional extra ``xl-var[dask]``).

The same chunks as a local run, with the same per-chunk seeds, are grouped into tasks of
consecutive chunks; each task returns its merged :class:`~xl_var.montecarlo.chunks.Accumulator`
and the calling thread merges the tasks as they finish. Merging is order-free, so the
result is bit-identical to a local run with the same seed (given the same numpy and BLAS
on the workers). The group size is set so that a task holds about
:data:`TASK_SECONDS` of work, timed on one chunk run locally first (that chunk is part of
the result): below about a second per task the scheduling overhead dominates, and on a
single machine local threads are faster than any Dask cluster.
"""

from __future__ import annotations

import math
import time
from types import TracebackType
from typing import Any

from threadpoolctl import threadpool_limits

from xl_var.errors import XlVarError
from xl_var.montecarlo.chunks import Accumulator, RunSpec, simulate_chunk, simulate_chunks
from xl_var.montecarlo.models import ScenarioModel, Scratch
from xl_var.montecarlo.runner import POLL, Monitor

__all__ = ["TASK_SECONDS", "DaskRunner"]

#: Target seconds of work per Dask task.
TASK_SECONDS = 1.0


def _distributed() -> Any:
    """The ``distributed`` module, or an XlVarError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise XlVarError("scheduler= needs Dask: pip install 'xl-var[dask]'") from None
    return distributed


def _task(model: ScenarioModel, spec: RunSpec, chunks: range) -> Accumulator:
    """One Dask task: consecutive chunks with one BLAS thread (the same rounding as locally)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return simulate_chunks(model, spec, chunks)


class DaskRunner:
    """Runs chunk ranges on a ``distributed.Client``; use :meth:`connect` as a context manager."""

    def __init__(self, client: Any, owned: tuple[Any, ...] = ()) -> None:
        self.client = client
        self._owned = owned
        self._scattered: tuple[ScenarioModel, Any] | None = None  # the model and its future on the cluster

    @classmethod
    def connect(cls, scheduler: Any, workers: int) -> DaskRunner:
        """A runner for ``scheduler``: an address, ``"local"`` or a ``distributed.Client``.

        ``"local"`` starts a LocalCluster of ``workers`` single-threaded workers in this
        process (closed again on exit); an address connects a new Client (closed on exit);
        a Client is used as is and left open.
        """
        distributed = _distributed()
        if isinstance(scheduler, distributed.Client):
            return cls(scheduler)
        if not isinstance(scheduler, str) or not scheduler.strip():
            raise XlVarError(f"scheduler must be 'local', an address such as 'tcp://host:8786' or a "
                             f"distributed.Client; got {scheduler!r}")
        if scheduler.strip().lower() == "local":
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                                               dashboard_address=":0")
            client = distributed.Client(cluster)
            return cls(client, (client, cluster))
        try:
            client = distributed.Client(scheduler.strip(), timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:  # ValueError: a malformed address
            raise XlVarError(f"scheduler {scheduler!r}: cannot connect ({exc}); check the address and that "
                             "the Dask scheduler is running") from None
        return cls(client, (client,))

    def __enter__(self) -> DaskRunner:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._scattered = None  # release the model on a cluster that stays up
        for obj in self._owned:
            obj.close()

    def _remote(self, model: ScenarioModel) -> Any:
        """The future of ``model`` on the cluster, scattered once per model (not per convergence round)."""
        if self._scattered is None or self._scattered[0] is not model:
            self._scattered = (model, self.client.scatter(model, broadcast=True, hash=False))
        return self._scattered[1]

    def run(self, model: ScenarioModel, spec: RunSpec, chunks: range, acc: Accumulator, monitor: Monitor) -> None:
        """Time the first chunk here, then submit tasks of about :data:`TASK_SECONDS` each."""
        distributed = _distributed()
        if not chunks:
            return
        t0 = time.perf_counter()
        acc.add(simulate_chunk(model, spec, chunks[0], acc.losses.threshold, acc.rows.threshold, Scratch()))
        per_chunk = max(time.perf_counter() - t0, 1e-6)
        group = max(1, math.ceil(TASK_SECONDS / per_chunk))
        rest = chunks[1:]
        remote = self._remote(model)
        futures = [self.client.submit(_task, remote, spec, rest[i:i + group], pure=False)
                   for i in range(0, len(rest), group)]
        done = distributed.as_completed(futures)
        try:
            while not done.is_empty():
                if done.has_ready():
                    for f in done.next_batch(block=False):
                        acc.merge(f.result())
                else:
                    time.sleep(POLL / 2)
                monitor.tick(acc.scenarios)
        except BaseException:
            self.client.cancel(futures)
            raise
