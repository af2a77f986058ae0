"""Parity with R PerformanceAnalytics' portfolio ("component") VaR/ES on real data.

The reference below re-implements PerformanceAnalytics' formulas literally and
independently of the engine: the full co-skewness M3 (N×N²) and co-kurtosis M4 (N×N³)
matrices of ``M3.MM``/``M4.MM`` contracted with Kronecker powers of w (``portm3``,
``derportm3``...), ``VaR.Gaussian.portfolio``, ``ES.Gaussian.portfolio``, the older
``VaR.CornishFisher.portfolio`` gradient (via ``derGausVaR``) and
``operES.CornishFisher.portfolio`` written with ``Ipower``/``derIpower`` (the engine
uses the closed-form polynomial of newer releases), and ``VaR.historical``/
``ES.historical`` on the constant-weight portfolio series with R's type-7 quantile
written out by sorting. Data: ../shared/data (skipped when absent).
"""

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

import xl_var as xv

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RTOL = 1e-9


def _load(name):
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    return np.genfromtxt(path, delimiter=",", skip_header=1)[:, 1:]


@pytest.fixture(scope="module")
def edhec():
    return _load("edhec.csv")


@pytest.fixture(scope="module")
def synthetic():
    return _load("synthetic_2500x50.csv")


# ---- PerformanceAnalytics, transcribed -------------------------------------------------

def M3_MM(R):  # R's names throughout this section
    c = R - R.mean(axis=0)
    T, N = c.shape
    M3 = np.zeros((N, N * N))
    for t in range(T):
        M3 += np.kron(np.outer(c[t], c[t]), c[t][None, :])
    return M3 / T


def M4_MM(R):
    c = R - R.mean(axis=0)
    T, N = c.shape
    M4 = np.zeros((N, N**3))
    for t in range(T):
        M4 += np.kron(np.kron(np.outer(c[t], c[t]), c[t][None, :]), c[t][None, :])
    return M4 / T


def Ipower(power, h):
    fullprod = 1.0
    if power % 2 == 0:
        pstar = power // 2
        for j in range(1, pstar + 1):
            fullprod *= 2 * j
        value = fullprod * norm.pdf(h)
        for i in range(1, pstar + 1):
            prod = np.prod([2.0 * j for j in range(1, i + 1)])
            value += fullprod / prod * h ** (2 * i) * norm.pdf(h)
    else:
        pstar = (power - 1) // 2
        for j in range(0, pstar + 1):
            fullprod *= 2 * j + 1
        value = -fullprod * norm.cdf(h)
        for i in range(0, pstar + 1):
            prod = np.prod([2.0 * j + 1 for j in range(0, i + 1)])
            value += fullprod / prod * h ** (2 * i + 1) * norm.pdf(h)
    return value


def derIpower(power, h):
    fullprod = 1.0
    if power % 2 == 0:
        pstar = power // 2
        for j in range(1, pstar + 1):
            fullprod *= 2 * j
        value = -fullprod * h * norm.pdf(h)
        for i in range(1, pstar + 1):
            prod = np.prod([2.0 * j for j in range(1, i + 1)])
            value += fullprod / prod * h ** (2 * i - 1) * (2 * i - h**2) * norm.pdf(h)
    else:
        pstar = (power - 1) // 2
        for j in range(0, pstar + 1):
            fullprod *= 2 * j + 1
        value = -fullprod * norm.pdf(h)
        for i in range(0, pstar + 1):
            prod = np.prod([2.0 * j + 1 for j in range(0, i + 1)])
            value += fullprod / prod * h ** (2 * i) * (2 * i + 1 - h**2) * norm.pdf(h)
    return value


