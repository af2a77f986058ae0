"""xl-var var: VaR and ES by every method, and the component table, for a portfolio.

Without --returns or --prices it uses the bundled synthetic sample portfolio. Weights given as
currency amounts give VaR and ES in money; weights given as fractions give them as a percentage
of the portfolio value. --json keeps full precision.

With --positions and --market in place of --weights, the book of spot, futures, perpetuals
and options is repriced over the returns of its underlyings (the returns' header names them):
VaR and ES in USD, by full revaluation for historical and fhs and by the deltas for the
other methods unless --revaluation says otherwise (a method that cannot take it is listed
with the engine's reason), and the component table has one row per position.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from xl_var_cli.options import Portfolio, add_portfolio_options, confidence_level, read_portfolio, table

if TYPE_CHECKING:
    import xl_var as xv
    from xl_var._typing import FloatArray

__all__ = ["add_parser", "compute", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("var", description=__doc__)
    add_portfolio_options(p, book=True)
    p.add_argument("--confidence", type=confidence_level, default=0.99,
                   help="confidence level, e.g. 0.99 or 99%%")
    p.add_argument("--horizon", type=int, default=1, help="horizon in periods of the returns")
    p.add_argument("--method", default="historical", help="method of the component table")
    p.add_argument("--measure", default="var", choices=["var", "es"], help="component table measure")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)


def compute(returns: FloatArray, weights: Any, confidence: float, horizon: int, method: str, measure: str,
            **options: Any) -> tuple[dict[str, xv.RiskResult], xv.Decomposition, dict[str, str]]:
    """Risk by every method, the decomposition for ``method`` and, with a book (``options``), the methods
    the engine refused for the book's revaluation with its reason.

    The decomposition comes first, so a problem common to every method (a file, an underlying missing from
    the returns) stops the command instead of being listed as a refusal.
    """
    import xl_var as xv
    from xl_var.portfolio import METHODS

    decomp = xv.component_var(returns, weights, confidence, horizon, method=method, measure=measure, **options)
    risks: dict[str, xv.RiskResult] = {}
    refused: dict[str, str] = {}
    for m in METHODS:
        try:
            risks[m] = xv.portfolio_var(returns, weights, confidence, horizon, method=m, **options)
        except xv.XlVarError as exc:
            if not options:
                raise
            refused[m] = str(exc)
    return risks, decomp, refused


def _revaluation(data: Portfolio, method: str) -> str:
    """How ``method`` reprices the book: as asked, or the method's default (canonical names)."""
    from xl_var._validate import choose
    from xl_var.methods import METHODS, REGISTRY, REVALUATION_NAMES

    if data.revaluation:
        return choose(data.revaluation, "revaluation", REVALUATION_NAMES)
    return REGISTRY[choose(method, "method", METHODS)].default_revaluation


def run(args: argparse.Namespace) -> int:
    data = read_portfolio(args)
    r, units, names, sizes = data.returns.values, data.units, data.names, data.sizes
    with data.errors():
        risks, d, refused = compute(r, data.exposure, args.confidence, args.horizon, args.method, args.measure,
                                    **data.options)
    rows = list(zip(names, sizes, d.marginal, d.component, d.percent, strict=True))
    label, size = data.label
    if args.json:
        methods: dict[str, dict[str, Any]] = {m: {"var": x.var, "es": x.es} for m, x in risks.items()}
        components: dict[str, Any] = {"method": args.method, "measure": args.measure, "total": d.total}
        if data.book:
            for m, entry in methods.items():
                entry["revaluation"] = _revaluation(data, m)
            components["revaluation"] = _revaluation(data, args.method)
        components[f"{label}s"] = [{label: a, size: float(wi), "marginal": float(mg), "component": float(c),
                                    "percent": float(pc)} for a, wi, mg, c, pc in rows]
        out: dict[str, Any] = {"confidence": args.confidence, "horizon": args.horizon, "n_obs": r.shape[0],
                               "units": units.as_dict(), "methods": methods, "components": components}
        if data.book:
            out |= {"book": data.book.as_dict(), "refused": refused}
        print(json.dumps(out, indent=2))
        return 0
    held = f"{len(names)} positions on {len(data.book.book.underlyings)} underlyings" if data.book else \
        f"{len(names)} assets"
    print(f"{data.source}: {r.shape[0]} periods x {held}, "
          f"confidence {args.confidence:.2%}, horizon {args.horizon}; {units.describe()}")
    if data.book:
        print(data.book.describe())
    print()
    if data.book:
        print(table(["method", "revaluation", "VaR", "ES"],
                    [[m, _revaluation(data, m), units.amount(x.var), units.amount(x.es)] for m, x in risks.items()]))
        if refused:  # one reason for them all (the message of the first)
            print(f"not computed: {', '.join(refused)}: {next(iter(refused.values()))}")
    else:
        print(table(["method", "VaR", "ES"],
                    [[m, units.amount(x.var), units.amount(x.es)] for m, x in risks.items()]))
    how = f", {_revaluation(data, args.method)} revaluation" if data.book else ""
    print(f"\nComponent {'VaR' if args.measure == 'var' else 'ES'} ({args.method}{how})")
    marginal = units.amount if data.book else (lambda x: f"{x:.2%}")  # per unit of quantity, or per unit weight
    print(table([label, size, "marginal", "component", "% of total"],
                [[a, data.size(wi), marginal(mg), units.amount(c), f"{pc:.2%}"] for a, wi, mg, c, pc in rows]
                + [["Total", data.total_size(), "", units.amount(d.total), f"{1:.2%}"]]))
    return 0
