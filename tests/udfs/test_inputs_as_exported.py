"""Issue 11 in the worksheet functions: inputs that were misread give the right number or a one-line refusal."""

import datetime as dt

import numpy as np
import pytest

import xl_var as xv
import xl_var_udfs as u
from xl_var.errors import LooksLikePrices
from xl_var_udfs import arguments
from xl_var_udfs.excel import ExcelError, read_table

W = [0.35, 0.25, 0.10, 0.10, 0.15, 0.05]


def _line(fn, *args, **kwargs) -> str:
    with pytest.raises(ExcelError) as info:
        fn(*args, **kwargs)
    return info.value.line


def _newest_first(rows):
    return [rows[0], *rows[:0:-1]]


# ----------------------------------------------------------------------------- 1. prices passed as returns
def test_looks_like_prices_becomes_the_returns_hint(sample_returns, monkeypatch):
    def prices(*args, **kwargs):
        raise LooksLikePrices("returns look like price levels", "returns")

    monkeypatch.setattr(xv, "portfolio_var", prices)
    line = u.AGGVAR(sample_returns, [W])
    assert line.startswith("#VALUE! returns looks like prices") and line.endswith("wrap the range in RETURNS(...)")
    assert "\n" not in line


def test_aggvar_of_prices_is_not_a_number(sample_prices):
    line = u.AGGVAR(sample_prices, [W])
    assert isinstance(line, str) and line.startswith("#VALUE!") and "RETURNS(...)" in line
    assert isinstance(u.AGGVAR(u.RETURNS(sample_prices), [W]), float)


# ----------------------------------------------------------------------------- 2. newest-first rows
@pytest.mark.parametrize("method", ["ewma", "fhs", "historical"])
def test_newest_first_returns_give_the_same_numbers(sample_returns, method):
    assert u.AGGVAR(_newest_first(sample_returns), [W], 0.99, 10, method) == u.AGGVAR(sample_returns, [W], 0.99,
                                                                                       10, method)


def test_returns_of_newest_first_prices_are_oldest_first(sample_prices):
    spilled = u.RETURNS(_newest_first(sample_prices))
    assert spilled == u.RETURNS(sample_prices)
    assert spilled[1][0] == sample_prices[2][0]


@pytest.mark.parametrize("as_label", [
    lambda d: d,
    lambda d: d.strftime("%b %d, %Y"),
    lambda d: d.strftime("%d.%m.%Y"),
    lambda d: (d - dt.datetime(1899, 12, 30)).days,
])
def test_date_labels_of_every_kind_put_rows_oldest_first(as_label):
    days = [dt.datetime(2024, 11, 20) + dt.timedelta(i) for i in range(12)]
    x = np.random.default_rng(1).normal(0, 0.01, (12, 2))
    rows = [["Date", "A", "B"]] + [[as_label(d), *r] for d, r in zip(days, x.tolist(), strict=True)]
    t = read_table(_newest_first(rows), "returns")
    np.testing.assert_array_equal(t.values, x)
    assert t.rows.tolist() == list(range(13, 1, -1)) and t.labels[0] == rows[1][0]
    assert t.dates[0] == days[0]


def test_a_bad_cell_is_named_where_it_is_after_reordering():
    rows = [["Date", "A"]] + [[dt.datetime(2024, 1, 10 - i), 0.01 * i] for i in range(8)]
    rows[3][1] = None
    assert _line(read_table, rows, "returns").startswith("#VALUE! returns row 4, column 2 is blank")
    t = read_table(rows, "returns", missing="drop")
    assert 4 not in t.rows.tolist() and t.rows.tolist()[0] == 9
    err = t.locate(xv.XlVarError("returns row 1, column 1 is bad"), "returns")
    assert err.line == "#VALUE! returns row 9, column 2 is bad"


def test_shuffled_or_repeated_dates_are_refused():
    d = [dt.datetime(2024, 1, k) for k in (1, 2, 3, 5, 4, 6)]
    rows = [["Date", "A"]] + [[day, 0.01] for day in d]
    assert _line(read_table, rows, "returns") == (
        "#VALUE! returns row 6, column 1 (2024-01-04) is out of date order: the dates must rise or fall "
        "throughout; sort the rows by date")
    rows[5][0] = d[2]
    assert _line(read_table, rows, "returns") == (
        "#VALUE! returns row 6, column 1 repeats the date 2024-01-03 of row 4: remove one of them")


def test_ambiguous_day_month_text_is_refused_and_decided_by_a_day_above_12():
    rows = [["Date", "A"], ["01/02/2024", 0.01], ["01/03/2024", 0.02], ["01/04/2024", 0.03]]
    assert "write them as ISO dates" in _line(read_table, rows, "returns")
    rows.append(["01/13/2024", 0.04])  # month first
    assert read_table(rows, "returns").dates[0] == dt.datetime(2024, 1, 2)