class PA:
    """The moments and formulas of PortfolioRisk.R for one data set and weight vector."""

    def __init__(self, R, w, p, higher=True):
        self.alpha = 1 - p
        self.w, self.mu, self.sigma = w, R.mean(axis=0), np.cov(R, rowvar=False)
        self.pm2 = w @ self.sigma @ w
        self.dpm2 = 2 * self.sigma @ w
        if higher:
            M3, M4 = M3_MM(R), M4_MM(R)
            ww = np.kron(w, w)
            self.pm3, self.dpm3 = w @ M3 @ ww, 3 * M3 @ ww
            self.pm4, self.dpm4 = w @ M4 @ np.kron(ww, w), 4 * M4 @ np.kron(ww, w)

    def gaussian(self):
        a, w, mu, pm2, dpm2 = self.alpha, self.w, self.mu, self.pm2, self.dpm2
        var = -w @ mu - norm.ppf(a) * np.sqrt(pm2)
        der_var = -mu - norm.ppf(a) * 0.5 * dpm2 / np.sqrt(pm2)
        es = -w @ mu + norm.pdf(norm.ppf(a)) * np.sqrt(pm2) / a
        der_es = -mu + (1 / a) * norm.pdf(norm.ppf(a)) * 0.5 * dpm2 / np.sqrt(pm2)
        return var, w * der_var, es, w * der_es

    def _cf(self):
        z = norm.ppf(self.alpha)
        pm2, pm3, pm4, dpm2, dpm3, dpm4 = self.pm2, self.pm3, self.pm4, self.dpm2, self.dpm3, self.dpm4
        skew = pm3 / pm2 ** 1.5
        exkurt = pm4 / pm2**2 - 3
        derskew = (2 * pm2**1.5 * dpm3 - 3 * pm3 * np.sqrt(pm2) * dpm2) / (2 * pm2**3)
        derexkurt = (pm2 * dpm4 - 2 * pm4 * dpm2) / pm2**3
        h = z + (1 / 6) * (z**2 - 1) * skew
        h = h + (1 / 24) * (z**3 - 3 * z) * exkurt - (1 / 36) * (2 * z**3 - 5 * z) * skew**2
        return z, skew, exkurt, derskew, derexkurt, h

    def modified_var(self):
        z, skew, exkurt, derskew, derexkurt, h = self._cf()
        mu, pm2, dpm2 = self.mu, self.pm2, self.dpm2
        mvar = -self.w @ mu - h * np.sqrt(pm2)
        der_gaus = -mu - z * 0.5 * dpm2 / np.sqrt(pm2)
        der = der_gaus + (0.5 * dpm2 / np.sqrt(pm2)) * (
            -(1 / 6) * (z**2 - 1) * skew - (1 / 24) * (z**3 - 3 * z) * exkurt + (1 / 36) * (2 * z**3 - 5 * z) * skew**2)
        der = der + np.sqrt(pm2) * (-(1 / 6) * (z**2 - 1) * derskew - (1 / 24) * (z**3 - 3 * z) * derexkurt
                                    + (1 / 36) * (2 * z**3 - 5 * z) * 2 * skew * derskew)
        return mvar, self.w * der

    def modified_es(self):  # operES.CornishFisher.portfolio
        z, skew, exkurt, derskew, derexkurt, h = self._cf()
        a, mu, pm2, dpm2 = self.alpha, self.mu, self.pm2, self.dpm2
        derh = (1 / 6) * (z**2 - 1) * derskew + (1 / 24) * (z**3 - 3 * z) * derexkurt \
            - (1 / 18) * (2 * z**3 - 5 * z) * skew * derskew
        E = norm.pdf(h)
        E += (1 / 24) * (Ipower(4, h) - 6 * Ipower(2, h) + 3 * norm.pdf(h)) * exkurt
        E += (1 / 6) * (Ipower(3, h) - 3 * Ipower(1, h)) * skew
        E += (1 / 72) * (Ipower(6, h) - 15 * Ipower(4, h) + 45 * Ipower(2, h) - 15 * norm.pdf(h)) * skew**2
        E = E / a
        mes = -self.w @ mu - np.sqrt(pm2) * min(-E, h)
        if -E <= h:
            der = -mu + 0.5 * (dpm2 / np.sqrt(pm2)) * E
            derE = (1 / 24) * (Ipower(4, h) - 6 * Ipower(2, h) + 3 * norm.pdf(h)) * derexkurt
            derE += (1 / 6) * (Ipower(3, h) - 3 * Ipower(1, h)) * derskew
            derE += (1 / 36) * (Ipower(6, h) - 15 * Ipower(4, h) + 45 * Ipower(2, h)
                                - 15 * norm.pdf(h)) * skew * derskew
            X = -h * norm.pdf(h) + (1 / 24) * (derIpower(4, h) - 6 * derIpower(2, h) - 3 * h * norm.pdf(h)) * exkurt
            X += (1 / 6) * (derIpower(3, h) - 3 * derIpower(1, h)) * skew
            X += (1 / 72) * (derIpower(6, h) - 15 * derIpower(4, h) + 45 * derIpower(2, h)
                             + 15 * h * norm.pdf(h)) * skew**2
            derE = (derE + derh * X) / a
            der = der + np.sqrt(pm2) * derE
        else:
            der = -mu - 0.5 * (dpm2 / np.sqrt(pm2)) * h - np.sqrt(pm2) * derh
        return mes, self.w * der


def r_quantile7(x, p):
    s = np.sort(x)
    h = (len(s) - 1) * p
    j = int(np.floor(h))
    return s[j] + (h - j) * (s[min(j + 1, len(s) - 1)] - s[j])


