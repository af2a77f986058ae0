"""Atomic file writes: a temporary file in the target's folder, flushed to disk, then ``os.replace``.

A reader (or a crash, or ``kill -9``) sees the old file or the complete new one, never a
half-written file; the temporary file is removed on any failure. One helper serves the job
runner, the add-in installer and the workbook commands.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from pathlib import Path

__all__ = ["write_atomic"]

#: On Windows a file another process is reading cannot be replaced; retried this long.
_REPLACE_RETRY_S = 0.5


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every OS/file system lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _mode_for(target: Path) -> int:
    """The existing file's permission bits, or what a plain ``open()`` would give a new file."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _replace(tmp: Path, target: Path) -> None:
    deadline = time.monotonic() + _REPLACE_RETRY_S
    while True:
        try:
            os.replace(tmp, target)
            return
        except PermissionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def write_atomic(path: str | Path, data: bytes, *, make_folder: bool = False) -> None:
    """Replace ``path`` with ``data`` atomically, keeping an existing file's permission bits.

    Raises :class:`OSError` (the caller words it for its user); ``path`` is then untouched.
    ``make_folder`` creates missing parent folders first.
    """
    target = Path(path)
    folder = target.parent
    if make_folder:
        folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(target))
        _replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(folder)
