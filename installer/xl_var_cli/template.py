"""Report templates: named ranges mark where the inputs go and where the charted results are.

A template is an ordinary workbook. Its defined names say where things are:

* inputs, filled by the report: ``Returns`` (top-left cell of the returns table: a
  ``Date`` column and one column per asset under a header row), ``Weights`` (top-left
  cell of a column of weights, one per asset: fractions or currency amounts, as given)
  and optionally ``Assets`` (top-left cell of a column for the asset names), ``PnL``
  (top-left cell of a column for the portfolio's P&L per period, as a fraction of the
  portfolio value, which a ``VARBACKTEST`` can test), ``PortfolioValue`` (the value the
  fractions are of: ``--value``, or the gross sum of the amounts), ``WeightUnit`` (1 for
  fractions, the portfolio value for amounts: dividing by it gives fractions) and
  ``WeightNote`` (a cell for the sentence saying which the weights are);
* results the charts use, all cells holding xl-var formulas: ``ComponentVaR`` or
  ``ComponentTable`` (a ``COMPONENTVAR`` table), ``CorrNormal`` and ``CorrStressed`` (``CORRMATRIX`` and
  ``STRESSCORR`` matrices), ``HistVaR`` and ``HistES`` (the historical VaR and ES marked
  on the P&L distribution); optionally ``Confidence`` (its cell labels the chart's VaR
  and ES), ``Summary`` (a table of method, VaR, ES rows that
  ``xl-var demo`` prints) and ``ComponentChart``/``PnLChart`` (cells where the charts go;
  by default they sit to the right of the component table);
* optional places that are only documented: ``AsOf``/``FirstDate`` (the last and first
  return dates) and ``Backtest`` (a ``VARBACKTEST`` table);
* a derivatives book (:data:`BOOK_NAMES`, filled by :func:`fill_book` when the report is given
  positions and market files): ``Positions``, ``Market`` and ``Surface`` (top-left cells of the
  tables as in the files: Instrument, Quantity...; Underlying, Spot...; the vol surface) and
  ``Valuation`` (a cell for the valuation time, UTC); and the results shown on its page
  (:data:`DERIVATIVE_NAMES`): ``GreeksTable`` (a ``BOOKGREEKS`` table), ``BookVaR`` (the book's
  VaR by full revaluation), ``MarginDeribit`` and ``MarginSpan`` (``PORTMARGIN`` cells),
  ``MarginScenarios`` (a ``MARGINGRID`` table), ``MarginHeatMap`` (its price move × vol shock
  block), ``StressLosses`` (a ``STRESSTEST`` table, charted as bars) and ``StressChart`` (where
  that chart goes; default: right of the table). A report without a book leaves out the
  sheets these names are on (:func:`drop_book`), unless a portfolio name is on them too.

Cells of the template formatted ``#,##0`` show money: the report gives them the weights'
currency when the weights are amounts.

Each input name is redefined to the size of the data written there; the range it covered
in the template (sample data) is cleared first. Text from the data files (asset names,
dates) is always written as text, never as a formula.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl.utils.cell import get_column_letter, quote_sheetname, range_boundaries
from openpyxl.workbook import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from xl_var_cli.errors import CliError

__all__ = ["ALIASES", "BOOK_NAMES", "DERIVATIVE_NAMES", "INPUT_NAMES", "OPTIONAL_NAMES", "REQUIRED_NAMES", "Place",
           "drop_book", "fill_book", "fill_inputs", "find", "write_text"]

INPUT_NAMES = ("Returns", "Weights")
REQUIRED_NAMES = (*INPUT_NAMES, "ComponentVaR", "CorrNormal", "CorrStressed", "HistVaR", "HistES")
ALIASES = {"ComponentVaR": ("ComponentTable",)}
"""Other names a template may give a place. LibreOffice reads a name spelled like a function
(``ComponentVaR``) inside that function's call as the range (``Err:509``): the bundled
template names the component table ``ComponentTable``."""
BOOK_NAMES = ("Positions", "Market", "Surface", "Valuation")
DERIVATIVE_NAMES = ("GreeksTable", "BookVaR", "MarginDeribit", "MarginSpan", "MarginScenarios", "MarginHeatMap",
                    "StressLosses", "StressChart")
"""Not ``BookGreeks``, ``MarginGrid`` or ``StressTest``: a name spelled like a function breaks that function's
calls in LibreOffice (see :data:`ALIASES`)."""
OPTIONAL_NAMES = ("Assets", "PnL", "PortfolioValue", "WeightUnit", "WeightNote", "Confidence", "Horizon", "Summary",
                  "ComponentChart", "PnLChart", "AsOf", "FirstDate", "Backtest", *BOOK_NAMES, *DERIVATIVE_NAMES)


@dataclass(frozen=True)
class Place:
    """Where a defined name points: a worksheet and a range on it (``"A1:G783"``)."""

    sheet: str
    ref: str

    @property
    def top_left(self) -> tuple[int, int]:
        """(row, column) of the first cell."""
        min_col, min_row, _, _ = range_boundaries(self.ref)
        return min_row, min_col

    @property
    def anchor(self) -> str:
        """The first cell, ``"B4"``."""
        row, col = self.top_left
        return f"{get_column_letter(col)}{row}"


def find(wb: Workbook, template: Path) -> dict[str, Place]:
    """The places of the template's names; a missing or malformed required name is an error."""
    by_upper = {name.upper(): dn for name, dn in wb.defined_names.items()}
    for ws in wb.worksheets:
        for name, dn in ws.defined_names.items():
            by_upper.setdefault(name.upper(), dn)
    places = {}
    for name in (*REQUIRED_NAMES, *OPTIONAL_NAMES):
        dn = next((by_upper[n.upper()] for n in (*ALIASES.get(name, ()), name) if n.upper() in by_upper), None)
        if dn is None:
            if name in REQUIRED_NAMES:
                raise CliError(f"{template}: the template has no named range {name!r} "
                               f"(a report template defines {', '.join(REQUIRED_NAMES)})")
            continue
        places[name] = _place(wb, dn, name, template)
    return places


