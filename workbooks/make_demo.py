"""Build ``workbooks/demo.xlsx``: the sample portfolio with a cell calling each xl-var function.

Run: ``.venv/bin/python workbooks/make_demo.py``. The workbook is laid out with openpyxl
(:func:`skeleton`) and then recalculated with ``xl-var refresh`` (issue 5's headless
refresh), so it opens with numbers in any spreadsheet application and its spilled
results are stored as Excel 365 dynamic arrays.

How the formulas are stored, and why:

* **Plain function names.** A cell holds ``AGGVAR(XLVAR_RETURNS, XLVAR_WEIGHTS, ...)``,
  exactly as typed. Excel binds such a name to the add-in's VBA wrapper when the xl-var
  add-in is loaded before the workbook opens (it sits in XLSTART after ``xl-var addin
  install``). A workbook saved by Excel while the add-in was *not* loaded stores the
  call as ``_xludf.AGGVAR`` (or, after the add-in moved, as ``'C:\\...\\xl_var.xlam'!AGGVAR``);
  Find & Replace of that prefix with nothing, or Data ▸ Edit Links ▸ Change Source,
  repairs it. No ``_xlfn.`` prefix applies: that marks Excel's own newer functions.
* **Spills are dynamic arrays.** Tables (COMPONENTVAR, STRESSCORR, RETURNS...) are
  written as plain formulas, as they are typed into Excel 365; ``xl-var refresh`` computes
  them and stores each as Excel 365 stores a spill (an array formula over the result's
  range flagged with the ``XLDAPR`` dynamic-array cell metadata). Excel 365 then spills
  and re-sizes them live; older Excel shows them as fixed ``{=...}`` array formulas.
  Without that flag Excel 365 would open a table formula as a legacy one and show only
  its first cell (``=@COMPONENTVAR(...)``).
* **Inputs are named ranges** ``XLVAR_RETURNS`` (header row and date column included),
  ``XLVAR_WEIGHTS`` and ``XLVAR_PRICES``; the ribbon's Run Monte Carlo reads the first two.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from xl_var import portfolio

HERE = Path(__file__).resolve().parent
OUT = HERE / "demo.xlsx"
METHODS = ("historical", *(m for m in portfolio.METHODS if m != "historical"))  # the engine's, historical first
MAIN = "xl-var"  # the sheet with the formulas
WINDOW, TESTED = 500, 250  # backtest: 500-day historical VaR forecasts for the last 250 days

TITLE = Font(bold=True, size=16, color="1F3864")
HEADING = Font(bold=True, size=12, color="1F3864")
NOTE = Font(italic=True, color="595959")
INPUT = PatternFill("solid", fgColor="FFF2CC")


def _read(path: Path) -> list[list[Any]]:
    """A sample CSV as cells: header row, then a date and numbers (or a name and a number) per row."""
    with open(path, newline="") as fh:
        header, *body = list(csv.reader(fh))
    rows: list[list[Any]] = [header]
    for r in body:
        first: Any = dt.datetime.fromisoformat(r[0]) if r[0][:1].isdigit() else r[0]
        rows.append([first, *(float(x) for x in r[1:])])
    return rows


def _data_sheet(wb: Workbook, title: str, rows: list[list[Any]], number_format: str) -> Worksheet:
    ws = wb.create_sheet(title)
    for row in rows:
        ws.append(row)
    for c in ws[1]:
        c.font = Font(bold=True)
    for (cell,) in ws.iter_rows(min_row=2, max_col=1):
        if isinstance(cell.value, dt.datetime):
            cell.number_format = "yyyy-mm-dd"
    for row in ws.iter_rows(min_row=2, min_col=2):
        for cell in row:
            cell.number_format = number_format
    ws.column_dimensions["A"].width = 12
    ws.freeze_panes = "B2"
    return ws


def _name(wb: Workbook, name: str, sheet: str, ref: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=f"'{sheet}'!{ref}")


def _formats(ws: Worksheet, ref: str, number_format: str) -> None:
    """Number format for the cells a spill will fill (formatting does not block a spill)."""
    for row in ws[ref]:
        for cell in row:
            cell.number_format = number_format


def _section(ws: Worksheet, row: int, title: str, note: str) -> None:
    ws.cell(row=row, column=1, value=title).font = HEADING
    ws.cell(row=row + 1, column=1, value=note).font = NOTE  # notes never start with "=": they are text


def _backtest_sheet(wb: Workbook, n_returns: int, n_assets: int) -> None:
    """Realized portfolio returns and rolling historical VaR forecasts for the last TESTED days."""
    ws = wb.create_sheet("Backtest")
    last_col = get_column_letter(1 + n_assets)
    ws.append(["Date", "Realized", f"VaR {WINDOW}d historical 99%", None, "Weights:",
               *(f"=INDEX(XLVAR_WEIGHTS,{i + 1})" for i in range(n_assets))])
    wrow = f"$F$1:${get_column_letter(5 + n_assets)}$1"
    first = n_returns + 1 - TESTED + 1  # Returns! rows of the tested days (row 1 is the header)
    for k in range(TESTED):
        r = first + k
        ws.append([f"=Returns!A{r}", f"=SUMPRODUCT(Returns!B{r}:{last_col}{r},{wrow})",
                   f'=AGGVAR(Returns!B{r - WINDOW}:{last_col}{r - 1},XLVAR_WEIGHTS,0.99,1,"historical")'])
        ws.cell(row=k + 2, column=1).number_format = "yyyy-mm-dd"
        ws.cell(row=k + 2, column=2).number_format = "0.00%"
        ws.cell(row=k + 2, column=3).number_format = "0.00%"
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["C"].width = 24


def skeleton(returns: list[list[Any]], prices: list[list[Any]], weights: list[list[Any]]) -> Workbook:
    """The demo's layout: data sheets, named ranges and the formulas (no computed values)."""
    wb = Workbook()
    ws = wb.active
    ws.title = MAIN
    _data_sheet(wb, "Returns", returns, "0.00%")
    _data_sheet(wb, "Prices", prices, "#,##0.00")
    _data_sheet(wb, "Weights", weights, "0.00%")
    n, t = len(returns[0]) - 1, len(returns) - 1
    last = get_column_letter(n + 1)
    _name(wb, "XLVAR_RETURNS", "Returns", f"$A$1:${last}${t + 1}")
    _name(wb, "XLVAR_PRICES", "Prices", f"$A$1:${last}${len(prices)}")
    _name(wb, "XLVAR_WEIGHTS", "Weights", f"$B$2:$B${n + 1}")
    _backtest_sheet(wb, t, n)
    spill = wb.create_sheet("Returns from prices")  # ("RETURNS" would clash with "Returns": names ignore case)
    spill["A1"] = "=RETURNS(XLVAR_PRICES)"
    spill.column_dimensions["A"].width = 12  # dates, not ###
    _formats(spill, f"A2:A{len(prices) - 1}", "yyyy-mm-dd")
    _formats(spill, f"B2:{last}{len(prices) - 1}", "0.00%")

    ws["A1"] = "xl-var demo: portfolio VaR in cells"
    ws["A1"].font = TITLE
    ws["A2"] = ("Synthetic crypto-heavy sample portfolio (workbooks/make_sample.py). Needs the xl-var add-in in "
                "Excel; without Excel: xl-var refresh demo.xlsx.")
    ws["A2"].font = NOTE
    ws["A3"], ws["B3"] = "Version", "=XLVAR_VERSION()"

    inputs = [("Confidence", 0.99, "0%"), ("Horizon (days)", 1, "0"), ("Portfolio value", 10_000_000, "#,##0"),
              ("Stress intensity", 0.5, "0%")]
    for i, (label, value, fmt) in enumerate(inputs):
        ws.cell(row=5 + i, column=1, value=label)
        c = ws.cell(row=5 + i, column=2, value=value)
        c.fill, c.number_format = INPUT, fmt
    conf, hor, val, stress = "$B$5", "$B$6", "$B$7", "$B$8"

    _section(ws, 10, "Aggregate VaR and ES by method",
             "AGGVAR(returns, weights, confidence, horizon, method): positive losses, fractions of the portfolio.")
    for j, label in enumerate(("Method", "VaR", "ES", "VaR in currency")):
        ws.cell(row=12, column=1 + j, value=label).font = Font(bold=True)
    for i, m in enumerate(METHODS):
        r = 13 + i
        args = f"XLVAR_RETURNS,XLVAR_WEIGHTS,{conf},{hor},A{r}"
        ws.cell(row=r, column=1, value=m)
        for col, formula, fmt in ((2, f"=AGGVAR({args})", "0.00%"), (3, f"=AGGES({args})", "0.00%"),
                                  (4, f"=AGGVAR({args},,{val})", "#,##0")):
            ws.cell(row=r, column=col, value=formula).number_format = fmt
    ws["A19"] = "Portfolio volatility (daily)"
    ws["B19"] = "=PORTVOL(XLVAR_RETURNS,XLVAR_WEIGHTS)"
    ws["A20"] = "VaR of RETURNS(prices), normal"
    ws["B20"] = f'=AGGVAR(RETURNS(XLVAR_PRICES),XLVAR_WEIGHTS,{conf},{hor},"normal")'
    ws["A21"] = "Normal VaR under stressed correlation"
    ws["B21"] = f'=AGGVAR(XLVAR_RETURNS,XLVAR_WEIGHTS,{conf},{hor},"normal",H40:M45)'
    ws["A22"] = "Normal VaR, ordinary Excel formula on top"
    ws["B22"] = "=B21/B14-1"
    ws["C22"] = "← rise of normal VaR under the stressed correlation"
    for cell in ("B19", "B20", "B21", "B22"):
        ws[cell].number_format = "0.00%"

    _section(ws, 24, "Euler decomposition (spills)",
             "COMPONENTVAR(returns, weights, confidence, horizon, method) · MARGINALVAR(...) spills like weights.")
    ws["A26"] = f'=COMPONENTVAR(XLVAR_RETURNS,XLVAR_WEIGHTS,{conf},{hor},"historical")'
    ws["G26"] = "Marginal (normal)"
    ws["G27"] = f'=MARGINALVAR(XLVAR_RETURNS,XLVAR_WEIGHTS,{conf},{hor},"normal")'
    ws["I26"], ws["J26"] = "New position", "Incremental VaR (normal, exact)"
    for i, dw in enumerate((0.05, 0.0, -0.05, 0.0, 0.0, 0.0)):
        c = ws.cell(row=27 + i, column=9, value=dw)
        c.fill, c.number_format = INPUT, "0.00%"
    ws["J27"] = f'=INCREMENTALVAR(XLVAR_RETURNS,XLVAR_WEIGHTS,I27:I32,{conf},{hor},"normal")'
    ws["J27"].number_format = "0.000%"
    _formats(ws, "B27:E33", "0.00%")
    _formats(ws, "G27:G32", "0.00%")

    _section(ws, 36, "Correlation: estimated and stressed (spill N×N)",
             "CORRMATRIX(returns) · STRESSCORR(returns_or_corr, intensity): shift toward 1, repaired to a valid "
             "matrix.")
    ws["A38"], ws["H38"] = "Sample correlation", "Stressed correlation"
    for j, name in enumerate(returns[0][1:]):
        ws.cell(row=39, column=1 + j, value=name).font = Font(bold=True)
        ws.cell(row=39, column=8 + j, value=name).font = Font(bold=True)
    ws["A40"] = "=CORRMATRIX(XLVAR_RETURNS)"
    ws["H40"] = f"=STRESSCORR(XLVAR_RETURNS,{stress})"
    _formats(ws, "A40:F45", "0.00")
    _formats(ws, "H40:M45", "0.00")

    _section(ws, 53, "Backtest of rolling VaR (sheet Backtest)",
             f"VARBACKTEST(realized, forecasts, confidence): {WINDOW}-day historical VaR against the next day, "
             f"last {TESTED} days.")
    ws["A55"] = f"=VARBACKTEST(Backtest!B2:B{TESTED + 1},Backtest!C2:C{TESTED + 1},0.99)"
    _formats(ws, "B57:B63", "0.000")

    _section(ws, 68, "Errors are one line, starting with the Excel error they stand for",
             "These cells show messages on purpose.")
    ws["A70"] = "=AGGVAR(XLVAR_RETURNS,Weights!B2:B6)"
    ws["A71"] = "=AGGVAR(XLVAR_RETURNS,XLVAR_WEIGHTS,99)"
    ws["A72"] = '=AGGVAR(XLVAR_RETURNS,XLVAR_WEIGHTS,0.99,1,"monte carlo")'
    ws.column_dimensions["A"].width = 34
    for col in "BCD":
        ws.column_dimensions[col].width = 14
    _print_settings(wb)
    return wb


def _print_settings(wb: Workbook) -> None:
    """Landscape, one page wide: the main sheet on as many pages as it needs (two), each data sheet on one."""
    for ws in wb.worksheets:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0 if ws.title == MAIN else 1
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.5
    wb[MAIN].print_area = "A1:M72"


def main() -> int:
    from workbooks import SAMPLE_PRICES, SAMPLE_RETURNS, SAMPLE_WEIGHTS
    from xl_var_cli.main import main as xl_var

    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "demo.xlsx"
        skeleton(_read(SAMPLE_RETURNS), _read(SAMPLE_PRICES), _read(SAMPLE_WEIGHTS)).save(bare)
        code = xl_var(["refresh", str(bare), "-o", str(OUT)])
    if code == 0:
        print(f"wrote {OUT}")
    return code


if __name__ == "__main__":
    sys.exit(main())
