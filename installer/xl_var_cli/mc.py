"""``xl-var mc``: Monte Carlo VaR and ES with standard errors and the component table.

Progress is drawn on stderr (rich) only when stderr is a terminal; the result goes to
stdout as a readable table, ``--json`` or ``--csv`` (one tidy table: measure, asset,
confidence, value, se, ci_low, ci_high) with full precision. Ctrl-C cancels the run
cleanly: it stops within half a second and exits 130 without a traceback (a second Ctrl-C
interrupts at once). Without ``--returns`` or ``--prices`` it uses the bundled synthetic
sample portfolio. Weights given as currency amounts give VaR and ES in money, weights given
as fractions a percentage of the portfolio value.

With ``--positions`` and ``--market`` in place of ``--weights``, each scenario of the
underlyings' returns (the returns' header names them) reprices the book of spot, futures,
perpetuals and options (``--revaluation`` full, the default, delta or delta-gamma): VaR and
ES in USD, one component row per position.
"""

from __future__ import annotations

import argparse
import csv
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from xl_var_cli.options import Portfolio, add_portfolio_options, confidence_levels, read_portfolio, table

if TYPE_CHECKING:
    import xl_var as xv

__all__ = ["DEFAULT_CONFIDENCE", "add_parser", "parse_count", "run"]

DEFAULT_CONFIDENCE = (0.95, 0.99)


def parse_count(text: str) -> int:
    """A whole number written as ``1000000``, ``1e6`` or ``1,000,000``."""
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number such as 1e6, got {text!r}") from None
    if not value.is_integer() or value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1 such as 1e6, got {text!r}")
    return int(value)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("mc", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_portfolio_options(p, book=True)
    p.add_argument("--model", default="t", help="normal, t, t-copula, bootstrap or fhs (default t)")
    p.add_argument("--scenarios", type=parse_count, default=1_000_000, help="number of scenarios, e.g. 1e6")
    p.add_argument("--confidence", action="extend", type=confidence_levels, metavar="C",
                   help="confidence level(s): repeat or give a comma list, e.g. 0.95,99%% (default 0.95,0.99)")
    p.add_argument("--horizon", type=int, default=1, help="horizon in periods of the returns")
    p.add_argument("--seed", type=int, default=12345, help="seed (same seed, same result)")
    p.add_argument("--workers", type=int, default=None, help="threads (default: all CPUs)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, or 'local' (needs xl-var[dask])")
    p.add_argument("--df", type=float, default=None, help="degrees of freedom for t and t-copula (default fitted)")
    p.add_argument("--sobol", action="store_true", help="scrambled Sobol draws (normal, t)")
    p.add_argument("--target-rse", type=float, default=None,
                   help="run until VaR's relative standard error is at most this, e.g. 0.01")
    p.add_argument("--max-scenarios", type=parse_count, default=None, help="cap for --target-rse")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print machine-readable JSON")
    out.add_argument("--csv", action="store_true", help="print one tidy CSV table")
    p.set_defaults(func=run)


@contextmanager
def _ctrl_c_cancels() -> Iterator[threading.Event]:
    """SIGINT sets the returned event (the run's cancel token); a second SIGINT interrupts."""
    event = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: FrameType | None) -> None:
        if event.is_set():
            signal.default_int_handler(signum, frame)
        event.set()

    signal.signal(signal.SIGINT, handler)
    try:
        yield event
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("xl-var MC"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.completed:,.0f} scenarios"), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("mc", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def result_rows(res: xv.MCResult, assets: tuple[str, ...]) -> list[dict[str, Any]]:
    """The tidy table of ``--csv``: VaR and ES per confidence, then components at the highest (``assets``:
    the assets' or the book's positions' names)."""
    rows: list[dict[str, Any]] = []
    label = {"var": "VaR", "es": "ES"}
    for i, c in enumerate(res.confidence):
        for m in ("var", "es"):
            ci = getattr(res, f"{m}_ci")[i]
            rows.append({"measure": label[m], "asset": "portfolio", "confidence": c,
                         "value": float(getattr(res, m)[i]), "se": float(getattr(res, f"{m}_se")[i]),
                         "ci_low": float(ci[0]), "ci_high": float(ci[1])})
    top = max(res.confidence)
    for m in ("var", "es"):
        for a, v in zip(assets, getattr(res, f"component_{m}"), strict=True):
            rows.append({"measure": f"component {label[m]}", "asset": a, "confidence": top, "value": float(v),
                         "se": "", "ci_low": "", "ci_high": ""})
    return rows


