"""The xl-var worksheet functions (xlwings UDFs): AGGVAR, COMPONENTVAR, STRESSCORR and companions.

Each function only converts Excel-shaped arguments (:mod:`xl_var_udfs.excel`), calls the
engine (:mod:`xl_var`) and formats the result; it never raises (:mod:`xl_var_udfs.guard`).
Called from plain Python they take the same plain values Excel passes: ranges as lists
of rows, single cells as scalars, blanks as ``None``, error cells as ``"#N/A"``-style
strings; optional arguments may be omitted or ``None``.

Argument names are the ones Excel shows. ``lam`` stands for the EWMA decay λ (``lambda``
is a Python keyword). Every function that reads a returns (or prices, or P&L) range
takes a last optional argument ``missing``: ``"raise"`` (default: a blank or error cell
is an error naming its row and column) or ``"drop"`` (rows holding one are left out).
No function draws random numbers, so none needs a seed: recalculation never changes a
result.
"""

from __future__ import annotations

import inspect
import platform
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
import xlwings as xw

import xl_var as xv
from xl_var import XlVarError
from xl_var.methods import method_names, revaluation_names
from xl_var_udfs.arguments import opt_bool, opt_confidence, opt_horizon, opt_lambda, opt_missing, opt_number, opt_text
from xl_var_udfs.booktables import read_book_table, when
from xl_var_udfs.excel import ExcelError, Table, cell, is_omitted, read_table, read_vector, spill_matrix
from xl_var_udfs.guard import excel_function

__all__ = [
    "AGGES",
    "AGGVAR",
    "COMPONENTVAR",
    "CORRMATRIX",
    "INCREMENTALVAR",
    "MARGINALVAR",
    "PORTVOL",
    "RETURNS",
    "STRESSCORR",
    "VARBACKTEST",
    "XLVAR_VERSION",
]

CATEGORY = "xl-var"
Range = Any  # a range as xlwings delivers it with ndim=2: a list of rows (or a scalar from plain Python)
Cell = Any  # one cell's value: a number, text, bool, datetime or None (blank)
Result = Any  # a float, a text line, or a list of rows to spill
F = TypeVar("F", bound=Callable[..., Any])

# Parameters that take a range: read with ndim=2 so a single cell is a 1x1 list too.
RANGE_ARGS = frozenset({"returns", "weights", "corr", "returns_or_corr", "crisis", "new_position", "prices",
                        "realized", "forecasts", "positions", "market", "surface", "params", "scenarios", "delta",
                        "gamma", "cov"})
_VAR_METHODS = method_names()
ARG_DOCS = {
    "returns": "Returns range: rows are periods, columns are assets; a header row of asset names and a "
               "first date column are detected.",
    "weights": "Positions, one per asset (a row or a column): fractions of the portfolio or currency "
               "amounts; or a positions table (header Instrument, Quantity) of spot, futures and options.",
    "market": "With a positions table: market table with a header row Underlying, Spot, optional Vol and "
              "Forward.",
    "valuation": "With a positions table: valuation date and time (UTC). Default: now, so the cell changes as "
                 "time passes; give a date to freeze it.",
    "surface": "With a positions table: optional vol surface of one underlying (its name top-left, expiries "
               "down, strikes across).",
    "revaluation": f"With a positions table: {revaluation_names()}. Default full for historical and fhs, delta "
                   "otherwise.",
    "confidence": "Confidence level, e.g. 99% or 0.99. Default 0.99.",
    "horizon": "Horizon in periods of the returns (whole number, 1 or more). Default 1.",
    "method": f'VaR method: {_VAR_METHODS}. Default "historical".',
    "corr": "Optional N×N correlation matrix (e.g. from STRESSCORR) replacing the assets' correlation; "
            "parametric methods only.",
    "value": "Optional portfolio value: multiplies the fractional result into currency.",
    "measure": '"VaR" or "ES" (expected shortfall). Default "VaR".',
    "headers": "TRUE (default) to include the column header row in the result.",
    "missing": 'What a blank or error cell in the data does: "raise" (default, an error naming the cell) '
               'or "drop" (leave out its row).',
    "new_position": "Position to add, one entry per asset (a row or a column), in the units of weights.",
    "exact": "TRUE (default): exact re-computation; FALSE: first-order estimate (marginal × change).",
    "lam": "EWMA decay factor λ between 0 and 1. Default 0.94 (RiskMetrics daily).",
    "returns_or_corr": "A returns range (its correlation is estimated first) or an N×N correlation matrix.",
    "intensity": "Stress intensity from 0 (none) to 1 (full). Default 0.5.",
    "target": 'Target correlation for "shift", between -1 and 1. Default 1.',
    "crisis": 'Crisis correlation matrix (N×N) for method "blend".',
    "prices": "Prices range: rows are periods, columns are assets; a header row and a date column are "
              "detected and kept (with dates, rows are put oldest first; without, they must be).",
    "kind": '"simple" (default) or "log" returns.',
    "realized": "Realized returns or P&L per period (a row or a column); a loss is negative.",
    "forecasts": "VaR forecast for each period as a positive loss, same length as realized (or one VaR "
                 "for every period).",
}


