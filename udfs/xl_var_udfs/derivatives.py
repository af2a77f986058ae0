"""Worksheet functions for options and books of derivatives: prices, Greeks, book Greeks, margin, stress, DGVAR.

As in :mod:`xl_var_udfs.functions`, each function converts Excel-shaped arguments
(:mod:`xl_var_udfs.booktables`, :mod:`xl_var_udfs.excel`), calls the engine and formats the
result; nothing raises into a cell and no NaN/inf reaches one. ``valuation`` defaults to
the current time (UTC), so such cells change as time passes; give a date to freeze them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

import xl_var as xv
from xl_var.margin import MarginResult
from xl_var_udfs.arguments import opt_choice, opt_confidence, opt_horizon, opt_number, opt_text
from xl_var_udfs.booktables import read_book, read_params, read_scenarios, when
from xl_var_udfs.cells import ExcelError, as_excel_error, is_number, to_float
from xl_var_udfs.excel import cell, is_omitted, number, read_table
from xl_var_udfs.functions import Cell, Range, Result, udf

__all__ = ["BOOKGREEKS", "DGVAR", "IMPLIEDVOL", "MARGINGRID", "OPTIONGREEKS", "OPTIONPRICE", "PORTMARGIN",
           "STRESSTEST"]

_TYPES = {"call": ("c",), "put": ("p",)}
_SETTLE = {"usd": ("linear", "usdc"), "coin": ("inverse",)}
_BY = {"underlying": ("underlyings",), "position": ("positions", "instrument")}
_MODELS = {"deribit": ("pm", "portfolio margin"), "span": ("cme",)}
DOCS = {
    "option_type": '"call" or "put" (or "C"/"P", any case).',
    "forward": "Forward (or futures) price of the underlying, in USD.",
    "strike": "Strike price in USD.",
    "expiry": "Expiry date (time to 08:00 UTC that day from valuation), or years to expiry as a number below 100.",
    "vol": "Implied volatility, e.g. 60% or 0.6.",
    "rate": "Continuously compounded USD rate for discounting, e.g. 3%. Default 0.",
    "settle": '"usd" (linear; default) or "coin" (inverse, Deribit: price in coin = USD price / forward).',
    "valuation": "Valuation date and time (UTC). Default: now, so the cell changes as time passes; give a date "
                 "to freeze it.",
    "price": "Option price in the settlement currency (coin for settle \"coin\").",
    "positions": "Positions table with a header row: Instrument (Deribit name such as BTC-27DEC24-60000-C), "
                 "Quantity (coins; USD notional for inverse futures and perpetuals), optional Vol.",
    "market": "Market table with a header row: Underlying, Spot, optional Vol and Forward.",
    "by": '"underlying" (default) or "position".',
    "model": '"deribit" (portfolio margin, default) or "span" (CME SPAN).',
    "ccy": 'Currency of the margin: "usd" (default) or "coin" (in the underlying\'s coin; one underlying only).',
    "params": "Optional two-column range of margin parameter names and values (e.g. price_scan, vol_scan).",
    "scenarios": "Optional table with a header row: Name, Underlying, Move (e.g. -30%), optional Vol shift "
                 "(e.g. 0.2 for +20 vol points); * as Underlying means every other one. Default: the bundled "
                 "crisis library.",
    "delta": "Dollar deltas, one per risk factor (value change per unit return).",
    "gamma": "Dollar gamma matrix (N×N), or one dollar gamma per factor (a diagonal matrix).",
    "cov": "Covariance matrix (N×N) of the factors' returns per period.",
    "theta": "P&L per period from time passing (theta). Default 0.",
    "method": '"cornish-fisher" (default), "normal" or "exact" (Imhof Fourier inversion).',
}


def _years(expiry: Cell, valuation: Cell) -> float:
    """Years to expiry: a number below 100 as it is, a date to 08:00 UTC that day from valuation."""
    if is_number(expiry) and abs(to_float(expiry)) < 100:
        return to_float(expiry)
    end = when(expiry, "expiry")
    if end.time() == dt.time(0, 0):
        end = end.replace(hour=8)
    return xv.year_fraction(when(valuation, "valuation", now=True), end)


_NO_VOL = object()  # IMPLIEDVOL has no vol argument


def _option_args(option_type: Cell, forward: Cell, strike: Cell, expiry: Cell, vol: Cell, rate: Cell,
                 settle: Cell, valuation: Cell) -> dict[str, Any]:
    """The engine's keyword arguments; ``vol`` is :data:`_NO_VOL` for IMPLIEDVOL."""
    needed = {"forward": forward, "strike": strike} | ({} if vol is _NO_VOL else {"vol": vol})
    args: dict[str, Any] = {}
    for name, x in needed.items():
        args[name] = opt_number(x, name, None)
        if args[name] is None:
            raise ExcelError("#VALUE!", f"{name} is blank: give a number")
    args.update(option_type=opt_choice(option_type, "option_type", _TYPES, "call"),
                expiry=_years(expiry, valuation), rate=opt_number(rate, "rate", 0.0),
                settle=opt_choice(settle, "settle", _SETTLE, "usd"))
    return args


