r"""Portfolio margin of a :class:`~xl_var.book.Book` over exchange-style scenario grids.

Each underlying is margined on its own and the margins add up, as Deribit and CME
SPAN do: for underlying :math:`u` every scenario moves :math:`u`'s price by :math:`m`
(forwards in proportion) and shocks the implied vols of :math:`u`'s options, all other
underlyings stay put, and only :math:`u`'s positions count. Every position is fully
revalued (:meth:`Book.pnl <xl_var.book.Book.pnl>`). With :math:`L_s` the USD loss
(minus the P&L) of :math:`u`'s positions in scenario :math:`s` and :math:`\ell(L_s)`
the loss the model counts,

.. math::

    M_u = \max\bigl(0,\ \max_s \ell(L_s)\bigr), \qquad M = \sum_u M_u .

``model="deribit"`` — Deribit's portfolio margin (``price_range`` :math:`R`, ``buckets``
:math:`n`). The core grid is :math:`2n+1` price moves :math:`m = kR/n`,
:math:`k = -n..n` (−16%…+16% in 4% steps), each with implied vols up, unchanged and
down; an extended table of large moves (−66%, −33%, +50%, +100%, +200%…+500%) with
vols up only counts a dampened fraction of its loss. Each option's vol :math:`\sigma`
with :math:`d` days to expiry is shocked to

.. math::

    f = (30/d)^{p},\quad p = \begin{cases} p_{\text{short}} & d < 30\\ p_{\text{long}} & d \ge 30\end{cases},
    \qquad \sigma_{\uparrow} = \max\bigl(\sigma(1 + v_{\uparrow} f),\ \sigma_{\min}\bigr),
    \qquad \sigma_{\downarrow} = \sigma\,\max(1 - v_{\downarrow} f,\ 0),

and an extended scenario's loss counts as

.. math::

    \ell(L) = \phi\,\frac{R}{|m|}\;\frac{L_+^2}{L_+ + D}, \qquad L_+ = \max(L, 0),

with :math:`\phi` = ``extended_table_factor`` and :math:`D` = ``extended_dampener``
(USD); core losses count in full. The maintenance margin is ``mm_factor`` × margin.

*Published by Deribit* (support article "Portfolio Margin" and the ``model_params`` of
``private/pme/simulate`` / ``private/simulate_portfolio``, 2024): the parameter names and
values ``price_range`` 0.16, 4 buckets a side, ``volatility_range_up`` 0.5,
``volatility_range_down`` 0.25, ``short_term_vega_power`` 0.30,
``long_term_vega_power`` 0.13, ``min_volatility_for_shock_up`` 0.5,
``extended_table_factor`` 1, ``extended_dampener`` 100000, ``mm_factor`` 0.8; the
9 buckets × vol up/same/down; the extended moves, vol up only, "only a fraction of
simulated P&L" and "a dampener"; risk vectors in coin at the scenario's price.
*xl-var's choices* (Deribit does not publish these formulas): relative vol shocks
scaled by :math:`(30/d)^p` with the short power below 30 days (as the published
example "(30/days)^0.30 × range" of Deribit's earlier PM page and the Deribit-style
model documented by Oreome); the up-shocked vol floored at ``min_volatility_for_shock_up``
(Oreome's reading); the fraction :math:`R/|m|`, which makes a linear position's
extended loss equal to its core loss at :math:`\pm R`, so only convexity (chiefly
large short out-of-the-money options, what Deribit says the table is for) can set the
margin there; the dampener :math:`L_+/(L_+ + D)` with :math:`D` in USD, which leaves
small extended losses almost uncounted and large ones nearly whole; no contingency
add-ons, delta shocks or cross-currency offsets; scenarios are instantaneous
(``look_ahead_days`` 0) unless asked.

``model="span"`` — CME SPAN's 16 risk scenarios (``price_scan`` :math:`P` as a fraction
of the price, ``vol_scan`` :math:`V` in absolute vol points): moves 0, ±⅓, ±⅔, ±1 of
:math:`P` with vols :math:`\sigma \pm V` (scenarios 1–14, in CME's order), and
±``extreme_move`` × :math:`P` with vols unchanged counting ``extreme_weight`` (35%) of
their loss (15–16); :math:`M_u` is floored by ``short_option_minimum`` USD per short
option contract (one coin). Options age by ``look_ahead_days`` (one day) before the
repricing. The defaults :math:`P` = 0.15 and :math:`V` = 0.10 are xl-var's crypto
choices, not CME's (CME sets scan ranges per product and changes them): set your own.

References
----------
Deribit (2024), "Portfolio Margin", support.deribit.com/hc/en-us/articles/25944756247837;
Deribit API v2, ``private/simulate_portfolio`` and ``private/pme/simulate``,
docs.deribit.com; Deribit (2019), "Portfolio Margin" (earlier parameters page),
deribit.com/pages/docs/portfoliomargin; Oreome, "Advanced Risk Scenarios",
docs.oreome.com (Deribit-style vol shocks); CME Group, "CME SPAN Methodology
Overview" and "Components of SPAN" (risk arrays, 16 scenarios, extreme moves at 35%,
short option minimum), cmegroup.com/clearing/risk-management/span-overview.html.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from xl_var._typing import BoolArray, FloatArray
from xl_var._validate import MAX_VOL, check_positive_int, choose
from xl_var.book import DAYS_PER_YEAR, Book
from xl_var.errors import XlVarError

__all__ = ["MODELS", "MarginResult", "MarginScenario", "margin_parameters", "portfolio_margin"]

MODELS: dict[str, tuple[str, ...]] = {"deribit": ("deribit-pm", "pm"), "span": ("cme", "cme-span")}
_CURRENCIES: dict[str, tuple[str, ...]] = {"usd": ("usdc",), "coin": ("crypto",)}


@dataclass(frozen=True)
class MarginScenario:
    """One row of a margin grid.

    Attributes
    ----------
    underlying : str
        The underlying this scenario moves (the others stay put).
    price_move : float
        Relative move of its price (0.04 = +4%).
    vol_shock : float
        The vol shock's size and sign: for ``deribit`` the relative shock at 30 days
        (+``volatility_range_up``, 0, −``volatility_range_down``; each option's
        actual shift is in :attr:`MarginResult.vol_shifts`), for ``span`` absolute vol
        points (±``vol_scan`` or 0).
    weight : float
        Fraction of the loss that counts: 1 for core scenarios, ``extended_table_factor``
        × R/|m| for Deribit's extended table (before the dampener), ``extreme_weight``
        for SPAN's 15–16.
    extended : bool
        True for Deribit's extended table and SPAN's extreme scenarios.
    """

    underlying: str
    price_move: float
    vol_shock: float
    weight: float
    extended: bool


@dataclass(frozen=True)
class MarginResult:
    """Portfolio margin of a book and the scenario grid behind it.

    Attributes
    ----------
    model, currency : str
    margin : float
        Sum of :attr:`by_underlying`; in ``currency="coin"`` a book with several
        underlyings has no single coin to add them in, so this is NaN (read
        :attr:`by_underlying`).
    maintenance : float
        Maintenance margin: ``mm_factor`` × margin for ``deribit``, the margin for ``span``.
    underlyings : tuple of str
        The book's underlyings, in its order.
    by_underlying : ndarray, shape (U,)
        Margin of each underlying, in USD or in its own coin.
    worst : tuple of MarginScenario, shape (U,)
        Per underlying, the scenario with the largest counted loss (the one that sets
        its margin, unless SPAN's short-option minimum is larger or no scenario loses).
    scenarios : tuple of MarginScenario, shape (S,)
        Every scenario, underlying by underlying.
    pnl : ndarray, shape (S, P)
        USD P&L of each position in each scenario (0 for positions on other underlyings).
    vol_shifts : ndarray, shape (S, P)
        Absolute implied-vol change applied to each option (0 for other positions).
    loss : ndarray, shape (S,)
        Loss that counts in each scenario (weighted and dampened), in ``currency``;
        coin amounts are converted at the scenario's price.
    params : dict
        Every parameter of the model, defaults filled in.
    """

    model: str
    currency: str
    margin: float
    maintenance: float
    underlyings: tuple[str, ...]
    by_underlying: FloatArray
    worst: tuple[MarginScenario, ...]
    scenarios: tuple[MarginScenario, ...]
    pnl: FloatArray
    vol_shifts: FloatArray
    loss: FloatArray
    params: dict[str, Any]


# ---------------------------------------------------------------------------- parameters
_Check = Callable[[str, Any], Any]


def _number(low: float, high: float = math.inf, *, open_low: bool = False, open_high: bool = False) -> _Check:
    """A check for one finite number in [low, high] (ends open as asked)."""
    lo, hi = ("(" if open_low else "["), (")" if open_high else "]")
    span = f"in {lo}{low:g}, {high:g}{hi}" if math.isfinite(high) else f"{'>' if open_low else '≥'} {low:g}"

    def check(name: str, value: Any) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            x = math.nan
        ok = math.isfinite(x) and (x > low if open_low else x >= low) and (x < high if open_high else x <= high)
        if not ok:
            hint = (f": a fraction, so {x / 100:g} for {x:g}%" if math.isfinite(high) and high < x <= 100.0 * high
                    else "")
            raise XlVarError(f"{name} must be a number {span}{hint}; got {value!r}")
        return x

    return check


def _buckets(name: str, value: Any) -> int:
    return check_positive_int(value, name, what="a whole number of price steps on each side, 1 or more")


def _moves(name: str, value: Any) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in np.atleast_1d(np.asarray(value, dtype=np.float64)))
    except (TypeError, ValueError):
        out = ()
    if not out or not all(math.isfinite(m) and m > -1.0 and m != 0.0 for m in out):
        raise XlVarError(f"{name} must be a list of non-zero relative moves above -1, e.g. (-0.66, 0.5); "
                         f"got {value!r}")
    return out


_DERIBIT: dict[str, tuple[Any, _Check]] = {
    "price_range": (0.16, _number(0.0, 1.0, open_low=True, open_high=True)),
    "buckets": (4, _buckets),
    "volatility_range_up": (0.5, _number(0.0, 5.0)),  # relative: vols up by at most 500%
    "volatility_range_down": (0.25, _number(0.0, 1.0)),
    "short_term_vega_power": (0.30, _number(0.0)),
    "long_term_vega_power": (0.13, _number(0.0)),
    "min_volatility_for_shock_up": (0.5, _number(0.0, MAX_VOL)),
    "extended_moves": ((-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0), _moves),
    "extended_table_factor": (1.0, _number(0.0)),
    "extended_dampener": (100_000.0, _number(0.0)),
    "mm_factor": (0.8, _number(0.0, 1.0, open_low=True)),
    "look_ahead_days": (0.0, _number(0.0)),
}
_SPAN: dict[str, tuple[Any, _Check]] = {
    "price_scan": (0.15, _number(0.0, 1.0, open_low=True, open_high=True)),
    "vol_scan": (0.10, _number(0.0, 1.0)),  # absolute: at most 100 vol points
    "extreme_move": (2.0, _number(0.0, open_low=True)),
    "extreme_weight": (0.35, _number(0.0, 1.0)),
    "short_option_minimum": (0.0, _number(0.0)),
    "look_ahead_days": (1.0, _number(0.0)),
}
_PARAMS = {"deribit": _DERIBIT, "span": _SPAN}


def margin_parameters(model: str = "deribit", **params: Any) -> dict[str, Any]:
    """Every parameter of ``model`` with its default, overridden by ``params`` (checked).

    Raises
    ------
    XlVarError
        An unknown parameter (the message lists the valid ones) or a bad value.
    """
    model = choose(model, "model", MODELS)
    table = _PARAMS[model]
    unknown = sorted(set(params) - set(table))
    if unknown:
        raise XlVarError(f"{', '.join(unknown)} {'is not a parameter' if len(unknown) == 1 else 'are not parameters'}"
                         f" of the {model} margin model; valid ones: {', '.join(table)}")
    out = {name: check(name, params.get(name, default)) for name, (default, check) in table.items()}
    if model == "span" and out["extreme_move"] * out["price_scan"] >= 1.0:
        raise XlVarError(f"extreme_move × price_scan must be below 1 (a price cannot fall to zero); got "
                         f"{out['extreme_move']:g} × {out['price_scan']:g}")
    return out


# ---------------------------------------------------------------------------- grids
@dataclass(frozen=True)
class _Grid:
    """The scenarios of one underlying: price move, vol direction (+1/0/−1), shock label, weight, extended."""

    move: FloatArray
    vol_sign: FloatArray
    vol_shock: FloatArray
    weight: FloatArray
    extended: BoolArray


def _grid(rows: list[tuple[float, float, float, float, bool]]) -> _Grid:
    table = np.array(rows, dtype=np.float64)
    return _Grid(table[:, 0], table[:, 1], table[:, 2], table[:, 3], table[:, 4] > 0.0)


def _deribit_grid(p: dict[str, Any]) -> _Grid:
    r, n = p["price_range"], p["buckets"]
    up, down = p["volatility_range_up"], -p["volatility_range_down"]
    rows = [(k * r / n, sign, shock, 1.0, False) for k in range(-n, n + 1)
            for sign, shock in ((1.0, up), (0.0, 0.0), (-1.0, down))]
    rows += [(m, 1.0, up, p["extended_table_factor"] * r / abs(m), True) for m in p["extended_moves"]]
    return _grid(rows)


def _span_grid(p: dict[str, Any]) -> _Grid:
    scan, v = p["price_scan"], p["vol_scan"]
    rows = [(0.0, 1.0, v, 1.0, False), (0.0, -1.0, -v, 1.0, False)]
    for frac in (1 / 3, 2 / 3, 1.0):
        for m in (frac * scan, -frac * scan):
            rows += [(m, 1.0, v, 1.0, False), (m, -1.0, -v, 1.0, False)]
    x, w = p["extreme_move"] * scan, p["extreme_weight"]
    rows += [(x, 0.0, 0.0, w, True), (-x, 0.0, 0.0, w, True)]
    return _grid(rows)


def _deribit_shifts(book: Book, p: dict[str, Any]) -> tuple[FloatArray, FloatArray]:
    """Absolute vol shift of each position for vols up and down (0 for non-options)."""
    opt = book.is_option
    days = np.where(opt, book.expiry_years * DAYS_PER_YEAR, 30.0)
    power = np.where(days < 30.0, p["short_term_vega_power"], p["long_term_vega_power"])
    f = (30.0 / days) ** power
    vol = np.where(opt, book.vol, 0.0)
    up = np.maximum(vol * (1.0 + p["volatility_range_up"] * f), p["min_volatility_for_shock_up"]) - vol
    down = -vol * np.minimum(p["volatility_range_down"] * f, 1.0)
    return np.where(opt, up, 0.0), np.where(opt, down, 0.0)


def _span_shifts(book: Book, p: dict[str, Any]) -> tuple[FloatArray, FloatArray]:
    v = np.where(book.is_option, p["vol_scan"], 0.0)
    return v, -v


def _deribit_loss(loss: FloatArray, weight: FloatArray, extended: BoolArray, p: dict[str, Any]) -> FloatArray:
    """Core losses in full; extended ones weighted and dampened: w L+² / (L+ + D)."""
    pos = np.maximum(loss, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        damped = np.where(pos > 0.0, pos * pos / (pos + p["extended_dampener"]), 0.0)
    out: FloatArray = np.where(extended, weight * damped, loss)
    return out


def _span_loss(loss: FloatArray, weight: FloatArray, extended: BoolArray, p: dict[str, Any]) -> FloatArray:
    """Each loss times its weight (the extreme scenarios' 35%)."""
    out: FloatArray = weight * loss
    return out


_MODEL_FUNCS = {"deribit": (_deribit_grid, _deribit_shifts, _deribit_loss),
                "span": (_span_grid, _span_shifts, _span_loss)}


# ---------------------------------------------------------------------------- the margin
def portfolio_margin(book: Book, model: str = "deribit", currency: str = "usd", **params: Any) -> MarginResult:
    r"""Portfolio margin of ``book`` over Deribit's or CME SPAN's scenario grid.

    The model, the formulas and which parts are published or xl-var's choices are in
    the module docstring (:mod:`xl_var.margin`):

    .. math::

        M = \sum_u \max\bigl(0,\ \max_s \ell(L_{u,s})\bigr).

    Parameters
    ----------
    book : Book
        The positions and market data (:class:`~xl_var.book.Book`).
    model : {"deribit", "span"}
        Deribit's portfolio margin or CME SPAN's 16 scenarios.
    currency : {"usd", "coin"}
        ``"coin"`` reports each underlying's margin in its coin, converting each
        scenario's loss at that scenario's price :math:`S_0(1+m)` (as Deribit's risk
        vectors) and SPAN's short-option minimum at spot.
    **params
        The model's parameters (see :func:`margin_parameters` for the list and
        defaults). ``deribit``: ``price_range``, ``buckets``, ``volatility_range_up``,
        ``volatility_range_down``, ``short_term_vega_power``, ``long_term_vega_power``,
        ``min_volatility_for_shock_up``, ``extended_moves``, ``extended_table_factor``,
        ``extended_dampener`` (USD), ``mm_factor``, ``look_ahead_days`` (0).
        ``span``: ``price_scan``, ``vol_scan``, ``extreme_move``, ``extreme_weight``,
        ``short_option_minimum`` (USD per short option coin), ``look_ahead_days`` (1).

    Returns
    -------
    MarginResult

    Raises
    ------
    XlVarError
        ``book`` is not a Book, an unknown model, currency or parameter, or a bad value.

    Examples
    --------
    >>> book = xv.Book([("BTC-PERPETUAL", 10_000)], {"BTC": 50_000}, valuation=today)  # doctest: +SKIP
    >>> xv.portfolio_margin(book).margin  # the −16% move: 10,000 × 0.16  # doctest: +SKIP
    1600.0
    """
    if not isinstance(book, Book):
        raise XlVarError(f"book must be an xl_var Book (xv.Book(positions, spot, valuation=...)); "
                         f"got {type(book).__name__}")
    model = choose(model, "model", MODELS)
    currency = choose(currency, "currency", _CURRENCIES)
    p = margin_parameters(model, **params)
    make_grid, make_shifts, count = _MODEL_FUNCS[model]
    grid = make_grid(p)
    up, down = make_shifts(book, p)
    g, n_u = grid.move.size, len(book.underlyings)
    member = book.underlying_index[None, :] == np.arange(n_u)[:, None]  # (U, P)
    one = np.where(grid.vol_sign[:, None] > 0, up, np.where(grid.vol_sign[:, None] < 0, down, 0.0))  # (G, P)
    moves = np.zeros((n_u * g, n_u))
    for u in range(n_u):
        moves[u * g:(u + 1) * g, u] = grid.move
    mask = np.repeat(member, g, axis=0)  # (S, P): row's underlying holds the position
    shifts: FloatArray = np.where(mask, np.tile(one, (n_u, 1)), 0.0)
    pnl: FloatArray = np.where(mask, book.pnl(moves, shifts, dt=p["look_ahead_days"] / DAYS_PER_YEAR), 0.0)
    usd = count(-pnl.sum(axis=1), np.tile(grid.weight, n_u), np.tile(grid.extended, n_u), p)
    price = np.repeat(book.spot, g) * (1.0 + np.tile(grid.move, n_u))
    loss: FloatArray = usd / price if currency == "coin" else usd
    by_rows = loss.reshape(n_u, g)
    worst_rows = np.argmax(by_rows, axis=1)
    by_u: FloatArray = np.maximum(by_rows.max(axis=1), 0.0)
    if model == "span":
        short = np.where(book.is_option, np.maximum(-book.quantity, 0.0), 0.0)
        minimum = p["short_option_minimum"] * np.bincount(book.underlying_index, weights=short, minlength=n_u)
        by_u = np.maximum(by_u, minimum / book.spot if currency == "coin" else minimum)
    scenarios = tuple(MarginScenario(book.underlyings[u], float(grid.move[k]), float(grid.vol_shock[k]),
                                     float(grid.weight[k]), bool(grid.extended[k]))
                      for u in range(n_u) for k in range(g))
    total = float(by_u.sum()) if currency == "usd" or n_u == 1 else math.nan
    return MarginResult(
        model=model, currency=currency, margin=total,
        maintenance=total * (p["mm_factor"] if model == "deribit" else 1.0),
        underlyings=book.underlyings, by_underlying=by_u,
        worst=tuple(scenarios[u * g + int(k)] for u, k in enumerate(worst_rows)),
        scenarios=scenarios, pnl=pnl, vol_shifts=shifts, loss=loss, params=p)