def udf(**docs: str) -> Callable[[F], F]:
    """Declare an xl-var worksheet function: never raises, every argument documented for Excel.

    Applies :func:`~xl_var_udfs.guard.excel_function`, one ``xw.arg`` per parameter
    (``doc`` from ``docs`` or :data:`ARG_DOCS`, ``err_to_str=True``, and ``ndim=2`` for
    ranges) and ``xw.func(category="xl-var")``. Type annotations are dropped from the
    wrapper because xlwings reads annotations as converters. Under xlwings' Windows
    machinery the Function Wizard description is set to the docstring's first paragraph.
    """

    def decorate(f: F) -> F:
        g = excel_function(f)
        g.__annotations__ = {}
        for name in reversed(inspect.signature(f).parameters):
            options: dict[str, Any] = {"ndim": 2} if name in RANGE_ARGS else {}
            g = xw.arg(name, doc=docs.get(name, ARG_DOCS.get(name)), err_to_str=True, **options)(g)
        g = xw.func(category=CATEGORY)(g)
        xlfunc = getattr(g, "__xlfunc__", None)
        if xlfunc is not None:
            xlfunc["ret"]["doc"] = " ".join(inspect.getdoc(f).split("\n\n")[0].split())  # type: ignore[union-attr]
        return g

    return decorate


# ----------------------------------------------------------------------------- argument helpers
def _value(x: Cell, weights: Range = None) -> float:
    v = opt_number(x, "value", None)
    if v is None:
        return 1.0
    if weights is not None and _is_positions(weights):
        raise ExcelError("#VALUE!", "value does not apply to a positions table, whose VaR is already in USD: "
                                    "leave it out")
    if not np.isfinite(v) or v <= 0:
        raise ExcelError("#NUM!", f"value must be a positive amount (the portfolio's value); got {v:g}")
    return v


@contextmanager
def _about(**tables: Table | None) -> Iterator[None]:
    """Engine errors name cells by their position in the range of the table the message is about.

    ``tables`` maps the name the engine gives an input (``returns``, ``corr``, ``crisis``) to the
    table read from the range passed for it; a message starting with that name is about it.
    """
    try:
        yield
    except XlVarError as exc:
        for name, table in tables.items():
            if table is not None and str(exc).startswith(name + " "):
                raise table.locate(exc, name) from None
        raise


def _portfolio(returns: Range, weights: Range, missing: Cell) -> tuple[Table, np.ndarray, bool]:
    """Returns table, weights vector and whether weights were a row."""
    table = read_table(returns, "returns", missing=missing)
    w = read_vector(weights, "weights", size=table.values.shape[1])
    return table, w.values, w.is_row


def _matrix(x: Range, name: str) -> Table | None:
    """An optional matrix argument (``corr``, ``crisis``): its table, or None when left out."""
    return None if is_omitted(x) else read_table(x, name)


def _is_positions(weights: Range) -> bool:
    """Whether ``weights`` is a positions table: its first row holds Instrument and Quantity headers."""
    first = weights[0] if isinstance(weights, (list, tuple)) and weights and isinstance(weights[0], (list, tuple)) \
        else []
    heads = {str(v).strip().lower() for v in first if isinstance(v, str)}
    return {"instrument", "quantity"} <= heads


def _book_risk(returns: Range, positions: Range, market: Range, valuation: Cell, revaluation: Cell,
               missing: Cell, surface: Range, **kw: Any) -> tuple[Any, Any]:
    """(the book, the engine's result of ``kw["measure"]`` or VaR) for a positions table in place of weights."""
    if is_omitted(market):
        raise ExcelError("#VALUE!", "a positions table needs market: a table with Underlying and Spot columns")
    table = read_table(returns, "returns", missing=missing)
    if table.header is None:
        raise ExcelError("#VALUE!", "returns needs a header row naming the underlyings (BTC, ETH...) to match "
                                    "the positions")
    books = read_book_table(positions, market, when(valuation, "valuation", now=True), surface)
    reval = opt_text(revaluation, "revaluation", "") or None
    f = xv.component_var if "measure" in kw else xv.portfolio_var
    try:
        with _about(returns=table):
            return books.book, f(table.values, books.book, assets=list(table.names), revaluation=reval, **kw)
    except XlVarError as exc:  # about a position: name its row in the positions range
        raise books.located(exc) from None


