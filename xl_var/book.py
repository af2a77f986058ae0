r"""A book of crypto positions — spot, perpetuals, futures and options — and its revaluation.

A :class:`Book` holds positions in Deribit-named instruments
(:func:`~xl_var.instruments.parse_instrument`) with the market data that prices them,
and maps scenario moves of the underlyings to each position's USD P&L.

Pricing and P&L in USD, per position of quantity :math:`q` (notional :math:`N` for
inverse futures and perpetuals); :math:`S` is the underlying's spot, :math:`F` the
forward of the position's expiry (default: spot), :math:`c = F_0/S_0` the basis ratio,
held fixed in a scenario (forwards move in proportion to spot: :math:`F_1 = c S_1`).

=========================  ================================  =====================================
instrument                 USD value                         USD P&L for :math:`S_1 = S_0(1+m)`
=========================  ================================  =====================================
spot                       :math:`q S`                       :math:`q S_0 m`
linear perpetual/future    0 (margined)                      :math:`q F_0 m`
inverse perpetual/future   0 (margined)                      :math:`N(1/F_0 - 1/F_1)\,S_1 = (N/c)\,m`
linear option              :math:`q V(F)`                    :math:`q\,[V(F_1) - V(F_0)]`
inverse option             :math:`q V(F) S/F`                :math:`(q/c)\,[V(F_1) - V(F_0)]`
=========================  ================================  =====================================

:math:`V` is the Black-76 USD value (:mod:`xl_var.black76`) at the option's implied vol
and time to expiry; coin amounts are converted to USD at the scenario's spot, so a long
inverse perpetual of notional :math:`N` gains :math:`N m` USD when the price moves by
:math:`m` while its coin P&L is :math:`N(1/F_0 - 1/F_1)`. Funding, fees and the coin
collateral itself are not in the book unless held as spot positions.

Greeks (per position and summed per underlying), with respect to spot:
``delta`` :math:`\partial\Pi/\partial S` (coins), ``delta_usd`` :math:`S\,\partial\Pi/\partial S`
(USD per unit relative move), ``delta_coin`` :math:`F\,\partial(\Pi/S)/\partial F` for
coin-settled positions (Deribit's coin delta: :math:`q(\Delta - V/F)` for an inverse
option, :math:`N/F` for an inverse future; equal to ``delta`` otherwise), ``gamma``
:math:`\partial^2\Pi/\partial S^2` (coins per USD), ``gamma_usd``
:math:`S^2\,\partial^2\Pi/\partial S^2` (USD per unit relative move squared), ``vega``
(USD per vol point), ``theta`` (USD per calendar day).

References
----------
Deribit, "Inverse futures" and "Options" contract specifications (knowledge base);
Black, F. (1976), *Journal of Financial Economics* 3, 167–179; Hull, J. (2022),
*Options, Futures, and Other Derivatives*, 11th ed., ch. 19 (Greeks).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from xl_var._typing import BoolArray, FloatArray, IntArray
from xl_var._validate import MAX_VOL
from xl_var.black76 import black76_greeks, black76_price
from xl_var.errors import XlVarError
from xl_var.instruments import Instrument, parse_instrument, year_fraction
from xl_var.volsurface import VolSurface

__all__ = ["DAYS_PER_YEAR", "INVERSE_CONTRACT_USD", "Book", "BookGreeks", "Position"]

DAYS_PER_YEAR = 365.0  # ACT/365, as the instruments' year fractions
_GREEK_FIELDS = ("value", "delta", "delta_usd", "delta_coin", "gamma", "gamma_usd", "vega", "theta")


@dataclass(frozen=True)
class Position:
    """One line of a book: a parsed instrument, its quantity and an optional vol override."""

    name: str
    instrument: Instrument
    quantity: float
    vol: float | None = None


@dataclass(frozen=True)
class BookGreeks:
    """USD value and Greeks, one entry per label (position or underlying), plus their totals.

    Attributes
    ----------
    labels : tuple of str
    value, delta, delta_usd, delta_coin, gamma, gamma_usd, vega, theta : ndarray
        See the module docstring for units. ``delta_coin`` sums coin deltas, which is
        meaningful per underlying.
    """

    labels: tuple[str, ...]
    value: FloatArray
    delta: FloatArray
    delta_usd: FloatArray
    delta_coin: FloatArray
    gamma: FloatArray
    gamma_usd: FloatArray
    vega: FloatArray
    theta: FloatArray


def _utc(valuation: Any) -> dt.datetime:
    if isinstance(valuation, dt.datetime):
        return valuation.replace(tzinfo=dt.UTC) if valuation.tzinfo is None else valuation.astimezone(dt.UTC)
    if isinstance(valuation, dt.date):
        return dt.datetime(valuation.year, valuation.month, valuation.day, tzinfo=dt.UTC)
    raise XlVarError(f"valuation must be a date or datetime (naive times are UTC); got {valuation!r}")


def _positive(x: Any, what: str, kind: str = "a positive number") -> float:
    """``x`` as a finite float above 0; the message says it must be ``kind``."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v) or v <= 0.0:
        raise XlVarError(f"{what} must be {kind}; got {x!r}")
    return v


