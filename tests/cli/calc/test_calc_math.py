"""Aggregate, arithmetic and information functions of the calculation engine.

Expected values come from Microsoft's documented examples (support.microsoft.com, "<NAME>
function") and from Excel's cached values in the corpus workbooks (book, sheet and cell named).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from xl_var_cli.workbook.calc.functions import aggregate, arithmetic, conditional, info
from xl_var_cli.workbook.calc.operands import DIV0, NA, NAME, NUM, REF, VALUE, ExcelError, Grid, Ref, XlError

F = {**aggregate.FUNCTIONS, **conditional.FUNCTIONS, **arithmetic.FUNCTIONS, **info.FUNCTIONS}


class _Book:
    """A stand-in book: one sheet "S" of given rows (1-based), blank outside them."""

    def __init__(self, rows: list[list[Any]]) -> None:
        self.rows = rows

    def value(self, sheet: str, row: int, col: int) -> Any:
        return self.block(sheet, row, col, row, col)[0][0]

    def block(self, sheet: str, r1: int, c1: int, r2: int, c2: int) -> list[list[Any]]:
        def get(r: int, c: int) -> Any:
            if r - 1 < len(self.rows) and c - 1 < len(self.rows[r - 1]):
                return self.rows[r - 1][c - 1]
            return None

        return [[get(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

    def extent(self, sheet: str) -> tuple[int, int]:
        return len(self.rows), max(len(r) for r in self.rows)


def col(*values: Any) -> Ref:
    """A one-column reference holding ``values``."""
    return Ref(_Book([[v] for v in values]), "S", 1, 1, len(values), 1)


def row(*values: Any) -> Ref:
    return Ref(_Book([list(values)]), "S", 1, 1, 1, len(values))


def call(name: str, *args: Any) -> Any:
    """The function's result, an error raised inside it as its value."""
    try:
        return F[name](*args)
    except ExcelError as exc:
        return exc.error


def approx(x: Any) -> Any:
    return pytest.approx(x, rel=1e-12, abs=1e-15)


# ----------------------------------------------------------------------------- rounding
@pytest.mark.parametrize(("name", "args", "expected"), [
    # Microsoft, "ROUND function", "ROUNDUP function", "ROUNDDOWN function", "TRUNC function", "INT function"
    ("ROUND", (2.15, 1.0), 2.2), ("ROUND", (2.149, 1.0), 2.1), ("ROUND", (-1.475, 2.0), -1.48),
    ("ROUND", (21.5, -1.0), 20.0), ("ROUND", (626.3, -3.0), 1000.0), ("ROUND", (1.98, -1.0), 0.0),
    ("ROUND", (-50.55, -2.0), -100.0), ("ROUND", (2.675, 2.0), 2.68), ("ROUND", (0.285, 2.0), 0.29),
    ("ROUND", (1e300, -2.0), 1e300), ("ROUND", ("2.5", None), 3.0),
    ("ROUNDUP", (3.2, 0.0), 4.0), ("ROUNDUP", (76.9, 0.0), 77.0), ("ROUNDUP", (3.14159, 3.0), 3.142),
    ("ROUNDUP", (-3.14159, 1.0), -3.2), ("ROUNDUP", (31415.92654, -2.0), 31500.0), ("ROUNDUP", (0.1 + 0.2, 1.0), 0.3),
    ("ROUNDDOWN", (3.2, 0.0), 3.0), ("ROUNDDOWN", (-3.14159, 1.0), -3.1),
    ("ROUNDDOWN", (31415.92654, -2.0), 31400.0), ("TRUNC", (8.9,), 8.0), ("TRUNC", (-8.9,), -8.0),
    ("TRUNC", (0.45,), 0.0), ("INT", (8.9,), 8.0), ("INT", (-8.9,), -9.0),
    ("MROUND", (10.0, 3.0), 9.0), ("MROUND", (-10.0, -3.0), -9.0), ("MROUND", (1.3, 0.2), 1.4),
    ("MROUND", (5.0, -2.0), NUM), ("MROUND", (True, 1.0), VALUE),
    ("CEILING", (2.5, 1.0), 3.0), ("CEILING", (-2.5, -2.0), -4.0), ("CEILING", (-2.5, 2.0), -2.0),
    ("CEILING", (1.5, 0.1), 1.5), ("CEILING", (0.234, 0.01), 0.24), ("CEILING", (2.5, -1.0), NUM),
    ("FLOOR", (3.7, 2.0), 2.0), ("FLOOR", (-2.5, -2.0), -2.0), ("FLOOR", (2.5, -2.0), NUM),
    ("FLOOR", (1.58, 0.1), 1.5), ("FLOOR", (0.234, 0.01), 0.23), ("FLOOR", (1.0, 0.0), DIV0),
    ("CEILING.MATH", (24.3, 5.0), 25.0), ("CEILING.MATH", (6.7,), 7.0), ("CEILING.MATH", (-8.1, 2.0), -8.0),
    ("CEILING.MATH", (-5.5, 2.0, -1.0), -6.0), ("FLOOR.MATH", (24.3, 5.0), 20.0), ("FLOOR.MATH", (6.7,), 6.0),
    ("FLOOR.MATH", (-8.1, 2.0), -10.0), ("FLOOR.MATH", (-5.5, 2.0, -1.0), -4.0),
    ("EVEN", (1.5,), 2.0), ("EVEN", (3.0,), 4.0), ("EVEN", (2.0,), 2.0), ("EVEN", (-1.0,), -2.0),
    ("ODD", (1.5,), 3.0), ("ODD", (3.0,), 3.0), ("ODD", (2.0,), 3.0), ("ODD", (-1.0,), -1.0), ("ODD", (-2.0,), -3.0),
    ("ODD", (0.0,), 1.0), ("EVEN", (0.0,), 0.0),
])
def test_rounding(name: str, args: tuple[Any, ...], expected: Any) -> None:
    got = call(name, *args)
    assert got == (expected if isinstance(expected, XlError) else approx(expected))
    assert got.__class__ in (float, XlError)