def _risk(returns: Range, weights: Range, confidence: Cell, horizon: Cell, method: Cell, corr: Range,
          missing: Cell, market: Range = None, valuation: Cell = None, revaluation: Cell = None,
          surface: Range = None) -> Any:
    if _is_positions(weights):
        if not is_omitted(corr):
            raise ExcelError("#VALUE!", "corr does not apply to a positions table: leave it out")
        return _book_risk(returns, weights, market, valuation, revaluation, missing, surface,
                          confidence=opt_confidence(confidence), horizon=opt_horizon(horizon),
                          method=opt_text(method, "method", "historical"))[1]
    table, w, _ = _portfolio(returns, weights, missing)
    corr_table = _matrix(corr, "corr")
    options = {} if corr_table is None else {"corr": corr_table.values}
    with _about(returns=table, corr=corr_table):
        return xv.portfolio_var(table.values, w, confidence=opt_confidence(confidence),
                                horizon=opt_horizon(horizon), method=opt_text(method, "method", "historical"),
                                **options)


def _decomposition(returns: Range, weights: Range, confidence: Cell, horizon: Cell, method: Cell,
                   measure: Cell, missing: Cell) -> tuple[Table, np.ndarray, bool, Any]:
    table, w, is_row = _portfolio(returns, weights, missing)
    with _about(returns=table):
        d = xv.component_var(table.values, w, confidence=opt_confidence(confidence), horizon=opt_horizon(horizon),
                             method=opt_text(method, "method", "historical"),
                             measure=opt_text(measure, "measure", "var"))
    return table, w, is_row, d


# ----------------------------------------------------------------------------- functions
@udf()
def AGGVAR(returns: Range, weights: Range, confidence: Cell = 0.99, horizon: Cell = 1,
           method: Cell = "historical", corr: Range = None, value: Cell = None,
           missing: Cell = "raise", market: Range = None, valuation: Cell = None,
           revaluation: Cell = None, surface: Range = None) -> Result:
    """Portfolio Value-at-Risk as a positive loss: the loss not exceeded with the given confidence over the
    horizon, by historical, normal, t, modified (Cornish-Fisher), ewma or fhs method.

    In units of returns × weights, times ``value`` when given. Example:
    ``=AGGVAR(Returns!B2:G783, Weights!B2:B7, 99%, 1, "normal")``. With a positions table in place of
    weights (header Instrument, Quantity) and ``market``, the aggregate VaR in USD of spot, futures and
    options together, by ``revaluation``.
    """
    scale = _value(value, weights)
    return _risk(returns, weights, confidence, horizon, method, corr, missing, market, valuation,
                 revaluation, surface).var * scale


@udf(method=ARG_DOCS["method"].replace("VaR method", "ES method"))
def AGGES(returns: Range, weights: Range, confidence: Cell = 0.99, horizon: Cell = 1,
          method: Cell = "historical", corr: Range = None, value: Cell = None,
          missing: Cell = "raise", market: Range = None, valuation: Cell = None,
          revaluation: Cell = None, surface: Range = None) -> Result:
    """Portfolio expected shortfall (CVaR) as a positive loss: the average loss beyond the VaR at the given
    confidence; same arguments as AGGVAR.

    In units of returns × weights, times ``value`` when given; a positions table as in AGGVAR.
    """
    scale = _value(value, weights)
    return _risk(returns, weights, confidence, horizon, method, corr, missing, market, valuation,
                 revaluation, surface).es * scale


