"""The Monte Carlo job runner through the ExcelApp protocol, with an openpyxl workbook stand-in and the real engine."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import psutil
import pytest
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import absolute_coordinate, get_column_letter, quote_sheetname, range_boundaries
from openpyxl.workbook.defined_name import DefinedName

import xl_var as xv
from workbooks import SAMPLE_MARKET, SAMPLE_POSITIONS, SAMPLE_RETURNS, SAMPLE_SURFACE, SAMPLE_VALUATION, SAMPLE_WEIGHTS
from xl_var_udfs import jobs
from xl_var_udfs.booktables import read_book
from xl_var_udfs.jobs import ChartSpec, JobRunner, MCSettings, book_spec, inputs_hash
from xl_var_udfs.worker import book_from_spec, result_sheet
from xl_var_udfs.worker import main as worker_main

PROGRESS = re.compile(r"^xl-var MC (\d+)% · ([\d,]+) scenarios$")


class OpenpyxlApp:
    """:class:`xl_var_udfs.jobs.ExcelApp` over in-memory openpyxl workbooks (the tests' Excel)."""

    def __init__(self, books: dict[str, openpyxl.Workbook], active: str) -> None:
        self.books, self.active = books, active
        self.statuses: list[str | None] = []
        self.alerts: list[str] = []

    def active_book(self) -> str:
        return self.active

    def has_book(self, book: str) -> bool:
        return book in self.books

    def read_named(self, book: str, name: str) -> list[list[Any]] | None:
        wb = self.books[book]
        if name not in wb.defined_names:
            return None
        ((title, ref),) = wb.defined_names[name].destinations
        cells = wb[title][ref]
        cells = cells if isinstance(cells, tuple) else ((cells,),)
        return [[c.value for c in row] for row in cells]

    def write_sheet(self, book: str, sheet: str, rows: Sequence[Sequence[Any]],
                    names: Mapping[str, str] | None = None) -> None:
        wb = self.books[book]
        index = wb.sheetnames.index(sheet) if sheet in wb.sheetnames else len(wb.sheetnames)
        if sheet in wb.sheetnames:
            del wb[sheet]
        ws = wb.create_sheet(sheet, index)
        for row in rows:
            ws.append(list(row))
        for name, ref in (names or {}).items():
            wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(sheet)}!{absolute_coordinate(ref)}")

    def add_chart(self, book: str, sheet: str, chart: ChartSpec) -> None:
        ws = self.books[book][sheet]
        c0, r0, c1, r1 = range_boundaries(chart.data)
        c = BarChart()
        c.type, c.grouping, c.overlap = "col", "clustered", 100
        c.title, c.x_axis.title, c.y_axis.title = chart.title, chart.x_title, chart.y_title
        c.add_data(Reference(ws, min_col=c0 + 1, min_row=r0, max_col=c1, max_row=r1), titles_from_data=True)
        c.set_categories(Reference(ws, min_col=c0, min_row=r0 + 1, max_row=r1))
        ws.add_chart(c, chart.anchor)

    def show_sheet(self, book: str, sheet: str) -> bool:
        wb = self.books[book]
        if sheet not in wb.sheetnames:
            return False
        wb.active = wb[sheet]
        return True

    def set_status(self, text: str | None) -> None:
        self.statuses.append(text)

    def alert(self, text: str) -> None:
        self.alerts.append(text)


# ----------------------------------------------------------------------------- fixtures
RETURNS = pd.read_csv(SAMPLE_RETURNS, index_col=0, parse_dates=True)
WEIGHTS = pd.read_csv(SAMPLE_WEIGHTS, index_col=0)["Weight"]


