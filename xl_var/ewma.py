r"""RiskMetrics exponentially weighted (EWMA) volatility and covariance.

One convention serves the ``ewma`` and ``fhs`` VaR methods, ``CORRMATRIX(..., "ewma")``
and the Monte Carlo ``fhs`` model. Returns are treated as zero-mean (RiskMetrics).
The recursion is seeded with the zero-mean sample second moment of the whole sample,

.. math::

    \Sigma_1 = \frac{1}{T}\sum_{t=1}^{T} r_t r_t^\top, \qquad
    \Sigma_{t+1} = \lambda\,\Sigma_t + (1-\lambda)\, r_t r_t^\top ,

so :math:`\Sigma_t` uses information up to :math:`t-1` and :math:`\Sigma_{T+1}` is the
forecast for the next period ("today's" covariance).

Reference: J.P. Morgan/Reuters, *RiskMetrics — Technical Document*, 4th ed., 1996, §5.2.
"""

from __future__ import annotations

import numpy as np

from xl_var._typing import FloatArray

__all__ = ["ewma_cov", "ewma_variance_path"]



def ewma_variance_path(returns: FloatArray, lam: float) -> FloatArray:
    r"""Per-asset EWMA variances :math:`\sigma^2_{t,i}` for :math:`t = 1..T+1`.

    Parameters
    ----------
    returns : ndarray, shape (T, N)
        Clean (finite) returns; validation is the caller's job.
    lam : float
        Decay factor :math:`\lambda \in (0, 1)`.

    Returns
    -------
    ndarray, shape (T + 1, N)
        Row ``t`` is the variance forecast for period ``t`` made with data up to
        ``t - 1``; the last row is the forecast for the period after the sample:
        :math:`\sigma^2_{t+1} = \lambda\sigma^2_t + (1-\lambda) r_t^2`,
        :math:`\sigma^2_1 = \overline{r^2}`.
    """
    from scipy.signal import lfilter  # on first use: scipy.signal imports scipy.stats (~0.5 s)

    sq = returns * returns
    seed = sq.mean(axis=0)
    # y[t] = lam*y[t-1] + (1-lam)*x[t-1]: IIR filter over the shifted squares, initial state = seed.
    x = np.vstack([np.zeros((1, sq.shape[1])), sq])
    zi = (lam * seed)[None, :]
    path, _ = lfilter([1.0 - lam], [1.0, -lam], x[1:], axis=0, zi=zi)
    out: FloatArray = np.vstack([seed[None, :], path])
    return out


def ewma_cov(returns: FloatArray, lam: float) -> FloatArray:
    r"""EWMA covariance forecast :math:`\Sigma_{T+1}` (zero mean).

    .. math::

        \Sigma_{T+1} = \lambda^T \Sigma_1 + (1-\lambda)\sum_{t=1}^{T} \lambda^{T-t} r_t r_t^\top,
        \qquad \Sigma_1 = \tfrac{1}{T} R^\top R .

    Parameters
    ----------
    returns : ndarray, shape (T, N)
        Clean returns.
    lam : float
        Decay factor in (0, 1).

    Returns
    -------
    ndarray, shape (N, N)
        Symmetric positive semi-definite covariance.
    """
    t = returns.shape[0]
    seed = returns.T @ returns / t
    w = (1.0 - lam) * lam ** np.arange(t - 1, -1, -1, dtype=np.float64)
    cov = lam**t * seed + (returns * w[:, None]).T @ returns
    out: FloatArray = 0.5 * (cov + cov.T)
    return out
