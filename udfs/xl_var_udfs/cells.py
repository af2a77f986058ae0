"""What one cell of an Excel range holds, and the error a bad one raises.

Excel (through xlwings with ``ndim=2, err_to_str=True``) hands a range to Python as a
list of rows. Inside it a blank cell is ``None`` (or ``""`` when a formula returned an
empty string), an error cell is a string such as ``"#N/A"``, a date is a
:class:`datetime.datetime`, and 99% is ``0.99``. The errors ``err_to_str`` does not name
(``#SPILL!``, ``#CALC!``, ``#GETTING_DATA``...) arrive as the integer pywin32 makes of them
(:data:`COM_ERRORS`) and are error cells too, never numbers. These predicates say which is
which; :class:`ExcelError` is the one-line error every reader of ranges raises.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from xl_var.errors import LooksLikePrices, XlVarError

__all__ = ["COM_ERRORS", "ERROR_CODES", "ExcelError", "as_excel_error", "describe", "error_text", "is_blank",
           "is_error", "is_label", "is_number", "reraise_as", "to_float"]

# Excel's error values (https://support.microsoft.com/office/ -> "How to correct a #... error").
ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!",
                         "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#GETTING_DATA"})
# An error cell's value through COM (pywin32): the HRESULT 0x800A0000 + its number in Microsoft's XlCVError
# enumeration, as a signed int (#N/A = -2146826246). xlwings' err_to_str names only the first seven.
_XL_ERRORS = {"#NULL!": 2000, "#DIV/0!": 2007, "#VALUE!": 2015, "#REF!": 2023, "#NAME?": 2029, "#NUM!": 2036,
              "#N/A": 2042, "#GETTING_DATA": 2043, "#SPILL!": 2045, "#CONNECT!": 2046, "#BLOCKED!": 2047,
              "#UNKNOWN!": 2048, "#FIELD!": 2049, "#CALC!": 2050}
COM_ERRORS: dict[int, str] = {0x800A0000 + n - (1 << 32): code for code, n in _XL_ERRORS.items()}


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
        code, _, rest = error_text(value).strip().partition(" ")
        return cls(code, rest if rest else f"{name} is {code}")


def is_error(x: Any) -> bool:
    """True for an Excel error value as xlwings' ``err_to_str`` delivers it (``"#N/A"``, ``"#DIV/0!"``...),
    or as the integer pywin32 delivers for an error it does not name (``#SPILL!``: :data:`COM_ERRORS`).

    The first word must be one of Excel's error codes (:data:`ERROR_CODES`), so an xl-var
    error line (``"#VALUE! prices row 3 ..."``) counts but text such as ``"#1 Bond"`` does not.
    """
    if isinstance(x, str):
        return x[:1] == "#" and x.split(maxsplit=1)[0] in ERROR_CODES
    return type(x) is int and x in COM_ERRORS


def error_text(x: Any) -> str:
    """An error value as text: ``"#SPILL!"`` for pywin32's integer, the text itself otherwise."""
    return COM_ERRORS[x] if type(x) is int and x in COM_ERRORS else str(x)


def is_blank(x: Any) -> bool:
    """A blank cell: None or text of only whitespace."""
    return x is None or (isinstance(x, str) and not x.strip())


def is_number(x: Any) -> bool:
    """Real numbers (Python's and numpy's, Decimal and Fraction too); not bools, time spans or error values."""
    return (isinstance(x, (numbers.Real, decimal.Decimal)) and not isinstance(x, (bool, np.bool_, np.timedelta64))
            and not is_error(x))


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
        return error_text(x).split()[0]
    if isinstance(x, (bool, np.bool_)):
        return f"{str(bool(x)).upper()}, not a number"
    if isinstance(x, dt.date):
        return "a date, not a number"
    kind = "text" if isinstance(x, str) else type(x).__name__
    return f"{kind} ({str(x)[:20]!r}), not a number"


# Engine messages that mean "a number outside its domain" or "no finite answer" -> #NUM!.
_NUM_WORDS = re.compile(
    r"between|did you mean|positive|negative|zero|variance|singular|definite|converg|greater than|"
    r"less than|at most|out of range|finite",
    re.I,
)


def as_excel_error(exc: XlVarError) -> ExcelError:
    """Map an engine error to ``#NUM!`` (number out of its domain, no finite answer) or ``#VALUE!``.

    Returns that look like prices (:class:`~xl_var.errors.LooksLikePrices`) are ``#VALUE!`` with
    the worksheet's fix: wrap the range in ``RETURNS(...)``.
    """
    if isinstance(exc, LooksLikePrices):
        return ExcelError("#VALUE!", f"{exc.argument} looks like prices, not returns (all positive, far from "
                                     "zero, trending): wrap the range in RETURNS(...)")
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ExcelError("#NUM!" if _NUM_WORDS.search(text) else "#VALUE!", text)


@contextmanager
def reraise_as(code: str) -> Iterator[None]:
    """Turn an :class:`XlVarError` raised inside the block into an :class:`ExcelError` with ``code``."""
    try:
        yield
    except XlVarError as exc:
        raise ExcelError(code, str(exc)) from None