def _vol(x: Any, what: str) -> float:
    v = _positive(x, what, "a positive volatility such as 0.6 (60%)")
    if v > MAX_VOL:
        raise XlVarError(f"{what} is {v:g}: give volatilities as fractions (0.6 for 60%)")
    return v


def _upper(mapping: Mapping[Any, Any] | None, what: str) -> dict[Any, Any]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise XlVarError(f"{what} must map each underlying (e.g. 'BTC') to a value")
    out: dict[Any, Any] = {}
    for k, v in mapping.items():
        if isinstance(k, tuple) and len(k) == 2:
            out[(str(k[0]).strip().upper(), _forward_expiry(k[1], what))] = v
        else:
            out[str(k).strip().upper()] = v
    return out


def _forward_expiry(x: Any, what: str) -> dt.date:
    """The expiry date of a (underlying, expiry) forward key: a date, datetime or a Deribit code like 27DEC24."""
    if isinstance(x, dt.datetime):
        return _utc(x).date()
    if isinstance(x, dt.date):
        return x
    try:
        expiry = parse_instrument(f"BTC-{str(x).strip()}").expiry
    except XlVarError:
        raise XlVarError(f"{what} key expiry {x!r} must be a date or a Deribit date code such as 27DEC24") from None
    assert expiry is not None
    return expiry.date()


#: Deribit's inverse contract sizes in USD: a smaller non-zero notional cannot be traded, so it is coins typed
#: where the USD notional belongs.
INVERSE_CONTRACT_USD = {"BTC": 10.0, "ETH": 1.0}


def _check_notional(i: int, p: Position, spot: float) -> None:
    """Refuse an inverse future or perpetual whose USD notional is below one contract (coins typed by mistake)."""
    inst = p.instrument
    size = INVERSE_CONTRACT_USD.get(inst.underlying, 1.0)
    if inst.kind != "option" and inst.settle == "coin" and inst.kind != "spot" and 0.0 < abs(p.quantity) < size:
        raise XlVarError(f"position {i + 1} ({p.name}): the quantity of an inverse contract is its USD notional "
                         f"(contracts of {size:g} USD), so {p.quantity:g} looks like coins: give the notional, "
                         f"e.g. {p.quantity * spot:,.0f}")