def _place(wb: Workbook, dn: DefinedName, name: str, template: Path) -> Place:
    try:
        destinations = list(dn.destinations)
    except Exception:  # openpyxl raises on names that are formulas or constants, not ranges
        destinations = []
    if len(destinations) != 1 or destinations[0][0] not in wb.sheetnames:
        raise CliError(f"{template}: named range {name!r} must point to one range on one sheet "
                       f"(it is {dn.attr_text!r})")
    sheet, ref = destinations[0]
    return Place(sheet, ref.replace("$", ""))


def write_text(ws: Worksheet, row: int, col: int, text: str) -> None:
    """Put ``text`` in a cell as text, even when it starts with ``=``, ``+``, ``-`` or ``@``."""
    cell = ws.cell(row=row, column=col)
    cell.value = text
    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    if text[:1] in ("=", "+", "-", "@"):
        cell.quotePrefix = True  # and Excel keeps it text when the cell is edited


def _clear(ws: Worksheet, ref: str) -> None:
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    for row in range(min_row, max_row + 1):
        for col in range(min_col, max_col + 1):
            if (row, col) in ws._cells:  # openpyxl's cell store: don't create empty cells
                ws.cell(row=row, column=col).value = None


def _claim(ws: Worksheet, place: Place, name: str, rows: int, cols: int, template: Path) -> str:
    """The range the data will fill; it must not overwrite template content outside the old range."""
    row0, col0 = place.top_left
    ref = f"{get_column_letter(col0)}{row0}:{get_column_letter(col0 + cols - 1)}{row0 + rows - 1}"
    old = range_boundaries(place.ref)
    for (row, col), cell in sorted(ws._cells.items()):
        inside_new = row0 <= row < row0 + rows and col0 <= col < col0 + cols
        inside_old = old[1] <= row <= old[3] and old[0] <= col <= old[2]
        if inside_new and not inside_old and cell.value is not None:
            raise CliError(f"{template}: the {name} data need {place.sheet}!{ref}, which would overwrite "
                           f"{place.sheet}!{cell.coordinate}; move that cell or the {name} range")
    return ref


def _set_name(wb: Workbook, name: str, sheet: str, ref: str) -> None:
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    absolute = f"${get_column_letter(min_col)}${min_row}:${get_column_letter(max_col)}${max_row}"
    for ws in wb.worksheets:  # a sheet-scoped name of the same name would shadow the new one
        for key in [k for k in ws.defined_names if k.upper() == name.upper()]:
            del ws.defined_names[key]
    for key in [k for k in wb.defined_names if k.upper() == name.upper()]:
        del wb.defined_names[key]
    wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(sheet)}!{absolute}")


def _date_cell(label: str) -> Any:
    try:
        return dt.datetime.fromisoformat(label)
    except ValueError:
        return None


