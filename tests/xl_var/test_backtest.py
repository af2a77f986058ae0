"""Backtest: Kupiec, Christoffersen, conditional coverage and the Basel traffic light."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import stats

import xl_var as xv
from xl_var import XlVarError
from xl_var.backtest import _yellow_multiplier

Hits = NDArray[np.bool_]


def series_from_hits(hits: Hits, var: float = 0.02) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Realized returns that breach a constant VaR exactly on the ``hits`` days."""
    realized = np.where(hits, -1.5 * var, 0.5 * var)
    return realized, np.full(hits.size, var)


def mathworks_hits() -> Hits:
    """A hit sequence with the counts of MathWorks' VaRBacktestData EquityIndex / Normal95 example.

    1043 days, 57 failures, transition counts N00 = 932, N01 = 53, N10 = 53, N11 = 4: 53 runs
    of failures (49 single days and 4 pairs), none on the first or the last day.
    """
    hits = np.zeros(1043, dtype=bool)
    for run in range(53):
        start = 10 + 19 * run
        hits[start: start + (2 if run < 4 else 1)] = True
    return hits


def test_mathworks_varbacktest_published_example() -> None:
    # MathWorks Risk Management Toolbox documentation, varbacktest "cc", "pof", "cci" and "tl" examples
    # (https://www.mathworks.com/help/risk/varbacktest.cc.html, .../varbacktest.tl.html):
    # 1043 observations, VaR level 0.95, 57 failures, N00=932 N10=53 N01=53 N11=4 ->
    # LRatioPOF 0.46147 (p 0.49694), LRatioCCI 0.25866 (p 0.61104), LRatioCC 0.72013 (p 0.69763), TL green.
    hits = mathworks_hits()
    prev, nxt = hits[:-1], hits[1:]
    assert (int(hits.sum()), int(np.sum(~prev & ~nxt)), int(np.sum(prev & ~nxt)),
            int(np.sum(~prev & nxt)), int(np.sum(prev & nxt))) == (57, 932, 53, 53, 4)
    b = xv.backtest(*series_from_hits(hits), confidence=0.95)
    assert b.exceptions == 57 and b.n_obs == 1043
    assert b.expected == pytest.approx(52.15, rel=1e-12)
    assert b.kupiec_lr == pytest.approx(0.46147, abs=5e-6)
    assert b.kupiec_p == pytest.approx(0.49694, abs=5e-6)
    assert b.christoffersen_lr == pytest.approx(0.25866, abs=5e-6)
    assert b.christoffersen_p == pytest.approx(0.61104, abs=5e-6)
    assert b.cc_lr == pytest.approx(0.72013, abs=5e-6)
    assert b.cc_p == pytest.approx(0.69763, abs=5e-6)
    # tl: Probability 0.77913 < 0.95 -> green, Increase 0.
    assert stats.binom.cdf(57, 1043, 0.05) == pytest.approx(0.77913, abs=5e-6)
    assert (b.zone, b.multiplier) == ("green", 3.0)


def test_kupiec_from_binomial_likelihoods() -> None:
    # LR_uc = 2 [log Bin(x; n, x/n) - log Bin(x; n, p)]: the binomial coefficients cancel.
    rng = np.random.default_rng(11)
    hits = rng.random(500) < 0.03
    b = xv.backtest(*series_from_hits(hits), confidence=0.99)
    x, n = int(hits.sum()), hits.size
    expected = 2.0 * (stats.binom.logpmf(x, n, x / n) - stats.binom.logpmf(x, n, 0.01))
    assert b.kupiec_lr == pytest.approx(expected, rel=1e-10)
    assert b.kupiec_p == pytest.approx(stats.chi2.sf(expected, 1), rel=1e-9)


