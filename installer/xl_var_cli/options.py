"""What the ``xl-var`` commands share: option types, the portfolio-file options, and table units.

* Option types (``argparse`` ``type=`` callables): a bad value raises
  :class:`argparse.ArgumentTypeError`, which argparse reports as
  ``xl-var COMMAND: error: argument --OPTION: ...`` before any file is read. Whether a level is
  a valid probability is left to the engine, which says how to fix it.
* :func:`add_portfolio_options` and :func:`read_portfolio`: ``--returns`` or ``--prices``,
  ``--weights`` (or a book: ``--positions`` and ``--market``, with ``--surface``, ``--valuation``
  and ``--revaluation``) and ``--missing`` for the commands that take a portfolio (``var``,
  ``mc``), read by :mod:`xl_var_cli.datafiles`; :func:`prices_hint` turns the engine's "these
  returns look like prices" into the command-line fix, ``--prices FILE``.
* :func:`add_book_options` and :func:`read_book_files`: the book of the derivatives commands
  (``greeks``, ``margin``, ``stress``), the bundled sample when no file is given;
  :meth:`BookFiles.errors` names the positions file's row in the engine's "position N" errors.
* :class:`Units` and :func:`table`: weights given as currency amounts (or a book, in USD) make
  VaR and ES amounts of money (shown with thousands separators and 2 decimals); weights given
  as fractions make them fractions of the portfolio value (shown as percentages). ``--json``
  and ``--csv`` keep full precision (:func:`finite` turns NaN into JSON's null,
  :func:`write_csv` prints one table).

Nothing heavy is imported here at module level: ``xl-var --help`` stays instant.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbooks import (
    SAMPLE_MARKET,
    SAMPLE_POSITIONS,
    SAMPLE_RETURNS,
    SAMPLE_SURFACE,
    SAMPLE_VALUATION,
    SAMPLE_WEIGHTS,
)
from xl_var_cli.errors import CliError

if TYPE_CHECKING:
    import numpy as np

    import xl_var as xv
    from xl_var_cli.datafiles import Returns, Weights

__all__ = [
    "BookFiles",
    "Portfolio",
    "Units",
    "add_book_options",
    "add_output_options",
    "add_portfolio_options",
    "confidence_level",
    "confidence_levels",
    "finite",
    "prices_hint",
    "quantity",
    "read_book_files",
    "read_portfolio",
    "table",
    "valuation_time",
    "write_csv",
]


def confidence_level(text: str) -> float:
    """A confidence level written as a probability (``0.99``) or a percentage (``99%``)."""
    item = text.strip()
    try:
        return float(item[:-1]) / 100.0 if item.endswith("%") else float(item)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number such as 0.99 or 99%") from None


def confidence_levels(text: str) -> list[float]:
    """A comma list of confidence levels (``0.95,99%``); use with ``action="extend"``."""
    levels = [confidence_level(part) for part in text.split(",") if part.strip()]
    if not levels:
        raise argparse.ArgumentTypeError(f"{text!r}: expected confidence levels such as 0.95,0.99")
    return levels


def valuation_time(text: str) -> dt.datetime:
    """A valuation time as ISO text (``2024-12-31``, ``2024-12-31T16:00Z``); without a zone it is UTC."""
    try:
        t = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or time such as 2024-12-31T16:00Z") from None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


# ----------------------------------------------------------------------------- books
_POSITION = re.compile(r"\bposition (\d+)")


def add_book_options(p: argparse.ArgumentParser, positions: Any = None, *, sample: bool = True) -> None:
    """``--positions`` (added to ``positions``, a mutually exclusive group, when given), ``--market``,
    ``--surface`` and ``--valuation``; ``sample``: without files the command uses the bundled sample book."""
    default = " (default: the bundled sample)" if sample else ""
    (positions or p).add_argument(
        "--positions", metavar="FILE",
        help="positions CSV/xlsx: header Instrument (Deribit name such as BTC-27DEC24-60000-C), Quantity (coins; "
             f"USD notional for inverse futures and perpetuals), optional Vol{default or '; with --market'}")
    p.add_argument("--market", metavar="FILE",
                   help=f"market CSV/xlsx: header Underlying, Spot, optional Vol, Forward, Expiry{default}")
    p.add_argument("--surface", metavar="FILE",
                   help="vol surface CSV/xlsx of one underlying: its name top-left, expiries down the first column, "
                        f"strikes across{' (default: the sample surface with the sample book)' if sample else ''}")
    p.add_argument("--valuation", type=valuation_time, metavar="ISO",
                   help="valuation time, e.g. 2024-12-31T16:00Z (UTC when no zone is given); default: now, or the "
                        "sample's valuation with the sample book" if sample else
                        "valuation time, e.g. 2024-12-31T16:00Z (UTC when no zone is given); default: now")


@dataclass(frozen=True)
class BookFiles:
    """A book read from files: the files as named (``sample``: the bundled ones), the valuation time and
    how it was chosen (``valued``: "given", "now" or "the sample's")."""

    book: xv.Book
    positions: str
    market: str
    surface: str | None
    valuation: dt.datetime
    valued: str
    sample: bool = False

    def describe(self) -> str:
        """One line naming the files and the valuation used."""
        surface = f", surface {self.surface}" if self.surface and self.surface != str(SAMPLE_SURFACE) else ""
        files = "the bundled sample book" if self.sample else f"positions {self.positions}, market {self.market}"
        return f"{files}{surface}; valuation {self.valuation:%Y-%m-%d %H:%M:%S} UTC ({self.valued})"

    def as_dict(self) -> dict[str, Any]:
        """The files and valuation for ``--json``."""
        return {"positions": self.positions, "market": self.market, "surface": self.surface,
                "valuation": self.valuation.isoformat(), "valued": self.valued, "sample": self.sample}

    @contextmanager
    def errors(self, returns: str | None = None) -> Iterator[None]:
        """Engine errors about "position N" as one line naming the positions file's row (and ``returns``)."""
        from xl_var.errors import XlVarError

        try:
            yield
        except XlVarError as exc:
            if not _POSITION.search(str(exc)):
                raise
            lines = self._lines()
            text = _POSITION.sub(lambda m: f"{self.positions} row {lines[int(m.group(1)) - 1]}", str(exc))
            raise CliError(f"{returns}: {text}" if returns else text) from None

    def _lines(self) -> list[int]:
        """The file line of each position (blank rows skipped as the reader skips them)."""
        from xl_var_cli.datafiles import read_table
        from xl_var_udfs.booktables import read_positions

        sheet = read_table(self.positions)
        return [sheet.lines[w - 1] for w in read_positions(sheet.rows)[1]]


