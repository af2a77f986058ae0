r"""Parametric VaR and ES with analytic gradients: normal, Student-t, Cornish–Fisher.

Each function maps :class:`~xl_var.moments.PortfolioMoments` of the one-period
portfolio return to a :class:`Risk`: VaR and ES as positive losses and, when the
moments carry gradients, their derivatives in the weights. All three measures are
homogeneous of degree one in the weights, so :math:`w^\top\nabla\mathrm{VaR} =
\mathrm{VaR}` (Euler) and ``w * grad`` are the component contributions.

Notation: :math:`\alpha = 1 - c` is the tail probability, :math:`z = \Phi^{-1}(\alpha)`
(negative), :math:`m_1` the portfolio mean and :math:`\sigma = \sqrt{m_2}` its
standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from xl_var._typing import FloatArray
from xl_var.moments import PortfolioMoments

__all__ = ["DF_BOUNDS", "Risk", "cornish_fisher_risk", "fit_t_df", "normal_risk", "student_t_risk"]


#: Range searched by :func:`fit_t_df` for the degrees of freedom.
DF_BOUNDS = (2.05, 1000.0)


@dataclass(frozen=True)
class Risk:
    """VaR and ES (positive losses) with optional gradients in the weights."""

    var: float
    es: float
    grad_var: FloatArray | None = None
    grad_es: FloatArray | None = None

    def scaled(self, factor: float) -> Risk:
        """All four quantities multiplied by ``factor`` (e.g. √h for a horizon of h periods)."""
        if factor == 1.0:
            return self
        return Risk(self.var * factor, self.es * factor,
                    None if self.grad_var is None else self.grad_var * factor,
                    None if self.grad_es is None else self.grad_es * factor)


def _location_scale(m: PortfolioMoments, var_k: float, es_k: float) -> Risk:
    """VaR = -m1 - var_k·σ, ES = -m1 + es_k·σ, with gradients from ∇m1 and ∇σ."""
    risk = Risk(-m.mean - var_k * m.sd, -m.mean + es_k * m.sd)
    if m.grad_sd is None or m.grad_mean is None:
        return risk
    return Risk(risk.var, risk.es, -m.grad_mean - var_k * m.grad_sd, -m.grad_mean + es_k * m.grad_sd)


def normal_risk(m: PortfolioMoments, confidence: float) -> Risk:
    r"""Delta-normal VaR and ES.

    .. math::

        \mathrm{VaR} = -m_1 - z\,\sigma, \qquad
        \mathrm{ES} = -m_1 + \sigma\,\frac{\varphi(z)}{\alpha},

        \nabla\mathrm{VaR} = -\mu - z\,\frac{\Sigma w}{\sigma}, \qquad
        \nabla\mathrm{ES} = -\mu + \frac{\varphi(z)}{\alpha}\,\frac{\Sigma w}{\sigma}.

    Parameters
    ----------
    m : PortfolioMoments
        Mean and variance (with gradients for a decomposition).
    confidence : float
        Confidence level :math:`c`.

    Returns
    -------
    Risk

    References
    ----------
    Jorion, P. (2007), *Value at Risk*, 3rd ed., McGraw-Hill, ch. 7; PerformanceAnalytics
    ``VaR.Gaussian.portfolio``/``ES.Gaussian.portfolio``.
    """
    from scipy import stats  # on first use: importing scipy.stats costs ~0.5 s

    alpha = 1.0 - confidence
    z = float(special.ndtri(alpha))
    return _location_scale(m, z, float(stats.norm.pdf(z)) / alpha)


def student_t_risk(m: PortfolioMoments, confidence: float, df: float) -> Risk:
    r"""VaR and ES under a Student-t scaled to unit variance.

    With :math:`k = \sqrt{(\nu-2)/\nu}` and :math:`t_\alpha = F_\nu^{-1}(\alpha)`, the
    unit-variance t has quantile :math:`k\,t_\alpha`, and

    .. math::

        \mathrm{VaR} = -m_1 - k\,t_\alpha\,\sigma, \qquad
        \mathrm{ES} = -m_1 + \sigma\,k\,\frac{f_\nu(t_\alpha)}{\alpha}\,
        \frac{\nu + t_\alpha^2}{\nu - 1}.

    The gradient holds :math:`\nu` fixed (for a fitted :math:`\nu` this ignores
    :math:`\partial\nu/\partial w`; the Euler sum is still exact because :math:`\nu`
    fitted to the standardised series does not change when :math:`w` is scaled).

    Parameters
    ----------
    m : PortfolioMoments
    confidence : float
    df : float
        Degrees of freedom :math:`\nu > 2`.

    Returns
    -------
    Risk

    References
    ----------
    McNeil, A. J., Frey, R. and Embrechts, P. (2015), *Quantitative Risk Management*,
    revised ed., Princeton, Example 2.15 (ES of the Student-t).
    """
    from scipy import stats  # on first use

    alpha = 1.0 - confidence
    k = float(np.sqrt((df - 2.0) / df))
    t_a = float(stats.t.ppf(alpha, df))
    es_k = k * float(stats.t.pdf(t_a, df)) / alpha * (df + t_a * t_a) / (df - 1.0)
    return _location_scale(m, k * t_a, es_k)


def fit_t_df(series: FloatArray) -> float:
    r"""Maximum-likelihood degrees of freedom of a unit-variance Student-t.

    The series is standardised with its sample mean and standard deviation (divisor
    n−1), :math:`z_t = (y_t - \bar y)/s`, and :math:`\nu` maximises

    .. math::

        \ell(\nu) = n\Big[\ln\Gamma\big(\tfrac{\nu+1}{2}\big) - \ln\Gamma\big(\tfrac{\nu}{2}\big)
        - \tfrac12\ln\big(\pi(\nu-2)\big)\Big]
        - \frac{\nu+1}{2}\sum_t \ln\Big(1 + \frac{z_t^2}{\nu-2}\Big),

    found as the root of the score

    .. math::

        \ell'(\nu) = \frac n2\Big[\psi\big(\tfrac{\nu+1}{2}\big) - \psi\big(\tfrac{\nu}{2}\big)
        - \frac{1}{\nu-2}\Big] - \frac12\sum_t \ln(1+a_t)
        + \frac{\nu+1}{2(\nu-2)}\sum_t \frac{a_t}{1+a_t}, \qquad a_t = \frac{z_t^2}{\nu-2},

    by Brent's method on :data:`DF_BOUNDS`, to machine precision (a bound is returned
    when the score keeps its sign: light tails give the upper bound, ≈ normal).
    Location and scale are fixed at the sample moments because those are what the
    ``t`` VaR uses; the estimate is invariant to scaling the series, so the fitted VaR
    stays homogeneous in the weights.

    Parameters
    ----------
    series : ndarray, shape (n,)
        Portfolio returns (not constant).

    Returns
    -------
    float
        Fitted :math:`\nu`.

    References
    ----------
    Lange, K. L., Little, R. J. A. and Taylor, J. M. G. (1989), "Robust statistical
    modeling using the t distribution", *JASA* 84(408), 881–896.
    """
    z = series / np.abs(series).max()  # scale first: tiny positions must not underflow the variance
    z = z - z.mean()
    z = z / z.std(ddof=1)
    z2 = z * z
    n = z.size

    def score(nu: float) -> float:
        a = z2 / (nu - 2.0)
        head = 0.5 * n * (special.digamma((nu + 1.0) / 2.0) - special.digamma(nu / 2.0) - 1.0 / (nu - 2.0))
        return float(head - 0.5 * np.log1p(a).sum() + 0.5 * (nu + 1.0) / (nu - 2.0) * (a / (1.0 + a)).sum())

    lo, hi = DF_BOUNDS
    if score(hi) >= 0.0:
        return hi
    if score(lo) <= 0.0:
        return lo
    return float(optimize.brentq(score, lo, hi, xtol=1e-12))


def cornish_fisher_risk(m: PortfolioMoments, confidence: float) -> Risk:
    r"""Modified (Cornish–Fisher) VaR and modified ES (Boudt, Peterson & Croux 2008).

    With skewness :math:`S = m_3/\sigma^3` and excess kurtosis :math:`K = m_4/\sigma^4 - 3`,

    .. math::

        g = z + \tfrac16(z^2-1)S + \tfrac1{24}(z^3-3z)K - \tfrac1{36}(2z^3-5z)S^2,
        \qquad \mathrm{mVaR} = -m_1 - g\,\sigma,

        E = \frac{\varphi(g)}{\alpha}\Big[1 + \tfrac16 g^3 S
            + \tfrac1{72}(g^6 - 9g^4 + 9g^2 + 3)S^2 + \tfrac1{24}(g^4 - 2g^2 - 1)K\Big],

        \mathrm{mES} = -m_1 + \sigma\,E \ \text{ if } -E \le g, \text{ else } \mathrm{mVaR}

    (the "operational" floor of PerformanceAnalytics' ``operES.CornishFisher``: modified
    ES is never below modified VaR). Gradients follow by the chain rule from
    :math:`\nabla m_1, \nabla\sigma, \nabla S, \nabla K`
    (:func:`~xl_var.moments.sample_moments`), with :math:`\nabla g =
    (\tfrac16(z^2-1) - \tfrac1{18}(2z^3-5z)S)\nabla S + \tfrac1{24}(z^3-3z)\nabla K`.

    Parameters
    ----------
    m : PortfolioMoments
        Moments including skewness and kurtosis (``sample_moments(..., higher=True)``).
    confidence : float

    Returns
    -------
    Risk

    References
    ----------
    Boudt, K., Peterson, B. G. and Croux, C. (2008), "Estimation and decomposition of
    downside risk for portfolios with non-normal returns", *Journal of Risk* 11(2),
    79–103; Zangari, P. (1996), *RiskMetrics Monitor* Q1, 7–25.
    """
    from scipy import stats  # on first use

    alpha = 1.0 - confidence
    z = float(special.ndtri(alpha))
    sd, s, k = m.sd, m.skew, m.exkurt
    a1, a2, a3 = (z * z - 1.0) / 6.0, (z**3 - 3.0 * z) / 24.0, (2.0 * z**3 - 5.0 * z) / 36.0
    g = z + a1 * s + a2 * k - a3 * s * s
    g2 = g * g
    p_s = g * g2 / 6.0
    p_ss = (g2**3 - 9.0 * g2 * g2 + 9.0 * g2 + 3.0) / 72.0
    p_k = (g2 * g2 - 2.0 * g2 - 1.0) / 24.0
    phi_a = float(stats.norm.pdf(g)) / alpha
    e = phi_a * (1.0 + p_s * s + p_ss * s * s + p_k * k)
    floored = -e > g
    mvar = -m.mean - g * sd
    mes = mvar if floored else -m.mean + e * sd
    if m.grad_sd is None or m.grad_mean is None or m.grad_skew is None or m.grad_exkurt is None:
        return Risk(mvar, mes)
    grad_g = (a1 - 2.0 * a3 * s) * m.grad_skew + a2 * m.grad_exkurt
    grad_var = -m.grad_mean - g * m.grad_sd - sd * grad_g
    if floored:
        return Risk(mvar, mes, grad_var, grad_var)
    # dE/dw = (phi(g)/alpha)[(-g P + P'(g)) dg + p_s dS + 2 p_ss S dS + p_k dK]
    dpoly_dg = (g2 / 2.0 * s + (6.0 * g2 * g2 * g - 36.0 * g2 * g + 18.0 * g) / 72.0 * s * s
                + (4.0 * g2 * g - 4.0 * g) / 24.0 * k)
    grad_e = (-g * e + phi_a * dpoly_dg) * grad_g + phi_a * ((p_s + 2.0 * p_ss * s) * m.grad_skew
                                                             + p_k * m.grad_exkurt)
    grad_es = -m.grad_mean + e * m.grad_sd + sd * grad_e
    return Risk(mvar, mes, grad_var, grad_es)