def _book(n_rows: int = len(RETURNS)) -> openpyxl.Workbook:
    """The sample portfolio as an analyst lays it out: dates + asset columns, names and weights beside."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Portfolio data"
    ws.append(["Date", *RETURNS.columns, None, "Asset", "Weight"])
    for i, (day, row) in enumerate(RETURNS.iloc[:n_rows].iterrows()):
        extra = [None, WEIGHTS.index[i], float(WEIGHTS.iloc[i])] if i < len(WEIGHTS) else []
        ws.append([day.to_pydatetime(), *map(float, row), *extra])
    wb.defined_names["XLVAR_RETURNS"] = DefinedName("XLVAR_RETURNS", attr_text=f"'Portfolio data'!$A$1:$G${n_rows + 1}")
    wb.defined_names["XLVAR_WEIGHTS"] = DefinedName("XLVAR_WEIGHTS", attr_text="'Portfolio data'!$I$2:$J$7")
    return wb


def _settings(wb: openpyxl.Workbook, **values: Any) -> None:
    rows = MCSettings().table()
    for r in rows:
        if r[0] in values:
            r[1] = values[r[0]]
    names = {jobs.SETTINGS_NAME: f"A1:B{len(rows)}"}
    OpenpyxlApp({"b": wb}, "b").write_sheet("b", jobs.SETTINGS_SHEET, rows, names=names)


@pytest.fixture
def runner(tmp_path):
    r = JobRunner(tmp_path / "jobs")
    yield r
    p = r._process()  # never leave a worker behind
    if p is not None and r.alive():
        p.kill()
    if r._proc is not None:
        r._proc.wait(timeout=10)


def _wait(runner: JobRunner, xl: OpenpyxlApp, until, limit: float = 120.0) -> str:
    """Poll like the VBA timer does until ``until(state)``; the limit only guards against a hang."""
    deadline = time.monotonic() + limit
    while True:
        state = runner.poll(xl)
        if until(state):
            return state
        assert time.monotonic() < deadline, f"still {state}: {runner.files.read_status()}"
        time.sleep(0.1)


def _progress_seen(xl: OpenpyxlApp) -> bool:
    return any(s and PROGRESS.match(s) and int(PROGRESS.match(s).group(2).replace(",", "")) > 0 for s in xl.statuses)


# ----------------------------------------------------------------------------- pure parts
def test_progress_text():
    assert jobs.progress_text(420_000, 1_000_000) == "xl-var MC 42% · 420,000 scenarios"
    assert jobs.progress_text(0, 0) == "xl-var MC 0% · 0 scenarios"


def test_settings_from_table():
    assert MCSettings.from_table(None) == MCSettings()
    assert MCSettings.from_table(MCSettings().table()) == MCSettings()
    s = MCSettings.from_table([["Setting", "Value"], ["Scenarios", 2e5], ["model", "Gaussian"],
                               ["confidence", "99%; 97.5%"], [None, None], ["horizon", 10], ["seed", 7]])
    assert s == MCSettings(scenarios=200_000, model="normal", confidence=(0.975, 0.99), horizon=10, seed=7)
    assert MCSettings.from_table([["confidence", 0.999]]).confidence == (0.999,)
    with pytest.raises(jobs.ExcelError, match=r"^#NUM! confidence .*did you mean 0.99"):
        MCSettings.from_table([["confidence", 99]])
    with pytest.raises(jobs.ExcelError, match=r"^#VALUE! XLVAR_SETTINGS row 2: unknown setting 'paths'"):
        MCSettings.from_table([["scenarios", 10], ["paths", 3]])
    with pytest.raises(jobs.ExcelError, match=r"^#VALUE! model must be one of"):
        MCSettings.from_table([["model", "garch"]])
    with pytest.raises(jobs.ExcelError, match=r"^#NUM! scenarios"):
        MCSettings.from_table([["scenarios", 0.5]])
    assert MCSettings.from_table([["seed", 0]]).seed == 0
    assert MCSettings.from_table([["revaluation", "Delta-Gamma"]]).revaluation == "delta-gamma"
    assert MCSettings.from_table([["Revaluation", "linear"]]).revaluation == "delta"
    assert MCSettings.from_table([["revaluation", None]]).revaluation == "full"
    with pytest.raises(jobs.ExcelError, match=r"^#VALUE! revaluation must be one of 'full', 'delta'"):
        MCSettings.from_table([["revaluation", "gamma"]])
    for seed in (-1, 2.5):
        with pytest.raises(jobs.ExcelError, match=r"^#NUM! seed must be a whole number, 0 or more"):
            MCSettings.from_table([["seed", seed]])


def test_inputs_hash_changes_with_any_input():
    r, w = RETURNS.to_numpy(), WEIGHTS.to_numpy()
    a = inputs_hash(r, w, tuple(RETURNS.columns), MCSettings())
    assert re.fullmatch(r"[0-9a-f]{16}", a)
    assert a == inputs_hash(r.copy(), w.copy(), tuple(RETURNS.columns), MCSettings())
    r2 = r.copy()
    r2[5, 3] += 1e-12
    assert inputs_hash(r2, w, tuple(RETURNS.columns), MCSettings()) != a
    assert inputs_hash(r, w, tuple(RETURNS.columns), MCSettings(seed=1)) != a
    assert inputs_hash(r, w[::-1], tuple(RETURNS.columns), MCSettings()) != a


def test_settings_button_creates_then_shows(tmp_path):
    xl = OpenpyxlApp({"b.xlsx": _book(50)}, "b.xlsx")
    jobs.show_settings(xl)
    wb = xl.books["b.xlsx"]
    assert wb.active.title == jobs.SETTINGS_SHEET
    assert MCSettings.from_table(xl.read_named("b.xlsx", jobs.SETTINGS_NAME)) == MCSettings()
    wb[jobs.SETTINGS_SHEET]["B2"] = 5000  # the analyst's edit survives the next click
    wb.active = wb["Portfolio data"]
    jobs.show_settings(xl)
    assert wb.active.title == jobs.SETTINGS_SHEET
    assert MCSettings.from_table(xl.read_named("b.xlsx", jobs.SETTINGS_NAME)).scenarios == 5000


@pytest.mark.parametrize("change, expected", [
    (lambda wb: wb.defined_names.pop("XLVAR_RETURNS"), "#N/A b.xlsx has no range named XLVAR_RETURNS"),
    (lambda wb: wb.defined_names.__setitem__("XLVAR_WEIGHTS", DefinedName(
        "XLVAR_WEIGHTS", attr_text="'Portfolio data'!$J$2:$J$6")),
     "#VALUE! XLVAR_WEIGHTS has 5 entries but returns has 6"),
    (lambda wb: wb["Portfolio data"].cell(13, 4, "#N/A"), "#VALUE! XLVAR_RETURNS row 13, column 4 is #N/A"),
    (lambda wb: _settings(wb, confidence=5), "#NUM! confidence must be between 0 and 1"),
])
def test_bad_inputs_start_nothing_and_say_why(runner, change, expected):
    wb = _book(60)
    change(wb)
    xl = OpenpyxlApp({"b.xlsx": wb}, "b.xlsx")
    assert runner.start(xl) == "invalid"
    assert len(xl.alerts) == 1 and xl.alerts[0].startswith("xl-var MC did not start: " + expected)
    assert runner.files.read_status() == ("", "") and runner._proc is None


# ----------------------------------------------------------------------------- with the engine
def _direct(settings: MCSettings, n_rows: int = len(RETURNS)) -> xv.MCResult:
    # C order, as the worker gets the returns from the range (the engine's last bits depend on memory order).
    returns = np.ascontiguousarray(RETURNS.to_numpy()[:n_rows])
    return xv.monte_carlo(returns, WEIGHTS.to_numpy(), scenarios=settings.scenarios,
                          model=settings.model, confidence=settings.confidence, horizon=settings.horizon,
                          seed=settings.seed)


def test_result_sheet_layout():
    s = MCSettings(scenarios=40_000, model="normal", confidence=(0.95, 0.99), seed=3)
    res = _direct(s)
    job = {"book": "b.xlsx", "settings": {"horizon": 1}, "assets": list(RETURNS.columns),
           "inputs_hash": "0123456789abcdef", "started": "2026-01-01 10:00:00"}
    out = result_sheet(job, res, WEIGHTS.to_numpy(), "2026-01-01 10:00:05")
    rows = out["rows"]
    assert len({len(r) for r in rows}) == 1  # rectangular: one batch
    flat = [v for r in rows for v in r]
    assert not any(isinstance(v, float) and not np.isfinite(v) for v in flat)
    i = [r[0] for r in rows].index("Confidence")
    assert [r[0] for r in rows[i + 1:i + 3]] == [0.95, 0.99]
    assert rows[i + 2][1] == pytest.approx(res.var[1]) and rows[i + 2][5] == pytest.approx(res.es[1])
    assert rows[i + 2][2] <= rows[i + 2][1] <= rows[i + 2][3]
    keys = {r[0]: r[1] for r in rows if isinstance(r[0], str)}
    assert keys["Model"] == "normal" and keys["Scenarios"] == 40_000 and keys["Seed"] == 3
    assert keys["Inputs hash"] == "0123456789abcdef" and keys["Finished"] == "2026-01-01 10:00:05"
    assert "numpy" in keys["Versions"] and xv.__version__ in keys["Versions"]
    a = [r[0] for r in rows].index("Asset")
    comp = rows[a + 1:a + 7]
    assert [r[0] for r in comp] == list(RETURNS.columns) and rows[a + 7][0] == "Total"
    assert sum(r[3] for r in comp) == pytest.approx(res.es[1], rel=1e-9)
    assert sum(r[2] for r in comp) == pytest.approx(res.var[1], rel=1e-9)
    assert sum(r[4] for r in comp) == pytest.approx(1.0)
    # Histogram table = the chart's data; the VaR and ES marks sit in the bins that hold them.
    c0, r0, c1, r1 = range_boundaries(out["chart"]["data"])
    hist = [r[c0 - 1:c1] for r in rows[r0 - 1:r1]]
    assert hist[0] == ["Loss (bin centre)", "Scenarios", "VaR 99%", "ES 99%"]
    centres = np.array([h[0] for h in hist[1:]])
    width = np.diff(centres).mean()
    for col, value in ((2, res.var[1]), (3, res.es[1])):
        marked = [h[0] for h in hist[1:] if h[col] is not None]
        assert len(marked) == 1 and abs(marked[0] - value) <= width / 2 + 1e-12
    assert out["headline"] in out["chart"]["title"]


def _run_small(runner: JobRunner, xl: OpenpyxlApp, settings: MCSettings) -> str:
    _settings(xl.books[xl.active], **{k: v for k, v in vars(settings).items() if k != "confidence"},
              confidence=", ".join(map(str, settings.confidence)))
    assert runner.start(xl) == "starting"
    return _wait(runner, xl, lambda st: st not in jobs.ACTIVE)


def test_run_writes_results_the_engine_reproduces(runner, tmp_path):
    s = MCSettings(scenarios=200_000, model="t", confidence=(0.95, 0.99), seed=42)
    xl = OpenpyxlApp({"b.xlsx": _book()}, "b.xlsx")
    assert _run_small(runner, xl, s) == "done"
    assert xl.alerts == [] and runner.files.read_status()[0] == "idle"
    assert xl.statuses[0].startswith("xl-var MC starting · 200,000 scenarios")
    assert xl.statuses[-1].startswith("xl-var MC done: VaR 99%")
    ws = xl.books["b.xlsx"][jobs.RESULTS_SHEET]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    i = [r[0] for r in rows].index("Confidence")
    ref = _direct(s)  # same inputs, same seed, computed here: the worker must have used exactly these
    assert [rows[i + 1][1], rows[i + 2][1]] == list(map(float, ref.var))
    assert [rows[i + 1][5], rows[i + 2][5]] == list(map(float, ref.es))
    keys = {r[0]: r[1] for r in rows if isinstance(r[0], str)}
    assert keys["Inputs hash"] == inputs_hash(RETURNS.to_numpy(), WEIGHTS.to_numpy(), tuple(RETURNS.columns), s)
    assert keys["Workbook"] == "b.xlsx" and keys["Seed"] == 42
    # The chart survives a save: a column chart over the histogram with VaR and ES series.
    path = tmp_path / "b.xlsx"
    xl.books["b.xlsx"].save(path)
    saved = openpyxl.load_workbook(path)[jobs.RESULTS_SHEET]
    (chart,) = saved._charts

    def cells(ref: str) -> list[Any]:
        area = saved[ref.split("!")[1].replace("$", "")]
        return [c.value for row in (area if isinstance(area, tuple) else ((area,),)) for c in row]

    assert [cells(x.tx.strRef.f)[0] for x in chart.series] == ["Scenarios", "VaR 99%", "ES 99%"]
    counts, var_mark, es_mark = (cells(x.val.numRef.f) for x in chart.series)
    centres = cells(chart.series[0].cat.numRef.f)
    assert sum(counts) == s.scenarios and len(centres) == len(counts)
    half = (centres[1] - centres[0]) / 2
    for mark, value in ((var_mark, ref.var[1]), (es_mark, ref.es[1])):
        (hit,) = [c for c, m in zip(centres, mark, strict=True) if m is not None]
        assert abs(hit - value) <= half + 1e-12
    # A later poll finds nothing more to do.
    n = len(xl.statuses)
    assert runner.poll(xl) == "idle" and len(xl.statuses) == n


def test_progress_cancel_and_second_start(runner):
    xl = OpenpyxlApp({"b.xlsx": _book()}, "b.xlsx")
    _settings(xl.books["b.xlsx"], scenarios=2_000_000_000, model="normal", confidence=0.9999)
    assert runner.start(xl) == "starting"
    pid = runner.files.read_json(runner.files.worker)["pid"]
    _wait(runner, xl, lambda st: st == "running" and _progress_seen(xl))
    # A second Run while one is going says so and starts nothing.
    assert runner.start(xl) == "running"
    assert "already running" in xl.alerts[-1] and runner.files.read_json(runner.files.worker)["pid"] == pid
    assert runner.cancel(xl) == "cancelled"
    assert not runner.alive() and not (psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie")
    assert xl.statuses[-1].startswith("xl-var MC cancelled") and runner.files.read_status()[0] == "idle"
    assert jobs.RESULTS_SHEET not in xl.books["b.xlsx"].sheetnames
    assert runner.cancel(xl) == "idle" and xl.statuses[-1] == "xl-var MC: nothing to cancel"


def test_killed_worker_is_reported(runner):
    xl = OpenpyxlApp({"b.xlsx": _book()}, "b.xlsx")
    _settings(xl.books["b.xlsx"], scenarios=2_000_000_000, model="normal", confidence=0.9999)
    runner.start(xl)
    _wait(runner, xl, lambda st: st == "running")
    pid = runner.files.read_json(runner.files.worker)["pid"]
    psutil.Process(pid).kill()
    state = _wait(runner, xl, lambda st: st not in jobs.ACTIVE)
    assert state == "failed"
    assert len(xl.alerts) == 1 and f"worker process (pid {pid}) stopped without a result" in xl.alerts[0]
    assert xl.statuses[-1].startswith("xl-var MC failed") and runner.files.read_status()[0] == "idle"


def test_engine_error_in_worker_is_reported(runner, tmp_path):
    # A job whose weights hold a NaN (which the runner never writes) fails inside the engine.
    xl = OpenpyxlApp({"b.xlsx": _book(40)}, "b.xlsx")
    files = runner.files
    files.folder.mkdir(parents=True)
    s = MCSettings(scenarios=10_000)
    files.job.write_text(json.dumps({"book": "b.xlsx", "settings": vars(s), "assets": list(RETURNS.columns),
                                     "inputs_hash": "x", "started": dt.datetime.now().isoformat()}))
    with open(files.inputs, "wb") as fh:
        np.savez(fh, returns=RETURNS.to_numpy()[:40], weights=np.array([0.5, np.nan, 0.1, 0.1, 0.2, 0.1]))
    files.write_status("starting", "xl-var MC starting")
    assert worker_main([str(files.folder)]) == 1
    state, text = files.read_status()
    assert state == "failed" and text.startswith("xl-var MC failed: weights")
    assert runner.poll(xl) == "failed" and xl.alerts[0].startswith(text)


@pytest.mark.parametrize("job_text", [None, "{not json", '{"book": "b.xlsx"}'])
def test_missing_or_corrupt_job_file_fails_the_job(runner, job_text):
    # Anything wrong with job.json goes the "failed" path: the status never stays "starting".
    files = runner.files
    files.folder.mkdir(parents=True)
    if job_text is not None:
        files.job.write_text(job_text)
    files.write_status("starting", "xl-var MC starting")
    assert worker_main([str(files.folder)]) == 1
    state, text = files.read_status()
    assert state == "failed" and text.startswith("xl-var MC failed: ")
    assert runner.poll(OpenpyxlApp({"b.xlsx": _book(10)}, "b.xlsx")) == "failed"


def test_clear_removes_every_job_file(tmp_path):
    files = jobs.JobFiles(tmp_path)
    made = [files.job, files.inputs, files.worker, files.status, files.cancel, files.result, files.log]
    assert sorted(files.paths()) == sorted(made) and len({p.name for p in made}) == 7
    for p in made:
        p.write_text("x")
    (tmp_path / "keep.txt").write_text("x")
    files.clear()
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_finished_job_for_a_closed_book_says_so(runner):
    xl = OpenpyxlApp({"b.xlsx": _book(200)}, "b.xlsx")
    _settings(xl.books["b.xlsx"], scenarios=20_000, model="normal")
    runner.start(xl)
    deadline = time.monotonic() + 120  # wait on the file only: polling would deliver to b.xlsx
    while runner.files.read_status()[0] in jobs.ACTIVE:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    other = OpenpyxlApp({"c.xlsx": _book(10)}, "c.xlsx")  # b.xlsx was closed meanwhile
    assert runner.poll(other) == "done"
    assert "b.xlsx is no longer open" in other.alerts[0] and runner.files.read_status()[0] == "idle"


# ----------------------------------------------------------------------------- a book of derivatives
def _cells(path) -> list[list[Any]]:
    """A sample CSV as Excel hands a range over: numbers as floats, ISO dates as datetimes, blanks as None."""
    def read(v: str) -> Any:
        for parse in (float, dt.datetime.fromisoformat):
            try:
                return parse(v)
            except ValueError:
                pass
        return v or None
    return [[read(v) for v in row] for row in pd.read_csv(path, dtype=str, header=None, keep_default_na=False).values]


POSITIONS, MARKET, SURFACE = _cells(SAMPLE_POSITIONS), _cells(SAMPLE_MARKET), _cells(SAMPLE_SURFACE)
VALUATION = dt.datetime.fromisoformat(SAMPLE_VALUATION)


def _put(wb: openpyxl.Workbook, name: str, rows: list[list[Any]], col: int) -> None:
    """``rows`` from row 1, column ``col`` of the sheet Derivatives, named ``name``."""
    ws = wb["Derivatives"] if "Derivatives" in wb.sheetnames else wb.create_sheet("Derivatives")
    for i, row in enumerate(rows, start=1):
        for j, v in enumerate(row):
            ws.cell(i, col + j, v)
    ref = f"${get_column_letter(col)}$1:${get_column_letter(col + len(rows[0]) - 1)}${len(rows)}"
    wb.defined_names[name] = DefinedName(name, attr_text=f"'Derivatives'!{ref}")


def _derivatives(n_rows: int = len(RETURNS), positions: list[list[Any]] = POSITIONS,
                 valuation: bool = True, surface: bool = True) -> openpyxl.Workbook:
    """The sample workbook with the sample book beside it: positions, market, vol surface and valuation."""
    wb = _book(n_rows)
    _put(wb, jobs.POSITIONS_NAME, positions, 1)
    _put(wb, jobs.MARKET_NAME, MARKET, 5)
    if surface:
        _put(wb, jobs.SURFACE_NAME, SURFACE, 12)
    if valuation:
        _put(wb, jobs.VALUATION_NAME, [[VALUATION.replace(tzinfo=None)]], 20)  # Excel's naive datetime, UTC
    return wb


def _direct_book(settings: MCSettings) -> tuple[xv.Book, xv.MCResult]:
    book = read_book(POSITIONS, MARKET, VALUATION, SURFACE)
    return book, xv.monte_carlo(np.ascontiguousarray(RETURNS.to_numpy()), book, scenarios=settings.scenarios,
                                model=settings.model, confidence=settings.confidence, horizon=settings.horizon,
                                seed=settings.seed, assets=list(RETURNS.columns), revaluation=settings.revaluation)


def test_book_spec_rebuilds_the_book_exactly():
    book = read_book(POSITIONS, MARKET, VALUATION, SURFACE)  # option vols from the surface and the market
    spec = json.loads(json.dumps(book_spec(book)))
    again = book_from_spec(spec)
    assert [p.name for p in again.positions] == [p.name for p in book.positions]
    assert again.valuation == book.valuation and again.underlyings == book.underlyings
    for attr in ("quantity", "spot", "forward", "vol", "expiry_years", "basis", "is_option", "is_coin"):
        assert np.array_equal(getattr(again, attr), getattr(book, attr), equal_nan=True), attr
    moves = np.linspace(-0.3, 0.3, 7)[:, None] * np.ones(len(book.underlyings))
    assert np.array_equal(again.pnl(moves), book.pnl(moves))
    assert book_spec(again) == spec


def test_inputs_hash_includes_the_book():
    r, names, s = RETURNS.to_numpy(), tuple(RETURNS.columns), MCSettings()
    book = read_book(POSITIONS, MARKET, VALUATION, SURFACE)
    a = inputs_hash(r, book, names, s)
    assert a == inputs_hash(r, read_book(POSITIONS, MARKET, VALUATION, SURFACE), names, s)
    assert a != inputs_hash(r, read_book(POSITIONS, MARKET, VALUATION), names, s)  # other option vols
    assert a != inputs_hash(r, read_book(POSITIONS, MARKET, VALUATION + dt.timedelta(hours=1), SURFACE), names, s)
    more = [row if row[0] != "ETH" else ["ETH", 151.0] for row in POSITIONS]
    assert a != inputs_hash(r, read_book(more, MARKET, VALUATION, SURFACE), names, s)
    assert a != inputs_hash(r, book, names, MCSettings(revaluation="delta"))
    assert a != inputs_hash(r, WEIGHTS.to_numpy(), names, s)


def _result_rows(xl: OpenpyxlApp) -> list[list[Any]]:
    return [[c.value for c in r] for r in xl.books["b.xlsx"][jobs.RESULTS_SHEET].iter_rows()]


def test_book_job_revalues_every_position(runner):
    s = MCSettings(scenarios=20_000, model="t", confidence=(0.95, 0.99), seed=7)
    xl = OpenpyxlApp({"b.xlsx": _derivatives()}, "b.xlsx")
    assert _run_small(runner, xl, s) == "done"
    assert xl.alerts == [] and runner.files.read_status()[0] == "idle"
    assert xl.statuses[0].startswith("xl-var MC starting · 20,000 scenarios, model t, full revaluation of 18 positions")
    assert xl.statuses[-1].startswith("xl-var MC done: VaR 99%") and "(USD)" in xl.statuses[-1]
    rows = _result_rows(xl)
    assert "full revaluation of 18 positions, USD" in rows[0][0]
    i = [r[0] for r in rows].index("Confidence")
    assert rows[i][1] == "VaR (USD)" and rows[i][5] == "ES (USD)"
    book, ref = _direct_book(s)  # the engine on the same book and returns with the same seed
    assert [rows[i + 1][1], rows[i + 2][1]] == list(map(float, ref.var))
    assert [rows[i + 1][5], rows[i + 2][5]] == list(map(float, ref.es))
    keys = {r[0]: r[1] for r in rows if isinstance(r[0], str)}
    assert keys["Inputs hash"] == inputs_hash(RETURNS.to_numpy(), book, tuple(RETURNS.columns), s)
    assert keys["Revaluation"] == "full" and keys["Valuation"] == "2024-12-31 16:00:00 UTC"
    # One component row per position: instrument, quantity, component VaR and ES in USD.
    a = [r[0] for r in rows].index("Position")
    assert rows[a][:5] == ["Position", "Quantity", "Component VaR 99% (USD)", "Component ES 99% (USD)", "% of ES"]
    comp = rows[a + 1:a + 1 + book.size]
    assert [r[:2] for r in comp] == [[p.name, p.quantity] for p in book.positions]
    assert [r[2] for r in comp] == list(map(float, ref.component_var))
    assert [r[3] for r in comp] == list(map(float, ref.component_es))
    assert rows[a + 1 + book.size][0] == "Total" and rows[a + 1 + book.size][1] is None
    assert sum(r[3] for r in comp) == pytest.approx(ref.es[1], rel=1e-9)
    assert xl.books["b.xlsx"][jobs.RESULTS_SHEET]._charts  # the histogram chart, as for weights


def test_book_job_is_reproducible_from_the_seed(runner):
    s = MCSettings(scenarios=20_000, model="normal", confidence=(0.99,), seed=11, revaluation="delta-gamma")
    xl = OpenpyxlApp({"b.xlsx": _derivatives()}, "b.xlsx")
    numbers = []
    for _ in range(2):
        assert _run_small(runner, xl, s) == "done"
        rows = _result_rows(xl)
        i, a = [r[0] for r in rows].index("Confidence"), [r[0] for r in rows].index("Position")
        numbers.append((rows[i + 1], [r[:4] for r in rows[a + 1:a + 19]]))
    assert numbers[0] == numbers[1]
    assert numbers[0][0][1] == float(_direct_book(s)[1].var[0])
    assert {r[0]: r[1] for r in _result_rows(xl) if isinstance(r[0], str)}["Revaluation"] == "delta-gamma"


def test_book_job_cancels(runner):
    xl = OpenpyxlApp({"b.xlsx": _derivatives()}, "b.xlsx")
    _settings(xl.books["b.xlsx"], scenarios=2_000_000_000, model="normal", confidence=0.9999)
    assert runner.start(xl) == "starting"
    pid = runner.files.read_json(runner.files.worker)["pid"]
    _wait(runner, xl, lambda st: st == "running" and _progress_seen(xl))
    assert runner.cancel(xl) == "cancelled"
    assert not runner.alive() and not (psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie")
    assert xl.statuses[-1].startswith("xl-var MC cancelled") and runner.files.read_status()[0] == "idle"
    assert jobs.RESULTS_SHEET not in xl.books["b.xlsx"].sheetnames


def _rename_sol(wb: openpyxl.Workbook) -> None:
    ws = wb["Portfolio data"]
    col = next(c.column for c in ws[1] if c.value == "SOL")
    ws.cell(1, col, "SOLANA")


@pytest.mark.parametrize("make, expected", [
    (lambda: _derivatives(positions=[*POSITIONS[:3], ["BTC-FOO", 1.0], *POSITIONS[3:]]),
     "#VALUE! positions row 4: instrument 'BTC-FOO'"),
    (lambda: _derivatives(positions=[*POSITIONS, ["XRP", 5.0]]),
     "#VALUE! positions row 20 (XRP): spot has no price for XRP"),
    (lambda: _derivatives(surface=False, valuation=False),  # valued now: the 2025 expiries are past
     "#VALUE! positions row 9 (BTC-28MAR25) expired at 2025-03-28 08:00 UTC"),
    (lambda: (wb := _derivatives(), _rename_sol(wb))[0],
     "#VALUE! positions row 4 (SOL): returns have no column for SOL"),
    (lambda: (wb := _derivatives(), wb.defined_names.pop(jobs.MARKET_NAME))[0],
     "#N/A b.xlsx has no range named XLVAR_MARKET"),
    (lambda: (wb := _derivatives(), wb.defined_names.__setitem__("XLVAR_RETURNS", DefinedName(
        "XLVAR_RETURNS", attr_text="'Portfolio data'!$A$2:$G$100")))[0],
     "#VALUE! XLVAR_RETURNS needs a header row naming the underlyings (BTC, ETH, SOL) of XLVAR_POSITIONS"),
    (lambda: (wb := _derivatives(), _settings(wb, revaluation="gamma"))[0],
     "#VALUE! revaluation must be one of"),
])
def test_bad_book_starts_nothing_and_says_why_in_one_line(runner, make, expected):
    xl = OpenpyxlApp({"b.xlsx": make()}, "b.xlsx")
    assert runner.start(xl) == "invalid"
    assert len(xl.alerts) == 1 and xl.alerts[0].startswith("xl-var MC did not start: " + expected)
    assert "\n" not in xl.alerts[0]
    assert runner.files.read_status() == ("", "") and runner._proc is None
