r"""Delta-gamma VaR and ES of a quadratic P&L, for books given by their sensitivities.

Over a horizon of :math:`h` periods the asset returns are :math:`X \sim N(0, h\Sigma)` and
the P&L is the second-order (delta-gamma-theta) expansion of the book's value

.. math::

    \Pi = \theta h + \delta^\top X + \tfrac12 X^\top \Gamma X,

with :math:`\delta` the dollar deltas (value change per unit return), :math:`\Gamma`
the dollar gamma matrix and :math:`\theta` the P&L per period. VaR and ES are losses:
:math:`\mathrm{VaR} = -q_\alpha(\Pi)`, :math:`\mathrm{ES} = -E[\Pi \mid \Pi \le q_\alpha]`,
:math:`\alpha = 1 - c`.

Canonical form. Write the (horizon-scaled) covariance as :math:`S = LL^\top`, diagonalise
:math:`L^\top\Gamma L = P\Lambda P^\top` and set :math:`b = P^\top L^\top\delta`; with
:math:`Y = P^\top L^{-1}X \sim N(0, I)` (on the range of :math:`S`)

.. math::

    \Pi = \theta h + \sum_j \big(b_j Y_j + \tfrac12\lambda_j Y_j^2\big),

a sum of independent normal (:math:`\lambda_j = 0`) and scaled non-central
:math:`\chi^2_1` terms: :math:`b Y + \tfrac12\lambda Y^2 = \tfrac12\lambda(Y + b/\lambda)^2
- b^2/(2\lambda)`. Its cumulant generating function is

.. math::

    K(t) = \theta h + \sum_j \Big[-\tfrac12\ln(1 - \lambda_j t)
           + \frac{b_j^2 t^2}{2(1 - \lambda_j t)}\Big],

which gives the cumulants of :func:`quadratic_cumulants` and, at :math:`t = iu`, the
characteristic function inverted by the ``exact`` method,

.. math::

    \varphi(u) = \exp\Big(iu\theta h - \tfrac12\sum_j\Big[\ln(1 - iu\lambda_j)
    + \frac{u^2 b_j^2}{1 - iu\lambda_j}\Big]\Big).

References
----------
Imhof, J. P. (1961), "Computing the distribution of quadratic forms in normal variables",
*Biometrika* 48(3/4), 419–426.
Davies, R. B. (1980), "Algorithm AS 155: The distribution of a linear combination of
:math:`\chi^2` random variables", *Applied Statistics* 29(3), 323–333.
Mina, J. and Ulmer, A. (1999), "Delta-gamma four ways", RiskMetrics Group working paper.
Britten-Jones, M. and Schaefer, S. M. (1999), "Non-linear value-at-risk", *European
Finance Review* (now *Review of Finance*) 2(2), 161–187.
Jaschke, S. R. (2002), "The Cornish-Fisher expansion in the context of
delta-gamma-normal approximations", *Journal of Risk* 4(4), 33–52.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from xl_var._inputs import MEASURES, ZERO_VOL, check_cov, vector
from xl_var._typing import FloatArray
from xl_var._validate import as_matrix, check_confidence, check_horizon, choose
from xl_var.errors import XlVarError
from xl_var.imhof import canonical_form, exact_risk
from xl_var.moments import PortfolioMoments
from xl_var.parametric import cornish_fisher_risk, normal_risk
from xl_var.portfolio import RiskResult

__all__ = ["DG_METHODS", "QuadraticCumulants", "delta_gamma_var", "quadratic_cumulants"]


#: Canonical method names of :func:`delta_gamma_var` and their accepted aliases.
DG_METHODS: dict[str, tuple[str, ...]] = {
    "normal": ("gaussian", "delta-normal"),
    "cornish-fisher": ("cf", "cornishfisher", "cornish fisher", "modified"),
    "exact": ("imhof", "fourier", "davies"),
}
GAMMA_SYMMETRY = 1e-8  # |Γ - Γᵀ| up to this fraction of max|Γ| is rounding (finite differences): symmetrised


@dataclass(frozen=True)
class QuadraticCumulants:
    r"""First four cumulants of the delta-gamma P&L.

    Attributes
    ----------
    k1, k2, k3, k4 : float
        :math:`\kappa_1` (mean), :math:`\kappa_2` (variance), :math:`\kappa_3`,
        :math:`\kappa_4`.
    """

    k1: float
    k2: float
    k3: float
    k4: float

    @property
    def sd(self) -> float:
        """:math:`\\sqrt{\\kappa_2}`."""
        return math.sqrt(max(self.k2, 0.0))

    @property
    def skew(self) -> float:
        """:math:`\\kappa_3/\\kappa_2^{3/2}` (NaN for a constant P&L)."""
        sd = self.sd
        return self.k3 / sd / sd / sd if sd > 0.0 else math.nan  # stepwise: sd³ may underflow

    @property
    def exkurt(self) -> float:
        """:math:`\\kappa_4/\\kappa_2^2` (NaN for a constant P&L)."""
        return self.k4 / self.k2 / self.k2 if self.k2 > 0.0 else math.nan


def _square(x: ArrayLike, name: str, n: int) -> FloatArray:
    """An n×n matrix (a single number when n == 1)."""
    try:
        scalar = np.ndim(x) == 0
    except ValueError:  # ragged nested lists: as_matrix names the problem
        scalar = False
    m = as_matrix(np.reshape(np.asarray(x, dtype=object), (1, 1)) if scalar else x, name)
    if m.shape != (n, n):
        raise XlVarError(f"{name} is {m.shape[0]}×{m.shape[1]} but delta has {n} entries: "
                         f"give {n} rows and {n} columns, one per asset")
    return m


def _check_gamma(gamma: ArrayLike, n: int) -> FloatArray:
    """An n×n symmetric gamma, or n numbers meaning a diagonal one."""
    try:
        shape = np.shape(gamma)
    except ValueError:  # ragged nested lists: as_vector names the problem
        shape = ()
    if len(shape) == 2 and shape == (n, n):
        g = _square(gamma, "gamma", n)
        tol = GAMMA_SYMMETRY * float(np.abs(g).max())
        gap = np.abs(g - g.T)
        if gap.max() > tol:
            r, k = np.unravel_index(int(np.argmax(gap)), g.shape)
            raise XlVarError(f"gamma is not symmetric: row {r + 1}, column {k + 1} differs from row {k + 1}, "
                             f"column {r + 1}; make them equal (cross-gammas are symmetric)")
        out: FloatArray = 0.5 * (g + g.T)
        return out
    if len(shape) == 2 and 1 not in shape:
        return _square(gamma, "gamma", n)  # refuses the wrong shape, naming it
    diag = vector(gamma, "gamma", n, f"delta has {n} (a diagonal gamma has {n} numbers; a full one {n}×{n})")
    return np.diag(diag)


def _check_theta(theta: Any) -> float:
    try:
        t = float(theta)
    except (TypeError, ValueError):
        raise XlVarError("theta must be a number: the P&L per period from the passage of time, e.g. -1200") from None
    if not math.isfinite(t):
        raise XlVarError(f"theta must be a finite number (P&L per period); got {theta!r}")
    return t


def _check_inputs(delta: ArrayLike, gamma: ArrayLike, cov: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated delta (N), symmetric gamma (N×N) and symmetric PSD cov (N×N)."""
    d = vector(delta, "delta", None, "")
    n = d.size
    g = _check_gamma(gamma, n)
    s = check_cov(_square(cov, "cov", n), n)
    return d, g, s


