"""xl-var refresh: every formula recalculated without Excel, results stored next to the formulas.

Expected numbers come from the engine called directly on the same data (an independent
path: no workbook, no UDF layer), plus identities that must hold in any correct book
(components add up to the total, ordinary formulas on top of xl-var results).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula
from xlvar_books import rezip, risk_book, sample

import xl_var as xv
from xl_var_cli.main import main
from xl_var_cli.workbook.package import read_package
from xl_var_cli.workbook.portable_arrays import Mark, read_marks

SHEET = "Risk Calc"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("refresh")
    src, out = folder / "book.xlsx", folder / "out.xlsx"
    r, w, assets = risk_book(src)
    before = src.read_bytes()
    assert main(["refresh", str(src), "-o", str(out)]) == 0
    return {"src": src, "out": out, "before": before, "r": r, "w": w, "assets": assets,
            "values": openpyxl.load_workbook(out, data_only=True)[SHEET],
            "formulas": openpyxl.load_workbook(out)[SHEET]}


def test_input_untouched_with_output_option(refreshed: dict) -> None:
    assert refreshed["src"].read_bytes() == refreshed["before"]


def test_xl_var_cells_match_the_engine(refreshed: dict) -> None:
    ws, r, w = refreshed["values"], refreshed["r"], refreshed["w"]
    hist = xv.portfolio_var(r, w, 0.99, 1, method="historical")
    normal = xv.portfolio_var(r, w, 0.99, 1, method="normal")
    assert ws["A1"].value == pytest.approx(hist.var, rel=1e-12)
    assert ws["A2"].value == pytest.approx(normal.es, rel=1e-12)  # blank arguments mean the defaults
    assert ws["A5"].value == pytest.approx(xv.portfolio_volatility(r, w), rel=1e-12)
    assert ws["A23"].value.startswith("#NUM! confidence")


def test_ordinary_formulas_on_top_of_xl_var_results(refreshed: dict) -> None:
    ws = refreshed["values"]
    assert ws["A3"].value == pytest.approx(ws["A1"].value * 1e6, rel=1e-12)
    assert ws["A4"].value == pytest.approx(ws["A2"].value / ws["A1"].value, rel=1e-12)
    assert ws["A6"].value == "=looks like a formula"  # text stays text ...
    assert ws["B6"].value == len("=looks like a formula")  # ... and formulas see it as text


def test_spills_fill_their_ranges(refreshed: dict) -> None:
    ws, r, w, assets = refreshed["values"], refreshed["r"], refreshed["w"], refreshed["assets"]
    d = xv.component_var(r, w, 0.99, 1, method="historical")
    table = [[c.value for c in row] for row in ws["A8:E15"]]
    assert table[0] == ["Asset", "Weight", "Marginal", "Component", "% of total"]
    assert [row[0] for row in table[1:]] == [*assets, "Total"]
    np.testing.assert_allclose([row[3] for row in table[1:7]], d.component, rtol=1e-12)
    np.testing.assert_allclose([row[2] for row in table[1:7]], d.marginal, rtol=1e-12)
    assert table[7][3] == pytest.approx(ws["A1"].value, rel=1e-12)  # Total = AGGVAR
    assert ws["A20"].value == pytest.approx(ws["A1"].value, rel=1e-9)  # Euler: components add up
    stressed = xv.stress_correlation(None, 0.5, "shift", returns=r)
    got = np.array([[c.value for c in row] for row in ws["H8:M13"]], dtype=float)
    np.testing.assert_allclose(got, stressed, rtol=1e-12)
    assert ws["A21"].value == pytest.approx(stressed.sum(), rel=1e-12)  # SUM(H8#)
    assert ws["H14"].value is None and ws["N8"].value is None


def test_formulas_stay_in_place(refreshed: dict) -> None:
    ws = refreshed["formulas"]
    assert ws["A1"].value == "=AGGVAR(Returns, Weights, 0.99)"
    assert ws["A2"].value == '=AGGES(Returns, Weights, , , "normal")'
    assert ws["A21"].value == "=SUM(_xlfn.ANCHORARRAY(H8))"
    # spills are stored portably: the formula in the anchor as a plain formula, values around it,
    # and a hidden name over each spill range that the add-in and the next refresh read back
    assert ws["A8"].value == "=COMPONENTVAR(Returns, Weights, 0.99)"
    assert ws["H8"].value == "=STRESSCORR(Data!B2:G301, 0.5)"
    assert isinstance(ws["B9"].value, float) and isinstance(ws["L13"].value, float)
    with zipfile.ZipFile(refreshed["out"]) as z:
        sheet = z.read("xl/worksheets/sheet2.xml").decode()
        assert 'cm="' not in sheet and 't="array"' not in sheet
        assert '<c r="A8" t="str"><f>COMPONENTVAR(Returns, Weights, 0.99)</f><v>Asset</v></c>' in sheet
        with zipfile.ZipFile(refreshed["src"]) as before:
            assert '<dimension ref="A1:H31" />' in before.read("xl/worksheets/sheet2.xml").decode()
        assert '<dimension ref="A1:M31"/>' in sheet  # widened to the stressed matrix spilling to M13
        assert "xl/metadata.xml" not in z.namelist()  # no Excel dynamic array left to describe
        book = z.read("xl/workbook.xml").decode()
        assert 'calcId="191029"' in book and "fullCalcOnLoad" not in book
        assert ('<definedName name="_xlvar_spill_1" hidden="1">\'Risk Calc\'!$A$8:$E$15</definedName>'
                '<definedName name="_xlvar_spill_2" hidden="1">\'Risk Calc\'!$H$8:$M$13</definedName>'
                '</definedNames>') in book


def test_blocked_spill_and_unsupported_function(refreshed: dict) -> None:
    values, formulas = refreshed["values"], refreshed["formulas"]
    assert formulas["A30"].value == "=CORRMATRIX(Returns)"  # stays a plain formula: B31 is in the way
    assert values["A30"].value == 1.0 and values["B31"].value == "blocker"
    assert formulas["A22"].value == "=FOO(A1)" and values["A22"].value is None  # left as stored


def test_in_place_twice_is_stable(refreshed: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = tmp_path / "again.xlsx"
    book.write_bytes(refreshed["out"].read_bytes())
    assert main(["refresh", str(book)]) == 0
    out = capsys.readouterr().out
    assert "FOO" in out and "kept its stored value" in out
    again = openpyxl.load_workbook(book, data_only=True)[SHEET]
    for ref in ("A1", "A2", "A3", "A20", "A21", "D15", "M13"):
        assert again[ref].value == pytest.approx(refreshed["values"][ref].value, rel=1e-12)
    assert read_marks(read_package(book)) == {(SHEET, "A8"): Mark("A8:E15", True), (SHEET, "H8"): Mark("H8:M13", True)}


def test_refreshing_the_same_book_twice_gives_the_same_bytes(refreshed: dict, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    later = time.time() + 86_400.0  # a day later: no zip entry may carry the time of writing
    monkeypatch.setattr(zipfile.time, "time", lambda: later)
    second = tmp_path / "second.xlsx"
    assert main(["refresh", str(refreshed["src"]), "-o", str(second)]) == 0
    assert second.read_bytes() == refreshed["out"].read_bytes()


def test_spill_shrinks_when_data_shrink(refreshed: dict, tmp_path: Path) -> None:
    smaller = tmp_path / "four.xlsx"
    rezip(refreshed["out"], smaller, {"xl/workbook.xml": (b"Data!$A$1:$G$301", b"Data!$A$1:$E$301")})
    rezip(smaller, tmp_path / "four2.xlsx", {"xl/workbook.xml": (b"Data!$J$2:$J$7", b"Data!$J$2:$J$5")})
    book = tmp_path / "four2.xlsx"
    assert main(["refresh", str(book)]) == 0
    ws = openpyxl.load_workbook(book, data_only=True)[SHEET]
    r, w = refreshed["r"][:, :4], refreshed["w"][:4]
    d = xv.component_var(r, w, 0.99, 1, method="historical")
    assert [ws[f"A{i}"].value for i in range(9, 14)] == [*refreshed["assets"][:4], "Total"]
    np.testing.assert_allclose([ws[f"D{i}"].value for i in range(9, 13)], d.component, rtol=1e-12)
    assert all(ws[f"{c}{i}"].value is None for c in "ABCDE" for i in (14, 15))  # old spill cleared
    assert read_marks(read_package(book))[(SHEET, "A8")] == Mark("A8:E13", True)


def test_failure_leaves_the_input_byte_for_byte(refreshed: dict, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import xl_var_cli.workbook.pipeline as pipeline

    book = tmp_path / "book.xlsx"
    book.write_bytes(refreshed["before"])

    def broken(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline, "write_values", broken)
    assert main(["refresh", str(book)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "book.xlsx" in err and "disk on fire" in err
    assert book.read_bytes() == refreshed["before"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_values_only_needs_an_output(refreshed: dict, tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    book.write_bytes(refreshed["before"])
    assert main(["refresh", str(book), "--values-only"]) == 2
    assert book.read_bytes() == refreshed["before"]
    snap = tmp_path / "snap.xlsx"
    assert main(["refresh", str(book), "-o", str(snap), "--values-only"]) == 0
    ws = openpyxl.load_workbook(snap)[SHEET]
    assert ws["A1"].value == pytest.approx(refreshed["values"]["A1"].value, rel=1e-12)
    assert ws["D15"].value == pytest.approx(refreshed["values"]["D15"].value, rel=1e-12)


def test_formula_text_for_the_engine() -> None:
    from xl_var_cli.workbook.calc.grammar import parse

    def call(text: str) -> tuple:
        return parse(text, 1, 1)[0]

    a1, a2 = ("ref", None, (0, 0, 0, 0), (False,) * 4), ("ref", None, (1, 0, 1, 0), (False,) * 4)
    # an omitted argument reaches an xl-var function as missing (None), not as 0
    assert call('=AGGVAR(A1, , ,"x")') == ("call", "AGGVAR", (a1, ("missing",), ("missing",), ("str", "x")))
    assert call("=[1]!AGGVAR(A1,)") == ("call", "AGGVAR", (a1, ("missing",)))  # add-in prefixes stripped
    assert call("=_xludf.AGGVAR(A1)+'C:\\x\\xl_var.xlam'!AGGVAR(A2)") == \
        ("op", "+", ("call", "AGGVAR", (a1,)), ("call", "AGGVAR", (a2,)))
    assert call("=AGGVAR()") == ("call", "AGGVAR", ())
    spill = ("spill", ("ref", "My Sheet", (4, 3, 4, 3), (True,) * 4))
    assert call("=SUM(_xlfn.ANCHORARRAY('My Sheet'!$C$4))") == ("call", "SUM", (spill,))
    assert call("=SUM('My Sheet'!$C$4#)") == ("call", "SUM", (spill,))  # typed as Excel shows it


def test_a_dynamic_array_blocked_by_a_cell_gives_spill_error(tmp_path: Path) -> None:
    from xl_var_cli.workbook.cells import ErrorValue
    from xl_var_cli.workbook.engine import evaluate

    r, w, _ = risk_book(tmp_path / "b.xlsx", rows=150)
    wb = openpyxl.load_workbook(tmp_path / "b.xlsx")
    ws = wb[SHEET]
    ws["A8"] = ArrayFormula("A8:E13", "=COMPONENTVAR(Returns, Weights, 0.99)")  # stored for four assets
    ws["A15"] = "a note"  # where the six-asset table's Total row must go
    ev = evaluate(wb, dynamic=[(SHEET, "A8")])
    assert ev.values[(SHEET, "A8")] == ErrorValue("#SPILL!")
    assert ev.arrays[(SHEET, "A8")] == "A8"
    assert ev.values[(SHEET, "A1")] == pytest.approx(xv.portfolio_var(r, w, 0.99, 1, method="historical").var)


def test_shared_formulas_stay_shared(tmp_path: Path) -> None:
    """Excel stores filled-down formulas as one shared group; turning one into a spill would break it."""
    risk_book(tmp_path / "b.xlsx", rows=150)
    wb = openpyxl.load_workbook(tmp_path / "b.xlsx")
    ws = wb[SHEET]
    ws["P1"], ws["P20"] = "=CORRMATRIX(Returns)", "=CORRMATRIX(Returns)"
    wb.save(tmp_path / "plain.xlsx")
    rezip(tmp_path / "plain.xlsx", tmp_path / "shared.xlsx", {"xl/worksheets/sheet2.xml": (
        b'<c r="P1"><f>CORRMATRIX(Returns)</f><v /></c>',
        b'<c r="P1"><f t="shared" ref="P1:P20" si="0">CORRMATRIX(Returns)</f><v /></c>')})
    rezip(tmp_path / "shared.xlsx", tmp_path / "book.xlsx", {"xl/worksheets/sheet2.xml": (
        b'<c r="P20"><f>CORRMATRIX(Returns)</f><v /></c>', b'<c r="P20"><f t="shared" si="0"/><v /></c>')})
    book = tmp_path / "book.xlsx"
    assert main(["refresh", str(book)]) == 0
    with zipfile.ZipFile(book) as z:
        sheet = z.read("xl/worksheets/sheet2.xml").decode()
    assert '<f t="shared" ref="P1:P20" si="0">CORRMATRIX(Returns)</f><v>1</v>' in sheet
    assert '<f t="shared" si="0"/><v>1</v>' in sheet


def test_awkward_sheet_names_and_array_constants(tmp_path: Path) -> None:
    r, _, _, dates = sample(rows=150, assets=2)
    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "O'Brien Data"
    data.append(["Date", "X", "Y"])
    for d, row in zip(dates, r, strict=True):
        data.append([d, *map(float, row)])
    calc = wb.create_sheet("Résumé (2)")
    calc["A1"] = "=AGGVAR('O''Brien Data'!A1:C151, {0.5,0.5})"
    calc["A3"] = "=CORRMATRIX('O''Brien Data'!B2:C151)"
    calc["D1"] = "=SUM(_xlfn.ANCHORARRAY('Résumé (2)'!A3))"
    wb.save(tmp_path / "odd.xlsx")
    assert main(["refresh", str(tmp_path / "odd.xlsx")]) == 0
    ws = openpyxl.load_workbook(tmp_path / "odd.xlsx", data_only=True)["Résumé (2)"]
    w = np.array([0.5, 0.5])
    assert ws["A1"].value == pytest.approx(xv.portfolio_var(r, w, 0.99, 1, method="historical").var, rel=1e-12)
    assert ws["D1"].value == pytest.approx(xv.correlation_matrix(r).sum(), rel=1e-12)
    assert ws["B3"].value == pytest.approx(xv.correlation_matrix(r)[0, 1], rel=1e-12)


def test_refreshed_package_is_the_file_it_writes(refreshed: dict) -> None:
    # write_values hands on the package it built; its parts must be exactly what its bytes unzip to.
    from xl_var_cli.workbook.package import package_from_bytes
    from xl_var_cli.workbook.pipeline import recalculate

    new = recalculate(read_package(refreshed["src"])).package
    again = package_from_bytes(new.raw, refreshed["out"])
    assert again.parts == new.parts and again.workbook_part == new.workbook_part
    written = package_from_bytes(refreshed["out"].read_bytes(), refreshed["out"])
    assert written.parts == new.parts  # (the zip bytes differ: an added part's entry is dated now)


def test_only_a_call_of_an_xl_var_function_counts_as_one() -> None:
    from xl_var_cli.workbook.calc.grammar import parse
    from xl_var_cli.workbook.engine import _calls

    ours = frozenset({"RETURNS", "AGGVAR"})

    def calls(text: str) -> bool:
        return _calls(parse(text, 1, 1)[0], ours)

    assert calls("=RETURNS(A1:B3)") and calls("=1+_xludf.AGGVAR(A1, B1)") and calls("=SUM([1]!AGGVAR(A1))")
    assert not calls("=Returns!A2") and not calls("=SUM('Returns'!A1:A3)") and not calls("=XLVAR_RETURNS(A1)")
    assert not calls('="AGGVAR"') and not calls("=SUM(Returns)")  # text, and a defined name


def test_a_sheet_named_like_an_xl_var_function_does_not_make_a_spill(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Returns"
    for row in ([0.01, 0.02], [-0.03, 0.04], [0.05, -0.06]):
        ws.append(row)
    calc = wb.create_sheet("Calc")
    calc["A1"] = "=SUM(Returns!A1:A3)"
    calc["D5"] = "=Returns!A1:B2"  # a plain (legacy) formula: it stays in its one cell
    wb.save(tmp_path / "book.xlsx")
    assert main(["refresh", str(tmp_path / "book.xlsx"), "-o", str(tmp_path / "out.xlsx")]) == 0
    formulas = openpyxl.load_workbook(tmp_path / "out.xlsx")["Calc"]
    values = openpyxl.load_workbook(tmp_path / "out.xlsx", data_only=True)["Calc"]
    assert formulas["D5"].value == "=Returns!A1:B2" and formulas["A1"].value == "=SUM(Returns!A1:A3)"
    assert values["A1"].value == pytest.approx(0.01 - 0.03 + 0.05, rel=1e-12)
    assert [values[c].value for c in ("E5", "D6", "E6")] == [None, None, None]


# ----------------------------------------------------------------------------- safe by default
def _small_book(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["A2"] = 2, "=A1*21"
    wb.save(path)
    return path


def _with_members(path: Path, members: dict[str, bytes], rels: str = "", types: str = "") -> None:
    """Add ``members`` to the package at ``path`` (and workbook relationships / content types)."""
    with zipfile.ZipFile(path) as z:
        old = {i.filename: z.read(i) for i in z.infolist()}
    old["xl/_rels/workbook.xml.rels"] = old["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", rels.encode() + b"</Relationships>")
    old["[Content_Types].xml"] = old["[Content_Types].xml"].replace(b"</Types>", types.encode() + b"</Types>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in {**old, **members}.items():
            z.writestr(name, data)


def test_a_read_only_workbook_is_refused_and_left_as_it_is(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    book = _small_book(tmp_path / "book.xlsx")
    before = book.read_bytes()
    book.chmod(0o444)  # root may write any file: the permission bits decide, not os.access
    assert main(["refresh", str(book)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "read-only" in err and "-o OUT.xlsx" in err
    assert book.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]
    out = _small_book(tmp_path / "out.xlsx")
    out.chmod(0o444)
    book.chmod(0o644)
    assert main(["refresh", str(book), "-o", str(out)]) == 2
    assert "read-only" in capsys.readouterr().err
    assert main(["refresh", str(book)]) == 0  # writable again: refreshed in place


def test_macros_are_kept_byte_for_byte_and_said_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = _small_book(tmp_path / "book.xlsm")
    vba = bytes(range(256)) * 64
    _with_members(book, {"xl/vbaProject.bin": vba},
                  '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/'
                  'vbaProject" Target="vbaProject.bin"/>',
                  '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>')
    assert main(["refresh", str(book)]) == 0
    out = capsys.readouterr().out
    assert [line.strip() for line in out.splitlines()[1:]] == ["kept the workbook's macros (its VBA project) unchanged"]
    with zipfile.ZipFile(book) as z:
        assert z.read("xl/vbaProject.bin") == vba
    assert openpyxl.load_workbook(book, data_only=True).active["A2"].value == 42
    assert main(["refresh", str(book), "-o", str(tmp_path / "copy.xlsx")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "macros" in err and "copy.xlsm" in err
    assert not (tmp_path / "copy.xlsx").exists()


_RSS = """
import resource, sys
from xl_var_cli.main import main
assert main(["refresh", sys.argv[1], "-o", sys.argv[2] + ".warm.xlsx"]) == 0  # imports and caches first
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert main(["refresh", sys.argv[2], "-o", sys.argv[3]]) == 0
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)  # Linux: KiB
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB")
def test_unread_parts_are_copied_compressed(tmp_path: Path) -> None:
    """A workbook whose image inflates to 300 MB costs no more memory than its useful parts."""
    small = _small_book(tmp_path / "small.xlsx")
    big = _small_book(tmp_path / "big.xlsx")
    _with_members(big, {})
    size, chunk = 300 * 2**20, bytes(2**20)
    with zipfile.ZipFile(big, "a", zipfile.ZIP_DEFLATED) as z, z.open("xl/media/big.bin", "w") as f:
        for _ in range(size // len(chunk)):
            f.write(chunk)
    out = tmp_path / "out.xlsx"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in (".", "installer", "udfs"))}
    done = subprocess.run([sys.executable, "-c", _RSS, str(small), str(big), str(out)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) < 64 * 2**20  # far below the 300 MB it inflates to
    with zipfile.ZipFile(big) as src, zipfile.ZipFile(out) as dst:
        a, b = src.getinfo("xl/media/big.bin"), dst.getinfo("xl/media/big.bin")
        assert (a.CRC, a.file_size, a.compress_size, a.compress_type) == \
            (b.CRC, b.file_size, b.compress_size, b.compress_type)
        with dst.open(b) as f:  # inflates as the same bytes, CRC checked by zipfile at the end
            assert sum(len(block) for block in iter(lambda: f.read(2**22), b"")) == size
    assert openpyxl.load_workbook(out, data_only=True).active["A2"].value == 42


def test_excel_legacy_semantics_and_no_python_text(tmp_path: Path) -> None:
    """Implicit intersection, INDEX with 0, complex results, Excel 365 arrays kept whole (issue 12)."""
    from xl_var_cli.workbook.cells import ErrorValue
    from xl_var_cli.workbook.engine import evaluate

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(1, 5):
        ws.cell(row=r, column=1, value=f"Text{r}")
        for c in range(2, 5):
            ws.cell(row=r, column=c, value=10 * r + c)
    ws["F2"] = "=LOWER(A1:A4)"  # one column: the value on the formula's row
    ws["F6"] = "=LOWER(A1:A4)"  # outside the column's rows: #VALUE!
    ws["G3"] = "=B1:D1*2"  # one row, formula in column G outside it: #VALUE!
    ws["C7"] = "=B1:D1*2"  # column C: the value in column C
    ws["G4"] = "=B1:C2+1"  # two rows and columns: #VALUE!
    ws["H1"] = "=(-8)^(1/3)"  # Excel: #NUM!, never Python's complex number as text
    ws["H2"] = "={7,8,9}"  # an array constant shows its first element
    ws["J1"] = ArrayFormula("J1:L1", "=INDEX(B1:D4,2,0)")  # column 0: the whole row
    ws["J3"] = ArrayFormula("J3:J6", "=INDEX(B1:D4,0,3)")  # row 0: the whole column
    wb.save(tmp_path / "book.xlsx")
    ev = evaluate(openpyxl.load_workbook(tmp_path / "book.xlsx"), dynamic={("Sheet", "J1"), ("Sheet", "J3")})
    v = {coord: value for (_, coord), value in ev.values.items()}
    assert (v["F2"], v["F6"], v["G3"], v["C7"], v["G4"]) == ("text2", "#VALUE!", "#VALUE!", 26.0, "#VALUE!")
    assert isinstance(v["F6"], ErrorValue) and v["H1"] == ErrorValue("#NUM!") and v["H2"] == 7.0
    assert [v[c] for c in ("J1", "K1", "L1")] == [22.0, 23.0, 24.0]
    assert [v[f"J{r}"] for r in range(3, 7)] == [14.0, 24.0, 34.0, 44.0]
    assert ev.arrays[("Sheet", "J1")] == "J1:L1" and ev.arrays[("Sheet", "J3")] == "J3:J6"
    assert not any(isinstance(x, str) and ("<" in x or "j" in x) for x in v.values())


def test_a_workbook_without_xl_var_calls_never_imports_the_udf_layer(tmp_path: Path) -> None:
    """xl-var's functions are imported the first time a formula names a function Excel lacks."""
    import subprocess
    import sys

    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["A2"] = 2.0, "=A1*3+SUM(A1:A1)"
    wb.save(tmp_path / "plain.xlsx")
    code = ("import sys, openpyxl; from xl_var_cli.workbook.engine import evaluate; "
            f"ev = evaluate(openpyxl.load_workbook({str(tmp_path / 'plain.xlsx')!r})); "
            "print(ev.values[('Sheet', 'A2')], 'xl_var_udfs' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["8.0", "False"]
