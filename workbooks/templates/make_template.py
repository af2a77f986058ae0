"""Build the bundled report template ``report.xlsx`` (run: ``python workbooks/templates/make_template.py``).

The template is an ordinary workbook an analyst may restyle in Excel. Its named ranges
mark where ``xl-var report`` puts the inputs (``Returns``, ``Weights``, ``Assets``) and
which results it charts (``ComponentVaR``, ``CorrNormal``, ``CorrStressed``, ``HistVaR``,
``HistES``; ``Summary`` is what ``xl-var demo`` prints). It ships filled with the
synthetic sample portfolio and recalculated, so it opens with numbers; the spilled
tables are stored as Excel 365 dynamic arrays.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName

from xl_var import portfolio

HERE = Path(__file__).resolve().parent
OUT = HERE / "report.xlsx"
METHODS = ("historical", *(m for m in portfolio.METHODS if m != "historical"))  # the engine's, historical first

TITLE = Font(bold=True, size=16, color="1F3864")
HEADING = Font(bold=True, size=12, color="1F3864")
HEADER = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
THIN = Border(bottom=Side(style="thin", color="A6A6A6"))


def _name(wb: Workbook, name: str, ref: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=ref)


def _header(ws, row: int, labels: list[str], col: int = 1) -> None:
    for j, label in enumerate(labels):
        cell = ws.cell(row=row, column=col + j, value=label)
        cell.font, cell.fill = HEADER, HEADER_FILL
        cell.alignment = Alignment(horizontal="center")


def skeleton() -> Workbook:
    """The template's layout, formulas and names, with one-cell placeholders for the inputs."""
    wb = Workbook()
    rep = wb.active
    rep.title = "Report"
    rep["A1"] = "Portfolio risk report"
    rep["A1"].font = TITLE
    rep["A2"] = '="Returns: "&(ROWS(Returns)-1)&" periods x "&(COLUMNS(Returns)-1)&" assets"'
    settings = [("Confidence", 0.99, "0.0%"), ("Horizon (periods)", 1, "0"),
                ("Portfolio value", 1_000_000, "#,##0"), ("Stress intensity", 0.5, "0%")]
    for i, (label, value, fmt) in enumerate(settings):
        rep.cell(row=4 + i, column=1, value=label)
        cell = rep.cell(row=4 + i, column=2, value=value)
        cell.number_format, cell.fill = fmt, INPUT_FILL
    for name, row in (("Confidence", 4), ("Horizon", 5), ("PortfolioValue", 6), ("StressIntensity", 7)):
        _name(wb, name, f"Report!$B${row}")

    rep["A9"] = "VaR and ES by method"
    rep["A9"].font = HEADING
    _header(rep, 10, ["Method", "VaR", "ES", "VaR (value)", "ES (value)"])
    rows = [(m, f'"{m}"', "") for m in METHODS] + [
        ("normal, stressed corr.", '"normal"', ", STRESSCORR(Returns, StressIntensity)")]
    for i, (label, method, corr) in enumerate(rows):
        r = 11 + i
        rep.cell(row=r, column=1, value=label).border = THIN
        args = f"Returns, Weights, Confidence, Horizon, {method}"
        rep.cell(row=r, column=2, value=f"=AGGVAR({args}{corr})").number_format = "0.00%"
        rep.cell(row=r, column=3, value=f"=AGGES({args}{corr})").number_format = "0.00%"
        rep.cell(row=r, column=4, value=f"=B{r}*PortfolioValue").number_format = "#,##0"
        rep.cell(row=r, column=5, value=f"=C{r}*PortfolioValue").number_format = "#,##0"
    last = 11 + len(rows) - 1
    rep.cell(row=last + 1, column=1, value="Portfolio volatility")
    rep.cell(row=last + 1, column=2, value="=PORTVOL(Returns, Weights, Horizon)").number_format = "0.00%"
    rep.cell(row=last + 1, column=4, value=f"=B{last + 1}*PortfolioValue").number_format = "#,##0"
    _name(wb, "Summary", f"Report!$A$11:$C${last}")
    _name(wb, "HistVaR", "Report!$B$11")
    _name(wb, "HistES", "Report!$C$11")

    top = last + 3
    rep.cell(row=top, column=1, value="Component VaR (historical)").font = HEADING
    rep.cell(row=top + 1, column=1,
             value="=COMPONENTVAR(Returns, Weights, Confidence, Horizon, \"historical\")")
    _name(wb, "ComponentVaR", f"Report!$A${top + 1}")
    _name(wb, "ComponentChart", "Report!$G$3")
    _name(wb, "PnLChart", f"Report!$G${top}")
    for col, width in zip("ABCDE", (24, 12, 12, 14, 14), strict=True):
        rep.column_dimensions[col].width = width
    for r in range(top + 2, top + 40):
        for c, fmt in ((2, "0.0%"), (3, "0.0000"), (4, "0.00%"), (5, "0.0%")):
            rep.cell(row=r, column=c).number_format = fmt

    for title, formula, name, note in (
            ("Correlation", "=CORRMATRIX(Returns)", "CorrNormal", "Sample correlation of the returns"),
            ("Stressed", "=STRESSCORR(Returns, StressIntensity)", "CorrStressed",
             "Correlations shifted toward 1 by the stress intensity, repaired to a valid matrix")):
        ws = wb.create_sheet(title)
        ws["A1"] = f"{title} matrix" if title == "Correlation" else "Stressed correlation matrix"
        ws["A1"].font = TITLE
        ws["A2"] = note
        ws["B4"] = formula
        _name(wb, name, f"'{title}'!$B$4")
        ws.column_dimensions["A"].width = 12

    inp = wb.create_sheet("Inputs")
    inp["A1"] = "Portfolio weights"
    inp["A1"].font = TITLE
    inp["A2"], inp["B2"] = "Total", "=SUM(Weights)"
    inp["B2"].number_format = "0.0%"
    _header(inp, 3, ["Asset", "Weight"])
    _name(wb, "Assets", "Inputs!$A$4")
    _name(wb, "Weights", "Inputs!$B$4")
    for r in range(4, 60):
        inp.cell(row=r, column=2).number_format = "0.0%"
    inp.column_dimensions["A"].width = 16

    ret = wb.create_sheet("Returns")
    _name(wb, "Returns", "Returns!$A$1")
    ret.column_dimensions["A"].width = 12
    for ws in wb.worksheets:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    return wb


def main() -> int:
    from workbooks import SAMPLE_RETURNS, SAMPLE_WEIGHTS
    from xl_var_cli.atomic import write_bytes_atomic
    from xl_var_cli.report import build

    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "skeleton.xlsx"
        skeleton().save(bare)
        built = build(bare, SAMPLE_RETURNS, SAMPLE_WEIGHTS, charts=False)
    write_bytes_atomic(OUT, built.xlsx)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
