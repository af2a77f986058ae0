"""What one cell of an Excel range holds, and the error a bad one raises.

Excel (through xlwings with ``ndim=2, err_to_str=True``) hands a range to Python as a
list of rows. Inside it a blank cell is ``None`` (or ``""`` when a formula returned an
empty string), an error cell is a string such as ``"#N/A"``, a date is a
:class:`datetime.datetime`, and 99% is ``0.99``. These predicates say which is which;
:class:`ExcelError` is the one-line error every reader of ranges raises.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers
from typing import Any

import numpy as np

__all__ = ["ERROR_CODES", "ExcelError", "describe", "is_blank", "is_error", "is_label", "is_number", "to_float"]

# Excel's error values (https://support.microsoft.com/office/ -> "How to correct a #... error").
ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!",
                         "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#GETTING_DATA"})


class ExcelError(Exception):
    """A bad input, reported in the cell as ``"<code> <message>"``.

    Parameters
    ----------
    code : str
        The Excel error it stands for: ``"#VALUE!"``, ``"#NUM!"`` or ``"#N/A"``.
    message : str
        What is wrong and how to fix it, naming the argument.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message

    @property
    def line(self) -> str:
        """The text returned into the cell."""
        return f"{self.code} {self.message}"

    @classmethod
    def passthrough(cls, value: str, name: str) -> ExcelError:
        """Propagate an error value found in argument ``name`` (like Excel does).

        A bare code (``"#N/A"``) becomes ``"#N/A <name> is #N/A"``; a full xl-var error
        line from another function (``"#VALUE! prices row 3 ..."``) is kept as it is, so
        the root cause shows in the dependent cell.
        """
        code, _, rest = value.strip().partition(" ")
        return cls(code, rest if rest else f"{name} is {code}")


def is_error(x: Any) -> bool:
    """True for an Excel error value as xlwings' ``err_to_str`` delivers it (``"#N/A"``, ``"#DIV/0!"``...).

    The first word must be one of Excel's error codes (:data:`ERROR_CODES`), so an xl-var
    error line (``"#VALUE! prices row 3 ..."``) counts but text such as ``"#1 Bond"`` does not.
    """
    return isinstance(x, str) and x[:1] == "#" and x.split(maxsplit=1)[0] in ERROR_CODES


def is_blank(x: Any) -> bool:
    """A blank cell: None or text of only whitespace."""
    return x is None or (isinstance(x, str) and not x.strip())


def is_number(x: Any) -> bool:
    """Real numbers (Python's and numpy's, Decimal and Fraction too); not bools, not time spans."""
    return isinstance(x, (numbers.Real, decimal.Decimal)) and not isinstance(x, (bool, np.bool_, np.timedelta64))


def is_label(x: Any) -> bool:
    """A date or non-blank text that is not an error value."""
    return isinstance(x, dt.date) or (isinstance(x, str) and not is_error(x) and bool(x.strip()))


def to_float(x: Any) -> float:
    """A number as a float; integers too large for one become ±inf (caught later as not finite)."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def describe(x: Any) -> str:
    """How a non-number cell reads in a message."""
    if is_blank(x):
        return "blank"
    if is_error(x):
        return str(x).split()[0]
    if isinstance(x, (bool, np.bool_)):
        return f"{str(bool(x)).upper()}, not a number"
    if isinstance(x, dt.date):
        return "a date, not a number"
    kind = "text" if isinstance(x, str) else type(x).__name__
    return f"{kind} ({str(x)[:20]!r}), not a number"
