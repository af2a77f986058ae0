"""Readers of the derivatives tables a sheet holds: positions, market data, a vol surface, scenarios, parameters.

Shapes (headers in any case and column order, blank rows skipped, positions in messages
counted from 1 within the range as selected, header row included):

* **positions** — ``Instrument``, ``Quantity`` and optionally ``Vol`` (overrides the
  market's implied vol for that option);
* **market** — ``Underlying``, ``Spot`` and optionally ``Vol`` and ``Forward`` (the forward
  of every dated instrument of that underlying); with an ``Expiry`` column (a date or a code
  such as 27DEC24), a row giving an Expiry and a Forward sets that expiry's forward;
* **surface** — one underlying's implied vols: its name in the top-left cell, expiries down
  the first column (dates, or years below 100), strikes across the header row (or
  moneyness K/F when every header is below 10);
* **scenarios** — ``Name``, ``Underlying``, ``Move`` and optionally ``Vol shift`` (``*``
  as underlying: every other underlying), one row per scenario and underlying;
* **params** — two columns, parameter name and value.

Dates and times from cells are taken as UTC; a number of 100 or more given for a date is
an Excel date serial.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import xl_var as xv
from xl_var_udfs.arguments import opt_number
from xl_var_udfs.cells import ExcelError, as_excel_error, describe, is_blank, is_error, is_number, to_float
from xl_var_udfs.dates import EXCEL_EPOCH
from xl_var_udfs.excel import is_omitted

__all__ = ["BookTable", "Market", "read_book", "read_book_table", "read_market", "read_params", "read_positions",
           "read_scenarios", "read_surface", "when"]

_POSITION = re.compile(r"\bposition (\d+)")


def when(x: Any, name: str, *, now: bool = False) -> dt.datetime:
    """A point in time from a cell: a date/datetime (UTC) or an Excel date serial; omitted → now (UTC)
    when ``now`` is True, else an error."""
    if isinstance(x, (list, tuple)):
        flat = [v for row in x for v in (row if isinstance(row, (list, tuple)) else [row])]
        if len(flat) != 1:
            raise ExcelError("#VALUE!", f"{name} must be a single date, not a range")
        x = flat[0]
    if is_error(x):
        raise ExcelError.passthrough(x, name)
    if is_blank(x):
        if now:
            return dt.datetime.now(dt.UTC)
        raise ExcelError("#VALUE!", f"{name} is blank: give a date")
    if isinstance(x, dt.datetime):
        return x.replace(tzinfo=dt.UTC) if x.tzinfo is None else x.astimezone(dt.UTC)
    if isinstance(x, dt.date):
        return dt.datetime(x.year, x.month, x.day, tzinfo=dt.UTC)
    if is_number(x) and 100 <= to_float(x) < 2_958_466:
        return (EXCEL_EPOCH + dt.timedelta(days=to_float(x))).replace(tzinfo=dt.UTC)
    if isinstance(x, str):
        try:
            return when(dt.datetime.fromisoformat(x.strip()), name)
        except ValueError:
            pass
    raise ExcelError("#VALUE!", f"{name} must be a date (or ISO text such as 2024-12-31); got {describe(x)}")


def _rows(x: Any, name: str) -> list[list[Any]]:
    if is_omitted(x):
        raise ExcelError("#VALUE!", f"{name} is blank: select the table with its header row")
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in (x if isinstance(x, (list, tuple)) else [[x]])]
    width = max(map(len, rows))
    return [r + [None] * (width - len(r)) for r in rows]


def _columns(header: Sequence[Any], name: str, need: Sequence[str], optional: Sequence[str] = ()) -> dict[str, int]:
    """Column index of each wanted header (case- and space-insensitive)."""
    keys = {re.sub(r"[\s_]+", " ", str(h)).strip().lower(): j for j, h in enumerate(header) if isinstance(h, str)}
    found = {k: keys[k.lower()] for k in (*need, *optional) if k.lower() in keys}
    missing = [k for k in need if k not in found]
    if missing:
        raise ExcelError("#VALUE!", f"{name} needs a header row with {', '.join(need)} (any order and case); "
                                    f"{' and '.join(missing)} not found in the first row")
    return found


def _number(v: Any, where: str, what: str) -> float:
    if is_error(v):
        raise ExcelError.passthrough(v, where)
    try:
        x = opt_number(v, where, None)
    except ExcelError:
        x = None
    if x is None:
        raise ExcelError("#VALUE!", f"{where}: {what} must be a number; got {describe(v)}")
    return x


def read_positions(x: Any, name: str = "positions") -> tuple[list[tuple[Any, ...]], list[int]]:
    """(instrument, quantity[, vol]) rows and, for each, its row number within the range."""
    rows = _rows(x, name)
    cols = _columns(rows[0], name, ("Instrument", "Quantity"), ("Vol",))
    out, where = [], []
    for i, row in enumerate(rows[1:], start=2):
        if all(is_blank(v) for v in row):
            continue
        at = f"{name} row {i}"
        inst = row[cols["Instrument"]]
        if is_error(inst):
            raise ExcelError.passthrough(inst, at)
        if not isinstance(inst, str) or is_blank(inst):
            raise ExcelError("#VALUE!", f"{at}: Instrument must be a name such as BTC-PERPETUAL; got "
                                        f"{describe(inst)}")
        q = _number(row[cols["Quantity"]], at, "Quantity")
        vol = row[cols["Vol"]] if "Vol" in cols else None
        out.append((inst, q) if is_blank(vol) else (inst, q, _number(vol, at, "Vol")))
        where.append(i)
    if not out:
        raise ExcelError("#VALUE!", f"{name} has a header row but no positions below it")
    return out, where


@dataclass(frozen=True)
class Market:
    """Market data read from a range: spot, implied vols and forwards by underlying."""

    spot: dict[str, float]
    vols: dict[str, Any]
    forwards: dict[Any, float]  # underlying, or (underlying, expiry date or code such as 27DEC24)


def read_market(x: Any, name: str = "market") -> Market:
    """Spot (and optional Vol, Forward) per underlying; rows with an Expiry give that expiry's forward."""
    rows = _rows(x, name)
    cols = _columns(rows[0], name, ("Underlying", "Spot"), ("Vol", "Forward", "Expiry"))
    spot: dict[str, float] = {}
    vols: dict[str, Any] = {}
    fwd: dict[Any, float] = {}
    for i, row in enumerate(rows[1:], start=2):
        if all(is_blank(v) for v in row):
            continue
        at = f"{name} row {i}"
        u = row[cols["Underlying"]]
        if not isinstance(u, str) or is_blank(u) or is_error(u):
            raise ExcelError("#VALUE!", f"{at}: Underlying must be a name such as BTC; got {describe(u)}")
        key = u.strip().upper()
        expiry = row[cols["Expiry"]] if "Expiry" in cols else None
        if not is_blank(expiry):  # a forward for one expiry: (underlying, expiry) → forward
            if "Forward" not in cols or is_blank(row[cols["Forward"]]):
                raise ExcelError("#VALUE!", f"{at}: a row with an Expiry needs its Forward")
            fwd[(key, expiry if isinstance(expiry, (str, dt.date)) else str(expiry))] = _number(
                row[cols["Forward"]], at, "Forward")
            continue
        if key in spot:
            raise ExcelError("#VALUE!", f"{at}: {key} is listed twice: give one row per underlying "
                                        "(and one per Expiry for forwards)")
        spot[key] = _number(row[cols["Spot"]], at, "Spot")
        for col, into in (("Vol", vols), ("Forward", fwd)):
            if col in cols and not is_blank(row[cols[col]]):
                into[key] = _number(row[cols[col]], at, col)
    return Market(spot, vols, fwd)


