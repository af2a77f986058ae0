"""A generated 10,000-formula workbook refreshed by xl-var, checked cell by cell against LibreOffice.

The benchmark's workbook (``benchmarks/refresh.py``: a data sheet of fat-tailed returns and
chains of SUM, AVERAGE, MAX/MIN, SUMPRODUCT, IF, ROUND, ABS, SQRT/SUMSQ and arithmetic, plus
40 xl-var calls that other formulas read) is refreshed by ``xl-var refresh``. For an
independent answer, a copy in which the 40 xl-var cells hold the numbers xl-var computed is
recalculated by LibreOffice headless (every formula recalculated on load); every ordinary
formula must then agree with LibreOffice's value.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import openpyxl
import pytest
from xlvar_books import needs_soffice

from xl_var_cli.main import main

pytestmark = [needs_soffice, pytest.mark.libreoffice]

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "refresh.py"


def _benchmark():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("xlvar_refresh_benchmark", BENCHMARK)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ten_thousand_formulas_agree_with_libreoffice(tmp_path: Path) -> None:
    bench = _benchmark()
    book, ours = tmp_path / "book.xlsx", tmp_path / "ours.xlsx"
    bench.build(book, 10_000)
    assert main(["refresh", str(book), "-o", str(ours)]) == 0
    values = openpyxl.load_workbook(ours, data_only=True)["Calc"]

    frozen = openpyxl.load_workbook(book)  # the xl-var cells as the numbers xl-var computed
    for k in range(bench.CALLS):
        frozen["Calc"].cell(row=k + 1, column=1).value = values.cell(row=k + 1, column=1).value
    lo_in, lo_out = tmp_path / "frozen.xlsx", tmp_path / "lo"
    frozen.save(lo_in)
    lo_out.mkdir()
    bench.libreoffice_once(lo_in, lo_out, timeout=600)
    theirs = openpyxl.load_workbook(lo_out / "frozen.xlsx", data_only=True)["Calc"]

    formulas = openpyxl.load_workbook(book)["Calc"]
    compared, numbers, differ = 0, 0, []
    for row in formulas.iter_rows(min_col=3):
        for cell in row:
            if cell.data_type != "f":
                continue
            mine, lo = values[cell.coordinate].value, theirs[cell.coordinate].value
            compared += 1
            numbers += isinstance(mine, float)
            if not (mine == lo or (isinstance(mine, float) and isinstance(lo, int | float)
                                   and math.isclose(mine, lo, rel_tol=1e-9, abs_tol=1e-12))):
                differ.append(f"{cell.coordinate} {cell.value}: xl-var {mine!r}, LibreOffice {lo!r}")
    assert compared == numbers == 10_000  # every formula gives a number (no agreement on errors alone)
    assert not differ, f"{len(differ)} of {compared} cells differ: {differ[:10]}"
    assert all(isinstance(values.cell(row=k + 1, column=1).value, float) for k in range(bench.CALLS))
