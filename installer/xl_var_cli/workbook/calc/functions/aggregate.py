"""Sums, counts, averages, order statistics and dispersion.

Arguments follow Excel's aggregation rule (Microsoft, "SUM function" and alike): a value typed
as an argument is converted (number text, logicals), while in a reference or an array only
numbers count (the ...A variants count text as 0 and logicals as 1 there); the first error met
left to right is the result. Sums run left to right in plain double precision, as Excel does.
The ...IF(S) functions are in :mod:`~xl_var_cli.workbook.calc.functions.conditional`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ..operands import (
    DIV0,
    NA,
    NUM,
    VALUE,
    ExcelError,
    Grid,
    Ref,
    XlError,
    elementwise,
    number_from_text,
    to_int,
    to_number,
)

__all__ = ["FUNCTIONS"]

Predicate = Callable[[Any], bool]
_ARRAYS = (Ref, Grid)


# ----------------------------------------------------------------------------- collecting numbers
_LONG = 65536  # a reference with more rows than this is read only down to its sheet's last used row


def _used(ref: Ref) -> Ref:
    """``ref`` cut to its sheet's used rows and columns when it is a long one (whole columns)."""
    if ref.r2 - ref.r1 <= _LONG:
        return ref
    last_row, last_col = ref.book.extent(ref.sheet)
    r2, c2 = max(ref.r1, min(ref.r2, last_row)), max(ref.c1, min(ref.c2, last_col))
    return Ref(ref.book, ref.sheet, ref.r1, ref.c1, r2, c2)


def _rows(arg: Ref | Grid) -> list[list[Any]]:
    if isinstance(arg, Ref):
        arg = _used(arg)
        return arg.book.block(arg.sheet, arg.r1, arg.c1, arg.r2, arg.c2)
    return arg.rows


def _shape(arg: Any) -> tuple[int, int]:
    return arg.shape if isinstance(arg, _ARRAYS) else (1, 1)


def _flat(arg: Any) -> list[Any]:
    """Every value of a reference or array, row by row; a scalar as a one-value list."""
    if isinstance(arg, _ARRAYS):
        return [v for row in _rows(arg) for v in row]
    return [arg]


def _collect(args: Sequence[Any], alltypes: bool = False) -> list[float]:
    """The numbers an aggregate works on, by Excel's rule (see the module docstring); with
    ``alltypes`` text in references counts as 0 and logicals as 1 (AVERAGEA, MAXA...)."""
    out: list[float] = []
    append = out.append
    for arg in args:
        if isinstance(arg, _ARRAYS):
            for row in _rows(arg):
                for v in row:
                    if v.__class__ is float:
                        append(v)
                    elif v is None:
                        continue
                    elif v.__class__ is XlError:
                        raise ExcelError(v)
                    elif alltypes:
                        append(1.0 if v is True else 0.0)
        elif arg is not None:
            append(to_number(arg))
    return out


def _total(xs: list[float]) -> float:
    """Left-to-right double sum (Excel's, unlike math.fsum or Python 3.12's compensated sum)."""
    s = 0.0
    for x in xs:
        s += x
    return s


def _sum(*args: Any) -> Any:
    """SUM(number1, ...) (Microsoft, "SUM function")."""
    total = 0.0
    for arg in args:
        if isinstance(arg, _ARRAYS):
            for row in _rows(arg):
                for v in row:
                    if v.__class__ is float:
                        total += v
                    elif v.__class__ is XlError:
                        return v
        elif arg is not None:
            total += to_number(arg)
    return total


def _count(*args: Any) -> float:
    """COUNT(value1, ...): numbers in references; typed numbers, number text, dates and logicals
    (Microsoft, "COUNT function")."""
    n = 0
    for arg in args:
        if isinstance(arg, _ARRAYS):
            for row in _rows(arg):
                for v in row:
                    if v.__class__ is float:
                        n += 1
        elif isinstance(arg, bool | float) or (isinstance(arg, str) and number_from_text(arg) is not None):
            n += 1
    return float(n)


def _counta(*args: Any) -> float:
    """COUNTA(value1, ...): every value that is not an empty cell, "" and errors included
    (Microsoft, "COUNTA function")."""
    n = 0
    for arg in args:
        if isinstance(arg, _ARRAYS):
            for row in _rows(arg):
                for v in row:
                    if v is not None:
                        n += 1
        elif arg is not None:
            n += 1
    return float(n)


def _mean(xs: list[float]) -> float:
    if not xs:
        raise ExcelError(DIV0)
    return _total(xs) / len(xs)