def _engine(f: Any, **kw: Any) -> Any:
    try:
        return f(**kw)
    except xv.XlVarError as exc:
        raise as_excel_error(exc) from None


@udf(**DOCS)
def OPTIONPRICE(option_type: Cell, forward: Cell, strike: Cell, expiry: Cell, vol: Cell, rate: Cell = 0,
                settle: Cell = "usd", valuation: Cell = None) -> Result:
    """Black-76 option price on the forward, in the settlement currency (USD, or coin for inverse options)."""
    kw = _option_args(option_type, forward, strike, expiry, vol, rate, settle, valuation)
    return number(_engine(xv.option_price, **kw), "the option price")


@udf(**DOCS)
def OPTIONGREEKS(option_type: Cell, forward: Cell, strike: Cell, expiry: Cell, vol: Cell, rate: Cell = 0,
                 settle: Cell = "usd", valuation: Cell = None) -> Result:
    """Option price and Greeks as a two-column table: Price, Delta, Delta (coin) for coin-settled options,
    Gamma, Vega (per vol point), Theta (per day), Rho (per 1% rate); Greeks in USD per coin.
    """
    kw = _option_args(option_type, forward, strike, expiry, vol, rate, settle, valuation)
    g = _engine(xv.option_greeks, **kw)
    rows = [["Price", g.price], ["Delta", g.delta]]
    if g.delta_coin is not None:
        rows.append(["Delta (coin)", g.delta_coin])
    rows += [["Gamma", g.gamma], ["Vega", g.vega], ["Theta", g.theta], ["Rho", g.rho]]
    return [[label, number(v, label)] for label, v in rows]


@udf(**DOCS)
def IMPLIEDVOL(price: Cell, option_type: Cell, forward: Cell, strike: Cell, expiry: Cell, rate: Cell = 0,
               settle: Cell = "usd", valuation: Cell = None) -> Result:
    """Black-76 implied volatility of an option price (in the settlement currency); refuses a price outside
    the no-arbitrage bounds, naming the bound.
    """
    kw = _option_args(option_type, forward, strike, expiry, _NO_VOL, rate, settle, valuation)
    p = opt_number(price, "price", None)
    if p is None:
        raise ExcelError("#VALUE!", "price is blank: give the option's price")
    return number(_engine(xv.implied_vol, price=p, **kw), "the implied vol")


def _book(positions: Range, market: Range, valuation: Cell, surface: Range = None) -> xv.Book:
    return read_book(positions, market, when(valuation, "valuation", now=True), surface)


@udf(**DOCS)
def BOOKGREEKS(positions: Range, market: Range, valuation: Cell = None, by: Cell = "underlying",
               surface: Range = None) -> Result:
    """Value and Greeks of a book of spot, perpetuals, futures and options, per underlying (or position)
    with a Total row: Value, Delta (coins), Delta USD, Delta (coin), Gamma, Gamma USD, Vega, Theta.
    """
    how = opt_choice(by, "by", _BY, "underlying")
    book = _book(positions, market, valuation, surface)
    g = book.greeks(how)
    fields = ("value", "delta", "delta_usd", "delta_coin", "gamma", "gamma_usd", "vega", "theta")
    head = ["Underlying" if how == "underlying" else "Position", "Value", "Delta", "Delta USD", "Delta (coin)",
            "Gamma", "Gamma USD", "Vega", "Theta"]
    rows: list[list[Any]] = [head]
    for i, label in enumerate(g.labels):
        rows.append([label, *(cell(getattr(g, f)[i]) for f in fields)])
    totals: list[Any] = [cell(float(np.sum(getattr(g, f)))) for f in fields]
    if len(book.underlyings) > 1:  # coins of different underlyings do not add up: only USD columns total
        for i, f in enumerate(fields):
            if f in ("delta", "delta_coin", "gamma"):
                totals[i] = ""
    rows.append(["Total", *totals])
    return rows


