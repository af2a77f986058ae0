"""Real-spreadsheet checks with LibreOffice headless (skipped only where soffice is absent; CI has it)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from xlvar_books import lo_csv, needs_soffice, risk_book, sample

import xl_var as xv
from workbooks import (
    HERE,
    SAMPLE_MARKET,
    SAMPLE_POSITIONS,
    SAMPLE_RETURNS,
    SAMPLE_SURFACE,
    SAMPLE_VALUATION,
    SAMPLE_WEIGHTS,
    TEMPLATES,
)
from xl_var_cli.datafiles import read_book
from xl_var_cli.main import main

pytestmark = [needs_soffice, pytest.mark.libreoffice]


def _num(text: str) -> float:
    """A number as LibreOffice writes it to CSV (percent-formatted cells end in %)."""
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


def test_refreshed_book_shows_the_engines_numbers(tmp_path: Path) -> None:
    book, out = tmp_path / "book.xlsx", tmp_path / "refreshed.xlsx"
    r, w, assets = risk_book(book)
    assert main(["refresh", str(book), "-o", str(out)]) == 0
    sheets = lo_csv(out, tmp_path / "csv")
    calc = sheets["Risk Calc"]
    hist = xv.portfolio_var(r, w, 0.99, 1, method="historical")
    normal = xv.portfolio_var(r, w, 0.99, 1, method="normal")
    # xl-var cells
    assert _num(calc[0][0]) == pytest.approx(hist.var, rel=1e-9)
    assert _num(calc[1][0]) == pytest.approx(normal.es, rel=1e-9)
    assert _num(calc[4][0]) == pytest.approx(xv.portfolio_volatility(r, w), rel=1e-9)
    assert calc[22][0].startswith("#NUM! confidence")
    # ordinary formulas that depend on them (LibreOffice shows what the file stores, it did not recompute)
    assert _num(calc[2][0]) == pytest.approx(hist.var * 1e6, rel=1e-9)
    assert _num(calc[3][0]) == pytest.approx(normal.es / hist.var, rel=1e-9)
    assert _num(calc[19][0]) == pytest.approx(hist.var, rel=1e-9)  # =SUM of the spilled components
    stressed = xv.stress_correlation(None, 0.5, "shift", returns=r)
    assert _num(calc[20][0]) == pytest.approx(stressed.sum(), rel=1e-9)  # =SUM(H8#)
    assert calc[5][:2] == ["=looks like a formula", "21"]
    # spilled xl-var results (stored portably: LibreOffice recomputes array formulas on load)
    _assert_spills(calc, r, w, assets)
    # every cell of every sheet: only =FOO(A1), a function nobody knows (never stored a value), and the bad level
    assert [e[:3] for e in _errors(sheets)] == [("Risk Calc", 22, 1), ("Risk Calc", 23, 1)]


def _assert_spills(calc: list[list[str]], r: np.ndarray, w: np.ndarray, assets: tuple[str, ...]) -> None:
    d = xv.component_var(r, w, 0.99, 1, method="historical")
    assert [calc[i][0] for i in range(7, 15)] == ["Asset", *assets, "Total"]
    np.testing.assert_allclose([_num(calc[i][3]) for i in range(8, 14)], d.component, rtol=1e-9)
    stressed = xv.stress_correlation(None, 0.5, "shift", returns=r)
    got = np.array([[_num(x) for x in calc[7 + i][7:13]] for i in range(6)])
    np.testing.assert_allclose(got, stressed, rtol=1e-9)


def test_values_only_snapshot_shows_the_spills(tmp_path: Path) -> None:
    book, snap = tmp_path / "book.xlsx", tmp_path / "snap.xlsx"
    r, w, assets = risk_book(book)
    assert main(["refresh", str(book), "-o", str(snap), "--values-only"]) == 0
    _assert_spills(lo_csv(snap, tmp_path / "csv")["Risk Calc"], r, w, assets)


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def _ink(pdf: Path, tmp_path: Path) -> float:
    """Share of non-white pixels on page 1, rendered with pdftoppm."""
    subprocess.run(["pdftoppm", "-gray", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True, capture_output=True)
    raw = next(tmp_path.glob("page*.pgm")).read_bytes()
    magic, width, height, maxval, pixels = raw.split(maxsplit=4)
    assert magic == b"P5" and int(maxval) == 255
    image = np.frombuffer(pixels[: int(width) * int(height)], dtype=np.uint8)
    return float(np.mean(image < 200))


def test_report_opens_in_libreoffice_and_prints(tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    assert main(["report", "--returns", str(SAMPLE_RETURNS), "--weights", str(SAMPLE_WEIGHTS), "-o", str(out),
                 "--pdf"]) == 0
    pdf = tmp_path / "report.pdf"
    assert _pages(pdf) == 2  # the report on one landscape page, the stress page
    assert _ink(pdf, tmp_path) > 0.01
    r, w, _, _ = sample()
    sheets = lo_csv(out, tmp_path / "csv")  # the workbook itself opens in LibreOffice
    assert _errors(sheets) == []
    report = sheets["Report"]
    assert _num(report[11][1]) == pytest.approx(xv.portfolio_var(r, w, 0.99, 1, method="historical").var, rel=1e-9)
    d = xv.component_var(r, w, 0.99, 1, method="historical")  # its spilled table too
    assert report[35][0] == "Asset"  # the header cell LibreOffice once showed as Err:509
    np.testing.assert_allclose([_num(report[i][3]) for i in range(36, 42)], d.component, rtol=1e-9)


_ERROR = re.compile(r"^(Err:\d+|#NAME\?|#VALUE!|#REF!|#DIV/0!|#NUM!|#N/A|#NULL!)")


def _errors(sheets: dict[str, list[list[str]]]) -> list[tuple[str, int, int, str]]:
    """Every cell LibreOffice shows as an error: (sheet, row, column, text), 1-based."""
    return [(name, i + 1, j + 1, v[:40]) for name, rows in sheets.items() for i, row in enumerate(rows)
            for j, v in enumerate(row) if _ERROR.match(v)]


def test_every_cell_of_the_bundled_workbooks(tmp_path: Path) -> None:
    assert _errors(lo_csv(TEMPLATES / "report.xlsx", tmp_path / "template")) == []
    sheets = lo_csv(HERE / "demo.xlsx", tmp_path / "demo")
    shown = _errors(sheets)
    assert [(s, r, c) for s, r, c, _ in shown] == [("xl-var", row, 1) for row in (70, 71, 72)]  # on purpose
    # the Derivatives sheet as LibreOffice shows it: the engine's numbers
    deriv = sheets["Derivatives"]
    book = read_book(SAMPLE_POSITIONS, SAMPLE_MARKET, valuation=dt.datetime.fromisoformat(SAMPLE_VALUATION),
                     surface=SAMPLE_SURFACE)
    g = book.greeks("underlying")
    assert [deriv[i][0] for i in range(32, 35)] == list(g.labels)
    np.testing.assert_allclose([_num(deriv[i][3]) for i in range(32, 35)], g.delta_usd, rtol=1e-9)
    for row, model in ((39, "deribit"), (40, "span")):
        assert deriv[row][6] == model
        assert _num(deriv[row][7]) == pytest.approx(xv.portfolio_margin(book, model=model).margin, rel=1e-9)
    assert _num(deriv[71][1]) == pytest.approx(-xv.portfolio_margin(book, model="deribit").margin, rel=1e-9)
    np.testing.assert_allclose([_num(deriv[i][7]) for i in range(48, 52)], xv.stress_test(book).total, rtol=1e-9)


def test_demo_writes_the_pdf_when_libreoffice_is_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path / "out")]) == 0
    assert f"wrote {tmp_path / 'out' / 'report.pdf'}" in capsys.readouterr().out
    assert _pages(tmp_path / "out" / "report.pdf") == 3  # the report, the stress page, the derivatives book
