"""Volatility surfaces: grid nodes, linear in strike, total variance across expiries, flat outside, errors."""

from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

import xl_var as xv
from xl_var.volsurface import VolSurface

T = [0.25, 1.0]
K = [30000.0, 40000.0, 50000.0]
V = [[0.70, 0.60, 0.65],
     [0.60, 0.55, 0.58]]


@pytest.fixture
def surface():
    return VolSurface(T, K, V)


def test_exact_values_at_grid_nodes(surface):
    for i, t in enumerate(T):
        for j, k in enumerate(K):
            assert float(surface.vol(t, k)) == pytest.approx(V[i][j], rel=1e-15)
    grid = surface.vol(np.array(T)[:, None], np.array(K)[None, :])
    np.testing.assert_allclose(grid, V, rtol=1e-15)


def test_linear_in_strike_within_an_expiry(surface):
    assert float(surface.vol(0.25, 35000.0)) == pytest.approx(0.65, rel=1e-15)
    assert float(surface.vol(1.0, 42500.0)) == pytest.approx(0.55 + 0.25 * 0.03, rel=1e-15)


def test_total_variance_is_linear_between_expiries(surface):
    # T = 0.5 at K = 35000: row vols 0.65 (T=0.25) and 0.575 (T=1); weight of T=1 is (0.5-0.25)/0.75 = 1/3
    w = (2 / 3) * 0.65**2 * 0.25 + (1 / 3) * 0.575**2 * 1.0
    assert float(surface.vol(0.5, 35000.0)) == pytest.approx(np.sqrt(w / 0.5), rel=1e-14)
    # total variance sigma^2 T is exactly linear in T at a fixed strike
    ts = np.linspace(0.25, 1.0, 7)
    total = surface.vol(ts, 40000.0) ** 2 * ts
    np.testing.assert_allclose(np.diff(total, 2), 0.0, atol=1e-15)
    # and it is not linear interpolation in vol
    assert float(surface.vol(0.625, 40000.0)) != pytest.approx(0.575, rel=1e-6)


def test_flat_extrapolation_in_strike_and_expiry(surface):
    np.testing.assert_allclose(surface.vol(0.25, [1000.0, 29999.0]), 0.70, rtol=1e-15)
    np.testing.assert_allclose(surface.vol(1.0, [50001.0, 1e7]), 0.58, rtol=1e-15)
    # flat vol (not flat total variance) before the first and after the last expiry
    np.testing.assert_allclose(surface.vol([0.01, 0.1, 0.0, -1.0], 40000.0), 0.60, rtol=1e-15)
    np.testing.assert_allclose(surface.vol([1.5, 30.0], 40000.0), 0.55, rtol=1e-15)
    assert float(surface.vol(5.0, 1.0)) == pytest.approx(0.60, rel=1e-15)  # both corners at once


def test_moneyness_surface_uses_strike_over_forward():
    s = VolSurface([0.5], [0.8, 1.0, 1.2], [[0.70, 0.60, 0.66]], moneyness=True)
    assert float(s.vol(0.5, 45000.0, 50000.0)) == pytest.approx(0.65, rel=1e-14)  # K/F = 0.9
    assert float(s.vol(0.5, 3000.0, 2500.0)) == pytest.approx(0.66, rel=1e-14)  # K/F = 1.2
    assert float(s.vol(0.5, 100.0, 200.0)) == pytest.approx(0.70, rel=1e-14)  # flat below 0.8
    # the same K/F reads the same vol whatever the price level
    np.testing.assert_allclose(s.vol(0.5, [95.0, 950.0, 95000.0], [100.0, 1000.0, 100000.0]), 0.625, rtol=1e-14)
    with pytest.raises(xv.XlVarError, match="forward is needed: this surface is by moneyness"):
        s.vol(0.5, 100.0)


def test_strike_surface_ignores_forward_but_broadcasts_it(surface):
    out = surface.vol(0.25, 40000.0, np.full((2, 3), 41000.0))
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out, 0.60, rtol=1e-15)