@udf()
def COMPONENTVAR(returns: Range, weights: Range, confidence: Cell = 0.99, horizon: Cell = 1,
                 method: Cell = "historical", measure: Cell = "VaR", headers: Cell = True,
                 missing: Cell = "raise", market: Range = None, valuation: Cell = None,
                 revaluation: Cell = None, surface: Range = None) -> Result:
    """Euler decomposition of portfolio VaR (or ES): spills one row per asset (Asset, Weight, Marginal,
    Component, % of total) and a Total row; components add up to the total.

    Asset names come from the header row of ``returns`` (else Asset 1..N). "% of total" is a fraction.
    With a positions table in place of weights: one row per position (Position, Quantity, Marginal per unit
    of quantity, Component in USD, % of total).
    """
    with_headers = opt_bool(headers, "headers", True)
    if _is_positions(weights):
        book, d = _book_risk(returns, weights, market, valuation, revaluation, missing, surface,
                             confidence=opt_confidence(confidence), horizon=opt_horizon(horizon),
                             method=opt_text(method, "method", "historical"),
                             measure=opt_text(measure, "measure", "var"))
        names, w, first = [p.name for p in book.positions], book.quantity, "Position"
    else:
        table, w, _, d = _decomposition(returns, weights, confidence, horizon, method, measure, missing)
        names, first = list(table.names), "Asset"
    rows: list[list[Any]] = [[first, "Weight" if first == "Asset" else "Quantity", "Marginal", "Component",
                              "% of total"]] if with_headers else []
    for name, wi, m, c, p in zip(names, w, d.marginal, d.component, d.percent, strict=True):
        rows.append([name, cell(wi), cell(m), cell(c), cell(p)])
    rows.append(["Total", cell(w.sum()) if first == "Asset" else "", "", cell(d.total), cell(np.sum(d.percent))])
    return rows


@udf()
def MARGINALVAR(returns: Range, weights: Range, confidence: Cell = 0.99, horizon: Cell = 1,
                method: Cell = "historical", measure: Cell = "VaR", missing: Cell = "raise") -> Result:
    """Marginal VaR (or ES) of each asset: the change in portfolio risk per unit added to that position
    (the Euler gradient). Spills a column, or a row when weights is a row.
    """
    _, _, is_row, d = _decomposition(returns, weights, confidence, horizon, method, measure, missing)
    values = [cell(m) for m in d.marginal]
    return [values] if is_row else [[v] for v in values]


@udf()
def INCREMENTALVAR(returns: Range, weights: Range, new_position: Range, confidence: Cell = 0.99,
                   horizon: Cell = 1, method: Cell = "historical", measure: Cell = "VaR", exact: Cell = True,
                   value: Cell = None, missing: Cell = "raise") -> Result:
    """Incremental VaR (or ES): how much portfolio risk changes when new_position is added to weights
    (positive = more risk), exactly by re-computation or to first order (marginal × trade).

    In units of returns × weights, times ``value`` when given.
    """
    use_exact, scale = opt_bool(exact, "exact", True), _value(value)
    table, w, _ = _portfolio(returns, weights, missing)
    delta = read_vector(new_position, "new_position", size=w.size).values
    with _about(returns=table):
        res = xv.incremental_var(table.values, w, delta, confidence=opt_confidence(confidence),
                                 horizon=opt_horizon(horizon), method=opt_text(method, "method", "historical"),
                                 measure=opt_text(measure, "measure", "var"))
    return (res.exact if use_exact else res.first_order) * scale


@udf(method='"sample" (default: the n-1 sample covariance) or "ewma" (RiskMetrics, decay lam).')
def PORTVOL(returns: Range, weights: Range, horizon: Cell = 1, method: Cell = "sample", lam: Cell = 0.94,
            value: Cell = None, missing: Cell = "raise") -> Result:
    """Portfolio volatility: the standard deviation of the portfolio's return per period, scaled by the
    square root of the horizon; from the sample or the EWMA covariance.

    In units of returns × weights, times ``value`` when given.
    """
    scale = _value(value)
    table, w, _ = _portfolio(returns, weights, missing)
    with _about(returns=table):
        vol = xv.portfolio_volatility(table.values, w, horizon=opt_horizon(horizon),
                                      method=opt_text(method, "method", "sample"), lam=opt_lambda(lam))
    return vol * scale


@udf(method='"sample" (default, Pearson) or "ewma" (RiskMetrics, decay lam).')
def CORRMATRIX(returns: Range, method: Cell = "sample", lam: Cell = 0.94, missing: Cell = "raise") -> Result:
    """Correlation matrix of the assets' returns (sample or EWMA): spills an N×N matrix that can feed
    STRESSCORR or the corr argument of AGGVAR.
    """
    table = read_table(returns, "returns", missing=missing)
    with _about(returns=table):
        c = xv.correlation_matrix(table.values, method=opt_text(method, "method", "sample"), lam=opt_lambda(lam))
    return spill_matrix(c, "the correlation matrix")


def _is_correlation(a: np.ndarray) -> bool:
    """Whether a table is a correlation matrix rather than returns: square, N ≥ 2, ones on the diagonal.

    Only shape and diagonal decide, so a matrix with a bad entry (asymmetric, above 1) is
    still taken as a correlation matrix and the engine names that cell.
    """
    n, m = a.shape
    return n == m >= 2 and bool(np.all(np.abs(np.diag(a) - 1.0) <= 1e-6))