# ----------------------------------------------------------------------------- arithmetic
@pytest.mark.parametrize(("name", "args", "expected"), [
    ("MOD", (3.0, 2.0), 1.0), ("MOD", (-3.0, 2.0), 1.0), ("MOD", (3.0, -2.0), -1.0), ("MOD", (-3.0, -2.0), -1.0),
    ("MOD", (1.0, 0.0), DIV0), ("QUOTIENT", (5.0, 2.0), 2.0), ("QUOTIENT", (4.5, 3.1), 1.0),
    ("QUOTIENT", (-10.0, 3.0), -3.0), ("POWER", (5.0, 2.0), 25.0), ("POWER", (98.6, 3.2), 2401077.2220695773),
    ("POWER", (4.0, 1.25), 5.656854249492381), ("POWER", (0.0, 0.0), NUM), ("POWER", (-8.0, 1 / 3), NUM),
    ("POWER", (0.0, -1.0), DIV0), ("POWER", (-2.0, 3.0), -8.0), ("POWER", (10.0, 400.0), NUM),
    ("SQRT", (16.0,), 4.0), ("SQRT", (-16.0,), NUM), ("SQRTPI", (2.0,), 2.5066282746310002),
    ("EXP", (1.0,), math.e), ("EXP", (1000.0,), NUM), ("LN", (86.0,), 4.454347296253507), ("LN", (0.0,), NUM),
    ("LOG", (10.0,), 1.0), ("LOG", (8.0, 2.0), 3.0), ("LOG", (86.0, 2.7182818), 4.454347342888),
    ("LOG", (2.0, 1.0), DIV0),
    ("LOG10", (1e5,), 5.0), ("PI", (), math.pi), ("FACT", (5.0,), 120.0), ("FACT", (1.9,), 1.0),
    ("FACT", (0.0,), 1.0), ("FACT", (-1.0,), NUM), ("COMBIN", (8.0, 2.0), 28.0), ("COMBIN", (2.0, 3.0), NUM),
    ("GCD", (5.0, 2.0), 1.0), ("GCD", (24.0, 36.0), 12.0), ("GCD", (5.0, 0.0), 5.0), ("GCD", (-1.0,), NUM),
    ("LCM", (5.0, 2.0), 10.0), ("LCM", (24.0, 36.0), 72.0), ("ABS", (-4.0,), 4.0), ("SIGN", (-0.00001,), -1.0),
    ("SIGN", (0.0,), 0.0), ("RADIANS", (270.0,), 4.71238898038469), ("DEGREES", (math.pi,), 180.0),
    ("SIN", (math.pi / 2,), 1.0), ("SIN", (1e10,), NUM), ("COS", (0.0,), 1.0), ("TAN", (0.785,), 0.99920399010834),
    ("ASIN", (2.0,), NUM), ("ACOS", (-0.5,), 2.0943951023932), ("ATAN", (1.0,), 0.785398163397448),
    ("ATAN2", (1.0, 1.0), 0.785398163397448), ("ATAN2", (-1.0, -1.0), -2.35619449019234), ("ATAN2", (0.0, 0.0), DIV0),
    ("SINH", (1.0,), 1.1752011936438), ("COSH", (4.0,), 27.3082328360165), ("TANH", (0.5,), 0.46211715726001),
    ("COSH", (1000.0,), NUM), ("ABS", ("x",), VALUE), ("ABS", (NA,), NA),
])
def test_arithmetic(name: str, args: tuple[Any, ...], expected: Any) -> None:
    got = call(name, *args)
    assert got == (expected if isinstance(expected, XlError) else pytest.approx(expected, rel=1e-9))
    assert got.__class__ in (float, XlError)


