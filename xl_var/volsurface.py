r"""Implied-volatility surfaces: a grid of vols by expiry and strike (or moneyness).

An analyst copies the grid from the exchange: rows are expiries :math:`T_1 < \dots <
T_m` (years), columns are strikes :math:`K_1 < \dots < K_n` (USD) or moneyness
:math:`x = K/F`, entries are implied vols :math:`\sigma_{ij}` (0.6 = 60 %).
:meth:`VolSurface.vol` reads it at any expiry :math:`T` and strike:

* **in strike**, within each expiry row, linear in :math:`x` (strike, or :math:`K/F`),
  flat beyond the first and last column: :math:`\sigma_i(x)`;
* **across expiries**, linear in total implied variance :math:`w = \sigma^2 T` at the same
  :math:`x`, for :math:`T_j \le T \le T_{j+1}`:

  .. math::

      w(T, x) = \frac{T_{j+1} - T}{T_{j+1} - T_j}\,\sigma_j(x)^2 T_j
              + \frac{T - T_j}{T_{j+1} - T_j}\,\sigma_{j+1}(x)^2 T_{j+1},
      \qquad \sigma(T, x) = \sqrt{w(T, x) / T};

* **flat in vol** outside the expiries: :math:`\sigma(T, x) = \sigma_1(x)` for
  :math:`T < T_1` (including :math:`T \le 0`, where callers price intrinsic value anyway)
  and :math:`\sigma_m(x)` for :math:`T > T_m`.

Interpolating total variance rather than vol keeps the forward variance
:math:`\partial w/\partial T` piecewise constant and, when the grid is free of calendar
arbitrage (:math:`w` non-decreasing in :math:`T`), keeps the interpolated surface free of
it too. A grid whose total variance falls between two expiries is still interpolated
(the result stays positive, as a blend of two positive variances); it is not rejected.

Reference: Gatheral, J. (2006), *The Volatility Surface: A Practitioner's Guide*, Wiley,
ch. 3 (total implied variance, calendar-spread arbitrage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from numpy.typing import ArrayLike

from xl_var._typing import FloatArray, IntArray
from xl_var._validate import MAX_VOL, as_matrix, as_vector
from xl_var.errors import XlVarError
from xl_var.instruments import as_utc, year_fraction

__all__ = ["VolSurface"]


def _listed(x: ArrayLike) -> ArrayLike:
    """A single number as a one-entry array; anything else unchanged (validated by the caller)."""
    one_number = np.isscalar(x) or (isinstance(x, np.ndarray) and x.ndim == 0)
    return np.reshape(x, 1) if one_number else x


def _increasing_positive(x: ArrayLike, name: str, unit: str) -> FloatArray:
    """A read-only copy of ``x`` (one number or a row or column) that is positive and strictly increasing."""
    arr = as_vector(_listed(x), name).copy()
    bad = np.flatnonzero(arr <= 0.0)
    if bad.size:
        raise XlVarError(f"{name} entry {bad[0] + 1} is {arr[bad[0]]:g}: {unit} must be greater than 0")
    bad = np.flatnonzero(np.diff(arr) <= 0.0)
    if bad.size:
        i = int(bad[0])
        raise XlVarError(f"{name} entry {i + 2} ({arr[i + 1]:g}) is not greater than entry {i + 1} "
                         f"({arr[i]:g}): list {name} in increasing order, each once")
    arr.setflags(write=False)
    return arr


def _grid(vols: ArrayLike, shape: tuple[int, int]) -> FloatArray:
    """A read-only expiries × strikes array of vols in (0, MAX_VOL]."""
    arr = as_matrix(_listed(vols), "vols", finite=False)
    if arr.shape != shape and arr.size == shape[0] * shape[1] and 1 in shape:
        arr = arr.reshape(shape)  # one expiry (or one strike) given as a single row or column
    if arr.shape != shape:
        raise XlVarError(f"vols is {arr.shape[0]}×{arr.shape[1]} but there are {shape[0]} expiries and "
                         f"{shape[1]} strikes: give one row per expiry and one column per strike")
    bad = ~(np.isfinite(arr) & (arr > 0.0) & (arr <= MAX_VOL))
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        v = arr[r, c]
        fix = ("vols are fractions (0.6 = 60%): divide by 100" if np.isfinite(v) and v > MAX_VOL
               else "give a positive number")
        raise XlVarError(f"vols row {r + 1}, column {c + 1} is {v:g}: {fix}")
    arr = arr.copy()  # C order; the caller's array stays writable
    arr.setflags(write=False)
    return arr


def _bracket(grid: FloatArray, x: FloatArray) -> tuple[FloatArray, IntArray, FloatArray]:
    """``x`` clipped to the grid, the index ``i`` of the node at or below it and the weight of node ``i + 1``."""
    xc = np.clip(x, grid[0], grid[-1])
    if grid.size == 1:
        return xc, np.zeros(xc.shape, dtype=np.int64), np.zeros(xc.shape)
    i = np.clip(np.searchsorted(grid, xc, side="right") - 1, 0, grid.size - 2).astype(np.int64)
    weight: FloatArray = (xc - grid[i]) / (grid[i + 1] - grid[i])
    return xc, i, weight


def _finite(x: ArrayLike, name: str, *, positive: bool) -> FloatArray:
    """``x`` as a float array (any shape) whose entries are finite (and positive)."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise XlVarError(f"{name} must contain only numbers") from None
    ok = np.isfinite(arr) & (arr > 0.0) if positive else np.isfinite(arr)
    if not ok.all():
        what = "a finite number greater than 0" if positive else "a finite number"
        raise XlVarError(f"{name} entry {int(np.flatnonzero(~ok.ravel())[0]) + 1} must be {what}")
    return arr


