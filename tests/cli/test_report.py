"""xl-var report: template inputs filled, every formula computed, charts and heat maps added.

Numbers are checked against the engine called directly on the same data.
"""

from __future__ import annotations

import datetime as dt
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from xlvar_books import sample

import xl_var as xv
from workbooks import (
    SAMPLE_MARKET,
    SAMPLE_POSITIONS,
    SAMPLE_PRICES,
    SAMPLE_RETURNS,
    SAMPLE_SURFACE,
    SAMPLE_VALUATION,
    SAMPLE_WEIGHTS,
    TEMPLATES,
)
from xl_var_cli.charts import margin_axes
from xl_var_cli.datafiles import read_book, read_returns
from xl_var_cli.main import main
from xl_var_cli.workbook.package import read_package
from xl_var_cli.workbook.portable_arrays import Mark, read_marks

sys.path.insert(0, str(TEMPLATES))
import make_template

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
        row = 12 + i
        assert ws[f"A{row}"].value == method
        assert ws[f"B{row}"].value == pytest.approx(res.var, rel=1e-12)
        assert ws[f"C{row}"].value == pytest.approx(res.es, rel=1e-12)
        assert ws[f"D{row}"].value == pytest.approx(res.var * 1_000_000, rel=1e-12)
    stressed = xv.stress_correlation(None, 0.5, "shift", returns=r)
    assert ws["B18"].value == pytest.approx(xv.portfolio_var(r, w, 0.99, 1, method="normal", corr=stressed).var,
                                            rel=1e-12)


def test_spilled_tables_match_the_engine(report: dict) -> None:
    wb, r, w = report["values"], report["r"], report["w"]
    d = xv.component_var(r, w, 0.99, 1, method="historical")
    ws = wb["Report"]
    assert [ws[f"A{i}"].value for i in range(36, 44)] == ["Asset", *report["assets"], "Total"]
    np.testing.assert_allclose([ws[f"D{i}"].value for i in range(37, 43)], d.component, rtol=1e-12)
    assert ws["D43"].value == pytest.approx(d.total, rel=1e-12)
    corr = np.array([[c.value for c in row] for row in ws["H37:M42"]], dtype=float)
    np.testing.assert_allclose(corr, xv.correlation_matrix(r), rtol=1e-12)
    stressed = np.array([[c.value for c in row] for row in wb["Stress"]["B8:G13"]], dtype=float)
    np.testing.assert_allclose(stressed, xv.stress_correlation(None, 0.5, "shift", returns=r), rtol=1e-12)
    formulas = report["formulas"]
    assert formulas["Report"]["A36"].value == '=COMPONENTVAR(Returns,Weights,Confidence,Horizon,"historical")'
    assert formulas["Report"]["B12"].value == '=AGGVAR(Returns,Weights,Confidence,Horizon,"historical")/WeightUnit'
    assert formulas.defined_names["ComponentTable"].attr_text == "Report!$A$36"  # not a function's name


def test_as_of_date_window_and_backtest(report: dict) -> None:
    ws, r, w = report["values"]["Report"], report["r"], report["w"]
    _, _, _, dates = sample()
    assert ws["B3"].value.date().isoformat() == dates[-1] and ws["B4"].value.date().isoformat() == dates[0]
    assert ws["B5"].value == len(r) and ws["B6"].value == len(report["assets"])
    assert ws["A7"].value == "Weights are fractions of the portfolio value."
    b = xv.backtest(r @ w, xv.portfolio_var(r, w, 0.99, 1, method="historical").var, 0.99)
    table = dict((k.value, v.value) for k, v in ws["A23:B33"])
    assert table["Observations"] == len(r) and table["Exceptions"] == b.exceptions
    assert table["Kupiec p-value"] == pytest.approx(b.kupiec_p, rel=1e-12) and table["Zone"] == b.zone
    np.testing.assert_allclose([c.value for (c,) in report["values"]["Inputs"]["D4:D785"]], r @ w, rtol=1e-12)