def test_power_is_public_and_elementwise_arrays() -> None:
    assert arithmetic.power(2.0, 10.0) == 1024.0
    assert F["ROUND"](Grid([[1.25, 2.5]]), 1.0) == Grid([[1.3, 2.5]])
    assert F["SQRT"](col(4.0, -1.0, "x")) == Grid([[2.0], [NUM], [VALUE]])


def test_corpus_atp_functions_reject_logicals_and_blanks() -> None:
    # formulas_test.xlsx, MATH & TRIG: W34 GCD(blank) #VALUE!, X34 GCD("ciao") #VALUE!, Y34 GCD(-0.4, TRUE) #VALUE!,
    # U34 GCD(-0.4) #NUM!, AU34 GCD(P34:AC34, ...) #NUM! (first error), Y70 SQRTPI(TRUE) #VALUE!, W70 SQRTPI(blank) 0
    assert call("GCD", col(None)) is VALUE
    assert call("GCD", col("ciao")) is VALUE
    assert call("GCD", col(-0.4), col(True)) is VALUE
    assert call("GCD", col(-0.4)) is NUM
    assert call("GCD", row(NUM, REF, 0.0, 5.0)) is NUM
    assert call("LCM", col(0.0), col(63.0), col(15.7)) == 0.0
    assert call("SQRTPI", col(True)) is VALUE
    assert call("SQRTPI", col(None)) == 0.0


# ----------------------------------------------------------------------------- aggregates
def test_sum_family() -> None:
    data = col(1.0, "2", True, None, 4.0)
    assert F["SUM"](data, "3", True) == 9.0  # typed text and logicals count, in a range they do not
    assert F["SUM"](data, col(NA)) is NA
    assert call("SUM", "x") is VALUE
    assert F["SUM"](col(0.1, 0.2, 0.3)) == 0.1 + 0.2 + 0.3  # left to right, not math.fsum
    assert F["COUNT"](data, "5", True, "x", NA) == 4.0
    assert F["COUNTA"](data, NA) == 5.0
    assert F["COUNTBLANK"](col(1.0, None, "", "a")) == 2.0
    assert F["AVERAGE"](data) == 2.5
    assert F["AVERAGEA"](data) == 1.5  # (1 + 0 + 1 + 4) / 4
    assert call("AVERAGE", col("a")) is DIV0
    assert F["MIN"](data) == 1.0 and F["MAX"](data) == 4.0 and F["MAX"](col("a")) == 0.0
    assert F["MINA"](col(1.0, "a", True)) == 0.0 and F["MAXA"](col(-1.0, True)) == 1.0
    assert F["PRODUCT"](col(5.0, 15.0, 30.0), 2.0) == 4500.0 and F["PRODUCT"](col(None)) == 0.0
    assert F["SUMSQ"](3.0, 4.0) == 25.0


