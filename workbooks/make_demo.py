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
* **The Derivatives sheet** holds the synthetic derivatives book (``XLVAR_POSITIONS``), its
  market data (``XLVAR_MARKET``), the BTC vol surface (``XLVAR_SURFACE``) and a fixed
  valuation time (``XLVAR_VALUATION``, 2024-12-31 16:00 UTC, so the sheet does not change as
  time passes), with the book's Greeks, its VaR by full, delta and delta-gamma revaluation,
  component VaR, Deribit and SPAN margin with their grids as price move × vol shock heat maps
  (``SUMIFS`` over the ``MARGINGRID`` tables on the sheet "Margin grids"), the stress test,
  option examples and ``DGVAR`` of the book's own Greeks.
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
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from xl_var import portfolio
from xl_var_cli.charts import GREEKS_FORMATS, margin_heat_map, revaluation_rows

HERE = Path(__file__).resolve().parent
OUT = HERE / "demo.xlsx"
METHODS = ("historical", *(m for m in portfolio.METHODS if m != "historical"))  # the engine's, historical first
MAIN = "xl-var"  # the sheet with the formulas
DERIVATIVES, GRIDS = "Derivatives", "Margin grids"
VALUATION = dt.datetime(2024, 12, 31, 16, 0)  # UTC, workbooks.SAMPLE_VALUATION
REVALUATIONS = revaluation_rows()  # (revaluation, method): full, delta, delta-gamma historical; delta(-gamma) normal
WINDOW, TESTED = 500, 250  # backtest: 500-day historical VaR forecasts for the last 250 days

TITLE = Font(bold=True, size=16, color="1F3864")
HEADING = Font(bold=True, size=12, color="1F3864")
NOTE = Font(italic=True, color="595959")
INPUT = PatternFill("solid", fgColor="FFF2CC")


def _cell(text: str) -> Any:
    """A CSV field as a cell: blank, a number, an ISO date or text."""
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return text


def _read(path: Path) -> list[list[Any]]:
    """A sample CSV as cells: header row (text and numbers), then rows of dates, names, numbers, blanks."""
    with open(path, newline="") as fh:
        header, *body = list(csv.reader(fh))
    return [[x if x[:1].isalpha() else _cell(x) for x in header], *([_cell(x) for x in r] for r in body)]


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


def _table(ws: Worksheet, top: int, left: int, rows: list[list[Any]], fill: bool = True) -> str:
    """Write ``rows`` (header first) at (top, left); return its absolute range."""
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            c = ws.cell(row=top + i, column=left + j, value=value)
            if i == 0:
                c.font = Font(bold=True)
            elif fill:
                c.fill = INPUT
            if isinstance(value, dt.datetime):
                c.number_format = "yyyy-mm-dd"
            elif isinstance(value, float) and i:
                c.number_format = "0.00##" if abs(value) < 10 and value != int(value) else "#,##0.##"
    last = f"${get_column_letter(left + len(rows[0]) - 1)}${top + len(rows) - 1}"
    return f"${get_column_letter(left)}${top}:{last}"


def _label(ws: Worksheet, ref: str, text: str) -> None:
    ws[ref] = text
    ws[ref].font = Font(bold=True)


def _margin_grids(wb: Workbook) -> None:
    """The Deribit and SPAN scenario grids (MARGINGRID spills) the heat maps sum."""
    ws = wb.create_sheet(GRIDS)
    book = "XLVAR_POSITIONS,XLVAR_MARKET"
    for col, model, title in ((1, "deribit", "Deribit portfolio margin"), (9, "span", "CME SPAN")):
        ws.cell(row=1, column=col, value=f"{title}: every scenario (MARGINGRID)").font = HEADING
        ws.cell(row=3, column=col, value=f'=MARGINGRID({book},"{model}","usd",XLVAR_VALUATION,,XLVAR_SURFACE)')
        for j, fmt in enumerate(("@", "0", "0%", "0%", "#,##0", "0.000"), start=col):
            _formats(ws, f"{get_column_letter(j)}4:{get_column_letter(j)}120", fmt)
        ws.column_dimensions[get_column_letter(col + 4)].width = 12


