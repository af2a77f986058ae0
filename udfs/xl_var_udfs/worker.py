"""The Monte Carlo worker process: ``python -m xl_var_udfs.worker FOLDER``.

Started by :meth:`xl_var_udfs.jobs.JobRunner.start`; it never talks to Excel. It reads
``job.json`` and ``inputs.npz`` from the job folder, runs :func:`xl_var.monte_carlo` (on the
weights, or on the book rebuilt by :func:`book_from_spec`, revalued in each scenario) and
reports only through files (see :mod:`xl_var_udfs.jobs`):

* a heartbeat thread rewrites ``status.txt`` every :data:`~xl_var_udfs.jobs.BEAT` seconds with
  the progress the engine last reported (the engine's callback may come from any of its
  threads; it only stores two integers);
* the cancel token is the file ``cancel``: when it appears the engine stops and raises
  :class:`xl_var.Cancelled`;
* at the end it writes ``result.json`` (the finished results sheet: rows, chart and headline)
  and then the final state ``done``, ``cancelled`` or ``failed`` with a one-line message; a
  traceback goes to stderr, which the runner sends to ``worker.log``.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import scipy

import xl_var as xv
from xl_var_udfs.atomic import write_atomic
from xl_var_udfs.excel import cell
from xl_var_udfs.jobs import BEAT, RESULTS_SHEET, ChartSpec, JobFiles, MCSettings, progress_text

__all__ = ["CancelFile", "Heartbeat", "book_from_spec", "main", "result_sheet"]

CANCEL_CHECK = 0.02  # seconds between looks for the cancel file


class CancelFile:
    """Cancel token: set once ``path`` exists (looked up at most every :data:`CANCEL_CHECK` seconds)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._next, self._set = 0.0, False

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self._set and now >= self._next:
            self._set, self._next = self.path.exists(), now + CANCEL_CHECK
        return self._set


class Heartbeat(threading.Thread):
    """Writes ``running`` with the latest progress to the status file every ``BEAT`` seconds."""

    def __init__(self, files: JobFiles, total: int) -> None:
        super().__init__(name="xl-var-heartbeat", daemon=True)
        self.files, self.done, self.total = files, 0, total
        self._halt = threading.Event()

    def progress(self, done: int, total: int) -> None:
        """The engine's progress callback (any thread)."""
        self.done, self.total = int(done), int(total)

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.files.write_status("running", progress_text(self.done, self.total))
            except OSError:  # a reader holds the file on Windows: the next beat writes it
                pass
            self._halt.wait(BEAT)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def book_from_spec(spec: Mapping[str, Any]) -> xv.Book:
    """The book :func:`xl_var_udfs.jobs.book_spec` wrote: same positions, vols, spot, forwards and valuation."""
    return xv.Book([tuple(p) for p in spec["positions"]], spec["spot"],
                   valuation=dt.datetime.fromisoformat(spec["valuation"]),
                   forwards={(u, dt.date.fromisoformat(day)): f for u, day, f in spec["forwards"]} or None,
                   rate=spec["rate"])


# ----------------------------------------------------------------------------- results sheet
def _pct(c: float) -> str:
    return f"{100 * c:.4g}%"


def _versions() -> str:
    return (f"xl-var {xv.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
            f"Python {platform.python_version()}")


