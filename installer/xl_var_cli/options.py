"""What the ``xl-var`` commands share: option types, the portfolio-file options, and table units.

* Option types (``argparse`` ``type=`` callables): a bad value raises
  :class:`argparse.ArgumentTypeError`, which argparse reports as
  ``xl-var COMMAND: error: argument --OPTION: ...`` before any file is read. Whether a level is
  a valid probability is left to the engine, which says how to fix it.
* :func:`add_portfolio_options` and :func:`read_portfolio`: ``--returns`` or ``--prices``,
  ``--weights`` and ``--missing`` for the commands that take a portfolio (``var``, ``mc``), read
  by :mod:`xl_var_cli.datafiles`; :func:`prices_hint` turns the engine's "these returns look like
  prices" into the command-line fix, ``--prices FILE``.
* :class:`Units` and :func:`table`: weights given as currency amounts make VaR and ES amounts of
  money (shown with thousands separators and 2 decimals); weights given as fractions make them
  fractions of the portfolio value (shown as percentages). ``--json`` and ``--csv`` keep full
  precision.

Nothing heavy is imported here at module level: ``xl-var --help`` stays instant.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbooks import SAMPLE_RETURNS, SAMPLE_WEIGHTS
from xl_var_cli.errors import CliError

if TYPE_CHECKING:
    from xl_var_cli.datafiles import Returns, Weights

__all__ = [
    "Portfolio",
    "Units",
    "add_portfolio_options",
    "confidence_level",
    "confidence_levels",
    "prices_hint",
    "read_portfolio",
    "table",
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


# ----------------------------------------------------------------------------- portfolio files
def add_portfolio_options(p: argparse.ArgumentParser) -> None:
    """``--returns`` or ``--prices`` (one of them), ``--weights`` and ``--missing``."""
    source = p.add_mutually_exclusive_group()
    source.add_argument("--returns", help="returns CSV/xlsx: one column per asset, a date column puts the rows "
                                          "in time order, without one rows are oldest first "
                                          "(default: the bundled sample)")
    source.add_argument("--prices", metavar="FILE",
                        help="prices CSV/xlsx instead of returns: sorted by date and turned into returns")
    p.add_argument("--weights", default=str(SAMPLE_WEIGHTS),
                   help="weights CSV/xlsx: fractions (0.25) or currency amounts (1,250,000), as (asset, weight) "
                        "rows or one per asset (default: the bundled sample)")
    p.add_argument("--missing", choices=["raise", "drop"], default="raise",
                   help="blank or non-numeric cells: refuse them (raise, the default) or drop those rows")


@dataclass(frozen=True)
class Portfolio:
    """The files a command read: ``source`` is the returns or prices file as named."""

    source: str
    returns: Returns
    weights: Weights


def read_portfolio(args: argparse.Namespace) -> Portfolio:
    """Read the files named by :func:`add_portfolio_options`' options."""
    from xl_var_cli.datafiles import read_returns, read_weights

    source = args.prices or args.returns or str(SAMPLE_RETURNS)
    returns = read_returns(source, prices=args.prices is not None, missing=args.missing)
    return Portfolio(source, returns, read_weights(args.weights, returns.assets))


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
    """How a table shows weights and losses: money when the weights are amounts, else percentages."""

    money: bool
    currency: str = ""

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
        if self.money:
            unit = self.currency or "the weights' currency"
            return f"weights are amounts: VaR and ES in {unit}"
        return "weights are fractions: VaR and ES as a percentage of the portfolio value"

    def as_dict(self) -> dict[str, Any]:
        """The units for ``--json``."""
        return {"weights": "amounts" if self.money else "fractions", "currency": self.currency}


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Text columns as wide as their longest cell: the first left-aligned, the others right-aligned."""
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join([line[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True))])
        .rstrip() for line in lines)