def _average(*args: Any) -> float:
    """AVERAGE(number1, ...) = SUM / COUNT; #DIV/0! without numbers (Microsoft, "AVERAGE function")."""
    return _mean(_collect(args))


def _averagea(*args: Any) -> float:
    """AVERAGEA(value1, ...): text in references is 0, logicals 1 (Microsoft, "AVERAGEA function")."""
    return _mean(_collect(args, True))


def _min(*args: Any) -> float:
    """MIN(number1, ...); 0 without numbers (Microsoft, "MIN function")."""
    xs = _collect(args)
    return min(xs) if xs else 0.0


def _mina(*args: Any) -> float:
    """MINA(value1, ...) (Microsoft, "MINA function")."""
    xs = _collect(args, True)
    return min(xs) if xs else 0.0


def _max(*args: Any) -> float:
    """MAX(number1, ...); 0 without numbers (Microsoft, "MAX function")."""
    xs = _collect(args)
    return max(xs) if xs else 0.0


def _maxa(*args: Any) -> float:
    """MAXA(value1, ...) (Microsoft, "MAXA function")."""
    xs = _collect(args, True)
    return max(xs) if xs else 0.0


def _finite(x: float) -> float:
    if math.isfinite(x):
        return x
    raise ExcelError(NUM)


def _product(*args: Any) -> float:
    """PRODUCT(number1, ...); 0 without numbers (Microsoft, "PRODUCT function")."""
    xs = _collect(args)
    if not xs:
        return 0.0
    p = 1.0
    for x in xs:
        p *= x
    return _finite(p)


def _sumsq(*args: Any) -> float:
    """SUMSQ(number1, ...) = sum of squares (Microsoft, "SUMSQ function")."""
    s = 0.0
    for x in _collect(args):
        s += x * x
    return _finite(s)


def _sumproduct(*arrays: Any) -> Any:
    """SUMPRODUCT(array1, ...): sum of element products; the first error in the arrays, else
    #VALUE! unless shapes agree; non-numbers count as 0, except that text is #VALUE! when every
    argument is a single value (Microsoft, "SUMPRODUCT function"; Excel's results for the rest)."""
    flats = [_flat(a) for a in arrays]
    for v in (v for values in flats for v in values if isinstance(v, XlError)):
        return v
    shapes = {_shape(a) for a in arrays}
    if len(shapes) != 1:
        raise ExcelError(VALUE)
    single = shapes == {(1, 1)}
    total = 0.0
    for items in zip(*flats, strict=True):
        p = 1.0
        for v in items:
            if v.__class__ is float:
                p *= v
            elif single and isinstance(v, str):
                raise ExcelError(VALUE)
            else:
                p = 0.0
        total += p
    return _finite(total)


# ----------------------------------------------------------------------------- dispersion
def _devsq_of(xs: list[float]) -> float:
    m = _total(xs) / len(xs)
    s = 0.0
    for x in xs:
        s += (x - m) * (x - m)
    return s


def _variance(sample: bool, alltypes: bool = False) -> Callable[..., float]:
    def var(*args: Any) -> float:
        xs = _collect(args, alltypes)
        if len(xs) < (2 if sample else 1):
            raise ExcelError(DIV0)
        return _devsq_of(xs) / (len(xs) - 1 if sample else len(xs))

    var.__doc__ = "VAR.S / VAR.P = DEVSQ / (n-1) or / n (Microsoft, \"VAR.S function\", \"VAR.P function\")."
    return var


def _stdev(sample: bool, alltypes: bool = False) -> Callable[..., float]:
    variance = _variance(sample, alltypes)

    def stdev(*args: Any) -> float:
        return math.sqrt(variance(*args))

    stdev.__doc__ = "STDEV.S / STDEV.P = SQRT(VAR) (Microsoft, \"STDEV.S function\", \"STDEV.P function\")."
    return stdev


def _nonempty(args: Sequence[Any]) -> list[float]:
    xs = _collect(args)
    if not xs:
        raise ExcelError(NUM)
    return xs


def _devsq(*args: Any) -> float:
    """DEVSQ(number1, ...) = sum of (x - mean)^2 (Microsoft, "DEVSQ function")."""
    return _devsq_of(_nonempty(args))


def _avedev(*args: Any) -> float:
    """AVEDEV(number1, ...) = mean of |x - mean| (Microsoft, "AVEDEV function")."""
    xs = _nonempty(args)
    m = _total(xs) / len(xs)
    return _total([abs(x - m) for x in xs]) / len(xs)


