"""Portfolio margin: Deribit and SPAN grids checked by hand, per-underlying sums, coin, parameters."""

import datetime as dt

import numpy as np
import pytest

from xl_var.black76 import black76_price
from xl_var.book import Book
from xl_var.errors import XlVarError
from xl_var.margin import MarginScenario, margin_parameters, portfolio_margin

VAL = dt.datetime(2024, 6, 28, 8, tzinfo=dt.UTC)
T = 182 / 365  # 28 Jun 2024 08:00 → 27 Dec 2024 08:00
S0, K, VOL, Q = 50_000.0, 60_000.0, 0.6, -3.0
CORE = np.repeat(np.linspace(-0.16, 0.16, 9), 3)  # each move with vols up, unchanged, down
EXT = np.array([-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0])


def perp_book(notional=10_000.0):
    return Book([("BTC-PERPETUAL", notional)], {"BTC": S0}, valuation=VAL)


def call_book(q=Q, strike=K):
    return Book([(f"BTC_USDC-27DEC24-{strike:.0f}-C", q)], {"BTC": S0}, valuation=VAL, vols=VOL)


def dampened(loss, move, dampener=100_000.0, factor=1.0):
    pos = np.maximum(loss, 0.0)
    return factor * 0.16 / np.abs(move) * pos * pos / (pos + dampener)


def test_deribit_single_perpetual_by_hand():
    r = portfolio_margin(perp_book())
    core_loss = -10_000.0 * CORE  # an inverse perpetual of notional N gains N·m USD
    ext_loss = dampened(-10_000.0 * EXT, EXT)
    np.testing.assert_allclose(r.loss, np.r_[core_loss, ext_loss], atol=1e-9)
    np.testing.assert_allclose(r.pnl[:, 0], -np.r_[core_loss, -10_000.0 * EXT], atol=1e-9)
    assert r.margin == pytest.approx(1600.0) and r.maintenance == pytest.approx(1280.0)
    assert r.worst == (MarginScenario("BTC", -0.16, 0.5, 1.0, False),)
    assert len(r.scenarios) == 35 and sum(s.extended for s in r.scenarios) == 8
    assert [s.vol_shock for s in r.scenarios[:3]] == [0.5, 0.0, -0.25]
    assert r.scenarios[27] == MarginScenario("BTC", -0.66, 0.5, pytest.approx(0.16 / 0.66), True)
    assert np.all(r.vol_shifts == 0.0) and r.model == "deribit" and r.currency == "usd"


def deribit_vols(days, vol=VOL, up=0.5, down=0.25, floor=0.5):
    f = (30 / days) ** (0.30 if days < 30 else 0.13)
    return max(vol * (1 + up * f), floor), vol * max(1 - down * f, 0.0)


