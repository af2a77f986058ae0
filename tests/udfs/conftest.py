"""Shared fixtures for the Excel-function tests: logs go to a temporary folder, sample data as Excel sees it."""

import csv
import datetime as dt
from pathlib import Path

import pytest

from workbooks import SAMPLE_PRICES, SAMPLE_RETURNS, SAMPLE_WEIGHTS


@pytest.fixture(autouse=True)
def _log_to_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("XLVAR_LOG_DIR", str(tmp_path / "logs"))


def excel_rows(path):
    """A CSV with a header row and a date column as xlwings would deliver its range: dates as datetime."""
    with open(path, newline="") as fh:
        header, *body = list(csv.reader(fh))
    rows = [header]
    for r in body:
        rows.append([dt.datetime.fromisoformat(r[0])] + [float(x) for x in r[1:]])
    return rows


@pytest.fixture(scope="session")
def sample_returns():
    return excel_rows(SAMPLE_RETURNS)


@pytest.fixture(scope="session")
def sample_prices():
    return excel_rows(SAMPLE_PRICES)


@pytest.fixture(scope="session")
def sample_weights():
    """The (Asset, Weight) table with its header, as a two-column range."""
    with open(SAMPLE_WEIGHTS, newline="") as fh:
        header, *body = list(csv.reader(fh))
    return [header] + [[name, float(w)] for name, w in body]


@pytest.fixture(scope="session")
def edhec_rows():
    """../shared/data/edhec.csv as an Excel range (skips when the shared data are absent)."""
    path = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "edhec.csv"
    if not path.is_file():
        pytest.skip("../shared/data/edhec.csv is not available")
    return excel_rows(path)