def test_whole_column_reads_only_used_rows() -> None:
    ref = col(1.0, 2.0, None)
    whole = Ref(ref.book, "S", 1, 1, 1048576, 1)
    assert F["SUM"](whole) == 3.0
    assert F["COUNTBLANK"](whole) == 1048574.0
    assert F["COUNTIF"](whole, "") == 1048574.0
    assert F["SUMIF"](whole, ">1") == 2.0


def test_sumproduct() -> None:
    # Microsoft, "SUMPRODUCT function": =SUMPRODUCT(C2:C5,D2:D5) = 78.97
    assert F["SUMPRODUCT"](col(3.0, 4.0, 8.0, 6.0), col(4.0, 1.0, 0.5, 11.5)) == pytest.approx(3*4 + 4 + 4 + 69)
    assert F["SUMPRODUCT"](col(1.0, "a", True), col(2.0, 3.0, 4.0)) == 2.0
    assert call("SUMPRODUCT", col(1.0, 2.0), col(1.0, 2.0, 3.0)) is VALUE
    # poi_formula_eval_testdata.xlsx, EverythingTests J1328: SUMPRODUCT(G1330:G1330, I1330:I1330) with "4" and 2
    assert call("SUMPRODUCT", col("4"), col(2.0)) is VALUE
    # formulas_test.xlsx, MATH & TRIG AE75: an error in the arrays comes before the shape mismatch
    assert call("SUMPRODUCT", row(NUM, REF), row(None, "x"), row("x", True, VALUE)) is NUM