def _derivatives_sheet(wb: Workbook, positions: list[list[Any]], market: list[list[Any]],
                       surface: list[list[Any]]) -> None:
    """The derivatives book, its market data and every derivatives function on it."""
    ws = wb.create_sheet(DERIVATIVES, 1)
    ws["A1"] = "xl-var demo: a derivatives book in cells"
    ws["A1"].font = TITLE
    ws["A2"] = ("Synthetic BTC/ETH/SOL book (workbooks/make_sample.py): spot, inverse and linear perpetuals and "
                "futures, options. Valued at a fixed time, so the sheet does not change as time passes; money in USD.")
    ws["A2"].font = NOTE
    for i, (label, value, fmt) in enumerate((("Valuation (UTC)", VALUATION, "yyyy-mm-dd hh:mm"),
                                             ("Confidence", 0.99, "0%"), ("Horizon (days)", 1, "0"))):
        ws.cell(row=4 + i, column=1, value=label)
        c = ws.cell(row=4 + i, column=2, value=value)
        c.fill, c.number_format = INPUT, fmt
    conf, hor = "$B$5", "$B$6"
    _section(ws, 8, "The book, its market data and the BTC vol surface",
             "Named ranges XLVAR_POSITIONS, XLVAR_MARKET, XLVAR_SURFACE (expiries down, strikes across) and "
             "XLVAR_VALUATION; the ribbon's Run Monte Carlo revalues this book.")
    _name(wb, "XLVAR_VALUATION", DERIVATIVES, "$B$4")
    _name(wb, "XLVAR_POSITIONS", DERIVATIVES, _table(ws, 10, 1, positions))
    _name(wb, "XLVAR_MARKET", DERIVATIVES, _table(ws, 10, 4, market))
    _name(wb, "XLVAR_SURFACE", DERIVATIVES, _table(ws, 10, 10, surface))
    book, at = "XLVAR_POSITIONS,XLVAR_MARKET", "XLVAR_VALUATION"

    g = 33 + len(positions) - 19  # rows below the tables move with the book's length
    _section(ws, g - 3, "Greeks by underlying (spill)",
             "BOOKGREEKS(positions, market, valuation, by, surface): value and Greeks in USD; Delta and Gamma also "
             "in coins (they add up per underlying only).")
    ws[f"A{g - 1}"] = f'=BOOKGREEKS({book},{at},"underlying",XLVAR_SURFACE)'
    for j, fmt in enumerate(GREEKS_FORMATS, start=2):
        _formats(ws, f"{get_column_letter(j)}{g}:{get_column_letter(j)}{g + 3}", fmt)

    v = g + 6
    _section(ws, v - 2, "Book VaR: full revaluation vs delta vs delta-gamma",
             "AGGVAR(returns, positions, confidence, horizon, method, , , , market, valuation, revaluation): the "
             "positions in place of the weights, in USD.")
    for j, label in enumerate(("Revaluation", "Method", "VaR", "ES")):
        _label(ws, f"{get_column_letter(1 + j)}{v}", label)
    for i, (how, method) in enumerate(REVALUATIONS, start=v + 1):
        ws.cell(row=i, column=1, value=how)
        ws.cell(row=i, column=2, value=method)
        for col, f in ((3, "AGGVAR"), (4, "AGGES")):
            ws.cell(row=i, column=col, value=f"={f}(XLVAR_RETURNS,XLVAR_POSITIONS,{conf},{hor},$B{i},,,,XLVAR_MARKET,"
                                             f"{at},$A{i},XLVAR_SURFACE)").number_format = "#,##0"
    _label(ws, f"G{v}", "Portfolio margin")
    _label(ws, f"H{v}", "USD")
    for i, model in enumerate(("deribit", "span"), start=v + 1):
        ws[f"G{i}"] = model
        ws[f"H{i}"] = f'=PORTMARGIN({book},G{i},"usd",{at},,XLVAR_SURFACE)'
        ws[f"H{i}"].number_format = "#,##0"

    c = v + len(REVALUATIONS) + 4
    _section(ws, c - 2, "Component VaR of the book and stress test (spills)",
             "COMPONENTVAR(returns, positions, ..., market, valuation, \"full\"): one row per position, adding up to "
             "the VaR · STRESSTEST(positions, market, scenarios, valuation, surface): the bundled crypto crises.")
    ws[f"A{c}"] = (f'=COMPONENTVAR(XLVAR_RETURNS,XLVAR_POSITIONS,{conf},{hor},"historical","VaR",TRUE,,'
                   f'XLVAR_MARKET,{at},"full",XLVAR_SURFACE)')
    end = c + len(positions)
    _formats(ws, f"B{c + 1}:B{end}", "#,##0.##")
    _formats(ws, f"C{c + 1}:D{end}", "#,##0")
    _formats(ws, f"E{c + 1}:E{end}", "0.0%")
    ws[f"G{c}"] = f"=STRESSTEST({book},,{at},XLVAR_SURFACE)"
    _formats(ws, f"H{c + 1}:K{c + 4}", "#,##0")
    _dgvar(ws, c + 6, g, conf, hor)

    h = end + 3
    _section(ws, h - 2, "Margin grids: the book's P&L by price move × vol shock",
             f"SUMIFS over the MARGINGRID tables on the sheet '{GRIDS}' (all underlyings; the regular grid, the "
             "extended moves are in the tables). The margin is each underlying's worst scenario, summed.")
    _label(ws, f"A{h}", "Deribit")
    _label(ws, f"G{h}", "SPAN")
    margin_heat_map(ws, h + 1, 1, GRIDS, "A3", "deribit", "#,##0")
    margin_heat_map(ws, h + 1, 7, GRIDS, "I3", "span", "#,##0")
    _options(ws, h + 13)
    for letter in "ABCDEFGHIJKLMN":
        ws.column_dimensions[letter].width = {"A": 30, "B": 17, "D": 24}.get(letter, 13)
    ws.row_breaks.append(Break(id=h - 3))  # the heat maps print on a page of their own, under their heading
    ws.print_area = f"A1:N{h + 21}"