def test_vectorised_with_broadcasting(surface):
    t = np.array([0.1, 0.25, 0.5, 1.0, 2.0])[:, None]
    k = np.array([25000.0, 35000.0, 40000.0, 47000.0])[None, :]
    out = surface.vol(t, k)
    assert out.shape == (5, 4) and out.dtype == np.float64
    for i in range(5):
        for j in range(4):
            assert out[i, j] == float(surface.vol(t[i, 0], k[0, j]))
    assert surface.vol(0.5, 40000.0).shape == ()
    assert surface.vol([0.5], [40000.0]).shape == (1,)


def test_single_expiry_and_single_strike_grids():
    one_row = VolSurface([0.5], K, [0.7, 0.6, 0.65])  # a flat list is accepted for one expiry
    assert one_row.vols.shape == (1, 3)
    assert float(one_row.vol(2.0, 45000.0)) == pytest.approx(0.625, rel=1e-15)
    one_col = VolSurface(T, [40000.0], [0.6, 0.55])
    assert one_col.vols.shape == (2, 1)
    assert float(one_col.vol(1.0, 1.0)) == pytest.approx(0.55, rel=1e-15)
    point = VolSurface(0.5, 40000.0, 0.6)
    np.testing.assert_allclose(point.vol([0.0, 0.5, 3.0], [1.0, 4e4, 1e9]), 0.6, rtol=1e-15)


def test_calendar_arbitrage_is_interpolated_not_rejected():
    # total variance falls from 0.9^2*0.5 = 0.405 to 0.3^2*1 = 0.09: still positive in between
    s = VolSurface([0.5, 1.0], [1.0], [[0.9], [0.3]], moneyness=True)
    t = np.linspace(0.5, 1.0, 11)
    w = s.vol(t, 1.0, 1.0) ** 2 * t
    np.testing.assert_allclose(w, 0.405 + (t - 0.5) / 0.5 * (0.09 - 0.405), rtol=1e-13)
    assert np.all(np.diff(w) < 0)


def test_frozen_and_read_only(surface):
    with pytest.raises(FrozenInstanceError):
        surface.moneyness = True
    with pytest.raises(ValueError, match="read-only"):
        surface.vols[0, 0] = 1.0
    source = np.array(V)
    s = VolSurface(T, K, source)
    source[0, 0] = 9.0
    assert s.vols[0, 0] == 0.70


def test_from_dates_converts_with_act_365():
    val = datetime(2024, 6, 28, 8, tzinfo=UTC)
    exp = [date(2024, 9, 27), datetime(2024, 12, 27, 8), datetime(2025, 3, 28, 8, tzinfo=UTC)]
    s = VolSurface.from_dates(exp, [0.9, 1.0, 1.1], np.full((3, 3), 0.5), val, moneyness=True)
    days = [(d - date(2024, 6, 28)).days for d in (date(2024, 9, 27), date(2024, 12, 27), date(2025, 3, 28))]
    np.testing.assert_array_equal(s.expiries, np.array(days) / 365)
    assert s.moneyness
    naive = VolSurface.from_dates(exp, [0.9, 1.0, 1.1], np.full((3, 3), 0.5), datetime(2024, 6, 28, 8))
    np.testing.assert_array_equal(naive.expiries, s.expiries)
    assert not naive.moneyness
    # a date valuation means 08:00 UTC
    by_date = VolSurface.from_dates(exp, [1.0], [0.5, 0.5, 0.5], date(2024, 6, 28))
    np.testing.assert_array_equal(by_date.expiries, s.expiries)


