"""Monte Carlo models: the t-copula transform's accuracy and fit, resampling, fitted t, FHS."""

import math

import numpy as np
import pytest
from scipy import stats

import xl_var as xv
from xl_var.historical import fhs_scenarios
from xl_var.montecarlo.marginals import TABLE_SIZE, CopulaTransform, fit_t_copula
from xl_var.parametric import fit_t_df


@pytest.fixture(scope="module")
def returns():
    """Fat-tailed, correlated, skewed daily returns: 800 × 4 (fixed seed)."""
    rng = np.random.default_rng(42)
    common = rng.standard_t(3, size=(800, 1))
    x = 0.6 * common + 0.8 * rng.standard_t(4, size=(800, 4))
    x[:, 1] = np.exp(0.3 * x[:, 1]) - 1.0  # a skewed marginal
    return x * np.array([0.02, 0.03, 0.01, 0.015])


W4 = np.array([0.4, 0.3, -0.2, 0.5])


def type7(sorted_col, u):
    """Type-7 quantile written out: x[j] + g (x[j+1] - x[j]) at h = (n-1) u."""
    h = u * (len(sorted_col) - 1)
    j = np.clip(np.floor(h).astype(int), 0, len(sorted_col) - 2)
    return sorted_col[j] + (h - j) * (sorted_col[j + 1] - sorted_col[j])


@pytest.mark.parametrize("df", [2.5, 4.0, 30.0])
def test_copula_transform_is_an_exact_quantile_within_max_du(returns, df):
    tr = CopulaTransform.build(returns, df)
    assert tr.size == TABLE_SIZE
    assert tr.max_du < 1e-4
    rng = np.random.default_rng(1)
    n = returns.shape[1]
    y = rng.standard_normal((n, 20_000)).astype(np.float32)
    y[:, :4] = [[-40.0], [-3.0], [0.0], [60.0]]  # far tails and the centre
    w = rng.chisquare(df, 20_000).astype(np.float32)
    a = (2.0 * w / df).astype(np.float32)
    out = np.empty_like(y)
    tr.apply(y, a, out, np.empty((16, y.shape[1]), np.float32), np.empty((16, y.shape[1]), np.int32))
    u = stats.t.cdf(y.astype(np.float64) * np.sqrt(df / w.astype(np.float64)), df)  # the exact copula probability
    srt = np.sort(returns, axis=0)
    for i in range(n):
        lo = type7(srt[:, i], np.clip(u[i] - tr.max_du, 0, 1))
        hi = type7(srt[:, i], np.clip(u[i] + tr.max_du, 0, 1))
        slack = 1e-6 * np.abs(srt[:, i]).max()  # float32 rounding of the table
        assert np.all(out[i] >= lo - slack) and np.all(out[i] <= hi + slack)
        # and far closer than that on average: the error in probability is a fraction of max_du
        exact = type7(srt[:, i], u[i])
        assert np.median(np.abs(out[i] - exact)) < 0.05 * np.median(np.abs(hi - lo)) + slack


def test_copula_fit_recovers_known_parameters():
    rng = np.random.default_rng(3)
    rho, df = 0.6, 4.0
    z = rng.multivariate_normal([0, 0, 0], [[1, rho, rho], [rho, 1, rho], [rho, rho, 1]], size=3000)
    t = z * np.sqrt(df / rng.chisquare(df, (3000, 1)))
    x = np.column_stack([stats.t.cdf(t[:, 0], df), np.exp(t[:, 1]), t[:, 2] ** 3])  # monotone marginal maps
    corr, fitted = fit_t_copula(x)
    assert 3.0 < fitted < 5.5
    off = corr[np.triu_indices(3, 1)]
    assert np.all(np.abs(off - rho) < 0.05)
    corr_fixed, same = fit_t_copula(x, df=7.0)
    assert same == 7.0 and corr_fixed.shape == (3, 3)


def test_copula_single_position_reproduces_its_empirical_quantile(returns):
    # weight on one asset only: the copula is irrelevant and L = -Q(U), so VaR -> the type-7 quantile
    w = np.array([0.0, 1.0, 0.0, 0.0])
    r = xv.monte_carlo(returns, w, 200_000, model="t-copula", confidence=(0.95, 0.99), seed=2, workers=2)
    losses = -returns[:, 1]
    for i, c in enumerate((0.95, 0.99)):
        exact = np.quantile(losses, c)
        assert abs(r.var[i] - exact) < 3 * r.var_se[i] + 1e-4 * abs(exact)
    assert r.component_var[1] == pytest.approx(r.var[-1]) and np.all(r.component_var[[0, 2, 3]] == 0)


