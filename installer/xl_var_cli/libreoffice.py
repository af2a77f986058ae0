"""LibreOffice headless: convert a workbook to PDF (or CSV) in a private, throw-away profile.

Each call gets its own ``-env:UserInstallation`` profile folder, so parallel conversions
(tests, several reports at once) never share LibreOffice's lock files.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from xl_var_cli.errors import CliError

__all__ = ["convert", "find_soffice"]

_TIMEOUT_S = 180


def find_soffice() -> str | None:
    """The LibreOffice executable on PATH, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(source: Path, fmt: str, outdir: Path, timeout: float = _TIMEOUT_S) -> Path:
    """Convert ``source`` with ``soffice --headless --convert-to fmt``; return the converted file.

    ``fmt`` is LibreOffice's filter spec, e.g. ``"pdf"`` or ``"csv:Text - txt - csv (StarCalc):44,34,76"``.
    """
    soffice = find_soffice()
    if soffice is None:
        raise CliError("LibreOffice (soffice) is not installed: install libreoffice-calc "
                       "(bash installer/setup.sh --dev does) or leave out --pdf")
    with tempfile.TemporaryDirectory(prefix="xlvar-lo-") as profile:
        cmd = [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
               "--convert-to", fmt, "--outdir", str(outdir), str(source)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise CliError(f"{source}: LibreOffice did not finish converting it within {timeout:.0f} s") from None
    ext = fmt.split(":")[0]
    out = outdir / f"{source.stem}.{ext}"
    if not out.is_file():  # a CSV export of every sheet writes STEM-SHEET.csv files
        out = next(iter(sorted(outdir.glob(f"{source.stem}-*.{ext}"))), out)
    if done.returncode != 0 or not out.is_file():
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise CliError(f"{source}: LibreOffice could not convert it to {ext}"
                       + (f" ({detail[-1]})" if detail else ""))
    return out
