"""Where an unexpected failure inside an xl-var function is written down.

A cell only has room for one line ("#VALUE! internal error: ..."), so the full traceback
goes to ``udfs.log`` in the user's log folder:

* ``$XLVAR_LOG_DIR`` when set (tests point it at a temporary folder);
* on Windows ``%LOCALAPPDATA%\\xl-var\\logs``;
* elsewhere ``$XDG_STATE_HOME/xl-var/logs``, by default ``~/.local/state/xl-var/logs``
  (the XDG base-directory rule for logs).

The file is kept below about 1 MB: when it grows past that it is renamed to
``udfs.log.1`` (replacing an older one) and a new file is started. Logging never raises:
if the folder cannot be written the cell still gets its one-line message.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from pathlib import Path

__all__ = ["LOG_NAME", "log_dir", "log_exception"]

LOG_NAME = "udfs.log"
_MAX_BYTES = 1_000_000


def log_dir() -> Path:
    """The folder for xl-var's log files (see the module docstring for the rule)."""
    override = os.environ.get("XLVAR_LOG_DIR")
    if override:
        return Path(override)
    if sys.platform.startswith("win"):
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "xl-var" / "logs"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "xl-var" / "logs"


def log_exception(where: str, exc: BaseException, context: str = "") -> Path | None:
    """Append a timestamped traceback of ``exc`` raised in ``where``; return the log file or None.

    ``context`` is one extra line (e.g. the shapes of the arguments, never their data).
    """
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOG_NAME
        if path.exists() and path.stat().st_size > _MAX_BYTES:
            os.replace(path, path.with_name(LOG_NAME + ".1"))
        stamp = dt.datetime.now().isoformat(timespec="seconds")
        text = f"--- {stamp} {where}\n"
        text += f"{context}\n" if context else ""
        text += "".join(traceback.format_exception(exc))
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
        return path
    except OSError:
        return None
