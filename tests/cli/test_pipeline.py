"""The one workbook pipeline: read once, recalculate, store the results (refresh, report and demo use it)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from openpyxl.workbook import Workbook
from openpyxl.worksheet.formula import ArrayFormula

import xl_var as xv
from xl_var_cli.errors import CliError
from xl_var_cli.workbook.engine import Evaluation
from xl_var_cli.workbook.package import package_from_bytes, read_package
from xl_var_cli.workbook.pipeline import recalculate


def _book(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in ([0.01, 0.02], [-0.03, 0.04], [0.05, -0.06], [0.02, 0.01]):
        ws.append(row)
    ws["D1"] = "=SUM(A1:A4)"
    ws["D2"] = "=FOO(A1)"  # a function no engine knows: kept as stored, and listed
    ws["F1"] = ArrayFormula("F1:G2", "=CORRMATRIX(A1:B4)")  # an openpyxl save drops the dynamic flag
    wb.save(path)
    return path


def test_an_unedited_book_is_patched_and_its_notes_name_the_cells_kept(tmp_path: Path) -> None:
    pkg = read_package(_book(tmp_path / "b.xlsx"))
    done = recalculate(pkg)
    assert done.evaluation.values[("Sheet", "D1")] == pytest.approx(0.05)
    assert done.notes == ("Sheet!D2 kept its stored value: it uses FOO, which the formula engine lacks",)
    assert done.spills == 0 and done.evaluation.arrays[("Sheet", "F1")] == "F1:G2"  # a fixed-size array
    snapshot = openpyxl.load_workbook(io.BytesIO(done.snapshot())).active
    assert snapshot["D1"].value == pytest.approx(0.05) and not isinstance(snapshot["F1"].value, ArrayFormula)
    assert package_from_bytes(done.package.raw, pkg.path).parts == done.package.parts


def test_an_edited_book_is_calculated_with_its_edits_then_finished(tmp_path: Path) -> None:
    seen: list[Evaluation] = []

    def fill(wb: Workbook) -> None:
        wb.active["A1"] = 1.0

    def finish(wb: Workbook, ev: Evaluation) -> None:
        seen.append(ev)
        wb.active["H1"] = "finished"

    done = recalculate(read_package(_book(tmp_path / "b.xlsx")), fill=fill, finish=finish, our_arrays_spill=True)
    assert seen == [done.evaluation]
    ws = openpyxl.load_workbook(io.BytesIO(done.package.raw), data_only=True).active
    assert ws["D1"].value == pytest.approx(1.04) and ws["H1"].value == "finished"
    r = np.array([[1.0, 0.02], [-0.03, 0.04], [0.05, -0.06], [0.02, 0.01]])
    assert ws["G1"].value == pytest.approx(xv.correlation_matrix(r)[0, 1], rel=1e-12)
    assert done.spills == 1 and ("Sheet", "F1") in done.evaluation.dynamic  # an array of ours spills
    assert done.workbook["Sheet"]["H1"].value == "finished"


def test_the_engine_failing_is_one_line_naming_the_book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xl_var_cli.workbook.pipeline as pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no engine today")

    monkeypatch.setattr(pipeline, "evaluate", broken)
    with pytest.raises(CliError, match=r"b\.xlsx: could not be recalculated \(RuntimeError: no engine today\)"):
        recalculate(read_package(_book(tmp_path / "b.xlsx")))


def test_charts_templates_and_cells_do_not_load_the_engine() -> None:
    code = ("import sys, xl_var_cli.charts, xl_var_cli.template, xl_var_cli.workbook.cells; "
            "print(sorted(m for m in ('formulas', 'xl_var_cli.workbook.engine') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
