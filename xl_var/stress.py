r"""Stress tests of a :class:`~xl_var.book.Book`: named crypto crises and user scenarios.

A scenario moves each underlying's price by a relative amount :math:`m_u` (forwards in
proportion) and shifts the implied vols of its options by :math:`\Delta\sigma_u`
absolute vol points (0.30 = +30 points, floored at zero vol); every position is fully
revalued (:meth:`Book.pnl <xl_var.book.Book.pnl>`):

.. math::

    \mathrm{P\&L}_{s,i} = \Pi_i\bigl(S_0(1 + m_{s,u(i)}),\ \sigma_i + \Delta\sigma_{s,u(i)}\bigr)
    - \Pi_i(S_0, \sigma_i), \qquad \mathrm{total}_s = \sum_i \mathrm{P\&L}_{s,i}.

A scenario names the underlyings it moves; ``"*"`` gives the move (or vol shift) of
every underlying it does not name, and an underlying it neither names nor defaults
stays put (move 0, vol shift 0). A crisis therefore applies to any book: BTC, ETH and
SOL get their own moves and other coins the crisis's ``*`` row.

The bundled library (:func:`load_scenarios`) is ``workbooks/crises.csv``, an editable
CSV with one row per scenario × underlying: ``scenario,underlying,move,vol_shift,source``.
The engine finds it through ``importlib.util.find_spec("workbooks")`` — the installed
``workbooks`` package's folder, without importing it — so ``xl_var`` stays importable
(and user scenarios keep working) where ``workbooks`` is absent; only the default
library then raises an :class:`~xl_var.errors.XlVarError` saying the file is missing.

References
----------
Basel Committee on Banking Supervision (2018), *Stress testing principles*, BIS d450
(historical and hypothetical scenarios, full revaluation); the sources of each crisis
are in the CSV's ``source`` column.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xl_var._typing import FloatArray
from xl_var._validate import MAX_VOL
from xl_var.book import Book
from xl_var.errors import XlVarError

__all__ = ["LIBRARY_COLUMNS", "MAX_MOVE", "StressResult", "crisis_library_path", "load_scenarios", "stress_test"]

#: The columns of a scenario CSV, in order.
#: Largest move a scenario may give (+1000%): a move typed as 30 for +30% is refused, not applied.
MAX_MOVE = 10.0
LIBRARY_COLUMNS = ("scenario", "underlying", "move", "vol_shift", "source")
_KEYS = {"name", "moves", "vol_shifts", "source"}
_ANY = "*"


@dataclass(frozen=True)
class StressResult:
    """P&L of a book in each stress scenario.

    Attributes
    ----------
    names, sources : tuple of str, shape (S,)
        Scenario names and their sources ("" for user scenarios without one).
    underlyings : tuple of str, shape (U,)
        The book's underlyings.
    moves, vol_shifts : ndarray, shape (S, U)
        The relative price move and absolute implied-vol shift applied to each underlying.
    pnl : ndarray, shape (S, P)
        USD P&L of each position.
    total : ndarray, shape (S,)
        USD P&L of the book (negative = loss).
    by_underlying : ndarray, shape (S, U)
        USD P&L of the positions on each underlying.
    """

    names: tuple[str, ...]
    sources: tuple[str, ...]
    underlyings: tuple[str, ...]
    moves: FloatArray
    vol_shifts: FloatArray
    pnl: FloatArray
    total: FloatArray
    by_underlying: FloatArray


# ---------------------------------------------------------------------------- the library
def crisis_library_path() -> Path:
    """Path of the bundled ``workbooks/crises.csv``, located without importing ``workbooks``.

    Raises
    ------
    XlVarError
        The ``workbooks`` package or its ``crises.csv`` is not installed.
    """
    spec = importlib.util.find_spec("workbooks")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "crises.csv"
        if path.is_file():
            return path
    raise XlVarError("the crisis library workbooks/crises.csv is missing (the workbooks package is not installed): "
                     "reinstall xl-var, or pass scenarios=[{'name': ..., 'moves': {...}}] or "
                     "load_scenarios('path/to/crises.csv')")


def _number(text: str, what: str, *, blank: float | None = None) -> float:
    if blank is not None and not text.strip():
        return blank
    try:
        x = float(text)
    except ValueError:
        x = math.nan
    if not math.isfinite(x):
        raise XlVarError(f"{what} must be a number; got {text!r}")
    return x


def load_scenarios(path: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Read a scenario CSV (default: the bundled crisis library) into :func:`stress_test`'s dicts.

    Parameters
    ----------
    path : str or path, optional
        A CSV with the columns ``scenario,underlying,move,vol_shift,source``, one row
        per scenario × underlying (``*`` for every other underlying); ``vol_shift`` may
        be blank (0). Rows of one scenario keep the order of first appearance. Default:
        :func:`crisis_library_path`.

    Returns
    -------
    list of dict
        ``{"name", "moves", "vol_shifts", "source"}`` per scenario; a scenario's
        sources are its rows' distinct sources joined by " | ".

    Raises
    ------
    XlVarError
        A missing file or column, a bad number (naming the row), a row with no source,
        or an underlying given twice in one scenario.
    """
    file = crisis_library_path() if path is None else Path(path)
    try:
        with file.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
            header = tuple(h.strip().lower() for h in (rows[0].keys() if rows else ()))
    except OSError as exc:
        raise XlVarError(f"scenario file {file} cannot be read ({exc.strerror}): check the path") from None
    missing = [c for c in LIBRARY_COLUMNS if c not in header]
    if not rows or missing:
        raise XlVarError(f"scenario file {file} needs the columns {','.join(LIBRARY_COLUMNS)} and at least one "
                         f"row; missing: {', '.join(missing) or 'rows'}")
    out: dict[str, dict[str, Any]] = {}
    for line, raw in enumerate(rows, start=2):
        row = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        where = f"scenario file {file.name} line {line}"
        name, underlying, source = row["scenario"], row["underlying"].upper(), row["source"]
        if not name or not underlying:
            raise XlVarError(f"{where}: scenario and underlying must not be blank")
        if not source:
            raise XlVarError(f"{where} ({name}, {underlying}): source is blank: say where the numbers come from")
        scenario = out.setdefault(name, {"name": name, "moves": {}, "vol_shifts": {}, "sources": []})
        if underlying in scenario["moves"]:
            raise XlVarError(f"{where}: {underlying} appears twice in scenario {name!r}: keep one row")
        scenario["moves"][underlying] = _number(row["move"], f"{where} move")
        scenario["vol_shifts"][underlying] = _number(row["vol_shift"], f"{where} vol_shift", blank=0.0)
        if source not in scenario["sources"]:
            scenario["sources"].append(source)
    return [{"name": s["name"], "moves": s["moves"], "vol_shifts": s["vol_shifts"],
             "source": " | ".join(s["sources"])} for s in out.values()]