def test_copula_horizon_uses_overlapping_h_period_returns(returns):
    w = np.array([0.0, 0.0, 1.0, 0.0])
    r = xv.monte_carlo(returns, w, 100_000, model="t-copula", confidence=0.99, horizon=5, seed=4)
    sums = np.convolve(returns[:, 2], np.ones(5), mode="valid")
    assert abs(r.var[0] - np.quantile(-sums, 0.99)) < 3 * r.var_se[0] + 1e-4


def test_bootstrap_horizon_two_matches_the_exact_pair_distribution(returns):
    x = returns[:300]
    series = x @ W4
    pair_losses = -(series[:, None] + series[None, :]).ravel()  # all 90,000 equally likely 2-day sums
    r = xv.monte_carlo(x, W4, 200_000, model="bootstrap", confidence=(0.95, 0.99), horizon=2, seed=5)
    for i, c in enumerate((0.95, 0.99)):
        var = np.quantile(pair_losses, c)
        es = pair_losses[pair_losses > var].mean()
        assert abs(r.var[i] - var) < 3 * r.var_se[i] + 1e-12
        assert abs(r.es[i] - es) < 3 * r.es_se[i]


def test_bootstrap_one_day_losses_are_historical_losses(returns):
    r = xv.monte_carlo(returns, W4, 50_000, model="bootstrap", confidence=0.99, seed=6)
    hist = np.sort(-(returns @ W4))
    k = np.searchsorted(hist, r.var[0])  # the VaR interpolates two adjacent historical losses
    assert hist[k - 1] - 1e-15 <= r.var[0] <= hist[min(k, hist.size - 1)] + 1e-15
    assert abs(k / hist.size - 0.99) < 3 / math.sqrt(hist.size)


def test_fhs_is_the_bootstrap_of_the_shared_filtered_scenarios(returns):
    a = xv.monte_carlo(returns, W4, 30_000, model="fhs", lam=0.97, confidence=0.99, seed=7, horizon=3)
    b = xv.monte_carlo(fhs_scenarios(returns, 0.97), W4, 30_000, model="bootstrap", confidence=0.99, seed=7,
                       horizon=3)
    np.testing.assert_array_equal(a.var, b.var)
    np.testing.assert_array_equal(a.component_es, b.component_es)
    assert a.model == "fhs"


def test_t_fits_df_like_the_analytic_t_method_and_matches_its_var(returns):
    r = xv.monte_carlo(returns, W4, 200_000, model="t", confidence=0.99, seed=8, workers=2)
    series = returns @ W4
    df = fit_t_df(series)
    assert r.df == df
    scale = series.std(ddof=1) * math.sqrt((df - 2) / df)
    var = -series.mean() + scale * stats.t.ppf(0.99, df)
    assert abs(r.var[0] - var) < 3 * r.var_se[0]


def test_normal_from_returns_equals_normal_from_their_moments(returns):
    a = xv.monte_carlo(returns, W4, 20_000, model="normal", confidence=0.99, seed=9)
    b = xv.monte_carlo(None, W4, 20_000, model="Gaussian", confidence=0.99, seed=9,
                       cov=np.cov(returns, rowvar=False), mean=returns.mean(axis=0))
    np.testing.assert_array_equal(a.var, b.var)
    np.testing.assert_array_equal(a.component_var, b.component_var)


def test_singular_covariance_is_simulated(returns):
    x = np.column_stack([returns[:, :2], returns[:, 0]])  # third asset duplicates the first
    cov = np.cov(x, rowvar=False)
    w = np.array([0.5, 0.2, 0.3])
    r = xv.monte_carlo(None, w, 100_000, model="normal", confidence=0.99, cov=cov, seed=1)
    exact = stats.norm.ppf(0.99) * math.sqrt(w @ cov @ w)
    assert abs(r.var[0] - exact) < 3 * r.var_se[0]
    c = xv.monte_carlo(x, w, 20_000, model="t-copula", confidence=0.99, seed=1)
    assert c.component_es.sum() == pytest.approx(c.es[0], rel=1e-12)
