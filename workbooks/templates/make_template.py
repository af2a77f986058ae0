"""Build the bundled report template ``report.xlsx`` (run: ``python workbooks/templates/make_template.py``).

The template is an ordinary workbook an analyst may restyle in Excel. Its named ranges
mark where ``xl-var report`` puts the inputs and which results it charts
(:mod:`xl_var_cli.template` lists them). It ships filled with the synthetic sample
portfolio and recalculated, so it opens with numbers; the spilled tables are stored as
Excel 365 dynamic arrays.

Layout, for A4 or Letter landscape with no wasted page:

* **Report** (page 1): what the numbers are (as-of date, data window, observations,
  weights and method notes) beside the settings; VaR and ES by method; the in-sample
  backtest of the historical VaR; the component table with the correlation heat map
  beside it; the component and P&L charts on the right.
* **Stress** (page 2): the stressed correlation heat map.
* **Derivatives** (page 3, only in a report given a derivatives book): the book's VaR by
  full, delta and delta-gamma revaluation, Deribit and SPAN margin, the Deribit margin grid as
  a price move × vol shock heat map (``SUMIFS`` over the ``MARGINGRID`` table on the sheet
  "Margin grid"), the stress-test losses (charted as bars by the report) and the Greeks by
  underlying. Amounts are USD whatever the weights' currency.
* **Inputs**, **Returns**, **Book** (positions, market data, vol surface) and **Margin grid**
  hold the data and are left out of the PDF.

Every spilled table is the last thing in its columns, so a book of any size spills
into empty cells. Formulas are written without spaces after commas (LibreOffice reads
``=F(a, b)`` inside an array formula as an intersection and shows ``Err:509``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from xl_var import portfolio
from xl_var_cli.charts import GREEKS_FORMATS, margin_heat_map, revaluation_rows

HERE = Path(__file__).resolve().parent
OUT = HERE / "report.xlsx"
METHODS = ("historical", *(m for m in portfolio.METHODS if m != "historical"))  # the engine's, historical first
MONEY = "#,##0"  # the report swaps in the book's currency (xl_var_cli.report)

TITLE = Font(bold=True, size=16, color="1F3864")
HEADING = Font(bold=True, size=12, color="1F3864")
NOTE = Font(italic=True, color="595959")
LABEL = Font(bold=True)
HEADER = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
THIN = Border(bottom=Side(style="thin", color="A6A6A6"))
BACKTEST_FORMATS = ("0", "0", "0.0", "0.00", "0.000", "0.00", "0.000", "0.00", "0.000", "@", "0.00")

REVALUATIONS = revaluation_rows()  # (revaluation, method): full, delta, delta-gamma historical; delta(-gamma) normal
BOOK = "Positions,Market"
GRID = "Margin grid"

NOTES = ("Methods: historical = empirical quantile of the sample's P&L; normal, t and modified (Cornish-Fisher) "
         "fit the sample's moments; ewma weights recent periods more (lambda 0.94); fhs = filtered "
         "historical simulation. VaR and ES are losses, shown positive.")


def _name(wb: Workbook, name: str, ref: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=ref)


def _header(ws: Worksheet, row: int, labels: list[str], col: int = 1) -> None:
    for j, label in enumerate(labels):
        cell = ws.cell(row=row, column=col + j, value=label)
        cell.font, cell.fill = HEADER, HEADER_FILL
        cell.alignment = Alignment(horizontal="center")


def _facts(wb: Workbook, rep: Worksheet) -> None:
    """Rows 2-7: what the numbers are (left) and the settings (right)."""
    rep["A2"] = "Data"
    rep["A2"].font = HEADING
    facts = [("As of (last return)", "AsOf", "=INDEX(Returns,ROWS(Returns),1)", "yyyy-mm-dd"),
             ("First return", "FirstDate", "=INDEX(Returns,2,1)", "yyyy-mm-dd"),
             ("Observations", None, "=ROWS(Returns)-1", "0"), ("Assets", None, "=COLUMNS(Returns)-1", "0")]
    for i, (label, name, value, fmt) in enumerate(facts):
        rep.cell(row=3 + i, column=1, value=label)
        cell = rep.cell(row=3 + i, column=2, value=value)
        cell.number_format, cell.alignment = fmt, Alignment(horizontal="right")
        if name:
            _name(wb, name, f"Report!$B${3 + i}")
    rep["D2"] = "Settings"
    rep["D2"].font = HEADING
    settings = [("Confidence", "Confidence", 0.99, "0.0%"), ("Horizon (periods)", "Horizon", 1, "0"),
                ("Portfolio value", "PortfolioValue", 1_000_000, MONEY),
                ("Stress intensity", "StressIntensity", 0.5, "0%")]
    for i, (label, name, value, fmt) in enumerate(settings):
        rep.cell(row=3 + i, column=4, value=label)
        cell = rep.cell(row=3 + i, column=5, value=value)
        cell.number_format, cell.fill = fmt, INPUT_FILL
        _name(wb, name, f"Report!$E${3 + i}")
    rep["A7"] = "Weights are fractions of the portfolio value."
    _name(wb, "WeightNote", "Report!$A$7")
    rep["A8"] = NOTES
    for cell in (rep["A7"], rep["A8"]):
        cell.font = NOTE
    rep.merge_cells("A8:E8")
    rep["A8"].alignment = Alignment(wrap_text=True, vertical="top")
    rep.row_dimensions[8].height = 44


def _summary(wb: Workbook, rep: Worksheet, top: int) -> int:
    """VaR and ES by method from row ``top``; returns the last row used."""
    rep.cell(row=top, column=1, value="VaR and ES by method").font = HEADING
    _header(rep, top + 1, ["Method", "VaR", "ES", "VaR (value)", "ES (value)"])
    rows = [(m, f'"{m}"', "") for m in METHODS] + [
        ("normal, stressed corr.", '"normal"', ",STRESSCORR(Returns,StressIntensity)")]
    first = top + 2
    for i, (label, method, corr) in enumerate(rows):
        r = first + i
        rep.cell(row=r, column=1, value=label).border = THIN
        args = f"Returns,Weights,Confidence,Horizon,{method}{corr}"
        rep.cell(row=r, column=2, value=f"=AGGVAR({args})/WeightUnit").number_format = "0.00%"
        rep.cell(row=r, column=3, value=f"=AGGES({args})/WeightUnit").number_format = "0.00%"
        rep.cell(row=r, column=4, value=f"=B{r}*PortfolioValue").number_format = MONEY
        rep.cell(row=r, column=5, value=f"=C{r}*PortfolioValue").number_format = MONEY
    last = first + len(rows) - 1
    rep.cell(row=last + 1, column=1, value="Portfolio volatility")
    rep.cell(row=last + 1, column=2, value="=PORTVOL(Returns,Weights,Horizon)/WeightUnit").number_format = "0.00%"
    rep.cell(row=last + 1, column=4, value=f"=B{last + 1}*PortfolioValue").number_format = MONEY
    _name(wb, "Summary", f"Report!$A${first}:$C${last}")
    _name(wb, "HistVaR", f"Report!$B${first}")
    _name(wb, "HistES", f"Report!$C${first}")
    return last + 1


def _backtest(wb: Workbook, rep: Worksheet, top: int) -> int:
    """The historical one-period VaR of the whole sample against each period's P&L; returns the last row."""
    rep.cell(row=top, column=1, value="Backtest of the historical VaR (one period, in sample)").font = HEADING
    rep.cell(row=top + 1, column=1, value="Each period's P&L against the historical VaR of the whole sample "
                                          "(Kupiec coverage, Basel traffic light).").font = NOTE
    anchor = top + 2
    rep.cell(row=anchor, column=1, value="=VARBACKTEST(PnL,AGGVAR(Returns,Weights,Confidence,1)/WeightUnit,"
                                         "Confidence)")
    _name(wb, "Backtest", f"Report!$A${anchor}")
    for i, fmt in enumerate(BACKTEST_FORMATS):
        cell = rep.cell(row=anchor + i, column=2)
        cell.number_format, cell.alignment = fmt, Alignment(horizontal="right")
    return anchor + len(BACKTEST_FORMATS) - 1


