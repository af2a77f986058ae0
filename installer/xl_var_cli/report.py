"""``xl-var report``: a risk report workbook (and PDF) from a template, a returns file and weights.

::

    xl-var report [--template T.xlsx] --returns R.csv --weights W.csv -o report.xlsx [--pdf]

The template (default: the bundled ``workbooks/templates/report.xlsx``) is an ordinary
workbook whose named ranges mark where the inputs go and whose cells hold xl-var formulas
(:mod:`xl_var_cli.template`). The report fills the inputs, calculates every formula
without Excel, stores the results next to the formulas, and adds charts: component VaR
by asset, the P&L distribution with VaR and ES marked, and the normal and stressed
correlation matrices as heat maps. ``--pdf`` also exports ``report.pdf`` next to it with
LibreOffice. Nothing is written unless everything succeeded.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from xl_var_cli.atomic import write_bytes_atomic
from xl_var_cli.datafiles import read_returns, read_weights
from xl_var_cli.errors import CliError
from xl_var_cli.formula_engine import Evaluation, Key, evaluate, xl_functions
from xl_var_cli.formula_text import prepare
from xl_var_cli.refresh import load_workbook
from xl_var_cli.safexml import Package, package_from_bytes, read_package
from xl_var_cli.sheetpatch import cached_value, formula_kinds, values_only, write_values
from xl_var_cli.spillmarks import read_marks
from xl_var_cli.template import Place, fill_inputs, find

__all__ = ["Built", "add_parser", "build", "default_template", "export_pdf", "run"]

_CHECKED = ("HistVaR", "HistES", "ComponentVaR", "CorrNormal", "CorrStressed")


def default_template() -> Path:
    """The bundled report template."""
    from workbooks import TEMPLATES

    return TEMPLATES / "report.xlsx"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="build a risk report workbook (and PDF) from a template",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--template", help="report template .xlsx (default: the bundled one)")
    p.add_argument("--returns", required=True, help="returns CSV/xlsx: a date column and one column per asset")
    p.add_argument("--weights", required=True, help="weights CSV/xlsx: (asset, weight) rows, or one per asset")
    p.add_argument("-o", "--output", required=True, help="the report .xlsx to write")
    p.add_argument("--pdf", action="store_true", help="also write the report as PDF next to it (LibreOffice)")
    p.set_defaults(func=run)


@dataclass(frozen=True)
class Built:
    """A computed report: the .xlsx package, the evaluation and where the template's names point."""

    package: Package
    evaluation: Evaluation
    places: dict[str, Place]
    hide_in_print: tuple[str, ...]
    workbook: Any

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


def _formula_text(wb: Any, key: Key) -> str:
    value = wb[key[0]][key[1]].value
    return value.text if isinstance(value, ArrayFormula) else str(value)


def _apply_spills(wb: Any, ev: Evaluation) -> None:
    """Store each spill as an array formula over its range, with the range's old values cleared."""
    for key in ev.cleared:
        wb[key[0]][key[1]].value = None
    for (sheet, anchor), ref in ev.arrays.items():
        ws = wb[sheet]
        text = _formula_text(wb, (sheet, anchor))
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        for (row, col), cell in list(ws._cells.items()):  # openpyxl's cell store
            if min_row <= row <= max_row and min_col <= col <= max_col and cell.coordinate != anchor:
                cell.value = None
        ws[anchor] = ArrayFormula(ref, text)


def _calls_ours(text: str, names: set[str]) -> bool:
    """Whether a formula calls an xl-var function (only ``calls_ours`` is used: every name counts as known)."""
    return prepare(text, names, names, lambda sheet, cell: None).calls_ours


def _spilling(wb: Any, pkg: Package) -> set[Key]:
    """Array formulas that spill to fit their result: Excel 365 dynamic arrays, and in a template
    every array formula calling an xl-var function (an openpyxl save drops the dynamic flag)."""
    names = set(xl_functions())
    found, _ = formula_kinds(pkg)
    for ws in wb.worksheets:
        for cell in list(getattr(ws, "_cells", {}).values()):  # openpyxl's cell store
            if isinstance(cell.value, ArrayFormula) and _calls_ours(cell.value.text or "", names):
                found.add((ws.title, cell.coordinate))
    return found


def _check_results(ev: Evaluation, places: dict[str, Place], returns: Path) -> None:
    for name in _CHECKED:
        place = places[name]
        value = ev.values.get((place.sheet, place.anchor))
        if isinstance(value, str) and value.startswith("#"):
            raise CliError(f"{returns}: the report's {name} ({place.sheet}!{place.anchor}) gives "
                           f"{value.splitlines()[0]}")


def build(template: Path, returns: Path, weights: Path, charts: bool = True) -> Built:
    """Fill ``template`` with the data, calculate it, add the charts; nothing is written to disk."""
    from xl_var_cli.charts import CHART_SHEET, add_charts, add_pnl_data

    data = read_returns(returns)
    w = read_weights(weights, data.assets)
    pkg = read_package(template)
    wb = load_workbook(pkg)
    places = find(wb, template)
    fill_inputs(wb, places, template, data.values, data.assets, data.dates, w)
    pnl_data = add_pnl_data(wb, data.values @ w) if charts else {}
    ev = evaluate(wb, _spilling(wb, pkg), cached_value(pkg), portable=read_marks(pkg))
    _check_results(ev, places, returns)
    _apply_spills(wb, ev)
    if charts:
        confidence = wb[places["Confidence"].sheet][places["Confidence"].anchor].value \
            if "Confidence" in places else None
        label = f"{confidence:.0%}" if isinstance(confidence, int | float) else ""
        add_charts(wb, places, ev.arrays, ev.values, pnl_data, data.assets, label)
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    saved = package_from_bytes(buf.getvalue(), template)
    package, _ = write_values(saved, ev)
    results = {places[name].sheet for name in _CHECKED}
    hide = tuple(s for s in (places["Returns"].sheet, CHART_SHEET) if s not in results and s in wb.sheetnames)
    return Built(package, ev, places, hide, wb)


def export_pdf(built: Built, name: str) -> bytes:
    """The report printed to PDF by LibreOffice, from a snapshot of its values (data sheets left out).

    The snapshot prints exactly the numbers xl-var computed: LibreOffice recalculates nothing in it.
    """
    from xl_var_cli.libreoffice import convert

    snapshot = values_only(built.package, hide=built.hide_in_print)
    with tempfile.TemporaryDirectory(prefix="xlvar-pdf-") as tmp:
        src = Path(tmp) / f"{Path(name).stem}.xlsx"
        src.write_bytes(snapshot)
        return convert(src, "pdf", Path(tmp)).read_bytes()


def run(args: argparse.Namespace) -> int:
    from xl_var_cli.libreoffice import find_soffice

    output = Path(args.output)
    if args.pdf and find_soffice() is None:
        raise CliError("--pdf needs LibreOffice (soffice), which is not installed: install libreoffice-calc "
                       "(bash installer/setup.sh --dev does) or leave out --pdf")
    template = Path(args.template) if args.template else default_template()
    built = build(template, Path(args.returns), Path(args.weights))
    pdf = export_pdf(built, output.name) if args.pdf else None
    write_bytes_atomic(output, built.xlsx)
    print(f"wrote {output}")
    if pdf is not None:
        write_bytes_atomic(output.with_suffix(".pdf"), pdf)
        print(f"wrote {output.with_suffix('.pdf')}")
    return 0
