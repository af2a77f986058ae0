"""The report's charts (openpyxl): component VaR by asset, the P&L distribution with VaR and ES
marked, the correlation matrices normal vs stressed as conditional-format heat maps, and for a
derivatives book the stress-test losses as bars and the margin grid as a heat map.

The P&L distribution's data go on a sheet of their own (:data:`CHART_SHEET`): a histogram
of the portfolio's one-period returns computed here, and the VaR/ES marker lines as
formulas (``=-HistVaR``) so they show the template's own (recalculated) numbers.

The margin heat map (:func:`margin_heat_map`) is cells, not a chart: the book's P&L per price
move (rows) and vol shock (columns) of a margin model's regular grid, as ``SUMIFS`` over the
columns of a ``MARGINGRID`` table (summing the underlyings), coloured by a conditional format.
The bundled template and the demo workbook write it when they are built, so the formulas are
calculated with the rest; Excel and LibreOffice recalculate them like any formula.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font
from openpyxl.utils.cell import get_column_letter, quote_sheetname, range_boundaries
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xl_var_cli.template import Place, write_text
from xl_var_cli.workbook.cells import Key

__all__ = ["CHART_SHEET", "GREEKS_FORMATS", "GRID_ROWS", "add_charts", "add_pnl_data", "add_stress_chart", "histogram",
           "margin_axes", "margin_heat_map", "revaluation_rows"]

CHART_SHEET = "Chart data"
_BINS = 40
_COLORS = {"pnl": "4472C4", "var": "C00000", "es": "7030A0", "bar": "ED7D31", "loss": "C00000"}
GREEKS_FORMATS = ("#,##0", "#,##0.00", "#,##0", "#,##0.00", "0.00E+00", "#,##0", "#,##0", "#,##0")
"""Number formats of a BOOKGREEKS table's columns after the label: Value, Delta, Delta USD, Delta (coin),
Gamma, Gamma USD, Vega, Theta (USD amounts without a currency sign: they are USD whatever the weights)."""
GRID_ROWS = 1000
"""Rows of a ``MARGINGRID`` table the heat map's ``SUMIFS`` read (the grid has about 35 per underlying)."""
_GRID_COLUMNS = {"move": 2, "shock": 3, "pnl": 4}  # MARGINGRID: Underlying, Scenario, Price move, Vol shock, P&L


