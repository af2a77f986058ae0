"""Errors the command line reports as one line (file name and problem), exit code 2."""

from __future__ import annotations

__all__ = ["CliError"]


class CliError(Exception):
    """A problem with the user's files or options; the message names the file and the fix."""