def read_surface(x: Any, valuation: dt.datetime, name: str = "surface") -> tuple[str, xv.VolSurface]:
    """One underlying's vol surface: (underlying, surface)."""
    rows = _rows(x, name)
    corner = rows[0][0]
    if not isinstance(corner, str) or is_blank(corner):
        raise ExcelError("#VALUE!", f"{name}: put the underlying's name (e.g. BTC) in the top-left cell")
    strikes = [_number(v, f"{name} row 1, column {j}", "a strike") for j, v in enumerate(rows[0][1:], start=2)]
    expiries: list[Any] = []
    vols = []
    for i, row in enumerate(rows[1:], start=2):
        e = row[0]
        expiries.append(to_float(e) if is_number(e) and to_float(e) < 100 else when(e, f"{name} row {i}, column 1"))
        vols.append([_number(v, f"{name} row {i}, column {j}", "a vol") for j, v in enumerate(row[1:], start=2)])
    moneyness = bool(strikes) and max(strikes) < 10
    try:
        if all(isinstance(e, float) for e in expiries):
            surface = xv.VolSurface(expiries, strikes, vols, moneyness=moneyness)
        elif any(isinstance(e, float) for e in expiries):
            raise ExcelError("#VALUE!", f"{name}: expiries must all be dates or all be years")
        else:
            surface = xv.VolSurface.from_dates(expiries, strikes, vols, valuation, moneyness=moneyness)
    except xv.XlVarError as exc:
        raise as_excel_error(xv.XlVarError(f"{name}: {exc}")) from None
    return corner.strip().upper(), surface