def _report_sheet(wb: Workbook) -> None:
    rep = wb.active
    rep.title = "Report"
    rep["A1"] = "Portfolio risk report"
    rep["A1"].font = TITLE
    _facts(wb, rep)
    last = _backtest(wb, rep, _summary(wb, rep, 10) + 2)
    top = last + 2
    rep.cell(row=top, column=1, value="Component VaR (historical)").font = HEADING
    rep.cell(row=top + 1, column=1, value='=COMPONENTVAR(Returns,Weights,Confidence,Horizon,"historical")')
    _name(wb, "ComponentTable", f"Report!$A${top + 1}")  # not ComponentVaR (template.ALIASES)
    for col in range(1, 6):  # the spilled table's header row
        cell = rep.cell(row=top + 1, column=col)
        cell.font, cell.border = LABEL, THIN
        cell.alignment = Alignment(horizontal="left" if col == 1 else "right")
    rep.cell(row=top, column=7, value="Correlation of the returns").font = HEADING
    rep.cell(row=top + 2, column=8, value="=CORRMATRIX(Returns)")  # labels go in row top + 1 and column G
    _name(wb, "CorrNormal", f"Report!$H${top + 2}")
    _name(wb, "ComponentChart", "Report!$G$2")
    _name(wb, "PnLChart", "Report!$G$17")
    for col, width in zip("ABCDEF", (27, 13, 12, 17, 14, 3), strict=True):
        rep.column_dimensions[col].width = width


