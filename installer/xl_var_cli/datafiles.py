"""Read returns and weights from CSV or xlsx files (date column and asset headers detected).

Every failure raises :class:`~xl_var_cli.errors.CliError` naming the file and the problem.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xl_var_cli.errors import CliError
from xl_var_cli.safexml import read_package

__all__ = ["Returns", "read_returns", "read_table", "read_weights"]


@dataclass(frozen=True)
class Returns:
    """A returns table: ``values`` is T×N, ``assets`` the N column names, ``dates`` the T row labels."""

    values: np.ndarray
    assets: tuple[str, ...]
    dates: tuple[str, ...]


def read_table(path: str | Path) -> pd.DataFrame:
    """Read the first sheet of an xlsx file or a CSV file as strings-or-numbers, no header inference."""
    p = Path(path)
    if not p.is_file():
        raise CliError(f"{p}: no such file")
    try:
        if zipfile.is_zipfile(p):
            pkg = read_package(p)  # zip/XML bomb, encryption and damage checks before openpyxl reads it
            return pd.read_excel(io.BytesIO(pkg.raw), header=None, engine="openpyxl")
        if p.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
            raise CliError(f"{p}: not a readable workbook (truncated, encrypted or not xlsx)")
        return pd.read_csv(p, header=None, skip_blank_lines=True)
    except CliError:
        raise
    except Exception as exc:  # pandas/openpyxl raise many types for malformed files
        raise CliError(f"{p}: cannot read it as CSV or xlsx ({type(exc).__name__}: {exc})") from None


def _is_number(x: object) -> bool:
    try:
        float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def read_returns(path: str | Path) -> Returns:
    """Read a returns table; a first row of names and a first column of dates are detected."""
    df = read_table(path)
    df = df.dropna(how="all").dropna(axis=1, how="all")
    if df.empty:
        raise CliError(f"{path}: the file holds no returns")
    single = df.shape[1] == 1  # one asset: no date column, a header only if its first cell is a name
    has_header = not _is_number(df.iloc[0, 0]) if single else not all(_is_number(x) for x in df.iloc[0, 1:])
    if has_header and len(df) == 1:
        raise CliError(f"{path}: a header row but no returns below it")
    first_col = df.iloc[int(has_header):, 0]
    has_dates = not single and not all(_is_number(x) for x in first_col)
    header = [str(x) for x in df.iloc[0]] if has_header else None
    body = df.iloc[int(has_header):, int(has_dates):]
    try:
        values = body.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    except (ValueError, TypeError) as exc:
        raise CliError(f"{path}: returns must be numbers ({exc})") from None
    ncols = values.shape[1]
    assets = tuple(header[int(has_dates):]) if header else tuple(f"Asset {i + 1}" for i in range(ncols))
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        i, j = bad[0]
        raise CliError(f"{path}: row {i + 1 + int(has_header)}, column {assets[j]!r} is blank or not a finite "
                       "number: fill it or remove that row")
    dates = tuple(str(x) for x in first_col) if has_dates else tuple(str(i + 1) for i in range(len(values)))
    return Returns(values=values, assets=assets, dates=dates)


def read_weights(path: str | Path, assets: tuple[str, ...]) -> np.ndarray:
    """Read weights: a two-column (asset, weight) table matched by name, or one row/column in order."""
    df = read_table(path).dropna(how="all").dropna(axis=1, how="all")
    n = len(assets)
    if df.shape[1] >= 2 and not all(_is_number(x) for x in df.iloc[:, 0]):
        rows = df[df.iloc[:, 1].map(_is_number)]
        names = [str(a).strip() for a in rows.iloc[:, 0]]
        twice = sorted({a for a in names if names.count(a) > 1})
        if twice:
            raise CliError(f"{path}: weights name {', '.join(map(repr, twice))} more than once: give one weight "
                           "per asset")
        named = {a: float(v) for a, v in zip(names, rows.iloc[:, 1], strict=True)}
        missing = [a for a in assets if a not in named]
        extra = [a for a in named if a not in assets]
        if missing or extra:
            raise CliError(f"{path}: weights name assets {sorted(named)} but returns has {list(assets)}")
        return _finite(np.array([named[a] for a in assets]), path)
    flat = [float(x) for x in df.to_numpy().ravel() if _is_number(x)]
    if len(flat) != n:
        raise CliError(f"{path}: {len(flat)} weights but returns has {n} columns: give one per asset")
    return _finite(np.array(flat), path)


def _finite(weights: np.ndarray, path: str | Path) -> np.ndarray:
    if not np.all(np.isfinite(weights)):
        raise CliError(f"{path}: weight {int(np.argmin(np.isfinite(weights))) + 1} is not a finite number")
    return weights
