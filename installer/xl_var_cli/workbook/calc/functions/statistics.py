"""Excel's moments of a distribution beyond the variance: SKEW and SKEW.P.

Arguments follow Excel's aggregation rule, as SUM's (see :mod:`.aggregate`): a value typed as an
argument is converted, in a reference or array only numbers count; the first error is the result.
The sums run left to right in double precision in the order Excel uses, so that a skewness that
is zero in exact arithmetic comes out with Excel's own rounding residue.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..operands import DIV0, ExcelError
from .aggregate import _collect, _total

__all__ = ["FUNCTIONS"]


def _standardized(xs: list[float], sample: bool) -> list[float]:
    """``(x - mean) / s`` for each value, ``s`` the sample (n-1) or population (n) standard
    deviation; #DIV/0! when ``s`` is 0."""
    n = len(xs)
    mean = _total(xs) / n
    ss = 0.0
    for x in xs:
        ss += (x - mean) * (x - mean)
    s = math.sqrt(ss / (n - 1 if sample else n))
    if s == 0.0:
        raise ExcelError(DIV0)
    return [(x - mean) / s for x in xs]


def _cubes(zs: list[float]) -> float:
    total = 0.0
    for z in zs:
        total += z * z * z
    return total


def _skew(*args: Any) -> float:
    """SKEW(number1, ...) = n / ((n-1)(n-2)) * sum(((x - mean) / s)^3), ``s`` the sample standard
    deviation; #DIV/0! for fewer than 3 values or no spread (Microsoft, "SKEW function")."""
    xs = _collect(args)
    n = len(xs)
    if n < 3:
        raise ExcelError(DIV0)
    return n / ((n - 1) * (n - 2)) * _cubes(_standardized(xs, sample=True))


def _skew_p(*args: Any) -> float:
    """SKEW.P(number1, ...) = sum(((x - mean) / sigma)^3) / n, ``sigma`` the population standard
    deviation; #DIV/0! without values or spread (Microsoft, "SKEW.P function")."""
    xs = _collect(args)
    if not xs:
        raise ExcelError(DIV0)
    return _cubes(_standardized(xs, sample=False)) / len(xs)


FUNCTIONS: dict[str, Callable[..., Any]] = {"SKEW": _skew, "SKEW.P": _skew_p}
