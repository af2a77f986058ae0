"""Issue 11 in the data files: exports as people make them read to the right numbers or a one-line refusal."""

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import xl_var as xv
from workbooks import SAMPLE_PRICES, SAMPLE_RETURNS, SAMPLE_WEIGHTS
from xl_var.errors import LooksLikePrices
from xl_var_cli.datafiles import read_returns, read_weights
from xl_var_cli.errors import CliError

DAYS = [dt.date(2024, 11, 20) + dt.timedelta(i) for i in range(12)]
PRICES = np.round(np.array([[97_000.0, 3_600.0]]) * np.cumprod(
    1 + np.random.default_rng(4).normal(0, 0.02, (12, 2)), axis=0), 2)


def _write(path: Path, rows, **dialect) -> Path:
    with open(path, "w", newline="", encoding=dialect.pop("encoding", "utf-8")) as fh:
        csv.writer(fh, **dialect).writerows(rows)
    return path


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_coingecko_style_newest_first_with_quoted_thousands(tmp_path: Path):
    body = [[d.strftime("%b %d, %Y"), f"{a:,.2f}", f"{b:,.2f}"] for d, (a, b) in zip(DAYS, PRICES.tolist(),
                                                                                     strict=True)]
    rows = [["Date", "BTC", "ETH"], *body[::-1]]  # newest first
    r = read_returns(_write(tmp_path / "p.csv", rows, quoting=csv.QUOTE_NONNUMERIC), prices=True)
    np.testing.assert_allclose(r.values, PRICES[1:] / PRICES[:-1] - 1, rtol=1e-12)
    assert r.assets == ("BTC", "ETH") and r.dates[0] == DAYS[1].isoformat() and len(r.dates) == 11


def test_european_semicolon_file_with_decimal_commas(tmp_path: Path):
    x = np.round(np.random.default_rng(5).normal(0, 0.01, (12, 2)), 6)
    rows = [["Datum", "BTC", "ETH"]] + [[d.strftime("%d.%m.%Y"), f"{a:.6f}".replace(".", ","),
                                         f"{b:.6f}".replace(".", ",")] for d, (a, b) in zip(DAYS, x.tolist(),
                                                                                             strict=True)]
    r = read_returns(_write(tmp_path / "r.csv", rows, delimiter=";"))
    np.testing.assert_array_equal(r.values, x)
    assert r.dates[-1] == DAYS[-1].isoformat()
    prices = [["Date", "BTC"]] + [[d.isoformat(), f"{p:,.2f}".replace(",", " ").replace(".", ",")]
                                  for d, p in zip(DAYS, PRICES[:, 0].tolist(), strict=True)]
    got = read_returns(_write(tmp_path / "p.csv", prices, delimiter=";"), prices=True)
    np.testing.assert_allclose(got.values[:, 0], PRICES[1:, 0] / PRICES[:-1, 0] - 1, rtol=1e-12)


def test_bom_percent_text_trailing_columns_and_names_with_whitespace(tmp_path: Path):
    x = np.round(np.random.default_rng(6).normal(0, 1, (12, 2)), 2)
    rows = [["Date", "\tBTC ", "eth\r", "", ""]] + [[d.isoformat(), f"{a}%", f"{b}%", "", ""]
                                                   for d, (a, b) in zip(DAYS, x.tolist(), strict=True)]
    r = read_returns(_write(tmp_path / "r.csv", rows, encoding="utf-8-sig"))
    assert r.assets == ("BTC", "eth")
    np.testing.assert_allclose(r.values, x / 100, rtol=1e-15)
    w = _write(tmp_path / "w.csv", [["Asset", "Weight"], [" ETH\t", "$1,250,000"], ["btc", "$2,500,000"]])
    weights = read_weights(w, r.assets)
    np.testing.assert_array_equal(weights.values, [2.5e6, 1.25e6])
    assert weights.kind == "amounts" and weights.currency == "USD"


@pytest.mark.parametrize(("cells", "kind"), [(["0.6", "0.4"], "fractions"), (["60%", "40%"], "fractions"),
                                             (["1,250,000", "750,000"], "amounts"), (["600", "400"], "amounts")])
def test_weight_kinds(tmp_path: Path, cells, kind):
    w = read_weights(_write(tmp_path / "w.csv", [["Asset", "Weight"], ["A", cells[0]], ["B", cells[1]]]), ("A", "B"))
    assert w.kind == kind and w.currency == ""


def test_xlsx_weights_formatted_as_currency_and_a_returns_book_given_as_weights(tmp_path: Path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Asset", "Weight"])
    for name, v in (("A", 1_000_000), ("B", 500)):
        ws.append([name, v])
        ws.cell(ws.max_row, 2).number_format = '"€"#,##0'
    wb.save(tmp_path / "w.xlsx")
    w = read_weights(tmp_path / "w.xlsx", ("A", "B"))
    assert w.kind == "amounts" and w.currency == "EUR" and w.values.tolist() == [1e6, 500]
    with pytest.raises(CliError) as info:
        read_weights(SAMPLE_RETURNS, ("BTC", "ETH"))
    assert _one_line(info).endswith("weights must be a single row or column (got 783 rows × 7 columns)")


def test_numeric_ticker_header_file(tmp_path: Path):
    x = np.round(np.random.default_rng(7).normal(0, 0.01, (12, 2)), 6)
    r = read_returns(_write(tmp_path / "r.csv", [["7203", "9984"], *x.tolist()]))
    assert r.assets == ("7203", "9984")
    np.testing.assert_array_equal(r.values, x)


def test_day_month_decided_from_the_column_or_refused(tmp_path: Path):
    rows = [["Date", "A"]] + [[d.strftime("%m/%d/%Y"), 0.01 * i] for i, d in enumerate(DAYS)]
    assert read_returns(_write(tmp_path / "r.csv", rows)).dates[0] == "2024-11-20"
    ambiguous = [["Date", "A"], ["01/02/2024", 0.01], ["01/03/2024", 0.02]]
    with pytest.raises(CliError) as info:
        read_returns(_write(tmp_path / "a.csv", ambiguous))
    assert "a.csv: returns column 1 holds dates such as '01/02/2024'" in _one_line(info)


def test_missing_drop_and_errors_name_file_row_and_column(tmp_path: Path):
    rows = [["Date", "A", "B"]] + [[d.isoformat(), 0.01 * i, -0.01 * i] for i, d in enumerate(DAYS)]
    rows[4][2] = ""
    rows.insert(3, ["", "", ""])  # a blank line: left out, but lines still counted as the file counts them
    f = _write(tmp_path / "r.csv", rows)
    with pytest.raises(CliError) as info:
        read_returns(f)
    assert _one_line(info) == f"{f}: returns row 6, column 3 is blank: fix it or use --missing drop"
    assert read_returns(f, missing="drop").values.shape == (11, 2)
    rows[4][2] = "1,5"
    with pytest.raises(CliError) as info:
        read_returns(_write(f, rows))
    assert "row 5, column 3: '1,5'" in _one_line(info)


def test_prices_given_as_returns_reach_the_engine_as_looks_like_prices():
    r = read_returns(SAMPLE_PRICES)
    w = read_weights(SAMPLE_WEIGHTS, r.assets)
    with pytest.raises(LooksLikePrices):
        xv.portfolio_var(r.values, w.values)
    p = read_returns(SAMPLE_PRICES, prices=True)
    assert p.values.shape[0] == r.values.shape[0] - 1 and p.dates == r.dates[1:]
