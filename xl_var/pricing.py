r"""European option prices, Greeks and implied volatility on the forward (Black-76).

Conventions. An option on a forward (or future) :math:`F` with strike :math:`K` and
``expiry`` :math:`T` in years (ACT/365, to the second) is worth, in USD,

.. math::

    C = D\,[F N(d_1) - K N(d_2)], \qquad P = D\,[K N(-d_2) - F N(-d_1)],
    \qquad d_{1,2} = \frac{\ln(F/K) \pm \tfrac12\sigma^2 T}{\sigma\sqrt T},
    \qquad D = e^{-rT}

(Black 1976; Haug 2007, §1.1.6). ``settle="usd"`` (linear) prices in USD;
``settle="coin"`` (inverse, Deribit style) prices in coin, :math:`V_{coin} = V/F`, so a
300 call settled at 400 pays :math:`(400 - 300)/400 = 0.25` coin. Greeks are always in
USD per one coin of underlying, whatever the settlement.

Implied volatility works on Jäckel's normalised price of the out-of-the-money option
(the in-the-money price minus the intrinsic value, by put-call parity),

.. math::

    \beta = \frac{V/D - \max(\pm(F-K), 0)}{\sqrt{FK}} = b(x, s), \qquad
    b(x, s) = e^{x/2} N\!\left(\frac{x}{s} + \frac s2\right)
            - e^{-x/2} N\!\left(\frac{x}{s} - \frac s2\right),

with :math:`x = -|\ln(F/K)| \le 0` and :math:`s = \sigma\sqrt T`; :math:`b` rises from 0
to :math:`e^{x/2}`, is convex below :math:`s_c = \sqrt{2|x|}` and concave above. The root
starts from Jäckel's (2006) branch approximations, :math:`s_0 = |x| / (\sqrt3\,
|N^{-1}((3\sqrt3\,\beta / (2\pi|x|))^{1/3})|)` below :math:`b(x, s_c)` and
:math:`s_0 = -2N^{-1}((e^{x/2} - \beta)/(e^{x/2} + e^{-x/2}))` above, and is polished by
Newton steps on :math:`\ln b` in :math:`1/s^2` (lower branch) or on
:math:`\ln(e^{x/2} - b)` in :math:`s^2` (upper branch), variables in which each is
nearly linear, both computed without cancellation, kept inside a bracket that every
evaluation narrows (bisection when a step leaves it); 4 to 8 steps as a rule. The result is as exact as the
price allows: within 1e-10 in volatility wherever a few units in the last place of the
price move the volatility by less than that (from deep in- to deep out-of-the-money,
from one day to years), and otherwise within that move.

References: Black, F. (1976), "The pricing of commodity contracts", *Journal of
Financial Economics* 3, 167–179. Haug, E. G. (2007), *The Complete Guide to Option
Pricing Formulas*, 2nd ed., McGraw-Hill. Jäckel, P. (2006), "By implication",
*Wilmott*, November, 60–66; Jäckel, P. (2015), "Let's be rational", *Wilmott* 75, 40–53.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr, ndtri

from xl_var._typing import BoolArray, FloatArray
from xl_var._validate import MAX_VOL, _to_float, choose
from xl_var.black76 import black76_greeks, black76_price
from xl_var.errors import XlVarError

__all__ = ["Greeks", "implied_vol", "option_greeks", "option_price"]

_SETTLE = {"usd": ("linear",), "coin": ("inverse",)}
_EPS = float(np.finfo(np.float64).eps)
#: Relative slack, in units in the last place, for a price that rounding put a hair below intrinsic.
_INTRINSIC_SLACK = 8.0 * _EPS
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))
_SQRT3 = float(np.sqrt(3.0))
_MAX_STEPS = 100


@dataclass(frozen=True)
class Greeks:
    r"""Value and sensitivities of :func:`option_greeks`.

    Floats when every input was a scalar, else arrays of the broadcast shape.

    Attributes
    ----------
    price : float or ndarray
        Value in the settlement currency (USD, or coin for ``settle="coin"``).
    delta : float or ndarray
        :math:`\partial V/\partial F` in USD per coin: :math:`D N(d_1)` (call),
        :math:`-D N(-d_1)` (put).
    gamma : float or ndarray
        :math:`\partial^2 V/\partial F^2 = D\varphi(d_1)/(F\sigma\sqrt T)`.
    vega : float or ndarray
        USD per one volatility point (0.01): :math:`D F\varphi(d_1)\sqrt T / 100`.
    theta : float or ndarray
        USD per calendar day, :math:`-\partial V/\partial T / 365`, with
        :math:`\partial V/\partial T = D F\varphi(d_1)\sigma/(2\sqrt T) - rV`.
    rho : float or ndarray
        USD per 1% of rate, :math:`\partial V/\partial r / 100 = -TV/100` (the forward held).
    delta_coin : float, ndarray or None
        For ``settle="coin"``, the coin delta :math:`F\,\partial(V/F)/\partial F =
        \Delta - V/F` (Deribit's :math:`N(d_1) - V_{coin}` for a call at :math:`r = 0`);
        None for ``settle="usd"``.
    """

    price: float | FloatArray
    delta: float | FloatArray
    gamma: float | FloatArray
    vega: float | FloatArray
    theta: float | FloatArray
    rho: float | FloatArray
    delta_coin: float | FloatArray | None


@dataclass(frozen=True)
class _Market:
    """Validated inputs broadcast to one shape; ``last`` is the vol or the price."""

    call: BoolArray
    forward: FloatArray
    strike: FloatArray
    expiry: FloatArray
    rate: FloatArray
    last: FloatArray
    coin: bool


def _entry(shape: tuple[int, ...], flat: int) -> str:
    """`` entry 3`` or `` entry (2, 1)`` (1-based, as a worksheet counts); empty for a scalar."""
    if not shape:
        return ""
    index = [int(i) + 1 for i in np.unravel_index(flat, shape)]
    return f" entry {index[0]}" if len(index) == 1 else f" entry ({', '.join(map(str, index))})"


def _first_bad(ok: BoolArray) -> int | None:
    return None if bool(np.all(ok)) else int(np.flatnonzero(~ok)[0])


def _require(arr: FloatArray, ok: BoolArray, name: str, what: str) -> FloatArray:
    bad = _first_bad(ok)
    if bad is not None:
        raise XlVarError(f"{name}{_entry(arr.shape, bad)} must be {what}; got {arr.flat[bad]:g}")
    return arr


def _option_kind(option_type: Any) -> BoolArray:
    """True for calls: 'call'/'c' or 'put'/'p' in any case, a scalar or an array of them."""
    arr = np.asarray(option_type)
    if arr.dtype.kind in "USO":
        names = np.char.lower(np.char.strip(arr.astype(str)))
        call = np.asarray((names == "call") | (names == "c"), dtype=bool)
        ok = call | (names == "put") | (names == "p")
    else:
        call = ok = np.zeros(arr.shape, dtype=bool)
    bad = _first_bad(ok)
    if bad is not None:
        raise XlVarError(f"option_type{_entry(arr.shape, bad)} must be 'call' or 'put' ('c' or 'p'); "
                         f"got {arr.flat[bad]!r}")
    return call


def _market(option_type: Any, forward: ArrayLike, strike: ArrayLike, expiry: ArrayLike, rate: ArrayLike,
            settle: Any, last: FloatArray) -> _Market:
    """Validate the inputs every function shares, in one place, and broadcast them."""
    call = _option_kind(option_type)
    f, k, t, r = (_to_float(x, n) for x, n in ((forward, "forward"), (strike, "strike"),
                                               (expiry, "expiry"), (rate, "rate")))
    _require(f, np.isfinite(f) & (f > 0), "forward", "a positive number")
    _require(k, np.isfinite(k) & (k > 0), "strike", "a positive number")
    _require(t, np.isfinite(t) & (t >= 0), "expiry", "years to expiry, 0 or more (ACT/365)")
    _require(r, np.isfinite(r), "rate", "a finite number (0.05 = 5%)")
    coin = choose(settle, "settle", _SETTLE) == "coin"
    try:
        arrays = np.broadcast_arrays(call, f, k, t, r, last)
    except ValueError:
        shapes = ", ".join(str(np.shape(a)) for a in (call, f, k, t, r, last))
        raise XlVarError(f"option_type, forward, strike, expiry, rate and vol/price have shapes {shapes} that "
                         "do not broadcast: give arrays of one length (or scalars)") from None
    call_b, f_b, k_b, t_b, r_b, last_b = arrays
    return _Market(call_b, f_b, k_b, t_b, r_b, last_b, coin)


def _vol(vol: ArrayLike) -> FloatArray:
    v = _to_float(vol, "vol")
    v = _require(v, np.isfinite(v) & (v >= 0), "vol", "a volatility of 0 or more (0.6 = 60%)")
    return _require(v, v <= MAX_VOL, "vol",
                    f"a fraction (0.6 = 60%), at most {MAX_VOL:g}: divide a vol in percent by 100")


def _out(a: FloatArray) -> float | FloatArray:
    return float(a) if a.ndim == 0 else a


def option_price(option_type: Any, forward: ArrayLike, strike: ArrayLike, expiry: ArrayLike, vol: ArrayLike,
                 rate: ArrayLike = 0.0, settle: str = "usd") -> float | FloatArray:
    r"""Black-76 price of a European option on the forward, in the settlement currency.

    .. math::

        V = D\,[\omega F N(\omega d_1) - \omega K N(\omega d_2)], \qquad
        V_{coin} = V / F,

    with :math:`\omega = +1` for a call and :math:`-1` for a put (module docstring).
    At ``expiry`` 0 (or ``vol`` 0) the value is the discounted intrinsic value.

    Parameters
    ----------
    option_type : str or array_like of str
        'call'/'c' or 'put'/'p', any case.
    forward, strike : array_like
        Positive forward price and strike (USD per coin).
    expiry : array_like
        Years to expiry, ACT/365 (``seconds / (365 * 86400)``); 0 means expired.
    vol : array_like
        Black volatility, 0 or more (0.6 = 60%).
    rate : array_like, default 0
        Continuously compounded rate of the discount factor :math:`D = e^{-rT}`.
    settle : {"usd", "coin"}
        "usd" (alias "linear"): price in USD. "coin" (alias "inverse", Deribit):
        price in coin, the USD value divided by the forward.

    Returns
    -------
    float or ndarray
        A float when every input is a scalar, else an array of the broadcast shape.

    Examples
    --------
    >>> round(option_price("call", 19, 19, 0.75, 0.28, rate=0.10), 6)  # Haug (2007), p. 4
    1.701051
    """
    m = _market(option_type, forward, strike, expiry, rate, settle, _vol(vol))
    usd = black76_price(m.call, m.forward, m.strike, m.expiry, m.last, m.rate)
    return _out(usd / m.forward if m.coin else usd)


def option_greeks(option_type: Any, forward: ArrayLike, strike: ArrayLike, expiry: ArrayLike, vol: ArrayLike,
                  rate: ArrayLike = 0.0, settle: str = "usd") -> Greeks:
    r"""Black-76 price and Greeks (:class:`Greeks`); the Greeks are in USD per one coin.

    ``delta``, ``gamma`` are derivatives in the forward; ``vega`` is per 0.01 of
    volatility, ``theta`` per calendar day (:math:`1/365` year), ``rho`` per 0.01 of
    rate. For ``settle="coin"``, ``price`` is in coin and ``delta_coin``
    :math:`= \Delta - V/F` is the delta of the coin price times :math:`F`. At
    :math:`\sigma\sqrt T = 0`, delta is the discounted in-the-money indicator (half of
    it at the money) and gamma and vega are 0.

    Parameters
    ----------
    option_type, forward, strike, expiry, vol, rate, settle
        As :func:`option_price`.

    Returns
    -------
    Greeks
    """
    m = _market(option_type, forward, strike, expiry, rate, settle, _vol(vol))
    g = black76_greeks(m.call, m.forward, m.strike, m.expiry, m.last, m.rate)
    return Greeks(
        price=_out(g.price / m.forward if m.coin else g.price),
        delta=_out(g.delta),
        gamma=_out(g.gamma),
        vega=_out(g.vega / 100.0),
        theta=_out(g.theta / 365.0),
        rho=_out(g.rho / 100.0),
        delta_coin=_out(g.delta - g.price / m.forward) if m.coin else None,
    )


def _normalised(x: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    r""":math:`b(x, s)`, its complement :math:`e^{x/2} - b`, :math:`\partial b/\partial s` and a rounding scale.

    For x ≤ 0 < s. Each is a sum of terms of one sign or a difference of two small,
    relatively exact terms, so neither wing loses its digits: :math:`e^{x/2} - b =
    e^{x/2}N(-h-t) + e^{-x/2}N(h-t)` and :math:`\partial b/\partial s =
    e^{-(h^2+t^2)/2}/\sqrt{2\pi}` with :math:`h = x/s`, :math:`t = s/2`. The scale
    :math:`e^{x/2}N(h+t) + e^{-x/2}N(h-t)` bounds the rounding error of :math:`b` over ε.
    """
    h, t = x / s, 0.5 * s
    up, down = np.exp(0.5 * x), np.exp(-0.5 * x)
    first, second = up * ndtr(h + t), down * ndtr(h - t)
    complement = up * ndtr(-h - t) + second
    vega = np.exp(-0.5 * (h * h + t * t)) / _SQRT_2PI
    return first - second, complement, vega, first + second


def _solve(x: FloatArray, beta: FloatArray) -> FloatArray:
    r"""Total volatility s with b(x, s) = beta, for x ≤ 0 and 0 < beta < exp(x/2) (module docstring).

    Newton steps are taken in the variable in which the objective is nearly linear:
    :math:`1/s^2` for :math:`\ln b \approx -x^2/(2s^2)` (lower branch) and :math:`s^2` for
    :math:`\ln(e^{x/2} - b) \approx -s^2/8` (upper branch). An element stops when its
    step is below 32 units in the last place of s or below the rounding noise of the
    objective (the volatility move of that noise; it cannot be resolved further).
    """
    top = np.exp(0.5 * x)
    target_c = top - beta
    s_c = np.sqrt(-2.0 * x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        b_c = np.where(x < 0, _normalised(x, np.where(x < 0, s_c, 1.0))[0], 0.0)
        upper = beta >= b_c
        guess_low = x / (_SQRT3 * ndtri(np.cbrt(3.0 * _SQRT3 * beta / (-2.0 * np.pi * x))))
        guess_up = -2.0 * ndtri(target_c / (top + 1.0 / top))
    s = np.where(upper, np.maximum(guess_up, s_c), np.minimum(np.nan_to_num(guess_low, nan=np.inf), s_c))
    # the root is above s_c on the upper branch and below it on the lower one; the bracket starts wider so
    # that Newton steps to a root at (or a hair across) s_c are not mistaken for leaving it
    lo, hi = np.where(upper, 0.5 * s_c, 0.0), np.where(upper, np.inf, 2.0 * s_c)
    s = np.where((s > lo) & (s < hi), s, np.where(upper, 2.0 * s_c + 1.0, 0.5 * s_c))
    log_beta, log_target_c = np.log(beta), np.log(target_c)
    active = np.arange(s.size)
    for _ in range(_MAX_STEPS):
        xa, sa, la, ha, up_a = x[active], s[active], lo[active], hi[active], upper[active]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            b, comp, vega, scale = _normalised(xa, sa)
            below = b < beta[active]
            la, ha = np.where(below, sa, la), np.where(below, ha, sa)
            ratio = np.where(up_a, (np.log(comp) - log_target_c[active]) * comp,
                             (np.log(b) - log_beta[active]) * b) * 2.0 / (vega * sa)
            new = np.where(up_a, sa * np.sqrt(1.0 + ratio), sa / np.sqrt(1.0 + ratio))
            noise = 4.0 * _EPS * (scale + np.where(up_a, top[active], 0.0)) / vega
            fallback = np.where(np.isfinite(ha), np.where(la > 0, np.sqrt(la * ha), 0.5 * ha), 2.0 * la)
            # a step this small has converged (the next would be lost in rounding), even if rounding put
            # it a hair outside the bracket; a larger step that leaves the bracket is replaced by bisection
            done = (np.abs(new - sa) <= 32.0 * _EPS * sa + noise) | (ha - la <= 4.0 * _EPS * sa)
        new = np.where(np.isfinite(new) & (done | ((new > la) & (new < ha))), new, fallback)
        s[active], lo[active], hi[active] = new, la, ha
        active = active[~done]
        if active.size == 0:
            break
    return s


def implied_vol(price: ArrayLike, option_type: Any, forward: ArrayLike, strike: ArrayLike, expiry: ArrayLike,
                rate: ArrayLike = 0.0, settle: str = "usd") -> float | FloatArray:
    r"""Black-76 volatility that reprices ``price`` (module docstring for the method).

    No-arbitrage bounds, in USD (divide by :math:`F` for ``settle="coin"``):

    .. math::

        D\max(\omega(F - K), 0) \le V < D F \ \text{(call)}, \quad D K \ \text{(put)}.

    A price at the lower bound (within a few units in the last place) returns 0.0, the
    volatility of an option worth its intrinsic value; a price below it, or at or
    above the upper bound (infinite volatility), is refused, naming the bound and the
    entry. An expired option (``expiry`` 0) has no time value and is refused.

    Parameters
    ----------
    price : array_like
        Option price in the settlement currency (USD, or coin for ``settle="coin"``).
    option_type, forward, strike, expiry, rate, settle
        As :func:`option_price`.

    Returns
    -------
    float or ndarray
        Volatility (0.6 = 60%): a float when every input is a scalar, else an array
        of the broadcast shape.
    """
    p = _to_float(price, "price")
    _require(p, np.isfinite(p) & (p >= 0), "price", "a price of 0 or more")
    m = _market(option_type, forward, strike, expiry, rate, settle, p)
    f, k, t = m.forward, m.strike, m.expiry
    _require(t, t > 0, "expiry", "more than 0: an expired option has no time value, so no implied volatility")
    unit = f if m.coin else np.ones_like(f)
    disc = np.exp(-m.rate * t)
    intrinsic = np.maximum(np.where(m.call, f - k, k - f), 0.0)
    otm = m.last * unit / disc - intrinsic  # undiscounted USD value of the out-of-the-money option
    ccy = "coin" if m.coin else "USD"
    bad = _first_bad(otm >= -_INTRINSIC_SLACK * intrinsic)
    if bad is not None:
        raise XlVarError(
            f"price{_entry(otm.shape, bad)} ({m.last.flat[bad]:g} {ccy}) is below the lower bound, the discounted "
            f"intrinsic value D·max(±(F − K), 0) = {(disc * intrinsic / unit).flat[bad]:g} {ccy}: no volatility "
            "gives it; check the price, forward, strike and option_type")
    bad = _first_bad(otm < np.minimum(f, k))
    if bad is not None:
        bound, what = ("D·F", "forward") if m.call.flat[bad] else ("D·K", "strike")
        raise XlVarError(
            f"price{_entry(otm.shape, bad)} ({m.last.flat[bad]:g} {ccy}) is at or above the upper bound {bound} = "
            f"{(disc * np.where(m.call, f, k) / unit).flat[bad]:g} {ccy} (the discounted {what}), which only an "
            "infinite volatility reaches; check the price and its currency (settle)")
    x = -np.abs(np.log(f / k))
    beta = otm / np.sqrt(f * k)
    s = np.zeros(beta.shape)
    live = beta > 0
    s[live] = _solve(x[live], beta[live])
    return _out(s / np.sqrt(t))
