"""The report's PDF as a reader sees it: every page rendered (pdftoppm) and its text (pdftotext).

Fractions and dollar positions: no ``###``, money with thousands separators, and the VaR
in money is the engine's, not multiplied twice. With a derivatives book, a third page shows
its Greeks, margins, VaR by revaluation and stress losses: the engine's numbers.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from xlvar_books import needs_soffice, sample

import xl_var as xv
from workbooks import (
    SAMPLE_MARKET,
    SAMPLE_POSITIONS,
    SAMPLE_RETURNS,
    SAMPLE_SURFACE,
    SAMPLE_VALUATION,
    SAMPLE_WEIGHTS,
)
from xl_var_cli.datafiles import read_book, read_returns
from xl_var_cli.main import main

pytestmark = [needs_soffice, pytest.mark.libreoffice,
              pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")]

DOLLARS = (1_750_000, 1_250_000, 500_000, 500_000, 750_000, 250_000)


def _report(tmp_path: Path, weights: Path, *extra: str) -> Path:
    out = tmp_path / "report.xlsx"
    assert main(["report", "--returns", str(SAMPLE_RETURNS), "--weights", str(weights), "-o", str(out), "--pdf",
                 *extra]) == 0
    return out.with_suffix(".pdf")


def _pages_inked(pdf: Path, tmp_path: Path) -> list[float]:
    """Share of non-white pixels on each page, every page rendered with pdftoppm."""
    subprocess.run(["pdftoppm", "-gray", "-r", "30", str(pdf), str(tmp_path / "page")], check=True,
                   capture_output=True)
    shares = []
    for page in sorted(tmp_path.glob("page*.pgm")):
        magic, width, height, maxval, pixels = page.read_bytes().split(maxsplit=4)
        assert magic == b"P5" and int(maxval) == 255
        image = np.frombuffer(pixels[: int(width) * int(height)], dtype=np.uint8)
        shares.append(float(np.mean(image < 200)))
    return shares


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def _money(x: float, sign: str = "") -> str:
    return f"{sign}{round(x):,}"


def test_fractions(tmp_path: Path) -> None:
    pdf = _report(tmp_path, SAMPLE_WEIGHTS, "--value", "2500000")
    assert all(share > 0.005 for share in _pages_inked(pdf, tmp_path))
    text = _text(pdf)
    assert "###" not in text and "Err:" not in text
    r, w, _, _ = sample()
    var = xv.portfolio_var(r, w, 0.99, 1, method="historical").var
    assert f"{var:.2%}" in text and _money(var * 2_500_000) in text and "2,500,000" in text
    assert "Weights are fractions" in text and re.search(r"\bBTC\s+35\.0%", text)


def test_dollar_positions(tmp_path: Path) -> None:
    weights = tmp_path / "w.csv"
    weights.write_text("Asset,Position\n" + "".join(f'{a},"${x:,}"\n' for a, x in
                                                   zip(("BTC", "ETH", "SOL", "USDC", "SPX", "GOLD"), DOLLARS,
                                                       strict=True)))
    pdf = _report(tmp_path, weights)
    assert len(_pages_inked(pdf, tmp_path)) == 2
    assert all(share > 0.005 for share in _pages_inked(pdf, tmp_path))
    text = _text(pdf)
    assert "###" not in text and "Err:" not in text
    r, _, _, _ = sample()
    w = np.array(DOLLARS, dtype=float)
    for method in ("historical", "normal"):
        res = xv.portfolio_var(r, w, 0.99, 1, method=method)
        assert _money(res.var, "$") in text  # the engine's dollar VaR, once
        assert f"{res.var / w.sum():.2%}" in text
    assert "$5,000,000" in text and re.search(r"\bBTC\s+\$1,750,000", text)
    assert not re.search(r"\d{1,3}(,\d{3}){3,}", text)  # nothing in the billions: no VaR times a value again


def test_derivatives_page(tmp_path: Path) -> None:
    pdf = _report(tmp_path, SAMPLE_WEIGHTS, "--positions", str(SAMPLE_POSITIONS), "--market", str(SAMPLE_MARKET),
                  "--surface", str(SAMPLE_SURFACE), "--valuation", SAMPLE_VALUATION)
    inked = _pages_inked(pdf, tmp_path)
    assert len(inked) == 3 and inked[2] > 0.01  # the derivatives page, not blank
    subprocess.run(["pdftotext", "-layout", "-f", "3", "-l", "3", str(pdf), str(tmp_path / "p3.txt")], check=True)
    text = (tmp_path / "p3.txt").read_text()
    assert "###" not in text and "Err:" not in text and "Derivatives book" in text
    valuation = dt.datetime.fromisoformat(SAMPLE_VALUATION)
    book = read_book(SAMPLE_POSITIONS, SAMPLE_MARKET, valuation=valuation, surface=SAMPLE_SURFACE)
    for model in ("deribit", "span"):
        assert _money(xv.portfolio_margin(book, model=model).margin) in text
    g = book.greeks("underlying")
    header = r"Underlying\s+Value\s+Delta\s+Delta USD\s+Delta \(coin\)\s+Gamma\s+Gamma USD\s+Vega\s+Theta"
    assert re.search(header, text)
    for i, name in enumerate(g.labels):  # each underlying's row: value, delta, delta USD as the engine's
        assert re.search(rf"^\s*{name}\s+{_money(g.value[i])}\s+{g.delta[i]:,.2f}\s+{_money(g.delta_usd[i])}\b", text,
                         re.M), name
    r = read_returns(SAMPLE_RETURNS)
    full = xv.portfolio_var(r.values, book, 0.99, 1, method="historical", assets=list(r.assets), revaluation="full")
    assert re.search(rf"^\s*full\s+historical\s+{_money(full.var)}\s+{_money(full.es)}", text, re.M)
    worst = min(xv.stress_test(book).total)
    assert _money(worst) in text and "Stress-test P&L of the book" in text
