"""Portable arrays: the hidden names that record xl-var array results stored as plain values."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula
from xlvar_books import rezip, risk_book

import xl_var as xv
from xl_var_cli.main import main
from xl_var_cli.workbook.package import package_from_bytes, read_package
from xl_var_cli.workbook.portable_arrays import ARRAY_PREFIX, SPILL_PREFIX, Mark, read_marks, with_marks
from xl_var_cli.workbook.sheet_xml import values_only

_BOOK = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<x:workbook xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         b'<x:sheets><x:sheet name="A" sheetId="1"/></x:sheets>%s<x:calcPr calcId="191029"/></x:workbook>')


def _package(workbook_xml: bytes) -> object:
    wb = openpyxl.Workbook()
    buf = io.BytesIO()
    wb.save(buf)
    raw = io.BytesIO()
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(raw, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, workbook_xml if info.filename == "xl/workbook.xml" else zin.read(info))
    return package_from_bytes(raw.getvalue(), Path("t.xlsx"))


def test_names_are_added_after_the_sheets_and_read_back() -> None:
    marks = {("O'Brien (2)", "B3"): Mark("B3:F9", True), ("A", "C1"): Mark("C1", False)}
    data = with_marks(_BOOK % b"", marks)
    assert data == _BOOK % (  # after <sheets>, in the book's own namespace prefix, sorted by sheet
        b'<x:definedNames><x:definedName name="_xlvar_array_1" hidden="1">\'A\'!$C$1</x:definedName>'
        b"<x:definedName name=\"_xlvar_spill_2\" hidden=\"1\">'O''Brien (2)'!$B$3:$F$9</x:definedName>"
        b"</x:definedNames>")
    assert read_marks(_package(data)) == marks


def test_only_our_names_are_replaced_and_an_emptied_block_goes() -> None:
    user = b'<x:definedNames><x:definedName name="Returns">A!$A$1:$B$9</x:definedName>' \
           b'<x:definedName name="_XLVAR_SPILL_7" hidden="1">A!$D$1:$E$2</x:definedName></x:definedNames>'
    data = with_marks(_BOOK % user, {("A", "D1"): Mark("D1:E3", True)})
    names = re.findall(rb'name="([^"]+)"', data)
    assert names == [b"A", b"Returns", b"_xlvar_spill_1"]
    assert read_marks(_package(data)) == {("A", "D1"): Mark("D1:E3", True)}
    only_ours = _BOOK % b'<x:definedNames><x:definedName name="_xlvar_array_1">A!$A$1:$B$2</x:definedName>' \
                       b"</x:definedNames>"
    assert with_marks(only_ours, {}) == _BOOK % b""
    assert with_marks(_BOOK % b"", {}) == _BOOK % b""


def test_names_that_are_not_a_range_or_belong_to_a_sheet_are_ignored() -> None:
    odd = (b'<x:definedNames><x:definedName name="_xlvar_spill_1">#REF!</x:definedName>'
           b'<x:definedName name="_xlvar_spill_2" localSheetId="0">A!$A$1:$B$2</x:definedName>'
           b'<x:definedName name="_xlvar_spill_3">A!$C$1:$C$4</x:definedName></x:definedNames>')
    assert read_marks(_package(_BOOK % odd)) == {("A", "C1"): Mark("C1:C4", True)}


def test_a_fixed_array_of_an_xl_var_function_is_stored_portably_and_excels_own_stay_arrays(
        tmp_path: Path) -> None:
    r, w, assets = risk_book(tmp_path / "b.xlsx", rows=150)
    wb = openpyxl.load_workbook(tmp_path / "b.xlsx")
    ws = wb["Risk Calc"]
    ws["P1"] = ArrayFormula("P1:T8", "=COMPONENTVAR(Returns, Weights, 0.95)")  # Ctrl+Shift+Enter, old Excel
    ws["W1"] = ArrayFormula("W1:W6", "=Data!J2:J7*2")  # Excel's own array formula
    wb.save(tmp_path / "book.xlsx")
    book = tmp_path / "book.xlsx"
    assert main(["refresh", str(book)]) == 0
    assert read_marks(read_package(book))[("Risk Calc", "P1")] == Mark("P1:T8", False)
    formulas = openpyxl.load_workbook(book)["Risk Calc"]
    values = openpyxl.load_workbook(book, data_only=True)["Risk Calc"]
    assert formulas["P1"].value == "=COMPONENTVAR(Returns, Weights, 0.95)"
    d = xv.component_var(r, w, 0.95, 1, method="historical")
    np.testing.assert_allclose([values[f"S{i}"].value for i in range(2, 8)], d.component, rtol=1e-12)
    assert [values[f"P{i}"].value for i in range(1, 9)] == ["Asset", *assets, "Total"]
    own = formulas["W1"].value
    assert isinstance(own, ArrayFormula) and own.ref == "W1:W6"
    np.testing.assert_allclose([values[f"W{i}"].value for i in range(1, 7)], 2 * w, rtol=1e-12)


def test_a_refresh_respects_a_user_name_and_a_snapshot_has_no_marks(tmp_path: Path) -> None:
    risk_book(tmp_path / "b.xlsx", rows=150)
    wb = openpyxl.load_workbook(tmp_path / "b.xlsx")
    wb.defined_names["Table"] = DefinedName("Table", attr_text="'Risk Calc'!$A$8:$E$15")
    wb.save(tmp_path / "book.xlsx")
    assert main(["refresh", str(tmp_path / "book.xlsx"), "-o", str(tmp_path / "out.xlsx")]) == 0
    out = read_package(tmp_path / "out.xlsx")
    assert set(read_marks(out)) == {("Risk Calc", "A8"), ("Risk Calc", "H8")}
    assert openpyxl.load_workbook(tmp_path / "out.xlsx").defined_names["Table"].attr_text == \
        "'Risk Calc'!$A$8:$E$15"
    snap = package_from_bytes(values_only(out), tmp_path / "snap.xlsx")
    book = snap.parts[snap.workbook_part]
    assert read_marks(snap) == {} and SPILL_PREFIX.encode() not in book and ARRAY_PREFIX.encode() not in book
    assert b'name="Table"' in book


@pytest.mark.parametrize("prefix", [SPILL_PREFIX, ARRAY_PREFIX])
def test_the_add_in_uses_the_same_names(prefix: str) -> None:
    from xl_var_cli.addin import RIBBON_VBA

    vba = RIBBON_VBA.read_text(encoding="ascii")
    assert f'= "{prefix}"' in vba


def test_a_portable_spill_the_engine_cannot_calculate_keeps_its_values_and_its_name(tmp_path: Path) -> None:
    book, changed = tmp_path / "book.xlsx", tmp_path / "changed.xlsx"
    risk_book(book, rows=150)
    assert main(["refresh", str(book)]) == 0
    before = openpyxl.load_workbook(book, data_only=True)["Risk Calc"]
    table = [[c.value for c in row] for row in before["A8:E15"]]
    rezip(book, changed, {"xl/worksheets/sheet2.xml": (b"<f>COMPONENTVAR(Returns, Weights, 0.99)</f>",
                                                         b"<f>COMPONENTVAR(Returns, Weights, FOO(1))</f>")})
    assert main(["refresh", str(changed)]) == 0
    assert read_marks(read_package(changed))[("Risk Calc", "A8")] == Mark("A8:E15", True)
    after = openpyxl.load_workbook(changed, data_only=True)["Risk Calc"]
    assert [[c.value for c in row] for row in after["A8:E15"]] == table
