"""xl-var greeks: a book's USD value and Greeks, per underlying (or per position), with a Total row.

The columns are BOOKGREEKS': Value (USD; futures and perpetuals are margined, worth 0),
Delta (coins), Delta USD, Delta (coin) (Deribit's coin delta for coin-settled positions),
Gamma (coins per USD), Gamma USD, Vega (USD per vol point) and Theta (USD per day). Coins of
different underlyings do not add up, so with several underlyings the Total row leaves
Delta, Delta (coin) and Gamma blank (null in --json).

Without --positions and --market it uses the bundled synthetic sample book, its vol surface
and its valuation time; with files, --valuation defaults to now (UTC). The output says which
valuation was used. --json and --csv keep full precision.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from xl_var_cli.options import (
    BookFiles,
    add_book_options,
    add_output_options,
    finite,
    read_book_files,
    table,
    write_csv,
)

__all__ = ["COLUMNS", "add_parser", "greeks_rows", "run"]

#: (BookGreeks field, header, whether it adds up across underlyings, how the table shows it).
COLUMNS = (("value", "Value", True, "{:,.2f}"), ("delta", "Delta", False, "{:,.4f}"),
           ("delta_usd", "Delta USD", True, "{:,.2f}"), ("delta_coin", "Delta (coin)", False, "{:,.4f}"),
           ("gamma", "Gamma", False, "{:.4g}"), ("gamma_usd", "Gamma USD", True, "{:,.2f}"),
           ("vega", "Vega", True, "{:,.2f}"), ("theta", "Theta", True, "{:,.2f}"))


def add_parser(sub: Any) -> None:
    p = sub.add_parser("greeks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_book_options(p)
    p.add_argument("--by", choices=["underlying", "position"], default="underlying",
                   help="one row per underlying (default) or per position")
    add_output_options(p)
    p.set_defaults(func=run)


def greeks_rows(files: BookFiles, by: str) -> tuple[str, list[list[Any]]]:
    """(first header, rows of label and one float per :data:`COLUMNS`), the Total row last with None where
    coins of several underlyings would be added."""
    import numpy as np

    book = files.book
    g = book.greeks(by)
    rows: list[list[Any]] = [[label, *(float(getattr(g, f)[i]) for f, *_ in COLUMNS)]
                             for i, label in enumerate(g.labels)]
    several = len(book.underlyings) > 1
    rows.append(["Total", *(None if several and not adds else float(np.sum(getattr(g, f)))
                            for f, _, adds, _ in COLUMNS)])
    return ("underlying" if by == "underlying" else "position"), rows


def run(args: argparse.Namespace) -> int:
    files = read_book_files(args)
    assert files is not None  # the sample when no file is given
    first, rows = greeks_rows(files, args.by)
    fields = [f for f, *_ in COLUMNS]
    if args.json:
        print(json.dumps({**files.as_dict(), "by": args.by, "currency": "USD",
                          "rows": [{first: r[0], **{f: finite(v) for f, v in zip(fields, r[1:], strict=True)}}
                                   for r in rows[:-1]],
                          "total": {f: None if v is None else finite(v)
                                    for f, v in zip(fields, rows[-1][1:], strict=True)}}, indent=2))
    elif args.csv:
        write_csv([first, *fields], rows)
    else:
        print(f"{files.describe()}; values in USD\n")
        print(table([first, *(h for _, h, *_ in COLUMNS)],
                    [[r[0], *("" if v is None else fmt.format(v) for v, (*_, fmt) in zip(r[1:], COLUMNS,
                                                                                          strict=True))]
                     for r in rows]))
    return 0
