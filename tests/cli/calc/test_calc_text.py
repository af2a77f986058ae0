"""Text functions and the TEXT format engine, against Microsoft's documented examples and the
values Excel cached in the corpus workbooks (``/work/shared/excel-corpus``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from xl_var_cli.workbook.calc.functions.text import FUNCTIONS
from xl_var_cli.workbook.calc.functions.textformat import format_number
from xl_var_cli.workbook.calc.operands import DIV0, NA, VALUE, ExcelError, Grid, XlError

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "excel-corpus"


def call(name: str, *args: Any) -> Any:
    try:
        return FUNCTIONS[name](*args)
    except ExcelError as exc:
        return exc.error


def fmt(value: Any, code: str) -> Any:
    return call("TEXT", value, code)


# ----------------------------------------------------------------------------- TEXT: Microsoft's examples
@pytest.mark.parametrize(("value", "code", "expected"), [
    (1234.567, "$#,##0.00", "$1,234.57"),          # TEXT function page
    (0.285, "0.0%", "28.5%"),
    (12200000.0, "0.00E+00", "1.22E+07"),
    (1234567898.0, "[<=9999999]###-####;(###) ###-####", "(123) 456-7898"),
    (1234.0, "0000000", "0001234"),
    (4.34, "# ?/?", "4 1/3"),
    (0.5, "h:mm AM/PM", "12:00 PM"),
    (39448.0, "dddd", "Tuesday"),
    (39448.0, "mmm dd, yyyy", "Jan 01, 2008"),
    (39448.75, "mm/dd/yy hh:mm:ss", "01/01/08 18:00:00"),
    (1234567.0, "#,##0,", "1,235"),               # Number format codes: scaling
    (1234567.0, "0.0,,", "1.2"),
    (3.141592653589793, "General", "3.141592654"),
    (-5.0, '"$"0', "-$5"),
    (5.0, "0;(0)", "5"),
    (-5.0, "0;(0)", "(5)"),
    (0.0, '0;(0);"zero"', "zero"),
    (5.0, "[Red]0.0", "5.0"),
    (12345.0, "##0.0E+0", "12.3E+3"),
    (0.000123, "0.00E-00", "1.23E-04"),
    (2.675, "0.00", "2.68"),                      # Excel rounds its 15-digit value half up
    (1.5, "# ??/??", "1  1/2 "),
    (0.75, "?/8", "6/8"),
])
def test_text_documented(value: float, code: str, expected: str) -> None:
    assert fmt(value, code) == expected


@pytest.mark.parametrize(("value", "code", "expected"), [
    (0.0, "dddd yyyy-mm-dd", "Saturday 1900-01-00"),   # serial 0
    (1.0, "ddd yyyy-mm-dd", "Sun 1900-01-01"),
    (60.0, "yyyy-mm-dd", "1900-02-29"),                 # Excel's fictitious leap day
    (61.0, "dd/mm/yyyy", "01/03/1900"),
    (45000.5, "d mmmm yyyy h:mm", "15 March 2023 12:00"),
    (45000.0, "mmmmm", "M"),
    ((43200 + 1.4) / 86400, "hh:mm:ss", "12:00:01"),    # rounded to the second
    (0.999999, "hh:mm:ss", "00:00:00"),
    (1.000001, "[h]:mm:ss.000", "24:00:00.086"),
    (0.25, "h A/P", "6 A"),
])
def test_text_dates(value: float, code: str, expected: str) -> None:
    assert fmt(value, code) == expected


# ----------------------------------------------------------------------------- TEXT: Excel's cached values
@pytest.mark.parametrize(("value", "code", "expected"), [
    # pycel_text.xlsx, sheet TextNumbers, column C (value in A, format in B)
    (1234567.89, '#,#"ZZ"#.0"YY"00', "1,234,56ZZ7.8YY90"),             # C2
    (1234567.89, '#,#"ZZ"#.0"YY"00@', VALUE),                          # C3
    (1234567.89, '#,#"ZZ"#.0Y00', VALUE),                              # C4
    (None, '#,#"ZZ"#.0z00', "ZZ.0z00"),                                # C6
    (-1.0, "w;x;z@", "x"),                                             # C7
    (0.0, "w;x;z", "z"),                                               # C11
    (-1.0, "", "-"),                                                   # C13
    (1.0, "", ""),                                                     # C15
    ("Plugh", "", "Plugh"),                                            # C16
    (-1.0, "w;x@", "-w"),                                              # C17
    (890123.456789, "#.###.#.#.#", "890123.456.7.8.9"),                # C25
    (890123.456789, "#,#.##.##\\,#", "890,123.45.67,9"),               # C31
    (890123.456789, "0,x#.00.0", "89012x3.45.7"),                      # C34
    (890123.456789, "#x,0,#.00.0", "890,1x,23.45.7"),                  # C37
    (890123.456789, ",#.00.0", ",890123.45.7"),                        # C38
    (890123.456789, "#.###,x,##", "890123.456x,79"),                   # C42
    (890123.456789, "%#%#%#%", "%890123456789%0%0%"),                  # C49
    (890123.456789, "#.#####00#0", "890123.45678900"),                 # C50
    ("1.001", "#.##", "1."),                                           # C61
    (1234.56, "$x*y#,##0* ", "$x1,235"),                               # C63
    (1234.56, ".##0", "1234.560"),                                     # C66
    (-1.0, '##.00;##.0;"ZERO";->@<-', "1.0"),                          # C67
    # pycel_text.xlsx, sheet TextDates
    ("2007-02-03 19:08:07.0123", "[s]", "3379691287"),                 # C4
    ("-1", '##.00;-  ##.0;"ZERO"', "-  1.0"),                          # C5
    ("X", '##.00;-  ##.0;"ZERO";->@<-@', "->X<-X"),                    # C8
    ("X", ';-  ##.0;"ZERO"@;"X"', VALUE),                              # C9
    (0.0, '"-> "#.00;-#;"SS"m;"ZERO"@', "SS1"),                        # C10
    (2958465.0, "[hh]", "71003160"),                                   # C11
    (2958466.0, "h", VALUE),                                           # C14
    (2958465.0, "h", "0"),                                             # C16
    (-1.0, "[h]", "-24"),                                              # C18
    (-1.0, "[h]:m", VALUE),                                            # C19
    (0.0, "[s].000", "0.000"),                                         # C28
    ("0:59:99", "#.#####", ".04212"),                                  # C30
    ("60:99", "#.#####", "60:99"),                                     # C31
    ("23:59.012345", "#.#######", ".0166552"),                         # C42
    ("59:9999.012345", "0.########", "0.15670153"),                    # C43
    ("23:59.", "#.###########", ".99930555556"),                       # C47
    # pycel_text.xlsx, sheet All
    (None, "#.###", "."), (-1.0, "#.###", "-1."), (True, "#.###", "TRUE"), (DIV0, "#.###", DIV0),  # L2, L10, L17, L3
    # formulas_test.xlsx, sheet TEXT, row 43; sheet EXTRA A4 and A27
    ("1987-08-26", "#.00", "32015.00"),
    (1.23, '#"°F""', VALUE),
    (1234578.555, "#,##00000,  ,00 , 0##e+8800######    .  # ,0.00.0,00", VALUE),
])
def test_text_corpus(value: Any, code: str, expected: Any) -> None:
    assert fmt(value, code) == expected


def test_format_number_text_section() -> None:
    assert format_number("abc", '0;-0;0;"<"@">"') == "<abc>"
    assert format_number("abc", "0.00") == "abc"


def _serial(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return (v - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


@pytest.mark.skipif(not CORPUS.is_dir(), reason="excel corpus not present")
def test_text_pycel_sheets_match_excel() -> None:
    """Every TEXT(A, B) on pycel_text.xlsx TextDates/TextNumbers equals Excel's cached value."""
    openpyxl = pytest.importorskip("openpyxl")
    path = CORPUS / "pycel_text.xlsx"
    formulas, values = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    checked = 0
    for name in ("TextDates", "TextNumbers"):
        for row in range(2, formulas[name].max_row + 1):
            formula = formulas[name].cell(row, 3).value
            if not (isinstance(formula, str) and formula.startswith("=TEXT(")):
                continue
            value, code = (_serial(values[name].cell(row, col).value) for col in (1, 2))
            expected = values[name].cell(row, 3).value or ""
            got = fmt(value, code or "")
            assert (got.code if isinstance(got, XlError) else got) == expected, (name, row)
            checked += 1
    assert checked == 113


