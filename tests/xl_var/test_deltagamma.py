"""Delta-gamma VaR: the exact inversion against closed forms (non-central chi-square, normal) and Monte Carlo,
the cumulants against the 1-D closed form, an eigen-decomposition and sample cumulants, and every refusal."""

import numpy as np
import pytest
from scipy import integrate, stats

from xl_var import XlVarError
from xl_var.deltagamma import delta_gamma_var, quadratic_cumulants

COV = np.array([[4e-4, 1.2e-4, -3e-5], [1.2e-4, 9e-4, 1e-4], [-3e-5, 1e-4, 1e-4]])
DELTA = np.array([2e6, -1.5e6, 8e5])
GAMMA = np.array([[-6e7, 1e7, 0.0], [1e7, 4e7, -5e6], [0.0, -5e6, -2e7]])  # short gamma on balance


def _ncx2_reference(d, g, s, c):
    """VaR and ES of d X + g X²/2, X ~ N(0, s²): a W + k with W ~ ncx2(1, (d/(g s))²), a = g s²/2, k = -d²/(2g)."""
    a, k, nc, alpha = 0.5 * g * s * s, -d * d / (2 * g), (d / (g * s)) ** 2, 1 - c
    w = stats.ncx2.ppf(alpha if g > 0 else c, 1, nc)  # the P&L's alpha-quantile is W's at alpha (long) or c (short)
    q = a * w + k
    lower, upper = (0.0, w) if g > 0 else (w, np.inf)
    tail = integrate.quad(lambda x: (q - (a * x + k)) * stats.ncx2.pdf(x, 1, nc), lower, upper,
                          epsabs=0.0, epsrel=1e-13, limit=500)[0]  # E[(q - P&L)+]
    return -q, -q + tail / alpha


@pytest.mark.parametrize(("d", "g", "s", "c"), [
    (1.0, 5.0, 0.05, 0.99),      # long gamma, delta dominates
    (1.0, -5.0, 0.05, 0.99),     # short gamma
    (0.0, 3.0, 1.0, 0.95),       # pure long gamma (straddle): P&L >= 0, density infinite at the edge
    (0.2, -3.0, 1.0, 0.999),     # short straddle with a little delta
    (0.05, 4.0, 1.0, 0.999),     # long straddle: the quantile sits just above the edge of the support
    (1e6, -4e8, 0.03, 0.975),    # dollar units
])
def test_exact_one_dimension_is_the_noncentral_chi_square(d, g, s, c):
    var, es = _ncx2_reference(d, g, s, c)
    r = delta_gamma_var([d], [[g]], [[s * s]], c, method="exact")
    sd = quadratic_cumulants(d, g, s * s).sd
    assert r.var == pytest.approx(var, rel=1e-8, abs=1e-10 * sd)
    assert r.es == pytest.approx(es, rel=1e-8, abs=1e-10 * sd)
    assert (r.method, r.confidence, r.horizon, r.n_obs) == ("exact", c, 1, 0)


@pytest.mark.parametrize("method", ["normal", "cornish-fisher", "exact"])
def test_zero_gamma_is_the_normal_closed_form(method):
    c, theta = 0.99, 5000.0
    sp = np.sqrt(DELTA @ COV @ DELTA)
    z = stats.norm.ppf(1 - c)
    r = delta_gamma_var(DELTA, np.zeros((3, 3)), COV, c, theta=theta, method=method)
    tol = 1e-10 if method == "exact" else 1e-13
    assert r.var == pytest.approx(-theta - z * sp, rel=tol)
    assert r.es == pytest.approx(-theta + sp * stats.norm.pdf(z) / (1 - c), rel=tol)


def test_gamma_on_one_asset_and_a_normal_rest_match_a_convolution():
    # independent assets: P&L = (d1 X1 + g X1²/2) + d2 X2, a non-central chi-square plus a normal
    d1, g, s1, d2, s2, c = 1.0, -8.0, 0.1, 0.5, 0.08, 0.99
    r = delta_gamma_var([d1, d2], [g, 0.0], np.diag([s1 * s1, s2 * s2]), c, method="exact")
    a, k, nc = 0.5 * g * s1 * s1, -d1 * d1 / (2 * g), (d1 / (g * s1)) ** 2
    cdf = integrate.quad(lambda z: stats.ncx2.sf((-r.var - d2 * s2 * z - k) / a, 1, nc) * stats.norm.pdf(z),
                         -np.inf, np.inf, epsabs=1e-14, epsrel=1e-12)[0]
    assert cdf == pytest.approx(1 - c, abs=1e-10)