@udf(method='"shift" (toward target, default), "blend" (with crisis), "tail" (worst 5% days of an '
            'equal-weight index; needs returns) or "shrink" (toward no correlation).')
def STRESSCORR(returns_or_corr: Range, intensity: Cell = 0.5, method: Cell = "shift", target: Cell = 1,
               crisis: Range = None, missing: Cell = "raise") -> Result:
    """Stressed correlation matrix, repaired to the nearest valid one (Higham 2002): spills N×N. Given
    returns it first estimates their correlation; shift moves correlations toward target by intensity.
    """
    table = read_table(returns_or_corr, "returns_or_corr", missing=missing)
    crisis_table = _matrix(crisis, "crisis")
    options: dict[str, Any] = {"target": opt_number(target, "target", 1.0)}
    if crisis_table is not None:
        options["crisis"] = crisis_table.values
    given_corr = _is_correlation(table.values)
    if not given_corr:
        options["returns"] = table.values
    # The engine calls a matrix "corr" and a returns table "returns".
    about = {"corr": table} if given_corr else {"returns": table}
    with _about(**about, crisis=crisis_table):
        s = xv.stress_correlation(table.values if given_corr else None,
                                  opt_number(intensity, "intensity", 0.5),
                                  opt_text(method, "method", "shift"), **options)
    return spill_matrix(s, "the stressed correlation matrix")


@udf()
def RETURNS(prices: Range, kind: Cell = "simple", missing: Cell = "raise") -> Result:
    """Period returns from a price range (simple P1/P0-1, or log): spills one row fewer than the prices,
    keeping their header row and date column, so =AGGVAR(RETURNS(A1:G783), weights) works.

    With a date column the rows are taken in time order and spilled oldest first, whatever the
    order of the range (exports are often newest first).
    """
    table = read_table(prices, "prices", missing=missing)
    with _about(prices=table):
        r = xv.price_returns(table.values, kind=opt_text(kind, "kind", "simple"))
    rows: list[list[Any]] = spill_matrix(r, "the returns")
    if table.labels is not None:
        for label, row in zip(table.labels[1:], rows, strict=True):
            row.insert(0, "" if label is None else label)  # labels are dates, text, serials or errors
    if table.header is not None:
        rows.insert(0, [cell(h) for h in table.header])
    return rows


@udf()
def VARBACKTEST(realized: Range, forecasts: Range, confidence: Cell = 0.99,
                missing: Cell = "raise") -> Result:
    """Backtest of VaR forecasts against realized P&L: spills exceptions, expected, Kupiec and
    Christoffersen likelihood ratios with p-values, Basel traffic-light zone and multiplier.

    An exception is a period whose loss (-realized) exceeds that period's VaR.
    """
    how = "keep" if opt_missing(missing) == "drop" else "raise"  # "raise": blank, error, NaN or inf is named
    pnl = read_vector(realized, "realized", missing=how, finite=how == "raise").values
    var = read_vector(forecasts, "forecasts", missing=how, finite=how == "raise").values
    if var.size == 1:
        var = np.full(pnl.size, var[0])
    if pnl.size != var.size:
        raise ExcelError("#VALUE!", f"realized has {pnl.size} entries but forecasts has {var.size}: "
                                    "give one forecast per period (or a single VaR for all)")
    keep = np.isfinite(pnl) & np.isfinite(var)
    b = xv.backtest(pnl[keep], var[keep], confidence=opt_confidence(confidence))
    return [
        ["Observations", cell(int(keep.sum()))],
        ["Exceptions", cell(b.exceptions)],
        ["Expected", cell(b.expected)],
        ["Kupiec LR", cell(b.kupiec_lr)],
        ["Kupiec p-value", cell(b.kupiec_p)],
        ["Christoffersen LR", cell(b.christoffersen_lr)],
        ["Christoffersen p-value", cell(b.christoffersen_p)],
        ["Conditional coverage LR", cell(b.cc_lr)],
        ["Conditional coverage p-value", cell(b.cc_p)],
        ["Zone", str(b.zone)],
        ["Multiplier", cell(b.multiplier)],
    ]


@udf()
def XLVAR_VERSION() -> Result:
    """The xl-var version with the Python and xlwings versions Excel is running it with."""
    return f"xl-var {xv.__version__} (Python {platform.python_version()}, xlwings {xw.__version__})"
