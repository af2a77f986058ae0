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
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from xl_var._inputs import MEASURES, ZERO_VOL, check_cov, vector
from xl_var._typing import FloatArray
from xl_var._validate import as_matrix, check_confidence, check_horizon, choose
from xl_var.errors import XlVarError
from xl_var.moments import PortfolioMoments
from xl_var.parametric import Risk, cornish_fisher_risk, normal_risk
from xl_var.portfolio import RiskResult

__all__ = ["DG_METHODS", "QuadraticCumulants", "delta_gamma_var", "quadratic_cumulants"]


#: Canonical method names of :func:`delta_gamma_var` and their accepted aliases.
DG_METHODS: dict[str, tuple[str, ...]] = {
    "normal": ("gaussian", "delta-normal"),
    "cornish-fisher": ("cf", "cornishfisher", "cornish fisher", "modified"),
    "exact": ("imhof", "fourier", "davies"),
}
GAMMA_SYMMETRY = 1e-8  # |Γ - Γᵀ| up to this fraction of max|Γ| is rounding (finite differences): symmetrised
_EPS_ABS = 1e-12  # absolute error asked of each piece of the inversion integrals (standardised P&L)
_MAX_ERROR = 1e-9  # a reported integration error above this (in probability) is refused
_ZERO_EIGEN = 1e-13  # |λ_j| below this (standardised) is a normal term: changes probabilities by < 1e-13
_KILL = 46.0  # |φ(u)| < e^{-46} ≈ 1e-20: the integrands are negligible beyond the first u where it holds
_RATE = 0.25  # the tail's slowly varying phase turns by at most this many radians per unit u
_CYCLES = 8.0 * math.pi  # the Fourier tail starts after four periods of its oscillation...
_FAR = 1e15  # ...or here, whichever comes first


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


# --------------------------------------------------------------------------------------------------
# Exact distribution by inversion of the characteristic function
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Form:
    r"""Standardised canonical form :math:`\Pi/\sigma = \theta + s_0 Z + \sum_j (b_j Y_j + \tfrac12\lambda_j Y_j^2)`.

    ``lam`` holds the nonzero :math:`\lambda_j`, ``b2`` their :math:`b_j^2`, ``s0sq`` the
    variance of the normal part; ``cut`` is where the direct integration stops and
    ``killed`` whether the integrands are negligible beyond it (else a Fourier tail
    integral follows).
    """

    lam: FloatArray
    b2: FloatArray
    s0sq: float
    theta: float
    cut: float = 1.0
    killed: bool = False

    def terms(self, u: float) -> tuple[float, float]:
        r"""Log-modulus and phase (less :math:`\theta u`) of the characteristic function.

        .. math::

            \ln|\varphi(u)| = -\sum_j\Big[\tfrac14\ln(1+u^2\lambda_j^2)
                + \frac{b_j^2u^2}{2(1+u^2\lambda_j^2)}\Big] - \tfrac12 s_0^2u^2, \qquad
            \arg\varphi(u) - \theta u = \sum_j\Big[\tfrac12\arctan(u\lambda_j)
                - \frac{b_j^2u^3\lambda_j}{2(1+u^2\lambda_j^2)}\Big]
        """
        ul = u * self.lam
        ul2 = ul * ul
        q = 1.0 / (1.0 + ul2)
        uu = u * u
        log_amp = -0.25 * float(np.log1p(ul2).sum()) - 0.5 * uu * (float(self.b2 @ q) + self.s0sq)
        return log_amp, 0.5 * float(np.arctan(ul).sum()) - 0.5 * uu * float((self.b2 * ul) @ q)

    def tail_terms(self, u: float) -> tuple[float, float]:
        r"""Log-modulus and the phase less its asymptote :math:`(\theta-\sum_j b_j^2/(2\lambda_j))u`.

        .. math:: \gamma(u) = \sum_j\Big[\tfrac12\arctan(u\lambda_j)
                  + \frac{b_j^2u}{2\lambda_j(1+u^2\lambda_j^2)}\Big],

        bounded and slowly varying for large u.
        """
        ul = u * self.lam
        ul2 = ul * ul
        q = 1.0 / (1.0 + ul2)
        log_amp = -0.25 * float(np.log1p(ul2).sum()) - 0.5 * u * u * (float(self.b2 @ q) + self.s0sq)
        return log_amp, 0.5 * float(np.arctan(ul).sum()) + 0.5 * u * float((self.b2 / self.lam) @ q)

    def frequency(self, x: float) -> float:
        r""":math:`\omega = \theta - x - \sum_j b_j^2/(2\lambda_j)`: the phase is :math:`\omega u + \gamma(u)`."""
        return self.theta - x - 0.5 * float((self.b2 / self.lam).sum())


