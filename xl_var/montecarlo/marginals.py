r"""Student-t copula with empirical marginals: fit, and a fast exact-enough transform.

Model. With :math:`Y \sim N(0, P)`, :math:`W \sim \chi^2_\nu` and
:math:`T = Y\sqrt{\nu/W}` (multivariate t, correlation :math:`P`), asset :math:`i`'s
simulated return is :math:`X_i = Q_i(F_\nu(T_i))`, where :math:`F_\nu` is the Student-t
CDF and :math:`Q_i` the type-7 empirical quantile function of the asset's historical
returns (piecewise linear through the sorted returns at probabilities
:math:`k/(T_{\rm obs}-1)`): heavy tails and tail dependence from the copula, marginals
exactly the historical ones (Demarta & McNeil 2005).

Fit (:func:`fit_t_copula`). Pseudo-observations :math:`u_{ti} = \mathrm{rank}/(T+1)`
(average ranks). For a given :math:`\nu` the t-scores :math:`x = F_\nu^{-1}(u)` have
correlation :math:`P` (for :math:`\nu > 2`), so :math:`\hat P(\nu)` is their sample
correlation and :math:`\nu` maximises the profile copula log-likelihood

.. math::

    \ell(\nu) = \sum_t \Big[\log t_{\nu,\hat P(\nu)}(x_t) - \sum_i \log t_\nu(x_{ti})\Big]

(bounded Brent search in :math:`\log\nu`, :data:`COPULA_DF_BOUNDS`), the pseudo-maximum
likelihood of Genest, Ghoudi & Rivest (1995) with the correlation profiled out.

Transform (:class:`CopulaTransform`). A per-element t CDF is far too slow at
:math:`10^8` elements, so the composite :math:`g_i = Q_i \circ F_\nu` is tabulated on a
grid uniform in :math:`\tau = T/\sqrt{2 + T^2} \in (-1, 1)` (the t CDF for
:math:`\nu = 2`, so the grid is spread evenly in probability) and interpolated
linearly: per element that is a square root, a division, a floor and one table lookup.
Because every :math:`Q_i` is monotone and continuous, the interpolated value equals
:math:`Q_i(u')` for some :math:`u'` between the probabilities of the two surrounding
grid points: each simulated return is an *exact* empirical quantile at a probability
within :attr:`CopulaTransform.max_du` (:math:`\approx 7\times10^{-5}` with
:data:`TABLE_SIZE` points) of the exact copula probability.

References
----------
Demarta, S. and McNeil, A. J. (2005), "The t copula and related copulas",
*International Statistical Review* 73(1), 111–129.
Genest, C., Ghoudi, K. and Rivest, L.-P. (1995), "A semiparametric estimation procedure
of dependence parameters in multivariate families of distributions", *Biometrika* 82(3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

from xl_var._typing import FloatArray

__all__ = ["COPULA_DF_BOUNDS", "TABLE_SIZE", "CopulaTransform", "fit_t_copula"]

F32Array = NDArray[np.float32]

#: Range searched for the copula's degrees of freedom.
COPULA_DF_BOUNDS = (2.05, 200.0)
#: Grid points of the tabulated transform per asset.
TABLE_SIZE = 16384
#: Assets transformed per block (keeps the working set in cache).
_BLOCK = 16


def _score_correlation(x: FloatArray) -> FloatArray:
    sd = x.std(axis=0)
    z = np.divide(x - x.mean(axis=0), sd, out=np.zeros_like(x), where=sd > 0.0)
    corr: FloatArray = (z.T @ z) / x.shape[0]
    np.fill_diagonal(corr, 1.0)
    return corr


def _profile(values: FloatArray, inverse: NDArray[np.intp], counts: NDArray[np.intp],
             df: float) -> tuple[float, FloatArray]:
    """Copula log-likelihood at ``df`` with the correlation profiled out, and that correlation.

    The pseudo-observations take few distinct values, so the t quantiles and the
    univariate log densities are evaluated once per distinct value.
    """
    from scipy import stats  # on first use: importing scipy.stats costs ~0.5 s

    xv = stats.t.ppf(values, df)
    x = xv[inverse]
    corr = _score_correlation(x)
    lam, vec = np.linalg.eigh(corr)
    lam = np.clip(lam, 1e-12, None)
    maha = ((x @ vec) ** 2 / lam).sum(axis=1)
    t, n = x.shape
    head = special.gammaln((df + n) / 2.0) - special.gammaln(df / 2.0) - 0.5 * n * np.log(df * np.pi)
    joint = t * head - 0.5 * t * float(np.log(lam).sum()) - 0.5 * (df + n) * float(np.log1p(maha / df).sum())
    return float(joint - counts @ stats.t.logpdf(xv, df)), corr


def fit_t_copula(
    returns: FloatArray, df: float | None = None, step: Callable[[], object] | None = None
) -> tuple[FloatArray, float]:
    """Fit the t copula's correlation and (unless given) degrees of freedom.

    Parameters
    ----------
    returns : ndarray, shape (T, N)
        Clean returns (the marginals are left empirical).
    df : float, optional
        Fixed degrees of freedom; fitted by profile pseudo-likelihood when None.
    step : callable, optional
        Called before every likelihood evaluation (progress and cancel checks).

    Returns
    -------
    (corr, df) : (ndarray (N, N), float)
        :math:`\\hat P(\\nu)` (sample correlation of the t-scores; an asset with constant
        returns is uncorrelated) and :math:`\\nu`. See the module docstring.
    """
    from scipy import stats  # on first use

    u = stats.rankdata(returns, axis=0) / (returns.shape[0] + 1.0)
    values, inverse, counts = np.unique(u, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(u.shape)
    if df is None:
        lo, hi = (float(np.log(b)) for b in COPULA_DF_BOUNDS)
        def negloglik(log_nu: float) -> float:
            if step is not None:
                step()
            return -_profile(values, inverse, counts, float(np.exp(log_nu)))[0]

        res = optimize.minimize_scalar(negloglik, bounds=(lo, hi), method="bounded", options={"xatol": 1e-3})
        df = float(np.exp(res.x))
    return _profile(values, inverse, counts, df)[1], df


def _empirical_quantile(sorted_returns: FloatArray, u: FloatArray) -> FloatArray:
    """Type-7 quantiles of each column of ``sorted_returns`` (T ≥ 2 rows) at ``u``: shape (N, len(u))."""
    t = sorted_returns.shape[0]
    pos = u * (t - 1)
    k = np.clip(np.floor(pos).astype(np.intp), 0, t - 2)
    frac = (pos - k)[:, None]
    lo, hi = sorted_returns[k], sorted_returns[k + 1]
    out: FloatArray = (lo + frac * (hi - lo)).T
    return out


@dataclass(frozen=True)
class CopulaTransform:
    """Tabulated :math:`T_i \\mapsto Q_i(F_\\nu(T_i))` for every asset (see the module docstring).

    Attributes
    ----------
    values, slopes : ndarray, shape (N, TABLE_SIZE + 1), float32
        :math:`g_i` at the grid points and the differences to the next point (the last
        column repeats the end point so a lookup at :math:`\\tau = 1` stays in range).
    df : float
        Copula degrees of freedom :math:`\\nu`.
    max_du : float
        Largest probability gap between neighbouring grid points: the bound on the
        transform's error expressed as a probability.
    """

    values: F32Array
    slopes: F32Array
    df: float
    max_du: float

    @classmethod
    def build(cls, returns: FloatArray, df: float, size: int = TABLE_SIZE) -> CopulaTransform:
        """Tabulate the transform for the historical ``returns`` (T, N) and copula ``df``."""
        from scipy import stats  # on first use

        tau = np.linspace(-1.0, 1.0, size)
        with np.errstate(divide="ignore"):
            y = tau * np.sqrt(2.0 / (1.0 - tau * tau))
        u = stats.t.cdf(y, df)
        g = _empirical_quantile(np.sort(returns, axis=0), u)
        values = np.concatenate([g, g[:, -1:]], axis=1)
        slopes = np.zeros_like(values)
        slopes[:, :-2] = np.diff(g, axis=1)
        return cls(np.ascontiguousarray(values, dtype=np.float32), np.ascontiguousarray(slopes, dtype=np.float32),
                   float(df), float(np.diff(u).max()))

    @property
    def size(self) -> int:
        """Number of grid points per asset."""
        return int(self.values.shape[1] - 1)

    def apply(self, y: F32Array, a: F32Array, out: F32Array, scratch: F32Array, index: NDArray[np.int32]) -> None:
        r"""Write :math:`g_i(T)` for ``T = y·sqrt(ν/W)`` into ``out``, in float32.

        Parameters
        ----------
        y : ndarray, shape (N, n), float32
            Correlated normals :math:`Y` (asset rows, scenario columns).
        a : ndarray, shape (n,), float32
            :math:`2W/\nu` per scenario, so that :math:`\tau = Y/\sqrt{a + Y^2}`.
        out : ndarray, shape (N, n), float32
            Receives the simulated returns (may not alias ``y``).
        scratch : ndarray, shape (≥ _BLOCK, n), float32
            Work space.
        index : ndarray, shape (≥ _BLOCK, n), int32
            Work space.
        """
        m = self.size
        half = np.float32((m - 1) / 2.0)
        stride = m + 1
        n_assets, n = y.shape
        for s in range(0, n_assets, _BLOCK):
            e = min(s + _BLOCK, n_assets)
            yb, ob = y[s:e], out[s:e]
            q, k = scratch[: e - s, :n], index[: e - s, :n]
            np.multiply(yb, yb, out=q)
            q += a
            np.sqrt(q, out=q)
            np.divide(yb, q, out=q)  # tau in [-1, 1]
            q *= half
            q += half  # fractional grid position in [0, m - 1]
            np.floor(q, out=ob)
            q -= ob
            np.copyto(k, ob, casting="unsafe")
            k += (np.arange(s, e, dtype=np.int32) * stride)[:, None]
            np.take(self.slopes, k, out=ob, mode="clip")
            ob *= q
            ob += np.take(self.values, k, mode="clip")
