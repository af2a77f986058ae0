"""Monte Carlo runs: reproducibility, decomposition, histogram, progress, cancel, convergence, bad input."""

import re
import threading
import time
import tracemalloc

import numpy as np
import pytest

import xl_var as xv
from xl_var.historical import component_es_scenarios, component_var_scenarios, kernel_bandwidth
from xl_var.montecarlo import runner

MODELS = ["normal", "t", "t-copula", "bootstrap", "fhs"]


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(11)
    x = 0.5 * rng.standard_t(3, size=(500, 1)) + rng.standard_t(5, size=(500, 5))
    return x * 0.01, np.array([0.3, -0.1, 0.25, 0.2, 0.35])


@pytest.mark.parametrize("model", MODELS)
def test_one_and_two_workers_bit_identical_and_components_add_up(panel, model, assert_same_mc):
    x, w = panel
    a = xv.monte_carlo(x, w, 50_000, model=model, confidence=(0.95, 0.99), horizon=2, seed=21, workers=1,
                       chunk_size=2048)
    b = xv.monte_carlo(x, w, 50_000, model=model, confidence=(0.95, 0.99), horizon=2, seed=21, workers=2,
                       chunk_size=2048)
    assert_same_mc(a, b)
    assert a.component_var.sum() == pytest.approx(a.var[1], rel=1e-12)
    assert a.component_es.sum() == pytest.approx(a.es[1], rel=1e-12)
    assert a.scenarios == 50_000 and a.hist_counts.sum() == 50_000
    assert np.all(a.es >= a.var) and a.var[1] > a.var[0]


def test_same_seed_identical_other_seed_different(panel, assert_same_mc):
    x, w = panel
    a, b, c = (xv.monte_carlo(x, w, 20_000, model="t", seed=s, workers=2) for s in (5, 5, 6))
    assert_same_mc(a, b)
    assert not np.array_equal(a.var, c.var)
    assert a.seed == 5 and a.model == "t" and a.confidence == (0.95, 0.99)


def test_seed_none_reports_a_seed_that_reproduces_the_run(panel, assert_same_mc):
    x, w = panel
    a = xv.monte_carlo(x, w, 20_000, model="normal", seed=None)
    b = xv.monte_carlo(x, w, 20_000, model="normal", seed=a.seed)
    assert_same_mc(a, b)
    assert 0 <= a.seed < 2**53 and float(a.seed) == a.seed  # survives a spreadsheet cell or JSON


def test_matches_independent_recomputation_from_the_documented_seeding():
    # normal model: chunk k draws float32 normals (rows × N) from SFC64(SeedSequence(seed, spawn_key=(k,)))
    cov = np.array([[1.0, 0.3], [0.3, 2.0]]) * 1e-4
    mean = np.array([1e-4, -2e-4])
    w = np.array([0.6, 0.4])
    s, chunk, seed = 30_000, 4096, 99
    r = xv.monte_carlo(None, w, s, model="normal", confidence=(0.9, 0.99), cov=cov, mean=mean, seed=seed,
                       chunk_size=chunk)
    a = np.linalg.cholesky(cov)
    z = np.vstack([
        np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(k,)))).standard_normal(
            (min(chunk, s - k * chunk), 2), dtype=np.float32)
        for k in range(-(-s // chunk))
    ]).astype(np.float64)
    pos = -(mean + z @ a.T) * w
    loss = pos.sum(axis=1)
    for i, c in enumerate((0.9, 0.99)):
        var = np.quantile(loss, c)
        assert r.var[i] == pytest.approx(var, rel=1e-6)
        assert r.es[i] == pytest.approx(loss[loss > var].mean(), rel=1e-6)
    var = np.quantile(loss, 0.99)
    np.testing.assert_allclose(r.component_es, component_es_scenarios(loss, pos, var), rtol=1e-5)
    bw = kernel_bandwidth(loss.std(ddof=1), s)
    np.testing.assert_allclose(r.component_var, component_var_scenarios(loss, pos, var, bandwidth=bw), rtol=1e-4)
    # histogram: the documented edges (expected loss ± 6 sd) and the counts of all scenarios
    sd = np.sqrt(w @ cov @ w)
    np.testing.assert_allclose(r.hist_edges[[0, -1]], -mean @ w + np.array([-6, 6]) * sd)
    counts = np.histogram(np.clip(loss, r.hist_edges[0], r.hist_edges[-1]), bins=r.hist_edges)[0]
    assert np.abs(r.hist_counts - counts).sum() <= 4  # float32 losses may sit on the other side of an edge


