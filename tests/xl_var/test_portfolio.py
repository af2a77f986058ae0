"""Public engine API: properties of every method, horizons, overrides, incremental VaR,
portfolio volatility and every bad-input message."""

import itertools

import numpy as np
import pytest
from scipy import stats

import xl_var as xv
from xl_var import XlVarError

METHODS = ["normal", "t", "modified", "historical", "ewma", "fhs"]


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(42)
    vol = np.exp(np.cumsum(rng.normal(0, 0.05, size=(800, 1)), axis=0)) * [0.02, 0.01, 0.03, 0.005]
    chol = np.linalg.cholesky(np.array([[1, .5, .6, 0], [.5, 1, .4, .1], [.6, .4, 1, 0], [0, .1, 0, 1]]))
    return rng.standard_t(4, size=(800, 4)) @ chol.T * vol + 0.0002


W = np.array([0.4, 0.3, -0.15, 0.45])


def _ewma_sigma2_loop(r, lam):
    """RiskMetrics recursion written out, seeded with the mean square."""
    s = np.mean(r**2, axis=0)
    path = []
    for t in range(len(r)):
        path.append(s.copy())
        s = lam * s + (1 - lam) * r[t] ** 2
    return np.array(path), s


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("measure", ["var", "es"])
def test_components_sum_to_total(panel, method, measure):
    d = xv.component_var(panel, W, 0.99, method=method, measure=measure)
    r = xv.portfolio_var(panel, W, 0.99, method=method)
    assert d.total == pytest.approx(r.var if measure == "var" else r.es, rel=1e-13)
    assert abs(d.component.sum() - d.total) <= 1e-12 * abs(d.total)
    assert d.percent.sum() == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(d.component, W * d.marginal, rtol=1e-15)
    assert d.component[2] * np.sign(W[2]) != d.component[0]  # a short position, still a number
    assert d.marginal.shape == d.component.shape == d.percent.shape == (4,)


@pytest.mark.parametrize("method", METHODS)
def test_homogeneous_of_degree_one(panel, method):
    base = xv.portfolio_var(panel, W, 0.99, method=method)
    for k in (3.7, 2.5e6):  # fractions or currency amounts
        r = xv.portfolio_var(panel, k * W, 0.99, method=method)
        assert r.var == pytest.approx(k * base.var, rel=1e-10)
        assert r.es == pytest.approx(k * base.es, rel=1e-10)


@pytest.mark.parametrize("method", METHODS)
def test_es_at_least_var_and_var_rises_with_confidence(panel, method):
    levels = [0.9, 0.95, 0.975, 0.99, 0.995]
    res = [xv.portfolio_var(panel, W, c, method=method) for c in levels]
    for r in res:
        assert r.es >= r.var > 0
    assert all(a.var < b.var for a, b in itertools.pairwise(res))
    if method != "modified":  # the Cornish-Fisher ES is not monotone for large kurtosis (here 7.8)
        assert all(a.es < b.es for a, b in itertools.pairwise(res))


def test_result_metadata_and_aliases(panel):
    r = xv.portfolio_var(panel, W, 0.975, 5, method="Gaussian")
    assert (r.method, r.confidence, r.horizon, r.n_obs) == ("normal", 0.975, 5, 800)
    assert xv.portfolio_var(panel, W, method="PARAMETRIC") == xv.portfolio_var(panel, W, method="normal")
    assert xv.portfolio_var(panel, W, method="cornish-fisher").method == "modified"
    with pytest.raises(AttributeError):
        r.var = 1.0  # frozen


def test_normal_matches_explicit_formula(panel):
    m, s = panel.mean(axis=0) @ W, np.sqrt(W @ np.cov(panel, rowvar=False) @ W)
    r = xv.portfolio_var(panel, W, 0.99, method="normal")
    z = stats.norm.ppf(0.01)
    assert r.var == pytest.approx(-m - z * s, rel=1e-12)
    assert r.es == pytest.approx(-m + s * stats.norm.pdf(z) / 0.01, rel=1e-12)


def test_ewma_uses_the_riskmetrics_covariance(panel):
    lam = 0.97
    _, _ = _ewma_sigma2_loop(panel, lam)
    cov = np.mean([np.outer(r, r) for r in panel], axis=0)
    for row in panel:
        cov = lam * cov + (1 - lam) * np.outer(row, row)
    s = np.sqrt(W @ cov @ W)
    r = xv.portfolio_var(panel, W, 0.99, method="ewma", lam=lam)
    assert r.var == pytest.approx(-stats.norm.ppf(0.01) * s, rel=1e-12)
    assert r.es == pytest.approx(stats.norm.pdf(stats.norm.ppf(0.01)) / 0.01 * s, rel=1e-12)
    assert xv.portfolio_volatility(panel, W, method="ewma", lam=lam) == pytest.approx(s, rel=1e-12)