def _cumulants(delta: FloatArray, gamma: FloatArray, cov: FloatArray, theta: float) -> QuadraticCumulants:
    """Trace forms of the cumulants (no eigendecomposition); see :func:`quadratic_cumulants`."""
    m = gamma @ cov
    m2 = m @ m
    v = cov @ delta
    gv = gamma @ v
    return QuadraticCumulants(
        theta + 0.5 * float(np.trace(m)),
        0.5 * float(np.sum(m * m.T)) + float(delta @ v),
        float(np.sum(m2 * m.T)) + 3.0 * float(v @ gv),
        3.0 * float(np.sum(m2 * m2.T)) + 12.0 * float(gv @ cov @ gv),
    )


def quadratic_cumulants(delta: ArrayLike, gamma: ArrayLike, cov: ArrayLike, theta: float = 0.0) -> QuadraticCumulants:
    r"""First four cumulants of :math:`\Pi = \theta + \delta^\top X + \tfrac12 X^\top\Gamma X`, :math:`X \sim N(0, S)`.

    From the cumulant generating function in the module docstring
    (:math:`-\tfrac12\ln(1-\lambda t) = \sum_r \tfrac12\lambda^r t^r/r` and
    :math:`\tfrac12 b^2t^2/(1-\lambda t) = \sum_{r\ge2}\tfrac12 b^2\lambda^{r-2}t^r`):

    .. math::

        \kappa_1 = \theta + \tfrac12\sum_j\lambda_j, \qquad
        \kappa_r = \tfrac12(r-1)!\sum_j\lambda_j^r + \tfrac12 r!\sum_j b_j^2\lambda_j^{r-2}
        \quad (r \ge 2),

    evaluated without diagonalising, with :math:`M = \Gamma S`
    (:math:`\sum_j\lambda_j^r = \operatorname{tr}M^r`,
    :math:`\sum_j b_j^2\lambda_j^{k} = \delta^\top S(\Gamma S)^k\delta`):

    .. math::

        \kappa_1 = \theta + \tfrac12\operatorname{tr}M, \quad
        \kappa_2 = \tfrac12\operatorname{tr}M^2 + \delta^\top S\delta, \quad
        \kappa_3 = \operatorname{tr}M^3 + 3\,\delta^\top S\Gamma S\delta, \quad
        \kappa_4 = 3\operatorname{tr}M^4 + 12\,\delta^\top S\Gamma S\Gamma S\delta .

    Parameters
    ----------
    delta : array_like, shape (N,)
        Dollar deltas (P&L per unit return of each asset).
    gamma : array_like, shape (N, N) or (N,)
        Dollar gamma matrix (symmetric), or its diagonal.
    cov : array_like, shape (N, N)
        Covariance :math:`S` of the returns over the horizon (already scaled by it).
    theta : float, default 0
        Deterministic P&L over the horizon.

    Returns
    -------
    QuadraticCumulants

    References
    ----------
    Mina & Ulmer (1999), "Delta-gamma four ways"; Jaschke (2002), *Journal of Risk* 4(4).

    Examples
    --------
    >>> c = quadratic_cumulants([1.0], [2.0], [[1.0]])  # X + X², X ~ N(0, 1)
    >>> c.k1, c.k2, c.k3, c.k4
    (1.0, 3.0, 14.0, 96.0)
    """
    d, g, s = _check_inputs(delta, gamma, cov)
    return _cumulants(d, g, s, _check_theta(theta))