def test_memory_stays_bounded():
    # 2,000,000 scenarios × 20 assets would be 160 MB as float32; only the tail is kept
    cov = np.eye(20) * 1e-4
    tracemalloc.start()
    tracemalloc.reset_peak()
    r = xv.monte_carlo(None, np.full(20, 0.05), 2_000_000, model="normal", confidence=0.99, cov=cov, workers=2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert r.scenarios == 2_000_000
    assert peak < 40 * 2**20, peak


def test_progress_reports_from_zero_to_total_in_the_calling_thread(panel):
    x, w = panel
    calls = []
    caller = threading.get_ident()
    r = xv.monte_carlo(x, w, 300_000, model="t", workers=2, chunk_size=4096,
                       progress=lambda d, t: calls.append((d, t, threading.get_ident())))
    assert calls[0][:2] == (0, 300_000) and calls[-1][:2] == (300_000, 300_000)
    done = [c[0] for c in calls]
    assert done == sorted(done)
    assert {c[2] for c in calls} == {caller}
    assert r.scenarios == 300_000


def test_progress_is_throttled_but_due_every_quarter_second(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(runner.time, "monotonic", lambda: clock[0])
    seen = []
    mon = runner.Monitor(lambda d, t: seen.append(d), None, 10)
    mon.tick(0)
    clock[0] += 0.1
    mon.tick(1)  # too soon
    clock[0] += 0.2
    mon.tick(2)  # 0.3 s after the last call: due
    mon.tick(3, force=True)
    assert seen == [0, 2, 3]
    assert runner.PROGRESS_EVERY <= 0.5 and runner.POLL <= 0.5


def test_cancel_before_start_and_during_a_run(panel):
    x, w = panel
    ev = threading.Event()
    ev.set()
    with pytest.raises(xv.Cancelled):
        xv.monte_carlo(x, w, 100_000, model="normal", cancel=ev)
    # during: a run that would take far longer than the check interval stops soon after the event
    ev = threading.Event()
    state = {}

    def progress(done, total):
        if done > 0 and "set" not in state:
            state["set"] = time.perf_counter()
            ev.set()
        state["last"] = done

    with pytest.raises(xv.Cancelled, match="cancelled"):
        xv.monte_carlo(x, w, 500_000_000, model="t-copula", workers=2, progress=progress, cancel=ev)
    stopped = time.perf_counter() - state["set"]
    assert state["last"] < 500_000_000
    assert stopped < 2.0, stopped  # design: ≤ 0.1 s poll + one chunk (~10 ms); slack for a loaded CI box


def test_cancel_reaches_into_the_copula_fit(panel, monkeypatch):
    from xl_var.montecarlo import marginals

    evaluations = []
    real = marginals._profile
    monkeypatch.setattr(marginals, "_profile", lambda *a: evaluations.append(1) or real(*a))
    x, w = panel
    ev = threading.Event()
    with pytest.raises(xv.Cancelled):
        xv.monte_carlo(x, w, 100_000, model="t-copula", cancel=ev, progress=lambda d, t: ev.set())
    assert evaluations == []  # stopped before the first likelihood evaluation
    xv.monte_carlo(x, w, 10_000, model="t-copula")
    assert len(evaluations) > 5  # the fit does evaluate the likelihood when not cancelled


def test_convergence_mode_stops_at_target_and_is_reproducible(panel, assert_same_mc):
    x, w = panel
    kw = dict(model="normal", confidence=(0.95, 0.99), target_rse=0.01, chunk_size=2048, seed=3)
    a = xv.monte_carlo(x, w, 4096, workers=1, **kw)
    b = xv.monte_carlo(x, w, 4096, workers=2, **kw)
    assert_same_mc(a, b)
    assert a.scenarios == b.scenarios
    assert a.converged is True
    assert a.var_se[1] / a.var[1] <= 0.01
    assert a.scenarios > 4096 and a.scenarios % 2048 == 0
    capped = xv.monte_carlo(x, w, 4096, max_scenarios=10_000, **kw)
    assert capped.converged is False and capped.scenarios == 10_000
    assert xv.monte_carlo(x, w, 4096, model="normal").converged is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "garch"}, "model must be one of 'normal', 't', 't-copula', 'bootstrap', 'fhs'"),
        ({"confidence": 0.05}, "did you mean 0.95"),
        ({"confidence": []}, "confidence is empty"),
        ({"horizon": 0}, "horizon"),
        ({"scenarios": 500, "confidence": 0.99}, "scenarios must be at least 1,000"),
        ({"scenarios": 2.5}, "scenarios must be"),
        ({"workers": 0}, "workers"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"df": 2.0, "model": "t"}, "df must be"),
        ({"df": 5.0, "model": "bootstrap"}, "df applies to models"),
        ({"sobol": True, "model": "t-copula"}, "sobol=True is available"),
        ({"sobol": True, "model": "normal", "chunk_size": 3000}, "power of two"),
        ({"progress": 3}, "progress must be"),
        ({"cancel": object()}, "cancel must have an is_set"),
        ({"target_rse": 0}, "target_rse"),
        ({"max_scenarios": 10**6}, "pass target_rse too"),
        ({"target_rse": 0.01, "max_scenarios": 100}, "max_scenarios"),
        ({"lam": 1.5, "model": "fhs"}, "lam"),
        ({"bins": 0}, "bins"),
        ({"mean": [0, 0, 0, 0, 0]}, "cov= and mean= replace returns"),
    ],
)
def test_bad_inputs_name_the_argument(panel, kwargs, match):
    x, w = panel
    args = {"scenarios": 10_000, **kwargs}
    with pytest.raises(xv.XlVarError, match=match):
        xv.monte_carlo(x, w, **args)