def test_christoffersen_is_the_g_test_of_the_transition_table() -> None:
    # The independence LR equals the likelihood-ratio (G) test of independence of the 2x2 table
    # of (yesterday, today) exception states (scipy.stats.chi2_contingency, log-likelihood).
    rng = np.random.default_rng(5)
    state = False
    hits = np.empty(800, dtype=bool)
    for t in range(hits.size):  # clustered exceptions: a Markov chain
        state = rng.random() < (0.3 if state else 0.03)
        hits[t] = state
    table = np.array([[np.sum(~hits[:-1] & ~hits[1:]), np.sum(~hits[:-1] & hits[1:])],
                      [np.sum(hits[:-1] & ~hits[1:]), np.sum(hits[:-1] & hits[1:])]])
    g, p_value, dof, _ = stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")
    b = xv.backtest(*series_from_hits(hits), confidence=0.97)
    assert dof == 1
    assert b.christoffersen_lr == pytest.approx(g, rel=1e-10)
    assert b.christoffersen_p == pytest.approx(p_value, rel=1e-8)
    assert b.christoffersen_p < 0.01  # the clustering is detected
    assert b.cc_lr == pytest.approx(b.kupiec_lr + b.christoffersen_lr, rel=1e-15)
    assert b.cc_p == pytest.approx(math.exp(-b.cc_lr / 2.0), rel=1e-10)  # chi2(2) survival function


def test_no_exceptions_limits() -> None:
    n = 250
    b = xv.backtest(np.full(n, 0.001), np.full(n, 0.02), confidence=0.99)
    assert b.exceptions == 0
    assert b.kupiec_lr == pytest.approx(-2.0 * n * math.log(0.99), rel=1e-12)
    assert b.christoffersen_lr == 0.0 and b.christoffersen_p == 1.0
    assert (b.zone, b.multiplier) == ("green", 3.0)


def test_all_exceptions_limits() -> None:
    n = 20
    b = xv.backtest(np.full(n, -0.05), 0.02, confidence=0.99)
    assert b.exceptions == n
    assert b.kupiec_lr == pytest.approx(-2.0 * n * math.log(0.01), rel=1e-12)
    assert b.christoffersen_lr == 0.0
    assert (b.zone, b.multiplier) == ("red", 4.0)


def test_single_exception_on_the_last_day_has_no_transition_from_it() -> None:
    hits = np.zeros(100, dtype=bool)
    hits[-1] = True
    b = xv.backtest(*series_from_hits(hits), confidence=0.99)
    # pi0 = pi = 1/99 and the row of transitions out of an exception is empty: LR_ind = 0.
    assert b.christoffersen_lr == 0.0
    assert b.kupiec_lr == pytest.approx(0.0, abs=1e-12)  # 1 exception in 100 days is exactly the 1% rate
    assert b.kupiec_p == pytest.approx(1.0, abs=1e-9)


def test_loss_equal_to_var_is_not_an_exception() -> None:
    b = xv.backtest([-0.02, -0.0200001, 0.03], [0.02, 0.02, 0.02], confidence=0.95)
    assert b.exceptions == 1


