"""Monte Carlo on a Dask cluster: bit-identical to the local run with the same seed."""

import numpy as np
import pytest

import xl_var as xv

distributed = pytest.importorskip("distributed")

@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(2)
    return rng.standard_t(4, size=(400, 6)) * 0.01, np.array([0.2, 0.2, 0.1, 0.3, -0.1, 0.3])


@pytest.mark.parametrize("model", ["t", "t-copula", "fhs"])
def test_cluster_run_is_bit_identical_to_local(client, panel, model, assert_same_mc):
    x, w = panel
    kw = dict(model=model, confidence=(0.95, 0.99), seed=17, chunk_size=1024)
    local = xv.monte_carlo(x, w, 60_000, workers=2, **kw)
    remote = xv.monte_carlo(x, w, 60_000, scheduler=client, **kw)
    assert_same_mc(remote, local)
    assert remote.scenarios == local.scenarios == 60_000


def test_cluster_convergence_run_and_progress(client, panel, monkeypatch):
    x, w = panel
    seen, scattered = [], []
    scatter = client.scatter
    monkeypatch.setattr(client, "scatter", lambda data, **kw: scattered.append(data) or scatter(data, **kw))
    kw = dict(model="normal", confidence=0.99, seed=4, chunk_size=1024, target_rse=0.02)
    remote = xv.monte_carlo(x, w, 4096, scheduler=client, progress=lambda d, t: seen.append((d, t)), **kw)
    local = xv.monte_carlo(x, w, 4096, **kw)
    np.testing.assert_array_equal(remote.var, local.var)
    assert remote.scenarios == local.scenarios and remote.converged
    assert seen[-1] == (remote.scenarios, remote.scenarios)
    assert remote.scenarios > 2 * 4096  # several rounds ran ...
    assert len(scattered) == 1  # ... on the model sent to the cluster once


def test_local_scheduler_string_and_bad_scheduler(panel):
    x, w = panel
    a = xv.monte_carlo(x, w, 20_000, model="bootstrap", seed=1, scheduler="local", workers=2)
    b = xv.monte_carlo(x, w, 20_000, model="bootstrap", seed=1)
    np.testing.assert_array_equal(a.component_es, b.component_es)
    with pytest.raises(xv.XlVarError, match="scheduler must be"):
        xv.monte_carlo(x, w, 20_000, scheduler=42)
    with pytest.raises(xv.XlVarError, match=r"scheduler 'bogus': cannot connect .*check the address"):
        xv.monte_carlo(x, w, 20_000, scheduler="bogus")  # distributed: ValueError "missing port number"
