"""price_returns: simple and log returns from prices, and its input errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import workbooks
import xl_var as xv
from xl_var import XlVarError


def test_simple_and_log_by_hand() -> None:
    prices = [[100.0, 50.0], [110.0, 40.0], [99.0, 60.0]]
    simple = xv.price_returns(prices)
    np.testing.assert_allclose(simple, [[0.10, -0.20], [-0.10, 0.50]], rtol=1e-15, atol=1e-16)
    log = xv.price_returns(prices, kind="log")
    expected = [[math.log(1.1), math.log(0.8)], [math.log(0.9), math.log(1.5)]]
    np.testing.assert_allclose(log, expected, rtol=1e-15)


def test_aliases_and_case() -> None:
    prices = [1.0, 2.0, 3.0]
    log = xv.price_returns(prices, kind="LOG")
    np.testing.assert_array_equal(log, xv.price_returns(prices, "continuous"))
    np.testing.assert_array_equal(xv.price_returns(prices, kind="Arithmetic"), [[1.0], [0.5]])


def test_one_dimensional_input_is_one_asset() -> None:
    out = xv.price_returns(np.array([4.0, 5.0, 4.0]))
    assert out.shape == (2, 1)
    np.testing.assert_allclose(out[:, 0], [0.25, -0.2], rtol=1e-15)


def test_log_returns_sum_to_log_of_total_growth() -> None:
    rng = np.random.default_rng(3)
    prices = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, size=(300, 4)), axis=0))
    log = xv.price_returns(prices, kind="log")
    np.testing.assert_allclose(log.sum(axis=0), np.log(prices[-1] / prices[0]), rtol=1e-12)
    simple = xv.price_returns(prices)
    np.testing.assert_allclose(np.prod(1.0 + simple, axis=0), prices[-1] / prices[0], rtol=1e-12)


def test_bundled_sample_prices_reproduce_bundled_returns() -> None:
    prices = np.genfromtxt(workbooks.SAMPLE_PRICES, delimiter=",", skip_header=1)[:, 1:]
    returns = np.genfromtxt(workbooks.SAMPLE_RETURNS, delimiter=",", skip_header=1)[:, 1:]
    assert returns.shape == (prices.shape[0] - 1, prices.shape[1])
    # make_sample.py rounds returns to 8 decimals and prices to 6 decimals: propagate both roundings.
    p0, p1 = prices[:-1], prices[1:]
    bound = 0.5e-6 * (1.0 + p1 / p0) / p0 + 0.5e-8 + 1e-12
    assert np.all(np.abs(xv.price_returns(prices) - returns) <= bound)


@pytest.mark.parametrize(
    ("prices", "fragment"),
    [
        ([[1.0, 2.0], [1.0, 0.0]], "row 2, column 2 is 0"),
        ([[1.0, 2.0], [-1.0, 3.0]], "row 2, column 1 is -1"),
        ([[1.0, 2.0], [1.0, np.nan], [1.0, 2.0]], "row 2, column 2 is nan"),
        ([[1.0, np.inf]], "row 1, column 2 is inf"),
        ([[1.0, 2.0]], "at least 2 rows"),
        ([["a", 1.0]], "prices must contain only numbers"),
    ],
)
def test_bad_prices_name_the_position(prices: object, fragment: str) -> None:
    with pytest.raises(XlVarError, match="prices") as info:
        xv.price_returns(prices)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_unknown_kind_lists_choices() -> None:
    with pytest.raises(XlVarError, match="kind must be one of 'simple', 'log'"):
        xv.price_returns([1.0, 2.0], kind="percent")


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 20), st.integers(1, 5)),
              elements=st.floats(1e-2, 1e4, allow_nan=False)))
def test_property_round_trip(prices: np.ndarray) -> None:
    simple = xv.price_returns(prices)
    rebuilt = prices[0] * np.cumprod(1.0 + simple, axis=0)
    np.testing.assert_allclose(rebuilt, prices[1:], rtol=1e-9)
    np.testing.assert_allclose(xv.price_returns(prices, "log"), np.log(prices[1:] / prices[:-1]),
                               rtol=1e-9, atol=1e-12)
