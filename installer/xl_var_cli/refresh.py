"""``xl-var refresh BOOK.xlsx [-o OUT.xlsx]``: recalculate a workbook without Excel.

Every formula (xl-var's functions and Excel's own) is calculated by the ``formulas``
engine and its result stored in the file next to the formula
(:func:`xl_var_cli.workbook.pipeline.recalculate`), so any spreadsheet application shows the numbers
on open and Excel with the add-in keeps recalculating them live. Without ``-o`` the book
is updated in place. The new file is written to a temporary file and renamed over the
target in one step: an interruption at any point leaves the original byte-for-byte intact.

Array results of xl-var functions (spills) are stored portably (see
:mod:`xl_var_cli.workbook.portable_arrays`): LibreOffice recalculates array formulas when it opens a
file and does not know xl-var's functions, so they are kept as a plain formula in the
top-left cell, values around it and a hidden name over the range, which the add-in turns
back into a live array formula when Excel opens the workbook. ``--values-only`` writes a
snapshot whose formulas are replaced by their results.

Safe by default: a target whose permissions allow no writing (read-only) is refused and left
as it is; the macros of an .xlsm are kept byte for byte (and an .xlsm is not written under an
.xlsx name, which Excel would not open); parts that are not read (images, the VBA project) are
copied still compressed, so a workbook costs the memory of what is read, not what it inflates to.

Several books (``xl-var refresh A.xlsx B.xlsx ... [--jobs N | --scheduler ADDR]``) are each
refreshed in place as one book is, side by side in worker processes or on a Dask cluster
(:mod:`xl_var_cli.batch`): a book that fails is reported in one line and the others still
refresh; the exit code is 2 if any failed.
"""

from __future__ import annotations

import argparse
import stat
from pathlib import Path
from typing import Any

from xl_var_cli.errors import CliError
from xl_var_cli.workbook.package import Package, read_package

__all__ = ["add_parser", "check_writable", "refresh_file", "refreshed_bytes", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("refresh", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("book", nargs="+", help="the .xlsx/.xlsm workbook (several: each is refreshed in place)")
    p.add_argument("-o", "--output", help="write the refreshed workbook here (default: update BOOK in place)")
    p.add_argument("--values-only", action="store_true",
                   help="store the results without their formulas (a snapshot for LibreOffice and viewers)")
    p.add_argument("--jobs", type=_positive, default=1, metavar="N",
                   help="refresh up to N books at once, each in its own process (default 1)")
    p.add_argument("--scheduler", metavar="ADDR",
                   help="refresh the books on a Dask cluster, e.g. tcp://host:8786 (needs xl-var[dask])")
    p.set_defaults(func=run)


def _positive(text: str) -> int:
    """``--jobs``: a whole number of processes, at least 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of processes, 1 or more (got {text!r})")
    return n


def check_writable(target: Path, in_place: bool) -> None:
    """Refuse a read-only target by its permission bits (``os.access`` says yes to root for any file)."""
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CliError(f"{target}: cannot check it ({exc.strerror})") from None
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        fix = "write the result elsewhere with -o OUT.xlsx" if in_place else "choose another -o file"
        raise CliError(f"{target}: is read-only (its permissions allow no writing), so it was left as it is: "
                       f"make it writable (chmod u+w) or {fix}")


def refreshed_bytes(pkg: Package, target: Path, values_only: bool = False) -> tuple[bytes, list[str]]:
    """Recalculate ``pkg``: the bytes of the file to write to ``target``, and the lines that report it."""
    from xl_var_cli.workbook.pipeline import recalculate

    done = recalculate(pkg)
    data = done.snapshot() if values_only else done.package.raw
    spills = f", {done.spills} spilled ranges" if done.spills else ""
    lines = [f"{target}: recalculated {len(done.evaluation.computed)} formulas{spills}"]
    if pkg.has_macros():
        lines.append("  kept the workbook's macros (its VBA project) unchanged")
    lines.extend(f"  note: {note}" for note in done.notes)
    return data, lines


def refresh_file(source: Path, output: Path | None = None, values_only: bool = False) -> list[str]:
    """Refresh the workbook ``source`` into ``output`` (default: in place), atomically; the lines to print."""
    from xl_var_cli.atomic import write_bytes_atomic

    target = output or source
    if values_only and output is None:
        raise CliError(f"{source}: --values-only replaces the formulas by their values; "
                       "give -o OUT.xlsx so that the workbook keeps its formulas")
    check_writable(target, in_place=output is None)
    pkg = read_package(source)
    if output is not None and target.suffix.lower() == ".xlsx" and pkg.has_macros():
        raise CliError(f"{source}: has macros, and Excel does not open an .xlsx file with macros: "
                       f"name the output {target.with_suffix('.xlsm').name}")
    data, lines = refreshed_bytes(pkg, target, values_only)
    write_bytes_atomic(target, data)
    return lines


def run(args: argparse.Namespace) -> int:
    books = [Path(book) for book in args.book]
    if len(books) == 1 and args.scheduler is None:
        print("\n".join(refresh_file(books[0], Path(args.output) if args.output else None, args.values_only)))
        return 0
    if args.output or args.values_only:
        option = "-o" if args.output else "--values-only"
        raise CliError(f"{option} applies to one workbook; with several (or --scheduler) each is refreshed "
                       "in place: give one BOOK to use it")
    from xl_var_cli.batch import refresh_books

    return refresh_books(books, jobs=args.jobs, scheduler=args.scheduler)
