"""Error types raised by the xl-var engine.

Every public engine function validates its inputs in one place and raises
:class:`XlVarError` with a message that names the offending argument and says how
to fix it. Long-running work that is cancelled through a cancel token raises
:class:`Cancelled`.
"""

from __future__ import annotations

__all__ = ["Cancelled", "LooksLikePrices", "XlVarError"]


class XlVarError(ValueError):
    """Invalid input to an xl-var function.

    The message names the argument and the fix, e.g.
    ``"confidence must be between 0 and 1 (got 0.05: did you mean 0.95?)"``.
    """


class LooksLikePrices(XlVarError):
    """Returns that look like price levels (all positive, far from zero, trending).

    Each layer words the fix its own way: in a cell "wrap the range in RETURNS(...)", on
    the command line "use --prices FILE"; :attr:`argument` names the input.
    """

    def __init__(self, message: str, argument: str = "returns") -> None:
        super().__init__(message)
        self.argument = argument


class Cancelled(Exception):
    """Raised when long work stops because its cancel token was set."""
