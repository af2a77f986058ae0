"""The worksheet functions called as plain Python with Excel-shaped values.

Numbers are checked against independent re-computations (numpy/scipy closed forms), the
pinned PerformanceAnalytics value and the engine; shapes against what Excel would pass.
"""

import datetime as dt
import math

import numpy as np
import pytest
from scipy import stats

import xl_var as xv
import xl_var_udfs as u

W = [0.35, 0.25, 0.10, 0.10, 0.15, 0.05]  # workbooks/sample_weights.csv


def _numbers(rows):
    return np.array([r[1:] for r in rows[1:]], dtype=float)


def _normal_var_es(x, w, c):
    p = x @ np.asarray(w)
    mu, sd = p.mean(), p.std(ddof=1)
    z = stats.norm.ppf(1 - c)
    return -(mu + z * sd), -(mu - sd * stats.norm.pdf(z) / (1 - c))


# ----------------------------------------------------------------------------- pinned value
def test_aggvar_matches_performanceanalytics_on_edhec(edhec_rows):
    # PerformanceAnalytics VaR(edhec[,1:4], p=.95, method="gaussian", portfolio_method="component",
    # weights=rep(.25, 4)) = 0.0212497541
    first_four = [r[:5] for r in edhec_rows]
    assert u.AGGVAR(first_four, [[0.25, 0.25, 0.25, 0.25]], 0.95, 1, "normal") == pytest.approx(
        0.0212497541, abs=5e-11
    )
    table = u.COMPONENTVAR(first_four, [[0.25], [0.25], [0.25], [0.25]], 0.95, 1, "normal")
    assert table[0] == ["Asset", "Weight", "Marginal", "Component", "% of total"]
    assert [r[0] for r in table[1:5]] == ["Convertible Arbitrage", "CTA Global", "Distressed Securities",
                                          "Emerging Markets"]
    assert table[-1][3] == pytest.approx(0.0212497541, abs=5e-11)


# ----------------------------------------------------------------------------- AGGVAR / AGGES
def test_aggvar_and_agges_against_closed_forms_and_empirical_quantile(sample_returns):
    x = _numbers(sample_returns)
    var, es = _normal_var_es(x, W, 0.99)
    assert u.AGGVAR(sample_returns, [W], 0.99, 1, "normal") == pytest.approx(var, rel=1e-12)
    assert u.AGGES(sample_returns, [W], 0.99, 1, "normal") == pytest.approx(es, rel=1e-12)
    hist = -np.quantile(x @ np.asarray(W), 0.01)  # linear interpolation = Excel PERCENTILE.INC
    assert u.AGGVAR(sample_returns, [W]) == pytest.approx(hist, rel=1e-12)
    mean = float(x.mean(axis=0) @ np.asarray(W))  # 10 periods: mean times 10, volatility times √10
    assert u.AGGVAR(sample_returns, [W], 0.99, 10, "normal") == pytest.approx(
        math.sqrt(10) * (var + mean) - 10 * mean, rel=1e-12)


@pytest.mark.parametrize("method", ["historical", "normal", "t", "modified", "ewma", "fhs"])
def test_every_method_equals_the_engine(sample_returns, method):
    x = _numbers(sample_returns)
    r = xv.portfolio_var(x, W, confidence=0.975, horizon=5, method=method)
    assert u.AGGVAR(sample_returns, [W], 0.975, 5, method) == r.var
    assert u.AGGES(sample_returns, [W], 0.975, 5, method) == r.es


def test_the_same_numbers_whatever_the_shape_of_the_ranges(sample_returns, sample_weights):
    expected = u.AGGVAR(sample_returns, [W], 0.99, 1, "normal")
    plain = [r[1:] for r in sample_returns[1:]]
    no_dates = [r[1:] for r in sample_returns]
    no_header = sample_returns[1:]
    serial_dates = [[(r[0] - dt.datetime(1899, 12, 30)).days, *r[1:]] for r in sample_returns[1:]]
    as_array = np.array(sample_returns, dtype=object)
    for returns in (plain, no_dates, no_header, serial_dates, as_array):
        for weights in ([W], [[w] for w in W], sample_weights, [["BTC", "ETH", "SOL", "USDC", "SPX", "GOLD"], W],
                        np.array(W)):
            assert u.AGGVAR(returns, weights, 0.99, 1, "normal") == expected