def _stress_sheet(wb: Workbook) -> None:
    ws = wb.create_sheet("Stress")
    ws["A1"] = "Stress"
    ws["A1"].font = TITLE
    ws["A5"] = "Stressed correlation"
    ws["A5"].font = HEADING
    ws["A6"] = ("Correlations shifted toward 1 by the stress intensity, repaired to a valid matrix; "
                "it gives the stressed-correlation row of the report's VaR table.")
    ws["A6"].font = NOTE
    ws["B8"] = "=STRESSCORR(Returns,StressIntensity)"  # labels go in row 7 and column A
    _name(wb, "CorrStressed", "Stress!$B$8")
    ws.column_dimensions["A"].width = 12


def _derivatives_sheet(wb: Workbook) -> None:
    """One landscape page: VaR by revaluation, margins, the margin heat map, stress losses, Greeks."""
    ws = wb.create_sheet("Derivatives")
    ws["A1"] = "Derivatives book"
    ws["A1"].font = TITLE
    ws["A2"] = ("Spot, perpetuals, futures and options by Deribit name, priced on the forward (Black-76); "
                "amounts in USD.")
    ws["A2"].font = NOTE
    for label, name, col, value, fmt in (("Valuation (UTC)", "Valuation", 2, None, "yyyy-mm-dd hh:mm"),
                                         ("Deribit margin", "MarginDeribit", 5, '"deribit"', MONEY),
                                         ("SPAN margin", "MarginSpan", 8, '"span"', MONEY)):
        ws.cell(row=3, column=col - 1, value=label).font = LABEL
        formula = f'=PORTMARGIN({BOOK},{value},"usd",Valuation,,Surface)' if value else None
        cell = ws.cell(row=3, column=col, value=formula)
        cell.number_format = fmt
        if not value:
            cell.fill = INPUT_FILL
        _name(wb, name, f"Derivatives!${get_column_letter(col)}$3")
    ws["A5"] = "VaR of the book by revaluation (USD)"
    ws["A5"].font = HEADING
    _header(ws, 6, ["Revaluation", "Method", "VaR", "ES"])
    for r, (how, method) in enumerate(REVALUATIONS, start=7):
        ws.cell(row=r, column=1, value=how).border = THIN
        ws.cell(row=r, column=2, value=method).border = THIN
        for col, f in ((3, "AGGVAR"), (4, "AGGES")):
            ws.cell(row=r, column=col, value=f"={f}(Returns,Positions,Confidence,Horizon,$B{r},,,,Market,Valuation,"
                                             f"$A{r},Surface)").number_format = MONEY
    _name(wb, "BookVaR", "Derivatives!$C$7")
    ws["A17"] = ("Full revaluation reprices every position in each historical scenario of the underlyings' returns; "
                 "delta and delta-gamma use the Greeks (normal: their moments).")
    ws["F5"] = "Deribit margin grid: book P&L (USD)"
    ws["F5"].font = HEADING
    margin_heat_map(ws, 6, 6, GRID, "A1", "deribit", MONEY)
    _name(wb, "MarginHeatMap", "Derivatives!$F$6")
    ws["F17"] = ("Each scenario's P&L summed over the underlyings; the margin is each underlying's worst "
                 "(weighted) scenario, summed.")
    for ref, merged in (("A17", "A17:D17"), ("F17", "F17:I17")):
        ws[ref].font = NOTE
        ws.merge_cells(merged)
        ws[ref].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[17].height = 30
    ws["A19"] = "Stress tests: bundled crypto crises, full revaluation (USD)"
    ws["A19"].font = HEADING
    ws["A20"] = f"=STRESSTEST({BOOK},,Valuation,Surface)"
    _name(wb, "StressLosses", "Derivatives!$A$20")
    _name(wb, "StressChart", "Derivatives!$A$26")
    ws["A39"] = "Greeks by underlying (USD; Delta and Gamma also in coins)"
    ws["A39"].font = HEADING
    ws["A40"] = f'=BOOKGREEKS({BOOK},Valuation,"underlying",Surface)'
    _name(wb, "GreeksTable", "Derivatives!$A$40")
    for row, width in ((20, 6), (40, 9)):  # the spilled tables' header rows
        for col in range(1, width + 1):
            cell = ws.cell(row=row, column=col)
            cell.font, cell.border = LABEL, THIN
            cell.alignment = Alignment(horizontal="left" if col == 1 else "right")
    for r in range(21, 25):
        for col in range(2, 7):
            ws.cell(row=r, column=col).number_format = MONEY
    for col, fmt in enumerate(GREEKS_FORMATS, start=2):
        for r in range(41, 51):
            ws.cell(row=r, column=col).number_format = fmt
    for letter, width in zip("ABCDEFGHI", (30, 16, 13, 15, 13, 13, 13, 13, 13), strict=True):
        ws.column_dimensions[letter].width = width