def test_singular_cov_is_the_merged_asset():
    # two assets with identical returns are one asset: delta adds up, gamma sums all four entries
    s, d, g = 0.04, np.array([1e6, 5e5]), np.array([[-2e8, 5e7], [5e7, 1e8]])
    merged = delta_gamma_var([d.sum()], [[g.sum()]], [[s * s]], 0.99, method="exact")
    r = delta_gamma_var(d, g, np.full((2, 2), s * s), 0.99, method="exact")
    assert r.var == pytest.approx(merged.var, rel=1e-9) and r.es == pytest.approx(merged.es, rel=1e-9)


@pytest.fixture(scope="module")
def pnl_draws():
    """2e6 seeded draws of the 3-asset P&L, and the exact 99% result."""
    x = np.random.default_rng(7).standard_normal((2_000_000, 3)) @ np.linalg.cholesky(COV).T
    pnl = x @ DELTA + 0.5 * ((x @ GAMMA) * x).sum(axis=1)
    return pnl, delta_gamma_var(DELTA, GAMMA, COV, 0.99, method="exact")


def test_exact_agrees_with_monte_carlo(pnl_draws):
    pnl, r = pnl_draws
    n, alpha = pnl.size, 0.01
    share = np.mean(pnl <= -r.var)  # binomial: the exact quantile holds alpha of the draws
    assert abs(share - alpha) < 4.5 * np.sqrt(alpha * (1 - alpha) / n)
    short = np.maximum(-r.var - pnl, 0.0)  # E[(q - P&L)+] = alpha (ES - VaR)
    assert abs(short.mean() - alpha * (r.es - r.var)) < 4.5 * short.std() / np.sqrt(n)


def test_cornish_fisher_is_close_to_exact_for_small_gamma():
    small = GAMMA / 20
    cf = delta_gamma_var(DELTA, small, COV, 0.99, method="cf")
    ex = delta_gamma_var(DELTA, small, COV, 0.99, method="exact")
    nm = delta_gamma_var(DELTA, small, COV, 0.99, method="normal")
    assert cf.var == pytest.approx(ex.var, rel=2e-3) and cf.es == pytest.approx(ex.es, rel=5e-3)
    assert abs(cf.var - ex.var) < abs(nm.var - ex.var) / 5  # CF corrects most of the normal's error


def test_cumulants_match_the_one_dimension_closed_form():
    # a W + k, W ~ ncx2(1, nc): kappa_r(W) = 2^(r-1) (r-1)! (1 + r nc)
    d, g, s, theta = 1.5, -4.0, 0.3, 0.02
    a, k, nc = 0.5 * g * s * s, -d * d / (2 * g), (d / (g * s)) ** 2
    ref = [a * (1 + nc) + k + theta] + [a**r * 2 ** (r - 1) * np.prod(range(1, r)) * (1 + r * nc) for r in (2, 3, 4)]
    got = quadratic_cumulants([d], [[g]], [[s * s]], theta)
    np.testing.assert_allclose([got.k1, got.k2, got.k3, got.k4], ref, rtol=1e-12)
    assert quadratic_cumulants(1.0, 2.0, 1.0).k3 == pytest.approx(14.0)  # X + X², X ~ N(0, 1): 8 + 6


def test_cumulants_match_the_eigen_form_and_sample_cumulants(pnl_draws):
    got = quadratic_cumulants(DELTA, GAMMA, COV, 100.0)
    w, v = np.linalg.eigh(COV)
    root = v * np.sqrt(w) @ v.T
    lam, p = np.linalg.eigh(root @ GAMMA @ root)
    b = p.T @ root @ DELTA
    eigen = [100.0 + lam.sum() / 2] + [0.5 * np.prod(range(1, r)) * (lam**r).sum()
                                       + 0.5 * np.prod(range(1, r + 1)) * (b * b * lam ** (r - 2)).sum()
                                       for r in (2, 3, 4)]
    np.testing.assert_allclose([got.k1, got.k2, got.k3, got.k4], eigen, rtol=1e-10)
    pnl = pnl_draws[0] + 100.0
    sample = [stats.kstat(pnl, r) for r in (1, 2, 3, 4)]
    assert sample[0] == pytest.approx(got.k1, abs=4 * got.sd / np.sqrt(pnl.size))
    for est, true, tol in zip(sample[1:], (got.k2, got.k3, got.k4), (5e-3, 6e-2, 6e-2), strict=True):
        assert est == pytest.approx(true, rel=tol)
    assert got.skew == pytest.approx(got.k3 / got.k2**1.5) and got.exkurt == pytest.approx(got.k4 / got.k2**2)


@pytest.mark.parametrize("method", ["normal", "cornish-fisher", "exact"])
def test_horizon_scales_cov_and_theta(method):
    h, theta = 10, -2000.0
    r = delta_gamma_var(DELTA, GAMMA, COV, 0.99, horizon=h, theta=theta, method=method)
    same = delta_gamma_var(DELTA, GAMMA, COV * h, 0.99, theta=theta * h, method=method)
    assert (r.var, r.es, r.horizon) == pytest.approx((same.var, same.es, h), rel=1e-12)
    flat = delta_gamma_var(DELTA, 0.0 * GAMMA, COV, 0.99, method=method)
    flat_h = delta_gamma_var(DELTA, 0.0 * GAMMA, COV, 0.99, horizon=h, method=method)
    assert flat_h.var == pytest.approx(np.sqrt(h) * flat.var, rel=1e-9)