def test_charts_point_at_the_results(report: dict) -> None:
    wb = report["formulas"]
    bar, scatter = wb["Report"]._charts
    assert bar.series[0].val.numRef.f == "'Report'!$D$37:$D$42"  # component VaR of the six assets
    assert bar.series[0].cat.numRef.f == "'Report'!$A$37:$A$42" or bar.series[0].cat.strRef.f == \
        "'Report'!$A$37:$A$42"
    assert bar.x_axis.scaling.orientation == "maxMin"  # the first asset on top, as in the table
    marks = {s.tx.v: (s.xVal.numRef.f, s.yVal.numRef.f) for s in scatter.series}
    assert marks["VaR 99%"] == ("'Chart data'!$D$2:$D$3", "'Chart data'!$E$2:$E$3")
    values = report["values"]
    data = values["Chart data"]
    hist_var, hist_es = values["Report"]["B12"].value, values["Report"]["C12"].value
    assert data["D2"].value == data["D3"].value == pytest.approx(-hist_var, rel=1e-12)
    assert data["F2"].value == pytest.approx(-hist_es, rel=1e-12)
    counts = [data[f"B{i}"].value for i in range(2, 82, 2)]
    assert sum(counts) == len(report["r"])  # every day is in one bin
    pnl = report["r"] @ report["w"]
    assert data["A2"].value == pytest.approx(pnl.min()) and data["A81"].value == pytest.approx(pnl.max())


def test_heat_maps_are_colour_scales_with_labels(report: dict) -> None:
    wb = report["formulas"]
    for title, ref, (row, col) in (("Report", "H37:M42", (37, 8)), ("Stress", "B8:G13", (8, 2))):
        ws = wb[title]
        rules = {str(rng.sqref): rng.rules for rng in ws.conditional_formatting}
        (rule,) = rules[ref]
        assert rule.type == "colorScale"
        assert [float(v.val) for v in rule.colorScale.cfvo] == [-1, 0, 1]
        assert [ws.cell(row=row - 1, column=c).value for c in range(col, col + 6)] == list(report["assets"])
        assert [ws.cell(row=r, column=col - 1).value for r in range(row, row + 6)] == list(report["assets"])


def test_metadata_and_calc_settings(report: dict) -> None:
    with zipfile.ZipFile(report["out"]) as z:
        assert 'calcId="191029"' in z.read("xl/workbook.xml").decode()
    # the spilled tables are stored portably, marked for the add-in and the next refresh
    marks = read_marks(read_package(report["out"]))
    assert marks[("Report", "A36")] == Mark("A36:E43", True)
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
    assert [values["Report"][f"A{i}"].value for i in range(37, 41)] == names  # spilled as text


def test_a_restyled_template_and_xlsx_inputs(tmp_path: Path) -> None:
    """A template without the optional names (Assets, chart cells) and inputs given as .xlsx files."""
    wb = openpyxl.load_workbook(TEMPLATES / "report.xlsx")
    for name in ("Assets", "ComponentChart", "PnLChart", "Summary", "PnL", "Backtest"):
        del wb.defined_names[name]
    wb["Report"]["A23"] = None  # the backtest formula needs PnL
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
    assert ws["B12"].value == pytest.approx(xv.portfolio_var(r, w, 0.99, 1, method="historical").var, rel=1e-12)
    assert [ws[f"A{i}"].value for i in range(37, 41)] == [*assets, "Total"]
    assert ws["A42"].value is None  # the template's six-asset table shrank to three
    assert len(openpyxl.load_workbook(out)["Report"]._charts) == 2


DOLLARS = {"BTC": 1_750_000, "ETH": 1_250_000, "SOL": 500_000, "USDC": 500_000, "SPX": 750_000, "GOLD": 250_000}


def _dollar_weights(path: Path, sign: str = "") -> Path:
    path.write_text("Asset,Position\n" + "".join(f'{a},"{sign}{x:,}"\n' for a, x in DOLLARS.items()))
    return path


def test_dollar_positions_are_money_and_never_multiplied_twice(tmp_path: Path) -> None:
    out = tmp_path / "usd.xlsx"
    assert main(["report", "--returns", str(SAMPLE_RETURNS), "--weights", str(_dollar_weights(tmp_path / "w.csv", "$")),
                 "-o", str(out)]) == 0
    r, _, _, _ = sample()
    w = np.array(list(DOLLARS.values()), dtype=float)
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb["Report"]
    assert ws["E5"].value == pytest.approx(w.sum()) and ws["E5"].number_format == '"$"#,##0'
    for i, method in enumerate(METHODS):
        res = xv.portfolio_var(r, w, 0.99, 1, method=method)  # dollars: the weights are dollars
        assert ws[f"D{12 + i}"].value == pytest.approx(res.var, rel=1e-12)
        assert ws[f"B{12 + i}"].value == pytest.approx(res.var / w.sum(), rel=1e-12)  # a fraction of the book
        assert ws[f"D{12 + i}"].number_format == '"$"#,##0' and ws[f"B{12 + i}"].number_format == "0.00%"
    d = xv.component_var(r, w, 0.99, 1, method="historical")
    np.testing.assert_allclose([ws[f"D{i}"].value for i in range(37, 43)], d.component, rtol=1e-12)
    assert [ws[f"{c}37"].number_format for c in "BCDE"] == ['"$"#,##0', "0.00%", '"$"#,##0', "0.0%"]
    assert wb["Inputs"]["B4"].number_format == '"$"#,##0'
    assert ws["A7"].value.startswith("Weights are amounts in USD")
    assert openpyxl.load_workbook(out)["Report"]._charts[0].y_axis.number_format.formatCode == '"$"#,##0'


