"""Recalculate a workbook: the one path from a checked package to the bytes of its new file.

``xl-var refresh`` and ``xl-var report`` (and ``xl-var demo`` through it) all go through
:func:`recalculate`, which

1. reads the package's formulas with openpyxl (from its checked XML parts only,
   :meth:`~xl_var_cli.workbook.package.Package.checked_zip`), and what the file stores about them:
   dynamic arrays and shared formulas, cached values, portable arrays
   (:mod:`xl_var_cli.workbook.sheet_xml`, :mod:`xl_var_cli.workbook.portable_arrays`), each once;
2. lets the caller edit the workbook (``fill``: the report writes its inputs into a template);
3. calculates every formula (:func:`xl_var_cli.workbook.engine.evaluate`);
4. stores the results next to the formulas. A workbook nobody edited is patched in place,
   every other byte of the file kept; an edited one is saved by openpyxl first (with each
   array result stored as an array formula over its range, and the caller's ``finish``
   applied: the report's formats and charts), and the results are stored in what it saved.

It neither parses arguments nor prints: what the user should know comes back as ``notes``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook import Workbook
from openpyxl.worksheet.formula import ArrayFormula

from xl_var_cli.errors import CliError
from xl_var_cli.workbook.engine import Evaluation, evaluate
from xl_var_cli.workbook.package import Package, package_from_bytes
from xl_var_cli.workbook.portable_arrays import read_marks
from xl_var_cli.workbook.sheet_xml import cached_value, formula_kinds, values_only, write_values

__all__ = ["Recalculated", "recalculate"]

_MAX_LISTED = 8


@dataclass(frozen=True)
class Recalculated:
    """A recalculated workbook.

    Attributes
    ----------
    package : Package
        The new file: its ``raw`` are the bytes to write.
    evaluation : Evaluation
        Every computed value, array range and cell left as stored (with the reason).
    workbook : openpyxl.Workbook
        The workbook as the engine calculated it (the caller's edits included).
    notes : tuple of str
        What the user should know: cells left with their stored values, arrays stored differently.
    """

    package: Package
    evaluation: Evaluation
    workbook: Workbook
    notes: tuple[str, ...]

    @property
    def spills(self) -> int:
        """How many dynamic arrays spill over more than one cell."""
        return sum(1 for key in self.evaluation.dynamic if ":" in self.evaluation.arrays[key])

    def snapshot(self, hide: Sequence[str] = ()) -> bytes:
        """The new file with its formulas replaced by their results (sheets in ``hide`` hidden)."""
        return values_only(self.package, hide=hide)


def _load_workbook(pkg: Package) -> Workbook:
    """The package as an openpyxl workbook with its formulas (read from its checked parts only)."""
    import openpyxl

    try:
        return openpyxl.load_workbook(io.BytesIO(pkg.checked_zip()), data_only=False)
    except Exception as exc:  # openpyxl raises many types for parts it cannot make sense of
        raise CliError(f"{pkg.path}: cannot be read as a workbook ({type(exc).__name__}: {exc})") from None


def recalculate(pkg: Package, *, fill: Callable[[Workbook], object] | None = None,
                finish: Callable[[Workbook, Evaluation], object] | None = None,
                our_arrays_spill: bool = False) -> Recalculated:
    """Recalculate every formula of ``pkg`` and store the results in a new package.

    Parameters
    ----------
    pkg : Package
        The workbook as read and checked (:func:`~xl_var_cli.workbook.package.read_package`).
    fill : callable, optional
        Edits the openpyxl workbook before it is calculated.
    finish : callable, optional
        Edits it once calculated, given the :class:`~xl_var_cli.workbook.engine.Evaluation`.
    our_arrays_spill : bool
        Every array formula calling an xl-var function is a dynamic array (a workbook saved by
        openpyxl, such as the report's templates, has lost the flag that says so).

    Raises
    ------
    CliError
        For a workbook that cannot be read or calculated (one line naming the file).
    """
    wb = _load_workbook(pkg)
    if fill is not None:
        fill(wb)
    with _one_line(pkg):
        marks = read_marks(pkg)
        dynamic, shared = formula_kinds(pkg)
        ev = evaluate(wb, dynamic, cached_value(pkg), plain=shared, portable=marks,
                      our_arrays_spill=our_arrays_spill, mac=saved_by_mac_excel(pkg))
    target = pkg
    if fill is not None or finish is not None:  # edited: openpyxl saves it, the values go into what it saved
        _store_arrays(wb, ev)
        if finish is not None:
            finish(wb, ev)
        buf = io.BytesIO()
        wb.save(buf)
        target = package_from_bytes(buf.getvalue(), pkg.path)
    with _one_line(pkg):
        new, notes = write_values(target, ev, marks)
    for (sheet, cell), why in sorted(ev.skipped.items())[:_MAX_LISTED]:
        notes.append(f"{sheet}!{cell} kept its stored value: it {why}")
    if len(ev.skipped) > _MAX_LISTED:
        notes.append(f"... and {len(ev.skipped) - _MAX_LISTED} more cells kept their stored values")
    return Recalculated(new, ev, wb, tuple(notes))


def saved_by_mac_excel(pkg: Package) -> bool:
    """Whether Excel for the Mac saved the workbook (``docProps/app.xml``'s Application)."""
    return b"<Application>Microsoft Macintosh Excel</Application>" in pkg.parts.get("docProps/app.xml", b"")


@contextmanager
def _one_line(pkg: Package) -> Iterator[None]:
    """A failure of the engine on a workbook it cannot handle, as one :class:`CliError` line naming it."""
    try:
        yield
    except CliError:
        raise
    except Exception as exc:
        raise CliError(f"{pkg.path}: could not be recalculated ({type(exc).__name__}: {exc})") from None


def _store_arrays(wb: Workbook, ev: Evaluation) -> None:
    """Store each array result in openpyxl's workbook as an array formula over its range, the range's
    other cells (and an old spill's cells) emptied."""
    for sheet, cell in ev.cleared:
        wb[sheet][cell].value = None
    for (sheet, anchor), ref in ev.arrays.items():
        ws = wb[sheet]
        value = ws[anchor].value
        text = value.text if isinstance(value, ArrayFormula) else str(value)
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        for (row, col), cell in list(ws._cells.items()):  # openpyxl's cell store
            if min_row <= row <= max_row and min_col <= col <= max_col and cell.coordinate != anchor:
                cell.value = None
        ws[anchor] = ArrayFormula(ref, text)