@pytest.mark.parametrize(
    ("exceptions", "zone", "multiplier"),
    [(0, "green", 3.00), (1, "green", 3.00), (2, "green", 3.00), (3, "green", 3.00), (4, "green", 3.00),
     (5, "yellow", 3.40), (6, "yellow", 3.50), (7, "yellow", 3.65), (8, "yellow", 3.75), (9, "yellow", 3.85),
     (10, "red", 4.00), (11, "red", 4.00), (25, "red", 4.00)],
)
def test_basel_table_for_250_days_at_99(exceptions: int, zone: str, multiplier: float) -> None:
    # Basel Committee (1996), Supervisory framework for backtesting, Table 2. The zones come from
    # the cumulative binomial rule (green < 95%, red >= 99.99%), which reproduces the table.
    hits = np.zeros(250, dtype=bool)
    hits[::250 // max(exceptions, 1)][:exceptions] = True
    assert hits.sum() == exceptions
    b = xv.backtest(*series_from_hits(hits), confidence=0.99)
    assert (b.zone, b.multiplier) == (zone, multiplier)
    assert b.expected == pytest.approx(2.5, rel=1e-12)


def test_basel_rule_for_other_sample_sizes() -> None:
    # 750 days at 99.5%: yellow from 7 exceptions, red from 13 (cumulative binomial rule; also tabulated at
    # https://cfrm17.github.io/tradeLifecycle3.html).
    def zone(x: int) -> str:
        hits = np.zeros(750, dtype=bool)
        hits[:x] = True
        return xv.backtest(*series_from_hits(hits), confidence=0.995).zone

    assert [zone(x) for x in (0, 3, 6, 7, 12, 13, 40)] == ["green"] * 3 + ["yellow"] * 2 + ["red"] * 2


def test_yellow_multiplier_outside_the_table() -> None:
    # 500 days at 99%, 10 exceptions (cumulative probability 0.987): 3 z_0.99 / z_0.98.
    hits = np.zeros(500, dtype=bool)
    hits[:10] = True
    b = xv.backtest(*series_from_hits(hits), confidence=0.99)
    assert b.zone == "yellow"
    assert b.multiplier == pytest.approx(3.0 * stats.norm.ppf(0.99) / stats.norm.ppf(0.98), rel=1e-12)
    # The formula is Basel's own reasoning: at 250 days / 99% it lands within 0.03 of Table 2.
    table = {5: 3.40, 6: 3.50, 7: 3.65, 8: 3.75, 9: 3.85}
    for x, m in table.items():
        assert abs(_yellow_multiplier(x, 250, 0.99) - m) < 0.03
    assert _yellow_multiplier(60, 100, 0.99) == 4.0


def test_tiny_sample_with_no_exception_is_green() -> None:
    # 5 days at 99%: P(X <= 0) = 0.951 would read "yellow"; no more exceptions than expected is green.
    assert xv.backtest(np.full(5, 0.01), 0.02, confidence=0.99).zone == "green"


def test_result_is_frozen_with_the_contract_fields() -> None:
    b = xv.backtest([0.01, -0.03, 0.02], 0.02, confidence=0.95)
    assert [f.name for f in dataclasses.fields(b)] == [
        "exceptions", "expected", "kupiec_lr", "kupiec_p", "christoffersen_lr", "christoffersen_p",
        "cc_lr", "cc_p", "zone", "multiplier", "n_obs"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.zone = "green"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("realized", "var", "confidence", "fragment"),
    [
        ([0.01, -0.02], [0.02], 0.99, "var_forecasts has 1 entries but realized has 2"),
        ([0.01, -0.02], [0.02, -0.01], 0.99, "entry 2 is -0.01: VaR forecasts are positive losses"),
        ([0.01, np.nan], 0.02, 0.99, "realized entry 2 is not a finite number"),
        ([0.01, 0.02], [0.02, np.inf], 0.99, "var_forecasts entry 2 is not a finite number"),
        ([0.01], 0.02, 0.99, "needs at least 2"),
        ([0.01, 0.02], 0.02, 0.01, "did you mean 0.99?"),
        ([0.01, 0.02], 0.02, 99, "did you mean 0.99?"),
        ([0.01, 0.02], "abc", 0.99, "var_forecasts must contain only numbers"),
    ],
)
def test_bad_input(realized: object, var: object, confidence: float, fragment: str) -> None:
    with pytest.raises(XlVarError) as info:
        xv.backtest(realized, var, confidence)  # type: ignore[arg-type]
    assert fragment in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), min_size=2, max_size=300), st.sampled_from([0.9, 0.95, 0.975, 0.99, 0.999]))
def test_property_statistics(hit_list: list[bool], confidence: float) -> None:
    hits = np.array(hit_list)
    b = xv.backtest(*series_from_hits(hits), confidence=confidence)
    assert b.exceptions == int(hits.sum())
    for lr, p in ((b.kupiec_lr, b.kupiec_p), (b.christoffersen_lr, b.christoffersen_p), (b.cc_lr, b.cc_p)):
        assert math.isfinite(lr) and lr >= 0.0
        assert 0.0 <= p <= 1.0
    assert b.cc_lr == pytest.approx(b.kupiec_lr + b.christoffersen_lr, rel=1e-12, abs=1e-12)
    assert b.zone in {"green", "yellow", "red"}
    assert {"green": 3.0, "red": 4.0}.get(b.zone, b.multiplier) == b.multiplier
    assert 3.0 <= b.multiplier <= 4.0
    # More exceptions never improve the zone.
    more = hits.copy()
    more[np.flatnonzero(~more)[:1]] = True
    order = ["green", "yellow", "red"]
    worse = xv.backtest(*series_from_hits(more), confidence=confidence)
    assert order.index(worse.zone) >= order.index(b.zone)