def test_bad_data_inputs(panel):
    x, w = panel
    with pytest.raises(xv.XlVarError, match="weights has 3 entries"):
        xv.monte_carlo(x, w[:3], 10_000)
    bad = x.copy()
    bad[4, 2] = np.nan
    with pytest.raises(xv.XlVarError, match="row 5, column 3"):
        xv.monte_carlo(bad, w, 10_000)
    assert xv.monte_carlo(bad, w, 10_000, missing="drop", model="bootstrap").scenarios == 10_000
    with pytest.raises(xv.XlVarError, match=r"give returns \(a T×N table\), or returns=None with cov="):
        xv.monte_carlo(None, w, 10_000, model="normal")
    with pytest.raises(xv.XlVarError, match="model 'bootstrap' works from returns"):
        xv.monte_carlo(None, w, 10_000, model="bootstrap", cov=np.eye(5))
    with pytest.raises(xv.XlVarError, match="cov= and mean= replace returns"):
        xv.monte_carlo(x, w, 10_000, model="normal", cov=np.eye(5))
    with pytest.raises(xv.XlVarError, match="needs df="):
        xv.monte_carlo(None, w, 10_000, model="t", cov=np.eye(5))
    with pytest.raises(xv.XlVarError, match="cov is 4×4 but weights has 5 entries"):
        xv.monte_carlo(None, w, 10_000, model="normal", cov=np.eye(4))
    with pytest.raises(xv.XlVarError, match="cov is not symmetric: row 1, column 2"):
        xv.monte_carlo(None, w, 10_000, model="normal", cov=np.eye(5) + np.triu(np.ones((5, 5)), 1) * 0.1)
    with pytest.raises(xv.XlVarError, match="positive semi-definite"):
        xv.monte_carlo(None, w, 10_000, model="normal", cov=np.eye(5) - 0.5)
    with pytest.raises(xv.XlVarError, match="has zero variance"):
        xv.monte_carlo(x, np.zeros(5), 10_000, model="normal")
    with pytest.raises(xv.XlVarError, match="usable rows"):
        xv.monte_carlo(x[:3], w, 10_000, model="bootstrap", horizon=5)


