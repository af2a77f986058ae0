"""The refresh benchmark's smallest case runs here, so the script cannot rot (its numbers are not checked)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "refresh.py"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_the_benchmark_runs_its_smallest_case() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--sizes", "200"], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    row = re.search(r"^\s*200\s+([\d.]+)\s+(\d+)\s+([\d.]+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s*$", done.stdout, re.M)
    assert row, done.stdout
    assert float(row.group(5)) > 0 and float(row.group(6)) > 0  # time and memory ratios against LibreOffice
