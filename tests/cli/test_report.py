"""xl-var report: template inputs filled, every formula computed, charts and heat maps added.

Numbers are checked against the engine called directly on the same data.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from xlvar_books import sample

import xl_var as xv
from workbooks import SAMPLE_RETURNS, SAMPLE_WEIGHTS, TEMPLATES
from xl_var_cli.main import main
from xl_var_cli.safexml import read_package
from xl_var_cli.spillmarks import Mark, read_marks

METHODS = ("historical", "normal", "t", "modified", "ewma", "fhs")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("report") / "report.xlsx"
    assert main(["report", "--returns", str(SAMPLE_RETURNS), "--weights", str(SAMPLE_WEIGHTS), "-o", str(out)]) == 0
    r, w, assets, _ = sample()
    return {"out": out, "r": r, "w": w, "assets": assets,
            "values": openpyxl.load_workbook(out, data_only=True), "formulas": openpyxl.load_workbook(out)}


def test_inputs_fill_the_named_ranges(report: dict) -> None:
    wb, r, w = report["values"], report["r"], report["w"]
    assert wb.defined_names["Returns"].attr_text == "'Returns'!$A$1:$G$783"
    assert wb.defined_names["Weights"].attr_text == "'Inputs'!$B$4:$B$9"
    data = wb["Returns"]
    assert [c.value for c in data[1]][:7] == ["Date", *report["assets"]]
    np.testing.assert_array_equal([[c.value for c in row] for row in data["B2:G783"]], r)
    np.testing.assert_array_equal([c.value for (c,) in wb["Inputs"]["B4:B9"]], w)
    assert wb["Inputs"]["B2"].value == pytest.approx(1.0)  # =SUM(Weights) over the resized name


def test_every_method_matches_the_engine(report: dict) -> None:
    ws, r, w = report["values"]["Report"], report["r"], report["w"]
    for i, method in enumerate(METHODS):
        res = xv.portfolio_var(r, w, 0.99, 1, method=method)
        row = 11 + i
        assert ws[f"A{row}"].value == method
        assert ws[f"B{row}"].value == pytest.approx(res.var, rel=1e-12)
        assert ws[f"C{row}"].value == pytest.approx(res.es, rel=1e-12)
        assert ws[f"D{row}"].value == pytest.approx(res.var * 1_000_000, rel=1e-12)
    stressed = xv.stress_correlation(None, 0.5, "shift", returns=r)
    assert ws["B17"].value == pytest.approx(xv.portfolio_var(r, w, 0.99, 1, method="normal", corr=stressed).var,
                                            rel=1e-12)


def test_spilled_tables_match_the_engine(report: dict) -> None:
    wb, r, w = report["values"], report["r"], report["w"]
    d = xv.component_var(r, w, 0.99, 1, method="historical")
    ws = wb["Report"]
    assert [ws[f"A{i}"].value for i in range(21, 29)] == ["Asset", *report["assets"], "Total"]
    np.testing.assert_allclose([ws[f"D{i}"].value for i in range(22, 28)], d.component, rtol=1e-12)
    assert ws["D28"].value == pytest.approx(d.total, rel=1e-12)
    corr = np.array([[c.value for c in row] for row in wb["Correlation"]["B4:G9"]], dtype=float)
    np.testing.assert_allclose(corr, xv.correlation_matrix(r), rtol=1e-12)
    stressed = np.array([[c.value for c in row] for row in wb["Stressed"]["B4:G9"]], dtype=float)
    np.testing.assert_allclose(stressed, xv.stress_correlation(None, 0.5, "shift", returns=r), rtol=1e-12)
    formulas = report["formulas"]
    assert formulas["Report"]["A21"].value == '=COMPONENTVAR(Returns, Weights, Confidence, Horizon, "historical")'
    assert formulas["Report"]["B11"].value == '=AGGVAR(Returns, Weights, Confidence, Horizon, "historical")'


def test_charts_point_at_the_results(report: dict) -> None:
    wb = report["formulas"]
    bar, scatter = wb["Report"]._charts
    assert bar.series[0].val.numRef.f == "'Report'!$D$22:$D$27"  # component VaR of the six assets
    assert bar.series[0].cat.numRef.f == "'Report'!$A$22:$A$27" or bar.series[0].cat.strRef.f == \
        "'Report'!$A$22:$A$27"
    marks = {s.tx.v: (s.xVal.numRef.f, s.yVal.numRef.f) for s in scatter.series}
    assert marks["VaR 99%"] == ("'Chart data'!$D$2:$D$3", "'Chart data'!$E$2:$E$3")
    values = report["values"]
    data = values["Chart data"]
    hist_var, hist_es = values["Report"]["B11"].value, values["Report"]["C11"].value
    assert data["D2"].value == data["D3"].value == pytest.approx(-hist_var, rel=1e-12)
    assert data["F2"].value == pytest.approx(-hist_es, rel=1e-12)
    counts = [data[f"B{i}"].value for i in range(2, 82, 2)]
    assert sum(counts) == len(report["r"])  # every day is in one bin
    pnl = report["r"] @ report["w"]
    assert data["A2"].value == pytest.approx(pnl.min()) and data["A81"].value == pytest.approx(pnl.max())


def test_heat_maps_are_colour_scales_with_labels(report: dict) -> None:
    wb = report["formulas"]
    for title in ("Correlation", "Stressed"):
        ws = wb[title]
        rules = {str(rng.sqref): rng.rules for rng in ws.conditional_formatting}
        (rule,) = rules["B4:G9"]
        assert rule.type == "colorScale"
        assert [float(v.val) for v in rule.colorScale.cfvo] == [-1, 0, 1]
        assert [ws.cell(row=3, column=c).value for c in range(2, 8)] == list(report["assets"])
        assert [ws.cell(row=r, column=1).value for r in range(4, 10)] == list(report["assets"])


def test_metadata_and_calc_settings(report: dict) -> None:
    with zipfile.ZipFile(report["out"]) as z:
        assert 'calcId="191029"' in z.read("xl/workbook.xml").decode()
    # the spilled tables are stored portably, marked for the add-in and the next refresh
    marks = read_marks(read_package(report["out"]))
    assert marks[("Report", "A21")] == Mark("A21:E28", True)
    assert all(m.dynamic and ":" in m.ref for m in marks.values()) and len(marks) >= 3


def test_text_from_data_is_never_a_formula(tmp_path: Path) -> None:
    r, w, _, dates = sample(rows=120, assets=4)
    names = ["=HYPERLINK(\"http://x\")", "+A", "-B", "@C"]
    lines = ["Date," + ",".join(f'"{n}"' if "," in n or '"' in n else n for n in
                                  [n.replace('"', '""') for n in names])]
    lines += [f"{d}," + ",".join(repr(float(x)) for x in row) for d, row in zip(dates, r, strict=True)]
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "w.csv").write_text("\n".join(repr(float(x)) for x in w) + "\n")
    out = tmp_path / "report.xlsx"
    assert main(["report", "--returns", str(tmp_path / "r.csv"), "--weights", str(tmp_path / "w.csv"),
                 "-o", str(out)]) == 0
    wb = openpyxl.load_workbook(out)
    assert [c.value for c in wb["Returns"][1]][1:5] == names
    assert all(c.data_type == "s" for c in wb["Returns"][1][1:5])
    assert [wb["Inputs"][f"A{i}"].value for i in range(4, 8)] == names
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>HYPERLINK" not in z.read(name).decode()
    values = openpyxl.load_workbook(out, data_only=True)
    assert [values["Report"][f"A{i}"].value for i in range(22, 26)] == names  # spilled as text


def test_a_restyled_template_and_xlsx_inputs(tmp_path: Path) -> None:
    """A template without the optional names (Assets, chart cells) and inputs given as .xlsx files."""
    wb = openpyxl.load_workbook(TEMPLATES / "report.xlsx")
    for name in ("Assets", "ComponentChart", "PnLChart", "Summary"):
        del wb.defined_names[name]
    wb["Report"]["A1"] = "Our fund's risk"
    template = tmp_path / "mine.xlsx"
    wb.save(template)
    r, w, assets, dates = sample(rows=200, assets=3)
    rw = openpyxl.Workbook()
    rw.active.append(["Date", *assets])
    for d, row in zip(dates, r, strict=True):
        rw.active.append([d, *map(float, row)])
    rw.save(tmp_path / "r.xlsx")
    ww = openpyxl.Workbook()
    for a, x in zip(assets, w, strict=True):
        ww.active.append([a, float(x)])
    ww.save(tmp_path / "w.xlsx")
    out = tmp_path / "out.xlsx"
    assert main(["report", "--template", str(template), "--returns", str(tmp_path / "r.xlsx"),
                 "--weights", str(tmp_path / "w.xlsx"), "-o", str(out)]) == 0
    ws = openpyxl.load_workbook(out, data_only=True)["Report"]
    assert ws["A1"].value == "Our fund's risk"
    assert ws["B11"].value == pytest.approx(xv.portfolio_var(r, w, 0.99, 1, method="historical").var, rel=1e-12)
    assert [ws[f"A{i}"].value for i in range(22, 26)] == [*assets, "Total"]
    assert ws["A27"].value is None  # the template's six-asset table shrank to three
    assert len(openpyxl.load_workbook(out)["Report"]._charts) == 2