def histogram(pnl: np.ndarray, bins: int = _BINS) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges and counts of the P&L (``numpy.histogram`` with equal-width bins)."""
    counts, edges = np.histogram(pnl, bins=bins)
    return edges, counts


def add_pnl_data(wb: Workbook, pnl: np.ndarray) -> dict[str, str]:
    """Write the P&L histogram (as a step outline) and the VaR/ES marker lines; return their ranges."""
    if CHART_SHEET in wb.sheetnames:
        del wb[CHART_SHEET]
    ws = wb.create_sheet(CHART_SHEET)
    edges, counts = histogram(pnl)
    ws["A1"], ws["B1"] = "P&L (fraction of value)", "Periods"
    row = 2
    for left, right, count in zip(edges[:-1], edges[1:], counts, strict=True):
        for x in (left, right):
            ws.cell(row=row, column=1, value=float(x))
            ws.cell(row=row, column=2, value=int(count))
            row += 1
    top = int(counts.max())
    ws["D1"], ws["E1"], ws["F1"], ws["G1"] = "VaR at", "Days", "ES at", "Days"
    for r, height in ((2, 0), (3, top)):
        ws.cell(row=r, column=4, value="=-HistVaR")
        ws.cell(row=r, column=5, value=height)
        ws.cell(row=r, column=6, value="=-HistES")
        ws.cell(row=r, column=7, value=height)
    for col in "ADF":
        for r in range(2, row):
            ws[f"{col}{r}"].number_format = "0.0%"
    return {"x": f"A2:A{row - 1}", "y": f"B2:B{row - 1}", "var_x": "D2:D3", "var_y": "E2:E3",
            "es_x": "F2:F3", "es_y": "G2:G3"}


def _ref(ws: Worksheet, a1: str) -> Reference:
    min_col, min_row, max_col, max_row = range_boundaries(a1)
    return Reference(ws, min_col=min_col, min_row=min_row, max_col=max_col, max_row=max_row)


def _line(ws: Worksheet, x: str, y: str, title: str, color: str, width: int) -> Series:
    s = Series(_ref(ws, y), _ref(ws, x), title=title)
    s.marker.symbol = "none"
    s.smooth = False
    s.graphicalProperties = GraphicalProperties()
    s.graphicalProperties.line.solidFill = color
    s.graphicalProperties.line.width = width
    return s


def pnl_chart(wb: Workbook, data: Mapping[str, str], confidence_label: str) -> ScatterChart:
    """The P&L distribution with the historical VaR and ES as vertical lines."""
    ws = wb[CHART_SHEET]
    chart = ScatterChart()
    chart.title = "P&L per period"
    chart.style = 13
    chart.x_axis.title = "P&L (% of portfolio value)"
    chart.y_axis.title = "Periods"
    chart.x_axis.number_format = "0%"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.crosses = "min"  # the count axis at the left edge, not through P&L = 0
    chart.series.append(_line(ws, data["x"], data["y"], "P&L", _COLORS["pnl"], 19050))
    chart.series.append(_line(ws, data["var_x"], data["var_y"], f"VaR {confidence_label}", _COLORS["var"], 28575))
    chart.series.append(_line(ws, data["es_x"], data["es_y"], f"ES {confidence_label}", _COLORS["es"], 28575))
    chart.legend.position = "b"
    chart.width, chart.height = 17, 8
    return chart


def _bar_chart(ws: Worksheet, labels: Reference, data: Reference, title: str, axis: str, number_format: str,
               color: str) -> BarChart:
    """Horizontal bars, first row on top, labels at the left edge clear of negative bars."""
    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = title
    chart.y_axis.title = axis
    chart.y_axis.number_format = number_format
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.add_data(data, titles_from_data=False)
    chart.set_categories(labels)
    chart.series[0].graphicalProperties.solidFill = color
    chart.legend = None
    chart.x_axis.tickLblPos = "low"  # labels at the left edge, clear of negative bars
    chart.x_axis.scaling.orientation = "maxMin"  # the first row on top, as in the table
    chart.y_axis.crosses = "max"  # and the value axis still at the bottom
    chart.width, chart.height = 17, 8
    return chart


def component_chart(ws: Worksheet, table: str, component_col: int, number_format: str) -> BarChart:
    """Bars of each asset's component VaR, from the COMPONENTVAR table's asset rows, top to bottom in the
    table's order; ``number_format`` labels the value axis (a percentage, or money)."""
    min_col, min_row, _, max_row = range_boundaries(table)
    data = Reference(ws, min_col=component_col, min_row=min_row + 1, max_row=max_row - 1)
    cats = Reference(ws, min_col=min_col, min_row=min_row + 1, max_row=max_row - 1)
    return _bar_chart(ws, cats, data, "Component VaR by asset", "Component VaR", number_format, _COLORS["bar"])


def stress_chart(ws: Worksheet, table: str, number_format: str) -> BarChart:
    """Bars of each scenario's P&L, from a STRESSTEST table (Scenario, P&L, ... under a header row)."""
    min_col, min_row, _, max_row = range_boundaries(table)
    data = Reference(ws, min_col=min_col + 1, min_row=min_row + 1, max_row=max_row)
    cats = Reference(ws, min_col=min_col, min_row=min_row + 1, max_row=max_row)
    chart = _bar_chart(ws, cats, data, "Stress-test P&L of the book", "P&L (USD)", number_format, _COLORS["loss"])
    chart.width, chart.height = 15, 6.2
    return chart


