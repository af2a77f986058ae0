"""EWMA recursion against a plain loop and the RiskMetrics closed form."""

import numpy as np

from xl_var.ewma import ewma_cov, ewma_variance_path


def test_variance_path_matches_recursion_loop():
    r = np.random.default_rng(1).standard_normal((250, 3)) * [0.01, 0.02, 0.03]
    lam = 0.94
    path = ewma_variance_path(r, lam)
    s2 = np.mean(r**2, axis=0)
    expected = [s2]
    for t in range(len(r)):
        s2 = lam * s2 + (1 - lam) * r[t] ** 2
        expected.append(s2)
    np.testing.assert_allclose(path, np.array(expected), rtol=1e-12)


def test_cov_matches_matrix_recursion_and_path():
    r = np.random.default_rng(2).standard_normal((120, 4)) * 0.01
    lam = 0.97
    sigma = r.T @ r / len(r)
    for t in range(len(r)):
        sigma = lam * sigma + (1 - lam) * np.outer(r[t], r[t])
    cov = ewma_cov(r, lam)
    np.testing.assert_allclose(cov, sigma, rtol=1e-12)
    np.testing.assert_allclose(np.diag(cov), ewma_variance_path(r, lam)[-1], rtol=1e-12)
    assert np.all(np.linalg.eigvalsh(cov) > 0)


def test_constant_returns_keep_their_second_moment():
    r = np.full((50, 2), 0.02)
    np.testing.assert_allclose(ewma_cov(r, 0.94), np.full((2, 2), 0.0004), rtol=1e-12)
