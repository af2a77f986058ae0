"""Refreshing several workbooks in one command: ``xl-var refresh BOOK... [--jobs N | --scheduler ADDR]``.

Each book is refreshed in place exactly as a single ``xl-var refresh BOOK`` does
(:func:`xl_var_cli.refresh.refresh_file`, atomic write included), and reported as it finishes,
in the order the books were given: the lines a single refresh prints, or one line on stderr
saying why it failed. A failing book does not stop the others. A summary line ends the run
("3 refreshed, 1 failed in 12.3 s"); the exit code is 0 if every book was refreshed, 2 if any
failed.

Where the books run:

- ``--jobs 1`` (the default): one after the other in this process.
- ``--jobs N``: in up to N worker processes (``spawn``ed, so the same on every OS): the formula
  engine holds the GIL, so threads would not run side by side. A worker that dies (a crash,
  the out-of-memory killer) breaks the pool; the books it held are then refreshed again one
  per fresh process, so the crash is charged to the one book that causes it.
- ``--scheduler ADDR``: on a Dask cluster (``xl-var[dask]``; connected as the Monte Carlo
  connects, :meth:`xl_var.montecarlo.dask_backend.DaskRunner.connect`). The workers need not
  share this machine's disks: each book is read and checked here, sent to a worker as bytes,
  recalculated there in memory, and the new bytes are written back here atomically. At most
  two books per worker thread are in flight, so memory here stays a few books' worth.

Ctrl-C stops the batch with one line (exit 130): books still queued are not started, and a
book being written is either the old file or the new one, byte for byte.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xl_var_cli.errors import CliError
from xl_var_cli.refresh import check_writable, refresh_file, refreshed_bytes
from xl_var_cli.workbook.package import package_from_bytes, read_package

__all__ = ["Outcome", "refresh_books"]

_CRASHED = "the process refreshing it stopped unexpectedly (a crash, or killed for memory); it was left as it was"


@dataclass(frozen=True)
class Outcome:
    """One book's result: the lines a single refresh prints, or the one-line reason it failed."""

    lines: tuple[str, ...] = ()
    error: str | None = None


def _reason(book: Path, exc: Exception) -> str:
    """``exc`` as one line that names ``book``."""
    from xl_var.errors import XlVarError

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if not isinstance(exc, (CliError, XlVarError)):  # not a problem to fix in the book: say what kind of failure
        text = f"{type(exc).__name__}: {text}"
    return text if text.startswith(f"{book}:") else f"{book}: {text}"


def _refresh_one(book: str) -> Outcome:
    """Refresh ``book`` in place (in a worker process or here); failures become the Outcome."""
    try:
        return Outcome(lines=tuple(refresh_file(Path(book))))
    except Exception as exc:
        return Outcome(error=_reason(Path(book), exc))


def _refresh_remote(raw: bytes, book: str) -> tuple[bytes | None, Outcome]:
    """On a Dask worker: the refreshed bytes of the book ``raw`` (named ``book``) and its Outcome."""
    try:
        data, lines = refreshed_bytes(package_from_bytes(raw, Path(book)), Path(book))
    except Exception as exc:
        return None, Outcome(error=_reason(Path(book), exc))
    return data, Outcome(lines=tuple(lines))


class _Report:
    """Prints each book's outcome once every book before it has one (the order given), then the summary."""

    def __init__(self) -> None:
        self.outcomes: dict[int, Outcome] = {}
        self._printed = 0
        self._start = time.perf_counter()

    def __call__(self, i: int, outcome: Outcome) -> None:
        self.outcomes[i] = outcome
        while self._printed in self.outcomes:
            done = self.outcomes[self._printed]
            if done.error is None:
                print("\n".join(done.lines), flush=True)
            else:
                print(f"xl-var refresh: error: {done.error}", file=sys.stderr, flush=True)
            self._printed += 1

    def summary(self) -> int:
        failed = sum(1 for o in self.outcomes.values() if o.error is not None)
        print(f"{len(self.outcomes) - failed} refreshed, {failed} failed in {time.perf_counter() - self._start:.1f} s",
              flush=True)
        return 2 if failed else 0


def _distinct(books: Sequence[Path]) -> None:
    """Refuse a book named twice: two workers would refresh the same file at once."""
    seen: dict[Path, Path] = {}
    for book in books:
        key = book.resolve()
        if key in seen:
            raise CliError(f"{book}: given twice ({seen[key]} and {book}); name each workbook once")
        seen[key] = book


