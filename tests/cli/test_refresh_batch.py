"""xl-var refresh BOOK...: several workbooks in one command, side by side, one failure never stopping the rest.

A refreshed book must be byte for byte what a single ``xl-var refresh`` of the same book
writes (refresh is deterministic: see test_refresh), whichever way the batch ran it: here,
in worker processes, or on a Dask cluster.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from xlvar_books import risk_book

from xl_var_cli.batch import Outcome, _in_processes, _refresh_one, _Report
from xl_var_cli.main import main


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A workbook's bytes before and after a single refresh."""
    folder = tmp_path_factory.mktemp("reference")
    book, out = folder / "book.xlsx", folder / "refreshed.xlsx"
    risk_book(book, rows=120)
    assert main(["refresh", str(book), "-o", str(out)]) == 0
    return {"before": book.read_bytes(), "after": out.read_bytes()}


def _books(folder: Path, reference: dict[str, bytes], *names: str) -> list[Path]:
    """Copies of the reference book under ``names``; a name with "broken" gets a truncated copy."""
    paths = []
    for name in names:
        data = reference["before"]
        (folder / name).write_bytes(data[: len(data) // 2] if "broken" in name else data)
        paths.append(folder / name)
    return paths


def _summary(out: str, refreshed: int, failed: int) -> None:
    assert re.fullmatch(rf"{refreshed} refreshed, {failed} failed in \d+\.\d s", out.splitlines()[-1]), out


def test_several_books_in_two_processes_one_broken(tmp_path: Path, reference: dict[str, bytes],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    a, b, broken, c = _books(tmp_path, reference, "a.xlsx", "b.xlsx", "broken.xlsx", "c.xlsx")
    assert main(["refresh", str(a), str(b), str(broken), str(c), "--jobs", "2"]) == 2
    for book in (a, b, c):
        assert book.read_bytes() == reference["after"], book  # what a single refresh writes
    assert broken.read_bytes() == reference["before"][: len(reference["before"]) // 2]
    out, err = capsys.readouterr()
    headers = [line for line in out.splitlines() if not line.startswith(" ")]
    assert headers[:3] == [f"{book}: recalculated 12 formulas, 2 spilled ranges" for book in (a, b, c)]  # order given
    assert out.count("  note: Risk Calc!A22 kept its stored value") == 3  # each book's notes, as a single refresh
    _summary(out, 3, 1)
    assert err.startswith(f"xl-var refresh: error: {broken}: is truncated or damaged") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "b.xlsx", "broken.xlsx", "c.xlsx"]


def test_one_after_another_here(tmp_path: Path, reference: dict[str, bytes],
                                capsys: pytest.CaptureFixture[str]) -> None:
    (a,) = _books(tmp_path, reference, "a.xlsx")
    missing = tmp_path / "missing.xlsx"
    assert main(["refresh", str(missing), str(a)]) == 2
    assert a.read_bytes() == reference["after"]
    out, err = capsys.readouterr()
    assert out.startswith(f"{a}: recalculated 12 formulas")
    _summary(out, 1, 1)
    assert err == f"xl-var refresh: error: {missing}: no such file\n"


def test_every_book_refreshed_exits_0(tmp_path: Path, reference: dict[str, bytes],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    books = _books(tmp_path, reference, "a.xlsx", "b.xlsx")
    assert main(["refresh", *map(str, books)]) == 0
    assert all(book.read_bytes() == reference["after"] for book in books)
    _summary(capsys.readouterr().out, 2, 0)


@pytest.mark.parametrize(("extra", "message"), [
    (["-o", "out.xlsx"], "-o applies to one workbook"),
    (["--values-only"], "--values-only applies to one workbook"),
    ([], "given twice"),
    (["--jobs", "2", "--scheduler", "tcp://127.0.0.1:8786"], "give --jobs N or --scheduler ADDR, not both"),
])
def test_refused_before_anything_is_written(tmp_path: Path, reference: dict[str, bytes], extra: list[str],
                                            message: str, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _books(tmp_path, reference, "a.xlsx", "b.xlsx")
    second = str(tmp_path / "sub" / ".." / "a.xlsx") if not extra else str(b)  # the same file by another name
    (tmp_path / "sub").mkdir()
    assert main(["refresh", str(a), second, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert a.read_bytes() == b.read_bytes() == reference["before"]
    assert not (tmp_path / "out.xlsx").exists()


def test_jobs_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["refresh", "a.xlsx", "b.xlsx", "--jobs", "0"])
    assert stop.value.code == 2 and "1 or more" in capsys.readouterr().err


def _dies_on_crash_books(book: str) -> Outcome:
    """A worker task that kills its process for a book named crash*.xlsx (a crash of the formula engine)."""
    if Path(book).name.startswith("crash"):
        os._exit(3)
    return _refresh_one(book)


def test_a_crashing_worker_is_one_failed_book(tmp_path: Path, reference: dict[str, bytes],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    books = _books(tmp_path, reference, "crash.xlsx", "a.xlsx")
    report = _Report()
    _in_processes(books, 2, report, work=_dies_on_crash_books)
    assert report.summary() == 2
    assert books[0].read_bytes() == reference["before"] and books[1].read_bytes() == reference["after"]
    out, err = capsys.readouterr()
    assert err == f"xl-var refresh: error: {books[0]}: the process refreshing it stopped unexpectedly " \
                  "(a crash, or killed for memory); it was left as it was\n"
    _summary(out, 1, 1)


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX process groups")
@pytest.mark.parametrize("whole_group", [True, False], ids=["terminal", "parent-only"])
def test_ctrl_c_leaves_every_book_old_or_new(tmp_path: Path, reference: dict[str, bytes], whole_group: bool) -> None:
    books = _books(tmp_path, reference, *(f"b{i}.xlsx" for i in range(12)))
    proc = subprocess.Popen([sys.executable, "-m", "xl_var_cli.main", "refresh", *map(str, books), "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    while proc.poll() is None and all(book.read_bytes() == reference["before"] for book in books):
        time.sleep(0.001)  # until the first book is written: the batch is under way
    # Ctrl-C in a terminal reaches the whole process group (the workers too); `kill -INT` the parent only
    (os.killpg if whole_group else os.kill)(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == "xl-var refresh: cancelled\n", (out, err)
    states = [{reference["before"]: "old", reference["after"]: "new"}.get(book.read_bytes(), "damaged")
              for book in books]
    assert "damaged" not in states and "new" in states and "old" in states, states  # queued books not started
    assert all(p in books or p.suffix == ".tmp" for p in tmp_path.iterdir())  # at most a write's temporary file


def test_on_a_dask_cluster(tmp_path: Path, reference: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("distributed")
    a, broken, b, c = _books(tmp_path, reference, "a.xlsx", "broken.xlsx", "b.xlsx", "c.xlsx")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")
    try:
        assert main(["refresh", str(a), str(broken), str(b), str(c), "--scheduler", cluster.scheduler_address]) == 2
    finally:
        cluster.close()
    for book in (a, b, c):
        assert book.read_bytes() == reference["after"], book
    out, err = capsys.readouterr()
    headers = [line for line in out.splitlines() if not line.startswith(" ")]
    assert headers[:3] == [f"{book}: recalculated 12 formulas, 2 spilled ranges" for book in (a, b, c)]
    _summary(out, 3, 1)
    assert err.startswith(f"xl-var refresh: error: {broken}: is truncated or damaged") and err.count("\n") == 1


def test_scheduler_needs_dask_and_an_address(tmp_path: Path, reference: dict[str, bytes],
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _books(tmp_path, reference, "a.xlsx", "b.xlsx")
    pytest.importorskip("distributed")
    assert main(["refresh", str(a), str(b), "--scheduler", "local"]) == 2
    assert "use --jobs N on this machine" in capsys.readouterr().err
    assert main(["refresh", str(a), str(b), "--scheduler", "bogus"]) == 2
    assert "scheduler 'bogus': cannot connect" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the dask extra were not installed
    assert main(["refresh", str(a), str(b), "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    err = capsys.readouterr().err
    assert err == ("xl-var refresh: error: --scheduler needs Dask: pip install 'xl-var[dask]' "
                   "(or use --jobs N to refresh books side by side on this machine)\n")
    assert a.read_bytes() == b.read_bytes() == reference["before"]
