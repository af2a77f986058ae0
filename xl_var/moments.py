r"""Portfolio moments and their gradients in O(T·N), plus correlation overrides.

The parametric VaR methods need the portfolio mean :math:`m_1 = w^\top\mu`, standard
deviation :math:`\sigma = \sqrt{w^\top\Sigma w}` and, for Cornish–Fisher, the skewness
:math:`S = m_3/\sigma^3` and excess kurtosis :math:`K = m_4/\sigma^4 - 3`, each with its
gradient in the weights. PerformanceAnalytics builds the N×N² co-skewness and N×N³
co-kurtosis matrices (``M3.MM``/``M4.MM``) and contracts them with Kronecker powers of
:math:`w`; here every term comes from the centred portfolio series
:math:`y_t = (r_t - \bar r)^\top w`, standardised as :math:`u_t = y_t/\sigma`:

.. math::

    \sigma^2 = \frac{1}{T-1}\sum_t y_t^2, \quad
    S = \frac1T\sum_t u_t^3, \quad
    K = \frac1T\sum_t u_t^4 - 3,

    \nabla\sigma = \frac{X_c^\top u}{T-1}, \quad
    \nabla S = \frac{3}{T\sigma}X_c^\top u^2 - \frac{3S}{\sigma}\nabla\sigma, \quad
    \nabla K = \frac{4}{T\sigma}X_c^\top u^3 - \frac{4(K+3)}{\sigma}\nabla\sigma,

with :math:`X_c` the centred returns. The divisors are PerformanceAnalytics': T−1 for
the covariance, T for the third and fourth co-moments, so
:math:`\frac{3}{T}X_c^\top y^2 = 3M_3(w\otimes w)` and
:math:`\frac{4}{T}X_c^\top y^3 = 4M_4(w\otimes w\otimes w)` without ever forming
:math:`M_3` or :math:`M_4`. Working with :math:`u` keeps every quantity of order one
whatever the units of returns and weights.

Reference: Boudt, K., Peterson, B. G. and Croux, C. (2008), "Estimation and
decomposition of downside risk for portfolios with non-normal returns",
*Journal of Risk* 11(2), 79–103.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from xl_var._typing import FloatArray
from xl_var.errors import XlVarError

__all__ = ["PortfolioMoments", "covariance_moments", "recolour", "sample_moments", "with_correlation"]



@dataclass(frozen=True)
class PortfolioMoments:
    r"""Moments of the portfolio return and their gradients in the weights.

    Attributes
    ----------
    mean, sd : float
        :math:`w^\top\mu` and :math:`\sqrt{w^\top\Sigma w}`.
    scale : float
        :math:`\sum_i |w_i|\sqrt{\sigma_i^2 + \mu_i^2}`, the size of the positions against
        which a zero portfolio variance is judged.
    skew, exkurt : float
        :math:`S = m_3/\sigma^3` and :math:`K = m_4/\sigma^4 - 3` (:math:`m_3, m_4` with
        divisor T); NaN when not computed.
    grad_mean, grad_sd, grad_skew, grad_exkurt : ndarray or None
        Gradients in :math:`w`; None when not asked for.
    """

    mean: float
    sd: float
    scale: float
    skew: float = float("nan")
    exkurt: float = float("nan")
    grad_mean: FloatArray | None = None
    grad_sd: FloatArray | None = None
    grad_skew: FloatArray | None = None
    grad_exkurt: FloatArray | None = None

    def over_horizon(self, h: int) -> PortfolioMoments:
        r"""Moments of the sum of ``h`` i.i.d. periods (cumulants add up).

        .. math::

            m_1^{(h)} = h\,m_1, \quad \sigma^{(h)} = \sqrt h\,\sigma, \quad
            S^{(h)} = S/\sqrt h, \quad K^{(h)} = K/h ,

        and the same factors for the gradients. Reference: Kendall & Stuart, *The
        Advanced Theory of Statistics*, vol. 1, §3.12 (cumulants of sums).
        """
        if h == 1:
            return self
        r = float(np.sqrt(h))

        def times(g: FloatArray | None, k: float) -> FloatArray | None:
            return None if g is None else g * k

        return PortfolioMoments(self.mean * h, self.sd * r, self.scale * r, self.skew / r, self.exkurt / h,
                                times(self.grad_mean, h), times(self.grad_sd, r),
                                times(self.grad_skew, 1 / r), times(self.grad_exkurt, 1 / h))


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
        Also compute skewness and excess kurtosis (and their gradients).
    gradient : bool
        Compute the gradients (one extra T×N by T×k product).

    Returns
    -------
    PortfolioMoments
        See the module docstring for the formulas. A constant portfolio gives
        ``sd = 0`` (callers reject it) and NaN higher moments.
    """
    t = returns.shape[0]
    mu = returns.mean(axis=0)
    xc = returns - mu
    y = xc @ weights
    peak = float(np.abs(y).max())  # scale before squaring: no underflow for tiny positions
    sd = peak * float(np.sqrt((y / peak) @ (y / peak) / (t - 1))) if peak > 0.0 else 0.0
    asset_rms = np.sqrt(np.einsum("ij,ij->j", xc, xc) / (t - 1) + mu * mu)
    base = PortfolioMoments(float(mu @ weights), sd, float(np.abs(weights) @ asset_rms))
    if sd == 0.0:
        return base
    u = y / sd
    if not higher:
        return replace(base, grad_mean=mu, grad_sd=(xc.T @ u) / (t - 1)) if gradient else base
    u2 = u * u
    skew, kurt = float(u2 @ u) / t, float(u2 @ u2) / t
    base = replace(base, skew=skew, exkurt=kurt - 3.0)
    if not gradient:
        return base
    g = xc.T @ np.column_stack([u, u2, u2 * u])
    grad_sd = g[:, 0] / (t - 1)
    return replace(base, grad_mean=mu, grad_sd=grad_sd,
                   grad_skew=(3.0 / t * g[:, 1] - 3.0 * skew * grad_sd) / sd,
                   grad_exkurt=(4.0 / t * g[:, 2] - 4.0 * kurt * grad_sd) / sd)


def covariance_moments(
    cov: FloatArray, mean: FloatArray, weights: FloatArray, *, gradient: bool = True
) -> PortfolioMoments:
    r"""Mean and standard deviation of the portfolio from a mean vector and covariance.

    .. math::  m_1 = w^\top\mu,\quad \sigma = \sqrt{w^\top\Sigma w},\quad
               \nabla m_1 = \mu,\quad \nabla\sigma = \Sigma w/\sigma .

    Parameters
    ----------
    cov : ndarray, shape (N, N)
        Symmetric positive semi-definite covariance.
    mean : ndarray, shape (N,)
        Expected returns.
    weights : ndarray, shape (N,)
    gradient : bool
        Compute the gradients.

    Returns
    -------
    PortfolioMoments
    """
    sw = cov @ weights
    peak = float(np.abs(weights).max())  # w'Σw = peak²·(w/peak)'Σ(w/peak): no underflow
    sd = peak * float(np.sqrt(max(float((weights / peak) @ (sw / peak)), 0.0))) if peak > 0.0 else 0.0
    base = PortfolioMoments(float(mean @ weights), sd,
                            float(np.abs(weights) @ np.sqrt(np.clip(np.diag(cov), 0.0, None) + mean * mean)))
    if not gradient or sd == 0.0:
        return base
    return replace(base, grad_mean=mean, grad_sd=sw / sd)


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
