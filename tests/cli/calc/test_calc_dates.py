"""Date/time and engineering functions of the calc engine against Microsoft's documented examples and
the values Excel cached in the workbook corpus (``shared/excel-corpus``)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from xl_var_cli.workbook.calc.functions.dates import FUNCTIONS as DATES
from xl_var_cli.workbook.calc.functions.engineering import FUNCTIONS as ENGINEERING
from xl_var_cli.workbook.calc.operands import DIV0, NA, NUM, VALUE, ExcelError, Grid, XlError

F = {**DATES, **ENGINEERING}
CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "excel-corpus"


def call(name: str, *args: Any) -> Any:
    try:
        return F[name](*args)
    except ExcelError as exc:
        return exc.error


def D(y: int, m: int, d: int) -> float:
    return call("DATE", float(y), float(m), float(d))


# ----------------------------------------------------------------------------- Microsoft's examples
@pytest.mark.parametrize(("args", "expected"), [
    ((2008, 1, 2), 39449.0), ((2008, 14, 2), 39846.0), ((2008, -3, 2), 39327.0), ((2008, 1, 35), 39482.0),
    ((2008, 1, -15), 39432.0), ((108, 1, 2), 39449.0), ((1900, 2, 29), 60.0), ((1900, 3, 0), 60.0),
    ((0, 1, 0), 0.0), ((1, 0, 0), 335.0), ((-1, 1, 1), NUM), ((10000, 1, 1), NUM), ((9999, 12, 31), 2958465.0),
])
def test_date(args: tuple[int, int, int], expected: Any) -> None:
    assert call("DATE", *map(float, args)) == expected


def test_parts_of_dates_and_times() -> None:
    assert call("YEAR", "7/5/2008") == 2008.0
    assert (call("MONTH", "15-Apr-2011"), call("DAY", "15-Apr-2011")) == (4.0, 15.0)
    assert (call("YEAR", 60.0), call("MONTH", 60.0), call("DAY", 60.0)) == (1900.0, 2.0, 29.0)
    assert (call("DAY", 0.0), call("MONTH", 0.0), call("YEAR", -1.0)) == (0.0, 1.0, NUM)
    assert call("YEAR", 2958466.0) == NUM
    assert (call("HOUR", 0.75), call("HOUR", "7/18/2011 7:45"), call("HOUR", "4/21/2012")) == (18.0, 7.0, 0.0)
    assert (call("MINUTE", "12:45:00 PM"), call("SECOND", "4:48:18 PM"), call("SECOND", "4:48 PM")) == (45, 18, 0)
    assert call("TIME", 12.0, 0.0, 0.0) == 0.5
    assert call("TIME", 16.0, 48.0, 10.0) == pytest.approx(0.700115741)
    assert (call("TIME", 0.0, 0.0, -1.0), call("TIME", 32768.0, 0.0, 0.0)) == (NUM, NUM)
    assert call("TIME", 25.0, 0.0, 0.0) == pytest.approx(1 / 24)
    assert call("YEAR", NA) is NA and call("HOUR", "x") is VALUE
    assert isinstance(call("NOW"), float) and call("TODAY") == float(int(call("NOW")))


def test_datevalue_timevalue() -> None:
    assert call("DATEVALUE", "8/22/2011") == 40777.0
    assert call("DATEVALUE", "22-MAY-2011") == 40685.0
    assert call("DATEVALUE", "2011/02/23") == 40597.0
    assert call("DATEVALUE", "January 31, 2020") == call("DATEVALUE", "2020-01-31 10:00") == 43861.0
    this_year = float(dt.date.today().year)
    assert call("YEAR", call("DATEVALUE", "5-JUL")) == this_year
    assert call("DATEVALUE", "2/29/1900") == 60.0
    assert [call("DATEVALUE", v) for v in ("5", "1/1/1899", "2/30/2020", "x", 40777.0)] == [VALUE] * 5
    assert call("TIMEVALUE", "2:24 AM") == pytest.approx(0.1)
    assert call("TIMEVALUE", "22-Aug-2011 6:35 AM") == pytest.approx(0.27430556)
    assert (call("TIMEVALUE", "12:00 PM"), call("TIMEVALUE", "12:00 AM"), call("TIMEVALUE", "1/1/2020")) == (0.5, 0, 0)
    assert call("TIMEVALUE", "x") is VALUE


def test_weeks() -> None:
    feb14 = D(2008, 2, 14)
    assert [call("WEEKDAY", feb14, t) for t in (None, 2.0, 3.0, 11.0, 17.0)] == [5.0, 4.0, 3.0, 4.0, 5.0]
    assert (call("WEEKDAY", 1.0), call("WEEKDAY", feb14, 4.0)) == (1.0, NUM)
    assert (call("WEEKNUM", D(2012, 3, 9)), call("WEEKNUM", D(2012, 3, 9), 2.0)) == (10.0, 11.0)
    assert call("WEEKNUM", D(2021, 1, 1), 21.0) == 53.0
    assert call("ISOWEEKNUM", D(2012, 3, 9)) == 10.0
    assert call("ISOWEEKNUM", 1.0) == 52.0


def test_months_and_differences() -> None:
    assert [call("EDATE", D(2011, 1, 15), m) for m in (1.0, -1.0, 2.0)] == [40589.0, 40527.0, 40617.0]
    assert call("EDATE", D(2011, 1, 31), 1.0) == D(2011, 2, 28)
    assert (call("EDATE", D(2011, 1, 15), True), call("EDATE", 1.0, -1.0)) == (VALUE, NUM)
    assert (call("EOMONTH", D(2011, 1, 1), 1.0), call("EOMONTH", D(2011, 1, 1), -3.0)) == (40602.0, 40482.0)
    start, end = D(2001, 6, 1), D(2002, 8, 15)
    units = ("D", "YD", "MD", "M", "Y", "YM")
    assert [call("DATEDIF", start, end, u) for u in units] == [440.0, 75.0, 14.0, 14.0, 1.0, 2.0]
    assert call("DATEDIF", D(2001, 1, 1), D(2003, 1, 1), "y") == 2.0
    assert call("DATEDIF", D(2015, 1, 31), D(2015, 3, 1), "MD") == -2.0
    assert (call("DATEDIF", end, start, "D"), call("DATEDIF", start, end, "X")) == (NUM, NUM)
    assert (call("DAYS", "15-MAR-2021", "1-FEB-2021"), call("DAYS", D(2021, 12, 31), D(2021, 1, 1))) == (42, 364)
    assert call("DAYS360", D(2011, 1, 30), D(2011, 2, 1)) == 1.0
    assert call("DAYS360", D(2011, 1, 1), D(2011, 12, 31)) == 360.0
    assert call("DAYS360", D(2011, 2, 28), D(2011, 3, 31)) == 30.0
    assert call("DAYS360", D(2011, 1, 1), D(2011, 12, 31), True) == 359.0


def test_yearfrac() -> None:
    start, end = D(2012, 1, 1), D(2012, 7, 30)
    assert call("YEARFRAC", start, end) == pytest.approx(0.58055556)
    assert call("YEARFRAC", start, end, 1.0) == pytest.approx(0.57650273)
    assert call("YEARFRAC", start, end, 3.0) == pytest.approx(0.57808219)
    assert call("YEARFRAC", end, start, 2.0) == call("YEARFRAC", start, end, 2.0)
    assert (call("YEARFRAC", DIV0, start, 5.0), call("YEARFRAC", start, end, True)) == (NUM, VALUE)


def test_working_days() -> None:
    start, end = D(2012, 10, 1), D(2013, 3, 1)
    holidays = Grid([[D(2012, 11, 22)], [D(2012, 12, 4)], [D(2013, 1, 21)]])
    assert (call("NETWORKDAYS", start, end), call("NETWORKDAYS", start, end, D(2012, 11, 22))) == (110.0, 109.0)
    assert call("NETWORKDAYS", start, end, holidays) == 107.0
    assert call("NETWORKDAYS.INTL", D(2006, 1, 1), D(2006, 1, 31)) == 22.0
    assert call("NETWORKDAYS.INTL", D(2006, 2, 28), D(2006, 1, 31)) == -21.0
    days = Grid([["2006/1/2", "2006/1/16"]])
    assert call("NETWORKDAYS.INTL", D(2006, 1, 1), D(2006, 2, 1), 7.0, days) == 22.0
    assert call("NETWORKDAYS.INTL", D(2006, 1, 1), D(2006, 2, 1), "0010001", days) == 20.0
    assert call("NETWORKDAYS.INTL", start, end, "001") is VALUE
    assert call("NETWORKDAYS.INTL", start, end, 8.0) is NUM
    assert call("WORKDAY", D(2008, 10, 1), 151.0) == 39933.0
    assert call("WORKDAY", D(2008, 10, 1), 151.0, Grid([[D(2008, 11, 26), D(2008, 12, 4), D(2009, 1, 21)]])) == 39938
    assert call("WORKDAY", D(2008, 10, 6), -1.0) == D(2008, 10, 3)
    assert call("WORKDAY", D(2008, 10, 4), 0.0) == D(2008, 10, 4)
    assert call("WORKDAY", D(2008, 10, 3), 1.0, D(2008, 10, 6)) == D(2008, 10, 7)
    assert call("WORKDAY.INTL", D(2012, 1, 1), 30.0, 0.0) is NUM
    assert call("WORKDAY.INTL", D(2012, 1, 1), 90.0, 11.0) == 41013.0
    assert call("WORKDAY.INTL", D(2012, 1, 1), 30.0, 17.0) == 40944.0
    assert call("WORKDAY.INTL", D(2012, 1, 1), 1.0, "1111111") is VALUE


def test_arrays_are_element_by_element() -> None:
    assert call("YEAR", Grid([[1.0, 367.0]])) == Grid([[1900.0, 1901.0]])
    assert call("NETWORKDAYS", Grid([[D(2012, 10, 1)], [NA]]), D(2012, 10, 5)) == Grid([[5.0], [NA]])


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("BIN2DEC", (1100100.0,), 100.0), ("BIN2DEC", (1111111111.0,), -1.0), ("BIN2HEX", (11111011.0, 4.0), "00FB"),
    ("BIN2HEX", (1110.0,), "E"), ("BIN2HEX", (1111111111.0,), "FFFFFFFFFF"), ("BIN2OCT", (1001.0, 3.0), "011"),
    ("BIN2OCT", (1100100.0,), "144"), ("BIN2OCT", (1111111111.0,), "7777777777"), ("DEC2BIN", (9.0, 4.0), "1001"),
    ("DEC2BIN", (-100.0,), "1110011100"), ("DEC2BIN", (512.0,), NUM), ("DEC2HEX", (100.0, 4.0), "0064"),
    ("DEC2HEX", (-54.0,), "FFFFFFFFCA"), ("DEC2HEX", (28.0,), "1C"), ("DEC2HEX", (64.0, 1.0), NUM),
    ("DEC2OCT", (58.0, 3.0), "072"), ("DEC2OCT", (-100.0,), "7777777634"), ("HEX2BIN", ("F", 8.0), "00001111"),
    ("HEX2BIN", ("B7",), "10110111"), ("HEX2BIN", ("FFFFFFFFFF",), "1111111111"), ("HEX2DEC", ("A5",), 165.0),
    ("HEX2DEC", ("FFFFFFFF5B",), -165.0), ("HEX2DEC", ("3DA408B9",), 1034160313.0), ("HEX2OCT", ("F", 3.0), "017"),
    ("HEX2OCT", ("3B4E",), "35516"), ("HEX2OCT", ("FFFFFFFF00",), "7777777400"), ("OCT2BIN", (3.0, 3.0), "011"),
    ("OCT2BIN", (7777777000.0,), "1000000000"), ("OCT2DEC", (54.0,), 44.0), ("OCT2DEC", (7777777533.0,), -165.0),
    ("OCT2HEX", (100.0, 4.0), "0040"), ("OCT2HEX", (7777777533.0,), "FFFFFFFF5B"), ("BIN2DEC", (True,), VALUE),
    ("BIN2DEC", ("102",), NUM), ("BIN2DEC", ("10000000000",), NUM), ("DEC2BIN", ("E", 0.0), NUM),
    ("BITAND", (1.0, 5.0), 1.0), ("BITAND", (13.0, 25.0), 9.0), ("BITOR", (23.0, 10.0), 31.0),
    ("BITXOR", (5.0, 3.0), 6.0), ("BITLSHIFT", (4.0, 2.0), 16.0), ("BITRSHIFT", (13.0, 2.0), 3.0),
    ("BITAND", (1.5, 1.0), NUM), ("BITAND", (2.0**48, 1.0), NUM), ("BITLSHIFT", (1.0, 48.0), NUM),
    ("BITRSHIFT", ("3.5", True), NUM), ("DELTA", (5.0, 4.0), 0.0), ("DELTA", (5.0, 5.0), 1.0),
    ("DELTA", (0.5,), 0.0), ("GESTEP", (5.0, 4.0), 1.0), ("GESTEP", (5.0, 5.0), 1.0), ("GESTEP", (-4.0, -5.0), 1.0),
    ("GESTEP", (-1.0,), 0.0),
])
def test_engineering(name: str, args: tuple[Any, ...], expected: Any) -> None:
    assert call(name, *args) == expected


# ----------------------------------------------------------------------------- Excel's cached values
_CALL = re.compile(r"^=(?:_xlfn\.)?([A-Z][A-Z0-9.]*)\((.*)\)$")


def _corpus_value(v: Any) -> Any:
    from openpyxl.utils.datetime import to_excel

    if isinstance(v, dt.datetime):
        return float(to_excel(v))
    if isinstance(v, bool) or not isinstance(v, int | float):
        return XlError(v) if isinstance(v, str) and v.startswith("#") and v[-1] in "!?A" else v
    return float(v)


def _arguments(text: str, cell: Any) -> list[Any] | None:
    """The arguments of a call whose arguments are references, numbers or strings, else None."""
    out: list[Any] = []
    for arg in (a.strip() for a in re.split(r",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", text)):
        if re.fullmatch(r"\$?[A-Z]{1,3}\$?\d+", arg):
            out.append(cell(arg.replace("$", "")))
        elif re.fullmatch(r"-?\d+(\.\d*)?", arg):
            out.append(float(arg))
        elif re.fullmatch(r'"[^"]*"', arg):
            out.append(arg[1:-1])
        else:
            return None
    return out


def _corpus_cells(name: str, sheets: tuple[str, ...] | None = None) -> list[tuple[str, str, Any, Any]]:
    """(cell, function, Excel's value, ours) for every call of our functions in a corpus workbook,
    referenced cells read as Excel cached them."""
    from openpyxl import load_workbook

    formulas, values = load_workbook(CORPUS / name), load_workbook(CORPUS / name, data_only=True)
    found = []
    for ws in formulas:
        if sheets and ws.title not in sheets:
            continue
        cached = values[ws.title]

        def cell(ref: str, ws: Any = ws, cached: Any = cached) -> Any:
            return "" if ws[ref].value == '=""' else _corpus_value(cached[ref].value)

        for row in ws.iter_rows():
            for c in row:
                m = _CALL.match(c.value) if isinstance(c.value, str) else None
                args = _arguments(m.group(2), cell) if m and m.group(1) in F else None
                if m and args is not None:
                    found.append((f"{ws.title}!{c.coordinate}", m.group(1), _corpus_value(cached[c.coordinate].value),
                                  call(m.group(1), *args)))
    return found


def _same(expected: Any, got: Any) -> bool:
    if isinstance(expected, float) and type(got) is float:
        return abs(expected - got) <= 1e-15 * max(1.0, abs(expected))
    return type(expected) is type(got) and expected == got


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the Excel workbook corpus is not available")
@pytest.mark.parametrize(("book", "sheets", "count"), [
    ("pycel_yearfrac.xlsx", None, 2004),
    ("xlcalculator_bases.xlsx", None, 2741),
    ("formulas_test.xlsx", ("DATE & TIME", "ENGINEERING"), 544),
])
def test_corpus_matches_excel(book: str, sheets: tuple[str, ...] | None, count: int) -> None:
    cells = _corpus_cells(book, sheets)
    assert len(cells) >= count
    wrong = [(ref, fn, expected, got) for ref, fn, expected, got in cells if not _same(expected, got)]
    assert wrong == []
