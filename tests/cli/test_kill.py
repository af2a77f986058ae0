"""Killing ``xl-var refresh`` (SIGKILL) at any moment never damages the workbook it updates in place.

After each kill the book is either byte-for-byte the original or the complete refreshed
workbook; at most a temporary file of the interrupted write is left beside it. Kills land
at random moments and, on every other run, the instant the temporary file appears (the
write itself, the only window where a non-atomic writer would corrupt the book).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from xlvar_books import risk_book

from xl_var_cli.workbook.package import read_package

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

RUNS = 8


def _start(book: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "xl_var_cli.main", "refresh", str(book)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_when_writing(proc: subprocess.Popen, folder: Path, limit: float) -> None:
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        if any(p.suffix == ".tmp" for p in folder.iterdir()):
            break
        time.sleep(0.0005)
    proc.send_signal(signal.SIGKILL)


def test_sigkill_never_leaves_a_damaged_book(tmp_path: Path) -> None:
    folder = tmp_path / "books"
    folder.mkdir()
    book = folder / "book.xlsx"
    risk_book(book, rows=120)
    original = book.read_bytes()
    reference = tmp_path / "reference.xlsx"
    start = time.monotonic()
    assert subprocess.run([sys.executable, "-m", "xl_var_cli.main", "refresh", str(book), "-o", str(reference)],
                          capture_output=True, check=False).returncode == 0
    duration = time.monotonic() - start
    expected = openpyxl.load_workbook(reference, data_only=True)["Risk Calc"]["A1"].value
    assert isinstance(expected, float)

    rng = random.Random(20221109)
    outcomes: Counter[str] = Counter()
    for run in range(RUNS):
        book.write_bytes(original)
        proc = _start(book)
        if run % 2:
            _kill_when_writing(proc, folder, 2 * duration)
        else:
            time.sleep(rng.uniform(0.1, 1.1) * duration)
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if book.read_bytes() == original:
            outcomes["intact"] += 1
        else:
            read_package(book)  # a sound package ...
            value = openpyxl.load_workbook(book, data_only=True)["Risk Calc"]["A1"].value
            assert value == pytest.approx(expected, rel=1e-12)  # ... holding the complete refresh
            outcomes["refreshed"] += 1
        for leftover in [p for p in folder.iterdir() if p != book]:
            assert leftover.name.startswith(".book.xlsx.") and leftover.suffix == ".tmp", leftover
            outcomes["killed while writing"] += 1
            os.unlink(leftover)
    assert outcomes["intact"] + outcomes["refreshed"] == RUNS
    assert outcomes["intact"] > 0 and outcomes["killed while writing"] > 0, outcomes