def _canonical(delta: FloatArray, gamma: FloatArray, cov: FloatArray, theta: float, sd: float) -> _Form:
    """Diagonalise (module docstring), standardise by ``sd`` and choose where the direct integration stops."""
    w, v = np.linalg.eigh(cov)
    keep = w > np.finfo(np.float64).eps * w.size * max(float(w[-1]), 0.0)
    factor = v[:, keep] * np.sqrt(w[keep])  # S = L Lᵀ on the range of S
    lam, p = np.linalg.eigh(factor.T @ gamma @ factor)
    lam, b = lam / sd, (p.T @ (factor.T @ delta)) / sd
    normal = np.abs(lam) <= _ZERO_EIGEN
    lam_nz, b2 = lam[~normal], b[~normal] ** 2
    theta_s = theta / sd + 0.5 * float(lam[normal].sum())  # the tiny λ keep their mean
    s0sq = float(np.sum(b[normal] ** 2))
    # beyond `smooth` each of the m residual phases turns slower than _RATE/m (bound ½(|λ|+b²/|λ|)/(1+u²λ²))
    m = max(lam_nz.size, 1)
    need = m * (np.abs(lam_nz) + b2 / np.abs(lam_nz)) / (2.0 * _RATE) - 1.0
    smooth = max(float(np.max(np.sqrt(np.clip(need, 0.0, None)) / np.abs(lam_nz), initial=0.0)), 1.0)
    form = _Form(lam_nz, b2, s0sq, theta_s)

    def excess_decay(u: float) -> float:
        return -form.terms(u)[0] - _KILL

    if excess_decay(smooth) < 0.0:
        return _Form(lam_nz, b2, s0sq, theta_s, smooth, False)
    return _Form(lam_nz, b2, s0sq, theta_s, float(optimize.brentq(excess_decay, 0.0, smooth)), True)


def _integrals(form: _Form, head: Callable[[float], float], x: float, power: int) -> float:
    r""":math:`\int_0^\infty` of an inversion integrand: adaptive quadrature, then a Fourier tail.

    ``head(u)`` is the integrand. Up to ``form.cut`` it is integrated by adaptive
    Gauss–Kronrod; beyond, its phase is :math:`\omega u + \gamma(u)` with a slowly varying
    :math:`\gamma` (:meth:`_Form.tail_terms`), so after :math:`_CYCLES/|\omega|` more
    (integrated in :math:`\ln u`, where the slow power-law decay near the edge of the
    support is smooth) the rest is a Fourier integral of smooth factors, integrated by
    QUADPACK's QAWF (``quad`` with ``weight="sin"``/``"cos"`` to infinity) of
    :math:`|\varphi(u)|\cos\gamma/u^p` and :math:`|\varphi(u)|\sin\gamma/u^p`. ``power`` p is 1 for the CDF's
    :math:`|\varphi|\sin\beta/u` and 2 for the partial expectation's
    :math:`(1 - |\varphi|\cos\beta)/u^2`, whose :math:`\int_v^\infty u^{-2}du = 1/v` is exact.
    """
    from scipy import integrate  # on first use of the exact method

    def quad(f: Callable[[float], float], lo: float, hi: float, **how: Any) -> tuple[float, float]:
        try:
            return integrate.quad(f, lo, hi, epsabs=_EPS_ABS, limit=2000, **how)[:2]  # type: ignore[no-any-return]
        except integrate.IntegrationWarning as exc:
            raise XlVarError(f"the exact method's Fourier inversion did not converge ({str(exc).splitlines()[0]}): "
                             "use method='cornish-fisher' or method='normal'") from None

    def log_head(s: float) -> float:
        u = math.exp(s)
        return head(u) * u

    def tail_cos(u: float) -> float:
        log_amp, gam = form.tail_terms(u)
        return math.exp(log_amp) * math.cos(gam) / u**power

    def tail_sin(u: float) -> float:
        log_amp, gam = form.tail_terms(u)
        return math.exp(log_amp) * math.sin(gam) / u**power

    with warnings.catch_warnings():
        warnings.simplefilter("error", integrate.IntegrationWarning)
        total, err = quad(head, 0.0, form.cut, epsrel=0.0)
        omega = form.frequency(x)
        if form.killed:  # |φ| is negligible beyond the cut
            total += 1.0 / form.cut if power == 2 else 0.0
        elif omega == 0.0:  # x on the edge of the support: the tail does not oscillate
            piece, e = quad(head, form.cut, math.inf)
            total, err = total + piece, err + e
        else:
            start = max(form.cut, min(_CYCLES / abs(omega), _FAR))
            piece, e = quad(log_head, math.log(form.cut), math.log(start), epsrel=0.0)
            sign, w = math.copysign(1.0, omega), abs(omega)
            first, second = ("sin", "cos") if power == 1 else ("cos", "sin")
            a, e1 = quad(tail_cos, start, math.inf, weight=first, wvar=w, limlst=200)
            c, e2 = quad(tail_sin, start, math.inf, weight=second, wvar=w, limlst=200)
            # sin(ωu+γ) = sin(ωu)cosγ + cos(ωu)sinγ ;  cos(ωu+γ) = cos(ωu)cosγ - sin(ωu)sinγ
            total += piece + (sign * a + c if power == 1 else 1.0 / start - (a - sign * c))
            err += e + e1 + e2
    if err > _MAX_ERROR:
        raise XlVarError(f"the exact method's Fourier inversion is only accurate to {err:.1g}: "
                         "use method='cornish-fisher' or method='normal'")
    return float(total)


