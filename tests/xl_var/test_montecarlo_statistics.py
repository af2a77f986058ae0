"""Monte Carlo statistics: closed forms over many seeds, standard errors, the bounded tail."""

import math
import pickle

import numpy as np
import pytest
from scipy import stats

import xl_var as xv
from xl_var.historical import empirical_var_es
from xl_var.montecarlo.tail import Z95, TailKeeper, tail_size, tail_statistics

COV = np.array([[4.0, 1.2, -0.6], [1.2, 9.0, 1.5], [-0.6, 1.5, 1.0]]) * 1e-4
MEAN = np.array([5e-4, -2e-4, 1e-4])
W = np.array([0.5, 0.3, 0.4])
CONF = (0.95, 0.99)


def normal_closed_form(c, horizon=1):
    mu, sd = horizon * MEAN @ W, math.sqrt(horizon * W @ COV @ W)
    z = stats.norm.ppf(c)
    return -mu + sd * z, -mu + sd * stats.norm.pdf(z) / (1 - c)


def t_closed_form(c, df):
    mu, sd = MEAN @ W, math.sqrt(W @ COV @ W)
    scale = sd * math.sqrt((df - 2) / df)
    q = stats.t.ppf(c, df)
    es = scale * stats.t.pdf(q, df) / (1 - c) * (df + q * q) / (df - 1)
    return -mu + scale * q, -mu + es


@pytest.fixture(scope="module")
def normal_runs():
    return [xv.monte_carlo(None, W, 40_000, model="normal", confidence=CONF, seed=s, cov=COV, mean=MEAN,
                           workers=1, chunk_size=4096) for s in range(40)]


@pytest.mark.parametrize("i", [0, 1])
@pytest.mark.parametrize("measure", ["var", "es"])
def test_normal_within_standard_errors_of_closed_form(normal_runs, i, measure):
    exact = normal_closed_form(CONF[i])[0 if measure == "var" else 1]
    est = np.array([getattr(r, measure)[i] for r in normal_runs])
    se = np.array([getattr(r, f"{measure}_se")[i] for r in normal_runs])
    z = (est - exact) / se
    assert np.all(np.abs(z) < 3.0), z
    # pooled over 40 independent seeds the mean error must be within 3 standard errors of the mean
    assert abs(est.mean() - exact) < 3.0 * se.mean() / math.sqrt(len(est))


@pytest.mark.parametrize("i", [0, 1])
@pytest.mark.parametrize("measure", ["var", "es"])
def test_reported_standard_errors_match_spread_across_seeds(normal_runs, i, measure):
    est = np.array([getattr(r, measure)[i] for r in normal_runs])
    se = np.array([getattr(r, f"{measure}_se")[i] for r in normal_runs])
    ratio = est.std(ddof=1) / se.mean()
    # the sample sd of 40 draws is within ±35% of the truth with probability > 99.5%
    assert 0.65 < ratio < 1.35, ratio


def test_intervals_cover_the_closed_form_about_95_percent(normal_runs):
    inside = []
    for i, c in enumerate(CONF):
        var, es = normal_closed_form(c)
        for r in normal_runs:
            inside.append(r.var_ci[i, 0] <= var <= r.var_ci[i, 1])
            inside.append(r.es_ci[i, 0] <= es <= r.es_ci[i, 1])
            assert r.var_ci[i, 0] < r.var[i] < r.var_ci[i, 1]
            assert r.es_ci[i, 1] - r.es_ci[i, 0] == pytest.approx(2 * Z95 * r.es_se[i])
    assert 0.88 <= np.mean(inside) <= 1.0


def test_student_t_closed_form_with_given_df():
    df = 4.0
    runs = [xv.monte_carlo(None, W, 60_000, model="t", confidence=CONF, seed=s, cov=COV, mean=MEAN, df=df,
                           workers=2) for s in range(8)]
    for i, c in enumerate(CONF):
        var, es = t_closed_form(c, df)
        v = np.array([r.var[i] for r in runs])
        e = np.array([r.es[i] for r in runs])
        assert np.all(np.abs(v - var) < 3.0 * np.array([r.var_se[i] for r in runs]))
        assert np.all(np.abs(e - es) < 3.0 * np.array([r.es_se[i] for r in runs]))
        assert runs[0].df == df