def _data_sheets(wb: Workbook) -> None:
    inp = wb.create_sheet("Inputs")
    inp["A1"] = "Portfolio weights and P&L"
    inp["A1"].font = TITLE
    inp["A2"], inp["B2"] = "Total", "=SUM(Weights)"
    inp["D2"], inp["E2"] = "Weights per unit of value", 1  # 1 for fractions, the portfolio value for amounts
    _name(wb, "WeightUnit", "Inputs!$E$2")
    _header(inp, 3, ["Asset", "Weight", "", "P&L"])
    _name(wb, "Assets", "Inputs!$A$4")
    _name(wb, "Weights", "Inputs!$B$4")
    _name(wb, "PnL", "Inputs!$D$4")
    inp.column_dimensions["A"].width = 16
    inp.column_dimensions["B"].width = 16
    ret = wb.create_sheet("Returns")
    _name(wb, "Returns", "Returns!$A$1")
    ret.column_dimensions["A"].width = 12
    book = wb.create_sheet("Book")  # the positions, market and surface files as they are
    for name, ref in (("Positions", "$A$1"), ("Market", "$E$1"), ("Surface", "$L$1")):
        _name(wb, name, f"Book!{ref}")
    book.column_dimensions["A"].width = 26
    grid = wb.create_sheet(GRID)
    grid["A1"] = f'=MARGINGRID({BOOK},"deribit","usd",Valuation,,Surface)'
    _name(wb, "MarginScenarios", f"'{GRID}'!$A$1")


def skeleton() -> Workbook:
    """The template's layout, formulas and names, with one-cell placeholders for the inputs."""
    wb = Workbook()
    _report_sheet(wb)
    _stress_sheet(wb)
    _derivatives_sheet(wb)
    _data_sheets(wb)
    for ws in wb.worksheets:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.5
    return wb


def main() -> int:
    from workbooks import SAMPLE_RETURNS, SAMPLE_WEIGHTS
    from xl_var_cli.atomic import write_bytes_atomic
    from xl_var_cli.report import build, sample_book

    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "skeleton.xlsx"
        skeleton().save(bare)
        built = build(bare, SAMPLE_RETURNS, SAMPLE_WEIGHTS, charts=False, book=sample_book())
    write_bytes_atomic(OUT, built.xlsx)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