def test_blank_or_omitted_optional_arguments_take_their_defaults(sample_returns):
    default = u.AGGVAR(sample_returns, [W])
    assert u.AGGVAR(sample_returns, [W], None, None, None, None, None, None) == default
    assert u.AGGVAR(sample_returns, [W], "", "", "", None, "", "") == default
    assert u.AGGVAR(sample_returns, [W], "99%", "1", "Historical") == default
    assert u.AGGVAR(sample_returns, [W], [[0.99]], [[1]]) == default
    normal = u.AGGVAR(sample_returns, [W], 0.99, 1, "normal")
    assert u.AGGVAR(sample_returns, [W], 0.99, 1, "normal", [[None]]) == normal  # a blank cell as corr
    assert u.AGGVAR(sample_returns, [W], 0.99, 1, "normal", [[None, ""], [None, None]]) == normal
    assert u.STRESSCORR([[1, 0.2], [0.2, 1]], 0.5, "shift", 1, [[None]]) == u.STRESSCORR([[1, 0.2], [0.2, 1]])


def test_value_turns_fractions_into_currency(sample_returns):
    assert u.AGGVAR(sample_returns, [W], value=2_500_000) == pytest.approx(
        2_500_000 * u.AGGVAR(sample_returns, [W]), rel=1e-15
    )
    assert u.AGGES(sample_returns, [W], 0.99, 1, "normal", None, 1e6) == pytest.approx(
        1e6 * u.AGGES(sample_returns, [W], 0.99, 1, "normal"), rel=1e-15
    )
    assert u.AGGVAR(sample_returns, [W], value=-5).startswith("#NUM! value must be a positive amount")


def test_corr_override_uses_the_given_correlation(sample_returns):
    x = _numbers(sample_returns)
    corr = u.STRESSCORR(sample_returns, 0.7)
    cov = np.cov(x, rowvar=False)
    sd = np.sqrt(np.diag(cov))
    stressed_sd = math.sqrt(np.asarray(W) @ (np.asarray(corr) * np.outer(sd, sd)) @ np.asarray(W))
    expected = -(x @ np.asarray(W)).mean() + stats.norm.ppf(0.99) * stressed_sd
    assert u.AGGVAR(sample_returns, [W], 0.99, 1, "normal", corr) == pytest.approx(expected, rel=1e-12)
    assert expected > u.AGGVAR(sample_returns, [W], 0.99, 1, "normal")
    assert u.AGGVAR(sample_returns, [W], 0.99, 1, "historical", corr).startswith("#VALUE! corr")


def test_missing_drop_equals_the_computation_without_those_rows(sample_returns):
    holed = [list(r) for r in sample_returns]
    holed[5][2], holed[40][6] = None, "#N/A"
    kept = [r for i, r in enumerate(sample_returns) if i not in (5, 40)]
    assert u.AGGVAR(holed, [W], 0.99, 1, "normal", missing="drop") == u.AGGVAR(kept, [W], 0.99, 1, "normal")
    assert u.AGGVAR(holed, [W], 0.99, 1, "normal") == (
        '#VALUE! returns row 6, column 3 is blank; fix it or set the missing argument to "drop"'
    )


# ----------------------------------------------------------------------------- error lines from the issue
def test_error_lines_named_in_the_issue(sample_returns):
    four = [r[:5] for r in sample_returns]
    assert u.AGGVAR(four, [[0.3], [0.3], [0.4]]) == "#VALUE! weights has 3 entries but returns has 4 columns"
    assert u.AGGVAR(four, [[0.25] * 4], 99).startswith(
        "#NUM! confidence must be between 0 and 1 (e.g. 0.99 or 99%)"
    )
    holed = [list(r) for r in four]
    holed[11][2] = "#N/A"
    assert u.AGGVAR(holed, [[0.25] * 4]).startswith("#VALUE! returns row 12, column 3 is #N/A")
    assert u.AGGVAR(four, [[0.25] * 4], 0.05).startswith("#NUM! confidence must be a confidence level")
    assert u.AGGVAR(four, [[0.25] * 4], 0.99, 0).startswith("#NUM! horizon must be")
    assert u.AGGVAR(four, [[0.25] * 4], 0.99, 1, "monte").startswith("#VALUE! method must be one of")
    assert u.AGGVAR(four[:2], [[0.25] * 4], 0.99, 1, "t").startswith("#VALUE! returns has 1 usable rows")
    assert u.AGGVAR(four, [[0.0] * 4], 0.99, 1, "normal").startswith("#NUM!")