def _geomean(*args: Any) -> float:
    """GEOMEAN(number1, ...) = (x1*...*xn)^(1/n); #NUM! for a value <= 0 (Microsoft, "GEOMEAN function")."""
    xs = _nonempty(args)
    if min(xs) <= 0:
        raise ExcelError(NUM)
    return math.exp(_total([math.log(x) for x in xs]) / len(xs))


# ----------------------------------------------------------------------------- order statistics
def _median(*args: Any) -> float:
    """MEDIAN(number1, ...) (Microsoft, "MEDIAN function")."""
    xs = sorted(_nonempty(args))
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def _mode(strict: bool) -> Callable[..., float]:
    def mode(*args: Any) -> float:
        counts: dict[float, int] = {}
        for arg in args:
            for v in _flat(arg):
                if v.__class__ is float:
                    counts[v] = counts.get(v, 0) + 1
                elif isinstance(v, XlError):
                    raise ExcelError(v)
                elif strict and _shape(arg) == (1, 1):
                    raise ExcelError(VALUE)
        best, top = 0.0, 1
        for x, c in counts.items():
            if c > top:
                best, top = x, c
        if top < 2:
            raise ExcelError(NA)
        return best

    mode.__doc__ = """MODE(number1, ...), MODE.SNGL: the most frequent number, the first met on a tie; #N/A when
    none repeats. Only numbers count; MODE (``strict``) gives #VALUE! for a typed or single-cell
    argument that is not a number, MODE.SNGL ignores it (Microsoft, "MODE.SNGL function"; Excel's
    results for the difference)."""
    return mode


def _each(fn: Callable[[Any], Any], arg: Any) -> Any:
    """``fn`` of a scalar argument, element by element when ``arg`` is an array or range."""
    return elementwise(fn)(arg)


def _error_first(arg: Any) -> None:
    """Raise the error of a single-value argument: Excel checks it before the array's values."""
    if _shape(arg) == (1, 1):
        v = _flat(arg)[0]
        if isinstance(v, XlError):
            raise ExcelError(v)


def _kth(array: Any, k: Any, largest: bool) -> Any:
    _error_first(k)
    xs = sorted(_collect([array]), reverse=largest)

    def pick(kv: Any) -> float:
        i = math.ceil(to_number(kv))
        if i < 1 or i > len(xs):
            raise ExcelError(NUM)
        return xs[i - 1]

    return _each(pick, k)


def _large(array: Any, k: Any) -> Any:
    """LARGE(array, k): the k-th largest number (Microsoft, "LARGE function")."""
    return _kth(array, k, True)


def _small(array: Any, k: Any) -> Any:
    """SMALL(array, k): the k-th smallest number (Microsoft, "SMALL function")."""
    return _kth(array, k, False)


def _rank(number: Any, ref: Any, order: Any = None) -> Any:
    """RANK(number, ref, [order]): 1 + count of numbers beyond it, descending unless order is
    non-zero; #N/A when it is not in ref (Microsoft, "RANK.EQ function")."""
    _error_first(number)
    xs = _collect([ref])
    ascending = order is not None and to_number(order) != 0.0

    def rank(nv: Any) -> float:
        x = to_number(nv)
        if x not in xs:
            raise ExcelError(NA)
        return float(1 + sum(1 for y in xs if (y < x if ascending else y > x)))

    return _each(rank, number)


def _interpolated(array: Any, k: Any, fraction: Callable[[float], float]) -> Any:
    """The value at rank (n-1)*p of the sorted numbers, interpolated, with p = fraction(k) (#NUM!
    out of 0..1); errors: k's own first, then the array's, then k's range."""
    _error_first(k)
    xs = sorted(_nonempty([array]))

    def at(kv: Any) -> float:
        p = fraction(to_number(kv))
        if not 0.0 <= p <= 1.0:
            raise ExcelError(NUM)
        h = (len(xs) - 1) * p
        i = math.floor(h)
        return xs[i] if i + 1 >= len(xs) else xs[i] + (h - i) * (xs[i + 1] - xs[i])

    return _each(at, k)


def _percentile(array: Any, k: Any) -> Any:
    """PERCENTILE.INC(array, k): linear interpolation at rank (n-1)*k, 0 <= k <= 1
    (Microsoft, "PERCENTILE.INC function")."""
    return _interpolated(array, k, lambda p: p)


def _quartile(array: Any, quart: Any) -> Any:
    """QUARTILE.INC(array, quart) = PERCENTILE.INC(array, INT(quart)/4), 0 <= quart <= 4
    (Microsoft, "QUARTILE.INC function")."""
    return _interpolated(array, quart, lambda q: -1.0 if not 0.0 <= q <= 4.0 else float(int(q)) / 4.0)