# ---------------------------------------------------------------------------- scenarios
def _per_underlying(values: Any, field: str, label: str, book: Book, *, move: bool) -> FloatArray:
    """One number per book underlying from {underlying: value}, '*' filling the rest, else 0."""
    if values is None:
        return np.zeros(len(book.underlyings))
    if not isinstance(values, Mapping):
        raise XlVarError(f"{label}: {field} must map underlyings (e.g. 'BTC', or '*' for any other) to numbers")
    index = {u.upper(): i for i, u in enumerate(book.underlyings)}
    given: dict[int, float] = {}
    default = 0.0
    for key, raw in values.items():
        k = str(key).strip().upper()
        try:
            x = float(raw)
        except (TypeError, ValueError):
            x = math.nan
        if not math.isfinite(x) or (move and not -1.0 < x <= MAX_MOVE) or (not move and abs(x) > MAX_VOL):
            need = (f"a relative move above -1 and at most {MAX_MOVE:g} (−0.3 for −30%: divide a move in "
                    "percent by 100)" if move else
                    f"a change of vol as a fraction, at most {MAX_VOL:g} either way (0.2 for +20 vol points)")
            raise XlVarError(f"{label}: {field}[{key!r}] must be {need}; got {raw!r}")
        if k == _ANY:
            default = x
        elif k in index:
            given[index[k]] = x
    return np.array([given.get(i, default) for i in range(len(book.underlyings))])


def _touches(sc: Mapping[str, Any], book: Book) -> bool:
    """Whether a scenario names an underlying of the book or '*' in its moves or vol shifts."""
    names = {u.upper() for u in book.underlyings} | {_ANY}
    keys = [k for field in ("moves", "vol_shifts") if isinstance(sc.get(field), Mapping) for k in sc[field]]
    return any(str(k).strip().upper() in names for k in keys)


