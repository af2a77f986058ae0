r"""Portfolio moments and their gradients in O(T·N), plus correlation overrides.

The parametric VaR methods need the portfolio mean :math:`m_1 = w^\top\mu`, variance
:math:`m_2 = w^\top\Sigma w` and, for Cornish–Fisher, the third and fourth central
moments :math:`m_3, m_4`, each with its gradient in the weights. PerformanceAnalytics
builds the N×N² co-skewness and N×N³ co-kurtosis matrices (``M3.MM``/``M4.MM``) and
contracts them with Kronecker powers of :math:`w`; here every term is computed from
the centred portfolio series :math:`y_t = (r_t - \bar r)^\top w` instead:

.. math::

    m_2 = \frac{1}{T-1}\sum_t y_t^2, \quad
    m_3 = \frac{1}{T}\sum_t y_t^3, \quad
    m_4 = \frac{1}{T}\sum_t y_t^4, \qquad
    \frac{\partial m_k}{\partial w} = \frac{k}{D_k}\sum_t y_t^{k-1}\,(r_t - \bar r),

with :math:`D_2 = T-1` (unbiased covariance) and :math:`D_3 = D_4 = T` (the
PerformanceAnalytics divisors). This is :math:`w^\top M_3 (w\otimes w)` and
:math:`3 M_3 (w\otimes w)` etc. without ever forming :math:`M_3` or :math:`M_4`.

Reference: Boudt, K., Peterson, B. G. and Croux, C. (2008), "Estimation and
decomposition of downside risk for portfolios with non-normal returns",
*Journal of Risk* 11(2), 79–103.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from xl_var.errors import XlVarError

__all__ = ["PortfolioMoments", "covariance_moments", "recolour", "sample_moments", "with_correlation"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PortfolioMoments:
    r"""Moments of the portfolio return and their gradients in the weights.

    Attributes
    ----------
    mean, m2 : float
        :math:`w^\top\mu` and :math:`w^\top\Sigma w`.
    m3, m4 : float
        Third and fourth central moments (divisor T); NaN when not computed.
    grad_mean, grad_m2, grad_m3, grad_m4 : ndarray or None
        Gradients in :math:`w` (:math:`\mu`, :math:`2\Sigma w`, ...); None when not asked for.
    scale : float
        :math:`\sum_i |w_i|\sqrt{\sigma_i^2 + \mu_i^2}`, the size of the positions against
        which a zero portfolio variance is judged.
    """

    mean: float
    m2: float
    scale: float
    m3: float = float("nan")
    m4: float = float("nan")
    grad_mean: FloatArray | None = None
    grad_m2: FloatArray | None = None
    grad_m3: FloatArray | None = None
    grad_m4: FloatArray | None = None


def sample_moments(
    returns: FloatArray, weights: FloatArray, *, higher: bool = False, gradient: bool = True
) -> PortfolioMoments:
    r"""Sample moments of the constant-weight portfolio, in O(T·N).

    Parameters
    ----------
    returns : ndarray, shape (T, N)
        Clean returns.
    weights : ndarray, shape (N,)
        Portfolio weights (fractions or amounts).
    higher : bool
        Also compute :math:`m_3, m_4` (divisor T) and their gradients.
    gradient : bool
        Compute the gradients (one extra T×N by T×k product).

    Returns
    -------
    PortfolioMoments
        Mean, variance (divisor T−1) and optionally higher moments; see the module
        docstring for the formulas.
    """
    t = returns.shape[0]
    mu = returns.mean(axis=0)
    xc = returns - mu
    y = xc @ weights
    y2 = y * y
    asset_rms = np.sqrt(np.einsum("ij,ij->j", xc, xc) / (t - 1) + mu * mu)
    first = {"mean": float(mu @ weights), "m2": float(y2.sum()) / (t - 1),
             "scale": float(np.abs(weights) @ asset_rms)}
    if not higher:
        if not gradient:
            return PortfolioMoments(**first)
        return PortfolioMoments(**first, grad_mean=mu, grad_m2=2.0 * (xc.T @ y) / (t - 1))
    m3, m4 = float(y2 @ y) / t, float(y2 @ y2) / t
    if not gradient:
        return PortfolioMoments(**first, m3=m3, m4=m4)
    g = xc.T @ np.column_stack([y, y2, y2 * y])
    return PortfolioMoments(**first, m3=m3, m4=m4, grad_mean=mu, grad_m2=2.0 * g[:, 0] / (t - 1),
                            grad_m3=3.0 * g[:, 1] / t, grad_m4=4.0 * g[:, 2] / t)


def covariance_moments(
    cov: FloatArray, mean: FloatArray, weights: FloatArray, *, gradient: bool = True
) -> PortfolioMoments:
    r"""Mean and variance of the portfolio from a given mean vector and covariance.

    .. math::  m_1 = w^\top\mu,\quad m_2 = w^\top\Sigma w,\quad
               \nabla m_1 = \mu,\quad \nabla m_2 = 2\Sigma w .

    Parameters
    ----------
    cov : ndarray, shape (N, N)
        Symmetric positive semi-definite covariance.
    mean : ndarray, shape (N,)
        Expected returns.
    weights : ndarray, shape (N,)

    Returns
    -------
    PortfolioMoments
    """
    sw = cov @ weights
    scale = float(np.abs(weights) @ np.sqrt(np.clip(np.diag(cov), 0.0, None) + mean * mean))
    if not gradient:
        return PortfolioMoments(mean=float(mean @ weights), m2=float(weights @ sw), scale=scale)
    return PortfolioMoments(mean=float(mean @ weights), m2=float(weights @ sw), scale=scale,
                            grad_mean=mean, grad_m2=2.0 * sw)


def with_correlation(cov: FloatArray, corr: FloatArray) -> FloatArray:
    r"""Replace the correlation of ``cov``, keeping each asset's volatility.

    .. math::  \Sigma' = D\,C\,D, \qquad D = \operatorname{diag}(\sqrt{\Sigma_{ii}}).

    Parameters
    ----------
    cov : ndarray, shape (N, N)
    corr : ndarray, shape (N, N)
        A valid correlation matrix.

    Returns
    -------
    ndarray, shape (N, N)
    """
    d = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    out: FloatArray = corr * np.outer(d, d)
    return out


def _sym_power(a: FloatArray, power: float) -> FloatArray:
    vals, vecs = np.linalg.eigh(a)
    vals = np.clip(vals, 0.0, None)
    with np.errstate(divide="ignore"):
        scaled = np.where(vals > 0.0, vals**power, 0.0)
    out: FloatArray = (vecs * scaled) @ vecs.T
    return out


def recolour(returns: FloatArray, corr: FloatArray) -> FloatArray:
    r"""Linearly transform returns so their sample correlation becomes ``corr``.

    The centred returns are whitened with the symmetric inverse square root of their
    sample covariance :math:`S` and re-coloured with the symmetric square root of the
    target :math:`\Sigma' = D C D` (each asset keeps its volatility and mean):

    .. math::

        \tilde r_t = \bar r + \Sigma'^{1/2}\,S^{-1/2}\,(r_t - \bar r),

    so :math:`\operatorname{cov}(\tilde r) = \Sigma'` exactly and the higher co-moments
    are those of the transformed data (Mahalanobis/ZCA whitening; the transform is the
    identity when ``corr`` equals the sample correlation). Used by the Cornish–Fisher
    method under a stressed correlation.

    Parameters
    ----------
    returns : ndarray, shape (T, N)
    corr : ndarray, shape (N, N)
        A valid (positive semi-definite) correlation matrix.

    Returns
    -------
    ndarray, shape (T, N)

    Raises
    ------
    XlVarError
        When the sample covariance is singular (fewer rows than assets, or a column that
        is constant or a combination of others).
    """
    mu = returns.mean(axis=0)
    xc = returns - mu
    s = xc.T @ xc / (returns.shape[0] - 1)
    vals = np.linalg.eigvalsh(s)
    if vals[0] <= 1e-12 * max(vals[-1], np.finfo(np.float64).tiny):
        raise XlVarError("corr= with the modified method needs returns whose sample covariance is "
                         "invertible: give more rows than assets and no constant or duplicate columns")
    out: FloatArray = xc @ (_sym_power(s, -0.5) @ _sym_power(with_correlation(s, corr), 0.5)) + mu
    return out
