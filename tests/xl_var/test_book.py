"""Book: pricing of each kind of instrument, Greeks and scenario revaluation against plain re-computation."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy.stats import norm

import xl_var as xv
from xl_var.book import Book

VAL = dt.datetime(2024, 9, 1, tzinfo=dt.UTC)
EXPIRY = dt.datetime(2024, 12, 27, 8, tzinfo=dt.UTC)
T = (EXPIRY - VAL).total_seconds() / (365 * 86400)


def black(call: bool, f: float, k: float, t: float, v: float, r: float = 0.0) -> float:
    """Black-76 written out independently of the engine."""
    if t <= 0 or v == 0:
        return math.exp(-r * t) * max((f - k) if call else (k - f), 0.0)
    d1 = (math.log(f / k) + 0.5 * v * v * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    c = f * norm.cdf(d1) - k * norm.cdf(d2)
    return math.exp(-r * t) * (c if call else c - (f - k))


MIXED = [("BTC", 1.5), ("BTC-PERPETUAL", 10_000), ("BTC_USDC-PERPETUAL", 2), ("BTC-27DEC24", -5_000),
         ("BTC_USDC-27DEC24", 0.5), ("BTC-27DEC24-60000-C", 3), ("BTC-27DEC24-50000-P", -2),
         ("ETH_USDC-27DEC24-3000-P", -5), ("ETH-27DEC24-3500-C", 4)]


def mixed_book(**kw: object) -> Book:
    args: dict[str, object] = {"valuation": VAL, "vols": {"BTC": 0.6, "ETH": 0.7},
                               "forwards": {("BTC", "27DEC24"): 62_000, "ETH": 3_100}, "rate": 0.03}
    args.update(kw)
    return Book(MIXED, {"BTC": 60_000, "eth": 3_000}, **args)  # type: ignore[arg-type]


def plain_pnl(moves: np.ndarray) -> np.ndarray:
    """Each position's USD P&L written out by the table in the Book's docstring, one scenario at a time."""
    spot = {"BTC": 60_000.0, "ETH": 3_000.0}
    fwd = {"BTC": 62_000.0, "ETH": 3_100.0}
    out = np.zeros((len(moves), len(MIXED)))
    for s, (mb, me) in enumerate(moves):
        move = {"BTC": mb, "ETH": me}
        for i, (name, q) in enumerate(MIXED):
            u = name.split("-")[0].split("_")[0]
            s0, m = spot[u], move[u]
            s1 = s0 * (1 + m)
            f0 = fwd[u] if "27DEC24" in name else s0
            f1 = f0 * (1 + m)
            if name == u:
                out[s, i] = q * (s1 - s0)
            elif name.count("-") == 1 and "_USDC" in name:
                out[s, i] = q * (f1 - f0)
            elif name.count("-") == 1:  # inverse: coin P&L converted at the scenario's spot
                out[s, i] = q * (1 / f0 - 1 / f1) * s1
            else:
                k, call = float(name.split("-")[2]), name.endswith("C")
                v = 0.6 if u == "BTC" else 0.7
                v0, v1 = black(call, f0, k, T, v, 0.03), black(call, f1, k, T, v, 0.03)
                out[s, i] = q * ((v1 / f1 * s1 - v0 / f0 * s0) if "_USDC" not in name else (v1 - v0))
    return out


def test_deribit_inverse_future_example() -> None:
    """Deribit: a long 1,000 USD inverse future from 600 to 700 gains 1000/600 - 1000/700 BTC."""
    book = Book([("BTC-PERPETUAL", 1000)], {"BTC": 600}, valuation=VAL)
    usd = book.pnl([[700 / 600 - 1]])[0, 0]
    assert usd / 700 == pytest.approx(1000 / 600 - 1000 / 700, rel=1e-12)
    assert 1000 / 600 - 1000 / 700 == pytest.approx(0.238095, abs=1e-6)
    assert usd == pytest.approx(1000 * (700 / 600 - 1), rel=1e-12)  # N·k USD for a move of k


def test_inverse_option_settles_as_deribit() -> None:
    """A 300 call settled at 400 pays 0.25 BTC; a 300 put settled at 200 pays 0.5 BTC (USD = coin × spot)."""
    book = Book([("BTC-27DEC24-300-C", 1), ("BTC-27DEC24-300-P", 1)], {"BTC": 300}, valuation=VAL, vols=0.5)
    v0 = book.value()
    up = book.pnl([[400 / 300 - 1]], dt=1.0)[0] + v0  # a year later: expired, intrinsic
    down = book.pnl([[200 / 300 - 1]], dt=1.0)[0] + v0
    assert up[0] / 400 == pytest.approx(0.25, abs=1e-12)
    assert down[1] / 200 == pytest.approx(0.5, abs=1e-12)


def test_full_revaluation_matches_a_plain_loop() -> None:
    moves = np.random.default_rng(3).normal(0.0, 0.08, size=(40, 2))
    np.testing.assert_allclose(mixed_book().pnl(moves), plain_pnl(moves), rtol=1e-10, atol=1e-7)


def test_fast_path_equals_the_kernel_path() -> None:
    book = mixed_book()
    moves = np.random.default_rng(4).normal(0.0, 0.2, size=(500, 2))
    np.testing.assert_allclose(book.unit_pnl(moves), book.unit_pnl(moves, 0.0), rtol=1e-12, atol=1e-9)


def test_value_and_greeks_match_finite_differences() -> None:
    book = mixed_book()
    g = book.greeks()
    for u, s0 in zip(book.underlyings, book.spot, strict=True):
        col = book.underlyings.index(u)
        h = 1e-4
        up, down = np.zeros((1, 2)), np.zeros((1, 2))
        up[0, col], down[0, col] = h, -h
        pu, pd = book.pnl(up)[0], book.pnl(down)[0]
        mine = book.underlying_index == col
        np.testing.assert_allclose(((pu - pd) / (2 * h * s0))[mine], g.delta[mine], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose((pu + pd)[mine] / (h * s0) ** 2, g.gamma[mine], rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(g.delta_usd, g.delta * book.spot[book.underlying_index])
    vega_fd = (book.pnl(np.zeros((1, 2)), 0.0001)[0] - book.pnl(np.zeros((1, 2)), -0.0001)[0]) / 0.02
    np.testing.assert_allclose(vega_fd, g.vega, rtol=1e-6, atol=1e-9)
    day = 1 / 365
    theta_fd = (book.pnl(np.zeros((1, 2)), dt=day)[0] - book.pnl(np.zeros((1, 2)), dt=-day)[0]) / 2
    np.testing.assert_allclose(theta_fd, g.theta, rtol=1e-5, atol=1e-6)


def test_coin_delta_is_deribits() -> None:
    """Inverse option: q (Δ − V/F) in coin; inverse future: N/F."""
    book = Book([("BTC-27DEC24-60000-C", 2), ("BTC-27DEC24", 6_000)], {"BTC": 60_000}, valuation=VAL, vols=0.6)
    g = book.greeks()
    v = black(True, 60_000, 60_000, T, 0.6)
    d1 = (0.5 * 0.36 * T) / (0.6 * math.sqrt(T))
    assert g.delta_coin[0] == pytest.approx(2 * (norm.cdf(d1) - v / 60_000), rel=1e-10)
    assert g.delta_coin[1] == pytest.approx(6_000 / 60_000, rel=1e-12)


def test_greeks_by_underlying_sum_positions() -> None:
    book = mixed_book()
    by_pos, by_u = book.greeks(), book.greeks("underlying")
    assert by_u.labels == ("BTC", "ETH")
    for field in ("value", "delta", "delta_usd", "gamma", "vega", "theta"):
        col = getattr(by_pos, field)
        np.testing.assert_allclose(getattr(by_u, field), [col[book.underlying_index == i].sum() for i in (0, 1)])
    np.testing.assert_allclose(book.dollar_delta(), by_u.delta_usd)


def test_vol_surface_prices_each_option_at_its_own_vol() -> None:
    surface = xv.VolSurface([0.1, 1.0], [50_000, 70_000], [[0.8, 0.6], [0.7, 0.5]])
    book = Book([("BTC-27DEC24-60000-C", 1), ("BTC-27DEC24-50000-P", 1, 0.9)], {"BTC": 60_000}, valuation=VAL,
                vols={"BTC": surface})
    assert book.vol[0] == pytest.approx(float(surface.vol(T, 60_000, 60_000)))
    assert book.vol[1] == 0.9  # the position's own vol wins


def test_extreme_inputs_stay_finite() -> None:
    book = Book([("BTC-27DEC24-1-C", 1e9), ("BTC-27DEC24-1000000-P", -1e9), ("BTC-27DEC24-60000-C", 1)],
                {"BTC": 60_000}, valuation=VAL, vols=10.0)
    pnl = book.pnl(np.array([[-0.9], [5.0]]), dt=1.0)
    assert np.all(np.isfinite(pnl))
    tiny = Book([("BTC-27DEC24-60000-C", 1)], {"BTC": 60_000}, valuation=VAL, vols=1e-9)
    assert tiny.value()[0] == pytest.approx(60_000 * 1e-9 * math.sqrt(T) / math.sqrt(2 * math.pi), rel=1e-6)


@pytest.mark.parametrize(("positions", "spot", "kw", "words"), [
    ([("BTC-27SEP24-60000-C", 1)], {"BTC": 1}, {"vols": 0.5, "valuation": dt.datetime(2024, 10, 1)},
     ["position 1", "BTC-27SEP24-60000-C", "expired"]),
    ([("BTC", 1), ("ETH-PERPETUAL", 1)], {"BTC": 1}, {"valuation": VAL}, ["position 2", "ETH"]),
    ([("BTC-27DEC24-60000-C", 1)], {"BTC": 1}, {"valuation": VAL}, ["position 1", "no implied vol"]),
    ([("BTC-27DEC24-60000-X", 1)], {"BTC": 1}, {"valuation": VAL}, ["position 1", "option type"]),
    ([("BTC", "lots")], {"BTC": 1}, {"valuation": VAL}, ["position 1", "quantity"]),
    ([("BTC", 1)], {"BTC": -5}, {"valuation": VAL}, ["spot of BTC", "positive"]),
    ([("BTC-27DEC24-60000-C", 1)], {"BTC": 1}, {"valuation": VAL, "vols": 60}, ["fractions"]),
    ([], {"BTC": 1}, {"valuation": VAL}, ["positions is empty"]),
    ([("BTC-PERPETUAL", 2)], {"BTC": 90_000}, {"valuation": VAL}, ["position 1", "looks like coins", "180,000"]),
])
def test_bad_books_name_the_position(positions: list, spot: dict, kw: dict, words: list[str]) -> None:
    with pytest.raises(xv.XlVarError) as err:
        Book(positions, spot, **kw)
    for w in words:
        assert w in str(err.value)


def test_moves_below_minus_one_are_refused() -> None:
    with pytest.raises(xv.XlVarError, match="above -1"):
        mixed_book().pnl([[-1.0, 0.0]])
