"""Reading returns and weights files: headers, date columns, xlsx, mismatches."""

from pathlib import Path

import numpy as np
import openpyxl
import pytest

from workbooks import SAMPLE_RETURNS, SAMPLE_WEIGHTS
from xl_var_cli.datafiles import read_returns, read_weights
from xl_var_cli.errors import CliError


def test_sample_has_dates_and_headers():
    r = read_returns(SAMPLE_RETURNS)
    assert r.assets == ("BTC", "ETH", "SOL", "USDC", "SPX", "GOLD")
    assert r.values.shape == (len(r.dates), 6)
    assert r.dates[0] == "2022-01-03"
    first = SAMPLE_RETURNS.read_text().splitlines()[1].split(",")
    np.testing.assert_array_equal(r.values[0], [float(x) for x in first[1:]])
    w = read_weights(SAMPLE_WEIGHTS, r.assets)
    assert w.values.sum() == pytest.approx(1.0) and w.kind == "fractions" and w.currency == ""


def test_plain_numbers_without_header_or_dates(tmp_path: Path):
    f = tmp_path / "r.csv"
    f.write_text("0.1,0.2\n-0.1,0.05\n0.0,0.01\n")
    r = read_returns(f)
    assert r.assets == ("Asset 1", "Asset 2")
    np.testing.assert_array_equal(r.values[1], [-0.1, 0.05])
    wf = tmp_path / "w.csv"
    wf.write_text("0.6\n0.4\n")
    np.testing.assert_array_equal(read_weights(wf, r.assets).values, [0.6, 0.4])


def test_xlsx_and_named_weights_reordered(tmp_path: Path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Date", "X", "Y"])
    ws.append(["2024-01-01", 0.01, 0.02])
    ws.append(["2024-01-02", -0.03, 0.04])
    wb.save(tmp_path / "r.xlsx")
    r = read_returns(tmp_path / "r.xlsx")
    assert r.assets == ("X", "Y")
    np.testing.assert_array_equal(r.values, [[0.01, 0.02], [-0.03, 0.04]])
    (tmp_path / "w.csv").write_text("Asset,Weight\nY,0.3\nX,0.7\n")
    np.testing.assert_array_equal(read_weights(tmp_path / "w.csv", r.assets).values, [0.7, 0.3])


def test_errors_name_the_file(tmp_path: Path):
    with pytest.raises(CliError, match=r"nope\.csv: no such file"):
        read_returns(tmp_path / "nope.csv")
    (tmp_path / "w.csv").write_text("Asset,Weight\nZ,1\n")
    with pytest.raises(CliError, match=r"w\.csv: weights has no weight for 'X', 'Y' and names 'Z', not in the returns"):
        read_weights(tmp_path / "w.csv", ("X", "Y"))
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CliError, match=r"bad\.xlsx"):
        read_returns(tmp_path / "bad.xlsx")


def test_single_asset_with_and_without_a_header(tmp_path: Path):
    f = tmp_path / "r.csv"
    f.write_text("A\n0.1\n-0.2\n0.05\n")
    r = read_returns(f)
    assert r.assets == ("A",) and r.dates == ("1", "2", "3")
    np.testing.assert_array_equal(r.values, [[0.1], [-0.2], [0.05]])
    f.write_text("0.1\n-0.2\n0.05\n")
    r = read_returns(f)
    assert r.assets == ("Asset 1",)
    np.testing.assert_array_equal(r.values, [[0.1], [-0.2], [0.05]])


@pytest.mark.parametrize("header", ["A\n", "Date,X,Y\n"])
def test_header_without_returns_is_refused(tmp_path: Path, header: str):
    f = tmp_path / "r.csv"
    f.write_text(header)
    with pytest.raises(CliError, match=r"r\.csv: returns has a header row but no numbers below it"):
        read_returns(f)


def test_weights_naming_an_asset_twice_are_refused(tmp_path: Path):
    (tmp_path / "w.csv").write_text("Asset,Weight\nX,0.5\nY,0.2\nX,0.3\n")
    with pytest.raises(CliError, match=r"w\.csv: weights name 'X' more than once \(rows 2 and 4\)"):
        read_weights(tmp_path / "w.csv", ("X", "Y"))
