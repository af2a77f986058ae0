"""Atomic writes for the command line: :func:`xl_var_udfs.atomic.write_atomic` with one-line errors."""

from __future__ import annotations

from pathlib import Path

from xl_var_cli.errors import CliError
from xl_var_udfs.atomic import write_atomic

__all__ = ["write_bytes_atomic"]


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically; a failure is a :class:`CliError` naming the file."""
    target = Path(path)
    if not target.parent.is_dir():
        raise CliError(f"{target}: folder {target.parent} does not exist")
    try:
        write_atomic(target, data)
    except OSError as exc:
        raise CliError(f"{target}: cannot write it ({exc.strerror or exc})") from None