def _scenarios(scenarios: Any, book: Book) -> tuple[list[str], list[str], FloatArray, FloatArray]:
    if isinstance(scenarios, Mapping):
        scenarios = [scenarios]
    if isinstance(scenarios, str) or not isinstance(scenarios, Iterable):
        raise XlVarError("scenarios must be a list of {'name': ..., 'moves': {underlying: move}, "
                         "'vol_shifts': {underlying: vol points}} dicts")
    items = list(scenarios)
    if not items:
        raise XlVarError("scenarios is empty: give at least one scenario, or None for the crisis library")
    names: list[str] = []
    sources: list[str] = []
    moves, shifts = [], []
    for i, sc in enumerate(items, start=1):
        if not isinstance(sc, Mapping):
            raise XlVarError(f"scenario {i} must be a dict with 'name' and 'moves'; got {type(sc).__name__}")
        name = str(sc.get("name") or "").strip()
        label = f"scenario {i} ({name})" if name else f"scenario {i}"
        extra = sorted(str(k) for k in set(sc) - _KEYS)
        if extra:
            raise XlVarError(f"{label}: unknown field {', '.join(extra)}; use name, moves, vol_shifts, source")
        if not name:
            raise XlVarError(f"{label}: name is missing: give each scenario a name")
        if name in names:
            raise XlVarError(f"{label}: name {name!r} is used twice: give each scenario its own name")
        if "moves" not in sc and "vol_shifts" not in sc:
            raise XlVarError(f"{label}: give moves and/or vol_shifts")
        moves.append(_per_underlying(sc.get("moves"), "moves", label, book, move=True))
        shifts.append(_per_underlying(sc.get("vol_shifts"), "vol_shifts", label, book, move=False))
        if not _touches(sc, book):
            raise XlVarError(f"{label}: moves and vol_shifts name none of the book's underlyings "
                             f"({', '.join(book.underlyings)}) and no '*' default: check the spelling")
        names.append(name)
        sources.append(str(sc.get("source") or ""))
    return names, sources, np.vstack(moves), np.vstack(shifts)


def stress_test(book: Book, scenarios: Any = None) -> StressResult:
    r"""P&L of ``book`` in named crises or in user scenarios, by full revaluation.

    .. math::

        \mathrm{P\&L}_{s,i} = \Pi_i\bigl(S_0(1 + m_{s,u(i)}),\ \sigma_i + \Delta\sigma_{s,u(i)}\bigr)
        - \Pi_i(S_0, \sigma_i).

    Parameters
    ----------
    book : Book
        The positions and market data (:class:`~xl_var.book.Book`).
    scenarios : list of dict, dict or None
        ``None``: the bundled crisis library (:func:`load_scenarios`). Otherwise each
        scenario is ``{"name": str, "moves": {underlying: relative move},
        "vol_shifts": {underlying: vol points}, "source": str}`` (``moves`` or
        ``vol_shifts`` may be left out; ``source`` is optional). ``"*"`` sets every
        underlying a scenario does not name; an underlying neither named nor defaulted
        gets move 0 and vol shift 0. Underlyings the book does not hold are ignored,
        but a scenario that names none of the book's and has no ``"*"`` is refused (it
        would move nothing: likely a misspelling). Names match case-insensitively.

    Returns
    -------
    StressResult

    Raises
    ------
    XlVarError
        ``book`` is not a Book, the library is missing, or a scenario is malformed (the
        message names the scenario and the field).
    """
    if not isinstance(book, Book):
        raise XlVarError(f"book must be an xl_var Book (xv.Book(positions, spot, valuation=...)); "
                         f"got {type(book).__name__}")
    names, sources, moves, shifts = _scenarios(load_scenarios() if scenarios is None else scenarios, book)
    pnl = book.pnl(moves, shifts[:, book.underlying_index])
    n_u = len(book.underlyings)
    by_u = np.stack([pnl[:, book.underlying_index == u].sum(axis=1) for u in range(n_u)], axis=1)
    return StressResult(tuple(names), tuple(sources), book.underlyings, moves, shifts, pnl, pnl.sum(axis=1), by_u)
