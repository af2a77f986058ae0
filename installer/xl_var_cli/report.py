"""xl-var report: a risk report workbook (and PDF) from a template, a returns or prices file and weights.

    xl-var report [--template T.xlsx] (--returns R.csv | --prices P.csv) --weights W.csv
                  [--value AMOUNT] [--positions P.csv --market M.csv [--surface S.csv]
                  [--valuation ISO]] -o report.xlsx [--pdf]

Weights are fractions of the portfolio value (0.35) or currency amounts (1,250,000): with
fractions, --value sets the portfolio value that VaR and ES are shown in money for; with
amounts, VaR and ES are money already and the portfolio value is the amounts' gross sum.
Money is shown with thousands separators (and the currency when the file names it),
fractions as percentages.

The template (default: the bundled workbooks/templates/report.xlsx) is an ordinary
workbook whose named ranges mark where the inputs go and whose cells hold xl-var formulas.
The report fills the inputs, calculates every formula without Excel, stores the results
next to the formulas, and adds charts: component VaR by asset, the P&L distribution with
VaR and ES marked, and the normal and stressed correlation matrices as heat maps. --pdf
also exports the report as PDF next to it (LibreOffice), for A4 or Letter landscape.
Nothing is written unless everything succeeded.

With --positions and --market (a derivatives book: Deribit instrument names and quantities;
spot, vols and forwards per underlying; optionally a vol surface) the report gains a
Derivatives page: the book's VaR by full, delta and delta-gamma revaluation over the returns
of its underlyings (columns of the returns file), Deribit and SPAN margin, the Deribit margin
grid as a price move x vol shock heat map, the stress-test losses of the bundled crypto
crises as bars, and the Greeks by underlying, all in USD. --valuation defaults to now (UTC).
Without a book that page is left out.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from openpyxl.utils.cell import get_column_letter, range_boundaries

from xl_var._validate import clean_returns
from xl_var_cli.atomic import write_bytes_atomic
from xl_var_cli.datafiles import read_returns, read_weights
from xl_var_cli.errors import CliError
from xl_var_cli.options import Units, add_book_options, add_portfolio_options, prices_hint, read_book_files
from xl_var_cli.template import (
    BOOK_NAMES,
    DERIVATIVE_NAMES,
    INPUT_NAMES,
    Place,
    drop_book,
    fill_book,
    fill_inputs,
    find,
)
from xl_var_cli.workbook.cells import Key
from xl_var_cli.workbook.package import Package, read_package

if TYPE_CHECKING:
    from openpyxl.workbook import Workbook

    from xl_var_cli.options import BookFiles
    from xl_var_cli.workbook.engine import Evaluation
    from xl_var_cli.workbook.pipeline import Recalculated

__all__ = ["Built", "add_parser", "build", "default_template", "export_pdf", "money_format", "run", "sample_book"]

_CHECKED = ("HistVaR", "HistES", "ComponentVaR", "CorrNormal", "CorrStressed", "Backtest", "BookVaR",
            "MarginDeribit", "MarginSpan", "MarginScenarios", "StressLosses", "GreeksTable")
_MONEY = "#,##0"  # how a template marks money cells (workbooks/templates/make_template.py)
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_PERCENT = {"Weight": "0.0%", "Marginal": "0.00%", "Component": "0.00%", "% of total": "0.0%"}
_MONEY_COLUMNS = ("Weight", "Component")


def default_template() -> Path:
    """The bundled report template."""
    from workbooks import TEMPLATES

    return TEMPLATES / "report.xlsx"


def _amount(text: str) -> float:
    """A portfolio value (``1000000``, ``1,000,000``, ``$1,000,000``, ``1e6``) read by the one number-text
    parser (:func:`xl_var_udfs.numbertext.read_number`, which refuses text that reads two ways); positive."""
    from xl_var_udfs.numbertext import NumberTextError, read_number

    try:
        read = read_number(text)
    except NumberTextError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if read is None or read.percent:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount such as 1000000 or 1,000,000")
    if not (math.isfinite(read.value) and read.value > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: the portfolio value must be a positive amount")
    return read.value


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="build a risk report workbook (and PDF) from a template",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--template", help="report template .xlsx (default: the bundled one)")
    add_portfolio_options(p)
    p.add_argument("--value", type=_amount, metavar="AMOUNT",
                   help="portfolio value the fractional weights are of (default: the template's); "
                        "refused when the weights are amounts")
    add_book_options(p, sample=False)
    p.add_argument("-o", "--output", required=True, help="the report .xlsx to write")
    p.add_argument("--pdf", action="store_true", help="also write the report as PDF next to it (LibreOffice)")
    p.set_defaults(func=run)


def sample_book() -> BookFiles:
    """The bundled sample book (positions, market, surface) at its valuation time."""
    book = read_book_files(argparse.Namespace(positions=None, market=None, surface=None, valuation=None))
    assert book is not None  # the sample when no file is named
    return book


def money_format(units: Units) -> str:
    """The number format of money: thousands separators and the currency when it is known."""
    if not units.currency:
        return _MONEY
    symbol = _SYMBOLS.get(units.currency.upper())
    return f'"{symbol}"{_MONEY}' if symbol else f'"{units.currency} "{_MONEY}'


@dataclass(frozen=True)
class Built:
    """A computed report: the recalculated workbook and where the template's names point."""

    recalculated: Recalculated
    places: dict[str, Place]
    hide_in_print: tuple[str, ...]
    units: Units

    @property
    def package(self) -> Package:
        """The report's .xlsx package."""
        return self.recalculated.package

    @property
    def evaluation(self) -> Evaluation:
        """Every computed value and array range."""
        return self.recalculated.evaluation

    @property
    def workbook(self) -> Workbook:
        """The filled template as it was calculated."""
        return self.recalculated.workbook

    @property
    def xlsx(self) -> bytes:
        """The report's .xlsx file."""
        return self.package.raw

    def cell(self, key: Key) -> Any:
        """A cell's value: computed for formulas, as written for constants."""
        if key in self.evaluation.values:
            return self.evaluation.values[key]
        value = self.workbook[key[0]][key[1]].value
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def value(self, name: str) -> Any:
        """The value of a single-cell name (``HistVaR``)."""
        place = self.places[name]
        return self.cell((place.sheet, place.anchor))

    def table(self, name: str) -> list[list[Any]]:
        """The computed cells of a named range, or of the spill that starts at it, as rows."""
        place = self.places[name]
        ref = self.evaluation.arrays.get((place.sheet, place.anchor), place.ref)
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        return [[self.cell((place.sheet, f"{get_column_letter(c)}{r}")) for c in range(min_col, max_col + 1)]
                for r in range(min_row, max_row + 1)]


