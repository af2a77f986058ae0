"""``xl-var refresh`` against LibreOffice's own headless recalculation of the same workbook.

Each size builds a workbook: a Data sheet of 783 days x 6 assets of fat-tailed returns (plus
dates and a weights column), and a Calc sheet of N ordinary formulas in chains that read the
data and each other (SUM, AVERAGE, MAX, arithmetic, IF), plus 40 xl-var calls (AGGVAR, AGGES,
PORTVOL at several confidence levels). Both contenders run as a user would run them, in a
child process, start-up included:

* ``xl-var refresh BOOK -o OUT.xlsx``;
* ``soffice --headless --convert-to xlsx`` in a private profile whose setting
  ``OOXMLRecalcMode=0`` makes LibreOffice recalculate every formula on load (LibreOffice
  does not know xl-var's functions: their 40 cells become ``#NAME?``; the time is still that
  of loading, recalculating and saving the whole book).

Printed per size: seconds and peak resident memory of each (``wait4``'s ``ru_maxrss``, which
includes the child processes LibreOffice starts), and xl-var's ratios. Issue 12's target at
50,000 formulas: time ratio <= 3, memory ratio <= 2.

Last, the cost of one xl-var call inside a recalculation against a direct call of the same
function with the values xlwings would hand it: the book with its 40 calls and the same book
with the calls replaced by numbers are calculated (best of 5), and the difference per call is
divided by the direct call's time (best of 5). Issue 12's target: <= 2.

Usage: ``.venv/bin/python benchmarks/refresh.py [--sizes 1000 10000 50000] [--large]``
(``--large`` adds 200,000 formulas).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import openpyxl
from openpyxl.workbook.defined_name import DefinedName

DAYS, ASSETS, CALLS = 783, 6, 40
_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def build(path: Path, formulas: int, seed: int = 7) -> None:
    """Write the benchmark workbook with ``formulas`` ordinary formulas and 40 xl-var calls."""
    rng = np.random.default_rng(seed)
    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "Data"
    data.append(["Date", *(f"A{j + 1}" for j in range(ASSETS))])
    start = dt.datetime(2022, 1, 3)
    for t, row in enumerate(0.02 * rng.standard_t(4, size=(DAYS, ASSETS))):
        data.append([start + dt.timedelta(days=t), *map(float, row)])
    for j, w in enumerate(rng.dirichlet(np.ones(ASSETS))):
        data.cell(row=2 + j, column=9, value=float(w))
    last = DAYS + 1
    wb.defined_names["Returns"] = DefinedName("Returns", attr_text=f"Data!$A$1:${chr(65 + ASSETS)}${last}")
    wb.defined_names["Weights"] = DefinedName("Weights", attr_text=f"Data!$I$2:$I${1 + ASSETS}")
    calc = wb.create_sheet("Calc")
    last_col = chr(65 + ASSETS)
    for k in range(CALLS):
        confidence = 0.9 + 0.09 * k / (CALLS - 1)
        calc.cell(row=k + 1, column=1, value=(f"=AGGVAR(Returns, Weights, {confidence:.4f})",
                                              f"=AGGES(Returns, Weights, {confidence:.4f})",
                                              f"=PORTVOL(Data!B2:{last_col}{last}, Weights)")[k % 3])
    width = 10  # formulas per row of the Calc sheet, from column C on
    for i in range(formulas):
        r, c = 1 + i // width, 3 + i % width
        d = 2 + i % DAYS  # the Data row this formula reads
        here = openpyxl.utils.get_column_letter(c)
        left = openpyxl.utils.get_column_letter(c - 1)
        kind = i % width
        if kind == 0:
            text = f"=SUM(Data!B{d}:{last_col}{d})"
        elif kind == 1:
            text = f"=AVERAGE(Data!B{d}:{last_col}{d})*252"
        elif kind == 2:
            text = f"=MAX(Data!B{d}:{last_col}{d})-MIN(Data!B{d}:{last_col}{d})"
        elif kind == 3:
            text = f"={left}{r}*2+C{r}"
        elif kind == 4:
            text = f"=IF({left}{r}>0,{left}{r},-{left}{r})"
        elif kind == 5:
            e = 2 + (i + 1) % DAYS  # the next day: a product of two days' returns
            text = f"=SUMPRODUCT(Data!B{d}:{last_col}{d},Data!B{e}:{last_col}{e})"
        elif kind == 6:
            text = f"={left}{r}+$A${1 + r % CALLS}"
        elif kind == 7:
            text = f"=ROUND({left}{r},6)" if r == 1 else f"={here}{r - 1}+{left}{r}"
        elif kind == 8:
            text = f"=ABS({left}{r})/(1+ABS(C{r}))"
        else:
            text = f"=SQRT(SUMSQ(Data!B{d}:{last_col}{d}))"
        calc.cell(row=r, column=c, value=text)
    wb.save(path)


def _run(cmd: list[str], timeout: float) -> tuple[float, float]:
    """Run ``cmd``: (seconds, peak MB of it and the processes it waited for)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > timeout:
            proc.kill()
            os.wait4(proc.pid, 0)
            raise SystemExit(f"{cmd[0]} did not finish within {timeout:.0f} s")
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} failed: {err[-1500:]}")
    return seconds, usage.ru_maxrss / 1024


