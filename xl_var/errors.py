"""Error types raised by the xl-var engine.

Every public engine function validates its inputs in one place and raises
:class:`XlVarError` with a message that names the offending argument and says how
to fix it. Long-running work that is cancelled through a cancel token raises
:class:`Cancelled`.
"""

from __future__ import annotations

__all__ = ["Cancelled", "XlVarError"]


class XlVarError(ValueError):
    """Invalid input to an xl-var function.

    The message names the argument and the fix, e.g.
    ``"confidence must be between 0 and 1 (got 0.05: did you mean 0.95?)"``.
    """


class Cancelled(Exception):
    """Raised when long work stops because its cancel token was set."""
