"""``xl-var demo``: the report from the bundled template and sample portfolio, into ``out/``.

The report includes the derivatives page of the bundled sample book (positions, market data
and vol surface valued at the sample's last day). Prints the headline numbers (VaR and ES by
method, the top contributors to VaR, the book's margin and VaR) and the paths it wrote. The
PDF needs LibreOffice; without it the demo says so and skips it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xl_var_cli.errors import CliError

if TYPE_CHECKING:
    from xl_var_cli.report import Built

__all__ = ["add_parser", "headline", "run"]

_TOP = 3


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", description=__doc__)
    p.add_argument("--out", default="out", help="folder for report.xlsx and report.pdf (default: out)")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF even if LibreOffice is installed")
    p.set_defaults(func=run)


def _pct(x: Any) -> str:
    return f"{x:8.2%}" if isinstance(x, float) else f"{x!s:>8}"


def headline(built: Built) -> list[str]:
    """The lines the demo prints: VaR/ES by method and the largest components of VaR."""
    lines = []
    confidence = built.value("Confidence") if "Confidence" in built.places else None
    horizon = built.value("Horizon") if "Horizon" in built.places else None
    what = f" at {confidence:.0%}" if isinstance(confidence, float) else ""
    what += f", {horizon:g}-period horizon" if isinstance(horizon, float) else ""
    lines.append(f"VaR and ES{what} (losses as a fraction of portfolio value)")
    lines.append(f"  {'method':<24}{'VaR':>8}  {'ES':>8}")
    for row in built.table("Summary") if "Summary" in built.places else []:
        if row and row[0] is not None:
            lines.append(f"  {row[0]!s:<24}{_pct(row[1])}  {_pct(row[2])}")
    table = built.table("ComponentVaR")
    header, assets = table[0], [r for r in table[1:] if r and r[0] != "Total"]
    col = header.index("Component") if "Component" in header else 3
    share = header.index("% of total") if "% of total" in header else 4
    top = sorted((r for r in assets if isinstance(r[col], float)), key=lambda r: r[col], reverse=True)[:_TOP]
    lines.append("Top contributors to historical VaR")
    for r in top:
        lines.append(f"  {r[0]!s:<10} component {_pct(r[col])}  = {r[share]:6.1%} of the total")
    return lines + _book_lines(built)


def _book_lines(built: Built) -> list[str]:
    """The derivatives book's margins, full-revaluation VaR and worst stress loss, in USD (when the report
    has its page)."""
    shown = [(label, name) for label, name in (("Deribit margin", "MarginDeribit"), ("SPAN margin", "MarginSpan"),
                                               ("VaR, full revaluation (historical)", "BookVaR"))
             if name in built.places]
    if not shown:
        return []
    lines = ["Derivatives book (USD)"]
    lines += [f"  {label:<36}{_usd(built.value(name))}" for label, name in shown]
    if "StressLosses" in built.places:
        worst = min((r for r in built.table("StressLosses")[1:] if isinstance(r[1], float)), key=lambda r: r[1])
        lines.append(f"  {'Worst stress-test P&L':<36}{_usd(worst[1])}  {worst[0]}")
    return lines


def _usd(x: Any) -> str:
    return f"{x:>12,.0f}" if isinstance(x, float) else f"{x!s:>12}"


def run(args: argparse.Namespace) -> int:
    from workbooks import SAMPLE_RETURNS, SAMPLE_WEIGHTS
    from xl_var_cli.atomic import write_bytes_atomic
    from xl_var_cli.libreoffice import find_soffice
    from xl_var_cli.report import build, default_template, export_pdf, sample_book

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    built = build(default_template(), SAMPLE_RETURNS, SAMPLE_WEIGHTS, book=sample_book())
    rows = len(built.table("ComponentVaR")) - 2
    print(f"xl-var demo: the bundled sample portfolio ({rows} assets) and derivatives book through the bundled "
          "report template\n")
    for line in headline(built):
        print(line)
    xlsx = out / "report.xlsx"
    write_bytes_atomic(xlsx, built.xlsx)
    print(f"\nwrote {xlsx}")
    if args.no_pdf:
        return 0
    if find_soffice() is None:
        print("note: LibreOffice (soffice) is not installed, so no PDF was made; "
              "install libreoffice-calc to get out/report.pdf too")
        return 0
    pdf = out / "report.pdf"
    try:
        write_bytes_atomic(pdf, export_pdf(built, xlsx.name))
    except CliError as exc:  # the workbook is the main result; say why there is no PDF
        print(f"note: no PDF was made: {exc}")
        return 0
    print(f"wrote {pdf}")
    return 0
