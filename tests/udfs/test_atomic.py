"""Atomic writes: old content survives any failure, permission bits are kept, no temp files are left."""

import os
import stat

import pytest

from xl_var_udfs import atomic
from xl_var_udfs.atomic import write_atomic


def test_failure_leaves_old_content_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    write_atomic(target, b"old")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_keeps_permission_bits_and_makes_folders(tmp_path):
    target = tmp_path / "f.txt"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "a" / "b.txt", b"x")
    write_atomic(tmp_path / "a" / "b.txt", b"x", make_folder=True)
    assert (tmp_path / "a" / "b.txt").read_bytes() == b"x"


def test_replace_retries_while_windows_readers_hold_the_file(tmp_path, monkeypatch):
    calls = []
    real = os.replace

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) < 3:
            raise PermissionError("in use")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", flaky)
    write_atomic(tmp_path / "s.txt", b"status")
    assert len(calls) == 3 and (tmp_path / "s.txt").read_bytes() == b"status"