def _margin(positions: Range, market: Range, model: Cell, ccy: Cell, valuation: Cell, params: Range,
            surface: Range) -> MarginResult:
    book = _book(positions, market, valuation, surface)
    kw = read_params(params)
    return _engine(xv.portfolio_margin, book=book, model=opt_choice(model, "model", _MODELS, "deribit"),
                   currency=opt_choice(ccy, "ccy", {"usd": (), "coin": ()}, "usd"), **kw)


@udf(**DOCS)
def PORTMARGIN(positions: Range, market: Range, model: Cell = "deribit", ccy: Cell = "usd",
               valuation: Cell = None, params: Range = None, surface: Range = None) -> Result:
    """Portfolio margin of a book: the worst (weighted) loss over the exchange's grid of price moves and vol
    shocks, summed over underlyings ("deribit" or "span").

    The currency argument is called ``ccy`` because ``Currency`` is a reserved word in VBA, where the
    add-in's wrapper declares every argument.
    """
    res = _margin(positions, market, model, ccy, valuation, params, surface)
    if not np.isfinite(res.margin):
        raise ExcelError("#VALUE!", "ccy \"coin\" gives one margin per coin, so a book of several "
                                    "underlyings has no single figure: use ccy \"usd\" or MARGINGRID")
    return number(res.margin, "the margin")


@udf(**DOCS)
def MARGINGRID(positions: Range, market: Range, model: Cell = "deribit", ccy: Cell = "usd",
               valuation: Cell = None, params: Range = None, surface: Range = None) -> Result:
    """The margin's scenario grid as a table: Underlying, Scenario, Price move, Vol shock, P&L, Weight, and
    "◀ margin" on the scenario that sets each underlying's margin.
    """
    res = _margin(positions, market, model, ccy, valuation, params, surface)
    worst = {(w.underlying, w.price_move, w.vol_shock, w.extended) for w in res.worst}
    rows: list[list[Any]] = [["Underlying", "Scenario", "Price move", "Vol shock", "P&L", "Weight", "Sets margin"]]
    pnl = res.pnl.sum(axis=1)
    counter: dict[str, int] = {}
    for s, total in zip(res.scenarios, pnl, strict=True):
        counter[s.underlying] = counter.get(s.underlying, 0) + 1
        mark = "◀ margin" if (s.underlying, s.price_move, s.vol_shock, s.extended) in worst else ""
        rows.append([s.underlying, counter[s.underlying], cell(s.price_move), cell(s.vol_shock), cell(total),
                     cell(s.weight), mark])
    return rows


@udf(**DOCS)
def STRESSTEST(positions: Range, market: Range, scenarios: Range = None, valuation: Cell = None,
               surface: Range = None) -> Result:
    """Stress test by full revaluation: one row per scenario with its P&L and the P&L per underlying;
    without scenarios, the bundled crypto crises (March 2020, May 2021, LUNA, FTX).
    """
    book = _book(positions, market, valuation, surface)
    res = _engine(xv.stress_test, book=book, scenarios=read_scenarios(scenarios))
    rows: list[list[Any]] = [["Scenario", "P&L", *res.underlyings]]
    for i, name in enumerate(res.names):
        rows.append([name, cell(res.total[i]), *(cell(v) for v in res.by_underlying[i])])
    return rows


@udf(**DOCS)
def DGVAR(delta: Range, gamma: Range, cov: Range, confidence: Cell = 0.99, horizon: Cell = 1, theta: Cell = 0,
          method: Cell = "cornish-fisher") -> Result:
    """Delta-gamma VaR of sensitivities an analyst already has: the P&L delta·X + ½ XᵀΓX + theta·h with
    normal factor returns X of covariance cov per period, by Cornish-Fisher, normal or exact inversion.
    """
    d = read_table(delta, "delta").values.ravel()
    if is_omitted(gamma):
        raise ExcelError("#VALUE!", "gamma is blank: give the dollar gamma matrix (or zeros)")
    g = read_table(gamma, "gamma").values
    c = read_table(cov, "cov").values
    res = _engine(xv.delta_gamma_var, delta=d, gamma=g.ravel() if 1 in g.shape and g.size == d.size else g, cov=c,
                  confidence=opt_confidence(confidence), horizon=opt_horizon(horizon),
                  theta=opt_number(theta, "theta", 0.0), method=opt_text(method, "method", "cornish-fisher"))
    return number(res.var, "the delta-gamma VaR")