def _check_results(ev: Evaluation, places: dict[str, Place], source: Path) -> None:
    for name in (n for n in _CHECKED if n in places):
        place = places[name]
        value = ev.values.get((place.sheet, place.anchor))
        if isinstance(value, str) and value.startswith("#"):
            raise CliError(f"{source}: the report's {name} ({place.sheet}!{place.anchor}) gives "
                           f"{value.splitlines()[0]}")


def _put(wb: Any, places: dict[str, Place], name: str, value: Any) -> None:
    """Write a constant into a named cell of the template, when it has that name."""
    if name in places:
        wb[places[name].sheet][places[name].anchor].value = value


def _scale(wb: Any, places: dict[str, Place], units: Units, w: np.ndarray, value: float | None) -> float:
    """Set the portfolio value and the weights' unit; return the unit (1 for fractions)."""
    if units.money:
        if value is not None:
            raise CliError("--value: the weights are already amounts (money), so the portfolio value is their "
                           "sum: leave out --value, or give the weights as fractions")
        gross = float(np.abs(w).sum())
        _put(wb, places, "PortfolioValue", gross)
        _put(wb, places, "WeightUnit", gross)
        what = f"amounts in {units.currency}" if units.currency else "amounts of money"
        _put(wb, places, "WeightNote", f"Weights are {what}; the portfolio value is their gross sum "
                                       "(VaR and ES in % are of it).")
        return gross
    if value is not None:
        _put(wb, places, "PortfolioValue", value)
    _put(wb, places, "WeightUnit", 1.0)
    _put(wb, places, "WeightNote", "Weights are fractions of the portfolio value.")
    return 1.0


def _format_results(wb: Any, places: dict[str, Place], ev: Evaluation, units: Units) -> None:
    """Money as money (with the currency), fractions as percentages, in every result the report shows (the
    derivatives book's sheets keep their USD amounts)."""
    money = money_format(units)
    sheets = {p.sheet for n, p in places.items() if n not in (*INPUT_NAMES, "PnL", *BOOK_NAMES, *DERIVATIVE_NAMES)}
    if money != _MONEY:
        for title in sheets:
            for cell in list(wb[title]._cells.values()):  # openpyxl's cell store
                if cell.number_format == _MONEY:
                    cell.number_format = money
    weights = wb[places["Weights"].sheet]
    for (cell,) in weights[places["Weights"].ref]:
        cell.number_format = money if units.money else _PERCENT["Weight"]
    comp = places["ComponentVaR"]
    ws = wb[comp.sheet]
    min_col, min_row, max_col, max_row = range_boundaries(ev.arrays.get((comp.sheet, comp.anchor), comp.ref))
    for col in range(min_col, max_col + 1):
        header = ev.values.get((comp.sheet, f"{get_column_letter(col)}{min_row}"))
        fmt = money if units.money and header in _MONEY_COLUMNS else _PERCENT.get(str(header))
        for row in range(min_row + 1, max_row + 1) if fmt else ():
            ws.cell(row=row, column=col).number_format = fmt


