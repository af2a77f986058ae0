"""``xl-var var``: VaR and ES by every method, and the component table, for a returns file.

Without ``--returns`` it uses the bundled synthetic sample portfolio.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

import xl_var as xv
from workbooks import SAMPLE_RETURNS, SAMPLE_WEIGHTS
from xl_var.portfolio import METHODS
from xl_var_cli.datafiles import read_returns, read_weights
from xl_var_cli.options import confidence_level

__all__ = ["add_parser", "compute", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("var", help="VaR and ES by every method, and the component table",
                       description=__doc__)
    p.add_argument("--returns", default=str(SAMPLE_RETURNS), help="returns CSV/xlsx (default: bundled sample)")
    p.add_argument("--weights", default=str(SAMPLE_WEIGHTS), help="weights CSV/xlsx (default: bundled sample)")
    p.add_argument("--confidence", type=confidence_level, default=0.99,
                   help="confidence level, e.g. 0.99 or 99%%")
    p.add_argument("--horizon", type=int, default=1, help="horizon in periods of the returns")
    p.add_argument("--method", default="historical", help="method of the component table")
    p.add_argument("--measure", default="var", choices=["var", "es"], help="component table measure")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)


def compute(returns: np.ndarray, weights: np.ndarray, confidence: float, horizon: int,
            method: str, measure: str) -> tuple[dict[str, xv.RiskResult], xv.Decomposition]:
    """Risk by every method and the decomposition for ``method``."""
    risks = {m: xv.portfolio_var(returns, weights, confidence, horizon, method=m) for m in METHODS}
    decomp = xv.component_var(returns, weights, confidence, horizon, method=method, measure=measure)
    return risks, decomp


def run(args: argparse.Namespace) -> int:
    data = read_returns(args.returns)
    w = read_weights(args.weights, data.assets)
    risks, d = compute(data.values, w, args.confidence, args.horizon, args.method, args.measure)
    if args.json:
        print(json.dumps({
            "confidence": args.confidence, "horizon": args.horizon, "n_obs": data.values.shape[0],
            "methods": {m: {"var": r.var, "es": r.es} for m, r in risks.items()},
            "components": {"method": args.method, "measure": args.measure, "total": d.total,
                           "assets": [{"asset": a, "weight": float(wi), "marginal": float(mg),
                                       "component": float(c), "percent": float(pc)}
                                      for a, wi, mg, c, pc in zip(data.assets, w, d.marginal, d.component,
                                                                  d.percent, strict=True)]},
        }, indent=2))
        return 0
    print(f"{args.returns}: {data.values.shape[0]} periods x {len(data.assets)} assets, "
          f"confidence {args.confidence:.2%}, horizon {args.horizon}")
    print(f"\n{'method':<12}{'VaR':>12}{'ES':>12}")
    for m, r in risks.items():
        print(f"{m:<12}{r.var:>12.6f}{r.es:>12.6f}")
    print(f"\nComponent {args.measure.upper()} ({args.method})")
    print(f"{'asset':<14}{'weight':>10}{'marginal':>12}{'component':>12}{'% of total':>12}")
    for a, wi, mg, c, pc in zip(data.assets, w, d.marginal, d.component, d.percent, strict=True):
        print(f"{a:<14}{wi:>10.4f}{mg:>12.6f}{c:>12.6f}{pc:>12.2%}")
    print(f"{'Total':<14}{w.sum():>10.4f}{'':>12}{d.total:>12.6f}{1:>12.2%}")
    return 0