@pytest.mark.parametrize("model", ["t", "t-copula"])
def test_zero_variance_is_refused_before_the_model_is_fitted(panel, model):
    x, _ = panel
    # constant returns: fitting the t's df (or the copula) to them would fail inside scipy
    with pytest.raises(xv.XlVarError, match=f"model '{model}' has zero variance"):
        xv.monte_carlo(np.zeros((100, 3)), np.ones(3), 10_000, model=model)
    with pytest.raises(xv.XlVarError, match=f"model '{model}' has zero variance"):
        xv.monte_carlo(x, np.zeros(5), 10_000, model=model)
    if model == "t":  # cov= is for normal and t only
        with pytest.raises(xv.XlVarError, match="model 't' has zero variance"):
            xv.monte_carlo(None, np.ones(2), 10_000, model=model, cov=np.zeros((2, 2)), df=5)


def test_zero_variance_of_the_fitted_model_is_refused_too():
    # alternating ±1% rows: the returns vary, but every overlapping 2-period sum the copula fits is 0
    alt = np.tile([[0.01], [-0.01]], (50, 3))
    with pytest.raises(xv.XlVarError, match="model 't-copula' has zero variance"):
        xv.monte_carlo(alt, np.ones(3), 10_000, model="t-copula", horizon=2)


def test_df_message_names_the_models_it_applies_to(panel):
    x, w = panel
    with pytest.raises(xv.XlVarError, match=r"df applies to models 't' and 't-copula' \(got model='normal'\)"):
        xv.monte_carlo(x, w, 10_000, model="normal", df=5)
    assert xv.monte_carlo(x, w, 10_000, model="t-copula", df=5).df == 5


@pytest.mark.parametrize("arg", ["scenarios", "max_scenarios"])
def test_a_count_whose_kept_tail_would_not_fit_in_memory_is_refused(panel, arg):
    x, w = panel
    kw = {"scenarios": 10_000, "target_rse": 0.01} if arg == "max_scenarios" else {}
    with pytest.raises(xv.XlVarError, match=rf"{arg} \(1,000,000,000,000,000\) would keep about [\d,.]+ GiB") as e:
        xv.monte_carlo(x, w, **{"scenarios": 10**15, **kw, arg: 10**15})  # was: ran until out of memory
    found = re.search(rf"4 GiB limit: give at most ([\d,]+) {arg}", str(e.value))
    assert found, str(e.value)
    most = int(found.group(1).replace(",", ""))
    # independent size: 1.5 × (8-byte losses beyond the 95% VaR + rows beyond the 99% VaR of a float64 loss,
    # an int64 index and N + 1 = 6 float32), before the kernel window's extra rows (at most ~30% more rows)
    plain = 4 * 2**30 / (1.5 * (8 * 0.05 + (16 + 4 * 6) * 0.01))
    assert 0.7 * plain < most <= plain
    ev = threading.Event()
    ev.set()  # the suggested count passes every check: the run starts and is cancelled before its first chunk
    with pytest.raises(xv.Cancelled):
        xv.monte_carlo(x, w, **{"scenarios": most, **kw, arg: most}, cancel=ev)
