r"""Exact distribution of a delta-gamma P&L by inversion of its characteristic function.

The P&L :math:`\Pi = \theta + \delta^\top X + \tfrac12 X^\top\Gamma X`, :math:`X \sim N(0, \Sigma)`,
is brought to the standardised canonical form :class:`QuadraticForm` (a normal term plus
independent non-central :math:`\chi^2_1` terms); its CDF is the Gil-Pelaez / Imhof integral

.. math::

    F(x) = \tfrac12 - \frac1\pi\int_0^\infty \frac{\operatorname{Im}[e^{-iux}\varphi(u)]}{u}\,du,

evaluated with QUADPACK (an adaptive head, then QAWF's Fourier tail), and the quantile by
Brent's method; ES from the partial expectation :math:`E[(q - \Pi)^+]`. Used by
:func:`xl_var.deltagamma.delta_gamma_var` with ``method="exact"``.

References
----------
Imhof, J. P. (1961), "Computing the distribution of quadratic forms in normal variables",
*Biometrika* 48, 419–426; Davies, R. B. (1980), "The distribution of a linear combination of
χ² random variables", *Applied Statistics* 29, 323–333.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from xl_var._typing import FloatArray
from xl_var.errors import XlVarError
from xl_var.parametric import Risk

__all__ = ["QuadraticForm", "canonical_form", "exact_risk"]

_EPS_ABS = 1e-12  # absolute error asked of each piece of the inversion integrals (standardised P&L)
_MAX_ERROR = 1e-9  # a reported integration error above this (in probability) is refused
_ZERO_EIGEN = 1e-13  # |λ_j| below this (standardised) is a normal term: changes probabilities by < 1e-13
_KILL = 46.0  # |φ(u)| < e^{-46} ≈ 1e-20: the integrands are negligible beyond the first u where it holds
_RATE = 0.25  # the tail's slowly varying phase turns by at most this many radians per unit u
_CYCLES = 8.0 * math.pi  # the Fourier tail starts after four periods of its oscillation...
_FAR = 1e15  # ...or here, whichever comes first


@dataclass(frozen=True)
class QuadraticForm:
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


def canonical_form(delta: FloatArray, gamma: FloatArray, cov: FloatArray, theta: float, sd: float) -> QuadraticForm:
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
    form = QuadraticForm(lam_nz, b2, s0sq, theta_s)

    def excess_decay(u: float) -> float:
        return -form.terms(u)[0] - _KILL

    if excess_decay(smooth) < 0.0:
        return QuadraticForm(lam_nz, b2, s0sq, theta_s, smooth, False)
    return QuadraticForm(lam_nz, b2, s0sq, theta_s, float(optimize.brentq(excess_decay, 0.0, smooth)), True)


def _integrals(form: QuadraticForm, head: Callable[[float], float], x: float, power: int) -> float:
    r""":math:`\int_0^\infty` of an inversion integrand: adaptive quadrature, then a Fourier tail.

    ``head(u)`` is the integrand. Up to ``form.cut`` it is integrated by adaptive
    Gauss–Kronrod; beyond, its phase is :math:`\omega u + \gamma(u)` with a slowly varying
    :math:`\gamma` (:meth:`QuadraticForm.tail_terms`), so after :math:`_CYCLES/|\omega|` more
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


def _cdf(form: QuadraticForm, x: float) -> float:
    r"""Gil-Pelaez/Imhof: :math:`F(x) = \tfrac12 - \tfrac1\pi\int_0^\infty |\varphi(u)|\sin\beta(u)/u\,du`.

    :math:`\beta(u) = u(\theta - x) + \arg\varphi(u) - \theta u` is the phase of
    :math:`e^{-iux}\varphi(u)`.
    """
    def head(u: float) -> float:
        log_amp, phase = form.terms(u)
        return math.exp(log_amp) * math.sin(u * (form.theta - x) + phase) / u

    return 0.5 - _integrals(form, head, x, 1) / math.pi


def _partial_expectation(form: QuadraticForm, q: float) -> float:
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


def exact_risk(form: QuadraticForm, alpha: float, guess: float) -> Risk:
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