def _cdf(form: _Form, x: float) -> float:
    r"""Gil-Pelaez/Imhof: :math:`F(x) = \tfrac12 - \tfrac1\pi\int_0^\infty |\varphi(u)|\sin\beta(u)/u\,du`.

    :math:`\beta(u) = u(\theta - x) + \arg\varphi(u) - \theta u` is the phase of
    :math:`e^{-iux}\varphi(u)`.
    """
    def head(u: float) -> float:
        log_amp, phase = form.terms(u)
        return math.exp(log_amp) * math.sin(u * (form.theta - x) + phase) / u

    return 0.5 - _integrals(form, head, x, 1) / math.pi


def _partial_expectation(form: _Form, q: float) -> float:
    r""":math:`E[(q-\Pi)^+] = \tfrac12(q - \kappa_1) + \tfrac1\pi\int_0^\infty (1 - |\varphi(u)|\cos\beta(u))/u^2\,du`.

    From :math:`(q-\Pi)^+ = \tfrac12(q-\Pi) + \tfrac12|q-\Pi|` and
    :math:`|y| = \tfrac2\pi\int_0^\infty (1-\cos uy)/u^2\,du`. Near 0 the numerator is
    evaluated as :math:`-\mathrm{expm1}(\ln|\varphi|)\cos\beta + 2\sin^2(\beta/2)`; the tail's
    :math:`\int_c^\infty u^{-2}du = 1/c` is exact.
    """
    def head(u: float) -> float:
        log_amp, phase = form.terms(u)
        beta = u * (form.theta - q) + phase
        return (-math.expm1(log_amp) * math.cos(beta) + 2.0 * math.sin(0.5 * beta) ** 2) / (u * u)

    mean = form.theta + 0.5 * float(form.lam.sum())
    return 0.5 * (q - mean) + _integrals(form, head, q, 2) / math.pi


def _exact_risk(form: _Form, alpha: float, guess: float) -> Risk:
    r"""Standardised VaR and ES: Brent's method on a bracket of the α-quantile grown from ``guess``.

    Cantelli's inequality for a unit-variance variable of mean :math:`\mu` bounds the quantile,
    :math:`\mu - \sqrt{1/\alpha - 1} \le q_\alpha \le \mu + \sqrt{\alpha/(1-\alpha)}`, and so does
    the edge of the support :math:`\theta - \sum_j b_j^2/(2\lambda_j)` when every term is a
    :math:`\chi^2` of one sign; the bracket starts at ``guess`` (the Cornish–Fisher quantile)
    clipped to those bounds and widens fourfold per step until it holds the quantile.
    """
    mean = form.theta + 0.5 * float(form.lam.sum())
    lo, hi = mean - math.sqrt(1.0 / alpha - 1.0), mean + math.sqrt(alpha / (1.0 - alpha))
    edge, side = form.frequency(0.0), 0.0  # side: +1 support above the edge, -1 below, 0 the whole line
    if form.s0sq == 0.0 and (np.all(form.lam > 0.0) or np.all(form.lam < 0.0)):
        side = math.copysign(1.0, form.lam[0])
        lo, hi = (max(lo, edge), hi) if side > 0.0 else (lo, min(hi, edge))
    seen: dict[float, float] = {}

    def excess(x: float) -> float:
        if x not in seen:
            outside = side != 0.0 and side * (x - edge) <= 0.0  # beyond the edge of the support (or on it)
            seen[x] = (-alpha if side > 0.0 else 1.0 - alpha) if outside else _cdf(form, x) - alpha
        return seen[x]

    x, step = min(max(guess, lo), hi), 0.05
    up = excess(x) < 0.0  # the quantile lies above x
    lo, hi = (x, hi) if up else (lo, x)
    while lo < (y := x + step if up else x - step) < hi:
        if (excess(y) < 0.0) != up:  # crossed: y closes the bracket
            lo, hi = (lo, y) if up else (y, hi)
            break
        lo, hi, x, step = (y, hi, y, 4.0 * step) if up else (lo, y, y, 4.0 * step)
    q = float(optimize.brentq(excess, lo, hi, xtol=1e-12))
    return Risk(-q, -q + _partial_expectation(form, q) / alpha)


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
        integral QAWF (:func:`_integrals`). Each piece is asked for 1e-12 in probability;
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
        risk = _exact_risk(_canonical(d, g, s, th, k.sd), 1.0 - c, guess).scaled(k.sd)
    return RiskResult(float(risk.var), float(risk.es), how, c, h, 0)