def _book(wb: Any, places: dict[str, Place], template: Path, returns: Path, assets: tuple[str, ...],
          book: BookFiles | None) -> None:
    """Fill the derivatives book's tables, or leave its sheets out without one."""
    from xl_var_cli.datafiles import read_table

    if book is None:
        drop_book(wb, places)
        return
    absent = [u for u in book.book.underlyings if u not in assets]
    if absent:
        raise CliError(f"{returns}: no returns for {', '.join(absent)}, an underlying of {book.positions}: the "
                       f"returns need a column per underlying of the book (they have {', '.join(assets)})")
    files = {"Positions": book.positions, "Market": book.market, "Surface": book.surface}
    fill_book(wb, places, template, {name: read_table(path).rows for name, path in files.items() if path},
              book.valuation)


def build(template: Path, returns: Path, weights: Path, charts: bool = True, *, prices: bool = False,
          missing: str = "raise", value: float | None = None, book: BookFiles | None = None) -> Built:
    """Fill ``template`` with the data, calculate it, add the charts; nothing is written to disk.

    ``prices``: the file holds prices, turned into returns; ``value``: the portfolio value
    fractional weights are of (refused for amounts); ``book``: a derivatives book for the
    template's derivatives page (without one, its sheets are left out).
    """
    from xl_var_cli.charts import CHART_SHEET, add_charts, add_pnl_data, add_stress_chart
    from xl_var_cli.workbook.pipeline import recalculate

    data = read_returns(returns, prices=prices, missing=missing)
    with prices_hint(str(returns)):
        clean_returns(data.values)
    given = read_weights(weights, data.assets)
    w, units = given.values, Units.of(given)
    places: dict[str, Place] = {}
    pnl_data: dict[str, str] = {}

    def fill(wb: Workbook) -> None:
        places.update(find(wb, template))
        _book(wb, places, template, returns, data.assets, book)
        unit = _scale(wb, places, units, w, value)
        pnl = data.values @ w / unit
        fill_inputs(wb, places, template, data.values, data.assets, data.dates, w, pnl)
        pnl_data.update(add_pnl_data(wb, pnl) if charts else {})

    def finish(wb: Workbook, ev: Evaluation) -> None:
        _check_results(ev, places, returns)
        _format_results(wb, places, ev, units)
        if charts:
            confidence = wb[places["Confidence"].sheet][places["Confidence"].anchor].value \
                if "Confidence" in places else None
            label = f"{confidence:.0%}" if isinstance(confidence, int | float) else ""
            component_format = money_format(units) if units.money else "0.0%"
            add_charts(wb, places, ev.arrays, ev.values, pnl_data, data.assets, label, component_format)
            if book is not None and "StressLosses" in places:
                add_stress_chart(wb, places, ev.arrays, "#,##0")
        wb.active = 0

    done = recalculate(read_package(template), fill=fill, finish=finish, our_arrays_spill=True)
    inputs = (*INPUT_NAMES, "Assets", "PnL", "Positions", "Market", "Surface", "MarginScenarios")
    results = {places[name].sheet for name in _CHECKED if name in places and name not in inputs}
    data_sheets = [places[n].sheet for n in inputs if n in places] + [CHART_SHEET]
    hide = tuple(dict.fromkeys(s for s in data_sheets if s not in results and s in done.workbook.sheetnames))
    return Built(done, places, hide, units)


def export_pdf(built: Built, name: str) -> bytes:
    """The report printed to PDF by LibreOffice, from a snapshot of its values (data sheets left out).

    The snapshot prints exactly the numbers xl-var computed: LibreOffice recalculates nothing in it.
    """
    from xl_var_cli.libreoffice import convert

    snapshot = built.recalculated.snapshot(hide=built.hide_in_print)
    with tempfile.TemporaryDirectory(prefix="xlvar-pdf-") as tmp:
        src = Path(tmp) / f"{Path(name).stem}.xlsx"
        src.write_bytes(snapshot)
        return convert(src, "pdf", Path(tmp)).read_bytes()


def run(args: argparse.Namespace) -> int:
    from workbooks import SAMPLE_RETURNS
    from xl_var_cli.libreoffice import find_soffice

    output = Path(args.output)
    if output.suffix.lower() != ".xlsx":
        raise CliError(f"-o {output}: the report is a workbook: name it .xlsx, and add --pdf for a PDF "
                       "next to it")
    if args.pdf and find_soffice() is None:
        raise CliError("--pdf needs LibreOffice (soffice), which is not installed: install libreoffice-calc "
                       "(bash installer/setup.sh --dev does) or leave out --pdf")
    template = Path(args.template) if args.template else default_template()
    source = Path(args.prices or args.returns or SAMPLE_RETURNS)
    book = read_book_files(args, sample=False)
    built = build(template, source, Path(args.weights), prices=args.prices is not None, missing=args.missing,
                  value=args.value, book=book)
    pdf = export_pdf(built, output.name) if args.pdf else None
    write_bytes_atomic(output, built.xlsx)
    print(f"wrote {output}")
    if pdf is not None:
        write_bytes_atomic(output.with_suffix(".pdf"), pdf)
        print(f"wrote {output.with_suffix('.pdf')}")
    return 0
