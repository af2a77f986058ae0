"""Scenario estimators: empirical VaR/ES, kernel component VaR, tail component ES, FHS."""

import statistics

import numpy as np
import pytest

from xl_var import XlVarError
from xl_var.historical import (
    component_es_scenarios,
    component_var_scenarios,
    empirical_var_es,
    fhs_scenarios,
    kernel_bandwidth,
    overlapping_sums,
    quantile7,
)


@pytest.fixture(scope="module")
def scenarios():
    rng = np.random.default_rng(7)
    x = rng.standard_t(4, size=(600, 4)) * [0.01, 0.02, 0.015, 0.005]
    w = np.array([0.4, 0.3, -0.2, 0.5])
    return x, w


def _type7(sample, p):
    """R's default (type 7) quantile at p = 1/n: the standard library's "inclusive" method."""
    n = round(1 / p)
    assert abs(n * p - 1) < 1e-12
    return statistics.quantiles(sample, n=n, method="inclusive")[0]


def _pa_kernel(x, w, p):
    """PerformanceAnalytics VaR.kernel.portfolio, line by line (returns, alpha = 1 - p)."""
    alpha = 1 - p
    port = np.array([np.sum(w * row) for row in x])
    band = 2.575 * np.std(port, ddof=1) / len(port) ** 0.2
    var = -_type7(port, alpha)
    k = np.array([max(0.0, 1 - abs((-var - r) / band)) for r in port])
    cvar = w * np.array([np.sum(k * x[:, i]) for i in range(x.shape[1])])
    return var, cvar / cvar.sum() * var


@pytest.mark.parametrize("c", [0.9, 0.95, 0.99, 0.995])
def test_empirical_var_es_is_type7_and_strict_tail(scenarios, c):
    x, w = scenarios
    port = x @ w
    var, es = empirical_var_es(-port, c)
    q = _type7(port, 1 - c)
    assert var == pytest.approx(-q, rel=1e-14)
    assert es == pytest.approx(-np.mean([r for r in port if r < q]), rel=1e-14)
    assert es >= var


def test_es_equals_var_when_nothing_exceeds():
    assert empirical_var_es(np.array([0.1, 0.1, 0.1, 0.1]), 0.9) == (pytest.approx(0.1), pytest.approx(0.1))


@pytest.mark.parametrize("c", [0.95, 0.99])
def test_kernel_component_var_matches_performanceanalytics(scenarios, c):
    x, w = scenarios
    var_pa, comp_pa = _pa_kernel(x, w, c)
    port_loss = -(x @ w)
    var, _ = empirical_var_es(port_loss, c)
    assert var == pytest.approx(var_pa, rel=1e-13)
    comp = component_var_scenarios(port_loss, -x * w, var)
    np.testing.assert_allclose(comp, comp_pa, rtol=1e-11)
    assert comp.sum() == pytest.approx(var, rel=1e-13)
    # per-unit asset losses give marginals with the same rescaling
    np.testing.assert_allclose(w * component_var_scenarios(port_loss, -x, var), comp, rtol=1e-11)


def test_component_es_is_tail_mean_and_sums_to_es(scenarios):
    x, w = scenarios
    loss = -(x @ w)
    var, es = empirical_var_es(loss, 0.975)
    comp = component_es_scenarios(loss, -x * w, var)
    tail = [t for t in range(len(loss)) if loss[t] > var]
    np.testing.assert_allclose(comp, np.mean(-x[tail] * w, axis=0), rtol=1e-13)
    assert comp.sum() == pytest.approx(es, rel=1e-13)