def _block(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    return [[cell(v) if v is not None else None for v in row] for row in rows]


def result_sheet(job: dict[str, Any], res: xv.MCResult, weights: np.ndarray | xv.Book,
                 finished: str) -> dict[str, Any]:
    """The sheet ``xl-var MC`` for a result: ``rows`` (one batch from A1), ``chart`` and ``headline``.

    Sections from the top: VaR and ES per confidence with standard errors and 95% intervals; the
    run (model, scenarios, seed, horizon, workbook, inputs hash, times, versions; for a book also
    revaluation and valuation); the component table at the highest confidence, one row per asset
    (or per position of a book, in USD); the P&L histogram of portfolio losses with columns
    marking the bins that hold VaR and ES, which the chart plots.
    """
    conf = [float(c) for c in res.confidence]
    top = int(np.argmax(conf))
    var_ci, es_ci = np.asarray(res.var_ci, dtype=float), np.asarray(res.es_ci, dtype=float)
    if isinstance(weights, xv.Book):  # one component per position, amounts in USD
        reval = job["settings"]["revaluation"]
        names, amounts, heads = [p.name for p in weights.positions], weights.quantity, ("Position", "Quantity")
        usd, what = " (USD)", f", {reval} revaluation of {weights.size} positions, USD"
        run = [["Revaluation", reval], ["Valuation", f"{weights.valuation:%Y-%m-%d %H:%M:%S} UTC"]]
    else:
        names, amounts, heads = job["assets"], np.asarray(weights, dtype=float), ("Asset", "Weight")
        usd, what, run = "", "", []
    rows: list[list[Any]] = [[f"xl-var Monte Carlo ({res.model}, {res.scenarios:,} scenarios{what})"], []]
    rows.append(["Confidence", f"VaR{usd}", "VaR 95% CI low", "VaR 95% CI high", "VaR std error",
                 f"ES{usd}", "ES 95% CI low", "ES 95% CI high", "ES std error"])
    for i, c in enumerate(conf):
        rows.append([c, res.var[i], var_ci[i, 0], var_ci[i, 1], res.var_se[i],
                     res.es[i], es_ci[i, 0], es_ci[i, 1], res.es_se[i]])
    model = [["Model", res.model]] + ([["Degrees of freedom", res.df]] if res.df is not None else [])
    rows += [[], *model, *run, ["Scenarios", res.scenarios], ["Seed", res.seed],
             ["Horizon", job["settings"]["horizon"]], ["Workbook", job["book"]],
             ["Inputs hash", job["inputs_hash"]], ["Started", job["started"]], ["Finished", finished],
             ["Elapsed (s)", res.elapsed], ["Versions", _versions()], []]
    es_top = float(res.es[top])
    rows.append([*heads, f"Component VaR {_pct(conf[top])}{usd}", f"Component ES {_pct(conf[top])}{usd}", "% of ES"])
    for j, a in enumerate(names):
        rows.append([a, amounts[j], res.component_var[j], res.component_es[j], res.component_es[j] / es_top])
    rows.append(["Total", None if usd else float(np.sum(amounts)), float(np.sum(res.component_var)),
                 float(np.sum(res.component_es)), 1.0])
    rows.append([])
    edges, counts = np.asarray(res.hist_edges, dtype=float), np.asarray(res.hist_counts, dtype=float)
    var_bin = int(np.clip(np.searchsorted(edges, res.var[top], side="right") - 1, 0, counts.size - 1))
    es_bin = int(np.clip(np.searchsorted(edges, res.es[top], side="right") - 1, 0, counts.size - 1))
    head = len(rows) + 1
    rows.append([f"Loss{usd} (bin centre)", "Scenarios", f"VaR {_pct(conf[top])}", f"ES {_pct(conf[top])}"])
    peak = float(counts.max()) if counts.size else 0.0
    for b in range(counts.size):
        rows.append([0.5 * (edges[b] + edges[b + 1]), counts[b],
                     peak if b == var_bin else None, peak if b == es_bin else None])
    width = max(len(r) for r in rows)
    rows = [r + [None] * (width - len(r)) for r in _block(rows)]
    headline = f"VaR {_pct(conf[top])} {res.var[top]:.6g}{usd}, ES {res.es[top]:.6g}{usd}"
    chart = ChartSpec(
        title=f"Portfolio loss distribution: {headline}",
        data=f"A{head}:D{head + counts.size}",
        anchor="K3",
        x_title=f"Portfolio loss{usd}",
        y_title="Scenarios",
    )
    return {"rows": rows, "chart": asdict(chart), "headline": headline, "sheet": RESULTS_SHEET}


# ----------------------------------------------------------------------------- main
def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if isinstance(exc, xv.XlVarError) else f"{type(exc).__name__}: {text}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the job in the folder ``argv[0]``; 0 when done or cancelled, 1 when it failed."""
    files = JobFiles(Path((sys.argv[1:] if argv is None else argv)[0]))
    beat = Heartbeat(files, 0)
    beat.start()
    try:
        job = files.read_json(files.job)
        if "settings" not in job:
            raise ValueError(f"the job file {files.job} is missing or unreadable")
        settings = MCSettings(**{**job["settings"], "confidence": tuple(job["settings"]["confidence"])})
        beat.total = settings.scenarios
        held: Any  # weights, or a Book (monte_carlo takes either)
        with np.load(files.inputs) as data:
            returns = data["returns"]
            held = book_from_spec(job["positions"]) if "positions" in job else data["weights"]
        book = {"assets": job["assets"], "revaluation": settings.revaluation} if isinstance(held, xv.Book) else {}
        res = xv.monte_carlo(returns, held, scenarios=settings.scenarios, model=settings.model,
                             confidence=settings.confidence, horizon=settings.horizon, seed=settings.seed,
                             progress=beat.progress, cancel=CancelFile(files.cancel), **book)
        sheet = result_sheet(job, res, held, time.strftime("%Y-%m-%d %H:%M:%S"))
    except xv.Cancelled:
        beat.stop()
        files.write_status("cancelled", f"xl-var MC cancelled after {beat.done:,} scenarios")
        return 0
    except Exception as exc:
        beat.stop()
        traceback.print_exc()
        files.write_status("failed", f"xl-var MC failed: {_one_line(exc)}")
        return 1
    beat.stop()
    write_atomic(files.result, json.dumps(sheet).encode())
    files.write_status("done", f"xl-var MC done: {sheet['headline']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
