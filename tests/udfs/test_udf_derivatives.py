"""The derivatives worksheet functions with Excel-shaped values, checked against the engine; fuzzed so that
nothing raises, no NaN/inf reaches a cell and every error is one line starting with '#'."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xl_var as xv
import xl_var_udfs as u

VAL = dt.datetime(2024, 9, 1)
EXP = dt.datetime(2024, 12, 27)
POSITIONS = [["Instrument", "Quantity", "Vol"], ["BTC", 1, None], ["BTC-PERPETUAL", 10_000, None],
             ["BTC-27DEC24-60000-C", 3, None], ["ETH_USDC-27DEC24-3000-P", -5, 0.8], [None, None, None]]
MARKET = [["Underlying", "Spot", "Vol", "Forward"], ["BTC", 60_000, 0.6, None], ["ETH", 3_000, 0.7, 3_050]]
RNG = np.random.default_rng(1)
R = RNG.standard_t(5, size=(300, 2)) * 0.03
RETURNS = [["Date", "BTC", "ETH"]] + [[dt.datetime(2023, 1, 1) + dt.timedelta(days=i), *map(float, R[i])]
                                     for i in range(300)]


def engine_book() -> xv.Book:
    return xv.Book([("BTC", 1), ("BTC-PERPETUAL", 10_000), ("BTC-27DEC24-60000-C", 3),
                    ("ETH_USDC-27DEC24-3000-P", -5, 0.8)], {"BTC": 60_000, "ETH": 3_000}, valuation=VAL,
                   vols={"BTC": 0.6, "ETH": 0.7}, forwards={"ETH": 3_050})


T = xv.year_fraction(VAL, dt.datetime(2024, 12, 27, 8))


def test_optionprice_matches_the_engine_with_dates_years_and_serials() -> None:
    assert u.OPTIONPRICE("call", 19, 19, 0.75, 0.28, 0.1) == pytest.approx(1.701051, abs=1e-6)
    by_date = u.OPTIONPRICE("C", 60_000, 60_000, EXP, 0.6, 0, "coin", VAL)
    assert by_date == pytest.approx(xv.option_price("call", 60_000, 60_000, T, 0.6, settle="coin"), rel=1e-12)
    serial = (EXP - dt.datetime(1899, 12, 30)).days
    assert u.OPTIONPRICE("c", 60_000, 60_000, serial, "60%", 0, "COIN", VAL) == pytest.approx(by_date, rel=1e-12)


def test_optiongreeks_table_and_impliedvol_round_trip() -> None:
    rows = u.OPTIONGREEKS("P", 60_000, 50_000, EXP, 0.6, 0.01, "coin", VAL)
    g = xv.option_greeks("put", 60_000, 50_000, T, 0.6, rate=0.01, settle="coin")
    assert [r[0] for r in rows] == ["Price", "Delta", "Delta (coin)", "Gamma", "Vega", "Theta", "Rho"]
    assert rows[0][1] == pytest.approx(g.price) and rows[2][1] == pytest.approx(g.delta_coin)
    assert [r[0] for r in u.OPTIONGREEKS("call", 100, 100, 1, 0.5)] == ["Price", "Delta", "Gamma", "Vega", "Theta",
                                                                        "Rho"]
    assert u.IMPLIEDVOL(rows[0][1], "put", 60_000, 50_000, EXP, 0.01, "coin", VAL) == pytest.approx(0.6, abs=1e-10)
    assert u.IMPLIEDVOL(100, "call", 100, 100, 1, 0, "usd").startswith("#NUM!")


def test_bookgreeks_per_underlying_and_position_match_the_engine() -> None:
    rows = u.BOOKGREEKS(POSITIONS, MARKET, VAL)
    g = engine_book().greeks("underlying")
    assert rows[0][:3] == ["Underlying", "Value", "Delta"] and [r[0] for r in rows[1:]] == ["BTC", "ETH", "Total"]
    assert rows[1][1] == pytest.approx(g.value[0]) and rows[2][3] == pytest.approx(g.delta_usd[1])
    assert rows[-1][3] == pytest.approx(g.delta_usd.sum()) and rows[-1][2] == ""  # coins don't add across coins
    per = u.BOOKGREEKS(POSITIONS, MARKET, VAL, "position")
    assert [r[0] for r in per[1:-1]] == [p.name for p in engine_book().positions]


def test_headers_in_any_order_and_case() -> None:
    shuffled = [["quantity", " INSTRUMENT "]] + [[r[1], r[0]] for r in POSITIONS[1:4]]
    market = [["spot", "vol", "underlying"], [60_000, 0.6, "btc"]]
    assert u.BOOKGREEKS(shuffled, market, VAL)[1][0] == "BTC"


def test_aggvar_with_a_positions_table_is_the_engines_book_var() -> None:
    book = engine_book()
    for method, reval in (("historical", None), ("normal", None), ("normal", "delta-gamma"),
                          ("fhs", "full"), ("historical", "delta")):
        want = xv.portfolio_var(R, book, 0.99, method=method, assets=["BTC", "ETH"], revaluation=reval)
        assert u.AGGVAR(RETURNS, POSITIONS, 0.99, 1, method, None, None, "raise", MARKET, VAL, reval) == \
            pytest.approx(want.var, rel=1e-12)
        assert u.AGGES(RETURNS, POSITIONS, 0.99, 1, method, None, None, "raise", MARKET, VAL, reval) == \
            pytest.approx(want.es, rel=1e-12)


def test_componentvar_has_one_row_per_position() -> None:
    rows = u.COMPONENTVAR(RETURNS, POSITIONS, 0.99, 1, "historical", "VaR", True, "raise", MARKET, VAL)
    d = xv.component_var(R, engine_book(), 0.99, method="historical", assets=["BTC", "ETH"])
    assert rows[0] == ["Position", "Quantity", "Marginal", "Component", "% of total"]
    assert [r[0] for r in rows[1:-1]] == ["BTC", "BTC-PERPETUAL", "BTC-27DEC24-60000-C", "ETH_USDC-27DEC24-3000-P"]
    np.testing.assert_allclose([r[3] for r in rows[1:-1]], d.component, rtol=1e-12)
    assert rows[-1][3] == pytest.approx(d.total)


def test_margin_grid_and_stress() -> None:
    book = engine_book()
    assert u.PORTMARGIN(POSITIONS, MARKET, "deribit", "usd", VAL) == pytest.approx(xv.portfolio_margin(book).margin)
    span = u.PORTMARGIN(POSITIONS, MARKET, "SPAN", None, VAL, [["price_scan", 0.2], ["vol_scan", "10%"]])
    assert span == pytest.approx(xv.portfolio_margin(book, "span", price_scan=0.2, vol_scan=0.1).margin)
    grid = u.MARGINGRID(POSITIONS, MARKET, "deribit", "usd", VAL)
    assert grid[0][:4] == ["Underlying", "Scenario", "Price move", "Vol shock"]
    assert sum(1 for r in grid[1:] if r[-1]) == 2  # one margin-setting scenario per underlying
    res = xv.stress_test(book)
    rows = u.STRESSTEST(POSITIONS, MARKET, None, VAL)
    assert rows[0] == ["Scenario", "P&L", "BTC", "ETH"] and [r[0] for r in rows[1:]] == list(res.names)
    np.testing.assert_allclose([r[1] for r in rows[1:]], res.total)
    mine = u.STRESSTEST(POSITIONS, MARKET, [["Name", "Underlying", "Move", "Vol shift"], ["crash", "BTC", -0.3, 0.2],
                                            ["crash", "*", "-40%", None]], VAL)
    want = xv.stress_test(book, [{"name": "crash", "moves": {"BTC": -0.3, "*": -0.4}, "vol_shifts": {"BTC": 0.2}}])
    assert mine[1][1] == pytest.approx(want.total[0])


def test_dgvar_matches_the_engine() -> None:
    delta, gamma, cov = [[1000], [500]], [[200, 0], [0, -100]], [[0.0009, 0.0003], [0.0003, 0.0016]]
    want = xv.delta_gamma_var(np.array([1000.0, 500.0]), np.array(gamma, float), np.array(cov), 0.99)
    assert u.DGVAR(delta, gamma, cov, 0.99) == pytest.approx(want.var, rel=1e-12)
    assert u.DGVAR(delta, [[200, -100]], cov, 0.99) == pytest.approx(want.var, rel=1e-12)  # diagonal as a row


@pytest.mark.parametrize(("call", "start"), [
    (lambda: u.AGGVAR(RETURNS, [["Instrument", "Quantity"], ["SOL", 1]], 0.99, 1, "historical", None, None,
                      "raise", MARKET, VAL), "#VALUE! positions row 2 (SOL)"),
    (lambda: u.AGGVAR(RETURNS, POSITIONS, 0.99, 1, "historical", None, None, "raise", None, VAL),
     "#VALUE! a positions table needs market"),
    (lambda: u.BOOKGREEKS([["Instrument", "Quantity"], ["BTC-27DEC24-1-X", 1]], MARKET, VAL),
     "#VALUE! positions row 2"),
    (lambda: u.BOOKGREEKS([["Instrument", "Quantity"], ["BTC-27SEP24-1-C", 1]], MARKET, dt.datetime(2024, 10, 1)),
     "#VALUE! positions row 2 (BTC-27SEP24-1-C) expired"),
    (lambda: u.BOOKGREEKS([["Instrument", "Quantity"], ["BTC", "#N/A"]], MARKET, VAL), "#N/A"),
    (lambda: u.BOOKGREEKS([["Name", "Qty"], ["BTC", 1]], MARKET, VAL), "#VALUE! positions needs a header row"),
    (lambda: u.PORTMARGIN(POSITIONS, MARKET, "deribit", "coin", VAL), "#VALUE! ccy"),
    (lambda: u.PORTMARGIN(POSITIONS, MARKET, "deribit", "usd", VAL, [["nonsense", 1]]), "#VALUE!"),
    (lambda: u.OPTIONPRICE("straddle", 100, 100, 1, 0.5), "#VALUE! option_type"),
    (lambda: u.OPTIONPRICE("call", 100, 100, 1, "1,5"), "#VALUE! vol"),
])
def test_bad_inputs_are_one_line_naming_the_row(call: object, start: str) -> None:
    out = call()  # type: ignore[operator]
    assert isinstance(out, str) and out.startswith(start) and "\n" not in out


FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
JUNK = st.one_of(st.none(), st.just(""), st.sampled_from(["#N/A", "#VALUE! upstream", "call", "P", "coin", "60%"]),
                 st.text(max_size=5), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
                 st.integers(-10**6, 10**6), st.datetimes(min_value=dt.datetime(2000, 1, 1),
                                                          max_value=dt.datetime(2030, 1, 1)))
GOOD = {"option_type": st.sampled_from(["call", "put", "C", "p"]), "forward": st.floats(1, 1e5),
        "strike": st.floats(1, 1e5), "expiry": st.one_of(st.floats(0, 5), st.just(EXP)),
        "vol": st.floats(0, 3), "rate": st.floats(-0.05, 0.2), "settle": st.sampled_from(["usd", "coin"])}


def _ok(out: object) -> None:
    if isinstance(out, str):
        assert out.startswith("#") and "\n" not in out and "internal error" not in out, out
    elif isinstance(out, list):
        for row in out:
            for c in row:
                assert not (isinstance(c, float) and not math.isfinite(c))
    else:
        assert math.isfinite(out)  # type: ignore[arg-type]


@FUZZ
@given(st.fixed_dictionaries({k: st.one_of(v, v, v, JUNK) for k, v in GOOD.items()}), st.booleans())
def test_option_functions_never_raise(args: dict, greeks: bool) -> None:
    f = u.OPTIONGREEKS if greeks else u.OPTIONPRICE
    _ok(f(*args.values(), VAL))
    _ok(u.IMPLIEDVOL(args["forward"] * 0.05 if isinstance(args["forward"], float) else args["forward"],
                     args["option_type"], args["forward"], args["strike"], args["expiry"], args["rate"],
                     args["settle"], VAL))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["BTC", "BTC-PERPETUAL", "ETH_USDC-27DEC24-3000-P", "BTC-27DEC24-60000-C",
                                            "DOGE", "BTC-31FEB24", "x"]),
                          st.one_of(st.floats(-1e6, 1e6), JUNK)), min_size=1, max_size=5),
       st.one_of(st.just(VAL), JUNK))
def test_book_functions_never_raise(rows: list, valuation: object) -> None:
    positions = [["Instrument", "Quantity"], *map(list, rows)]
    for call in (lambda: u.BOOKGREEKS(positions, MARKET, valuation),
                 lambda: u.PORTMARGIN(positions, MARKET, "span", "usd", valuation),
                 lambda: u.MARGINGRID(positions, MARKET, "deribit", "usd", valuation),
                 lambda: u.STRESSTEST(positions, MARKET, None, valuation),
                 lambda: u.AGGVAR(RETURNS, positions, 0.99, 1, "normal", None, None, "raise", MARKET, valuation,
                                  "delta-gamma"),
                 lambda: u.AGGES(RETURNS, positions, 0.99, 1, "historical", None, None, "raise", MARKET, valuation),
                 lambda: u.COMPONENTVAR(RETURNS, positions, 0.99, 1, "historical", "ES", True, "raise", MARKET,
                                        valuation)):
        _ok(call())


@FUZZ
@given(st.lists(st.one_of(st.floats(-1e6, 1e6), JUNK), min_size=2, max_size=2),
       st.lists(st.one_of(st.floats(-1e4, 1e4), JUNK), min_size=4, max_size=4),
       st.lists(st.one_of(st.floats(0, 0.01), JUNK), min_size=4, max_size=4),
       st.one_of(st.sampled_from(["normal", "cornish-fisher", "exact", "imhof"]), JUNK), st.one_of(st.just(0.99), JUNK))
def test_dgvar_never_raises(delta: list, gamma: list, cov: list, method: object, confidence: object) -> None:
    _ok(u.DGVAR([[d] for d in delta], [gamma[:2], gamma[2:]], [cov[:2], cov[2:]], confidence, 1, 0, method))