def pa_historical(R, w, p):
    port = np.array([np.sum(w * row) for row in R])  # Return.portfolio, rebalanced every period
    q = r_quantile7(port, 1 - p)
    return -q, -np.mean(port[port < q])


# ---- the tests -----------------------------------------------------------------------

def test_pinned_value_equal_weights_first_four_edhec(edhec):
    r = xv.portfolio_var(edhec[:, :4], np.full(4, 0.25), confidence=0.95, method="normal")
    # the published value has 9 significant digits; agree with every one of them
    assert r.var == pytest.approx(0.0212497541, rel=0, abs=5e-11)
    assert round(r.var, 10) == 0.0212497541
    ref = PA(edhec[:, :4], np.full(4, 0.25), 0.95, higher=False).gaussian()[0]
    assert r.var == pytest.approx(ref, rel=RTOL)


def _weights(n):
    rng = np.random.default_rng(2008)
    return [np.full(n, 1 / n), rng.dirichlet(np.ones(n)), rng.normal(0.1, 0.3, n)]  # last has shorts


def _check(dec, total, contrib):
    assert dec.total == pytest.approx(total, rel=RTOL)
    np.testing.assert_allclose(dec.component, contrib, rtol=RTOL, atol=RTOL * abs(total))
    np.testing.assert_allclose(dec.percent, contrib / total, rtol=RTOL, atol=RTOL)


@pytest.mark.parametrize("p", [0.95, 0.99])
@pytest.mark.parametrize("k", [0, 1, 2])
def test_normal_and_modified_components_match(edhec, p, k):
    w = _weights(edhec.shape[1])[k]
    pa = PA(edhec, w, p)
    var, cvar, es, ces = pa.gaussian()
    _check(xv.component_var(edhec, w, p, method="gaussian"), var, cvar)
    _check(xv.component_var(edhec, w, p, method="normal", measure="es"), es, ces)
    mvar, cmvar = pa.modified_var()
    mes, cmes = pa.modified_es()
    _check(xv.component_var(edhec, w, p, method="modified"), mvar, cmvar)
    _check(xv.component_var(edhec, w, p, method="Cornish-Fisher", measure="ES"), mes, cmes)
    single = xv.portfolio_var(edhec, w, p, method="modified")
    assert (single.var, single.es) == (pytest.approx(mvar, rel=RTOL), pytest.approx(mes, rel=RTOL))


def test_modified_es_floor_branch_matches(edhec):
    # Convertible and Fixed Income Arbitrage (skew < -2.5, excess kurtosis > 18) at 99%:
    # the Cornish-Fisher ES falls below mVaR, so PerformanceAnalytics' operational floor is active
    x = edhec[:, [0, 6]]
    w = np.array([0.6, 0.4])
    pa = PA(x, w, 0.99)
    _, _, _, _, _, h = pa._cf()
    mes, cmes = pa.modified_es()
    mvar, _ = pa.modified_var()
    assert mes == pytest.approx(mvar, rel=1e-14), f"floor not active (h={h})"
    _check(xv.component_var(x, w, 0.99, method="modified", measure="es"), mes, cmes)


@pytest.mark.parametrize("p", [0.9, 0.95, 0.99])
def test_historical_var_es_of_constant_weight_series(edhec, p):
    for w in _weights(edhec.shape[1]):
        var, es = pa_historical(edhec, w, p)
        r = xv.portfolio_var(edhec, w, p, method="historical")
        assert (r.var, r.es) == (pytest.approx(var, rel=RTOL), pytest.approx(es, rel=RTOL))


def test_synthetic_panel_normal_historical_and_modified(synthetic):
    w = _weights(synthetic.shape[1])[2]
    pa = PA(synthetic, w, 0.99, higher=False)
    var, cvar, es, ces = pa.gaussian()
    _check(xv.component_var(synthetic, w, 0.99, method="normal"), var, cvar)
    _check(xv.component_var(synthetic, w, 0.99, method="normal", measure="es"), es, ces)
    hvar, hes = pa_historical(synthetic, w, 0.99)
    r = xv.portfolio_var(synthetic, w, 0.99, method="historical")
    assert (r.var, r.es) == (pytest.approx(hvar, rel=RTOL), pytest.approx(hes, rel=RTOL))
    sub, ws = synthetic[:, :12], w[:12]  # the full M4 of 50 assets would be 50×125000
    pa = PA(sub, ws, 0.99)
    _check(xv.component_var(sub, ws, 0.99, method="modified"), *pa.modified_var())
    _check(xv.component_var(sub, ws, 0.99, method="modified", measure="es"), *pa.modified_es())