# ----------------------------------------------------------------------------- other functions
@pytest.mark.parametrize(("name", "args", "expected"), [
    ("FIXED", (1234.567, 1.0), "1,234.6"),                 # FIXED function page
    ("FIXED", (1234.567, -1.0), "1,230"),
    ("FIXED", (-1234.567, -1.0, True), "-1230"),
    ("FIXED", (44.332,), "44.33"),
    # formulas_test.xlsx TEXT R18: 15 significant digits, then zeros
    ("FIXED", ("123456789076754345682.2121234567832131341", 0.0), "123,456,789,076,754,000,000"),
    ("FIXED", (1.0, 128.0), VALUE),
    ("DOLLAR", (1234.567, 2.0), "$1,234.57"),              # DOLLAR function page
    ("DOLLAR", (1234.567, -2.0), "$1,200"),
    ("DOLLAR", (-1234.567, -2.0), "($1,200)"),
    ("DOLLAR", (-0.123, 4.0), "($0.1230)"),
    ("DOLLAR", (99.888,), "$99.89"),
    ("DOLLAR", (-1.00001,), "($1.00)"),                    # poi_formula_eval_testdata EverythingTests H420
    ("VALUE", ("$1,000",), 1000.0),                        # VALUE function page
    ("VALUE", (None,), 0.0),                               # pycel_text All O2
    ("VALUE", (True,), VALUE),
    ("VALUE", ("(123)",), -123.0),
    ("NUMBERVALUE", ("2.500,27", ",", "."), 2500.27),      # NUMBERVALUE function page
    ("NUMBERVALUE", ("3.5%",), 0.035),
    ("NUMBERVALUE", ("(2,500.27%)%", ".", ",.,"), -0.250027),         # formulas_test TEXT U27
    ("NUMBERVALUE", ("(,25,,0,0.27E + 6%)%", ".", ",.,"), -250027.0),  # V27
    ("NUMBERVALUE", ("(2,500.27)", ",", "."), VALUE),                   # S27
    ("NUMBERVALUE", ("250)027", ")"), 250.027),                         # U28
    ("NUMBERVALUE", ("1", "2", None), VALUE),                           # AC28 (blank separator)
    ("LEFT", ("Sale Price", 4.0), "Sale"), ("LEFT", ("Sweden",), "S"),
    ("LEFT", ("ciao", None), ""), ("LEFT", ("ciao", -1.0), VALUE), ("LEFT", (2.3, 2.0), "2."),
    ("RIGHT", ("Sale Price", 5.0), "Price"), ("RIGHT", ("Stock Number",), "r"), ("RIGHT", (True, 2.0), "UE"),
    ("MID", ("Fluid Flow", 1.0, 5.0), "Fluid"), ("MID", ("Fluid Flow", 7.0, 20.0), "Flow"),
    ("MID", ("Fluid Flow", 20.0, 5.0), ""), ("MID", ("ciao", 0.0, 2.0), VALUE),
    ("LEN", ("Phoenix, AZ",), 11.0), ("LEN", ("",), 0.0), ("LEN", ("     One   ",), 11.0), ("LEN", (-2.34,), 5.0),
    ("LENB", ("abc",), 3.0),
    ("UPPER", ("total",), "TOTAL"), ("LOWER", ("E. E. Cummings",), "e. e. cummings"), ("LOWER", (True,), "true"),
    ("PROPER", ("this is a TITLE",), "This Is A Title"), ("PROPER", ("2-way street",), "2-Way Street"),
    ("PROPER", ("76BudGet",), "76Budget"), ("PROPER", (True,), "True"),
    ("TRIM", (" First Quarter   Earnings ",), "First Quarter Earnings"),
    ("CLEAN", ("\tMonthly report\n",), "Monthly report"), ("CLEAN", ("a\x7fb",), "a\x7fb"),
    ("CONCATENATE", ("Stream population for ", "brook trout", " is ", 32.0, "/mile"),
     "Stream population for brook trout is 32/mile"),
    ("CONCAT", (Grid([[0.0, 1.9], [2.3, 10.0]]), "x"), "01.92.310x"),
    ("TEXTJOIN", (", ", True, "US Dollar", "", Grid([["Australian Dollar", None]])), "US Dollar, Australian Dollar"),
    ("TEXTJOIN", (Grid([["-", "+"]]), False, "a", "b", "c", None), "a-b+c-"),
    ("SUBSTITUTE", ("Sales Data", "Sales", "Cost"), "Cost Data"),
    ("SUBSTITUTE", ("Quarter 1, 2008", "1", "2", 1.0), "Quarter 2, 2008"),
    ("SUBSTITUTE", ("Quarter 1, 2011", "1", "2", 3.0), "Quarter 1, 2012"),
    ("SUBSTITUTE", ("36526", "6", "q", 2.0), "3652q"),     # pycel_text All K21
    ("SUBSTITUTE", ("abc", "", "x"), "abc"), ("SUBSTITUTE", ("abc", "b", "x", 0.0), VALUE),
    ("REPLACE", ("abcdefghijk", 6.0, 5.0, "*"), "abcde*k"), ("REPLACE", ("2009", 3.0, 2.0, "10"), "2010"),
    ("REPLACE", ("123456", 1.0, 3.0, "@"), "@456"), ("REPLACE", ("ciao", True, None, "a"), "aciao"),
    ("FIND", ("M", "Miriam McGovern"), 1.0), ("FIND", ("m", "Miriam McGovern"), 6.0),
    ("FIND", ("M", "Miriam McGovern", 3.0), 8.0), ("FIND", ("ia", "山田太郎ciao", 1.9), 6.0),
    ("FIND", ("", "abc", 4.0), 4.0), ("FIND", ("", "abc", 5.0), VALUE), ("FIND", ("z", "abc"), VALUE),
    ("FIND", (None, DIV0), DIV0),
    ("SEARCH", ("e", "Statements", 6.0), 7.0), ("SEARCH", ("margin", "Profit Margin"), 8.0),
    ("SEARCH", ("p?o", "xPROFIT"), 2.0), ("SEARCH", ("r*t", "Profit"), 2.0), ("SEARCH", ("~*", "a*b"), 2.0),
    ("SEARCH", ("~?", "ab"), VALUE),
    ("REPT", ("*-", 3.0), "*-*-*-"), ("REPT", ("x", -1.0), VALUE), ("REPT", ("ab", 20000.0), VALUE),
    ("EXACT", ("word", "word"), True), ("EXACT", ("Word", "word"), False), ("EXACT", (None, ""), True),
    ("CHAR", (65.0,), "A"), ("CHAR", (65.8,), "A"), ("CHAR", (128.0,), "€"), ("CHAR", (0.0,), VALUE),
    ("CHAR", (256.0,), VALUE), ("CHAR", (True,), "\x01"),
    ("CODE", ("A",), 65.0), ("CODE", ("!",), 33.0), ("CODE", ("€",), 128.0), ("CODE", ("",), VALUE),
    ("CODE", (True,), 84.0),
    ("UNICHAR", (66.0,), "B"), ("UNICHAR", (0.0,), VALUE), ("UNICHAR", (0xD800,), NA),
    ("UNICODE", ("B",), 66.0), ("UNICODE", (" ",), 32.0), ("UNICODE", ("",), VALUE),
    ("T", ("Rainfall",), "Rainfall"), ("T", (19.0,), ""), ("T", (True,), ""), ("T", (NA,), NA),
    ("N", (7.0,), 7.0), ("N", ("Even",), 0.0), ("N", (True,), 1.0), ("N", (None,), 0.0), ("N", (DIV0,), DIV0),
])
def test_functions(name: str, args: tuple[Any, ...], expected: Any) -> None:
    got = call(name, *args)
    assert got == expected and type(got) is type(expected)