def test_deribit_single_short_option_by_hand():
    r = portfolio_margin(call_book())
    v_up, v_down = deribit_vols(182)
    v0 = black76_price(True, S0, K, T, VOL)
    vols = np.tile([v_up, VOL, v_down], 9)
    pnl = Q * (black76_price(True, S0 * (1 + np.r_[CORE, EXT]), K, T, np.r_[vols, [v_up] * 8]) - v0)
    np.testing.assert_allclose(r.pnl[:, 0], pnl, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(r.vol_shifts[:, 0], np.r_[vols, [v_up] * 8] - VOL, atol=1e-12)
    expected = np.r_[-pnl[:27], dampened(-pnl[27:], EXT)]
    np.testing.assert_allclose(r.loss, expected, rtol=1e-10, atol=1e-8)
    assert r.margin == pytest.approx(expected.max())
    assert r.worst[0] == MarginScenario("BTC", 0.16, 0.5, 1.0, False)  # short call: price and vol up


def test_short_expiries_use_the_short_term_power_and_the_shock_up_floor():
    book = Book([("BTC_USDC-5JUL24-50000-C", 1.0, 0.4), ("BTC_USDC-5JUL24-52000-C", 1.0, 0.2)],
                {"BTC": S0}, valuation=VAL)
    r = portfolio_margin(book)
    for j, vol in enumerate((0.4, 0.2)):
        up, down = deribit_vols(7, vol)
        assert r.vol_shifts[0, j] == pytest.approx(up - vol)
        assert r.vol_shifts[2, j] == pytest.approx(down - vol)
    assert r.vol_shifts[0, 1] == pytest.approx(0.5 - 0.2)  # 0.2 × 1.77 < 0.5: floored at min_volatility_for_shock_up


def test_per_underlying_margins_add_up_and_ignore_other_underlyings():
    pos = [("BTC-PERPETUAL", 10_000.0), ("ETH_USDC-27DEC24-3000-C", -5.0)]
    both = Book(pos, {"BTC": S0, "ETH": 3_000.0}, valuation=VAL, vols=0.7)
    r = portfolio_margin(both)
    assert r.underlyings == ("BTC", "ETH") and len(r.scenarios) == 70 and len(r.worst) == 2
    assert r.margin == pytest.approx(r.by_underlying.sum())
    assert r.by_underlying[0] == pytest.approx(portfolio_margin(perp_book()).margin)
    eth = portfolio_margin(Book(pos[1:], {"ETH": 3_000.0}, valuation=VAL, vols=0.7))
    assert r.by_underlying[1] == pytest.approx(eth.margin)
    assert np.all(r.pnl[:35, 1] == 0.0) and np.all(r.pnl[35:, 0] == 0.0)
    assert {s.underlying for s in r.scenarios[35:]} == {"ETH"} and r.worst[1].underlying == "ETH"


def test_coin_currency_converts_each_scenario_at_its_price():
    r = portfolio_margin(perp_book(), currency="coin")
    # Deribit's coin P&L of an inverse perpetual: N (1/F0 - 1/F1)
    assert r.loss[0] == pytest.approx(-10_000.0 * (1 / S0 - 1 / (S0 * 0.84)))
    assert r.margin == pytest.approx(r.by_underlying[0]) == pytest.approx(1600.0 / (S0 * 0.84))
    two = Book([("BTC-PERPETUAL", 10_000.0), ("ETH-PERPETUAL", 1_000.0)], {"BTC": S0, "ETH": 2_000.0},
               valuation=VAL)
    rc = portfolio_margin(two, currency="coin")
    assert np.isnan(rc.margin) and rc.currency == "coin"
    np.testing.assert_allclose(rc.by_underlying, [1600.0 / 42_000.0, 160.0 / 1_680.0])


def test_every_parameter_is_editable():
    changed = {"price_range": 0.2, "buckets": 2, "volatility_range_up": 0.7, "volatility_range_down": 0.1,
               "short_term_vega_power": 0.5, "long_term_vega_power": 0.2, "min_volatility_for_shock_up": 0.9,
               "extended_moves": (-0.5, 1.0), "extended_table_factor": 2.0, "extended_dampener": 0.0,
               "mm_factor": 0.5, "look_ahead_days": 1.0}
    assert set(changed) == set(margin_parameters("deribit"))
    for name, value in changed.items():
        assert portfolio_margin(call_book(), **{name: value}).params[name] == value
    span = {"price_scan": 0.1, "vol_scan": 0.2, "extreme_move": 3.0, "extreme_weight": 0.3,
            "short_option_minimum": 10.0, "look_ahead_days": 0.0}
    assert set(span) == set(margin_parameters("span"))
    for name, value in span.items():
        assert portfolio_margin(call_book(), "span", **{name: value}).params[name] == value
    # effects, by hand on the perpetual
    assert portfolio_margin(perp_book(), price_range=0.2).margin == pytest.approx(2000.0)
    assert len(portfolio_margin(perp_book(), buckets=2, extended_moves=[-0.5]).scenarios) == 16
    assert portfolio_margin(perp_book(), mm_factor=0.5).maintenance == pytest.approx(800.0)
    undamped = portfolio_margin(perp_book(), extended_dampener=0.0)
    np.testing.assert_allclose(undamped.loss[27:29], 1600.0)  # R/|m| × N|m| = N R for a linear position
    doubled = portfolio_margin(perp_book(), extended_dampener=0.0, extended_table_factor=2.0)
    assert doubled.margin == pytest.approx(3200.0) and doubled.worst[0].extended
    assert portfolio_margin(perp_book(), "span", price_scan=0.1).margin == pytest.approx(1000.0)


@pytest.mark.parametrize(("params", "words"), [
    ({"price_rnage": 0.2}, ["price_rnage", "valid ones", "price_range", "mm_factor"]),
    ({"price_range": 1.5}, ["price_range", "(0, 1)"]),
    ({"buckets": 0}, ["buckets"]),
    ({"mm_factor": 0}, ["mm_factor"]),
    ({"volatility_range_up": -0.1}, ["volatility_range_up"]),
    ({"extended_moves": [0.0, 1.0]}, ["extended_moves"]),
    ({"extended_moves": [-1.0]}, ["extended_moves"]),
    ({"extended_dampener": "big"}, ["extended_dampener"]),
    ({"volatility_range_up": 50}, ["volatility_range_up", "0.5 for 50%"]),  # typed in percent: refused
    ({"volatility_range_down": 25}, ["volatility_range_down", "0.25 for 25%"]),
])
def test_parameter_errors_name_the_parameter(params, words):
    with pytest.raises(XlVarError) as err:
        portfolio_margin(perp_book(), **params)
    assert all(w in str(err.value) for w in words)


def test_span_vol_scan_in_vol_points_typed_in_percent_is_refused():
    with pytest.raises(XlVarError, match=r"0\.1 for 10%"):
        portfolio_margin(perp_book(), "span", vol_scan=10)


def test_model_currency_and_book_errors():
    with pytest.raises(XlVarError, match="model"):
        portfolio_margin(perp_book(), model="ftx")
    with pytest.raises(XlVarError, match="currency"):
        portfolio_margin(perp_book(), currency="eur")
    with pytest.raises(XlVarError, match="book must be"):
        portfolio_margin([("BTC", 1)])
    with pytest.raises(XlVarError, match="extended_moves is not a parameter of the span"):
        portfolio_margin(perp_book(), "span", extended_moves=[1.0])
    with pytest.raises(XlVarError, match="extreme_move × price_scan"):
        portfolio_margin(perp_book(), "span", price_scan=0.6)


def test_zero_position_book_has_zero_margin():
    book = Book([("BTC-PERPETUAL", 0.0), ("BTC_USDC-27DEC24-60000-C", 0.0)], {"BTC": S0}, valuation=VAL, vols=VOL)
    for model in ("deribit", "span"):
        r = portfolio_margin(book, model)
        assert r.margin == 0.0 and np.all(r.loss == 0.0)


def test_extended_moves_are_dampened_and_set_the_margin_for_large_short_wings():
    book = call_book(q=-100.0, strike=150_000.0)
    r = portfolio_margin(book)
    raw = -r.pnl.sum(axis=1)
    w = np.array([s.weight for s in r.scenarios])
    ext = np.array([s.extended for s in r.scenarios])
    pos = np.maximum(raw[ext], 0.0)  # the −66% move is a gain for a short call: it counts 0
    np.testing.assert_allclose(r.loss[ext], w[ext] * pos**2 / (pos + 100_000.0), rtol=1e-12)
    assert r.loss[ext][0] == 0.0 and np.all(r.loss[ext][1:] < w[ext][1:] * raw[ext][1:])
    assert r.worst[0].extended and r.worst[0].price_move == 5.0
    assert r.margin > r.loss[~ext].max()
    muted = portfolio_margin(book, extended_dampener=1e15)
    assert muted.margin == pytest.approx(r.loss[~ext].max()) and not muted.worst[0].extended


def test_span_single_perpetual_by_hand():
    r = portfolio_margin(perp_book(), "span")
    s = 0.15
    moves = np.array([0, 0, s / 3, s / 3, -s / 3, -s / 3, 2 * s / 3, 2 * s / 3, -2 * s / 3, -2 * s / 3,
                      s, s, -s, -s, 2 * s, -2 * s])
    weights = np.r_[np.ones(14), 0.35, 0.35]
    np.testing.assert_allclose(r.loss, -10_000.0 * moves * weights, atol=1e-9)
    assert [sc.vol_shock for sc in r.scenarios[:4]] == [0.1, -0.1, 0.1, -0.1]
    assert r.margin == pytest.approx(1500.0) == r.maintenance
    assert r.worst == (MarginScenario("BTC", -0.15, 0.1, 1.0, False),)


def test_span_single_option_by_hand_with_one_day_look_ahead():
    r = portfolio_margin(call_book(), "span", price_scan=0.2, vol_scan=0.15)
    s, v = 0.2, 0.15
    moves = np.array([0, 0, s / 3, s / 3, -s / 3, -s / 3, 2 * s / 3, 2 * s / 3, -2 * s / 3, -2 * s / 3,
                      s, s, -s, -s, 2 * s, -2 * s])
    vols = VOL + np.r_[np.tile([v, -v], 7), 0.0, 0.0]
    pnl = Q * (black76_price(True, S0 * (1 + moves), K, T - 1 / 365, vols) - black76_price(True, S0, K, T, VOL))
    np.testing.assert_allclose(r.pnl[:, 0], pnl, rtol=1e-10, atol=1e-8)
    loss = -pnl * np.r_[np.ones(14), 0.35, 0.35]
    assert r.margin == pytest.approx(max(loss.max(), 0.0))
    assert r.worst[0] == MarginScenario("BTC", pytest.approx(0.2), 0.15, 1.0, False)


def test_span_short_option_minimum_floors_the_margin():
    book = Book([("BTC_USDC-27DEC24-10000-P", -3.0)], {"BTC": S0}, valuation=VAL, vols=VOL)
    scan = portfolio_margin(book, "span")
    floored = portfolio_margin(book, "span", short_option_minimum=500.0)
    assert scan.margin < 1500.0 and floored.margin == pytest.approx(1500.0)  # three short puts × 500
    coin = portfolio_margin(book, "span", currency="coin", short_option_minimum=500.0)
    assert coin.margin == pytest.approx(1500.0 / S0)