def test_horizon_scales_mean_by_h_and_covariance_by_h():
    r = xv.monte_carlo(None, W, 200_000, model="normal", confidence=0.99, horizon=10, cov=COV, mean=MEAN, seed=3)
    var, es = normal_closed_form(0.99, horizon=10)
    assert abs(r.var[0] - var) < 3 * r.var_se[0]
    assert abs(r.es[0] - es) < 3 * r.es_se[0]


def test_sobol_draws_are_consistent_with_closed_form():
    for model, kw, exact in [("normal", {}, normal_closed_form(0.99)), ("t", {"df": 5.0}, t_closed_form(0.99, 5.0))]:
        r = xv.monte_carlo(None, W, 2**16, model=model, confidence=0.99, cov=COV, mean=MEAN, sobol=True,
                           chunk_size=8192, seed=11, **kw)
        assert r.sobol
        assert abs(r.var[0] - exact[0]) < 3 * r.var_se[0]
        assert abs(r.es[0] - exact[1]) < 3 * r.es_se[0]


# --- the statistics read from the kept tail equal full-sample computations -------------------------

@pytest.mark.parametrize("c", [0.9, 0.95, 0.99, 0.999])
@pytest.mark.parametrize("n", [3000, 12_345])
def test_tail_statistics_match_full_sample(c, n):
    rng = np.random.default_rng(n)
    losses = rng.standard_t(3, n)
    top = np.sort(losses)[::-1][: tail_size(n, c)]
    st = tail_statistics(top, n, c)
    var, es = empirical_var_es(losses, c)  # the historical method's convention
    assert st.var == pytest.approx(var, rel=1e-12, abs=1e-15)
    assert st.es == pytest.approx(es, rel=1e-12)
    # order-statistic interval: ranks n c ∓ 1.96 sqrt(n c (1-c)), written out independently
    srt = np.sort(losses)
    half = 1.959963984540054 * math.sqrt(n * c * (1 - c))
    lo, hi = srt[math.floor(n * c - half) - 1], srt[min(math.ceil(n * c + half), n) - 1]
    assert st.var_ci == (lo, hi)
    tail = losses[losses > var]
    se = math.sqrt((tail.var(ddof=1) + c * (es - var) ** 2) / (n * (1 - c)))
    assert st.es_se == pytest.approx(se, rel=1e-12)


def test_tail_statistics_refuses_too_short_a_tail():
    with pytest.raises(ValueError, match="largest losses"):
        tail_statistics(np.arange(5.0)[::-1], 1000, 0.99)


def test_tail_keeper_is_order_free_and_bounded():
    rng = np.random.default_rng(5)
    loss = np.round(rng.standard_normal(50_000), 2)  # many ties
    index = np.arange(loss.size)
    payload = np.stack([index, index * 2], axis=1)
    expected = np.lexsort((index, -loss))[:3000]
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(loss.size)
        keep_rows, keep_loss = TailKeeper(3000, with_rows=True), TailKeeper(3000)
        for part in np.array_split(order, 37):
            keep_rows.add(loss[part], index[part], payload[part])
            keep_loss.add(loss[part])
            assert len(keep_rows) <= 1.5 * 3000 + 1024 + part.size
        top, idx, stored = keep_rows.ranked()
        np.testing.assert_array_equal(idx, expected)
        np.testing.assert_array_equal(top, loss[expected])
        np.testing.assert_array_equal(keep_rows.payload(stored)[:, 1], 2 * expected)
        np.testing.assert_array_equal(keep_loss.top_losses(), loss[expected])
        merged = TailKeeper(3000, with_rows=True)
        merged.merge(pickle.loads(pickle.dumps(keep_rows)))  # as a Dask task's result arrives
        np.testing.assert_array_equal(merged.ranked()[1], expected)
        assert keep_rows.threshold <= top[-1]