@dataclass(frozen=True)
class BookTable:
    """A book read from ranges, with the range row of each position so engine messages can name it."""

    book: xv.Book
    rows: tuple[int, ...]

    def located(self, exc: xv.XlVarError) -> ExcelError:
        """An engine error about "position N" as the Excel error naming the positions range's row."""
        return _located(exc, self.rows)


def _located(exc: xv.XlVarError, rows: Sequence[int]) -> ExcelError:
    return as_excel_error(xv.XlVarError(_POSITION.sub(lambda g: f"positions row {rows[int(g.group(1)) - 1]}",
                                                      str(exc))))


def read_book_table(positions: Any, market: Any, valuation: dt.datetime, surface: Any = None, *,
                    rate: float = 0.0) -> BookTable:
    """:func:`read_book` with the positions' range rows kept (:meth:`BookTable.located`)."""
    rows, where = read_positions(positions)
    m = read_market(market)
    vols: dict[str, Any] = dict(m.vols)
    if not is_omitted(surface):
        u, s = read_surface(surface, valuation)
        vols[u] = s
    try:
        book = xv.Book(rows, m.spot, valuation=valuation, vols=vols or None, forwards=m.forwards or None, rate=rate)
    except xv.XlVarError as exc:
        raise _located(exc, where) from None
    return BookTable(book, tuple(where))


def read_book(positions: Any, market: Any, valuation: dt.datetime, surface: Any = None, *,
              rate: float = 0.0) -> xv.Book:
    """A :class:`xl_var.Book` from the positions and market ranges (and an optional surface), errors
    naming the row of the range they come from."""
    return read_book_table(positions, market, valuation, surface, rate=rate).book


def read_params(x: Any, name: str = "params") -> dict[str, float]:
    """Two columns: parameter name and its number; omitted → no parameters."""
    if is_omitted(x):
        return {}
    out: dict[str, float] = {}
    for i, row in enumerate(_rows(x, name), start=1):
        if all(is_blank(v) for v in row):
            continue
        if len(row) < 2 or not isinstance(row[0], str):
            raise ExcelError("#VALUE!", f"{name} row {i}: give a parameter name and its value in two columns")
        out[row[0].strip()] = _number(row[1], f"{name} row {i}", row[0].strip())
    return out


def read_scenarios(x: Any, name: str = "scenarios") -> list[dict[str, Any]] | None:
    """User stress scenarios (Name, Underlying, Move, optional Vol shift) as :func:`xl_var.stress_test`
    takes them; omitted → None (the bundled crisis library)."""
    if is_omitted(x):
        return None
    rows = _rows(x, name)
    cols = _columns(rows[0], name, ("Name", "Underlying", "Move"), ("Vol shift",))
    order: list[str] = []
    found: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(rows[1:], start=2):
        if all(is_blank(v) for v in row):
            continue
        at = f"{name} row {i}"
        label, u = row[cols["Name"]], row[cols["Underlying"]]
        if not isinstance(label, str) or is_blank(label) or not isinstance(u, str) or is_blank(u):
            raise ExcelError("#VALUE!", f"{at}: Name and Underlying must be text")
        if label not in found:
            order.append(label)
            found[label] = {"name": label, "moves": {}, "vol_shifts": {}}
        found[label]["moves"][u.strip()] = _number(row[cols["Move"]], at, "Move")
        if "Vol shift" in cols and not is_blank(row[cols["Vol shift"]]):
            found[label]["vol_shifts"][u.strip()] = _number(row[cols["Vol shift"]], at, "Vol shift")
    if not order:
        raise ExcelError("#VALUE!", f"{name} has a header row but no scenarios below it")
    return [found[k] for k in order]
