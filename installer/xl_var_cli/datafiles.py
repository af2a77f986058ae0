"""Read returns, prices and weights from CSV or xlsx files, as people export them.

A file becomes the list of rows the worksheet functions receive from Excel, and the same
reader reads it (:func:`xl_var_udfs.excel.read_table`): header row (numeric tickers too),
date column, rows put oldest first, blanks and ``missing``. Only getting to that grid is
particular to files:

* **CSV**: UTF-8 (a byte-order mark is dropped) or Windows-1252; the delimiter (``,`` ``;``
  tab ``|``) is the one the first line uses, the quoting is :class:`csv.Sniffer`'s.
* **xlsx**: the first sheet, after :func:`~xl_var_cli.workbook.package.read_package`'s safety checks;
  numbers and dates as stored.
* **Number text** (``"97,123.45"``, ``0.39%``, ``(1,234)``, ``$1,250,000``, ``97123,45``) is read by
  :func:`xl_var_udfs.numbertext.read_number` with the file's decimal mark: a comma when more
  numbers read only that way (European Excel's ``;`` files), else a point. Text that reads
  two ways is refused with both readings.
* Dates as exported (``2024-12-01``, ``Dec 01, 2024``, ``01.12.2024``, ``12/01/2024`` decided
  from the column) are read by :mod:`xl_var_udfs.dates`.
* Wholly blank rows and columns anywhere are left out; trailing empty columns too.

Every failure raises :class:`~xl_var_cli.errors.CliError`, one line naming the file, the row
and column as the file counts them, and what to do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xl_var import Book, XlVarError, price_returns
from xl_var_cli.errors import CliError
from xl_var_cli.workbook.package import read_package
from xl_var_udfs import booktables
from xl_var_udfs.cells import ExcelError, describe, is_number
from xl_var_udfs.excel import read_table as read_range
from xl_var_udfs.excel import read_vector, relocate
from xl_var_udfs.numbertext import CURRENCIES, NumberText, NumberTextError, file_decimal, read_number

__all__ = ["Returns", "Sheet", "Weights", "read_book", "read_returns", "read_table", "read_weights"]

_EXCEL_HINT = '; fix it or set the missing argument to "drop"'
_AMOUNT = 1.5  # a weight above this (in absolute value) is a currency amount, not a fraction


@dataclass(frozen=True)
class Returns:
    """A returns table: ``values`` is T×N (oldest row first), ``assets`` the N column names, ``dates`` the
    T row labels (ISO dates when the file has a date column, else ``"1"``, ``"2"``...)."""

    values: np.ndarray
    assets: tuple[str, ...]
    dates: tuple[str, ...]


@dataclass(frozen=True)
class Weights:
    """Positions read from a weights file, one per asset in the returns' column order.

    ``kind`` is ``"amounts"`` (currency) or ``"fractions"`` of the portfolio; ``currency`` the
    currency written with the amounts (``"USD"``), or ``""`` when unknown.
    """

    values: np.ndarray
    kind: str
    currency: str


@dataclass(frozen=True)
class Sheet:
    """A file as a grid: ``rows`` of cells (None, float, str, bool, datetime), the file's row and column
    number of each grid row and column, and the number text (or xlsx number format) of number cells
    written with a currency, thousands separators or a percent sign."""

    path: Path
    rows: list[list[Any]]
    lines: list[int]
    columns: list[int]
    written: dict[tuple[int, int], NumberText]

    def error(self, message: str) -> CliError:
        """A message about grid positions (from the Excel-layer reader) as one line about the file."""
        message = relocate(message, lambda r: self.lines[r - 1] if 1 <= r <= len(self.lines) else None,
                           lambda c: self.columns[c - 1] if 1 <= c <= len(self.columns) else c)
        return CliError(f"{self.path}: {message.replace(_EXCEL_HINT, ': fix it or use --missing drop')}")


def _csv_rows(p: Path) -> tuple[list[tuple[int, list[Any]]], str]:
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first = next((line for line in text.splitlines() if line.strip()), "")
    used = [d for d in (",", ";", "\t", "|") if d in first] or [","]
    try:
        dialect: Any = csv.Sniffer().sniff(text[:65536], delimiters="".join(used))
    except csv.Error:
        dialect = csv.excel
    if len(used) == 1 and dialect.delimiter != used[0]:
        dialect = csv.excel
    delimiter = used[0] if len(used) == 1 else dialect.delimiter
    reader = csv.reader(io.StringIO(text), dialect, delimiter=delimiter)
    try:
        return [(reader.line_num, list(row)) for row in reader], delimiter
    except csv.Error as exc:
        raise CliError(f"{p}: line {reader.line_num} is not CSV ({exc}): save the file again as CSV") from None


def _xlsx_rows(p: Path) -> tuple[list[tuple[int, list[Any]]], dict[tuple[int, int], NumberText]]:
    import openpyxl  # only xlsx files need it

    pkg = read_package(p)  # zip/XML bomb, encryption and damage checks before openpyxl reads it
    book = openpyxl.load_workbook(io.BytesIO(pkg.raw), read_only=True, data_only=True)
    rows: list[tuple[int, list[Any]]] = []
    formats: dict[tuple[int, int], NumberText] = {}
    for r, cells in enumerate(book.worksheets[0].iter_rows(min_row=1, min_col=1), start=1):
        row = []
        for c, cell in enumerate(cells, start=1):
            v = cell.value
            fmt = getattr(cell, "number_format", None) or ""
            if is_number(v) and not isinstance(v, bool):
                symbol = next((s for s in CURRENCIES if s in fmt), "")
                if symbol or "#,##" in fmt or "%" in fmt:
                    formats[r, c] = NumberText(float(v), CURRENCIES.get(symbol, ""), "#,##" in fmt, "%" in fmt)
                v = float(v)
            elif isinstance(v, dt.date) and not isinstance(v, dt.datetime):
                v = dt.datetime(v.year, v.month, v.day)
            row.append(v)
        rows.append((r, row))
    book.close()
    return rows, formats


def read_table(path: str | Path) -> Sheet:
    """Read the first sheet of an xlsx file, or a CSV file, as a :class:`Sheet` (number text read)."""
    p = Path(path)
    if not p.is_file():
        raise CliError(f"{p}: no such file")
    try:
        if zipfile.is_zipfile(p):
            (raw, written), delimiter = _xlsx_rows(p), ","
        elif p.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
            raise CliError(f"{p}: not a readable workbook (truncated, encrypted or not xlsx)")
        else:
            (raw, delimiter), written = _csv_rows(p), {}
    except CliError:
        raise
    except Exception as exc:  # openpyxl raises many types for malformed files
        raise CliError(f"{p}: cannot read it as CSV or xlsx ({type(exc).__name__}: {exc})") from None
    texts = [v for _, row in raw for v in row if isinstance(v, str)]
    decimal = file_decimal(texts, default="," if delimiter == ";" else ".")  # ";" files: European Excel
    grid: list[list[Any]] = []
    for line, row in raw:
        cells = []
        for c, v in enumerate(row, start=1):
            if isinstance(v, str):
                v = v.strip() or None
                try:
                    number = read_number(v, decimal) if v is not None else None
                except NumberTextError as exc:
                    raise CliError(f"{p}: row {line}, column {c}: {exc}") from None
                if number is not None:
                    if number.currency or number.grouped or number.percent:
                        written[line, c] = number
                    v = number.value
            cells.append(v)
        grid.append(cells)
    width = max(map(len, grid), default=0)
    grid = [r + [None] * (width - len(r)) for r in grid]
    keep_rows = [i for i, r in enumerate(grid) if any(v is not None for v in r)]
    keep_cols = [j for j in range(width) if any(grid[i][j] is not None for i in keep_rows)]
    if not keep_cols:
        raise CliError(f"{p}: the file is empty: give a table with a header row")
    lines = [raw[i][0] for i in keep_rows]
    rows = [[grid[i][j] for j in keep_cols] for i in keep_rows]
    return Sheet(p, rows, lines, [j + 1 for j in keep_cols], written)


def _iso(d: dt.datetime | None) -> str:
    if d is None:
        return ""
    return d.date().isoformat() if d.time() == dt.time() else d.isoformat(sep=" ")


def read_returns(path: str | Path, *, prices: bool = False, missing: str = "raise") -> Returns:
    """Read a returns table, or with ``prices=True`` a price table turned into simple returns.

    A header row of asset names (or numeric tickers) and a date column are detected; with dates,
    rows are put oldest first (prices before they are turned into returns, whose dates are then
    the later date of each pair). ``missing="drop"`` leaves out rows holding a blank or error
    cell; otherwise such a cell is an error naming its row and column.
    """
    sheet = read_table(path)
    name = "prices" if prices else "returns"
    try:
        table = read_range(sheet.rows, name, missing=missing)
    except ExcelError as exc:
        raise sheet.error(exc.message) from None
    values = table.values
    if prices:
        try:
            values = price_returns(values)
        except XlVarError as exc:
            raise sheet.error(table.locate(exc, "prices").message) from None
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        i, j = (int(k) for k in bad[0])
        raise sheet.error(f"{name} row {table.rows[i]}, column {j + table.first_column} is {values[i, j]:g}: "
                          "give a finite number")
    skip = 1 if prices else 0
    if table.dates is not None:
        dates = tuple(_iso(d) for d in table.dates[skip:])
    elif table.labels is not None:
        dates = tuple(str(v) for v in table.labels[skip:])
    else:
        dates = tuple(str(i + 1) for i in range(values.shape[0]))
    return Returns(values=values, assets=table.names, dates=dates)


def _shown(names: list[str], limit: int = 5) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(map(repr, names[:limit])) + more


def _named(sheet: Sheet, assets: tuple[str, ...]) -> tuple[np.ndarray, list[tuple[int, int]]] | None:
    """Weights given as (asset, weight) rows, or a row of names over a row of weights, matched to ``assets``
    by name (case and surrounding whitespace ignored); None when the file is not laid out so."""
    rows = sheet.rows
    if len(rows[0]) == 2:
        body = range(1 if isinstance(rows[0][1], str) else 0, len(rows))  # below a header such as Asset, Weight
        if not body or not all(isinstance(rows[i][0], str) for i in body):
            return None
        pairs = [(rows[i][0], rows[i][1], (i, 1)) for i in body]
    elif len(rows) == 2 and all(isinstance(v, str) for v in rows[0]):
        pairs = [(n, v, (1, j)) for j, (n, v) in enumerate(zip(rows[0], rows[1], strict=True))]
    else:
        return None
    key = {a.strip().casefold(): k for k, a in enumerate(assets)}
    out, cells = np.full(len(assets), np.nan), [(0, 0)] * len(assets)
    seen: dict[str, int] = {}
    extra: list[str] = []
    for label, v, (i, j) in pairs:
        name = re.sub(r"\s+", " ", str(label)).strip()
        if name.casefold() in seen:
            raise CliError(f"{sheet.path}: weights name {name!r} more than once (rows {seen[name.casefold()]} and "
                           f"{sheet.lines[i]}): give one weight per asset")
        seen[name.casefold()] = sheet.lines[i]
        if not (is_number(v) and not isinstance(v, bool)):
            raise CliError(f"{sheet.path}: row {sheet.lines[i]}, column {sheet.columns[j]} (weight of {name!r}) "
                           f"is {describe(v)}: give a number")
        k = key.get(name.casefold())
        if k is None:
            extra.append(name)
            continue
        out[k], cells[k] = float(v), (i, j)
    missing = [a for a, x in zip(assets, out, strict=True) if np.isnan(x)]
    if missing or extra:
        parts = ([f"has no weight for {_shown(missing)}"] if missing else []) + (
            [f"names {_shown(extra)}, not in the returns"] if extra else [])
        raise CliError(f"{sheet.path}: weights {' and '.join(parts)}: the returns have {_shown(list(assets))}")
    return out, cells


def read_weights(path: str | Path, assets: tuple[str, ...]) -> Weights:
    """Read weights: (asset, weight) rows or a row of names over a row of weights, matched by name in any
    order (case and surrounding whitespace, tabs and CR included, ignored), or one row or column of
    numbers in the returns' column order.

    ``kind`` is ``"amounts"`` when any weight is written as currency (a currency sign or code, or
    thousands separators, in the text or in the xlsx cell's number format) or any ``|weight| > 1.5``;
    otherwise ``"fractions"`` (``0.35`` or ``35%``). ``currency`` is the one currency written with
    them (``"USD"`` for ``$``, ``"EUR"`` for ``€`` ...) or ``""``; two different ones are refused.
    """
    sheet = read_table(path)
    named = _named(sheet, assets)
    if named is not None:
        values, cells = named
    else:
        try:
            values = read_vector(sheet.rows, "weights", size=len(assets)).values
        except ExcelError as exc:
            raise sheet.error(exc.message.replace("but returns has", "but the returns have")) from None
        cells = []
    if not np.all(np.isfinite(values)):
        k = int(np.flatnonzero(~np.isfinite(values))[0])
        raise CliError(f"{path}: weight {k + 1} ({assets[k]!r}) is not a finite number: give a number")
    by_line = {(sheet.lines[i], sheet.columns[j]) for i, j in cells}
    written = [t for (line, col), t in sheet.written.items() if not cells or (line, col) in by_line]
    currencies = sorted({t.currency for t in written if t.currency})
    if len(currencies) > 1:
        raise CliError(f"{path}: weights are written in {' and '.join(currencies)}: give them in one currency")
    money = bool(currencies) or any(t.grouped for t in written) or bool(np.any(np.abs(values) > _AMOUNT))
    return Weights(values=values, kind="amounts" if money else "fractions",
                   currency=currencies[0] if currencies else "")



def read_book(positions: str | Path, market: str | Path, *, valuation: dt.datetime,
              surface: str | Path | None = None) -> Book:
    """A :class:`xl_var.Book` from a positions file (Instrument, Quantity, optional Vol), a market file
    (Underlying, Spot, optional Vol, Forward, Expiry) and an optional vol surface file, read by the same
    readers as the worksheet functions' ranges (:mod:`xl_var_udfs.booktables`); errors name the file's row."""
    sheets = {"positions": read_table(positions), "market": read_table(market)}
    if surface is not None:
        sheets["surface"] = read_table(surface)
    try:
        return booktables.read_book(sheets["positions"].rows, sheets["market"].rows, valuation,
                                    sheets["surface"].rows if "surface" in sheets else None)
    except ExcelError as exc:
        which = next((k for k in sheets if exc.message.startswith(k + " ")), "positions")
        raise sheets[which].error(exc.message) from None