def _dgvar(ws: Worksheet, top: int, greeks: int, conf: str, hor: str) -> None:
    """DGVAR of the book's own dollar deltas and gammas (the Greeks table) with the returns' covariance."""
    ws.cell(row=top, column=7, value="Delta-gamma VaR of the Greeks above (DGVAR)").font = HEADING
    ws.cell(row=top + 1, column=7, value="DGVAR(Delta USD, Gamma USD, covariance of BTC, ETH, SOL returns, "
                                         "confidence, horizon, theta, method)").font = NOTE
    names = ("BTC", "ETH", "SOL")  # Returns columns B, C, D; the Greeks' rows in the same order
    for k, name in enumerate(names):
        _label(ws, f"{get_column_letter(8 + k)}{top + 2}", name)
        _label(ws, f"G{top + 3 + k}", name)
        for m in range(len(names)):
            a, b = get_column_letter(2 + k), get_column_letter(2 + m)
            cell = ws.cell(row=top + 3 + k, column=8 + m,
                           value=f"=_xlfn.COVARIANCE.S(Returns!${a}$2:${a}$783,Returns!${b}$2:${b}$783)")
            cell.number_format = "0.000000"
    cov = f"H{top + 3}:J{top + 5}"
    delta, gamma = f"$D${greeks}:$D${greeks + 2}", f"$G${greeks}:$G${greeks + 2}"
    for i, method in enumerate(("cornish-fisher", "normal", "exact"), start=top + 7):
        ws[f"G{i}"] = method
        ws[f"H{i}"] = f"=DGVAR({delta},{gamma},{cov},{conf},{hor},$I${greeks + 3},G{i})"
        ws[f"H{i}"].number_format = "#,##0"


