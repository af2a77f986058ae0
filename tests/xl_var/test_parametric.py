"""Parametric methods: closed forms against numerical integration, and analytic gradients
against finite differences of the full computation."""

from dataclasses import replace

import numpy as np
import pytest
from scipy import integrate, optimize, stats

import xl_var as xv
from xl_var.moments import sample_moments
from xl_var.parametric import cornish_fisher_risk, fit_t_df, normal_risk, student_t_risk

COV = np.array([[0.0004, 0.00012, -0.00003], [0.00012, 0.0009, 0.0001], [-0.00003, 0.0001, 0.0001]])
MEAN = np.array([0.0005, 0.001, -0.0002])
W = np.array([0.5, 0.3, 0.2])


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(11)
    z = rng.standard_t(5, size=(1500, 4)) @ np.array(
        [[1.0, 0.3, 0.2, 0.0], [0.0, 1.0, 0.4, 0.1], [0.0, 0.0, 1.0, -0.3], [0.0, 0.0, 0.0, 1.0]])
    skewer = np.exp(0.01 * z[:, [0]]) - 1.0  # a skewed asset
    return np.column_stack([0.01 * z[:, :3], skewer]) + 0.0003


def _lower_tail_mean(pdf, q, alpha):
    """-E[X | X <= q] for a density, by quadrature: the definition of ES."""
    return -integrate.quad(lambda x: x * pdf(x), -np.inf, q, epsabs=1e-14, epsrel=1e-12)[0] / alpha


@pytest.mark.parametrize("c", [0.95, 0.99, 0.999])
def test_normal_closed_form_against_the_definition(c):
    m, s = MEAN @ W, np.sqrt(W @ COV @ W)
    r = xv.portfolio_var(None, W, c, method="normal", cov=COV, mean=MEAN)
    q = stats.norm.ppf(1 - c, loc=m, scale=s)
    assert r.var == pytest.approx(-q, rel=1e-12)
    assert r.es == pytest.approx(_lower_tail_mean(lambda x: stats.norm.pdf(x, m, s), q, 1 - c), rel=1e-9)
    assert r.n_obs == 0 and r.method == "normal"


@pytest.mark.parametrize(("df", "c"), [(3.0, 0.99), (4.5, 0.95), (10.0, 0.975), (60.0, 0.99)])
def test_student_t_closed_form_es_against_the_definition(df, c):
    s = np.sqrt(W @ COV @ W)
    scale = s * np.sqrt((df - 2) / df)  # unit-variance t times the portfolio sd
    r = xv.portfolio_var(None, W, c, method="t", cov=COV, df=df)
    q = stats.t.ppf(1 - c, df, scale=scale)
    assert r.var == pytest.approx(-q, rel=1e-12)
    es = _lower_tail_mean(lambda x: stats.t.pdf(x, df, scale=scale), q, 1 - c)
    assert r.es == pytest.approx(es, rel=1e-8)
    # the unit-variance t really has the portfolio's standard deviation
    assert stats.t.std(df, scale=scale) == pytest.approx(s, rel=1e-12)


def test_t_tends_to_normal_for_large_df():
    n = xv.portfolio_var(None, W, 0.99, method="normal", cov=COV)
    t = xv.portfolio_var(None, W, 0.99, method="t", cov=COV, df=1e7)
    assert t.var == pytest.approx(n.var, rel=1e-6) and t.es == pytest.approx(n.es, rel=1e-6)


def test_fit_t_df_is_the_likelihood_maximum():
    rng = np.random.default_rng(5)
    y = 0.02 * rng.standard_t(4, size=20000) + 0.001
    nu = fit_t_df(y)
    z = (y - y.mean()) / y.std(ddof=1)

    def nll(v):
        return -stats.t.logpdf(z, v, scale=np.sqrt((v - 2) / v)).sum()

    ref = optimize.minimize_scalar(nll, bounds=(2.05, 50), method="bounded", options={"xatol": 1e-9}).x
    assert nu == pytest.approx(ref, rel=1e-5)
    assert 3.6 < nu < 4.5  # the sample is t(4): the estimate's standard error is about 0.15
    assert fit_t_df(5.0 * y) == pytest.approx(nu, rel=1e-10)  # scale invariant
    assert fit_t_df(rng.normal(size=20000)) > 100  # light tails: towards normal


