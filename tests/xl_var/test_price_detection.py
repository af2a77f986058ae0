"""Prices passed as returns are refused by every engine entry that reads returns (issue 11, item 1).

True positives: the bundled price file and synthetic price paths. No false positives: the
bundled returns, the EDHEC / managers / synthetic panels (whole and column by column), returns
in percent units, and short all-positive returns.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

import workbooks
import xl_var as xv
from xl_var._validate import PRICE_LEVEL, clean_returns, refuse_prices
from xl_var.errors import LooksLikePrices, XlVarError

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
Matrix = NDArray[np.float64]


def read_table(path: Path) -> Matrix:
    """The numbers of a CSV with a header row and a date column; blanks are NaN."""
    with path.open(newline="") as f:
        rows = list(csv.reader(f))[1:]
    return np.array([[float(v) if v.strip() else np.nan for v in row[1:]] for row in rows])


def shared(name: str) -> Matrix:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    return read_table(path)


def price_paths(t: int, n: int, seed: int, start: float = 100.0, vol: float = 0.02) -> Matrix:
    rng = np.random.default_rng(seed)
    out: Matrix = start * np.exp(np.cumsum(rng.normal(0.0, vol, size=(t, n)), axis=0))
    return out


# --------------------------------------------------------------------------- true positives


def test_bundled_price_file_is_refused_with_the_evidence() -> None:
    prices = read_table(workbooks.SAMPLE_PRICES)
    with pytest.raises(LooksLikePrices) as info:
        clean_returns(prices)
    msg = str(info.value)
    assert info.value.argument == "returns"
    assert isinstance(info.value, XlVarError)
    assert "\n" not in msg
    assert msg.startswith("returns look like prices, not returns: ")
    assert f"all {prices.size:,} values are positive" in msg
    assert f"between {prices.min():,.5g} and {prices.max():,.0f}" in msg
    assert msg.endswith(": convert the prices to returns first")


@pytest.mark.parametrize(
    "call",
    [
        lambda r, w: xv.portfolio_var(r, w),
        lambda r, w: xv.portfolio_var(r, w, method="normal"),
        lambda r, w: xv.component_var(r, w, method="modified"),
        lambda r, w: xv.incremental_var(r, w, np.ones_like(w)),
        lambda r, w: xv.portfolio_volatility(r, w),
        lambda r, w: xv.correlation_matrix(r),
        lambda r, w: xv.stress_correlation(None, 0.5, returns=r),
        lambda r, w: xv.monte_carlo(r, w, scenarios=1000, seed=1),
    ],
    ids=["historical", "normal", "component", "incremental", "volatility", "corrmatrix", "stresscorr", "mc"],
)
def test_every_entry_that_reads_returns_refuses_prices(call) -> None:  # type: ignore[no-untyped-def]
    prices = read_table(workbooks.SAMPLE_PRICES)
    w = np.full(prices.shape[1], 1.0 / prices.shape[1])
    with pytest.raises(LooksLikePrices, match="look like prices"):
        call(prices, w)


def test_missing_drop_still_refuses_prices() -> None:
    prices = price_paths(300, 3, seed=2)
    prices[5, 1] = np.nan
    with pytest.raises(LooksLikePrices):
        xv.portfolio_var(prices, [0.2, 0.3, 0.5], missing="drop")


@pytest.mark.parametrize(
    ("start", "vol", "t", "n"),
    [(100.0, 0.02, 500, 4), (40_000.0, 0.04, 60, 1), (1.0, 0.001, 250, 1), (3.0, 0.08, 30, 2), (100.0, 0.01, 2, 1)],
)
def test_synthetic_price_paths_are_refused(start: float, vol: float, t: int, n: int) -> None:
    with pytest.raises(LooksLikePrices):
        clean_returns(price_paths(t, n, seed=7, start=start, vol=vol))


def test_gross_returns_are_refused_as_levels() -> None:
    gross = 1.0 + np.random.default_rng(4).normal(0.0, 0.01, size=(500, 3))
    with pytest.raises(LooksLikePrices):
        clean_returns(gross)


def test_price_returns_takes_prices() -> None:
    prices = read_table(workbooks.SAMPLE_PRICES)
    r = xv.price_returns(prices)
    assert r.shape == (prices.shape[0] - 1, prices.shape[1])
    assert xv.portfolio_var(r, np.full(r.shape[1], 1.0 / r.shape[1])).var > 0


# --------------------------------------------------------------------------- no false positives


def test_bundled_returns_pass() -> None:
    r = read_table(workbooks.SAMPLE_RETURNS)
    np.testing.assert_array_equal(clean_returns(r), r)


@pytest.mark.parametrize("name", ["edhec.csv", "managers.csv", "synthetic_2500x50.csv"])
@pytest.mark.parametrize("scale", [1.0, 100.0], ids=["fractions", "percent"])
def test_real_panels_pass_whole_and_column_by_column(name: str, scale: float) -> None:
    x = shared(name) * scale
    clean_returns(x, missing="drop")
    for j in range(x.shape[1]):
        col = x[:, j][np.isfinite(x[:, j])]
        clean_returns(col)


def test_percent_returns_with_negative_values_pass() -> None:
    r = np.array([[1.5, -0.3], [2.0, 0.7], [-1.1, 1.2], [0.8, 2.5]])
    np.testing.assert_array_equal(clean_returns(r), r)


@pytest.mark.parametrize(
    "col", [[0.01, 0.02, 0.005], [0.004, 0.0041, 0.0042], [1.5, 0.6, 2.4], [0.9, 0.1, 1.4, 0.2]],
    ids=["small", "t-bill-like", "percent-alternating", "percent-jumpy"],
)
def test_short_all_positive_returns_pass(col: list[float]) -> None:
    r = np.array(col)[:, None]
    np.testing.assert_array_equal(clean_returns(r), r)


def test_tables_with_one_row_are_not_judged() -> None:
    refuse_prices(np.array([[100.0, 200.0]]))


def test_level_threshold() -> None:
    # Smooth, positive, but a typical value of 0.4 (40% a period) is not called a price level.
    smooth = np.linspace(0.4, 0.41, 50)[:, None]
    assert float(np.median(smooth)) < PRICE_LEVEL
    clean_returns(smooth)
    with pytest.raises(LooksLikePrices):
        clean_returns(smooth + 1.0)