@dataclass(frozen=True, eq=False, init=False)
class VolSurface:
    r"""A grid of implied vols by expiry (years) and strike or moneyness.

    Parameters
    ----------
    expiries : array_like, shape (m,)
        Years to expiry :math:`T_1 < \dots < T_m`, all > 0 (see :meth:`from_dates`).
    strikes : array_like, shape (n,)
        Increasing strikes in USD, or moneyness :math:`K/F` when ``moneyness=True``.
    vols : array_like, shape (m, n)
        Implied vols as fractions (0.6 = 60 %), one row per expiry; positive, finite,
        at most :data:`MAX_VOL`. With one expiry or one strike a single row or column
        is accepted.
    moneyness : bool, default False
        Columns are :math:`K/F` rather than strikes.

    Raises
    ------
    XlVarError
        Naming the argument and the bad entry (counted from 1), e.g.
        ``"expiries entry 2 (0.1) is not greater than entry 1 (0.25): ..."`` or
        ``"vols row 2, column 3 is 60.5: vols are fractions (0.6 = 60%): divide by 100"``.

    Notes
    -----
    The interpolation is the module's: linear in strike (or :math:`K/F`) within a row,
    linear in total variance :math:`\sigma^2 T` across rows, flat outside the grid
    (Gatheral 2006, ch. 3).
    """

    expiries: FloatArray
    strikes: FloatArray
    vols: FloatArray
    moneyness: bool

    def __init__(self, expiries: ArrayLike, strikes: ArrayLike, vols: ArrayLike, *, moneyness: bool = False) -> None:
        t = _increasing_positive(expiries, "expiries", "years to expiry")
        k = _increasing_positive(strikes, "strikes", "moneyness K/F" if moneyness else "strikes")
        object.__setattr__(self, "expiries", t)
        object.__setattr__(self, "strikes", k)
        object.__setattr__(self, "vols", _grid(vols, (t.size, k.size)))
        object.__setattr__(self, "moneyness", bool(moneyness))

    @classmethod
    def from_dates(cls, expiry_dates: Sequence[datetime | date], strikes: ArrayLike, vols: ArrayLike,
                   valuation: datetime | date, moneyness: bool = False) -> VolSurface:
        """A surface whose expiries are dates, converted to ACT/365 years from ``valuation``.

        Parameters
        ----------
        expiry_dates : sequence of datetime or date
            Increasing expiries after ``valuation``; naive datetimes are UTC, a date
            means 08:00 UTC that day (Deribit's expiry time).
        strikes, vols, moneyness
            As for :class:`VolSurface`.
        valuation : datetime or date
            Valuation time (same conventions).

        Returns
        -------
        VolSurface

        Raises
        ------
        XlVarError
            An entry that is not a date, or not after ``valuation`` (drop expired rows).
        """
        start = as_utc(valuation, "valuation")
        if isinstance(expiry_dates, str | bytes) or not isinstance(expiry_dates, Sequence | np.ndarray):
            raise XlVarError("expiry_dates must be a list of dates, one per row of vols")
        ends = [as_utc(d, f"expiry_dates entry {i + 1}") for i, d in enumerate(expiry_dates)]
        years = [year_fraction(start, end) for end in ends]
        stamp = "%Y-%m-%d %H:%M UTC"
        for i, (end, y) in enumerate(zip(ends, years, strict=True)):
            if y <= 0.0:
                raise XlVarError(f"expiry_dates entry {i + 1} ({end:{stamp}}) is not after valuation "
                                 f"({start:{stamp}}): drop expired rows")
        _increasing_positive(years, "expiry_dates", "years to expiry")
        return cls(years, strikes, vols, moneyness=moneyness)

    def vol(self, expiry_years: ArrayLike, strike: ArrayLike, forward: ArrayLike | None = None) -> FloatArray:
        r"""Implied vol at each (expiry, strike), broadcast over the arguments.

        .. math::

            \sigma(T, x) = \sqrt{\frac{(1-a)\,\sigma_j(x)^2 T_j + a\,\sigma_{j+1}(x)^2 T_{j+1}}{T}},
            \qquad a = \frac{T - T_j}{T_{j+1} - T_j},

        with :math:`T` clipped to :math:`[T_1, T_m]` (flat vol outside) and
        :math:`\sigma_i(x)` linear in :math:`x` within row :math:`i`, flat outside the
        columns; :math:`x = K` or :math:`K/F` (module docstring).

        Parameters
        ----------
        expiry_years : array_like
            Years to expiry :math:`T` (finite; :math:`T \le 0` gives the first expiry's vol).
        strike : array_like
            Strikes :math:`K > 0` in USD.
        forward : array_like, optional
            Forwards :math:`F > 0`; required for a moneyness surface, ignored otherwise
            (except that it broadcasts with the others).

        Returns
        -------
        ndarray
            Vols with the broadcast shape of the arguments (0-d for scalars).
        """
        t = _finite(expiry_years, "expiry_years", positive=False)
        k = _finite(strike, "strike", positive=True)
        if self.moneyness and forward is None:
            raise XlVarError("forward is needed: this surface is by moneyness K/F")
        f = _finite(1.0 if forward is None else forward, "forward", positive=True)
        try:
            t, k, f = np.broadcast_arrays(t, k, f)
        except ValueError:
            raise XlVarError(f"expiry_years {t.shape}, strike {k.shape} and forward {f.shape} do not "
                             "broadcast together: give arrays of matching shapes") from None
        _, col, b = _bracket(self.strikes, k / f if self.moneyness else k)
        col1 = np.minimum(col + 1, self.strikes.size - 1)

        def row_vol(row: IntArray) -> FloatArray:
            out: FloatArray = (1.0 - b) * self.vols[row, col] + b * self.vols[row, col1]
            return out

        tc, row, a = _bracket(self.expiries, t)
        row1 = np.minimum(row + 1, self.expiries.size - 1)
        w = (1.0 - a) * row_vol(row) ** 2 * self.expiries[row] + a * row_vol(row1) ** 2 * self.expiries[row1]
        out: FloatArray = np.asarray(np.sqrt(w / tc))
        return out