def test_fhs_is_historical_on_filtered_scenarios(panel):
    path, today = _ewma_sigma2_loop(panel, 0.94)
    scen = panel / np.sqrt(path) * np.sqrt(today)
    port = scen @ W
    q = np.quantile(port, 0.01)
    r = xv.portfolio_var(panel, W, 0.99, method="fhs")
    assert r.var == pytest.approx(-q, rel=1e-12)
    assert r.es == pytest.approx(-port[port < q].mean(), rel=1e-12)
    d = xv.component_var(panel, W, 0.99, method="fhs", measure="es")
    np.testing.assert_allclose(d.component, (-scen[port < q] * W).mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize("method", ["normal", "t", "ewma"])
def test_parametric_horizon_scales_mean_by_h_and_volatility_by_root_h(panel, method):
    h = 10
    one = xv.component_var(panel, W, 0.99, 1, method=method, measure="es")
    ten = xv.component_var(panel, W, 0.99, h, method=method, measure="es")
    mu = np.zeros(panel.shape[1]) if method == "ewma" else panel.mean(axis=0)
    # ES_h = -h·m + √h·(ES_1 + m): location times h, scale times √h; the same for each gradient entry.
    assert ten.total == pytest.approx(np.sqrt(h) * (one.total + mu @ W) - h * (mu @ W), rel=1e-12)
    np.testing.assert_allclose(ten.marginal, np.sqrt(h) * (one.marginal + mu) - h * mu, rtol=1e-10, atol=1e-14)
    assert ten.component.sum() == pytest.approx(ten.total, rel=1e-12)


def test_normal_horizon_closed_form(panel):
    h = 5
    m, s = panel.mean(axis=0) @ W, np.sqrt(W @ np.cov(panel, rowvar=False) @ W)
    z = stats.norm.ppf(0.01)
    r = xv.portfolio_var(panel, W, 0.99, h, method="normal")
    assert r.var == pytest.approx(-h * m - z * s * np.sqrt(h), rel=1e-12)
    assert r.es == pytest.approx(-h * m + s * np.sqrt(h) * stats.norm.pdf(z) / 0.01, rel=1e-12)


def test_modified_horizon_uses_cumulants_of_the_h_period_sum(panel):
    h = 4
    y = panel @ W
    m, s = y.mean(), y.std(ddof=1)
    u = (y - m) / s
    skew, exkurt = np.mean(u**3) / np.sqrt(h), np.mean(u**4) / h - 3.0 / h
    z = stats.norm.ppf(0.01)
    g = z + (z * z - 1) / 6 * skew + (z**3 - 3 * z) / 24 * exkurt - (2 * z**3 - 5 * z) / 36 * skew**2
    r = xv.portfolio_var(panel, W, 0.99, h, method="modified")
    assert r.var == pytest.approx(-h * m - g * s * np.sqrt(h), rel=1e-12)
    d = xv.component_var(panel, W, 0.99, h, method="modified")
    assert d.component.sum() == pytest.approx(r.var, rel=1e-12)


def test_historical_horizon_sqrt_or_overlapping(panel):
    one = xv.portfolio_var(panel, W, 0.99, 1)
    sq = xv.portfolio_var(panel, W, 0.99, 5, scaling="sqrt")
    assert (sq.var, sq.es) == (pytest.approx(np.sqrt(5) * one.var), pytest.approx(np.sqrt(5) * one.es))
    port = panel @ W
    sums = np.array([port[t:t + 5].sum() for t in range(len(port) - 4)])
    q = np.quantile(sums, 0.01)
    ov = xv.portfolio_var(panel, W, 0.99, 5, scaling="overlapping")
    assert ov.var == pytest.approx(-q, rel=1e-12)
    assert ov.es == pytest.approx(-sums[sums < q].mean(), rel=1e-12)
    d = xv.component_var(panel, W, 0.99, 5, method="historical", measure="es", scaling="overlapping")
    assert d.total == pytest.approx(ov.es, rel=1e-12)
    assert d.component.sum() == pytest.approx(ov.es, rel=1e-12)
    fhs = xv.component_var(panel, W, 0.99, 5, method="fhs", scaling="overlapping")
    assert fhs.component.sum() == pytest.approx(fhs.total, rel=1e-12)


def test_missing_drop_equals_the_cleaned_table(panel):
    dirty = panel.copy()
    dirty[[3, 100, 500], [0, 2, 3]] = [np.nan, np.inf, -np.inf]
    keep = np.isfinite(dirty).all(axis=1)
    for method in METHODS:
        a = xv.portfolio_var(dirty, W, 0.99, method=method, missing="drop")
        b = xv.portfolio_var(panel[keep], W, 0.99, method=method)
        assert (a.var, a.es, a.n_obs) == (b.var, b.es, 797)
    with pytest.raises(XlVarError, match="returns row 4, column 1 is not a finite number"):
        xv.portfolio_var(dirty, W)


@pytest.mark.parametrize("method", ["normal", "t"])
def test_cov_input_equals_returns_input(panel, method):
    opts = {"df": 5.0} if method == "t" else {}
    a = xv.component_var(panel, W, 0.99, method=method, measure="es", **opts)
    b = xv.component_var(None, W, 0.99, method=method, measure="es", cov=np.cov(panel, rowvar=False),
                         mean=panel.mean(axis=0), **opts)
    assert b.total == pytest.approx(a.total, rel=1e-12)
    np.testing.assert_allclose(b.component, a.component, rtol=1e-10)
    zero_mean = xv.portfolio_var(None, W, 0.99, method=method, cov=np.cov(panel, rowvar=False), **opts)
    sd = np.sqrt(W @ np.cov(panel, rowvar=False) @ W)
    k = 1.0 if method == "normal" else np.sqrt(3 / 5)
    q = stats.norm.ppf(0.01) if method == "normal" else stats.t.ppf(0.01, 5)
    assert zero_mean.var == pytest.approx(-k * q * sd, rel=1e-12)


@pytest.mark.parametrize("method", ["normal", "t", "modified", "ewma"])
def test_corr_override(panel, method):
    sample = np.corrcoef(panel, rowvar=False) if method != "ewma" else None
    if sample is not None:  # overriding with the sample correlation changes nothing
        a = xv.component_var(panel, W, 0.99, method=method, measure="es")
        b = xv.component_var(panel, W, 0.99, method=method, measure="es", corr=sample)
        assert b.total == pytest.approx(a.total, rel=1e-9)
        np.testing.assert_allclose(b.component, a.component, rtol=1e-8, atol=1e-12)
    ones = np.ones((4, 4))  # perfect correlation, keeping each asset's volatility
    r = xv.portfolio_var(panel, W, 0.99, method=method, corr=ones)
    sd = np.sqrt(np.diag(np.cov(panel, rowvar=False)))
    if method == "normal":
        mean = panel.mean(axis=0) @ W
        assert r.var == pytest.approx(-mean - stats.norm.ppf(0.01) * abs(W @ sd), rel=1e-12)
    assert xv.portfolio_volatility(panel, W, corr=ones) == pytest.approx(abs(W @ sd), rel=1e-12)


def test_modified_corr_override_recolours_to_the_target(panel):
    from xl_var.moments import recolour
    target = np.full((4, 4), 0.8) + 0.2 * np.eye(4)
    x = recolour(panel, target)
    np.testing.assert_allclose(np.corrcoef(x, rowvar=False), target, atol=1e-12)
    np.testing.assert_allclose(x.std(axis=0), panel.std(axis=0), rtol=1e-12)
    np.testing.assert_allclose(x.mean(axis=0), panel.mean(axis=0), rtol=1e-12)
    a = xv.portfolio_var(panel, W, 0.99, method="modified", corr=target)
    b = xv.portfolio_var(x, W, 0.99, method="modified")
    assert (a.var, a.es) == (pytest.approx(b.var, rel=1e-12), pytest.approx(b.es, rel=1e-12))


def test_non_psd_corr_is_repaired_to_the_nearest_correlation(panel):
    bad = np.array([[1, .9, .9, -.9], [.9, 1, .9, .9], [.9, .9, 1, .9], [-.9, .9, .9, 1]])
    assert np.linalg.eigvalsh(bad)[0] < 0
    fixed = xv.nearest_correlation(bad)
    a = xv.portfolio_var(panel, W, 0.99, method="normal", corr=bad)
    b = xv.portfolio_var(panel, W, 0.99, method="normal", corr=fixed)
    assert (a.var, a.es) == (pytest.approx(b.var, rel=1e-12), pytest.approx(b.es, rel=1e-12))
    c = xv.portfolio_var(panel, W, 0.99, method="normal")
    assert abs(a.var - c.var) > 1e-3 * c.var  # the override did change the answer


@pytest.mark.parametrize(("method", "measure"), [("normal", "var"), ("modified", "es"), ("historical", "es"),
                                                 ("t", "var"), ("ewma", "es"), ("fhs", "var")])
def test_incremental_exact_and_first_order(panel, method, measure):
    trade = np.array([0.0, 0.01, 0.0, -0.005])
    inc = xv.incremental_var(panel, W, trade, 0.99, method=method, measure=measure)
    before = xv.portfolio_var(panel, W, 0.99, method=method)
    after = xv.portfolio_var(panel, W + trade, 0.99, method=method)
    pick = (lambda r: r.var) if measure == "var" else (lambda r: r.es)
    assert inc.before == pytest.approx(pick(before), rel=1e-13)
    assert inc.after == pytest.approx(pick(after), rel=1e-13)
    assert inc.exact == pytest.approx(pick(after) - pick(before), rel=1e-9, abs=1e-15)
    marg = xv.component_var(panel, W, 0.99, method=method, measure=measure).marginal
    assert inc.first_order == pytest.approx(marg @ trade, rel=1e-12)
    if method in ("normal", "modified", "ewma"):  # smooth: first order agrees to O(|trade|^2)
        assert inc.first_order == pytest.approx(inc.exact, rel=0.02)


def test_incremental_closing_every_position(panel):
    inc = xv.incremental_var(panel, W, -W, method="normal")
    assert inc.after == 0.0 and inc.exact == -inc.before
    assert inc.first_order == pytest.approx(-inc.before, rel=1e-12)  # Euler: -w·grad = -VaR


def test_portfolio_volatility(panel):
    s = np.sqrt(W @ np.cov(panel, rowvar=False) @ W)
    assert xv.portfolio_volatility(panel, W) == pytest.approx(s, rel=1e-12)
    assert xv.portfolio_volatility(panel, W, horizon=4) == pytest.approx(2 * s, rel=1e-12)
    cov = np.cov(panel, rowvar=False)
    assert xv.portfolio_volatility(None, W, cov=cov) == pytest.approx(s, rel=1e-12)
    assert xv.portfolio_volatility(panel, np.zeros(4)) == 0.0


def test_single_asset_and_scalar_weight(panel):
    r = xv.portfolio_var(panel[:, 0], 2.0, 0.99, method="normal")
    m, s = panel[:, 0].mean(), panel[:, 0].std(ddof=1)
    assert r.var == pytest.approx(2 * (-m - stats.norm.ppf(0.01) * s), rel=1e-12)
    d = xv.component_var(panel[:, :1], [1.0], method="historical")
    assert d.component[0] == pytest.approx(d.total, rel=1e-13) and d.percent[0] == pytest.approx(1.0)


BAD = [
    ({"weights": [0.5, 0.5]}, "weights has 2 entries but returns has 4 columns"),
    ({"confidence": 0.05}, "did you mean 0.95?"),
    ({"confidence": 1.2}, "confidence must be between 0 and 1"),
    ({"confidence": 95}, "did you mean 0.95?"),
    ({"horizon": 0}, "horizon must be a whole number of periods, 1 or more"),
    ({"horizon": 2.5}, "horizon must be a whole number"),
    ({"method": "monte"}, "method must be one of 'normal', 't', 'modified', 'historical', 'ewma', 'fhs'"),
    ({"missing": "skip"}, "missing must be one of 'raise', 'drop'"),
    ({"lam": 1.5}, "lam must be a decay factor between 0 and 1"),
    ({"scaling": "linear", "method": "historical"}, "scaling must be one of 'sqrt', 'overlapping'"),
    ({"scaling": "overlapping", "method": "normal"}, "scaling='overlapping' applies to the historical and fhs"),
    ({"df": 2.0, "method": "t"}, "df must be a number greater than 2"),
    ({"df": "x", "method": "t"}, "df must be a number greater than 2"),
    ({"df": 5, "method": "normal"}, "df applies only to method='t'"),
    ({"corr": np.eye(4), "method": "historical"}, "corr= applies to the parametric methods"),
    ({"corr": np.eye(4), "method": "fhs"}, "corr= applies to the parametric methods"),
    ({"corr": np.ones((4, 3)), "method": "normal"}, "corr must be square but has 4 rows and 3 columns"),
    ({"corr": np.eye(3), "method": "normal"}, "corr is 3×3 but returns has 4 columns"),
    ({"corr": [[1, .5, 0, 0], [.2, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], "method": "normal"},
     "corr is not symmetric: row 1, column 2"),
    ({"corr": [[1, 1.5, 0, 0], [1.5, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], "method": "normal"},
     "correlations must lie between -1 and 1"),
    ({"corr": 0.5 * np.eye(4), "method": "normal"}, "diagonal entry 1 is 0.5, not 1"),
    ({"cov": np.eye(4)}, "cov= and mean= replace returns"),
    ({"weights": [0.0, 0.0, 0.0, 0.0]}, "has zero variance"),
    ({"weights": [0.0, 0.0, 0.0, 0.0], "method": "normal"}, "has zero variance"),
    ({"weights": [np.nan, 0.0, 0.0, 1.0]}, "weights entry 1 is not a finite number"),
    ({"weights": [[0.1, 0.2], [0.3, 0.4]]}, "weights must be a single row or column"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD)
def test_bad_input_messages(panel, kwargs, message):
    args = {"returns": panel, "weights": W} | kwargs
    with pytest.raises(XlVarError) as e:
        xv.portfolio_var(**args)
    assert message in str(e.value)


def test_too_few_observations_per_method(panel):
    with pytest.raises(XlVarError, match="the historical method needs at least 2"):
        xv.portfolio_var(panel[:1], W, 0.99, method="historical")
    few = xv.portfolio_var(panel[:60], W, 0.99, method="historical")  # as R and PERCENTILE.INC: interpolated
    port = np.sort(panel[:60] @ W)
    assert few.var == pytest.approx(-(port[0] + 0.59 * (port[1] - port[0])), rel=1e-12)
    assert few.es == pytest.approx(-port[0], rel=1e-12)
    with pytest.raises(XlVarError, match="the fhs method needs at least 6"):
        xv.portfolio_var(panel[:5], W, 0.99, 5, method="fhs", scaling="overlapping")
    with pytest.raises(XlVarError, match="the t method needs at least 10"):
        xv.portfolio_var(panel[:9], W, 0.99, method="t")
    assert xv.portfolio_var(panel[:9], W, 0.99, method="t", df=5).n_obs == 9
    with pytest.raises(XlVarError, match="the modified method needs at least 4"):
        xv.portfolio_var(panel[:3], W, 0.99, method="modified")
    with pytest.raises(XlVarError, match="the normal method needs at least 2"):
        xv.portfolio_var(panel[:1], W, 0.99, method="normal")


def test_zero_variance_from_constant_returns_and_perfect_hedge(panel):
    const = np.tile([0.01, 0.02], (50, 1))
    with pytest.raises(XlVarError, match="zero variance"):
        xv.portfolio_var(const, [1, 1], 0.95, method="modified")
    twin = np.column_stack([panel[:, 0], panel[:, 0]])
    for method in METHODS:
        with pytest.raises(XlVarError, match="zero variance"):
            xv.component_var(twin, [1.0, -1.0], 0.99, method=method)
    with pytest.raises(XlVarError, match="portfolio of weights \\+ new_position has zero variance"):
        xv.incremental_var(twin, [1.0, 0.0], [0.0, -1.0], method="normal")


def test_cov_path_messages():
    cov = np.array([[0.04, 0.01], [0.01, 0.09]])
    cases = [
        (dict(method="historical", cov=cov), "method 'historical' works from returns"),
        (dict(method="modified", cov=cov), "method 'modified' works from returns"),
        (dict(method="normal"), "give returns (a T×N table), or returns=None with cov="),
        (dict(method="t", cov=cov), "method 't' with cov= needs df="),
        (dict(method="normal", cov=np.eye(3)), "cov is 3×3 but weights has 2 entries"),
        (dict(method="normal", cov=[[0.04, 0.02], [0.01, 0.09]]), "cov is not symmetric"),
        (dict(method="normal", cov=[[0.01, 0.05], [0.05, 0.01]]), "cov is not positive semi-definite"),
        (dict(method="normal", cov=cov, mean=[0.1, 0.2, 0.3]), "mean has 3 entries but cov is 2×2"),
        (dict(method="normal", cov=[[0.04, np.nan], [np.nan, 0.09]]), "cov row 1, column 2 is not a finite"),
    ]
    for kwargs, message in cases:
        with pytest.raises(XlVarError) as e:
            xv.portfolio_var(None, [1.0, 1.0], 0.99, **kwargs)
        assert message in str(e.value), kwargs


def test_other_function_messages(panel):
    with pytest.raises(XlVarError, match="measure must be one of 'var', 'es'"):
        xv.component_var(panel, W, measure="vol")
    with pytest.raises(XlVarError, match="new_position has 2 entries but returns has 4 columns"):
        xv.incremental_var(panel, W, [1.0, 2.0])
    with pytest.raises(XlVarError, match="method must be one of 'sample', 'ewma'"):
        xv.portfolio_volatility(panel, W, method="garch")
    with pytest.raises(XlVarError, match="returns has 4 columns"):
        xv.portfolio_volatility(panel, [1.0])