# ----------------------------------------------------------------------------- 3. numeric tickers, rising prices
def test_a_header_of_numeric_tickers_over_returns():
    x = np.random.default_rng(2).normal(0, 0.01, (30, 3))
    t = read_table([[7203, 9984, 6758], *x.tolist()], "returns")
    assert t.names == ("7203", "9984", "6758") and t.values.shape == (30, 3)
    days = [dt.datetime(2024, 1, 1) + dt.timedelta(i) for i in range(30)]
    for corner in ("Date", None):
        t = read_table([[corner, 7203, 9984, 6758]] + [[d, *r] for d, r in zip(days, x.tolist(), strict=True)], "r")
        assert t.names == ("7203", "9984", "6758") and t.first_column == 2
        np.testing.assert_array_equal(t.values, x)


def test_whole_number_prices_that_rise_are_data_not_dates():
    prices = [[40_000 + 37 * i + (i % 3) * 11, 3000 + 5 * i, 150 + i] for i in range(20)]
    t = read_table([["BTC", "ETH", "SOL"], *prices], "prices")
    assert t.values.shape == (20, 3) and t.labels is None
    assert len(u.RETURNS([["BTC", "ETH", "SOL"], *prices])[0]) == 3
    serials = [[45_000 + i, 0.01] for i in range(20)]  # steps of one day: dates
    assert read_table(serials, "returns").values.shape == (20, 1)
    says = _line(read_table, [["BTC", "ETH"], *serials], "returns")
    assert says.startswith("#VALUE! returns column 1 ('BTC') holds whole numbers that step like Excel dates")


def test_tickers_over_prices_are_ambiguous():
    prices = [[2500.0 + i, 8000.0 - i] for i in range(10)]
    says = _line(read_table, [[7203, 9984], *prices], "prices")
    assert says.startswith("#VALUE! prices row 1 holds whole numbers (7203, 9984) far from the row below")
    assert "format them as text" in says
    assert read_table([[2400, 7900], *prices], "prices").values.shape == (11, 2)  # a data row


# ----------------------------------------------------------------------------- 4. number text
@pytest.mark.parametrize(("text", "says"), [
    ("1,5", "#VALUE! horizon: '1,5' could be 1.5 or 15"),
    ("1,500", "#VALUE! horizon: '1,500' could be 1.5 or 1500"),
    ("99%%", "#VALUE! horizon: '99%%' has 2 percent signs"),
])
def test_number_text_that_reads_two_ways_is_refused(text, says):
    assert _line(arguments.opt_horizon, text).startswith(says)


def test_number_text_in_functions(sample_returns):
    base = u.AGGVAR(sample_returns, [W])
    assert u.AGGVAR(sample_returns, [W], "99%", "1", value="$1,250,000") == pytest.approx(base * 1.25e6)
    assert u.AGGVAR(sample_returns, [W], "99%%").startswith("#VALUE! confidence: '99%%'")
    assert u.AGGVAR(sample_returns, [W], value="1,5").startswith("#VALUE! value: '1,5' could be 1.5 or 15")


# ----------------------------------------------------------------------------- 5. VARBACKTEST
def test_varbacktest_names_nan_and_inf_unless_drop():
    realized = [[0.001 * ((-1) ** i)] for i in range(250)]
    realized[40], realized[99] = [np.nan], [np.inf]
    assert u.VARBACKTEST(realized, 0.02) == (
        '#VALUE! realized row 41, column 1 is nan, not a finite number; fix it or set the missing argument to "drop"')
    assert u.VARBACKTEST([[0.01, -0.02, 0.0]], [[0.02, np.inf, 0.02]]).startswith(
        "#VALUE! forecasts row 1, column 2 is inf")
    assert dict(u.VARBACKTEST(realized, 0.02, 0.99, "drop"))["Observations"] == 248


# ----------------------------------------------------------------------------- 6. a bad cell in a large range
def test_one_bad_cell_in_a_large_range_is_named():
    rows = np.random.default_rng(3).normal(0, 0.01, (10_000, 200)).tolist()
    rows[7_345][123] = "n/a"
    assert _line(read_table, rows, "returns") == "#VALUE! returns row 7346, column 124 is text ('n/a'), not a number"
    rows[7_345][123] = True
    assert _line(read_table, rows, "returns") == "#VALUE! returns row 7346, column 124 is TRUE, not a number"


def test_timezone_aware_dates_as_pywin32_delivers_them_are_ordered() -> None:
    """pywin32 hands dates over timezone-aware; newest first, or mixed with naive ones, they still sort."""
    import datetime as dt

    from xl_var_udfs.excel import read_table

    utc = [dt.datetime(2024, 1, d, tzinfo=dt.UTC) for d in range(1, 6)]
    rows = [["Date", "A"]] + [[d, float(i)] for i, d in enumerate(utc)]
    newest_first = [rows[0], *rows[1:][::-1]]
    assert read_table(newest_first, "returns").values[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    mixed = [rows[0]] + [[d.replace(tzinfo=None) if i % 2 else d, float(i)] for i, d in enumerate(utc)]
    assert read_table(mixed, "returns").values[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
