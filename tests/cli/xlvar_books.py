"""Workbooks and LibreOffice helpers shared by the refresh/report/demo tests."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName

from workbooks import SAMPLE_RETURNS, SAMPLE_WEIGHTS
from xl_var_cli.datafiles import read_returns, read_weights
from xl_var_cli.libreoffice import convert, find_soffice

ROOT = Path(__file__).resolve().parents[2]
needs_soffice = pytest.mark.skipif(find_soffice() is None, reason="LibreOffice (soffice) is not installed")
CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def sample(rows: int | None = None, assets: int | None = None) -> tuple[np.ndarray, np.ndarray, tuple[str, ...],
                                                                        tuple[str, ...]]:
    """The bundled sample's returns (first ``rows``), weights, asset names and dates."""
    r = read_returns(SAMPLE_RETURNS)
    w = read_weights(SAMPLE_WEIGHTS, r.assets).values
    n = assets or len(r.assets)
    t = rows or len(r.dates)
    return r.values[:t, :n], w[:n], r.assets[:n], r.dates[:t]


def risk_book(path: Path, rows: int = 300) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A workbook mixing xl-var functions and ordinary formulas; returns (returns, weights, assets)."""
    values, w, assets, dates = sample(rows)
    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "Data"
    data.append(["Date", *assets])
    for label, row in zip(dates, values, strict=True):
        data.append([dt.datetime.fromisoformat(label), *map(float, row)])
    for i, (a, x) in enumerate(zip(assets, w, strict=True)):
        data.cell(row=2 + i, column=9, value=a)
        data.cell(row=2 + i, column=10, value=float(x))
    last = rows + 1
    wb.defined_names["Returns"] = DefinedName("Returns", attr_text=f"Data!$A$1:$G${last}")
    wb.defined_names["Weights"] = DefinedName("Weights", attr_text="Data!$J$2:$J$7")
    calc = wb.create_sheet("Risk Calc")
    calc["A1"] = "=AGGVAR(Returns, Weights, 0.99)"
    calc["A2"] = '=AGGES(Returns, Weights, , , "normal")'
    calc["A3"] = "=A1*1000000"
    calc["A4"] = "='Risk Calc'!A2/A1"
    calc["A5"] = f"=PORTVOL(Data!B2:G{last}, Data!J2:J7)"
    calc["A6"] = "=looks like a formula"
    calc["A6"].data_type = "s"
    calc["B6"] = "=LEN(A6)"
    calc["A8"] = "=COMPONENTVAR(Returns, Weights, 0.99)"
    calc["H8"] = f"=STRESSCORR(Data!B2:G{last}, 0.5)"
    calc["A20"] = "=SUM(D9:D14)"
    calc["A21"] = "=SUM(_xlfn.ANCHORARRAY(H8))"
    calc["A22"] = "=FOO(A1)"
    calc["A23"] = "=AGGVAR(Returns, Weights, 2)"
    calc["A30"] = "=CORRMATRIX(Returns)"
    calc["B31"] = "blocker"
    wb.save(path)
    return values, w, assets


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``xl-var ARGS`` in a fresh interpreter (stdout/stderr captured)."""
    return subprocess.run([sys.executable, "-m", "xl_var_cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, check=False, timeout=300)


def lo_csv(xlsx: Path, outdir: Path) -> dict[str, list[list[str]]]:
    """Every sheet of ``xlsx`` as LibreOffice headless exports it to CSV (full precision)."""
    outdir.mkdir(parents=True, exist_ok=True)
    convert(xlsx, CSV_ALL_SHEETS, outdir)
    sheets = {}
    for f in outdir.glob(f"{xlsx.stem}-*.csv"):
        sheets[f.stem[len(xlsx.stem) + 1:]] = list(csv.reader(io.StringIO(f.read_text(encoding="utf-8"))))
    return sheets


def rezip(path: Path, out: Path, edit: dict[str, tuple[bytes, bytes]]) -> None:
    """Copy an .xlsx replacing ``old`` by ``new`` in the named parts."""
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in edit:
                old, new = edit[info.filename]
                assert old in data, (info.filename, old)
                data = data.replace(old, new)
            zout.writestr(info, data)