def test_cornish_fisher_reduces_to_normal_without_skew_or_kurtosis():
    m = sample_moments(np.random.default_rng(2).normal(size=(50, 2)), np.array([1.0, -0.5]), higher=True)
    normal = normal_risk(m, 0.99)
    # the higher moments of a normal with the same variance
    gauss = replace(m, skew=0.0, exkurt=0.0, grad_skew=np.zeros(2), grad_exkurt=np.zeros(2))
    cf = cornish_fisher_risk(gauss, 0.99)
    assert cf.var == pytest.approx(normal.var, rel=1e-13)
    assert cf.es == pytest.approx(normal.es, rel=1e-13)
    np.testing.assert_allclose(cf.grad_var, normal.grad_var, rtol=1e-12)
    np.testing.assert_allclose(cf.grad_es, normal.grad_es, rtol=1e-12)


def _fd_gradient(f, w, eps=1e-6):
    return np.array([(f(w + eps * e) - f(w - eps * e)) / (2 * eps) for e in np.eye(len(w))])


def _assert_gradient(panel, w, method, measure, **opts):
    def f(v):
        r = xv.portfolio_var(panel, v, 0.99, method=method, **opts)
        return r.var if measure == "var" else r.es

    d = xv.component_var(panel, w, 0.99, method=method, measure=measure, **opts)
    np.testing.assert_allclose(d.marginal, _fd_gradient(f, w), rtol=2e-6, atol=1e-9)
    assert d.component.sum() == pytest.approx(d.total, rel=1e-12)


@pytest.mark.parametrize("measure", ["var", "es"])
@pytest.mark.parametrize(("method", "opts"), [
    ("normal", {}), ("t", {"df": 4.2}), ("modified", {}), ("ewma", {}), ("ewma", {"lam": 0.8}),
    ("normal", {"corr": [[1, .9, .9, .9], [.9, 1, .9, .9], [.9, .9, 1, .9], [.9, .9, .9, 1]]}),
    ("modified", {"corr": np.eye(4)}), ("t", {"df": 6, "corr": np.eye(4)}), ("normal", {"horizon": 10}),
])
def test_analytic_gradients_match_finite_differences(panel, method, opts, measure):
    _assert_gradient(panel, np.array([0.4, 0.3, -0.2, 0.5]), method, measure, **opts)


def test_modified_es_gradient_on_the_floored_branch(panel):
    # at 99.9% the Cornish-Fisher ES of a short position in the skewed asset falls below mVaR
    x = panel[:, [3]] ** 3 * 1e4
    m = sample_moments(x, np.array([1.0]), higher=True)
    r = cornish_fisher_risk(m, 0.999)
    assert r.es == r.var
    np.testing.assert_array_equal(r.grad_es, r.grad_var)
    w = np.array([1.0])
    d = xv.component_var(x, w, 0.999, method="modified", measure="es")
    fd = _fd_gradient(lambda v: xv.portfolio_var(x, v, 0.999, method="modified").es, w)
    np.testing.assert_allclose(d.marginal, fd, rtol=1e-6)


def test_cov_gradients_match_finite_differences():
    for method, opts in (("normal", {"mean": MEAN}), ("t", {"df": 5.0})):
        for measure in ("var", "es"):
            def f(v, method=method, opts=opts, measure=measure):
                r = xv.portfolio_var(None, v, 0.975, method=method, cov=COV, **opts)
                return r.var if measure == "var" else r.es

            d = xv.component_var(None, W, 0.975, method=method, measure=measure, cov=COV, **opts)
            np.testing.assert_allclose(d.marginal, _fd_gradient(f, W), rtol=1e-7)


def test_student_t_gradient_holds_df_fixed():
    m = sample_moments(np.random.default_rng(1).normal(size=(300, 2)), np.array([0.3, 0.7]))
    r = student_t_risk(m, 0.99, 5.0)
    k = np.sqrt(3 / 5) * stats.t.ppf(0.01, 5)
    x = np.random.default_rng(1).normal(size=(300, 2))
    sw = np.cov(x, rowvar=False) @ np.array([0.3, 0.7])
    np.testing.assert_allclose(r.grad_var, -x.mean(axis=0) - k * sw / m.sd, rtol=1e-12)
