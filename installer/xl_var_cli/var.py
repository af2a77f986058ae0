"""xl-var var: VaR and ES by every method, and the component table, for a portfolio.

Without --returns or --prices it uses the bundled synthetic sample portfolio. Weights given as
currency amounts give VaR and ES in money; weights given as fractions give them as a percentage
of the portfolio value. --json keeps full precision.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from xl_var_cli.options import Units, add_portfolio_options, confidence_level, prices_hint, read_portfolio, table

if TYPE_CHECKING:
    import xl_var as xv
    from xl_var._typing import FloatArray

__all__ = ["add_parser", "compute", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("var", description=__doc__)
    add_portfolio_options(p)
    p.add_argument("--confidence", type=confidence_level, default=0.99,
                   help="confidence level, e.g. 0.99 or 99%%")
    p.add_argument("--horizon", type=int, default=1, help="horizon in periods of the returns")
    p.add_argument("--method", default="historical", help="method of the component table")
    p.add_argument("--measure", default="var", choices=["var", "es"], help="component table measure")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)


def compute(returns: FloatArray, weights: FloatArray, confidence: float, horizon: int,
            method: str, measure: str) -> tuple[dict[str, xv.RiskResult], xv.Decomposition]:
    """Risk by every method and the decomposition for ``method``."""
    import xl_var as xv
    from xl_var.portfolio import METHODS

    risks = {m: xv.portfolio_var(returns, weights, confidence, horizon, method=m) for m in METHODS}
    decomp = xv.component_var(returns, weights, confidence, horizon, method=method, measure=measure)
    return risks, decomp


def run(args: argparse.Namespace) -> int:
    data = read_portfolio(args)
    r, w, assets = data.returns.values, data.weights.values, data.returns.assets
    units = Units.of(data.weights)
    with prices_hint(data.source):
        risks, d = compute(r, w, args.confidence, args.horizon, args.method, args.measure)
    rows = list(zip(assets, w, d.marginal, d.component, d.percent, strict=True))
    if args.json:
        print(json.dumps({
            "confidence": args.confidence, "horizon": args.horizon, "n_obs": r.shape[0], "units": units.as_dict(),
            "methods": {m: {"var": x.var, "es": x.es} for m, x in risks.items()},
            "components": {"method": args.method, "measure": args.measure, "total": d.total,
                           "assets": [{"asset": a, "weight": float(wi), "marginal": float(mg),
                                       "component": float(c), "percent": float(pc)}
                                      for a, wi, mg, c, pc in rows]},
        }, indent=2))
        return 0
    print(f"{data.source}: {r.shape[0]} periods x {len(assets)} assets, "
          f"confidence {args.confidence:.2%}, horizon {args.horizon}; {units.describe()}\n")
    print(table(["method", "VaR", "ES"], [[m, units.amount(x.var), units.amount(x.es)] for m, x in risks.items()]))
    print(f"\nComponent {args.measure.upper()} ({args.method})")
    print(table(["asset", "weight", "marginal", "component", "% of total"],
                [[a, units.amount(wi), f"{mg:.2%}", units.amount(c), f"{pc:.2%}"] for a, wi, mg, c, pc in rows]
                + [["Total", units.amount(w.sum()), "", units.amount(d.total), f"{1:.2%}"]]))
    return 0
