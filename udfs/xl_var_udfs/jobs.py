"""Monte Carlo jobs for the ribbon: start a worker process, relay its progress, cancel it, write results.

Excel never waits for the simulation. A ribbon button calls one entry point of
:mod:`xl_var_udfs.ribbon`, which wraps Excel in an :class:`ExcelApp` and calls a
:class:`JobRunner` method here; the runner only reads the workbook, starts
``python -m xl_var_udfs.worker`` and returns. Everything below talks to Excel only through
:class:`ExcelApp`, so it is tested on any OS with a workbook stand-in (see ``tests/udfs``).

With the named ranges ``XLVAR_POSITIONS`` and ``XLVAR_MARKET`` (optionally ``XLVAR_VALUATION``,
default now UTC, and ``XLVAR_SURFACE``) in place of ``XLVAR_WEIGHTS``, each scenario of the
underlyings the returns' header names revalues the book (setting ``revaluation``): results in
USD, one component row per position.

One job at a time per user lives in :func:`jobs_folder`:

===============  ==============================================================================
``job.json``     the workbook, settings, asset names, inputs hash and, for a derivatives book, the
                 book as :func:`book_spec` writes it (written by the runner)
``inputs.npz``   returns (T×N) and weights (N; none for a book)
``worker.json``  the worker's process id and creation time (to tell a dead worker from a slow one)
``status.txt``   one UTF-8 line ``state<TAB>text``, no line break, replaced atomically; ``state`` is
                 ``starting`` (runner), ``running``/``done``/``failed``/``cancelled`` (worker), then
                 ``idle`` once the outcome was delivered to Excel. The worker rewrites it every
                 :data:`BEAT` seconds, so its age also tells whether the worker is alive (the VBA
                 poller in ``XlVarRibbon.bas`` reads it directly and shows the text).
``cancel``       present once Cancel was pressed; the worker's cancel token checks for it
``result.json``  the results sheet (rows, chart, headline) and the raw numbers, written before ``done``
``worker.log``   the worker's stderr (tracebacks)
===============  ==============================================================================
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import psutil

import xl_var as xv
from xl_var._validate import check_positive_int
from xl_var.bookrisk import book_returns
from xl_var.methods import REVALUATION_NAMES, revaluation_names
from xl_var.montecarlo.models import MODELS
from xl_var_udfs.arguments import opt_choice, opt_confidence, opt_horizon, opt_number
from xl_var_udfs.atomic import write_atomic
from xl_var_udfs.booktables import read_book_table, when
from xl_var_udfs.cells import reraise_as
from xl_var_udfs.excel import ExcelError, Table, read_table, read_vector

__all__ = [
    "BEAT",
    "ENV_JOBS",
    "MARKET_NAME",
    "POSITIONS_NAME",
    "RESULTS_SHEET",
    "RETURNS_NAME",
    "SETTINGS_NAME",
    "SETTINGS_SHEET",
    "SURFACE_NAME",
    "VALUATION_NAME",
    "WEIGHTS_NAME",
    "ChartSpec",
    "ExcelApp",
    "JobFiles",
    "JobRunner",
    "MCSettings",
    "book_spec",
    "inputs_hash",
    "jobs_folder",
    "progress_text",
    "show_settings",
]

RETURNS_NAME, WEIGHTS_NAME, SETTINGS_NAME = "XLVAR_RETURNS", "XLVAR_WEIGHTS", "XLVAR_SETTINGS"
POSITIONS_NAME, MARKET_NAME = "XLVAR_POSITIONS", "XLVAR_MARKET"
VALUATION_NAME, SURFACE_NAME = "XLVAR_VALUATION", "XLVAR_SURFACE"
SETTINGS_SHEET, RESULTS_SHEET = "xl-var settings", "xl-var MC"
ENV_JOBS = "XLVAR_JOBS_DIR"
BEAT = 0.5  # seconds between the worker's status writes (the status bar's refresh rate)
ACTIVE = ("starting", "running")
CANCEL_GRACE = 0.8  # seconds Cancel waits for the worker to stop by itself before killing it


def jobs_folder() -> Path:
    """The job folder: ``$XLVAR_JOBS_DIR``, else ``xl-var-mc`` in the user's temporary folder.

    ``%TEMP%`` first, as the VBA poller (``Environ("TEMP")``) finds it on Windows.
    """
    override = os.environ.get(ENV_JOBS)
    if override:
        return Path(override)
    return Path(os.environ.get("TEMP") or tempfile.gettempdir()) / "xl-var-mc"


def progress_text(done: int, total: int) -> str:
    """The status bar while the worker runs, e.g. ``"xl-var MC 42% · 420,000 scenarios"``."""
    pct = int(100 * done / total) if total > 0 else 0
    return f"xl-var MC {pct}% · {done:,} scenarios"


# ----------------------------------------------------------------------------- Excel protocol
@dataclass(frozen=True)
class ChartSpec:
    """A clustered column chart of a table already on the sheet.

    ``data`` is the table's A1 range: a header row (series names), then one row per category,
    the first column holding the categories. ``anchor`` is the cell of its top-left corner.
    """

    title: str
    data: str
    anchor: str
    x_title: str = ""
    y_title: str = ""


class ExcelApp(Protocol):
    """What the runner needs from Excel; books are named as in Excel (``Book1.xlsx``).

    Implementations: :class:`xl_var_udfs.ribbon.XlwingsApp` (Excel through xlwings) and the
    openpyxl-backed stand-in of the tests.
    """

    def active_book(self) -> str:
        """The name of the active workbook."""

    def has_book(self, book: str) -> bool:
        """Whether ``book`` is open."""

    def read_named(self, book: str, name: str) -> list[list[Any]] | None:
        """The values of the workbook-level named range as a list of rows, or None if undefined."""

    def write_sheet(self, book: str, sheet: str, rows: Sequence[Sequence[Any]],
                    names: Mapping[str, str] | None = None) -> None:
        """Replace the sheet's content (creating it) with ``rows`` from A1 in one batch; remove its charts.

        ``names`` maps workbook names to A1 ranges on that sheet to define.
        """

    def add_chart(self, book: str, sheet: str, chart: ChartSpec) -> None:
        """Add a clustered column chart of ``chart.data`` (header row, then category and series columns)."""

    def show_sheet(self, book: str, sheet: str) -> bool:
        """Activate the sheet; False if it does not exist."""

    def set_status(self, text: str | None) -> None:
        """Show ``text`` in the status bar (None gives it back to Excel)."""

    def alert(self, text: str) -> None:
        """Show a message box."""


# ----------------------------------------------------------------------------- settings
SETTING_NOTES = {
    "scenarios": "number of simulated scenarios, e.g. 1000000",
    "model": "normal, t, t-copula, bootstrap or fhs",
    "confidence": "one or more levels, e.g. 95%, 99%",
    "horizon": "periods of the returns (1 = one day for daily returns)",
    "seed": "the same seed gives the same numbers",
    "revaluation": f"{revaluation_names()}: how a book ({POSITIONS_NAME}) is repriced in each scenario",
}


@dataclass(frozen=True)
class MCSettings:
    """The Monte Carlo settings table (sheet ``xl-var settings``, range ``XLVAR_SETTINGS``)."""

    scenarios: int = 1_000_000
    model: str = "t"
    confidence: tuple[float, ...] = (0.95, 0.99)
    horizon: int = 1
    seed: int = 12345
    revaluation: str = "full"

    def table(self) -> list[list[Any]]:
        """The settings sheet: a header, then one ``setting, value, note`` row per field."""
        levels = ", ".join(f"{c:.4g}" for c in self.confidence)
        values = {**asdict(self), "confidence": levels}
        return [["Setting", "Value", "Note"], *([k, values[k], n] for k, n in SETTING_NOTES.items())]

    @classmethod
    def from_table(cls, rows: Sequence[Sequence[Any]] | None) -> MCSettings:
        """Read a settings table (first column the setting, second its value); missing ones keep defaults.

        Raises
        ------
        ExcelError
            An unknown setting or a bad value, naming the row.
        """
        given: dict[str, Any] = {}
        for i, row in enumerate(rows or (), start=1):
            key = str(row[0]).strip().lower() if row and row[0] is not None else ""
            if key in ("", "setting"):
                continue
            if key not in SETTING_NOTES:
                raise ExcelError("#VALUE!", f"{SETTINGS_NAME} row {i}: unknown setting {row[0]!r} "
                                            f"(use {', '.join(SETTING_NOTES)})")
            given[key] = row[1] if len(row) > 1 else None
        d = cls()
        conf = given.get("confidence")
        parts = str(conf).replace(";", ",").split(",") if isinstance(conf, str) else [conf]
        seed = opt_number(given.get("seed"), "seed", d.seed)
        if not (math.isfinite(seed) and seed >= 0 and seed == int(seed)):
            raise ExcelError("#NUM!", f"seed must be a whole number, 0 or more; got {seed:g}")
        levels = tuple(sorted({opt_confidence(p) for p in parts if p is not None and str(p).strip()}))
        with reraise_as("#NUM!"):
            scenarios = check_positive_int(opt_number(given.get("scenarios"), "scenarios", d.scenarios),
                                           "scenarios")
        return cls(
            scenarios=scenarios,
            model=opt_choice(given.get("model"), "model", MODELS, d.model),
            confidence=levels or d.confidence,
            horizon=opt_horizon(given.get("horizon"), d.horizon),
            seed=int(seed),
            revaluation=opt_choice(given.get("revaluation"), "revaluation", REVALUATION_NAMES, d.revaluation),
        )


def show_settings(xl: ExcelApp) -> None:
    """The Settings button: show the settings sheet, creating it with the defaults if absent."""
    book = xl.active_book()
    if not xl.show_sheet(book, SETTINGS_SHEET):
        rows = MCSettings().table()
        xl.write_sheet(book, SETTINGS_SHEET, rows, names={SETTINGS_NAME: f"A1:B{len(rows)}"})
        xl.show_sheet(book, SETTINGS_SHEET)


def book_spec(book: xv.Book) -> dict[str, Any]:
    """A book as JSON data that rebuilds it exactly (:func:`xl_var_udfs.worker.book_from_spec`).

    Each option keeps the vol it was priced at (from the market, a surface or its own row) and each
    dated position the forward of its expiry, so the worker needs neither the market table nor the
    surface.
    """
    forwards = {(p.instrument.underlying, p.instrument.expiry.date().isoformat()): float(f)
                for p, f in zip(book.positions, book.forward, strict=True) if p.instrument.expiry is not None}
    return {
        "positions": [[p.name, float(q), float(v) if is_option else None]
                      for p, q, v, is_option in zip(book.positions, book.quantity, book.vol, book.is_option,
                                                    strict=True)],
        "spot": {u: float(s) for u, s in zip(book.underlyings, book.spot, strict=True)},
        "forwards": [[u, day, f] for (u, day), f in forwards.items()],
        "valuation": book.valuation.isoformat(),
        "rate": book.rate,
    }


def inputs_hash(returns: np.ndarray, weights: np.ndarray | xv.Book, assets: Sequence[str],
                settings: MCSettings) -> str:
    """SHA-256 (first 16 hex digits) of the returns, weights (or book), asset names and settings of a run."""
    h = hashlib.sha256()
    for a in (returns,) if isinstance(weights, xv.Book) else (returns, weights):
        arr = np.ascontiguousarray(a, dtype="<f8")
        h.update(repr(arr.shape).encode())
        h.update(arr.tobytes())
    h.update("\x1f".join(assets).encode())
    if isinstance(weights, xv.Book):
        h.update(json.dumps(book_spec(weights), sort_keys=True).encode())
    h.update(json.dumps(asdict(settings), sort_keys=True).encode())
    return h.hexdigest()[:16]


def _required(rows: list[list[Any]] | None, book: str, name: str) -> list[list[Any]]:
    if rows is None:
        raise ExcelError("#N/A", f"{book} has no range named {name}: select it and type {name} "
                                 "into the Name Box")
    return rows


def _read_book(xl: ExcelApp, book: str, returns: Table, positions: list[list[Any]] | None,
               market: list[list[Any]] | None) -> xv.Book:
    """The book of the workbook's named ranges; every underlying must head a column of the returns.

    Raises
    ------
    ExcelError
        As the worksheet functions' (naming the row of the positions), or a missing range.
    """
    positions, market = _required(positions, book, POSITIONS_NAME), _required(market, book, MARKET_NAME)
    table = read_book_table(positions, market, when(xl.read_named(book, VALUATION_NAME), VALUATION_NAME,
                                                    now=True), xl.read_named(book, SURFACE_NAME))
    held = table.book
    if returns.header is None:
        raise ExcelError("#VALUE!", f"{RETURNS_NAME} needs a header row naming the underlyings "
                                    f"({', '.join(held.underlyings)}) of {POSITIONS_NAME}")
    try:
        book_returns(returns.values, held, returns.names)
    except xv.XlVarError as exc:  # "position 3 (...)" → the row of the positions range
        raise table.located(exc) from None
    return held


# ----------------------------------------------------------------------------- job files
@dataclass(frozen=True)
class JobFiles:
    """The files of the job folder (see the module docstring); each path field names its file."""

    folder: Path
    job: Path = field(init=False, metadata={"file": "job.json"})
    inputs: Path = field(init=False, metadata={"file": "inputs.npz"})
    worker: Path = field(init=False, metadata={"file": "worker.json"})
    status: Path = field(init=False, metadata={"file": "status.txt"})
    cancel: Path = field(init=False, metadata={"file": "cancel"})
    result: Path = field(init=False, metadata={"file": "result.json"})
    log: Path = field(init=False, metadata={"file": "worker.log"})

    def __post_init__(self) -> None:
        for f in fields(self):
            if "file" in f.metadata:
                object.__setattr__(self, f.name, self.folder / f.metadata["file"])

    def paths(self) -> list[Path]:
        """Every file of the job (not the folder)."""
        return [getattr(self, f.name) for f in fields(self) if "file" in f.metadata]

    def read_status(self) -> tuple[str, str]:
        """``(state, text)``; ``("", "")`` when there is no job."""
        try:
            state, _, text = self.status.read_text(encoding="utf-8").partition("\t")
        except (FileNotFoundError, PermissionError):  # none yet, or Windows mid-replace
            return "", ""
        return state, text

    def write_status(self, state: str, text: str) -> None:
        write_atomic(self.status, f"{state}\t{' '.join(text.split())}".encode(), make_folder=True)

    def read_json(self, path: Path) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data

    def clear(self) -> None:
        for p in self.paths():
            p.unlink(missing_ok=True)

    def log_tail(self) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        return lines[-1] if lines else ""


# ----------------------------------------------------------------------------- runner
class JobRunner:
    """Start, poll and cancel the Monte Carlo worker; deliver its outcome to Excel.

    Parameters
    ----------
    folder : Path, optional
        The job folder (default :func:`jobs_folder`).

    The worker runs under this interpreter; :meth:`cancel` gives it :data:`CANCEL_GRACE`
    seconds to stop by itself before killing it.
    """

    def __init__(self, folder: Path | None = None):
        self.files = JobFiles(folder or jobs_folder())
        self._proc: subprocess.Popen[bytes] | None = None

    # -- worker process
    def _process(self) -> psutil.Process | None:
        info = self.files.read_json(self.files.worker)
        try:
            p = psutil.Process(int(info["pid"]))
            if abs(p.create_time() - float(info["created"])) > 1e-3:
                return None  # the pid was reused by another process
            return p
        except (KeyError, ValueError, psutil.Error):
            return None

    def alive(self) -> bool:
        """Whether the current job's worker process is still running."""
        if self._proc is not None and self._proc.poll() is not None:  # reap our own child
            return False
        p = self._process()
        try:
            return p is not None and p.is_running() and p.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def _spawn(self) -> None:
        kw: dict[str, Any] = {}
        if sys.platform.startswith("win"):  # no console window; survive the RunPython process
            kw["creationflags"] = subprocess.CREATE_NO_WINDOW | subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            kw["start_new_session"] = True
        with open(self.files.log, "wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "xl_var_udfs.worker", str(self.files.folder)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                cwd=self.files.folder, close_fds=True, **kw)
        try:
            created = psutil.Process(self._proc.pid).create_time()
        except psutil.Error:
            created = 0.0  # already gone: alive() sees it through the Popen
        write_atomic(self.files.worker, json.dumps({"pid": self._proc.pid, "created": created}).encode())

    # -- buttons
    def start(self, xl: ExcelApp) -> str:
        """Run Monte Carlo: read the active workbook, start the worker and return at once.

        Returns the job's state afterwards: ``"starting"``, ``"running"`` (one was already going:
        nothing new started) or ``"invalid"`` (bad inputs: nothing started, the user was told why).
        """
        state = self.poll(xl)  # deliver a finished job, report a dead one
        if state in ACTIVE:
            xl.alert(f"xl-var MC is already running ({self.files.read_status()[1]}). "
                     "Press Cancel to stop it before starting another.")
            return state
        book = xl.active_book()
        held: np.ndarray | xv.Book
        try:
            settings = MCSettings.from_table(xl.read_named(book, SETTINGS_NAME))
            table = read_table(_required(xl.read_named(book, RETURNS_NAME), book, RETURNS_NAME), RETURNS_NAME)
            positions, market = xl.read_named(book, POSITIONS_NAME), xl.read_named(book, MARKET_NAME)
            if positions is None and market is None:
                held = read_vector(_required(xl.read_named(book, WEIGHTS_NAME), book, WEIGHTS_NAME), WEIGHTS_NAME,
                                   size=table.values.shape[1]).values
            else:
                held = _read_book(xl, book, table, positions, market)
        except ExcelError as exc:
            xl.alert(f"xl-var MC did not start: {exc.line}")
            return "invalid"
        self.files.folder.mkdir(parents=True, exist_ok=True)
        self.files.clear()
        job: dict[str, Any] = {"book": book, "settings": asdict(settings), "assets": list(table.names),
                               "inputs_hash": inputs_hash(table.values, held, table.names, settings),
                               "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        arrays: dict[str, Any] = {"returns": table.values}
        text = f"xl-var MC starting · {settings.scenarios:,} scenarios, model {settings.model}"
        if isinstance(held, xv.Book):
            job["positions"] = book_spec(held)
            text += f", {settings.revaluation} revaluation of {held.size} positions"
        else:
            arrays["weights"] = held
        with open(self.files.inputs, "wb") as fh:
            np.savez(fh, **arrays)
        write_atomic(self.files.job, json.dumps(job).encode())
        self.files.write_status("starting", text)
        self._spawn()
        xl.set_status(text)
        return "starting"

    def poll(self, xl: ExcelApp) -> str:
        """Relay the job's progress, or deliver its outcome once; return the state found.

        A finished job writes the sheet ``xl-var MC``; a failure (also a worker that died
        without a word) is shown in a message box; either way the job becomes ``idle``.
        """
        state, text = self.files.read_status()
        if state in ("", "idle"):
            return state or "idle"
        if state in ACTIVE:
            if self.alive():
                xl.set_status(text)
                return state
            state, text = self.files.read_status()  # it may have finished in between
            if state in ACTIVE:
                pid = self.files.read_json(self.files.worker).get("pid", "?")
                tail = self.files.log_tail()
                state, text = "failed", (f"xl-var MC failed: the worker process (pid {pid}) stopped "
                                         f"without a result{': ' + tail if tail else ''}")
        if state == "done":
            text = self._deliver(xl)
        elif state == "failed":
            xl.alert(f"{text}\n\nDetails: {self.files.log}")
        xl.set_status(text)
        self.files.write_status("idle", text)
        return state

    def _deliver(self, xl: ExcelApp) -> str:
        job = self.files.read_json(self.files.job)
        result = self.files.read_json(self.files.result)
        book = job.get("book", "")
        if not result:
            text = "xl-var MC failed: the worker reported success but its result file is unreadable"
            xl.alert(text)
            return text
        if not xl.has_book(book):
            text = f"xl-var MC finished, but {book} is no longer open: run it again"
            xl.alert(text)
            return text
        xl.write_sheet(book, RESULTS_SHEET, result["rows"])
        xl.add_chart(book, RESULTS_SHEET, ChartSpec(**result["chart"]))
        return f"xl-var MC done: {result['headline']} (sheet '{RESULTS_SHEET}' in {book})"

    def cancel(self, xl: ExcelApp) -> str:
        """Cancel: ask the worker to stop, kill it if it has not within :data:`CANCEL_GRACE` s, report."""
        state, _ = self.files.read_status()
        if state not in ACTIVE:
            xl.set_status("xl-var MC: nothing to cancel")
            return state or "idle"
        self.files.cancel.touch()
        deadline = time.monotonic() + CANCEL_GRACE
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.alive():
            p = self._process()
            if p is not None:
                p.kill()
                p.wait(timeout=5)
            if self._proc is not None:
                self._proc.wait(timeout=5)
        if self.files.read_status()[0] in ACTIVE:  # killed before it could say so
            self.files.write_status("cancelled", "xl-var MC cancelled")
        return self.poll(xl)