def delta_gamma_var(
    delta: ArrayLike, gamma: ArrayLike, cov: ArrayLike, confidence: float = 0.99, horizon: int = 1,
    theta: float = 0.0, method: str = "cornish-fisher", measure: str = "var",
) -> RiskResult:
    r"""VaR and ES of the delta-gamma(-theta) P&L :math:`\theta h + \delta^\top X + \tfrac12 X^\top\Gamma X`.

    :math:`X \sim N(0, h\Sigma)`; the cumulants :math:`\kappa_r` are those of
    :func:`quadratic_cumulants` with covariance :math:`h\Sigma` and :math:`\theta h`;
    :math:`z = \Phi^{-1}(\alpha)`.

    ``normal`` [gaussian] (first two cumulants)
        :math:`\mathrm{VaR} = -\kappa_1 - z\sqrt{\kappa_2}`,
        :math:`\mathrm{ES} = -\kappa_1 + \sqrt{\kappa_2}\,\varphi(z)/\alpha`.
    ``cornish-fisher`` [cf, cornishfisher, modified]
        Cornish–Fisher quantile with skewness :math:`\kappa_3/\kappa_2^{3/2}` and excess
        kurtosis :math:`\kappa_4/\kappa_2^2`, and the modified ES of Boudt, Peterson &
        Croux (2008) floored at that VaR — :func:`~xl_var.parametric.cornish_fisher_risk`,
        the engine's ``modified`` method fed the exact cumulants. Good for small gamma;
        for strongly curved books (large :math:`\lambda_j`) the expansion loses
        accuracy and ``exact`` should be used.
    ``exact`` [imhof, fourier, davies]
        Gil-Pelaez/Imhof inversion of the characteristic function :math:`\varphi` of the
        module docstring's canonical form,
        :math:`F(x) = \tfrac12 - \frac1\pi\int_0^\infty \operatorname{Im}[e^{-iux}\varphi(u)]\,du/u`
        (no shift beyond :math:`\theta h`: the mean :math:`\tfrac12\sum\lambda_j` sits in
        the logarithms), by adaptive Gauss–Kronrod and, for the power-law tail
        :math:`|\varphi(u)| \sim u^{-m/2}` of :math:`m` gamma terms, QUADPACK's Fourier
        integral QAWF (:func:`xl_var.imhof._integrals`). Each piece is asked for 1e-12 in probability;
        a total error estimate above 1e-9 is refused, suggesting ``cornish-fisher``. The
        quantile comes from Brent's method, and

        .. math::

            \mathrm{ES} = \mathrm{VaR} + \frac{E[(q - \Pi)^+]}{\alpha}, \qquad
            E[(q - \Pi)^+] = \int_{-\infty}^q F(x)\,dx = \frac{q - \kappa_1}{2}
            + \frac1\pi\int_0^\infty \frac{1 - \operatorname{Re}[e^{-iuq}\varphi(u)]}{u^2}\,du .

        With :math:`\Gamma = 0` this is the normal closed form to about 1e-12.

    Parameters
    ----------
    delta : array_like, shape (N,)
        Dollar deltas: value change per unit return of each asset (a number when N = 1).
    gamma : array_like, shape (N, N) or (N,)
        Dollar gammas: :math:`\partial^2 V/\partial r_i\partial r_j`, symmetric (asymmetry
        above 1e-8 of the largest entry is refused; below, it is averaged out), or N
        numbers for a diagonal gamma.
    cov : array_like, shape (N, N)
        Covariance of the returns per period (positive semi-definite).
    confidence : float, default 0.99
    horizon : int, default 1
        Periods: the covariance is multiplied by ``horizon`` and so is ``theta``.
    theta : float, default 0
        Deterministic P&L per period (time decay, carry).
    method : {"cornish-fisher", "normal", "exact"}, default "cornish-fisher"
    measure : {"var", "es"}, default "var"
        Validated for the worksheet and CLI layers, which report the one asked for; the
        result always carries both.

    Returns
    -------
    RiskResult
        ``var`` and ``es`` (positive losses in the units of delta), canonical ``method``,
        ``n_obs = 0``.

    Raises
    ------
    XlVarError
        Bad input (naming the argument and the fix), or a P&L with zero variance, whose
        VaR is undefined.

    References
    ----------
    Imhof (1961), *Biometrika* 48; Davies (1980), *Applied Statistics* 29; Mina & Ulmer
    (1999); Britten-Jones & Schaefer (1999), *European Finance Review* 2; Boudt, Peterson
    & Croux (2008), *Journal of Risk* 11(2); Jaschke (2002), *Journal of Risk* 4(4).

    Examples
    --------
    >>> r = delta_gamma_var([1e6, -4e5], [[-2e6, 0.0], [0.0, 5e5]], [[4e-4, 1e-4], [1e-4, 9e-4]],
    ...                     method="exact")
    >>> r.es > r.var > 0
    True
    """
    c = check_confidence(confidence)
    h = check_horizon(horizon)
    how = choose(method, "method", DG_METHODS)
    choose(measure, "measure", MEASURES)
    d, g, s = _check_inputs(delta, gamma, cov)
    th = _check_theta(theta) * h
    s = s * h
    k = _cumulants(d, g, s, th)
    sig = np.sqrt(np.clip(np.diag(s), 0.0, None))
    scale = float(np.abs(d) @ sig + 0.5 * sig @ np.abs(g) @ sig)
    if not k.sd > ZERO_VOL * scale:
        raise XlVarError("delta, gamma and cov give a P&L with zero variance (sensitivities all zero, or only on "
                         "assets with zero volatility), so its VaR is undefined: check delta, gamma and cov")
    m = PortfolioMoments(k.k1, k.sd, scale, k.skew, k.exkurt)
    if how == "normal":
        risk = normal_risk(m, c)
    elif how == "cornish-fisher":
        risk = cornish_fisher_risk(m, c)
    else:
        guess = -cornish_fisher_risk(m, c).var / k.sd  # standardised Cornish–Fisher quantile
        risk = exact_risk(canonical_form(d, g, s, th, k.sd), 1.0 - c, guess).scaled(k.sd)
    return RiskResult(float(risk.var), float(risk.es), how, c, h, 0)