def revaluation_rows(methods: Sequence[str] = ("historical", "normal")) -> tuple[tuple[str, str], ...]:
    """(revaluation, method) rows of a book's VaR table: every revaluation of the engine's registry for each
    of ``methods``, but full revaluation only for scenario methods (a moment method has no scenarios)."""
    from xl_var.methods import REGISTRY, REVALUATIONS

    return tuple((how, m) for m in methods for how in REVALUATIONS if how != "full" or REGISTRY[m].scenarios)


def margin_axes(model: str) -> tuple[list[float], list[float]]:
    """Price moves and vol shocks of ``model``'s regular scenario grid (extended moves left out), ascending,
    as the engine's :func:`xl_var.portfolio_margin` lays them out (with its default parameters), rounded to
    12 decimals (-0.05, not -0.049999999999999996: a cell stores the short form)."""
    import xl_var as xv

    one = xv.Book([("BTC", 1.0)], {"BTC": 1.0}, valuation=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    regular = [s for s in xv.portfolio_margin(one, model=model).scenarios if not s.extended]
    return sorted({round(s.price_move, 12) for s in regular}), sorted({round(s.vol_shock, 12) for s in regular})


def _near(values: str, target: str) -> str:
    """SUMIFS criteria: ``values`` within 1e-9 of ``target`` (the grid's moves carry binary rounding noise)."""
    return f'{values},">="&({target}-1E-9),{values},"<="&({target}+1E-9)'


def margin_heat_map(ws: Worksheet, top: int, left: int, grid_sheet: str, grid_anchor: str, model: str,
                    money: str) -> str:
    """Write the book's P&L per price move × vol shock at (``top``, ``left``): the moves down the first
    column, the shocks across the first row, each cell ``SUMIFS`` of the P&L of the ``MARGINGRID`` table
    anchored at ``grid_sheet!grid_anchor`` over the scenarios with that move and shock (all underlyings);
    coloured from red (the worst loss) through white (0) to green. Returns the range of the numbers."""
    moves, shocks = margin_axes(model)
    min_col, min_row, _, _ = range_boundaries(grid_anchor)
    sheet = quote_sheetname(grid_sheet)

    def column(key: str) -> str:
        letter = get_column_letter(min_col + _GRID_COLUMNS[key])
        return f"{sheet}!${letter}${min_row + 1}:${letter}${min_row + GRID_ROWS}"

    ws.cell(row=top, column=left, value="Move / vol").font = Font(bold=True)
    for j, shock in enumerate(shocks, start=1):
        cell = ws.cell(row=top, column=left + j, value=shock)
        cell.number_format, cell.font = "+0%;-0%;0%", Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    label = get_column_letter(left)
    for i, move in enumerate(moves, start=1):
        row = top + i
        cell = ws.cell(row=row, column=left, value=move)
        cell.number_format, cell.font = "+0%;-0%;0%", Font(bold=True)
        for j in range(1, len(shocks) + 1):
            head = f"{get_column_letter(left + j)}${top}"
            ws.cell(row=row, column=left + j,
                    value=f"=SUMIFS({column('pnl')},{_near(column('move'), f'${label}{row}')},"
                          f"{_near(column('shock'), head)})").number_format = money
    numbers = f"{get_column_letter(left + 1)}{top + 1}:{get_column_letter(left + len(shocks))}{top + len(moves)}"
    ws.conditional_formatting.add(numbers, ColorScaleRule(
        start_type="min", start_color="F8696B", mid_type="num", mid_value=0, mid_color="FFFFFF",
        end_type="max", end_color="63BE7B"))
    return numbers


def heat_map(ws: Worksheet, matrix: str, assets: Sequence[str]) -> None:
    """Colour a correlation matrix from -1 (blue) through 0 (white) to 1 (red) and label it."""
    min_col, min_row, max_col, max_row = range_boundaries(matrix)
    ws.conditional_formatting.add(matrix, ColorScaleRule(
        start_type="num", start_value=-1, start_color="5B8DEF", mid_type="num", mid_value=0, mid_color="FFFFFF",
        end_type="num", end_value=1, end_color="E8553D"))
    for r in range(min_row, max_row + 1):
        for c in range(min_col, max_col + 1):
            ws.cell(row=r, column=c).number_format = "0.00"
    if min_row > 1 and min_col > 1:
        for k, name in enumerate(assets[: max_col - min_col + 1]):
            write_text(ws, min_row - 1, min_col + k, name)
            write_text(ws, min_row + k, min_col - 1, name)
            ws.cell(row=min_row - 1, column=min_col + k).font = Font(bold=True)
            ws.cell(row=min_row + k, column=min_col - 1).font = Font(bold=True)
            ws.cell(row=min_row - 1, column=min_col + k).alignment = Alignment(horizontal="center")


def _spill(ev_arrays: Mapping[Key, str], place: Place) -> str:
    return ev_arrays.get((place.sheet, place.anchor), place.anchor)


def _column_of(values: Mapping[Key, Any], sheet: str, table: str, header: str, default: int) -> int:
    min_col, min_row, max_col, _ = range_boundaries(table)
    for col in range(min_col, max_col + 1):
        if values.get((sheet, f"{get_column_letter(col)}{min_row}")) == header:
            return col
    return default


def _place_chart(ws: Worksheet, chart: Any, cell: str) -> None:
    """Put ``chart`` at ``cell``, replacing a chart already anchored there (a report used as a template)."""
    min_col, min_row, _, _ = range_boundaries(cell)

    def at_cell(old: Any) -> bool:
        start = getattr(getattr(old, "anchor", None), "_from", None)
        return start is not None and (start.col, start.row) == (min_col - 1, min_row - 1)

    ws._charts = [c for c in ws._charts if not at_cell(c)]  # openpyxl keeps a sheet's charts here
    ws.add_chart(chart, cell)


def add_charts(wb: Workbook, places: Mapping[str, Place], arrays: Mapping[Key, str], values: Mapping[Key, Any],
               pnl_data: Mapping[str, str], assets: Sequence[str], confidence_label: str,
               component_format: str = "0.0%") -> None:
    """Add the three visuals next to the template's results (``component_format``: the component axis')."""
    comp = places["ComponentVaR"]
    ws = wb[comp.sheet]
    table = _spill(arrays, comp)
    min_col, min_row, max_col, max_row = range_boundaries(table)
    if max_row - min_row >= 2:
        col = _column_of(values, comp.sheet, table, "Component", min_col + 3)
        where = places["ComponentChart"].anchor if "ComponentChart" in places else \
            f"{get_column_letter(max_col + 2)}{min_row}"
        _place_chart(ws, component_chart(ws, table, col, component_format), where)
    target = wb[places["PnLChart"].sheet] if "PnLChart" in places else ws
    where = places["PnLChart"].anchor if "PnLChart" in places else f"{get_column_letter(max_col + 2)}{min_row + 17}"
    _place_chart(target, pnl_chart(wb, pnl_data, confidence_label), where)
    for name in ("CorrNormal", "CorrStressed"):
        place = places[name]
        heat_map(wb[place.sheet], _spill(arrays, place), assets)


def add_stress_chart(wb: Workbook, places: Mapping[str, Place], arrays: Mapping[Key, str], number_format: str) -> None:
    """The stress-test losses as bars, at ``StressChart`` (default: right of the ``StressLosses`` table)."""
    place = places["StressLosses"]
    ws = wb[place.sheet]
    table = _spill(arrays, place)
    _, min_row, max_col, _ = range_boundaries(table)
    where = places["StressChart"] if "StressChart" in places else None
    target = wb[where.sheet] if where else ws
    _place_chart(target, stress_chart(ws, table, number_format),
                 where.anchor if where else f"{get_column_letter(max_col + 2)}{min_row}")
