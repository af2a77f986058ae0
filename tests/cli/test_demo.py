"""xl-var demo: the README's first command, on a machine without LibreOffice."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from pathlib import Path

import openpyxl
import pytest
from xlvar_books import run_cli, sample

import xl_var as xv
from workbooks import SAMPLE_MARKET, SAMPLE_POSITIONS, SAMPLE_RETURNS, SAMPLE_SURFACE, SAMPLE_VALUATION
from xl_var_cli.datafiles import read_book, read_returns

METHODS = ("historical", "normal", "t", "modified", "ewma", "fhs")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    cwd = tmp_path_factory.mktemp("demo")
    no_soffice = {"PATH": str(Path(sys.executable).parent), "HOME": str(cwd),
                  "LANG": os.environ.get("LANG", "C.UTF-8")}
    done = run_cli("demo", cwd=cwd, env=no_soffice)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return cwd, done.stdout


def test_writes_the_report_into_out(demo: tuple[Path, str]) -> None:
    cwd, stdout = demo
    report = cwd / "out" / "report.xlsx"
    assert f"wrote {Path('out') / 'report.xlsx'}" in stdout
    wb = openpyxl.load_workbook(report, data_only=True)
    assert wb.sheetnames[0] == "Report" and "Derivatives" in wb.sheetnames  # the sample book's page
    assert isinstance(wb["Report"]["B12"].value, float)


def test_skips_the_pdf_with_a_clear_note(demo: tuple[Path, str]) -> None:
    cwd, stdout = demo
    assert "LibreOffice (soffice) is not installed, so no PDF was made" in stdout
    assert not (cwd / "out" / "report.pdf").exists()


def test_headline_numbers_are_the_engines(demo: tuple[Path, str]) -> None:
    _, stdout = demo
    r, w, assets, _ = sample()
    for method in METHODS:
        res = xv.portfolio_var(r, w, 0.99, 1, method=method)
        m = re.search(rf"^  {re.escape(method)}\s+(-?[\d.]+)%\s+(-?[\d.]+)%$", stdout, re.M)
        assert m, (method, stdout)
        assert float(m.group(1)) == pytest.approx(100 * res.var, abs=0.005)
        assert float(m.group(2)) == pytest.approx(100 * res.es, abs=0.005)
    d = xv.component_var(r, w, 0.99, 1, method="historical")
    top = [assets[i] for i in sorted(range(len(assets)), key=lambda i: -d.component[i])[:3]]
    printed = re.findall(r"^  (\w+)\s+component\s+(-?[\d.]+)%\s+=\s+(-?[\d.]+)% of the total$", stdout, re.M)
    assert [p[0] for p in printed] == top
    for name, component, share in printed:
        i = assets.index(name)
        assert float(component) == pytest.approx(100 * d.component[i], abs=0.005)
        assert float(share) == pytest.approx(100 * d.component[i] / d.total, abs=0.05)


def _usd(stdout: str, label: str) -> float:
    m = re.search(rf"^  {re.escape(label)}\s+(-?[\d,]+)", stdout, re.M)
    assert m, (label, stdout)
    return float(m.group(1).replace(",", ""))


def test_derivatives_book_numbers_are_the_engines(demo: tuple[Path, str]) -> None:
    _, stdout = demo
    valuation = dt.datetime.fromisoformat(SAMPLE_VALUATION)
    book = read_book(SAMPLE_POSITIONS, SAMPLE_MARKET, valuation=valuation, surface=SAMPLE_SURFACE)
    assert "Derivatives book (USD)" in stdout
    for label, model in (("Deribit margin", "deribit"), ("SPAN margin", "span")):
        assert _usd(stdout, label) == pytest.approx(xv.portfolio_margin(book, model=model).margin, abs=0.5)
    r = read_returns(SAMPLE_RETURNS)
    full = xv.portfolio_var(r.values, book, 0.99, 1, method="historical", assets=list(r.assets), revaluation="full")
    assert _usd(stdout, "VaR, full revaluation (historical)") == pytest.approx(full.var, abs=0.5)
    assert _usd(stdout, "Worst stress-test P&L") == pytest.approx(min(xv.stress_test(book).total), abs=0.5)