def refresh_books(books: Sequence[Path], jobs: int = 1, scheduler: str | None = None) -> int:
    """Refresh ``books`` in place, each as ``xl-var refresh BOOK`` does; the exit code (0, or 2 if any failed)."""
    _distinct(books)
    if scheduler is not None and jobs != 1:
        raise CliError("give --jobs N or --scheduler ADDR, not both: on a cluster its workers set how many books "
                       "are refreshed at once")
    report = _Report()
    if scheduler is not None:
        _on_cluster(books, scheduler, report)
    elif jobs == 1 or len(books) == 1:
        for i, book in enumerate(books):
            report(i, _refresh_one(str(book)))
    else:
        _in_processes(books, min(jobs, len(books)), report)
    return report.summary()


def _quiet_worker() -> None:
    """A worker process's stderr goes nowhere: Ctrl-C reaches it too, and the parent prints the one line."""
    sys.stderr = open(os.devnull, "w")  # kept open for the life of the worker


def _in_processes(books: Sequence[Path], jobs: int, report: Callable[[int, Outcome], None],
                  work: Callable[[str], Outcome] = _refresh_one) -> None:
    """Refresh ``books`` in ``jobs`` worker processes; the books of a pool that broke, one per fresh process."""
    broken = _pool(books, range(len(books)), jobs, report, work)
    for i in broken:  # each alone, so that a crash is charged to the book that causes it
        if _pool(books, [i], 1, report, work):
            report(i, Outcome(error=f"{books[i]}: {_CRASHED}"))


def _pool(books: Sequence[Path], todo: Sequence[int], jobs: int, report: Callable[[int, Outcome], None],
          work: Callable[[str], Outcome]) -> list[int]:
    """Run ``todo`` in a pool of ``jobs`` processes, reporting each; the indices a broken pool left unsettled."""
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_quiet_worker)
    futures: dict[Future[Outcome], int] = {pool.submit(work, str(books[i])): i for i in todo}
    broken: list[int] = []
    try:
        for future in as_completed(futures):
            i = futures[future]
            try:
                report(i, future.result())
            except BrokenProcessPool:
                broken.append(i)
    except BaseException:  # Ctrl-C: start no more books; those being written finish or stay as they were
        for future in futures:  # here: shutdown's own cancelling is skipped once the pool is garbage
            future.cancel()
        pool.shutdown(wait=False)
        raise
    pool.shutdown()
    return sorted(broken)


def _client(scheduler: str) -> Any:
    """A context manager holding a ``distributed.Client`` for ``scheduler`` (an address)."""
    try:
        import distributed  # noqa: F401 (only to ask whether the extra is installed)
    except ImportError:
        raise CliError("--scheduler needs Dask: pip install 'xl-var[dask]' "
                       "(or use --jobs N to refresh books side by side on this machine)") from None
    if scheduler.strip().lower() == "local":
        raise CliError("--scheduler local would refresh the books in threads of this process, which the formula "
                       "engine cannot run side by side: use --jobs N on this machine, or give the address of a "
                       "Dask scheduler (tcp://host:8786)")
    from xl_var.montecarlo.dask_backend import DaskRunner

    return DaskRunner.connect(scheduler, workers=1)


def _on_cluster(books: Sequence[Path], scheduler: str, report: Callable[[int, Outcome], None]) -> None:
    """Refresh ``books`` on the Dask cluster at ``scheduler``: bytes out, bytes back, written here."""
    from xl_var_cli.atomic import write_bytes_atomic

    with _client(scheduler) as runner:
        client = runner.client
        completed: Any = sys.modules["distributed"].as_completed  # imported by _client
        window = max(2, 2 * sum(client.nthreads().values()))
        queue = iter(range(len(books)))
        futures: dict[Any, int] = {}
        done = completed()
        try:
            for _ in range(window):
                _submit_next(client, books, queue, futures, done, report)
            for future in done:
                i = futures.pop(future)
                try:
                    data, outcome = future.result()
                    if data is not None:
                        write_bytes_atomic(books[i], data)
                except Exception as exc:  # the worker died (KilledWorker), or the write failed here
                    outcome = Outcome(error=_reason(books[i], exc))
                report(i, outcome)
                _submit_next(client, books, queue, futures, done, report)
        except BaseException:
            client.cancel(list(futures))
            raise


def _submit_next(client: Any, books: Sequence[Path], queue: Iterator[int], futures: dict[Any, int], done: Any,
                 report: Callable[[int, Outcome], None]) -> None:
    """Read and send the next book that can be read (one that cannot is reported at once)."""
    for i in queue:
        try:
            check_writable(books[i], in_place=True)
            raw = read_package(books[i]).raw
        except CliError as exc:
            report(i, Outcome(error=str(exc)))
            continue
        future = client.submit(_refresh_remote, raw, str(books[i]), pure=False)
        futures[future] = i
        done.add(future)
        return
