"""Ribbon entry points (called by ``XlVarRibbon.bas`` through xlwings' RunPython) and the xlwings adapter.

Each button runs one function here in a short-lived Python process (or xlwings' UDF server)
while Excel waits, so each returns quickly: :func:`run` only starts the worker process.

=================  ==========================  ===========================================
button / timer     VBA Sub                     Python
=================  ==========================  ===========================================
Run Monte Carlo    ``RunMonteCarlo``           :func:`run` → :meth:`JobRunner.start`
Cancel             ``CancelMonteCarlo``        :func:`cancel` → :meth:`JobRunner.cancel`
Settings           ``ShowSettings``            :func:`settings` → :func:`show_settings`
Help               ``ShowHelp``                :func:`show_help`
OnTime poller      ``XlVarTick``               :func:`poll` → :meth:`JobRunner.poll`
=================  ==========================  ===========================================

COM: every call runs on the thread that opened COM for it (:func:`_excel` initialises COM on
that thread and releases it); no COM object is kept between calls or handed to another thread,
and the worker process never touches Excel. :class:`XlwingsApp` is the thin
:class:`~xl_var_udfs.jobs.ExcelApp` over xlwings; all logic lives in :mod:`xl_var_udfs.jobs`,
which is tested with a workbook stand-in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from xl_var_udfs.jobs import (
    MARKET_NAME,
    POSITIONS_NAME,
    RESULTS_SHEET,
    RETURNS_NAME,
    SETTINGS_NAME,
    SETTINGS_SHEET,
    SURFACE_NAME,
    VALUATION_NAME,
    WEIGHTS_NAME,
    ChartSpec,
    JobRunner,
    show_settings,
)

__all__ = ["HELP", "XlwingsApp", "cancel", "poll", "run", "settings", "show_help"]

HELP = f"""xl-var Monte Carlo

1. Name your returns range {RETURNS_NAME} (periods in rows, assets in columns; a header row of asset
   names and a first date column are detected) and your weights {WEIGHTS_NAME} (one per asset).
   For a book of derivatives instead: name its positions table {POSITIONS_NAME} (Instrument, Quantity)
   and its market table {MARKET_NAME} (Underlying, Spot, Vol...), optionally a valuation time
   {VALUATION_NAME} (default now, UTC) and a vol surface {SURFACE_NAME}; the returns' header must name
   the underlyings (BTC, ETH...).
2. Settings creates the sheet '{SETTINGS_SHEET}' (range {SETTINGS_NAME}): scenarios, model (normal, t,
   t-copula, bootstrap, fhs), confidence levels, horizon, seed and, for a book, revaluation (full,
   delta, delta-gamma). Without it the defaults are used.
3. Run Monte Carlo starts the simulation in the background; Excel stays usable and the status bar
   shows the progress. Cancel stops it.
4. The results go to the sheet '{RESULTS_SHEET}': VaR and ES per confidence with 95% intervals, the
   component table (one row per asset, or per position of a book) and the P&L histogram with VaR
   and ES marked.

VaR and ES are positive losses in units of returns × weights (in USD for a book). The same seed gives
the same numbers.
Functions such as =AGGVAR(returns, weights, 99%) work in any cell; see the README, "Using it in Excel"."""


class XlwingsApp:
    """:class:`~xl_var_udfs.jobs.ExcelApp` over xlwings, for the Excel instance that called."""

    def __init__(self, caller: Any) -> None:
        self.app = caller.app
        self.caller = caller.name

    def _book(self, book: str) -> Any:
        return self.app.books[book]

    def active_book(self) -> str:
        return str(self.caller)

    def has_book(self, book: str) -> bool:
        return book in [b.name for b in self.app.books]

    def read_named(self, book: str, name: str) -> list[list[Any]] | None:
        try:  # undefined, or pointing at a deleted sheet (#REF!)
            rng = self._book(book).names[name].refers_to_range
        except Exception:
            return None
        value: list[list[Any]] = rng.options(ndim=2, err_to_str=True).value
        return value

    def write_sheet(self, book: str, sheet: str, rows: Sequence[Sequence[Any]],
                    names: Mapping[str, str] | None = None) -> None:
        b = self._book(book)
        sheets = [s.name for s in b.sheets]
        sh = b.sheets[sheet] if sheet in sheets else b.sheets.add(sheet, after=b.sheets[len(sheets) - 1])
        for chart in list(sh.charts):
            chart.delete()
        sh.clear()
        sh["A1"].value = [list(r) for r in rows]  # one batch: a single COM call
        for name, ref in (names or {}).items():
            b.names.add(name, f"='{sheet}'!{sh[ref].get_address()}")
        sh.autofit("columns")

    def add_chart(self, book: str, sheet: str, chart: ChartSpec) -> None:
        sh = self._book(book).sheets[sheet]
        data = sh[chart.data]
        c = sh.charts.add(anchor=sh[chart.anchor], width=560, height=320, chart_type="column_clustered",
                          source=data[:, 1:], plot_by="columns")
        c.set_x_axis_values(data[1:, 0])
        c.title = chart.title
        c.category_axis.title = chart.x_title
        c.value_axis.title = chart.y_title

    def show_sheet(self, book: str, sheet: str) -> bool:
        b = self._book(book)
        if sheet not in [s.name for s in b.sheets]:
            return False
        b.sheets[sheet].activate()
        return True

    def set_status(self, text: str | None) -> None:
        self.app.status_bar = text if text is not None else False

    def alert(self, text: str) -> None:
        self.app.alert(text, title="xl-var")


@contextlib.contextmanager
def _excel() -> Iterator[XlwingsApp]:
    """COM opened on this thread for the call, the calling workbook wrapped, COM released after."""
    try:
        import pythoncom
    except ImportError:  # macOS: AppleScript, no COM
        pythoncom = None
    if pythoncom is not None:
        pythoncom.CoInitialize()
    try:
        import xlwings as xw

        yield XlwingsApp(xw.Book.caller())
    finally:
        if pythoncom is not None:
            pythoncom.CoUninitialize()


def run() -> None:
    """Run Monte Carlo: start the worker for the active workbook and return at once."""
    with _excel() as xl:
        JobRunner().start(xl)


def poll() -> None:
    """The OnTime poller: show progress, or write the results / report a failure once."""
    with _excel() as xl:
        JobRunner().poll(xl)


def cancel() -> None:
    """Cancel: stop the running job within a second."""
    with _excel() as xl:
        JobRunner().cancel(xl)


def settings() -> None:
    """Settings: create or show the sheet ``xl-var settings``."""
    with _excel() as xl:
        show_settings(xl)


def show_help() -> None:
    """Help: how to set up a workbook for the Monte Carlo button."""
    with _excel() as xl:
        xl.alert(HELP)