def refresh_once(book: Path, out: Path, timeout: float = 3600) -> tuple[float, float]:
    """``xl-var refresh`` of ``book`` into ``out``: (seconds, peak MB)."""
    return _run([sys.executable, "-m", "xl_var_cli.main", "refresh", str(book), "-o", str(out)], timeout)


def libreoffice_once(book: Path, outdir: Path, timeout: float = 3600) -> tuple[float, float]:
    """LibreOffice loading ``book`` with recalculation forced, and saving it as .xlsx: (seconds, peak MB)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="xlvar-bench-lo-") as profile:
        (Path(profile) / "user").mkdir()
        (Path(profile) / "user" / "registrymodifications.xcu").write_text(_RECALC_ALWAYS)
        return _run([soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                     "--convert-to", "xlsx", "--outdir", str(outdir), str(book)], timeout)


def _best(run: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def call_overhead(folder: Path) -> tuple[float, float]:
    """(seconds of one xl-var call inside a recalculation, seconds of the same call made directly)."""
    import xl_var_udfs
    from xl_var_cli.workbook.engine import evaluate

    calls, plain = folder / "calls.xlsx", folder / "plain.xlsx"
    build(calls, 0)
    wb = openpyxl.load_workbook(calls)
    for row in wb["Calc"].iter_rows(min_col=1, max_col=1):
        row[0].value = 0.0
    wb.save(plain)
    books = {p: openpyxl.load_workbook(p) for p in (calls, plain)}
    evaluate(books[calls])  # imports and warms the functions
    inside = (_best(lambda: evaluate(books[calls])) - _best(lambda: evaluate(books[plain]))) / CALLS
    data = openpyxl.load_workbook(calls)["Data"]
    returns = [list(r) for r in data.iter_rows(min_row=1, max_row=DAYS + 1, max_col=ASSETS + 1, values_only=True)]
    weights = [[data.cell(row=2 + j, column=9).value] for j in range(ASSETS)]
    prices = [row[1:] for row in returns[1:]]  # PORTVOL reads Data!B2:G784: no header, no dates

    def direct_calls() -> None:
        for k in range(CALLS):  # the workbook's 40 calls, as build() writes them
            confidence = round(0.9 + 0.09 * k / (CALLS - 1), 4)
            if k % 3 == 2:
                xl_var_udfs.PORTVOL(prices, weights)
            else:
                (xl_var_udfs.AGGVAR, xl_var_udfs.AGGES)[k % 3](returns, weights, confidence)

    direct = _best(direct_calls) / CALLS
    return inside, direct


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--large", action="store_true", help="add the 200,000-formula workbook")
    args = parser.parse_args(argv)
    sizes = args.sizes + ([200_000] if args.large else [])
    print(f"{'formulas':>9} {'xl-var s':>9} {'MB':>7} {'LibreOffice s':>14} {'MB':>7} {'time ratio':>11} "
          f"{'memory ratio':>13}")
    with tempfile.TemporaryDirectory(prefix="xlvar-bench-") as folder:
        for n in sizes:
            book = Path(folder) / f"book{n}.xlsx"
            build(book, n)
            lo_dir = Path(folder) / f"lo{n}"
            lo_dir.mkdir()
            lo_s, lo_mb = libreoffice_once(book, lo_dir)
            xv_s, xv_mb = refresh_once(book, Path(folder) / f"out{n}.xlsx")
            print(f"{n:>9} {xv_s:>9.1f} {xv_mb:>7.0f} {lo_s:>14.1f} {lo_mb:>7.0f} {xv_s / lo_s:>11.1f} "
                  f"{xv_mb / lo_mb:>13.1f}", flush=True)
        inside, direct = call_overhead(Path(folder))
        print(f"one xl-var call: {1e3 * inside:.2f} ms inside a recalculation, {1e3 * direct:.2f} ms called "
              f"directly, ratio {inside / direct:.2f}")


if __name__ == "__main__":
    main()