@pytest.mark.parametrize("method", ["normal", "cornish-fisher", "exact"])
def test_theta_shifts_var_and_es(method):
    base = delta_gamma_var(DELTA, GAMMA, COV, 0.99, method=method)
    r = delta_gamma_var(DELTA, GAMMA, COV, 0.99, horizon=2, theta=1e4, method=method)
    two = delta_gamma_var(DELTA, GAMMA, 2 * COV, 0.99, method=method)
    assert r.var == pytest.approx(two.var - 2e4, rel=1e-9) and r.es == pytest.approx(two.es - 2e4, rel=1e-9)
    assert base.es > base.var > 0


def test_aliases_measure_and_input_shapes():
    ref = delta_gamma_var(DELTA, GAMMA, COV, 0.99, method="exact")
    for alias in ("imhof", " Fourier "):
        assert delta_gamma_var(DELTA, GAMMA, COV, method=alias, measure="es") == ref
    cf = delta_gamma_var(DELTA, GAMMA, COV)
    assert cf.method == "cornish-fisher"
    for alias in ("cf", "cornishfisher", "Cornish-Fisher"):
        assert delta_gamma_var(DELTA, GAMMA, COV, method=alias, measure="cvar") == cf
    diag = np.diag(GAMMA)
    assert delta_gamma_var(DELTA, diag, COV) == delta_gamma_var(DELTA, np.diag(diag), COV)
    assert delta_gamma_var(DELTA, diag[None, :], COV) == delta_gamma_var(DELTA, diag, COV)  # a worksheet row
    nudged = GAMMA.copy()
    nudged[0, 1] *= 1 + 1e-10  # finite-difference noise is averaged out
    assert delta_gamma_var(DELTA, nudged, COV).var == pytest.approx(cf.var, rel=1e-9)
    assert delta_gamma_var(2.0, -1.0, 0.01) == delta_gamma_var([2.0], [[-1.0]], [[0.01]])  # one asset as numbers


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"delta": []}, "delta is empty"),
    ({"delta": [1.0, np.nan, 2.0]}, "delta entry 2 is not a finite number"),
    ({"delta": [[1.0, 2.0], [3.0, 4.0]]}, "delta must be a single row or column"),
    ({"gamma": np.ones((2, 2))}, "gamma is 2×2 but delta has 3 entries"),
    ({"gamma": [1.0, 2.0]}, "gamma has 2 entries"),
    ({"gamma": GAMMA + np.triu(np.full((3, 3), 1e6), 1)}, "gamma is not symmetric: row 1, column 2"),
    ({"gamma": np.where(np.eye(3) > 0, np.inf, 0.0)}, "gamma row 1, column 1 is not a finite number"),
    ({"cov": COV[:2, :2]}, "cov is 2×2 but delta has 3 entries"),
    ({"cov": COV + np.triu(np.full((3, 3), 1e-5), 1)}, "cov is not symmetric"),
    ({"cov": np.diag([1e-4, -1e-4, 1e-4])}, "cov is not positive semi-definite"),
    ({"confidence": 0.05}, "did you mean 0.95"),
    ({"horizon": 0}, "horizon must be a whole number"),
    ({"theta": np.nan}, "theta must be a finite number"),
    ({"theta": "daily"}, "theta must be a number"),
    ({"method": "historical"}, "method must be one of 'normal', 'cornish-fisher', 'exact'"),
    ({"measure": "sd"}, "measure must be one of 'var', 'es'"),
    ({"delta": np.zeros(3), "gamma": np.zeros(3)}, "zero variance"),
    ({"cov": np.diag([0.0, 0.0, 1e-4]), "delta": [1.0, 2.0, 0.0], "gamma": [3.0, 0.0, 0.0]}, "zero variance"),
])
def test_refusals_name_the_argument(kwargs, message):
    args = {"delta": DELTA, "gamma": GAMMA, "cov": COV} | kwargs
    with pytest.raises(XlVarError, match=message):
        delta_gamma_var(**args)


def test_cumulants_refuse_bad_input_but_allow_a_constant_pnl():
    with pytest.raises(XlVarError, match="gamma is not symmetric"):
        quadratic_cumulants([1.0, 1.0], [[0.0, 1.0], [0.0, 0.0]], np.eye(2))
    flat = quadratic_cumulants([0.0, 0.0], [0.0, 0.0], np.eye(2), theta=3.0)
    assert (flat.k1, flat.k2, flat.k3, flat.k4) == (3.0, 0.0, 0.0, 0.0) and np.isnan(flat.skew)
