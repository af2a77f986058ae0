"""Black-76 option prices, Greeks and implied volatility, with QuantLib as an independent oracle."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from xl_var import XlVarError
from xl_var.pricing import Greeks, implied_vol, option_greeks, option_price

ql = pytest.importorskip("QuantLib")

RATE = 0.03
#: x = ln(F/K) from deep out- to deep in-the-money, one day to five years, 5% to 500% volatility.
GRID_X = np.linspace(-3.0, 3.0, 25)
GRID_T = np.array([1, 2, 7, 30, 91, 182, 365, 730, 1825]) / 365.0
GRID_VOL = np.array([0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0])


def grid(xs=GRID_X, ts=GRID_T, vols=GRID_VOL, strike=30_000.0):
    """Flat arrays (types, is_call, F, K, T, vol) over calls and puts of the grid."""
    x, t, v, call = (a.ravel() for a in np.meshgrid(xs, ts, vols, [True, False], indexing="ij"))
    return np.where(call, "call", "put"), call, strike * np.exp(x), np.full(x.size, strike), t, v


def ql_type(is_call):
    return ql.Option.Call if is_call else ql.Option.Put


# --- prices ------------------------------------------------------------------------------------------------


def test_haug_pinned_value_call_equals_put_at_the_money():
    # Haug (2007), §1.1.6: F = K = 19, T = 0.75, r = 10%, σ = 28% -> c = p = 1.7011
    c = option_price("call", 19, 19, 0.75, 0.28, rate=0.10)
    p = option_price("PUT", 19, 19, 0.75, 0.28, rate=0.10)
    assert isinstance(c, float)
    assert c == pytest.approx(1.701051, abs=5e-7)
    assert p == pytest.approx(c, rel=1e-15)


def test_prices_match_quantlib_black_formula():
    types, call, f, k, t, v = grid(xs=np.linspace(-2, 2, 9), ts=GRID_T[::2], vols=GRID_VOL[::2])
    ours = option_price(types, f, k, t, v, rate=RATE)
    ref = np.array([ql.blackFormula(ql_type(c), kk, ff, vv * math.sqrt(tt), math.exp(-RATE * tt))
                    for c, ff, kk, tt, vv in zip(call, f, k, t, v, strict=True)])
    np.testing.assert_allclose(ours, ref, rtol=1e-11, atol=1e-12 * k[0])


def test_put_call_parity_and_coin_price_is_usd_over_forward():
    _, _, f, k, t, v = grid(ts=GRID_T[::3], vols=GRID_VOL[::3])
    c, p = option_price("c", f, k, t, v, rate=RATE), option_price("p", f, k, t, v, rate=RATE)
    np.testing.assert_allclose(c - p, np.exp(-RATE * t) * (f - k), rtol=1e-12, atol=1e-11 * k[0])
    cc = option_price("c", f, k, t, v, rate=RATE, settle="coin")
    np.testing.assert_allclose(cc, c / f, rtol=1e-15)


def test_deribit_coin_settlement_at_expiry():
    # a 300 call settled at 400 pays (400 - 300) / 400 = 0.25 coin; a 300 put settled at 200 pays 0.5 coin
    assert option_price("call", 400, 300, 0.0, 0.8, settle="coin") == 0.25
    assert option_price("put", 200, 300, 0.0, 0.8, settle="inverse") == 0.5
    assert option_price("call", 200, 300, 0.0, 0.8, settle="coin") == 0.0
    assert option_price("call", 400, 300, 0.0, 0.8) == 100.0


def test_expiry_zero_and_tiny_volatility_give_discounted_intrinsic_value():
    f, k = np.array([120.0, 80.0, 100.0]), 100.0
    np.testing.assert_array_equal(option_price("c", f, k, 0.0, 0.5, rate=0.05), [20.0, 0.0, 0.0])
    np.testing.assert_array_equal(option_price("p", f, k, 0.0, 0.5, rate=0.05), [0.0, 20.0, 0.0])
    d = math.exp(-0.05 * 2.0)
    np.testing.assert_allclose(option_price("c", f[:2], k, 2.0, 1e-8, rate=0.05), [20 * d, 0.0], rtol=1e-14)
    # at the money the value is D F σ√T / √(2π) to first order
    atm = option_price("c", 100.0, 100.0, 2.0, 1e-8, rate=0.05)
    assert atm == pytest.approx(d * 100 * 1e-8 * math.sqrt(2.0) / math.sqrt(2 * math.pi), rel=1e-6)
    g = option_greeks(["c", "c", "c", "p"], [120.0, 80.0, 100.0, 100.0], k, 0.0, 0.5)
    np.testing.assert_array_equal(g.delta, [1.0, 0.0, 0.5, -0.5])
    np.testing.assert_array_equal(g.gamma, 0.0)
    np.testing.assert_array_equal(g.vega, 0.0)


def test_huge_volatility_tends_to_the_upper_bounds():
    t, d = 5.0, math.exp(-RATE * 5.0)
    c = option_price("c", 100.0, 90.0, t, 10.0, rate=RATE)
    p = option_price("p", 100.0, 90.0, t, 10.0, rate=RATE)
    assert c == pytest.approx(d * 100.0, rel=1e-12) and c <= d * 100.0
    assert p == pytest.approx(d * 90.0, rel=1e-12) and p <= d * 90.0
    ref = ql.blackFormula(ql.Option.Call, 90.0, 100.0, 10.0 * math.sqrt(t), d)
    assert c == pytest.approx(ref, rel=1e-14)


def test_deep_out_of_the_money_keeps_its_digits():
    # the put far below the forward is valued by its own formula, not C - (F - K), which would cancel to 0
    f, k, t, v = 20.0 * 100.0, 100.0, 0.5, 0.6
    p = option_price("p", f, k, t, v)
    ref = ql.blackFormula(ql.Option.Put, k, f, v * math.sqrt(t), 1.0)
    assert 0 < p < 1e-6
    assert p == pytest.approx(ref, rel=1e-12)
    # the mirror image: a call with forward and strike swapped has the same value (x -> -x, same √(FK))
    assert option_price("c", k, f, t, v) == pytest.approx(p, rel=1e-12)
    assert option_price("c", f, k, t, v) == pytest.approx(f - k + p, rel=1e-15)


def test_scalars_give_floats_arrays_broadcast_and_mixed_types():
    assert isinstance(option_price("c", 100, 100, 1, 0.5), float)
    col = option_price("c", np.array([[90.0], [100.0], [110.0]]), np.array([95.0, 105.0]), 1.0, 0.5)
    assert col.shape == (3, 2)
    assert col[1, 1] == option_price("c", 100.0, 105.0, 1.0, 0.5)
    rng = np.random.default_rng(7)
    n = 200_000
    names = rng.choice(["c", "C", " call ", "Call", "p", "PUT", "Put", "put"], n)
    f, k = rng.uniform(50, 150, n), rng.uniform(50, 150, n)
    t, v = rng.uniform(0, 3, n), rng.uniform(0, 3, n)
    mixed = option_price(names, f, k, t, v, rate=RATE)
    is_call = np.isin(names, ["c", "C", " call ", "Call"])
    split = np.where(is_call, option_price("c", f, k, t, v, rate=RATE), option_price("p", f, k, t, v, rate=RATE))
    np.testing.assert_array_equal(mixed, split)
    assert np.all(np.isfinite(mixed)) and np.all(mixed >= 0)


# --- Greeks ------------------------------------------------------------------------------------------------


def test_greeks_match_quantlib_black_calculator():
    types, call, f, k, t, v = grid(xs=np.linspace(-1.5, 1.5, 7), ts=GRID_T[1::2], vols=GRID_VOL[1::2])
    g = option_greeks(types, f, k, t, v, rate=RATE)
    for i in range(f.size):
        bc = ql.BlackCalculator(ql.PlainVanillaPayoff(ql_type(call[i]), k[i]), f[i], v[i] * math.sqrt(t[i]),
                                math.exp(-RATE * t[i]))
        scale = k[i]
        assert g.price[i] == pytest.approx(bc.value(), rel=1e-11, abs=1e-12 * scale)
        assert g.delta[i] == pytest.approx(bc.deltaForward(), rel=1e-11, abs=1e-14)
        assert g.gamma[i] == pytest.approx(bc.gammaForward(), rel=1e-10, abs=1e-16)
        assert g.vega[i] == pytest.approx(bc.vega(t[i]) / 100, rel=1e-10, abs=1e-14 * scale)
        assert g.theta[i] == pytest.approx(bc.thetaPerDay(f[i], t[i]), rel=1e-10, abs=1e-14 * scale)


@pytest.mark.parametrize("settle", ["usd", "coin"])
def test_greeks_match_central_finite_differences(settle):
    types, _, f, k, t, v = grid(xs=np.linspace(-0.5, 0.5, 5), ts=np.array([7, 91, 730]) / 365,
                                vols=np.array([0.3, 0.8, 2.0]))
    r = np.full(f.size, RATE)
    g = option_greeks(types, f, k, t, v, rate=r, settle=settle)
    usd = option_greeks(types, f, k, t, v, rate=r).price

    def price(ff=f, tt=t, vv=v, rr=r):
        return option_price(types, ff, k, tt, vv, rate=rr)

    hf, ht, hv, hr = 1e-4 * f, 1e-5, 1e-5, 1e-5
    np.testing.assert_allclose(g.price, usd / f if settle == "coin" else usd, rtol=1e-15)
    np.testing.assert_allclose(g.delta, (price(ff=f + hf) - price(ff=f - hf)) / (2 * hf), rtol=1e-6, atol=1e-9)
    fd_gamma = (price(ff=f + hf) - 2 * usd + price(ff=f - hf)) / hf**2
    assert np.all(np.abs(g.gamma - fd_gamma) <= 1e-4 * np.abs(fd_gamma) + 64 * np.spacing(usd) / hf**2)
    np.testing.assert_allclose(g.vega, (price(vv=v + hv) - price(vv=v - hv)) / (2 * hv) / 100, rtol=1e-6,
                               atol=1e-9 * k[0])
    fd_theta = -(price(tt=t + ht) - price(tt=t - ht)) / (2 * ht) / 365
    np.testing.assert_allclose(g.theta, fd_theta, rtol=1e-5, atol=1e-9 * k[0])
    np.testing.assert_allclose(g.rho, (price(rr=r + hr) - price(rr=r - hr)) / (2 * hr) / 100, rtol=1e-6,
                               atol=1e-9 * k[0])
    if settle == "usd":
        assert g.delta_coin is None
    else:
        coin = option_price(types, f, k, t, v, rate=r, settle="coin")
        up = option_price(types, f + hf, k, t, v, rate=r, settle="coin")
        down = option_price(types, f - hf, k, t, v, rate=r, settle="coin")
        np.testing.assert_allclose(g.delta_coin, f * (up - down) / (2 * hf), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(g.delta_coin, g.delta - coin, rtol=1e-13, atol=1e-15)


def test_coin_delta_is_deribit_n_d1_minus_coin_price_at_zero_rate():
    f, k, t, v = 40_000.0, 45_000.0, 30 / 365, 0.7
    g = option_greeks("call", f, k, t, v, settle="coin")
    d1 = (math.log(f / k) + 0.5 * v * v * t) / (v * math.sqrt(t))
    n_d1 = 0.5 * math.erfc(-d1 / math.sqrt(2))
    assert isinstance(g, Greeks) and isinstance(g.delta_coin, float)
    assert g.delta == pytest.approx(n_d1, rel=1e-14)
    assert g.delta_coin == pytest.approx(n_d1 - g.price, rel=1e-13)
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.delta = 0.0  # type: ignore[misc]


# --- implied volatility -----------------------------------------------------------------------------------


def test_implied_vol_matches_quantlib():
    types, call, f, k, t, v = grid(xs=np.linspace(-1, 1, 5), ts=GRID_T[2::2], vols=np.array([0.1, 0.4, 1.0, 2.0]))
    prices = option_price(types, f, k, t, v, rate=RATE)
    # QuantLib turns an in-the-money put into a call by parity (and may fail) and stops on an absolute price
    # accuracy, so it is asked about out-of-the-money options worth more than 1e-8 of the forward
    fair = np.where(call, f <= k, f >= k) & (prices > 1e-8 * f)
    assert fair.sum() > 40
    types, call, f, k, t, v, prices = types[fair], call[fair], f[fair], k[fair], t[fair], v[fair], prices[fair]
    ours = implied_vol(prices, types, f, k, t, rate=RATE)
    ref = np.array([ql.blackFormulaImpliedStdDev(ql_type(c), kk, ff, pp, math.exp(-RATE * tt), 0.0, 0.5, 1e-14, 500)
                    / math.sqrt(tt) for c, ff, kk, tt, pp in zip(call, f, k, t, prices, strict=True)])
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours, v, rtol=0, atol=1e-10)


@pytest.mark.parametrize("settle", ["usd", "coin"])
def test_implied_vol_round_trip_over_the_grid(settle):
    types, _, f, k, t, v = grid()
    prices = option_price(types, f, k, t, v, rate=RATE, settle=settle)
    iv = implied_vol(prices, types, f, k, t, rate=RATE, settle=settle)
    usd = prices * f if settle == "coin" else prices
    vega = option_greeks(types, f, k, t, v, rate=RATE).vega * 100  # per unit of volatility
    # the volatility move of one unit in the last place of the price: what the price can tell apart
    resolvable = (usd > 1e-290) & (vega > 0)
    cond = np.where(resolvable, np.spacing(usd) / np.where(vega > 0, vega, 1.0), np.inf)
    err = np.abs(iv - v)
    exact = cond <= 1e-11
    assert exact.mean() > 0.6  # most of the grid, from deep ITM to deep OTM and one day to five years
    assert {-3.0, 3.0} <= set(np.round(np.log(f[exact] / k[exact]), 9))
    assert {GRID_T[0], GRID_T[-1]} <= set(t[exact]) and {GRID_VOL[0], GRID_VOL[-1]} <= set(v[exact])
    assert err[exact].max() <= 1e-10
    assert np.all(err[resolvable] <= np.maximum(1e-10, 64 * cond[resolvable]))
    # where the price underflowed, the answer still reprices it
    repriced = option_price(types, f, k, t, iv, rate=RATE, settle=settle)
    np.testing.assert_allclose(repriced[~resolvable], prices[~resolvable], rtol=1e-6, atol=1e-300)


def test_implied_vol_extremes():
    # at the money: one day at 5%, five years at 200%, one day at 0.1%, one year at 500%
    for t, v in [(1 / 365, 0.05), (5.0, 2.0), (1 / 365, 1e-3), (1.0, 5.0)]:
        for kind in ("c", "p"):
            p = option_price(kind, 100.0, 100.0, t, v, rate=RATE)
            assert implied_vol(p, kind, 100.0, 100.0, t, rate=RATE) == pytest.approx(v, abs=1e-10)
    # a price at the discounted intrinsic value (or an OTM price of 0) is worth volatility 0
    d = math.exp(-RATE)
    assert implied_vol(20 * d, "c", 120.0, 100.0, 1.0, rate=RATE) == 0.0
    assert implied_vol(0.0, "p", 120.0, 100.0, 1.0, rate=RATE) == 0.0
    assert implied_vol(option_price("c", 120.0, 100.0, 1.0, 1e-8, rate=RATE), "c", 120.0, 100.0, 1.0,
                       rate=RATE) == 0.0


def test_implied_vol_refuses_prices_outside_the_no_arbitrage_bounds():
    d = math.exp(-RATE)
    with pytest.raises(XlVarError, match=r"price entry 2 .* below the lower bound.*intrinsic.*= 19\.4"):
        implied_vol([25.0, 19.0], "c", 120.0, 100.0, 1.0, rate=RATE)
    with pytest.raises(XlVarError, match=r"price .* above the upper bound D·F = 116\.4"):
        implied_vol(120.0 * d, "c", 120.0, 100.0, 1.0, rate=RATE)
    with pytest.raises(XlVarError, match=r"price entry 1 .* upper bound D·K"):
        implied_vol([101.0, 5.0], "p", 120.0, 100.0, 1.0)
    with pytest.raises(XlVarError, match=r"upper bound D·F = 1 coin"):
        implied_vol(1.0, "c", 120.0, 100.0, 1.0, settle="coin")
    with pytest.raises(XlVarError, match=r"lower bound.*= 0\.25 coin"):
        implied_vol(0.2, "c", 400.0, 300.0, 1.0, settle="coin")
    with pytest.raises(XlVarError, match="no time value"):
        implied_vol(5.0, "c", 100.0, 100.0, 0.0)
    with pytest.raises(XlVarError, match="price must be a price of 0 or more"):
        implied_vol(-1.0, "c", 100.0, 100.0, 1.0)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"forward": [100.0, -5.0]}, r"forward entry 2 must be a positive number; got -5"),
    ({"strike": [[1.0, 2.0], [3.0, 0.0]]}, r"strike entry \(2, 2\) must be a positive number"),
    ({"expiry": -0.1}, r"expiry must be years to expiry, 0 or more"),
    ({"vol": [0.5, np.nan]}, r"vol entry 2 must be a volatility"),
    ({"rate": np.inf}, r"rate must be a finite number"),
    ({"option_type": ["c", "p", "straddle"]}, r"option_type entry 3 must be 'call' or 'put'.*'straddle'"),
    ({"option_type": 1}, r"option_type must be 'call' or 'put'"),
    ({"settle": "eur"}, r"settle must be one of 'usd', 'coin'"),
    ({"forward": "abc"}, r"forward must contain only numbers"),
    ({"forward": [1.0, 2.0], "strike": [1.0, 2.0, 3.0]}, r"do not broadcast"),
])
def test_inputs_are_validated_naming_the_argument_and_entry(kwargs, message):
    args = {"option_type": "c", "forward": 100.0, "strike": 100.0, "expiry": 1.0, "vol": 0.5, "rate": 0.0,
            "settle": "usd"} | kwargs
    with pytest.raises(XlVarError, match=message):
        option_price(**args)
    with pytest.raises(XlVarError, match=message):
        option_greeks(**args)


def test_a_vol_in_percent_is_refused_not_priced() -> None:
    """55 for 55%: refused with the fix, rather than priced at 5500% (the forward, silently)."""
    with pytest.raises(XlVarError, match="divide a vol in percent by 100"):
        option_price("call", 100, 100, 1, 55)
    assert option_price("call", 100, 100, 1, 10) < 100  # 1000% is the largest vol accepted
