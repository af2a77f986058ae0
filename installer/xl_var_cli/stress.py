"""xl-var stress: a book's P&L in stress scenarios, in total and per underlying.

Every position is fully revalued with each scenario's price moves and implied-vol shifts.
Without --scenarios the bundled crisis library (workbooks/crises.csv: March 2020, May 2021,
LUNA, FTX...); --scenarios FILE reads a CSV in the same format: columns
scenario,underlying,move,vol_shift,source, one row per scenario and underlying (* for every
underlying the scenario does not name; move -0.5 = -50%, vol_shift 0.3 = +30 vol points).

Without --positions and --market it uses the bundled synthetic sample book at its
valuation time; with files, --valuation defaults to now (UTC). P&L in USD (negative = loss);
--json (with each scenario's moves, vol shifts and sources) and --csv keep full precision.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from xl_var_cli.options import add_book_options, add_output_options, read_book_files, table, write_csv

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("stress", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_book_options(p)
    p.add_argument("--scenarios", metavar="FILE",
                   help="scenario CSV: scenario,underlying,move,vol_shift,source (default: the bundled crises)")
    add_output_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import xl_var as xv

    files = read_book_files(args)
    assert files is not None  # the sample when no file is given
    res = xv.stress_test(files.book, xv.load_scenarios(args.scenarios) if args.scenarios else None)
    us = res.underlyings
    if args.json:
        print(json.dumps({**files.as_dict(), "scenarios_file": args.scenarios, "currency": "USD",
                          "underlyings": list(us),
                          "scenarios": [{"name": n, "source": src, "pnl": float(res.total[i]),
                                         "by_underlying": dict(zip(us, map(float, res.by_underlying[i]),
                                                                   strict=True)),
                                         "moves": dict(zip(us, map(float, res.moves[i]), strict=True)),
                                         "vol_shifts": dict(zip(us, map(float, res.vol_shifts[i]), strict=True))}
                                        for i, (n, src) in enumerate(zip(res.names, res.sources, strict=True))]},
                         indent=2))
    elif args.csv:
        write_csv(["scenario", "pnl", *us], [[n, float(res.total[i]), *map(float, res.by_underlying[i])]
                                             for i, n in enumerate(res.names)])
    else:
        source = args.scenarios or "the bundled crisis library"
        print(f"{files.describe()}; scenarios: {source}; P&L in USD (negative = loss)\n")
        print(table(["scenario", "P&L", *us], [[n, f"{res.total[i]:,.2f}", *(f"{v:,.2f}" for v in res.by_underlying[i])]
                                               for i, n in enumerate(res.names)]))
    return 0
