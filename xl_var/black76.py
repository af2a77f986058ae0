r"""Vectorised Black-76 kernels on the forward, without input checks.

The public, validated API is :mod:`xl_var.pricing`; these kernels are what it and the
book's revaluation (:mod:`xl_var.book`) evaluate over whole scenario arrays, so they
take already-clean float arrays that broadcast together and never raise.

.. math::

    C = D\,[F N(d_1) - K N(d_2)], \qquad P = D\,[K N(-d_2) - F N(-d_1)],

    d_{1,2} = \frac{\ln(F/K) \pm \tfrac12 s^2}{s}, \qquad s = \sigma\sqrt T,
    \qquad D = e^{-rT}.

At :math:`s = 0` (expiry, or zero volatility) the value is the discounted intrinsic
value :math:`D\max(\pm(F - K), 0)`.

Accuracy: the out-of-the-money option (the call when :math:`F \le K`, else the put) is
valued by its own formula, whose two terms are small and computed to full relative
precision by ``ndtr``, and the in-the-money one as that value plus the intrinsic value
(put-call parity on the forward). Parity taken the other way, :math:`P = C - (F - K)`
for a deep out-of-the-money put, would cancel ``F`` against ``F`` and lose its whole
time value.

Reference: Black, F. (1976), "The pricing of commodity contracts", *Journal of
Financial Economics* 3, 167–179; Haug, E. G. (2007), *The Complete Guide to Option
Pricing Formulas*, 2nd ed., §1.1.6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from xl_var._typing import BoolArray, FloatArray

__all__ = ["Black76Greeks", "black76_greeks", "black76_price"]

_INV_SQRT_2PI = 0.3989422804014327


def _arrays(*xs: ArrayLike) -> list[FloatArray]:
    return [np.asarray(x, dtype=np.float64) for x in xs]


def _d1(f: FloatArray, k: FloatArray, s: FloatArray) -> FloatArray:
    """:math:`d_1` where :math:`s > 0`, 0 elsewhere (never divides by zero)."""
    live = s > 0.0
    d1: FloatArray = np.where(live, (np.log(f / k) + 0.5 * s * s) / np.where(live, s, 1.0), 0.0)
    return d1


def _value(call: BoolArray, f: FloatArray, k: FloatArray, s: FloatArray, d1: FloatArray) -> FloatArray:
    """Undiscounted value: the out-of-the-money option's formula plus the intrinsic value."""
    w = np.where(f <= k, 1.0, -1.0)  # +1: the OTM option is the call, -1: the put
    otm = np.where(s > 0.0, w * (f * ndtr(w * d1) - k * ndtr(w * (d1 - s))), 0.0)
    value: FloatArray = np.maximum(otm, 0.0) + np.maximum(np.where(call, f - k, k - f), 0.0)
    return value


def black76_price(is_call: ArrayLike, forward: ArrayLike, strike: ArrayLike, expiry: ArrayLike,
                  vol: ArrayLike, rate: ArrayLike = 0.0) -> FloatArray:
    r"""Black-76 value in the quote currency (USD), broadcast over every argument.

    Parameters
    ----------
    is_call : array_like of bool
        True for calls, False for puts.
    forward, strike : array_like
        Positive forward price :math:`F` and strike :math:`K`.
    expiry : array_like
        Years to expiry :math:`T \ge 0`.
    vol : array_like
        Volatility :math:`\sigma \ge 0` (0.6 = 60%).
    rate : array_like, default 0
        Continuously compounded rate :math:`r` for the discount factor :math:`e^{-rT}`.

    Returns
    -------
    ndarray
        :math:`C` or :math:`P` from the module formula (discounted intrinsic value at
        :math:`\sigma\sqrt T = 0`).
    """
    call, f, k, t, v, r = np.asarray(is_call, dtype=bool), *_arrays(forward, strike, expiry, vol, rate)
    s = v * np.sqrt(t)
    out: FloatArray = np.exp(-r * t) * _value(call, f, k, s, _d1(f, k, s))
    return out


@dataclass(frozen=True)
class Black76Greeks:
    r"""Black-76 value and sensitivities, in USD per one unit of underlying.

    Attributes
    ----------
    price : ndarray
    delta : ndarray
        :math:`\partial V/\partial F = D N(d_1)` (call), :math:`-D N(-d_1)` (put).
    gamma : ndarray
        :math:`\partial^2 V/\partial F^2 = D\,\varphi(d_1)/(F s)`.
    vega : ndarray
        :math:`\partial V/\partial\sigma = D F \varphi(d_1)\sqrt T` (per unit of vol).
    theta : ndarray
        :math:`\partial V/\partial t = -\partial V/\partial T` per year (calendar time
        passing): :math:`-D F\varphi(d_1)\sigma/(2\sqrt T) + rV`.
    rho : ndarray
        :math:`\partial V/\partial r = -T V` (per unit of rate).
    """

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    rho: FloatArray


def black76_greeks(is_call: ArrayLike, forward: ArrayLike, strike: ArrayLike, expiry: ArrayLike,
                   vol: ArrayLike, rate: ArrayLike = 0.0) -> Black76Greeks:
    r"""Black-76 value and Greeks (see :class:`Black76Greeks`), broadcast over every argument.

    At :math:`\sigma\sqrt T = 0` delta is the discounted in-the-money indicator
    (:math:`\tfrac12 D` exactly at the money) and gamma, vega and theta's volatility
    term are zero.

    Parameters
    ----------
    is_call, forward, strike, expiry, vol, rate
        As :func:`black76_price`.

    Returns
    -------
    Black76Greeks
    """
    call, f, k, t, v, r = np.asarray(is_call, dtype=bool), *_arrays(forward, strike, expiry, vol, rate)
    s = v * np.sqrt(t)
    live = s > 0.0
    safe_s = np.where(live, s, 1.0)
    d1 = _d1(f, k, s)
    disc = np.exp(-r * t)
    price = disc * _value(call, f, k, s, d1)
    itm = np.where(f > k, 1.0, np.where(f < k, 0.0, 0.5))
    # the put's N(-d1) from ndtr, not 1 - N(d1), keeps a deep out-of-the-money put's delta accurate
    delta = disc * np.where(call, np.where(live, ndtr(d1), itm), -np.where(live, ndtr(-d1), 1.0 - itm))
    pdf = np.where(live, _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1), 0.0)
    gamma = disc * pdf / (f * safe_s)
    root_t = np.sqrt(t)
    vega = disc * f * pdf * root_t
    with np.errstate(divide="ignore", invalid="ignore"):
        decay = np.where(live, -disc * f * pdf * v / (2.0 * np.where(root_t > 0, root_t, 1.0)), 0.0)
    theta = decay + r * price
    rho = -t * price
    return Black76Greeks(price, delta, gamma, vega, theta, rho)