def test_from_dates_rejects_expired_and_unordered_rows():
    val = datetime(2024, 6, 28, 8, tzinfo=UTC)
    with pytest.raises(xv.XlVarError, match=r"expiry_dates entry 1 \(2024-06-28 08:00 UTC\) is not after valuation "
                                            r"\(2024-06-28 08:00 UTC\): drop expired rows"):
        VolSurface.from_dates([date(2024, 6, 28), date(2024, 9, 27)], [1.0], [0.5, 0.5], val)
    with pytest.raises(xv.XlVarError, match=r"expiry_dates entry 2 .* is not greater than entry 1"):
        VolSurface.from_dates([date(2024, 9, 27), val + timedelta(days=1)], [1.0], [0.5, 0.5], val)
    with pytest.raises(xv.XlVarError, match="expiry_dates entry 2 must be a date or datetime"):
        VolSurface.from_dates([date(2024, 9, 27), "2024-12-27"], [1.0], [0.5, 0.5], val)
    with pytest.raises(xv.XlVarError, match="expiry_dates must be a list of dates"):
        VolSurface.from_dates("2024-09-27", [1.0], [0.5], val)
    with pytest.raises(xv.XlVarError, match="valuation must be a date or datetime"):
        VolSurface.from_dates([date(2024, 9, 27)], [1.0], [0.5], 45000)


@pytest.mark.parametrize(
    ("expiries", "strikes", "vols", "message"),
    [
        ([0.25, 0.1], K, V, r"expiries entry 2 \(0.1\) is not greater than entry 1 \(0.25\): list expiries in "
                            "increasing order"),
        ([0.25, 0.25], K, V, r"expiries entry 2 \(0.25\) is not greater than entry 1"),
        ([0.0, 1.0], K, V, "expiries entry 1 is 0: years to expiry must be greater than 0"),
        ([0.25, np.nan], K, V, "expiries entry 2 is not a finite number"),
        (T, [30000.0, 50000.0, 40000.0], V, r"strikes entry 3 \(40000\) is not greater than entry 2 \(50000\)"),
        (T, [-1.0, 40000.0, 50000.0], V, "strikes entry 1 is -1: strikes must be greater than 0"),
        (T, K, [[0.7, 0.6], [0.6, 0.55]], "vols is 2×2 but there are 2 expiries and 3 strikes"),
        (T, K, [[0.7, 0.6, 0.65], [0.6, 0.0, 0.58]], "vols row 2, column 2 is 0: give a positive number"),
        (T, K, [[0.7, 0.6, np.nan], [0.6, 0.5, 0.58]], "vols row 1, column 3 is nan: give a positive number"),
        (T, K, [[70.0, 60.0, 65.0], [60, 55, 58]], r"vols row 1, column 1 is 70: vols are fractions \(0.6 = 60%\)"),
        (T, K, [["a", 0.6, 0.65], [0.6, 0.5, 0.58]], "vols must contain only numbers"),
        ([], K, V, "expiries is empty"),
        ([[0.25, 1.0], [1.5, 2.0]], K, V, "expiries must be a single row or column"),
    ],
)
def test_bad_inputs_name_the_argument_and_entry(expiries, strikes, vols, message):
    with pytest.raises(xv.XlVarError, match=message):
        VolSurface(expiries, strikes, vols)


def test_moneyness_validation_wording():
    with pytest.raises(xv.XlVarError, match="strikes entry 1 is 0: moneyness K/F must be greater than 0"):
        VolSurface([0.5], [0.0, 1.0], [0.5, 0.5], moneyness=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.nan, 40000.0), "expiry_years entry 1 must be a finite number"),
        (([0.5, 0.5], [40000.0, -1.0]), "strike entry 2 must be a finite number greater than 0"),
        ((0.5, 40000.0, 0.0), "forward entry 1 must be a finite number greater than 0"),
        (([0.5, 1.0], [1.0, 2.0, 3.0]), "do not broadcast together"),
        (("soon", 40000.0), "expiry_years must contain only numbers"),
    ],
)
def test_bad_query_arguments(surface, args, message):
    with pytest.raises(xv.XlVarError, match=message):
        surface.vol(*args)
