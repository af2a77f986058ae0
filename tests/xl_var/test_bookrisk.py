"""VaR, ES and components of a Book: each revaluation against re-computation in the test."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy.stats import norm

import xl_var as xv
from xl_var.book import Book

VAL = dt.datetime(2024, 9, 1, tzinfo=dt.UTC)
RNG = np.random.default_rng(11)
RETURNS = RNG.standard_t(5, size=(400, 2)) * [0.03, 0.04]
ASSETS = ["BTC", "ETH"]


def book(**kw: object) -> Book:
    return Book([("BTC", 2), ("BTC-PERPETUAL", -30_000), ("BTC-27DEC24-60000-C", 3), ("ETH_USDC-27DEC24-3000-P", -10),
                 ("ETH_USDC-PERPETUAL", 5)], {"BTC": 60_000, "ETH": 3_000}, valuation=VAL,
                vols={"BTC": 0.6, "ETH": 0.7}, **kw)  # type: ignore[arg-type]


def test_historical_full_revaluation_is_the_empirical_quantile_of_repriced_pnl() -> None:
    b = book()
    pnl = b.pnl(RETURNS).sum(axis=1)
    q = np.quantile(pnl, 0.01)
    res = xv.portfolio_var(RETURNS, b, 0.99, method="historical", assets=ASSETS)
    assert res.var == pytest.approx(-q, rel=1e-12)
    assert res.es == pytest.approx(-pnl[pnl < q].mean(), rel=1e-12)
    assert res.n_obs == 400


def test_columns_are_matched_by_name_in_any_order_and_case() -> None:
    b = book()
    a = xv.portfolio_var(RETURNS, b, method="historical", assets=ASSETS).var
    c = xv.portfolio_var(RETURNS[:, ::-1], b, method="historical", assets=[" eth", "Btc "]).var
    assert a == c


def test_delta_normal_is_the_closed_form_on_dollar_deltas() -> None:
    b = book()
    d = b.dollar_delta()
    cov = np.cov(RETURNS, rowvar=False)
    mu = RETURNS.mean(axis=0)
    expected = -(d @ mu) + norm.ppf(0.99) * math.sqrt(d @ cov @ d)
    res = xv.portfolio_var(RETURNS, b, 0.99, method="normal", assets=ASSETS)
    assert res.var == pytest.approx(expected, rel=1e-10)
    assert xv.portfolio_var(RETURNS, b, 0.99, method="normal", assets=ASSETS, revaluation="delta").var == res.var


def test_delta_gamma_scenarios_use_the_quadratic_pnl() -> None:
    b = book()
    g = b.unit_greeks()
    r = RETURNS[:, b.underlying_index]
    pnl = ((r * g.delta_usd + 0.5 * g.gamma_usd * r * r) * b.quantity).sum(axis=1)
    res = xv.portfolio_var(RETURNS, b, 0.99, method="historical", assets=ASSETS, revaluation="delta-gamma")
    assert res.var == pytest.approx(-np.quantile(pnl, 0.01), rel=1e-12)


def test_delta_gamma_close_to_full_for_small_moves() -> None:
    b = book()
    small = RETURNS * 0.1
    full = xv.portfolio_var(small, b, method="historical", assets=ASSETS).var
    dg = xv.portfolio_var(small, b, method="historical", assets=ASSETS, revaluation="delta-gamma").var
    assert dg == pytest.approx(full, rel=1e-3)


@pytest.mark.parametrize(("method", "reval"), [("historical", "full"), ("fhs", "full"), ("historical", "delta"),
                                                ("historical", "delta-gamma"), ("normal", "delta"),
                                                ("modified", "delta"), ("t", "delta"), ("ewma", "delta"),
                                                ("normal", "delta-gamma"), ("ewma", "delta-gamma")])
@pytest.mark.parametrize("measure", ["var", "es"])
def test_components_per_position_sum_to_the_total(method: str, reval: str, measure: str) -> None:
    b = book()
    d = xv.component_var(RETURNS, b, 0.99, method=method, measure=measure, assets=ASSETS, revaluation=reval)
    res = xv.portfolio_var(RETURNS, b, 0.99, method=method, assets=ASSETS, revaluation=reval)
    assert d.component.shape == (b.size,)
    assert d.total == pytest.approx(res.var if measure == "var" else res.es, rel=1e-12)
    tol = 1e-6 if reval == "delta-gamma" and method in ("normal", "ewma") else 1e-10
    assert d.component.sum() == pytest.approx(d.total, rel=tol)
    np.testing.assert_allclose(d.marginal * b.quantity, d.component, rtol=1e-12)


def test_components_are_exact_euler_for_es_over_scenarios() -> None:
    b = book()
    pnl = b.pnl(RETURNS)
    total = pnl.sum(axis=1)
    q = np.quantile(total, 0.01)
    d = xv.component_var(RETURNS, b, 0.99, method="historical", measure="es", assets=ASSETS)
    np.testing.assert_allclose(d.component, -pnl[total < q].mean(axis=0), rtol=1e-12)


def test_horizon_scales_moves_not_pnl_and_time_decay_reprices_later() -> None:
    b = book()
    h = 4
    moved = b.pnl(RETURNS * 2.0).sum(axis=1)
    assert xv.portfolio_var(RETURNS, b, horizon=h, method="historical", assets=ASSETS).var == pytest.approx(
        -np.quantile(moved, 0.01), rel=1e-12)
    decayed = b.pnl(RETURNS * 2.0, dt=4 / 365).sum(axis=1)
    assert xv.portfolio_var(RETURNS, b, horizon=h, method="historical", assets=ASSETS,
                            time_decay=True).var == pytest.approx(-np.quantile(decayed, 0.01), rel=1e-12)
    weekly = b.pnl(RETURNS * 2.0, dt=28 / 365).sum(axis=1)
    assert xv.portfolio_var(RETURNS, b, horizon=h, method="historical", assets=ASSETS, time_decay=True,
                            period="week").var == pytest.approx(-np.quantile(weekly, 0.01), rel=1e-12)


def test_vol_shock_relative_and_per_scenario() -> None:
    b = book()
    shifted = b.pnl(RETURNS, np.where(b.is_option, np.nan_to_num(b.vol) * 0.2, 0.0)).sum(axis=1)
    assert xv.portfolio_var(RETURNS, b, method="historical", assets=ASSETS, vol_shock=0.2).var == pytest.approx(
        -np.quantile(shifted, 0.01), rel=1e-12)
    dv = RNG.normal(0, 0.02, size=RETURNS.shape)
    per = b.pnl(RETURNS, dv[:, b.underlying_index]).sum(axis=1)
    assert xv.portfolio_var(RETURNS, b, method="historical", assets=ASSETS, vol_shock=dv).var == pytest.approx(
        -np.quantile(per, 0.01), rel=1e-12)


def test_monte_carlo_of_a_book_is_reproducible_and_close_to_analytic() -> None:
    b = book()
    kw = {"assets": ASSETS, "model": "normal", "seed": 5, "confidence": 0.99}
    one = xv.monte_carlo(RETURNS, b, 200_000, workers=1, revaluation="delta", **kw)
    two = xv.monte_carlo(RETURNS, b, 200_000, workers=2, revaluation="delta", **kw)
    assert one.var[0] == two.var[0] and np.array_equal(one.component_var, two.component_var)
    analytic = xv.portfolio_var(RETURNS, b, 0.99, method="normal", assets=ASSETS).var
    assert one.var[0] == pytest.approx(analytic, abs=4 * one.var_se[0])
    full = xv.monte_carlo(RETURNS, b, 200_000, workers=2, **kw)
    assert full.component_var.shape == (1, b.size) or full.component_var.shape == (b.size,)
    assert np.all(np.isfinite(full.var)) and full.var[0] > 0


@pytest.mark.parametrize(("kw", "words"), [
    ({"assets": ["BTC", "SOL"]}, ["position 4", "ETH"]),
    ({}, ["assets must name"]),
    ({"assets": ASSETS, "method": "normal", "revaluation": "full"}, ["historical"]),
    ({"assets": ASSETS, "method": "t", "revaluation": "delta-gamma"}, ["normal"]),
    ({"assets": ASSETS, "revaluation": "delta", "vol_shock": 0.1}, ["vol_shock"]),
    ({"assets": ASSETS, "period": "fortnight", "time_decay": True}, ["period"]),
    ({"assets": ASSETS, "cov": np.eye(2)}, ["cov"]),
])
def test_bad_book_calls_name_the_argument(kw: dict, words: list[str]) -> None:
    with pytest.raises(xv.XlVarError) as err:
        xv.portfolio_var(RETURNS, book(), **kw)
    for w in words:
        assert w in str(err.value)


def test_book_options_without_a_book_are_refused() -> None:
    with pytest.raises(xv.XlVarError, match="Book"):
        xv.portfolio_var(RETURNS, [1.0, 1.0], revaluation="full")


def test_monte_carlo_of_a_book_honours_missing_drop() -> None:
    """A blank row in the underlyings' returns is dropped with missing='drop', as for weights."""
    holed = RETURNS.copy()
    holed[5, 1] = np.nan
    kw = {"assets": ASSETS, "model": "normal", "seed": 5, "confidence": 0.99, "workers": 1}
    with pytest.raises(xv.XlVarError, match="missing"):
        xv.monte_carlo(holed, book(), 20_000, **kw)
    dropped = xv.monte_carlo(holed, book(), 20_000, missing="drop", **kw)
    clean = xv.monte_carlo(np.delete(RETURNS, 5, axis=0), book(), 20_000, **kw)
    assert dropped.var[0] == clean.var[0]