def _positions(positions: Iterable[Any]) -> list[Position]:
    out = []
    try:
        rows = list(positions)
    except TypeError:
        raise XlVarError("positions must be a list of (instrument, quantity) pairs") from None
    if not rows:
        raise XlVarError("positions is empty: give at least one (instrument, quantity) pair")
    for i, row in enumerate(rows, start=1):
        if isinstance(row, Position):
            out.append(row)
            continue
        if isinstance(row, str) or not isinstance(row, (tuple, list)) or len(row) not in (2, 3):
            raise XlVarError(f"position {i} must be an (instrument, quantity) pair, optionally with a vol; got {row!r}")
        name = str(row[0])
        try:
            inst = parse_instrument(name)
        except XlVarError as exc:
            raise XlVarError(f"position {i}: {exc}") from None
        try:
            q = float(row[1])
        except (TypeError, ValueError):
            q = math.nan
        if not math.isfinite(q):
            raise XlVarError(f"position {i} ({inst.name}): quantity must be a number; got {row[1]!r}")
        vol = None
        if len(row) == 3 and row[2] is not None:
            vol = _vol(row[2], f"position {i} ({inst.name}) vol")
        out.append(Position(inst.name, inst, q, vol))
    return out


class Book:
    r"""Positions in spot, perpetuals, futures and options with the market data that values them.

    Parameters
    ----------
    positions : iterable of (instrument, quantity) or (instrument, quantity, vol)
        Deribit names (``BTC``, ``BTC-PERPETUAL``, ``ETH_USDC-27DEC24``,
        ``BTC-27SEP24-40000-C``...). Quantity in coins, except inverse futures and
        perpetuals, whose quantity is the USD notional; negative for shorts. A third
        entry overrides the market's implied vol for that option.
    spot : mapping
        Underlying → spot price in USD (every underlying of the book).
    valuation : datetime or date
        Valuation time (naive datetimes are UTC; a date is 00:00 UTC). Options and
        futures expired at or before it are refused.
    vols : float, mapping or None
        Implied vols: one number for every option, or underlying → number or
        :class:`~xl_var.volsurface.VolSurface`. Every option needs one (from here or
        its position).
    forwards : mapping or None
        Underlying → forward price for every dated instrument of that underlying, and/or
        (underlying, expiry) → forward for one expiry (expiry a date or a code such as
        ``27DEC24``); the more specific entry wins. Default: spot (perpetuals always
        trade at spot).
    rate : float, default 0
        Continuously compounded USD rate discounting option values (:math:`e^{-rT}`).

    Notes
    -----
    The book is immutable: its arrays are read-only. ``pnl`` is vectorised over
    scenarios; see the module docstring for the P&L of each kind of instrument.
    """

    def __init__(self, positions: Iterable[Any], spot: Mapping[str, Any], *, valuation: Any,
                 vols: Any = None, forwards: Mapping[Any, Any] | None = None, rate: float = 0.0) -> None:
        self.valuation = _utc(valuation)
        self.positions = tuple(_positions(positions))
        try:
            self.rate = float(rate)
        except (TypeError, ValueError):
            self.rate = math.nan
        if not math.isfinite(self.rate) or abs(self.rate) > 1.0:
            raise XlVarError(f"rate must be a continuously compounded rate such as 0.05; got {rate!r}")
        spots = _upper(spot, "spot")
        fwd = _upper(forwards, "forwards")
        vol_map = vols if isinstance(vols, Mapping) else None
        vol_by = _upper(vol_map, "vols")
        underlyings: list[str] = []
        for p in self.positions:
            if p.instrument.underlying not in underlyings:
                underlyings.append(p.instrument.underlying)
        self.underlyings = tuple(underlyings)
        s0 = []
        for u in self.underlyings:
            if u not in spots:
                raise XlVarError(f"{self.first_position(u)}: spot has no price for {u}: add {u} to spot")
            s0.append(_positive(spots[u], f"spot of {u}"))
        n = len(self.positions)
        self.spot: FloatArray = np.array(s0)
        self.underlying_index: IntArray = np.array([self.underlyings.index(p.instrument.underlying)
                                                    for p in self.positions], dtype=np.int64)
        self.quantity: FloatArray = np.array([p.quantity for p in self.positions])
        kinds = [p.instrument.kind for p in self.positions]
        self.is_option: BoolArray = np.array([k == "option" for k in kinds], dtype=bool)
        self.is_coin: BoolArray = np.array([p.instrument.settle == "coin" for p in self.positions], dtype=bool)
        self.is_call: BoolArray = np.array([p.instrument.option_type == "call" for p in self.positions], dtype=bool)
        self.strike: FloatArray = np.array([p.instrument.strike or math.nan for p in self.positions])
        self.expiry_years: FloatArray = np.zeros(n)
        forward = np.empty(n)
        self.vol: FloatArray = np.full(n, math.nan)
        for i, p in enumerate(self.positions):
            inst, u = p.instrument, p.instrument.underlying
            s = self.spot[self.underlying_index[i]]
            _check_notional(i, p, s)
            forward[i] = s
            if inst.expiry is not None:
                t = year_fraction(self.valuation, inst.expiry)
                if t <= 0.0:
                    raise XlVarError(f"position {i + 1} ({p.name}) expired at {inst.expiry:%Y-%m-%d %H:%M} UTC, "
                                     f"at or before valuation {self.valuation:%Y-%m-%d %H:%M} UTC: remove it")
                self.expiry_years[i] = t
                key = (u, inst.expiry.date())
                if key in fwd or u in fwd:
                    forward[i] = _positive(fwd[key] if key in fwd else fwd[u],
                                           f"forward of {u} {inst.expiry:%d%b%y}")
            if inst.kind == "option":
                self.vol[i] = self._option_vol(i, p, vols, vol_by, forward[i])
        self.forward: FloatArray = forward
        self.basis: FloatArray = forward / self.spot[self.underlying_index]  # c = F0 / S0
        self._is_spot: BoolArray = np.array([k == "spot" for k in kinds], dtype=bool)
        #: USD P&L per unit quantity per unit move of the linear instruments (0 for options): S0 for spot,
        #: F0 for linear futures and perpetuals, S0/F0 for inverse ones (whose quantity is USD notional).
        self._linear: FloatArray = np.select([self._is_spot, self.is_option, self.is_coin],
                                             [self.spot[self.underlying_index], 0.0, 1.0 / self.basis], forward)
        opt = self.is_option
        self._v0: FloatArray = black76_price(self.is_call[opt], forward[opt], self.strike[opt],
                                             self.expiry_years[opt], self.vol[opt], self.rate)
        self._unit = self._unit_greeks()
        for arr in (self.spot, self.underlying_index, self.quantity, self.is_option, self.is_coin, self.is_call,
                    self.strike, self.expiry_years, self.vol, self.forward, self.basis, self._v0, self._is_spot,
                    self._linear, *(getattr(self._unit, f) for f in _GREEK_FIELDS)):
            arr.setflags(write=False)

    def _option_vol(self, i: int, p: Position, vols: Any, vol_by: dict[Any, Any], forward: float) -> float:
        what = f"position {i + 1} ({p.name})"
        if p.vol is not None:
            return p.vol
        u = p.instrument.underlying
        source = vol_by.get(u) if isinstance(vols, Mapping) else vols
        if source is None:
            raise XlVarError(f"{what} is an option with no implied vol: give vols for {u} (a number or a surface) "
                             "or a vol on the position")
        if isinstance(source, VolSurface):
            assert p.instrument.strike is not None  # an option
            v = float(source.vol(self.expiry_years[i], p.instrument.strike, forward))
            return _vol(v, f"{what} vol from the {u} surface")
        return _vol(source, f"vols for {u}")

    # ------------------------------------------------------------------ values and Greeks
    def first_position(self, underlying: str) -> str:
        """How messages name the first position on ``underlying``: "position 3 (BTC-PERPETUAL)"."""
        i = next(i for i, p in enumerate(self.positions) if p.instrument.underlying == underlying)
        return f"position {i + 1} ({self.positions[i].name})"

    @property
    def size(self) -> int:
        """Number of positions P."""
        return len(self.positions)

    def _usd_per_option_usd(self) -> FloatArray:
        """Factor from Black-76 USD value to the position's USD value per unit: 1, or S/F for coin-settled."""
        out: FloatArray = np.where(self.is_coin, 1.0 / self.basis, 1.0)
        return out

    def unit_greeks(self) -> BookGreeks:
        """Value and Greeks of one unit (quantity 1) of each position, in the units of :meth:`greeks`
        (computed once, when the book is made; the arrays are read-only)."""
        return self._unit

    def _unit_greeks(self) -> BookGreeks:
        c = self.basis
        s = self.spot[self.underlying_index]
        opt = self.is_option
        usd = self._usd_per_option_usd()
        value = np.where(self._is_spot, s, 0.0)
        delta = self._linear / s  # spot 1, linear futures c, inverse futures 1/F0 (options below)
        gamma, vega, theta = np.zeros(self.size), np.zeros(self.size), np.zeros(self.size)
        coin = delta.copy()
        if opt.any():
            g = black76_greeks(self.is_call[opt], self.forward[opt], self.strike[opt], self.expiry_years[opt],
                               self.vol[opt], self.rate)
            value[opt] = g.price * usd[opt]
            delta[opt] = g.delta * usd[opt] * c[opt]  # ∂F/∂S = c, times the USD factor
            gamma[opt] = g.gamma * usd[opt] * c[opt] ** 2
            vega[opt] = g.vega * usd[opt] / 100.0
            theta[opt] = g.theta * usd[opt] / DAYS_PER_YEAR
            coin[opt] = np.where(self.is_coin[opt], g.delta - g.price / self.forward[opt], delta[opt])
        return BookGreeks(tuple(p.name for p in self.positions), value, delta, delta * s, coin, gamma,
                          gamma * s * s, vega, theta)

    def value(self) -> FloatArray:
        """USD mark-to-market value of each position (0 for futures and perpetuals, which are margined)."""
        out: FloatArray = self.unit_greeks().value * self.quantity
        return out

    def dollar_delta(self) -> FloatArray:
        """The book's dollar delta per underlying (``greeks(by="underlying").delta_usd``), shape (U,)."""
        return self.by_underlying(self._unit.delta_usd * self.quantity)

    def by_underlying(self, col: FloatArray) -> FloatArray:
        """A per-position column summed per underlying (in :attr:`underlyings` order), shape (U,)."""
        out: FloatArray = np.bincount(self.underlying_index, weights=col, minlength=len(self.underlyings)).astype(
            np.float64)
        return out

    def greeks(self, by: str = "position") -> BookGreeks:
        """Value and Greeks per position (``by="position"``) or summed per underlying (``by="underlying"``).

        Units in the module docstring; the Black-76 Greeks come from
        :func:`~xl_var.black76.black76_greeks` on the forward, chained to spot through
        :math:`F = cS`.
        """
        if by not in ("position", "underlying"):
            raise XlVarError(f"by must be 'position' or 'underlying'; got {by!r}")
        unit = self.unit_greeks()
        cols = [getattr(unit, f) * self.quantity for f in _GREEK_FIELDS]
        if by == "position":
            return BookGreeks(unit.labels, *cols)
        return BookGreeks(self.underlyings, *(self.by_underlying(col) for col in cols))

    # ------------------------------------------------------------------ revaluation
    def unit_pnl(self, moves: ArrayLike, vol_shifts: ArrayLike | None = None, *, dt: float = 0.0,
                 revaluation: str = "full") -> FloatArray:
        r"""USD P&L of one unit of each position (quantity 1) in each scenario, shape (S, P).

        ``revaluation="full"`` reprices every position (the module docstring's table);
        ``"delta"`` is :math:`\delta_i r` and ``"delta-gamma"``
        :math:`\delta_i r + \tfrac12\Gamma_i r^2 + \theta_i\,\Delta t` with the dollar Greeks
        of :meth:`unit_greeks` (:math:`r` the underlying's move, :math:`\Delta t` in days).

        Parameters
        ----------
        moves : array_like, shape (S, U)
            Relative move :math:`m` of each underlying (columns in :attr:`underlyings`
            order): :math:`S_1 = S_0(1+m)`, forwards in proportion. Must be > −1.
        vol_shifts : array_like, optional
            Absolute change of each option's implied vol, broadcastable to (S, P)
            (0.05 = +5 vol points); shocked vols are floored at 0.
        dt : float, default 0
            Years passing before the repricing; an option whose remaining time is
            not positive is worth its intrinsic value (settlement).
        revaluation : {"full", "delta", "delta-gamma"}, default "full"
            How positions are repriced; ``vol_shifts`` applies to ``"full"`` only.

        Returns
        -------
        ndarray, shape (S, P)
            See the module docstring's table.
        """
        m = np.asarray(moves, dtype=np.float64)
        if m.ndim == 1:
            m = m[None, :]
        if m.ndim != 2 or m.shape[1] != len(self.underlyings):
            raise XlVarError(f"moves must have one column per underlying {list(self.underlyings)}; "
                             f"got shape {m.shape}")
        if not np.all(np.isfinite(m)) or np.any(m <= -1.0):
            raise XlVarError("moves must be finite relative moves above -1 (a price cannot fall to zero or below)")
        mp = m[:, self.underlying_index]  # (S, P)
        if revaluation != "full":
            g = self._unit
            approx: FloatArray = mp * g.delta_usd
            if revaluation == "delta-gamma":
                approx += 0.5 * g.gamma_usd * mp * mp + g.theta * (dt * DAYS_PER_YEAR)
            elif revaluation != "delta":
                raise XlVarError(f"revaluation must be 'full', 'delta' or 'delta-gamma'; got {revaluation!r}")
            return approx
        out: FloatArray = mp * self._linear
        opt = self.is_option
        if opt.any():
            t = np.maximum(self.expiry_years[opt] - float(dt), 0.0)
            if vol_shifts is None and np.all(self.vol[opt] * np.sqrt(t) > 0.0):
                v1 = self._option_values(np.log1p(m), t)
            else:
                vol = self.vol[opt]
                if vol_shifts is not None:
                    shift = np.broadcast_to(np.asarray(vol_shifts, dtype=np.float64), out.shape)[:, opt]
                    vol = np.maximum(vol + shift, 0.0)
                v1 = black76_price(self.is_call[opt], self.forward[opt] * (1.0 + mp[:, opt]), self.strike[opt], t,
                                   vol, self.rate)
            out[:, opt] = (v1 - self._v0) * self._usd_per_option_usd()[opt]
        return out

    def _option_values(self, log_ratio: FloatArray, t: FloatArray) -> FloatArray:
        r"""Black-76 values of the options for log moves ``log_ratio`` (S×U) at fixed vols and times ``t`` > 0.

        The same value as :func:`~xl_var.black76.black76_price`, arranged for scenario
        arrays: with :math:`\epsilon = \pm1` for calls and puts and :math:`s = \sigma\sqrt t`,
        :math:`V = D\epsilon\,[F_1 N(\epsilon d_1) - K N(\epsilon d_2)]`, where
        :math:`d_1 = \ln(1+m)/s + (\ln(F_0/K) + s^2/2)/s` needs one logarithm per scenario
        and underlying instead of one per option.
        """
        opt = self.is_option
        f0, k = self.forward[opt], self.strike[opt]
        s = self.vol[opt] * np.sqrt(t)
        sign = np.where(self.is_call[opt], 1.0, -1.0)
        lr = log_ratio[:, self.underlying_index[opt]]
        d1 = lr * (sign / s)
        d1 += sign * (np.log(f0 / k) + 0.5 * s * s) / s  # ε d1
        d2 = d1 - sign * s  # ε d2
        nd1, nd2 = ndtr(d1), ndtr(d2)
        np.exp(lr, out=lr)
        lr *= f0  # F1
        lr *= nd1
        nd2 *= k
        lr -= nd2
        lr *= sign * np.exp(-self.rate * t)
        return lr

    def pnl(self, moves: ArrayLike, vol_shifts: ArrayLike | None = None, *, dt: float = 0.0) -> FloatArray:
        """USD P&L of each position in each scenario, shape (S, P): :meth:`unit_pnl` times the quantities."""
        out: FloatArray = self.unit_pnl(moves, vol_shifts, dt=dt) * self.quantity
        return out
