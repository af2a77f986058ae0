"""xl-var margin: a book's portfolio margin, per underlying, and the scenario that sets it.

Each underlying is margined alone over the exchange's grid of price moves and implied-vol
shocks, every position fully revalued, and the margins add up: --model deribit (Deribit's
portfolio margin, the default) or span (CME SPAN's 16 scenarios). --param NAME=VALUE
overrides one of the model's parameters (repeat it; a list such as extended_moves is
written -0.5,0.5); an unknown name is refused with the list of valid ones. --currency coin
gives each underlying's margin in its own coin, which have no total across underlyings.
--grid prints the whole scenario grid, with the P&L and the loss that counts in each
scenario and a mark on the one that sets each underlying's margin. A vol shock is Deribit's
relative shock at 30 days (+50% = vols up by half) or SPAN's absolute vol points (+10% = ten
points); a weight is the fraction of the loss that counts (extended or extreme scenarios).

Without --positions and --market it uses the bundled synthetic sample book at its
valuation time; with files, --valuation defaults to now (UTC). --json (always with the
grid) and --csv keep full precision.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from xl_var_cli.errors import CliError
from xl_var_cli.options import add_book_options, add_output_options, finite, read_book_files, table, write_csv

if TYPE_CHECKING:
    import xl_var as xv

__all__ = ["GRID_COLUMNS", "add_parser", "grid_rows", "param", "run", "underlying_rows"]

#: Columns of ``--grid`` (and of ``--csv --grid``).
GRID_COLUMNS = ("underlying", "scenario", "price_move", "vol_shock", "weight", "extended", "pnl", "loss",
                "sets_margin")
_UNDERLYING_COLUMNS = ("underlying", "margin", "price_move", "vol_shock", "weight", "extended", "loss")
MARK = "◀ margin"


def param(text: str) -> tuple[str, Any]:
    """``NAME=VALUE``: a number, a comma list of numbers, or text left for the engine to refuse."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: write a model parameter as NAME=VALUE, e.g. price_scan=0.2")
    items = [v.strip() for v in value.split(",")]
    try:
        numbers = [float(v) for v in items]
    except ValueError:
        return name.strip(), value.strip()
    return name.strip(), tuple(numbers) if len(items) > 1 else numbers[0]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("margin", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_book_options(p)
    p.add_argument("--model", default="deribit", help="deribit (portfolio margin, default) or span (CME SPAN)")
    p.add_argument("--currency", default="usd", help="usd (default) or coin: each underlying's margin in its coin")
    p.add_argument("--param", action="append", type=param, default=[], metavar="NAME=VALUE",
                   help="a model parameter, e.g. price_scan=0.2 or extended_moves=-0.5,0.5 (repeat for more)")
    p.add_argument("--grid", action="store_true", help="print the whole scenario grid")
    add_output_options(p)
    p.set_defaults(func=run)


def _sets(res: xv.MarginResult, u: int) -> str:
    """What sets underlying ``u``'s margin: its worst scenario, SPAN's short-option minimum, or nothing."""
    worst = max(float(res.loss[k]) for k, s in enumerate(res.scenarios) if s.underlying == res.underlyings[u])
    margin = float(res.by_underlying[u])
    if margin <= 0.0:
        return "no scenario loses"
    return "scenario" if margin == worst else "short-option minimum"


def grid_rows(res: xv.MarginResult) -> list[list[Any]]:
    """One row per scenario, as :data:`GRID_COLUMNS` (P&L in USD, loss in the margin's currency)."""
    pnl = res.pnl.sum(axis=1)
    rows: list[list[Any]] = []
    count: dict[str, int] = {}
    marked: set[str] = set()
    for k, s in enumerate(res.scenarios):
        u = res.underlyings.index(s.underlying)
        count[s.underlying] = count.get(s.underlying, 0) + 1
        sets = (s == res.worst[u] and s.underlying not in marked and _sets(res, u) == "scenario")
        if sets:
            marked.add(s.underlying)
        rows.append([s.underlying, count[s.underlying], s.price_move, s.vol_shock, s.weight, s.extended,
                     float(pnl[k]), float(res.loss[k]), sets])
    return rows


def underlying_rows(res: xv.MarginResult) -> list[list[Any]]:
    """One row per underlying, as ``_UNDERLYING_COLUMNS``: its margin and its worst scenario."""
    grid = grid_rows(res)
    rows = []
    for u, (name, w) in enumerate(zip(res.underlyings, res.worst, strict=True)):
        loss = max(r[7] for r in grid if r[0] == name)
        rows.append([name, float(res.by_underlying[u]), w.price_move, w.vol_shock, w.weight, w.extended, loss])
    return rows


def run(args: argparse.Namespace) -> int:
    import xl_var as xv

    params: dict[str, Any] = {}
    for name, value in args.param:
        if name in params:
            raise CliError(f"--param {name} is given twice: give each parameter once")
        params[name] = value
    files = read_book_files(args)
    assert files is not None  # the sample when no file is given
    res = xv.portfolio_margin(files.book, model=args.model, currency=args.currency, **params)
    grid, per = grid_rows(res), underlying_rows(res)
    if args.json:
        print(json.dumps({
            **files.as_dict(), "model": res.model, "currency": res.currency, "margin": finite(res.margin),
            "maintenance": finite(res.maintenance), "params": res.params,
            "underlyings": [{**dict(zip(_UNDERLYING_COLUMNS, r, strict=True)), "sets": _sets(res, u)}
                            for u, r in enumerate(per)],
            "grid": [dict(zip(GRID_COLUMNS, r, strict=True)) for r in grid]}, indent=2))
        return 0
    if args.csv:
        if args.grid:
            write_csv(GRID_COLUMNS, grid)
        else:
            write_csv(_UNDERLYING_COLUMNS, [*per, ["Total", finite(res.margin), None, None, None, None, None]])
        return 0
    coin = res.currency == "coin"
    amount = "{:,.6f}".format if coin else "{:,.2f}".format
    unit = "each underlying's coin" if coin else "USD"
    total = amount(res.margin) if finite(res.margin) is not None else "none (coins of different underlyings)"
    print(f"{files.describe()}\nmodel {res.model}, margin in {unit}: margin {total}, maintenance "
          f"{amount(res.maintenance) if finite(res.maintenance) is not None else 'none'}\n")
    if args.grid:
        print(table(["underlying", "scenario", "price move", "vol shock", "weight", "P&L (USD)", f"loss ({unit})",
                     ""],
                    [[r[0], str(r[1]), f"{r[2]:+.2%}", f"{r[3]:+.2%}", f"{r[4]:.4g}" + (" ext" if r[5] else ""),
                      f"{r[6]:,.2f}", amount(r[7]), MARK if r[8] else ""] for r in grid]))
        return 0
    print(table(["underlying", "margin", "set by", "worst: price move", "vol shock", "weight"],
                [[r[0], amount(r[1]), _sets(res, u), f"{r[2]:+.2%}", f"{r[3]:+.2%}",
                  f"{r[4]:.4g}" + (" (extended)" if r[5] else "")] for u, r in enumerate(per)]
                + [["Total", total if finite(res.margin) is not None else "", "", "", "", ""]]))
    return 0