def test_statistics() -> None:
    # Microsoft, "STDEV.S function": strength data, STDEV.S = 27.46391572, STDEV.P = 26.05455814
    data = col(1345.0, 1301.0, 1368.0, 1322.0, 1310.0, 1370.0, 1318.0, 1350.0, 1303.0, 1299.0)
    assert F["STDEV.S"](data) == pytest.approx(27.46391572)
    assert F["STDEV"](data) == pytest.approx(27.46391572)
    assert F["STDEV.P"](data) == pytest.approx(26.05455814)
    assert F["VAR.S"](data) == pytest.approx(754.2666667)
    assert F["VARP"](data) == pytest.approx(678.84)
    assert call("VAR", 1.0) is DIV0
    nums = col(1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
    assert F["MEDIAN"](row(1.0, 2.0, 3.0, 4.0, 5.0)) == 3.0 and F["MEDIAN"](nums) == 3.5
    assert F["MODE"](col(5.6, 4.0, 4.0, 3.0, 2.0, 4.0)) == 4.0
    assert call("MODE", col(1.0, 2.0)) is NA
    # poi_formula_eval_testdata.xlsx, EverythingTests H936/M936: MODE(B8,"1",2,3) and MODE(2,2,<blank cell>) #VALUE!;
    # formulas_test.xlsx, STATISTICAL S71/Y71: MODE.SNGL ignores them
    assert call("MODE", 1.0, "1", 2.0, 3.0) is VALUE and call("MODE", 2.0, 2.0, col(None)) is VALUE
    assert F["MODE.SNGL"](row(0.1, 0.2), row(0.2, 0.3), "") == 0.2
    assert F["LARGE"](row(3.0, 5.0, 3.0, 5.0, 4.0), 3.0) == 4.0 and F["SMALL"](nums, 4.0) == 4.0
    assert F["LARGE"](nums, Grid([[1.0, 2.0]])) == Grid([[6.0, 5.0]])
    assert call("LARGE", nums, 7.0) is NUM
    # formulas_test.xlsx, STATISTICAL AA57: LARGE($C57:$K57, L57): k's error before the array's
    assert call("LARGE", row(0.1, VALUE), col(NA)) is NA
    assert F["RANK"](7.0, col(7.0, 3.5, 3.5, 1.0, 2.0), 1.0) == 5.0 and F["RANK.EQ"](2.0, col(7.0, 3.5, 2.0)) == 3.0
    assert call("RANK", 9.0, col(7.0)) is NA
    assert F["PERCENTILE"](col(1.0, 3.0, 2.0, 4.0), 0.3) == pytest.approx(1.9)
    assert F["PERCENTILE.INC"](col(1.0, 3.0, 2.0, 4.0), 1.0) == 4.0 and call("PERCENTILE", nums, 1.5) is NUM
    quart = col(1.0, 2.0, 4.0, 7.0, 8.0, 9.0, 10.0, 12.0)
    assert F["QUARTILE"](quart, 1.0) == 3.5 and call("QUARTILE.INC", quart, 4.9) is NUM
    # formulas_test.xlsx, STATISTICAL U88/COMPATIBILITY U32: QUARTILE(range, -0.1) #NUM! (checked before truncation)
    assert call("QUARTILE", quart, -0.1) is NUM
    assert F["AVEDEV"](col(4.0, 5.0, 6.0, 7.0, 5.0, 4.0, 3.0)) == pytest.approx(1.020408163)
    assert F["DEVSQ"](col(4.0, 5.0, 8.0, 7.0, 11.0, 4.0, 3.0)) == pytest.approx(48.0)
    assert F["GEOMEAN"](col(4.0, 5.0, 8.0, 7.0, 11.0, 4.0, 3.0)) == pytest.approx(5.476986969)
    assert call("GEOMEAN", col(1.0, -1.0)) is NUM and call("AVEDEV", col("a")) is NUM


def test_two_array_statistics() -> None:
    # Microsoft, "CORREL function": 0.997054486; "COVARIANCE.P function": 5.2; "COVARIANCE.S function": 9.666666667
    assert F["CORREL"](col(3.0, 2.0, 4.0, 5.0, 6.0), col(9.0, 7.0, 12.0, 15.0, 17.0)) == pytest.approx(0.997054486)
    assert F["COVARIANCE.P"](col(3.0, 2.0, 4.0, 5.0, 6.0), col(9.0, 7.0, 12.0, 15.0, 17.0)) == pytest.approx(5.2)
    assert F["COVARIANCE.S"](row(2.0, 4.0, 8.0), row(5.0, 11.0, 12.0)) == pytest.approx(9.666666667)
    assert call("CORREL", col(1.0, 2.0), col(1.0)) is NA
    # formulas_test.xlsx, STATISTICAL Y26: COVARIANCE.P(J26:L26, L26:N26) = #N/A (pairs checked in order)
    assert call("COVARIANCE.P", row(True, VALUE, NA), row(NA, DIV0, NAME)) is NA
    # formulas_test.xlsx, STATISTICAL T27: COVARIANCE.S of one numeric pair is #DIV/0!
    assert call("COVARIANCE.S", row(0.2, 0.3, -0.1), row(-0.1, None, "x")) is DIV0


def test_subtotal() -> None:
    data = col(120.0, 10.0, 150.0, 23.0)
    assert F["SUBTOTAL"](9.0, data) == 303.0
    assert F["SUBTOTAL"](1.0, data) == 75.75
    assert F["SUBTOTAL"](109.0, data) == 303.0
    assert call("SUBTOTAL", 12.0, data) is VALUE


# ----------------------------------------------------------------------------- criteria
def test_countif_documented_examples() -> None:
    # Microsoft, "COUNTIF function"
    fruit, counts = col("apples", "oranges", "peaches", "apples"), col(32.0, 54.0, 75.0, 86.0)
    assert F["COUNTIF"](fruit, "apples") == 2.0
    assert F["COUNTIF"](fruit, "APPLES") == 2.0
    assert F["COUNTIF"](counts, ">55") == 2.0
    assert F["COUNTIF"](counts, "<>75") == 3.0
    assert F["COUNTIF"](counts, ">=32") - F["COUNTIF"](counts, ">85") == 3.0
    assert F["COUNTIF"](fruit, "*") == 4.0
    assert F["COUNTIF"](fruit, "?????es") == 2.0
    assert F["COUNTIF"](fruit, Grid([["apples", "peaches"]])) == Grid([[2.0, 1.0]])


def test_criteria_rules() -> None:
    cells = col(1.0, "1", None, "", "a*b", "axb", True, NA, 2.0)
    assert F["COUNTIF"](cells, 1.0) == 2.0  # the number and the number text
    assert F["COUNTIF"](cells, ">=1") == 2.0  # only numbers for < and >
    assert F["COUNTIF"](cells, "") == 2.0  # empty and "" cells
    assert F["COUNTIF"](cells, "=") == 1.0  # empty cells only
    assert F["COUNTIF"](cells, "<>") == 8.0  # every non-empty cell
    assert F["COUNTIF"](cells, "a~*b") == 1.0 and F["COUNTIF"](cells, "a*b") == 2.0
    assert F["COUNTIF"](cells, "<>a*") == 7.0
    assert F["COUNTIF"](cells, True) == 1.0 and F["COUNTIF"](cells, "TRUE") == 1.0
    assert F["COUNTIF"](cells, "#N/A") == 1.0 and F["COUNTIF"](cells, NA) == 1.0
    assert F["COUNTIF"](cells, ">a") == 2.0  # text after "a": "a*b", "axb"
    # formulas_test.xlsx, STATISTICAL W24: COUNTIF(H24:I24, H24) with H24 empty, I24 "ciao" = 0 (empty criteria is 0)
    assert F["COUNTIF"](row(None, "ciao"), None) == 0.0
    # formulas_test.xlsx, STATISTICAL Y24: COUNTIF(I24:J24, "<=TRUE") with "ciao", TRUE = 1
    assert F["COUNTIF"](row("ciao", True), "<=TRUE") == 1.0


def test_sumif_and_ifs() -> None:
    # Microsoft, "SUMIF function": property values and commissions
    values, commission = col(100000.0, 200000.0, 300000.0, 400000.0), col(7000.0, 14000.0, 21000.0, 28000.0)
    assert F["SUMIF"](values, ">160000", commission) == 63000.0
    assert F["SUMIF"](values, ">160000") == 900000.0
    assert F["SUMIF"](values, 300000.0, commission) == 21000.0
    # the sum range takes the criteria range's shape from its top-left cell
    book = _Book([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    crit, top = Ref(book, "S", 1, 1, 3, 1), Ref(book, "S", 1, 2, 1, 2)
    assert F["SUMIF"](crit, ">1", top) == 50.0
    assert F["AVERAGEIF"](crit, ">1", top) == 25.0 and call("AVERAGEIF", crit, ">5", top) is DIV0
    # Microsoft, "SUMIFS function": apples/bananas sold by Tom and Sarah
    qty = col(5.0, 4.0, 15.0, 3.0, 22.0, 12.0, 10.0, 33.0)
    product = col("Apples", "Apples", "Artichokes", "Artichokes", "Bananas", "Bananas", "Carrots", "Carrots")
    seller = col("Tom", "Sarah", "Tom", "Sarah", "Tom", "Sarah", "Tom", "Sarah")
    assert F["SUMIFS"](qty, product, "=A*", seller, "Tom") == 20.0
    assert F["SUMIFS"](qty, product, "<>Bananas", seller, "Tom") == 30.0
    assert F["COUNTIFS"](product, "=A*", seller, "Tom") == 2.0
    assert F["AVERAGEIFS"](qty, seller, "Sarah") == 13.0
    assert F["MAXIFS"](qty, seller, "Sarah") == 33.0 and F["MINIFS"](qty, seller, "Tom") == 5.0
    assert F["MAXIFS"](qty, seller, "Nobody") == 0.0
    assert call("SUMIFS", qty, col("a", "b")) is VALUE
    # formulas_test.xlsx, STATISTICAL Y6: AVERAGEIF(I6:J6, "<=TRUE", F6:G6) with "ciao", TRUE and 10, -1 = -1
    assert F["AVERAGEIF"](row("ciao", True), "<=TRUE", row(10.0, -1.0)) == -1.0
    # poi_formula_eval_testdata.xlsx, EverythingTests E1324: an error criterion matches that error
    errors = col(NA, VALUE, DIV0)
    assert F["SUMIF"](errors, VALUE, col(1.0, 1.1, 2.0)) == 1.1
    assert call("SUMIF", col(1.0, 1.0), 1.0, col(2.0, NUM)) is NUM


# ----------------------------------------------------------------------------- information and logic
def test_is_functions_take_errors_as_values() -> None:
    values = col(1.0, "1", None, "", True, NA, DIV0)
    assert F["ISNUMBER"](values) == Grid([[True], [False], [False], [False], [False], [False], [False]])
    assert F["ISTEXT"](values) == Grid([[False], [True], [False], [True], [False], [False], [False]])
    assert F["ISNONTEXT"](values) == Grid([[True], [False], [True], [False], [True], [True], [True]])
    assert F["ISBLANK"](values) == Grid([[False], [False], [True], [False], [False], [False], [False]])
    assert F["ISERROR"](values) == Grid([[False]] * 5 + [[True], [True]])
    assert F["ISERR"](NA) is False and F["ISERR"](DIV0) is True and F["ISNA"](NA) is True
    assert F["ISLOGICAL"](True) is True and F["ISLOGICAL"](1.0) is False
    assert F["ISREF"](values) is True and F["ISREF"](1.0) is False
    # formulas_test.xlsx, INFORMATION R9..AA9 and R15..AA15: ISEVEN/ISODD
    assert F["ISEVEN"](0.0) is True and F["ISEVEN"](2.3) is True and F["ISEVEN"](-1.0) is False
    assert F["ISODD"](-1.0) is True and F["ISEVEN"](None) is True
    assert call("ISEVEN", True) is VALUE and call("ISODD", NA) is NA
    assert F["ERROR.TYPE"](DIV0) == 2.0 and F["ERROR.TYPE"](NA) == 7.0 and F["ERROR.TYPE"](1.0) is NA
    assert F["NA"]() is NA


def test_logical_functions() -> None:
    # Microsoft, "AND function", "OR function", "XOR function"
    assert F["AND"](True, True) is True and F["AND"](True, False) is False
    assert F["AND"](2.0 + 3.0 == 5.0, 3.0) is True
    assert F["OR"](col(False, None, "x", 1.0)) is True
    assert F["XOR"](3.0 > 0, 2.0 < 9.0) is False and F["XOR"](3.0 > 12, 4.0 > 6) is False
    assert F["XOR"](True, False, True, True) is True
    # formulas_test.xlsx, LOGICAL AR3: AND(H3:I3) (empty, "0") = #VALUE!; AT3 AND(TRUE,"0") = TRUE;
    # AP3 AND(TRUE,"0",#REF!) = #REF!
    assert call("AND", row(None, "0")) is VALUE
    assert F["AND"](True, "0") is True
    assert call("AND", True, "0", REF) is REF
    assert F["OR"]("TRUE") is True
    assert F["NOT"](False) is True and F["NOT"](None) is True and call("NOT", "x") is VALUE
    assert F["TRUE"]() is True and F["FALSE"]() is False


def test_decimal_and_inverse_hyperbolics() -> None:
    from xl_var_cli.workbook.calc.compiler import call  # an ExcelError raised inside becomes the value

    def f(name: str, *args: Any) -> Any:
        return call(F[name], *args)

    # formulas_test.xlsx MATH & TRIG!T26: DECIMAL(111, 2) is 7 (a number is read as its digits)
    assert f("DECIMAL", 111.0, 2.0) == 7.0 and f("DECIMAL", "FF", 16.0) == 255.0
    assert f("DECIMAL", "zap", 36.0) == 45745.0
    assert f("DECIMAL", "12", 2.0) is NUM and f("DECIMAL", "1", 37.0) is NUM
    assert f("ACOSH", 1.0) == 0.0 and f("ACOSH", 0.5) is NUM and f("ASINH", 0.0) == 0.0 and f("ATANH", 1.0) is NUM