def _options(ws: Worksheet, top: int) -> None:
    """OPTIONPRICE, IMPLIEDVOL and OPTIONGREEKS of the BTC 28MAR25 100000 call (forward and vol from the tables)."""
    _section(ws, top, "Options: price, Greeks and implied vol (Black-76)",
             "OPTIONPRICE / OPTIONGREEKS(option_type, forward, strike, expiry, vol, rate, settle, valuation) · "
             "IMPLIEDVOL(price, option_type, ...): the forward and vol come from the tables above.")
    # the forward: XLVAR_MARKET's BTC 28MAR25 row; the vol: XLVAR_SURFACE's 2025-03-28 row, 100000 column
    inputs = (("Option type", "call"), ("Forward", "=H15"), ("Strike", 100_000), ("Expiry", dt.datetime(2025, 3, 28)),
              ("Vol", "=M12"), ("Rate", 0))
    r = top + 2
    for i, (label, value) in enumerate(inputs):
        ws.cell(row=r + i, column=1, value=label)
        c = ws.cell(row=r + i, column=2, value=value)
        c.fill = INPUT
        c.number_format = {"Expiry": "yyyy-mm-dd", "Vol": "0.0%", "Rate": "0.0%"}.get(label, "#,##0.##")
    args = ",".join(f"B{r + i}" for i in range(len(inputs)))
    no_vol = ",".join(f"B{r + i}" for i in (0, 1, 2, 3, 5))
    for i, (label, formula, fmt) in enumerate((
            ("Price (USD)", f'=OPTIONPRICE({args},"usd",XLVAR_VALUATION)', "#,##0.00"),
            ("Price (BTC, inverse)", f'=OPTIONPRICE({args},"coin",XLVAR_VALUATION)', "0.00000"),
            ("Implied vol of the USD price", f'=IMPLIEDVOL(E{r},{no_vol},"usd",XLVAR_VALUATION)', "0.00%"),
            ("Implied vol of the BTC price", f'=IMPLIEDVOL(E{r + 1},{no_vol},"coin",XLVAR_VALUATION)', "0.00%"))):
        ws.cell(row=r + i, column=4, value=label)
        ws.cell(row=r + i, column=5, value=formula).number_format = fmt
    _label(ws, f"G{r - 1}", "OPTIONGREEKS, coin-settled")
    ws[f"G{r}"] = f'=OPTIONGREEKS({args},"coin",XLVAR_VALUATION)'
    _formats(ws, f"H{r}:H{r + 6}", "#,##0.0000")


def skeleton(returns: list[list[Any]], prices: list[list[Any]], weights: list[list[Any]],
             positions: list[list[Any]], market: list[list[Any]], surface: list[list[Any]]) -> Workbook:
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
    _derivatives_sheet(wb, positions, market, surface)
    _margin_grids(wb)
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
    """Landscape, one page wide: the main and derivatives sheets on as many pages as they need (two each),
    each data sheet on one."""
    for ws in wb.worksheets:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0 if ws.title in (MAIN, DERIVATIVES) else 1
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.5
    wb[MAIN].print_area = "A1:M72"


def main() -> int:
    from workbooks import SAMPLE_MARKET, SAMPLE_POSITIONS, SAMPLE_PRICES, SAMPLE_RETURNS, SAMPLE_SURFACE, SAMPLE_WEIGHTS
    from xl_var_cli.main import main as xl_var

    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "demo.xlsx"
        skeleton(*(_read(p) for p in (SAMPLE_RETURNS, SAMPLE_PRICES, SAMPLE_WEIGHTS, SAMPLE_POSITIONS, SAMPLE_MARKET,
                                      SAMPLE_SURFACE))).save(bare)
        code = xl_var(["refresh", str(bare), "-o", str(OUT)])
    if code == 0:
        print(f"wrote {OUT}")
    return code


if __name__ == "__main__":
    sys.exit(main())