def test_an_unexpected_failure_is_one_line_and_a_logged_traceback(sample_returns, monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded\nsecond line")

    monkeypatch.setattr(xv, "portfolio_var", broken)
    line = u.AGGVAR(sample_returns, [W])
    assert line.startswith("#VALUE! internal error: RuntimeError: engine exploded (details in ")
    log = (tmp_path / "logs" / "udfs.log").read_text()
    assert "AGGVAR" in log and "second line" in log and "<range 783x7>" in log


# ----------------------------------------------------------------------------- decomposition
def test_componentvar_table(sample_returns):
    table = u.COMPONENTVAR(sample_returns, [[w] for w in W], 0.99, 1, "normal")
    x = _numbers(sample_returns)
    d = xv.component_var(x, W, 0.99, 1, "normal")
    assert table[0] == ["Asset", "Weight", "Marginal", "Component", "% of total"]
    assert [r[0] for r in table[1:-1]] == ["BTC", "ETH", "SOL", "USDC", "SPX", "GOLD"]
    assert [r[1] for r in table[1:-1]] == W
    np.testing.assert_array_equal([r[2] for r in table[1:-1]], d.marginal)
    np.testing.assert_array_equal([r[3] for r in table[1:-1]], d.component)
    np.testing.assert_array_equal([r[4] for r in table[1:-1]], d.percent)
    total = table[-1]
    assert total[0] == "Total" and total[1] == pytest.approx(1.0) and total[2] == ""
    assert total[3] == pytest.approx(_normal_var_es(x, W, 0.99)[0], rel=1e-12)
    assert sum(r[3] for r in table[1:-1]) == pytest.approx(total[3], rel=1e-12)
    assert total[4] == pytest.approx(1.0, rel=1e-12)


def test_componentvar_options_and_default_names(sample_returns):
    plain = [r[1:] for r in sample_returns[1:]]
    table = u.COMPONENTVAR(plain, [W], 0.99, 1, "historical", "ES", False)
    assert [r[0] for r in table] == [f"Asset {i}" for i in range(1, 7)] + ["Total"]
    assert table[-1][3] == pytest.approx(u.AGGES(plain, [W]), rel=1e-12)
    assert sum(r[3] for r in table[:-1]) == pytest.approx(table[-1][3], rel=1e-12)
    assert u.COMPONENTVAR(plain, [W], measure="CVaR")[1:] == table


def test_marginalvar_spills_like_the_weights(sample_returns):
    column = u.MARGINALVAR(sample_returns, [[w] for w in W], 0.99, 1, "normal")
    row = u.MARGINALVAR(sample_returns, [W], 0.99, 1, "normal")
    assert len(column) == 6 and all(len(r) == 1 for r in column)
    assert row == [[r[0] for r in column]]
    # the marginal is the gradient of VaR(w): compare with central finite differences
    h = 1e-6
    for i in range(6):
        up, down = list(W), list(W)
        up[i] += h
        down[i] -= h
        fd = (u.AGGVAR(sample_returns, [up], 0.99, 1, "normal") - u.AGGVAR(sample_returns, [down], 0.99, 1,
                                                                             "normal")) / (2 * h)
        assert column[i][0] == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_incrementalvar_exact_and_first_order(sample_returns):
    trade = [0.05, 0.0, -0.05, 0.0, 0.0, 0.02]
    after = [w + d for w, d in zip(W, trade, strict=True)]
    exact = u.INCREMENTALVAR(sample_returns, [W], [trade], 0.99, 1, "normal")
    assert exact == pytest.approx(u.AGGVAR(sample_returns, [after], 0.99, 1, "normal")
                                  - u.AGGVAR(sample_returns, [W], 0.99, 1, "normal"), rel=1e-12)
    first = u.INCREMENTALVAR(sample_returns, [W], [trade], 0.99, 1, "normal", "VaR", False)
    marginal = [r[0] for r in u.MARGINALVAR(sample_returns, [[w] for w in W], 0.99, 1, "normal")]
    assert first == pytest.approx(np.dot(marginal, trade), rel=1e-12)
    assert u.INCREMENTALVAR(sample_returns, [W], [trade], value=1e6) == pytest.approx(
        1e6 * u.INCREMENTALVAR(sample_returns, [W], [trade]), rel=1e-15
    )
    assert u.INCREMENTALVAR(sample_returns, [W], [trade[:5]]).startswith("#VALUE! new_position has 5 entries")


def test_portvol_sample_and_ewma(sample_returns):
    x = _numbers(sample_returns)
    w = np.asarray(W)
    vol = math.sqrt(w @ np.cov(x, rowvar=False) @ w)
    assert u.PORTVOL(sample_returns, [W]) == pytest.approx(vol, rel=1e-12)
    assert u.PORTVOL(sample_returns, [W], 250, None, None, 1e6) == pytest.approx(vol * math.sqrt(250) * 1e6,
                                                                                  rel=1e-12)
    lam, s = 0.97, x.T @ x / len(x)  # RiskMetrics recursion seeded with the zero-mean second moment
    for row in x:
        s = lam * s + (1 - lam) * np.outer(row, row)
    assert u.PORTVOL(sample_returns, [W], 1, "EWMA", 0.97) == pytest.approx(math.sqrt(w @ s @ w), rel=1e-10)
    assert u.PORTVOL(sample_returns, [W], 1, "ewma", 1.5).startswith("#NUM! lam must be a decay factor")


# ----------------------------------------------------------------------------- correlation
def test_corrmatrix_is_the_sample_correlation(sample_returns):
    c = u.CORRMATRIX(sample_returns)
    np.testing.assert_allclose(c, np.corrcoef(_numbers(sample_returns), rowvar=False), rtol=0, atol=1e-14)
    assert all(isinstance(v, float) for row in c for v in row)


def test_stresscorr_shift_closed_form_and_returns_input(sample_returns):
    assert u.STRESSCORR([[1, 0.2], [0.2, 1]], 0.5) == [[1.0, pytest.approx(0.6)], [pytest.approx(0.6), 1.0]]
    assert u.STRESSCORR([["", "A", "B"], ["A", 1, 0.2], ["B", 0.2, 1]], 0.25, "shift", 0) == [
        [1.0, pytest.approx(0.15)], [pytest.approx(0.15), 1.0]
    ]
    base = np.corrcoef(_numbers(sample_returns), rowvar=False)
    stressed = np.asarray(u.STRESSCORR(sample_returns, 0.5))
    off = ~np.eye(6, dtype=bool)
    np.testing.assert_allclose(stressed[off], (base + 0.5 * (1 - base))[off], atol=1e-12)
    tail = u.STRESSCORR(sample_returns, 1, "tail")
    assert np.asarray(tail).shape == (6, 6) and tail[0][1] > base[0, 1]


def test_stresscorr_repairs_highams_matrix():
    # Higham (2002): nearest correlation matrix to [[1,1,0],[1,1,1],[0,1,1]]
    c = u.STRESSCORR([[1, 1, 0], [1, 1, 1], [0, 1, 1]], 0)
    np.testing.assert_allclose([c[0][1], c[1][2], c[0][2]], [0.76068985, 0.76068985, 0.15729811], atol=1e-8)


def test_stresscorr_blend_with_crisis_matrix():
    base, crisis = [[1, 0.1], [0.1, 1]], [[1, 0.9], [0.9, 1]]
    assert u.STRESSCORR(base, 0.25, "blend", None, crisis)[0][1] == pytest.approx(0.3)
    assert u.STRESSCORR(base, 0.25, "blend").startswith("#VALUE!")
    assert u.STRESSCORR(base, 1.5).startswith("#NUM! intensity")


def test_stresscorr_a_correlation_matrix_with_a_typo_names_the_cell():
    # Asymmetric by a typo (0.35 for 0.3), or one entry above 1: still a correlation matrix (square, unit
    # diagonal), not three periods of returns, so the bad cell is named.
    typo = [[1, 0.2, 0.3], [0.2, 1, 0.5], [0.35, 0.5, 1]]
    assert u.STRESSCORR(typo, 0.5) == ("#VALUE! corr is not symmetric: row 1, column 3 is 0.3 but row 3, "
                                       "column 1 is 0.35; make them equal")
    over = [[1, 0.2, 0.3], [0.2, 1, 1.5], [0.3, 1.5, 1]]
    assert u.STRESSCORR(over, 0.5).startswith("#NUM! corr row 2, column 3 is 1.5: correlations must lie")
    # A returns table is still read as returns: its errors name returns cells.
    flat = [[0.01, 0.02], [0.01, 0.02], [0.01, 0.02]]
    assert u.STRESSCORR(flat, 0.5).startswith("#NUM! returns column 1 does not vary")


def test_matrix_errors_name_positions_in_the_selected_range():
    # Header row and label column: the engine's row 2, column 3 is the range's row 3, column 4.
    names = ["", "A", "B", "C"]
    over = [names, ["A", 1, 0.2, 0.3], ["B", 0.2, 1, 1.5], ["C", 0.3, 1.5, 1]]
    assert u.STRESSCORR(over, 0.5).startswith("#NUM! corr row 3, column 4 is 1.5")
    typo = [names, ["A", 1, 0.2, 0.3], ["B", 0.2, 1, 0.5], ["C", 0.35, 0.5, 1]]
    assert u.STRESSCORR(typo, 0.5).startswith("#VALUE! corr is not symmetric: row 2, column 4 is 0.3 but "
                                              "row 4, column 2 is 0.35")
    good = [[1, 0.1, 0.1], [0.1, 1, 0.1], [0.1, 0.1, 1]]
    assert u.STRESSCORR(good, 0.5, "blend", None, over).startswith("#NUM! crisis row 3, column 4 is 1.5")
    returns = [[0.01 * ((3 * t + j) % 7 - 3) for j in range(3)] for t in range(40)]
    assert u.AGGVAR(returns, [[1 / 3] * 3], 0.99, 1, "normal", over).startswith(
        "#NUM! corr row 3, column 4 is 1.5")


def test_scalar_options_are_read_before_the_engine_runs(sample_returns, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the engine ran before a bad option was reported")

    for name in ("portfolio_var", "component_var", "incremental_var", "portfolio_volatility"):
        monkeypatch.setattr(xv, name, never)
    assert u.AGGVAR(sample_returns, [W], value=-1).startswith("#NUM! value must be a positive amount")
    assert u.AGGES(sample_returns, [W], value="x").startswith("#VALUE! value must be a number")
    assert u.COMPONENTVAR(sample_returns, [W], headers="maybe").startswith("#VALUE! headers must be TRUE")
    assert u.INCREMENTALVAR(sample_returns, [W], [[0.1] * 6], exact="x").startswith("#VALUE! exact must be")
    assert u.INCREMENTALVAR(sample_returns, [W], [[0.1] * 6], value=0).startswith("#NUM! value must be")
    assert u.PORTVOL(sample_returns, [W], value=-2).startswith("#NUM! value must be a positive amount")


def test_measure_and_missing_are_resolved_by_one_definition(sample_returns):
    var = u.COMPONENTVAR(sample_returns, [W], 0.99, 1, "normal", "value at risk")
    assert var == u.COMPONENTVAR(sample_returns, [W], 0.99, 1, "normal", "VaR")
    es = u.MARGINALVAR(sample_returns, [W], 0.99, 1, "normal", "Expected Shortfall")
    assert es == u.MARGINALVAR(sample_returns, [W], 0.99, 1, "normal", "ES") != u.MARGINALVAR(
        sample_returns, [W], 0.99, 1, "normal")
    bad = u.INCREMENTALVAR(sample_returns, [W], [[0.1] * 6], 0.99, 1, "normal", "vol")
    assert bad == "#VALUE! measure must be one of 'var', 'es'; got 'vol'"
    assert u.AGGVAR(sample_returns, [W], missing="Drop") == u.AGGVAR(sample_returns, [W])
    assert u.AGGVAR(sample_returns, [W], missing="skip") == "#VALUE! missing must be one of 'raise', 'drop'; got 'skip'"


# ----------------------------------------------------------------------------- RETURNS
def test_returns_spills_with_header_and_dates_and_feeds_aggvar(sample_prices, sample_returns):
    spilled = u.RETURNS(sample_prices)
    assert spilled[0] == sample_prices[0]
    assert [r[0] for r in spilled[1:]] == [r[0] for r in sample_prices[2:]]
    p = np.array([r[1:] for r in sample_prices[1:]], dtype=float)
    np.testing.assert_allclose(_numbers(spilled), (p[1:] - p[:-1]) / p[:-1], rtol=1e-14, atol=0)
    # the sample's returns file agrees up to the rounding of its prices (6 decimals)
    np.testing.assert_allclose(_numbers(spilled), _numbers(sample_returns), atol=5e-5)
    log = _numbers(u.RETURNS(sample_prices, "log"))
    np.testing.assert_allclose(log, np.log1p((p[1:] - p[:-1]) / p[:-1]), rtol=1e-14)
    nested = u.AGGVAR(u.RETURNS(sample_prices), [W], 0.99, 1, "normal")
    assert nested == pytest.approx(u.AGGVAR(sample_returns, [W], 0.99, 1, "normal"), rel=1e-6)


def test_returns_plain_range_and_errors():
    assert u.RETURNS([[100.0, 10.0], [110.0, 9.0]]) == [[pytest.approx(0.1), pytest.approx(-0.1)]]
    bad = [["Date", "A"], [dt.datetime(2024, 1, 1), 100.0], [dt.datetime(2024, 1, 2), -5.0]]
    assert u.RETURNS(bad).startswith("#NUM! prices row 3, column 2 is -5")
    assert u.RETURNS([[100.0], [110.0]], "percent").startswith("#VALUE! kind must be one of")


# ----------------------------------------------------------------------------- VARBACKTEST
def test_varbacktest_table_against_kupiec_formula():
    n, x, p = 250, 6, 0.01
    realized = [[0.001]] * n
    for i in (10, 50, 51, 120, 200, 240):
        realized[i] = [-0.03]
    out = dict((k, v) for k, v in u.VARBACKTEST(realized, 0.02, 0.99))
    lr = -2 * ((n - x) * math.log(1 - p) + x * math.log(p) - (n - x) * math.log(1 - x / n) - x * math.log(x / n))
    assert out["Observations"] == n and out["Exceptions"] == x and out["Expected"] == pytest.approx(2.5)
    assert out["Kupiec LR"] == pytest.approx(lr, rel=1e-12)
    assert out["Kupiec p-value"] == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-10)
    assert out["Zone"] == "yellow" and out["Multiplier"] == 3.5
    assert out["Conditional coverage LR"] == pytest.approx(out["Kupiec LR"] + out["Christoffersen LR"])
    assert list(out) == ["Observations", "Exceptions", "Expected", "Kupiec LR", "Kupiec p-value",
                         "Christoffersen LR", "Christoffersen p-value", "Conditional coverage LR",
                         "Conditional coverage p-value", "Zone", "Multiplier"]


def test_varbacktest_shapes_and_missing():
    realized = [["P&L"]] + [[0.01 * ((-1) ** i)] for i in range(30)]
    forecasts = [[0.005]] * 30
    full = u.VARBACKTEST(realized, forecasts, 0.95)
    assert dict(full)["Exceptions"] == 15
    holed = [list(r) for r in forecasts]
    holed[3] = [None]
    assert u.VARBACKTEST(realized, holed, 0.95).startswith("#VALUE! forecasts row 4, column 1 is blank")
    dropped = dict(u.VARBACKTEST(realized, holed, 0.95, "drop"))
    assert dropped["Observations"] == 29 and dropped["Exceptions"] == 14
    assert u.VARBACKTEST(realized, forecasts[:10]).startswith("#VALUE! realized has 30 entries but forecasts")


def test_xlvar_version():
    assert u.XLVAR_VERSION().startswith(f"xl-var {xv.__version__} (Python ")
