"""Hypothesis property tests of the engine's input handling and invariants.

Whatever arrives (junk tables, NaN, odd options), a public function either returns
finite numbers or raises XlVarError; for valid data every method satisfies ES >= VaR,
the Euler sum, permutation invariance and indifference to zero-weight assets.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import xl_var as xv
from xl_var import XlVarError

METHODS = ["normal", "t", "modified", "historical", "ewma", "fhs"]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

finite = st.floats(-0.3, 0.3, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def portfolios(draw, min_rows=20, max_rows=60, max_assets=5):
    n = draw(st.integers(1, max_assets))
    t = draw(st.integers(min_rows, max_rows))
    returns = draw(arrays(np.float64, (t, n), elements=finite))
    weights = draw(arrays(np.float64, (n,), elements=st.floats(-5, 5, allow_subnormal=False)))
    return returns, weights


def _finite_or_xlvar_error(fn, *args, **kwargs):
    try:
        out = fn(*args, **kwargs)
    except XlVarError as e:
        assert str(e)
        return None
    return out


@FAST
@given(portfolios(), st.sampled_from(METHODS), st.floats(0.5, 0.95), st.integers(1, 3))
def test_every_method_gives_consistent_numbers_or_a_clear_error(data, method, confidence, horizon):
    returns, weights = data
    r = _finite_or_xlvar_error(xv.portfolio_var, returns, weights, confidence, horizon, method=method)
    if r is None:
        return
    assert math.isfinite(r.var) and math.isfinite(r.es)
    assert r.es >= r.var - 1e-12 * abs(r.var)
    for measure in ("var", "es"):
        total = r.var if measure == "var" else r.es
        if total == 0.0:  # e.g. a historical median of zeros: percent contributions are undefined
            with pytest.raises(XlVarError, match="exactly zero"):
                xv.component_var(returns, weights, confidence, horizon, method=method, measure=measure)
            continue
        d = xv.component_var(returns, weights, confidence, horizon, method=method, measure=measure)
        assert d.total == pytest.approx(total, rel=1e-12, abs=1e-300)
        assert np.all(np.isfinite(d.component)) and np.all(np.isfinite(d.marginal))
        assert abs(d.component.sum() - d.total) <= 1e-9 * np.abs(weights * d.marginal).sum() + 1e-300


@FAST
@given(portfolios(min_rows=30, max_assets=4), st.sampled_from(METHODS), st.randoms(use_true_random=False))
def test_permuting_assets_permutes_components(data, method, rnd):
    returns, weights = data
    first = _finite_or_xlvar_error(xv.component_var, returns, weights, 0.9, method=method)
    assume(first is not None)
    perm = list(range(len(weights)))
    rnd.shuffle(perm)
    again = xv.component_var(returns[:, perm], weights[perm], 0.9, method=method)
    assert again.total == pytest.approx(first.total, rel=1e-7)
    np.testing.assert_allclose(again.component, first.component[perm], rtol=1e-6, atol=1e-9 * abs(first.total))


@FAST
@given(portfolios(min_rows=30, max_assets=3), st.sampled_from(METHODS), arrays(np.float64, (60,), elements=finite))
def test_a_zero_weight_asset_changes_nothing(data, method, extra):
    returns, weights = data
    base = _finite_or_xlvar_error(xv.portfolio_var, returns, weights, 0.9, method=method)
    assume(base is not None)
    wider = xv.portfolio_var(np.column_stack([returns, extra[: len(returns)]]), np.append(weights, 0.0), 0.9,
                             method=method)
    assert wider.var == pytest.approx(base.var, rel=1e-9) and wider.es == pytest.approx(base.es, rel=1e-9)


@FAST
@given(portfolios(min_rows=25), st.data())
def test_a_bad_cell_is_named_or_dropped(data, draw):
    returns, weights = data
    t, n = returns.shape
    row, col = draw.draw(st.integers(0, t - 1)), draw.draw(st.integers(0, n - 1))
    dirty = returns.copy()
    dirty[row, col] = draw.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    with pytest.raises(XlVarError, match=f"returns row {row + 1}, column {col + 1} is not a finite number"):
        xv.portfolio_var(dirty, weights, 0.9, method="normal")
    dropped = _finite_or_xlvar_error(xv.portfolio_var, dirty, weights, 0.9, method="historical", missing="drop")
    clean = _finite_or_xlvar_error(xv.portfolio_var, np.delete(returns, row, axis=0), weights, 0.9,
                                   method="historical")
    assert (dropped is None) == (clean is None)
    if clean is not None:
        assert (dropped.var, dropped.es) == (clean.var, clean.es)


@FAST
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5), st.none(),
                 st.booleans(), st.integers(-10**6, 10**6)))
def test_confidence_is_validated(confidence):
    returns = np.random.default_rng(0).normal(0, 0.01, size=(200, 2))
    r = _finite_or_xlvar_error(xv.portfolio_var, returns, [1, 1], confidence, method="normal")
    try:
        ok = 0.5 <= float(confidence) < 1.0 and not isinstance(confidence, bool)
    except (TypeError, ValueError):
        ok = False
    assert (r is not None) == ok


@FAST
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4), st.none(),
                 st.integers(-5, 10**4)), st.text(max_size=12))
def test_horizon_and_method_are_validated(horizon, method):
    returns = np.random.default_rng(1).normal(0, 0.01, size=(120, 2))
    r = _finite_or_xlvar_error(xv.portfolio_var, returns, [1, 1], 0.95, horizon, method=method)
    if r is not None:
        assert r.horizon >= 1 and r.method in METHODS and math.isfinite(r.var)


junk_cell = st.one_of(finite, st.none(), st.text(max_size=3), st.just("#N/A"), st.just(float("nan")))
junk_table = st.one_of(
    st.none(), finite, st.text(max_size=4),
    st.lists(junk_cell, max_size=6),
    st.lists(st.lists(junk_cell, min_size=1, max_size=4), max_size=30),
    arrays(np.float64, st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 2))),
)


@settings(max_examples=300, deadline=None)
@given(junk_table, junk_table, st.sampled_from(METHODS), st.sampled_from(["raise", "drop"]))
def test_junk_input_never_escapes_as_another_exception(returns, weights, method, missing):
    for fn in (xv.portfolio_var, xv.component_var):
        out = _finite_or_xlvar_error(fn, returns, weights, 0.9, method=method, missing=missing)
        if out is not None:
            values = [out.var, out.es] if fn is xv.portfolio_var else [out.total, *out.component]
            assert all(math.isfinite(v) for v in values)
