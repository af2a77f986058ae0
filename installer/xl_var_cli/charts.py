"""The report's charts (openpyxl): component VaR by asset, the P&L distribution with VaR and ES
marked, and the correlation matrices normal vs stressed as conditional-format heat maps.

The P&L distribution's data go on a sheet of their own (:data:`CHART_SHEET`): a histogram
of the portfolio's one-period returns computed here, and the VaR/ES marker lines as
formulas (``=-HistVaR``) so they show the template's own (recalculated) numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xl_var_cli.formula_engine import Key
from xl_var_cli.template import Place, write_text

__all__ = ["CHART_SHEET", "add_charts", "add_pnl_data", "histogram"]

CHART_SHEET = "Chart data"
_BINS = 40
_COLORS = {"pnl": "4472C4", "var": "C00000", "es": "7030A0", "bar": "ED7D31"}


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


def component_chart(ws: Worksheet, table: str, component_col: int, number_format: str) -> BarChart:
    """Bars of each asset's component VaR, from the COMPONENTVAR table's asset rows, top to bottom in the
    table's order; ``number_format`` labels the value axis (a percentage, or money)."""
    min_col, min_row, _, max_row = range_boundaries(table)
    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = "Component VaR by asset"
    chart.y_axis.title = "Component VaR"
    chart.y_axis.number_format = number_format
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    data = Reference(ws, min_col=component_col, min_row=min_row + 1, max_row=max_row - 1)
    cats = Reference(ws, min_col=min_col, min_row=min_row + 1, max_row=max_row - 1)
    chart.add_data(data, titles_from_data=False)
    chart.set_categories(cats)
    chart.series[0].graphicalProperties.solidFill = _COLORS["bar"]
    chart.legend = None
    chart.x_axis.tickLblPos = "low"  # asset names at the left edge, clear of negative bars
    chart.x_axis.scaling.orientation = "maxMin"  # the first asset on top, as in the table
    chart.y_axis.crosses = "max"  # and the value axis still at the bottom
    chart.width, chart.height = 17, 8
    return chart


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