def _as_json(res: xv.MCResult, data: Portfolio) -> str:
    top = res.confidence.index(max(res.confidence))
    label, size = data.label
    out: dict[str, Any] = {
        "model": res.model, "df": res.df, "scenarios": res.scenarios, "seed": res.seed, "horizon": res.horizon,
        "sobol": res.sobol, "converged": res.converged, "elapsed": res.elapsed, "units": data.units.as_dict(),
        "levels": [{"confidence": c, "var": float(res.var[i]), "var_se": float(res.var_se[i]),
                    "var_ci": [float(x) for x in res.var_ci[i]], "es": float(res.es[i]),
                    "es_se": float(res.es_se[i]), "es_ci": [float(x) for x in res.es_ci[i]]}
                   for i, c in enumerate(res.confidence)],
        "components": {"confidence": res.confidence[top],
                       f"{label}s": [{label: a, size: float(w), "component_var": float(cv),
                                      "component_es": float(ce)}
                                     for a, w, cv, ce in zip(data.names, data.sizes, res.component_var,
                                                             res.component_es, strict=True)]},
        "histogram": {"edges": res.hist_edges.tolist(), "counts": res.hist_counts.tolist()},
    }
    if data.book:
        out |= {"revaluation": data.revaluation or "full", "book": data.book.as_dict()}
    return json.dumps(out, indent=2)


def _print_table(res: xv.MCResult, data: Portfolio) -> None:
    df = f" (df {res.df:.3g})" if res.df is not None else ""
    book = f", {data.revaluation or 'full'} revaluation" if data.book else ""
    print(f"{data.source}: model {res.model}{df}{book}, {res.scenarios:,} scenarios, seed {res.seed}, "
          f"horizon {res.horizon}, {res.elapsed:.2f} s; {data.units.describe()}")
    if data.book:
        print(data.book.describe())
    print()
    a, e = data.units.amount, data.units.error
    print(table(["confidence", "VaR", "± se", "95% interval", "ES", "± se", "95% interval"],
                [[f"{c:.2%}", a(res.var[i]), e(res.var_se[i]), f"[{a(res.var_ci[i][0])}, {a(res.var_ci[i][1])}]",
                  a(res.es[i]), e(res.es_se[i]), f"[{a(res.es_ci[i][0])}, {a(res.es_ci[i][1])}]"]
                 for i, c in enumerate(res.confidence)]))
    top = res.confidence.index(max(res.confidence))
    es = res.es[top]
    print(f"\nComponents at {res.confidence[top]:.2%}")
    print(table([*data.label, "component VaR", "component ES", "% of ES"],
                [[name, data.size(w), a(cv), a(ce), f"{ce / es:.2%}"]
                 for name, w, cv, ce in zip(data.names, data.sizes, res.component_var, res.component_es,
                                            strict=True)]
                + [["Total", data.total_size(), a(res.component_var.sum()), a(res.component_es.sum()),
                    f"{1:.2%}"]]))


def run(args: argparse.Namespace) -> int:
    import xl_var as xv

    data = read_portfolio(args)
    confidence = tuple(args.confidence or DEFAULT_CONFIDENCE)
    held = f"{len(data.names)} positions" if data.book else f"{len(data.names)} assets"
    with _ctrl_c_cancels() as cancel, data.errors():
        print(f"xl-var mc: {args.scenarios:,} scenarios, model {args.model}, {held} (Ctrl-C cancels)",
              file=sys.stderr, flush=True)
        try:
            with _progress_bar(sys.stderr.isatty()) as progress:
                res = xv.monte_carlo(data.returns.values, data.exposure, args.scenarios, model=args.model,
                                     confidence=confidence, horizon=args.horizon, seed=args.seed,
                                     workers=args.workers, progress=progress, cancel=cancel, df=args.df,
                                     sobol=args.sobol, target_rse=args.target_rse,
                                     max_scenarios=args.max_scenarios, scheduler=args.scheduler, **data.options)
        except xv.Cancelled as exc:
            print(f"xl-var mc: {exc}", file=sys.stderr)
            return 130
    if args.json:
        print(_as_json(res, data))
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=["measure", "asset", "confidence", "value", "se", "ci_low",
                                                        "ci_high"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(result_rows(res, data.names))
    else:
        _print_table(res, data)
    return 0