def read_book_files(args: argparse.Namespace, *, sample: bool = True) -> BookFiles | None:
    """The book named by :func:`add_book_options`' options: the bundled sample (at its valuation unless
    ``--valuation``) when neither ``--positions`` nor ``--market`` is given and ``sample``, else None."""
    from xl_var_cli.datafiles import read_book

    if not (args.positions or args.market):
        if not sample:
            extra = [f"--{o}" for o in ("surface", "valuation", "revaluation") if getattr(args, o, None)]
            if extra:
                raise CliError(f"{' and '.join(extra)} appl{'ies' if len(extra) == 1 else 'y'} to a book: "
                               "give --positions and --market")
            return None
        positions, market, surface = str(SAMPLE_POSITIONS), str(SAMPLE_MARKET), args.surface or str(SAMPLE_SURFACE)
        valuation, valued, sampled = valuation_time(SAMPLE_VALUATION), "the sample's", True
    elif not (args.positions and args.market):
        raise CliError("--positions and --market go together: give the positions file and the market file "
                       "(Underlying, Spot)")
    else:
        positions, market, surface = args.positions, args.market, args.surface
        valuation, valued, sampled = dt.datetime.now(dt.UTC), "now", False
    if args.valuation:
        valuation, valued = args.valuation, "given"
    book = read_book(positions, market, valuation=valuation, surface=surface)
    return BookFiles(book, positions, market, surface, valuation, valued, sampled)


# ----------------------------------------------------------------------------- portfolio files
def add_portfolio_options(p: argparse.ArgumentParser, *, book: bool = False) -> None:
    """``--returns`` or ``--prices`` (one of them), ``--weights`` and ``--missing``; with ``book``, a book
    in place of the weights (``--positions``, ``--market``, ``--surface``, ``--valuation``, ``--revaluation``)."""
    source = p.add_mutually_exclusive_group()
    source.add_argument("--returns", help="returns CSV/xlsx: one column per asset, a date column puts the rows "
                                          "in time order, without one rows are oldest first "
                                          "(default: the bundled sample)")
    source.add_argument("--prices", metavar="FILE",
                        help="prices CSV/xlsx instead of returns: sorted by date and turned into returns")
    held = p.add_mutually_exclusive_group() if book else p
    # with a book, no default: argparse takes a value identical to the default for no value (str(Path) is cached)
    held.add_argument("--weights", default=None if book else str(SAMPLE_WEIGHTS),
                      help="weights CSV/xlsx: fractions (0.25) or currency amounts (1,250,000), as (asset, weight) "
                           "rows or one per asset (default: the bundled sample)")
    if book:
        add_book_options(p, held, sample=False)
        p.add_argument("--revaluation", metavar="HOW",
                       help="with --positions: full, delta or delta-gamma, how each scenario reprices the book "
                            "(the returns' header names the underlyings)")
    p.add_argument("--missing", choices=["raise", "drop"], default="raise",
                   help="blank or non-numeric cells: refuse them (raise, the default) or drop those rows")