def test_estimators_work_on_a_subset_holding_tail_and_kernel_window(scenarios):
    x, w = scenarios
    loss = -(x @ w)
    var, _ = empirical_var_es(loss, 0.99)
    band = kernel_bandwidth(np.std(loss, ddof=1), loss.size)
    keep = loss > var - band  # the whole tail plus the kernel window below the VaR
    assert keep.sum() < loss.size / 3
    full_v = component_var_scenarios(loss, -x * w, var)
    full_e = component_es_scenarios(loss, -x * w, var)
    np.testing.assert_allclose(component_var_scenarios(loss[keep], -x[keep] * w, var, bandwidth=band),
                               full_v, rtol=1e-13)
    np.testing.assert_allclose(component_es_scenarios(loss[keep], -x[keep] * w, var), full_e, rtol=1e-13)


def test_empty_kernel_window_falls_back_to_exact_quantile_derivative(scenarios):
    x, w = scenarios
    c = 0.99
    loss = -(x @ w)
    var, _ = empirical_var_es(loss, c)
    marg = component_var_scenarios(loss, -x, var, bandwidth=1e-300)
    # the type-7 quantile is piecewise linear in w: a central difference is its exact gradient
    eps = 1e-9
    fd = [(-_type7(x @ (w + eps * e), 1 - c) + _type7(x @ (w - eps * e), 1 - c)) / (2 * eps)
          for e in np.eye(len(w))]
    np.testing.assert_allclose(marg, fd, rtol=1e-6)
    assert w @ marg == pytest.approx(var, rel=1e-13)


def test_component_es_without_exceedances_uses_var_scenarios():
    loss = np.array([0.0, 1.0, 2.0, 2.0])
    pos = np.array([[0.0, 0.0], [0.5, 0.5], [1.5, 0.5], [1.0, 1.0]])
    np.testing.assert_allclose(component_es_scenarios(loss, pos, 2.0), [1.25, 0.75])
    np.testing.assert_allclose(component_es_scenarios(loss[:2], pos[:2], 2.0).sum(), 2.0)


def test_shape_mismatch_is_an_xlvar_error():
    with pytest.raises(XlVarError, match="position_loss must have one row per scenario"):
        component_var_scenarios(np.zeros(3), np.zeros((4, 2)), 0.1)


def test_overlapping_sums_match_a_loop():
    x = np.arange(20.0).reshape(10, 2) ** 1.5
    out = overlapping_sums(x, 3)
    assert out.shape == (8, 2)
    np.testing.assert_allclose(out, [x[t:t + 3].sum(axis=0) for t in range(8)])
    assert overlapping_sums(x, 1) is x


def test_fhs_scenarios_follow_the_riskmetrics_recursion():
    rng = np.random.default_rng(3)
    r = rng.normal(size=(50, 3)) * [0.01, 0.03, 0.0]
    lam = 0.9
    out = fhs_scenarios(r, lam)
    for i in range(2):
        var = np.mean(r[:, i] ** 2)
        sig = []
        for t in range(50):
            sig.append(np.sqrt(var))
            var = lam * var + (1 - lam) * r[t, i] ** 2
        np.testing.assert_allclose(out[:, i], r[:, i] / np.array(sig) * np.sqrt(var), rtol=1e-12)
    assert np.all(out[:, 2] == 0.0)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 99, 100, 101, 250, 2500])
def test_quantile7_is_bit_identical_to_numpy(n):
    rng = np.random.default_rng(n)
    probabilities = [0.0, 0.001, 1 - 0.99, 1 - 0.975, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0, *rng.uniform(size=5)]
    for sample in (rng.standard_t(3, n) * 0.02, np.round(rng.normal(size=n), 1), np.full(n, 0.1)):
        before = sample.copy()
        for p in probabilities:
            assert quantile7(sample, p) == float(np.quantile(sample, p)), (n, p)
        np.testing.assert_array_equal(sample, before)  # not modified


def test_empirical_var_es_matches_the_numpy_formula_exactly(scenarios):
    x, w = scenarios
    loss = -(x @ w)
    for c in (0.9, 0.95, 0.99, 0.999):
        q = float(np.quantile(-loss, 1 - c))
        returns = -loss
        assert empirical_var_es(loss, c) == (-q, float(-returns[returns < q].mean()))