def fill_inputs(wb: Workbook, places: dict[str, Place], template: Path, values: np.ndarray,
                assets: Sequence[str], dates: Sequence[str], weights: np.ndarray, pnl: np.ndarray) -> None:
    """Write returns, weights, P&L (and asset names) at the template's named places and resize the names."""
    t, n = values.shape
    plan = [("Returns", t + 1, n + 1), ("Weights", n, 1)] + [
        (name, rows, 1) for name, rows in (("Assets", n), ("PnL", t)) if name in places]
    refs = {}
    for name, rows, cols in plan:
        place = places[name]
        ws = wb[place.sheet]
        refs[name] = _claim(ws, place, name, rows, cols, template)
    for name, _, _ in plan:
        _clear(wb[places[name].sheet], places[name].ref)
    ws = wb[places["Returns"].sheet]
    row0, col0 = places["Returns"].top_left
    write_text(ws, row0, col0, "Date")
    for j, asset in enumerate(assets):
        write_text(ws, row0, col0 + 1 + j, asset)
    for i, (label, row) in enumerate(zip(dates, values, strict=True)):
        date = _date_cell(label)
        if date is None:
            write_text(ws, row0 + 1 + i, col0, label)
        else:
            cell = ws.cell(row=row0 + 1 + i, column=col0, value=date)
            cell.number_format = "yyyy-mm-dd"
        for j, x in enumerate(row):
            ws.cell(row=row0 + 1 + i, column=col0 + 1 + j, value=float(x))
    ws = wb[places["Weights"].sheet]
    row0, col0 = places["Weights"].top_left
    for i, w in enumerate(weights):
        ws.cell(row=row0 + i, column=col0, value=float(w))
    if "Assets" in places:
        ws = wb[places["Assets"].sheet]
        row0, col0 = places["Assets"].top_left
        for i, asset in enumerate(assets):
            write_text(ws, row0 + i, col0, asset)
    if "PnL" in places:
        ws = wb[places["PnL"].sheet]
        row0, col0 = places["PnL"].top_left
        for i, x in enumerate(pnl):
            ws.cell(row=row0 + i, column=col0, value=float(x)).number_format = "0.00%"
    for name, ref in refs.items():
        _set_name(wb, name, places[name].sheet, ref)
        places[name] = Place(places[name].sheet, ref)


def _write_cell(ws: Worksheet, row: int, col: int, value: Any) -> None:
    """A cell of a data file: text as text (an ISO date as a date), numbers and dates as they are."""
    if isinstance(value, str):
        date = _date_cell(value)
        if date is None:
            write_text(ws, row, col, value)
            return
        value = date
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd" if value.time() == dt.time() else "yyyy-mm-dd hh:mm"


def fill_book(wb: Workbook, places: dict[str, Place], template: Path, tables: dict[str, list[list[Any]]],
              valuation: dt.datetime) -> None:
    """Write the book's tables (``tables``: ``Positions``, ``Market`` and optionally ``Surface``, each the
    file's rows with its header) and the valuation time (UTC) at the template's places; resize the names.
    Without a surface the ``Surface`` name is one blank cell (the functions then use the market's vols)."""
    missing = [n for n in BOOK_NAMES if n not in places]
    if missing:
        raise CliError(f"{template}: the template has no named range {missing[0]!r}, which a report of a derivatives "
                       f"book needs (it defines {', '.join(BOOK_NAMES)})")
    plan = [(name, tables.get(name) or [[None]]) for name in BOOK_NAMES[:3]]
    refs = {name: _claim(wb[places[name].sheet], places[name], name, len(rows), max(map(len, rows)), template)
            for name, rows in plan}
    for name, rows in plan:
        ws = wb[places[name].sheet]
        _clear(ws, places[name].ref)
        row0, col0 = places[name].top_left
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                _write_cell(ws, row0 + i, col0 + j, value)
    for name, ref in refs.items():
        _set_name(wb, name, places[name].sheet, ref)
        places[name] = Place(places[name].sheet, ref)
    cell = wb[places["Valuation"].sheet][places["Valuation"].anchor]
    cell.value = valuation.astimezone(dt.UTC).replace(tzinfo=None)
    cell.number_format = "yyyy-mm-dd hh:mm"


def drop_book(wb: Workbook, places: dict[str, Place]) -> tuple[str, ...]:
    """Leave out the sheets of the derivatives names (but not one holding a portfolio name), with every
    defined name that points to them; forget those places. Returns the sheets left out."""
    book = {places[n].sheet for n in (*BOOK_NAMES, *DERIVATIVE_NAMES) if n in places}
    kept = {p.sheet for n, p in places.items() if n not in (*BOOK_NAMES, *DERIVATIVE_NAMES)}
    gone = tuple(s for s in wb.sheetnames if s in book - kept)
    for sheet in gone:
        del wb[sheet]
    for key, dn in list(wb.defined_names.items()):
        try:
            on = {s for s, _ in dn.destinations}
        except Exception:  # openpyxl raises on names that are formulas or constants, not ranges
            continue
        if on & set(gone):
            del wb.defined_names[key]
    for name in [n for n, p in places.items() if p.sheet in gone]:
        del places[name]
    return gone