# ----------------------------------------------------------------------------- two arrays
def _pairs(array1: Any, array2: Any) -> tuple[list[float], list[float]]:
    """The (x, y) pairs where both values are numbers; #N/A when the arrays differ in size."""
    a, b = _flat(array1), _flat(array2)
    if len(a) != len(b):
        raise ExcelError(NA)
    xs, ys = [], []
    for x, y in zip(a, b, strict=True):
        if isinstance(x, XlError):
            raise ExcelError(x)
        if isinstance(y, XlError):
            raise ExcelError(y)
        if x.__class__ is float and y.__class__ is float:
            xs.append(x)
            ys.append(y)
    return xs, ys


def _codev(xs: list[float], ys: list[float]) -> float:
    mx, my = _total(xs) / len(xs), _total(ys) / len(ys)
    return _total([(x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)])


def _covariance(sample: bool) -> Callable[..., float]:
    def cov(array1: Any, array2: Any) -> float:
        xs, ys = _pairs(array1, array2)
        if len(xs) < (2 if sample else 1):
            raise ExcelError(DIV0)
        return _codev(xs, ys) / (len(xs) - 1 if sample else len(xs))

    cov.__doc__ = "COVARIANCE.S / .P = sum((x-mx)(y-my)) / (n-1) or / n (Microsoft, \"COVARIANCE.S function\")."
    return cov


def _correl(array1: Any, array2: Any) -> float:
    """CORREL(array1, array2) = cov(x, y) / (sx sy) (Microsoft, "CORREL function")."""
    xs, ys = _pairs(array1, array2)
    if not xs:
        raise ExcelError(DIV0)
    sxx, syy = _devsq_of(xs), _devsq_of(ys)
    if sxx == 0.0 or syy == 0.0:
        raise ExcelError(DIV0)
    return _codev(xs, ys) / math.sqrt(sxx * syy)


# ----------------------------------------------------------------------------- SUBTOTAL
_VAR_S, _VAR_P, _STDEV_S, _STDEV_P = _variance(True), _variance(False), _stdev(True), _stdev(False)
_SUBTOTALS: dict[int, Callable[..., Any]] = {
    1: _average, 2: _count, 3: _counta, 4: _max, 5: _min, 6: _product, 7: _STDEV_S, 8: _STDEV_P, 9: _sum,
    10: _VAR_S, 11: _VAR_P,
}


def _subtotal(function_num: Any, *refs: Any) -> Any:
    """SUBTOTAL(function_num, ref1, ...): 1-11 (and 101-111) AVERAGE, COUNT, COUNTA, MAX, MIN,
    PRODUCT, STDEV, STDEVP, SUM, VAR, VARP (Microsoft, "SUBTOTAL function")."""
    n = to_int(function_num)
    fn = _SUBTOTALS.get(n % 100 if n > 100 else n)
    if fn is None:
        raise ExcelError(VALUE)
    return fn(*refs)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "SUM": _sum, "AVERAGE": _average, "AVERAGEA": _averagea, "MIN": _min, "MINA": _mina, "MAX": _max,
    "MAXA": _maxa, "COUNT": _count, "COUNTA": _counta, "PRODUCT": _product,
    "SUMPRODUCT": _sumproduct, "SUMSQ": _sumsq,
    "STDEV": _STDEV_S, "STDEV.S": _STDEV_S, "STDEV.P": _STDEV_P, "STDEVP": _STDEV_P,
    "STDEVA": _stdev(True, True), "STDEVPA": _stdev(False, True),
    "VAR": _VAR_S, "VAR.S": _VAR_S, "VAR.P": _VAR_P, "VARP": _VAR_P,
    "VARA": _variance(True, True), "VARPA": _variance(False, True),
    "MEDIAN": _median, "MODE": _mode(True), "MODE.SNGL": _mode(False), "LARGE": _large, "SMALL": _small,
    "RANK": _rank, "RANK.EQ": _rank, "PERCENTILE": _percentile, "PERCENTILE.INC": _percentile,
    "QUARTILE": _quartile, "QUARTILE.INC": _quartile, "AVEDEV": _avedev, "DEVSQ": _devsq, "GEOMEAN": _geomean,
    "SUBTOTAL": _subtotal, "CORREL": _correl, "COVARIANCE.S": _covariance(True), "COVARIANCE.P": _covariance(False),
}