@dataclass(frozen=True)
class Portfolio:
    """The files a command read: ``source`` is the returns or prices file as named; ``weights``, or a
    ``book`` repriced by ``revaluation`` (None: the engine's default), is what the returns apply to."""

    source: str
    returns: Returns
    weights: Weights | None = None
    book: BookFiles | None = None
    revaluation: str | None = None

    @property
    def exposure(self) -> Any:
        """The engine's ``weights`` argument: the weights, or the :class:`xl_var.Book`."""
        return self.book.book if self.book else self.weights.values  # type: ignore[union-attr]

    @property
    def options(self) -> dict[str, Any]:
        """The engine's book options: the returns' header names the underlyings."""
        return {"assets": list(self.returns.assets), "revaluation": self.revaluation} if self.book else {}

    @property
    def units(self) -> Units:
        """USD for a book, else the weights' units."""
        return Units(True, "USD", book=True) if self.book else Units.of(self.weights)  # type: ignore[arg-type]

    @property
    def names(self) -> tuple[str, ...]:
        """Row labels of the component tables: the assets, or the book's positions."""
        return tuple(p.name for p in self.book.book.positions) if self.book else self.returns.assets

    @property
    def sizes(self) -> np.ndarray:
        """The weights, or the positions' quantities."""
        return self.book.book.quantity if self.book else self.weights.values  # type: ignore[union-attr]

    @property
    def label(self) -> tuple[str, str]:
        """Headers of the component tables' first two columns."""
        return ("position", "quantity") if self.book else ("asset", "weight")

    def size(self, x: float) -> str:
        """A weight (in the units) or a quantity."""
        return quantity(x) if self.book else self.units.amount(x)

    def total_size(self) -> str:
        """The Total row's weight; quantities of different instruments do not add up."""
        return "" if self.book else self.units.amount(float(self.sizes.sum()))

    @contextmanager
    def errors(self) -> Iterator[None]:
        """:func:`prices_hint` and, for a book, :meth:`BookFiles.errors` naming the returns file."""
        with prices_hint(self.source):
            if self.book:
                with self.book.errors(self.source):
                    yield
            else:
                yield


def read_portfolio(args: argparse.Namespace) -> Portfolio:
    """Read the files named by :func:`add_portfolio_options`' options."""
    from xl_var_cli.datafiles import read_returns, read_weights

    source = args.prices or args.returns or str(SAMPLE_RETURNS)
    book = read_book_files(args, sample=False)
    returns = read_returns(source, prices=args.prices is not None, missing=args.missing)
    if book:
        return Portfolio(source, returns, book=book, revaluation=args.revaluation)
    return Portfolio(source, returns, read_weights(args.weights or str(SAMPLE_WEIGHTS), returns.assets))


@contextmanager
def prices_hint(source: str) -> Iterator[None]:
    """Reword the engine's :class:`~xl_var.errors.LooksLikePrices` as the command-line fix."""
    from xl_var.errors import LooksLikePrices

    try:
        yield
    except LooksLikePrices:
        raise CliError(f"{source}: these returns look like prices (all positive, far from zero, trending): "
                       f"use --prices {source} to turn them into returns") from None


# ----------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class Units:
    """How a table shows weights and losses: money when the weights are amounts (or a ``book``'s
    positions, in USD), else percentages."""

    money: bool
    currency: str = ""
    book: bool = False

    @classmethod
    def of(cls, weights: Weights) -> Units:
        """The units the weights were given in (:attr:`Weights.kind`, :attr:`Weights.currency`)."""
        return cls(weights.kind == "amounts", weights.currency)

    def amount(self, x: float) -> str:
        """A weight, VaR or ES: ``1,234,567.89`` or ``2.35%``."""
        return f"{x:,.2f}" if self.money else f"{x:.2%}"

    def error(self, x: float) -> str:
        """A standard error, finer than the amount it qualifies: ``1,234.57`` or ``0.0123%``."""
        return f"{x:,.2f}" if self.money else f"{x:.4%}"

    def describe(self) -> str:
        """One line saying what the numbers are."""
        if self.book:
            return f"a book of positions: VaR and ES in {self.currency}"
        if self.money:
            unit = self.currency or "the weights' currency"
            return f"weights are amounts: VaR and ES in {unit}"
        return "weights are fractions: VaR and ES as a percentage of the portfolio value"

    def as_dict(self) -> dict[str, Any]:
        """The units for ``--json``."""
        kind = "positions" if self.book else "amounts" if self.money else "fractions"
        return {"weights": kind, "currency": self.currency}


def quantity(x: float) -> str:
    """A position's quantity: ``-400,000``, ``2.5``."""
    return f"{x:,.12g}"


def finite(x: float) -> float | None:
    """``x`` for JSON: None (null) when it is NaN or infinite."""
    return float(x) if math.isfinite(x) else None


def add_output_options(p: argparse.ArgumentParser) -> None:
    """``--json`` or ``--csv`` (one of them) instead of the readable table."""
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print machine-readable JSON (full precision)")
    out.add_argument("--csv", action="store_true", help="print one CSV table (full precision)")


def write_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """One CSV table on stdout; None cells are left empty."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Text columns as wide as their longest cell: the first left-aligned, the others right-aligned."""
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join([line[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True))])
        .rstrip() for line in lines)