RED = "Little red riding hood's red hood"


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("TEXTBEFORE", (RED, "hood"), "Little red riding "),          # TEXTBEFORE function page
    ("TEXTBEFORE", (RED, "red", 2.0), "Little red riding hood's "),
    ("TEXTBEFORE", (RED, "red", -2.0), "Little "),
    ("TEXTBEFORE", (RED, "Red", 1.0, 0.0), NA),
    ("TEXTBEFORE", (RED, "red", 3.0), NA),
    ("TEXTBEFORE", (RED, "Red", 1.0, 1.0), "Little "),
    ("TEXTBEFORE", ("abc", "x", 1.0, 0.0, 1.0), "abc"),
    ("TEXTAFTER", (RED, "hood"), "'s red hood"),                  # TEXTAFTER function page
    ("TEXTAFTER", (RED, "HOOD", 1.0, 1.0), "'s red hood"),
    ("TEXTAFTER", (RED, "basket", 1.0, 0.0, 0.0, "Not found"), "Not found"),
    ("TEXTAFTER", (RED, "red", -1.0), " hood"),
    # formulas_test.xlsx, sheet TEXT, rows 44-45
    ("TEXTAFTER", ("1,2,3,4,5,6,7,8", Grid([["3", "4"]]), 1.9), ",4,5,6,7,8"),
    ("TEXTAFTER", ("1,2,3,4,5,6,7,8", Grid([["3", "4"]]), 2.3, 10.0), VALUE),
    ("TEXTAFTER", ("1,2,3,4,5,6,7,8", Grid([["3", "4"]]), 10.0, None), NA),
    ("TEXTAFTER", ("1,2,3,4,5,6,7,8", Grid([["3", "4"]]), 0.0), VALUE),
    ("TEXTBEFORE", ("1,2,3,4,5,6,7,8", Grid([["3", "4"]]), -1.0), "1,2,3,"),
    ("TEXTBEFORE", ("1,2,3,4,5,6,7,8", Grid([["3", "4"]]), 2.3), "1,2,3,"),
])
def test_text_before_after(name: str, args: tuple[Any, ...], expected: Any) -> None:
    assert call(name, *args) == expected


def test_arrays_element_by_element() -> None:
    assert call("LEN", Grid([["ab", "c"], [1.5, None]])) == Grid([[2.0, 1.0], [3.0, 0.0]])
    assert call("LEFT", Grid([[True, "bau"]]), 3.0) == Grid([["TRU", "bau"]])       # formulas_test TEXT AG20
    assert call("FIND", Grid([["a", "b"]]), Grid([["ciao", "bau"]])) == Grid([[3.0, 1.0]])
    assert call("TEXTBEFORE", Grid([["a-b", "c-d"]]), "-") == Grid([["a", "c"]])
    assert call("CONCATENATE", Grid([["a", "b"]]), "!") == Grid([["a!", "b!"]])