def test_value_scales_fractions_and_is_refused_for_amounts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.xlsx"
    assert main(["report", "--returns", str(SAMPLE_RETURNS), "--weights", str(SAMPLE_WEIGHTS), "--value", "5,000,000",
                 "-o", str(out)]) == 0
    r, w, _, _ = sample()
    ws = openpyxl.load_workbook(out, data_only=True)["Report"]
    assert ws["D12"].value == pytest.approx(5e6 * xv.portfolio_var(r, w, 0.99, 1).var, rel=1e-12)
    assert main(["report", "--returns", str(SAMPLE_RETURNS), "--weights", str(_dollar_weights(tmp_path / "w.csv")),
                 "--value", "5e6", "-o", str(tmp_path / "x.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "weights are already amounts" in err and err.count("\n") == 1
    assert not (tmp_path / "x.xlsx").exists()
    with pytest.raises(SystemExit):
        main(["report", "--weights", str(SAMPLE_WEIGHTS), "--value", "1,5", "-o", str(tmp_path / "y.xlsx")])


def test_pdf_as_output_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--returns", str(SAMPLE_RETURNS), "--weights", str(SAMPLE_WEIGHTS),
                 "-o", str(tmp_path / "x.pdf")]) == 2
    assert "add --pdf" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_prices_file_and_prices_given_as_returns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p.xlsx"
    assert main(["report", "--prices", str(SAMPLE_PRICES), "--weights", str(SAMPLE_WEIGHTS), "-o", str(out)]) == 0
    _, w, _, dates = sample()
    prices = read_returns(SAMPLE_PRICES)
    r = xv.price_returns(prices.values)
    ws = openpyxl.load_workbook(out, data_only=True)["Report"]
    assert ws["B12"].value == pytest.approx(xv.portfolio_var(r, w).var, rel=1e-12)
    assert ws["B3"].value.date().isoformat() == dates[-1] == prices.dates[-1]
    assert ws["B5"].value == len(prices.dates) - 1
    assert main(["report", "--returns", str(SAMPLE_PRICES), "--weights", str(SAMPLE_WEIGHTS),
                 "-o", str(tmp_path / "q.xlsx")]) == 2
    err = capsys.readouterr().err
    assert f"use --prices {SAMPLE_PRICES}" in err and err.count("\n") == 1


def test_bundled_template_is_what_the_script_builds() -> None:
    built = make_template.skeleton()
    stored = openpyxl.load_workbook(TEMPLATES / "report.xlsx")
    for ws in built.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    value = stored[ws.title][c.coordinate].value
                    assert getattr(value, "text", value) == c.value, (ws.title, c.coordinate)
    inputs = ("Returns", "Weights", "Assets", "PnL", "Positions", "Market", "Surface")
    assert {n: d.attr_text for n, d in built.defined_names.items() if n not in inputs} == \
        {n: d.attr_text for n, d in stored.defined_names.items() if n not in inputs and not n.startswith("_xlvar")}


BOOK_ARGS = ["--positions", str(SAMPLE_POSITIONS), "--market", str(SAMPLE_MARKET), "--surface", str(SAMPLE_SURFACE),
             "--valuation", SAMPLE_VALUATION]


@pytest.fixture(scope="module")
def book_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("book") / "report.xlsx"
    assert main(["report", "--returns", str(SAMPLE_RETURNS), "--weights", str(SAMPLE_WEIGHTS), *BOOK_ARGS,
                 "-o", str(out)]) == 0
    valuation = dt.datetime.fromisoformat(SAMPLE_VALUATION)
    return {"values": openpyxl.load_workbook(out, data_only=True), "formulas": openpyxl.load_workbook(out),
            "book": read_book(SAMPLE_POSITIONS, SAMPLE_MARKET, valuation=valuation, surface=SAMPLE_SURFACE)}


def test_derivatives_page_shows_the_engines_numbers(book_report: dict) -> None:
    wb, book = book_report["values"], book_report["book"]
    ws = wb["Derivatives"]
    assert ws["B3"].value == dt.datetime(2024, 12, 31, 16, 0)
    for cell, model in (("E3", "deribit"), ("H3", "span")):
        assert ws[cell].value == pytest.approx(xv.portfolio_margin(book, model=model).margin, rel=1e-12)
    r = read_returns(SAMPLE_RETURNS)
    for row in range(7, 12):
        how, method = ws[f"A{row}"].value, ws[f"B{row}"].value
        res = xv.portfolio_var(r.values, book, 0.99, 1, method=method, assets=list(r.assets),
                               revaluation=how)
        assert (ws[f"C{row}"].value, ws[f"D{row}"].value) == (pytest.approx(res.var, rel=1e-12),
                                                              pytest.approx(res.es, rel=1e-12))
    assert [ws[f"A{i}"].value for i in range(7, 12)] == ["full", "delta", "delta-gamma", "delta", "delta-gamma"]
    g = book.greeks("underlying")
    assert [ws[f"A{i}"].value for i in range(40, 45)] == ["Underlying", *g.labels, "Total"]
    np.testing.assert_allclose([[c.value for c in row] for row in ws["B41:I43"]], np.column_stack(
        [g.value, g.delta, g.delta_usd, g.delta_coin, g.gamma, g.gamma_usd, g.vega, g.theta]), rtol=1e-12)
    stress = xv.stress_test(book)
    assert [ws[f"A{i}"].value for i in range(21, 25)] == list(stress.names)
    np.testing.assert_allclose([ws[f"B{i}"].value for i in range(21, 25)], stress.total, rtol=1e-12)


def test_margin_heat_map_and_stress_chart(book_report: dict) -> None:
    ws, book = book_report["values"]["Derivatives"], book_report["book"]
    m = xv.portfolio_margin(book, model="deribit")
    total = m.pnl.sum(axis=1)
    moves, shocks = margin_axes("deribit")
    assert [ws.cell(row=6, column=7 + j).value for j in range(len(shocks))] == pytest.approx(shocks)
    for i, move in enumerate(moves, start=7):
        assert ws.cell(row=i, column=6).value == pytest.approx(move)
        for j, shock in enumerate(shocks, start=7):
            want = sum(p for s, p in zip(m.scenarios, total, strict=True)
                       if not s.extended and abs(s.price_move - move) < 1e-9 and abs(s.vol_shock - shock) < 1e-9)
            assert ws.cell(row=i, column=j).value == pytest.approx(want, rel=1e-12, abs=1e-6)
    formulas = book_report["formulas"]
    rules = {str(rng.sqref): rng.rules for rng in formulas["Derivatives"].conditional_formatting}
    assert rules["G7:I15"][0].type == "colorScale"
    (chart,) = formulas["Derivatives"]._charts
    assert chart.series[0].val.numRef.f == "'Derivatives'!$B$21:$B$24"  # the four crises' P&L
    grid = formulas["Margin grid"]
    assert grid["A1"].value.startswith('=MARGINGRID(Positions,Market,"deribit"')


def test_book_sheets_are_left_out_without_a_book(report: dict) -> None:
    wb = report["formulas"]
    assert wb.sheetnames == ["Report", "Stress", "Inputs", "Returns", "Chart data"]
    assert not [n for n, d in wb.defined_names.items() if "Derivatives" in d.attr_text or "Book" in d.attr_text]


def test_book_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r, _, _, dates = sample(rows=60, assets=2)
    (tmp_path / "r.csv").write_text("Date,BTC,SPX\n" + "".join(f"{d},{float(a)!r},{float(b)!r}\n" for d, (a, b) in
                                                               zip(dates, r, strict=True)))
    (tmp_path / "w.csv").write_text("BTC,0.5\nSPX,0.5\n")
    out = tmp_path / "x.xlsx"
    assert main(["report", "--returns", str(tmp_path / "r.csv"), "--weights", str(tmp_path / "w.csv"), *BOOK_ARGS,
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no returns for ETH, SOL" in err and err.count("\n") == 1 and not out.exists()
    bad = tmp_path / "p.csv"
    bad.write_text("Instrument,Quantity\nBTC,1\nBTC-31JAN25-9X-C,2\n")
    assert main(["report", "--positions", str(bad), "--market", str(SAMPLE_MARKET), "--valuation", SAMPLE_VALUATION,
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "row 3" in err and err.count("\n") == 1 and not out.exists()
