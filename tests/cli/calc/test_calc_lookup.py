"""Lookup and reference functions of the calc engine against Microsoft's documented examples and the
values Excel cached in the workbook corpus (``shared/excel-corpus``)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from xl_var_cli.workbook.calc.functions.lookup import FUNCTIONS as LOOKUP
from xl_var_cli.workbook.calc.functions.reference import FUNCTIONS as REFERENCE
from xl_var_cli.workbook.calc.operands import CALC, NA, REF, VALUE, ExcelError, Grid, Ref, XlError

F = {**LOOKUP, **REFERENCE}
CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "excel-corpus"


class Book:
    """A stand-in for the engine's book: cells in a dict keyed (sheet, row, col)."""

    def __init__(self, cells: dict[tuple[str, int, int], Any] | None = None) -> None:
        self.cells = cells or {}

    def value(self, sheet: str, row: int, col: int) -> Any:
        return self.cells.get((sheet, row, col))

    def block(self, sheet: str, r1: int, c1: int, r2: int, c2: int) -> list[list[Any]]:
        return [[self.value(sheet, r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

    def extent(self, sheet: str) -> tuple[int, int]:
        keys = [k for k in self.cells if k[0] == sheet]
        return max((k[1] for k in keys), default=1), max((k[2] for k in keys), default=1)


def sheet_of(rows: list[list[Any]], top: int = 1, left: int = 1, name: str = "S") -> Book:
    """A book whose sheet ``name`` holds ``rows`` from (top, left)."""
    return Book({(name, top + i, left + j): v
                 for i, row in enumerate(rows) for j, v in enumerate(row) if v is not None})


def call(name: str, *args: Any) -> Any:
    try:
        return F[name](*args)
    except ExcelError as exc:
        return exc.error


def value(v: Any) -> Any:
    """What a cell shows for a result: a one-cell reference is its value (blank 0)."""
    if isinstance(v, Ref):
        assert v.shape == (1, 1)
        got = v.book.value(v.sheet, v.r1, v.c1)
        return 0.0 if got is None else got
    return v


# Microsoft's VLOOKUP/HLOOKUP/INDEX/MATCH example tables
DENSITY = [[0.457, 3.55, 500.0], [0.525, 3.25, 400.0], [0.606, 2.93, 300.0], [0.675, 2.75, 250.0],
           [0.746, 2.57, 200.0], [0.835, 2.38, 15.0], [0.946, 2.17, 100.0], [1.09, 1.95, 50.0], [1.29, 1.71, 0.0]]


def test_vlookup_documented_example() -> None:
    book = sheet_of(DENSITY)
    table = Ref(book, "S", 1, 1, 9, 3)
    assert call("VLOOKUP", 1.0, table, 2.0) == 2.17
    assert call("VLOOKUP", 1.0, table, 3.0, True) == 100.0
    assert call("VLOOKUP", 0.7, table, 3.0, False) is NA
    assert call("VLOOKUP", 0.1, table, 2.0, True) is NA
    assert call("VLOOKUP", 2.0, table, 2.0, True) == 1.71
    assert call("VLOOKUP", 1.0, table, 0.0) is VALUE and call("VLOOKUP", 1.0, table, 4.0) is REF
    assert call("VLOOKUP", 1.0, table, 2.9) == 2.17  # index truncated


def test_hlookup_documented_example() -> None:
    book = sheet_of([["Axles", "Bearings", "Bolts"], [4.0, 4.0, 9.0], [5.0, 7.0, 10.0], [6.0, 8.0, 11.0]])
    table = Ref(book, "S", 1, 1, 4, 3)
    assert call("HLOOKUP", "Axles", table, 2.0, True) == 4.0
    assert call("HLOOKUP", "Bearings", table, 3.0, False) == 7.0
    assert call("HLOOKUP", "B", table, 3.0, True) == 5.0
    assert call("HLOOKUP", "Bolts", table, 4.0) == 11.0
    assert call("HLOOKUP", 3.0, Grid([[1.0, 2.0, 3.0], ["a", "b", "c"], ["d", "e", "f"]]), 2.0, True) == "c"


def test_exact_match_with_wildcards_and_case() -> None:
    names = Grid([["Bananas"], ["Oranges"], ["Apples"], ["Pears"], ["a*b"]])
    assert call("MATCH", "oranges", names, 0.0) == 2.0
    assert call("MATCH", "Ap*", names, 0.0) == 3.0
    assert call("MATCH", "?ears", names, 0.0) == 4.0
    assert call("MATCH", "a~*b", names, 0.0) == 5.0
    assert call("MATCH", "x*", names, 0.0) is NA
    assert call("MATCH", "1", Grid([[1.0, "1"]]), 0.0) == 2.0  # text never equals a number
    assert call("VLOOKUP", "app*", Grid([["Bananas", 1.0], ["Apples", 2.0]]), 2.0, False) == 2.0


def test_match_documented_example() -> None:
    counts = Grid([[25.0], [38.0], [40.0], [41.0]])
    assert call("MATCH", 39.0, counts, 1.0) == 2.0
    assert call("MATCH", 41.0, counts, 0.0) == 4.0
    assert call("MATCH", 40.0, counts, -1.0) is NA
    assert call("MATCH", 40.0, Grid([[41.0], [40.0], [38.0]]), -1.0) == 2.0
    assert call("MATCH", 39.0, Grid([[41.0], [40.0], [38.0]]), -1.0) == 2.0
    assert call("MATCH", 1.0, Grid([[1.0, 2.0], [3.0, 4.0]]), 0.0) is NA
    assert call("MATCH", Grid([[38.0, 99.0]]), counts, 0.0) == Grid([[2.0, NA]])


def test_binary_search_on_unsorted_and_blank_data() -> None:
    # pycel_lookup.xlsx, sheet LookupBlanks: A1:A16 = blanks, 1, 2, 3, blank, 5, 6, 7, 8, blanks
    book = sheet_of([[None]] * 4 + [[1.0], [2.0], [3.0], [None], [5.0], [6.0], [7.0], [8.0]] + [[None]] * 4)
    column = Ref(book, "S", 1, 1, 16, 1)
    expected = {0.0: NA, 1.0: 5.0, 2.0: 6.0, 6.0: 10.0, 7.0: 11.0, 8.0: 12.0, 9.0: 12.0, "Hi": NA}  # E5:E12
    for x, pos in expected.items():
        assert call("MATCH", x, column) == pos
    assert call("VLOOKUP", 9.0, column, 1.0) == 8.0 and call("LOOKUP", 6.0, column) == 6.0  # D11, F8
    # formulas_test.xlsx, LOOKUP!X64: LOOKUP("b", {TRUE,FALSE,"a","b"}) = "b"
    assert call("LOOKUP", "b", Grid([[True, False, "a", "b"]])) == "b"
    # Excel's binary search lands on "o" in a..u for "plugh" (pycel_lookup.xlsx Lookup!H16)
    assert call("HLOOKUP", "plugh", Grid([["a", "e", "i", "o", "u"]]), 1.0) == "o"
    # unsorted numbers: the search's answer (a scan stopping at the first larger value would give 1)
    assert call("MATCH", 4.0, Grid([[1.0], [5.0], [2.0], [3.0], [9.0]])) == 4.0


def test_pycel_lookup_sheet_rows() -> None:
    # pycel_lookup.xlsx, sheet Lookup: Table2 B11:F14 and the HLOOKUP/LOOKUP/MATCH rows 16-34
    errors = {"#DIV/0!": XlError("#DIV/0!"), "#NAME?": XlError("#NAME?"), "#NULL!": XlError("#NULL!"),
              "#NUM!": XlError("#NUM!"), "#REF!": REF, "#N/A": NA, "#VALUE!": VALUE}
    e = errors.__getitem__
    book = sheet_of([[0.0, 1.0, 2.0, 3.0, 4.0], ["a", "e", "i", "o", "u"], [None, "plugh", True, VALUE, NA],
                     [e("#DIV/0!"), e("#NAME?"), e("#NULL!"), e("#NUM!"), REF]], top=11, left=2)
    table = Ref(book, "S", 11, 2, 14, 6)
    inputs = [-1.0, 0.5, 2.0, 3.0, 4.5, None, "plugh", True, VALUE, NA]
    assert [call("HLOOKUP", x, table, 2.0) for x in inputs] == [NA, "a", "i", "o", "u", "a", NA, NA, VALUE, NA]
    assert [value(call("HLOOKUP", x, table, 3.0)) for x in inputs[:6]] == [NA, 0.0, True, VALUE, NA, 0.0]
    assert call("LOOKUP", 0.5, Ref(book, "S", 11, 2, 13, 6)) == 0.0  # row 21: last row, blank shows 0
    assert call("LOOKUP", "plugh", Ref(book, "S", 11, 2, 12, 6)) is NA  # H20: the first row holds numbers
    column = Grid([[0.0], [1.0], [2.0], [3.0], [4.0]])
    assert [call("MATCH", x, column, -1.0) for x in inputs] == [5.0, NA, NA, NA, NA, 1.0, NA, NA, VALUE, NA]


def test_lookup_vector_and_array_forms() -> None:
    # Microsoft's LOOKUP examples: frequency/colour vectors and array form
    freq = Grid([[4.14], [4.19], [5.17], [5.77], [6.39]])
    colour = Grid([["red"], ["orange"], ["yellow"], ["green"], ["blue"]])
    assert call("LOOKUP", 4.19, freq, colour) == "orange"
    assert call("LOOKUP", 5.75, freq, colour) == "yellow"
    assert call("LOOKUP", 7.66, freq, colour) == "blue"
    assert call("LOOKUP", 0.0, freq, colour) is NA
    assert call("LOOKUP", "C", Grid([["a", "b", "c", "d"], [1.0, 2.0, 3.0, 4.0]])) == 3.0
    assert call("LOOKUP", "bump", Grid([["a", 1.0], ["b", 2.0], ["c", 3.0]])) == 2.0
    assert call("LOOKUP", 2.0, Grid([[1.0, 1.0], [2.0, 2.0]]), Grid([[1.0, 2.0], [3.0, 4.0]])) is NA  # J30


def test_xlookup_and_xmatch() -> None:
    countries = Grid([["China"], ["India"], ["United States"], ["Brazil"]])
    codes = Grid([["+86"], ["+91"], ["+1"], ["+55"]])
    assert call("XLOOKUP", "brazil", countries, codes) == "+55"
    assert call("XLOOKUP", "Peru", countries, codes, "none") == "none"
    assert call("XLOOKUP", "Peru", countries, codes) is NA
    assert call("XLOOKUP", "India", countries, Grid([["a", 1.0], ["b", 2.0], ["c", 3.0], ["d", 4.0]])) == \
        Grid([["b", 2.0]])
    assert call("XLOOKUP", "x", countries, Grid([[1.0], [2.0]])) is VALUE
    brackets = Grid([[0.0], [9700.0], [39475.0], [84200.0]])
    rates = Grid([[0.1], [0.22], [0.24], [0.32]])
    assert call("XLOOKUP", 46523.0, brackets, rates, 0.0, -1.0) == 0.24  # next smaller
    assert call("XLOOKUP", 46523.0, brackets, rates, 0.0, 1.0) == 0.32  # next larger
    assert call("XMATCH", "Gra?e", Grid([["Apple"], ["Grape"], ["Pear"]]), 2.0) == 2.0
    assert call("XMATCH", 4.0, Grid([[1.0, 4.0, 4.0, 2.0]]), 0.0, -1.0) == 3.0
    # formulas_test.xlsx LOOKUP!N89 (on EXTRA): XMATCH(3.5,{4,3,2,1,1,2,3.4,3.6},1,1) = 8
    assert call("XMATCH", 3.5, Grid([[4.0, 3.0, 2.0, 1.0, 1.0, 2.0, 3.4, 3.6]]), 1.0, 1.0) == 8.0
    # EXTRA!L75/L83/K79/K83/L89: folded case, wildcards without folding, binary search over mixed types
    assert call("XMATCH", "ß", Grid([[1.0, "ss", 2.1]]), 0.0) == 2.0
    assert call("MATCH", "ß", Grid([[1.0, "ss", 2.1]]), 0.0) is NA
    assert call("XMATCH", "ß", Grid([[1.0, "SS", 2.1]]), 2.0) is NA
    assert call("XMATCH", 4.1, Grid([["", "a", 1.1, 4.1]]), 0.0, 2.0) is NA
    assert call("XMATCH", 4.1, Grid([[2.0, "s", "a", 4.1, 1.1]]), 1.0, 2.0) == 2.0
    assert call("XMATCH", False, Grid([["a", 4.1, 3.0, 2.1, 2.0, True, "b"]]), -1.0, 2.0) == 5.0
    # LOOKUP!W189/W190/W171: a blank lookup value is above everything and equal to nothing
    assert call("XMATCH", None, Grid([[-1.1, 2.1, 3.1, 4.1]]), -1.0) == 4.0
    assert call("XMATCH", None, Grid([["a", 2.1, "c bau c", 4.1]]), -1.0) == 3.0
    assert call("XMATCH", None, Grid([[-1.1, 2.1, 3.1, 4.1]]), 1.0) is NA
    assert call("XMATCH", 2.0, Grid([[1.0, 2.0]]), 1.0, 0.0) is VALUE  # EXTRA!L85
    assert call("XMATCH", "x", Grid([["a"]]), 2.0, 2.0) is VALUE
    assert call("XMATCH", "^b.$", Grid([["abc", "bc"]]), 3.0) == 2.0


def test_xlookup_returns_reference() -> None:
    book = sheet_of([["k1", 1.0, 2.0], ["k2", 3.0, 4.0]])
    got = call("XLOOKUP", "K2", Ref(book, "S", 1, 1, 2, 1), Ref(book, "S", 1, 2, 2, 3))
    assert isinstance(got, Ref) and (got.r1, got.c1, got.r2, got.c2) == (2, 2, 2, 3)


def test_index() -> None:
    book = sheet_of([["Apples", "Lemons"], ["Bananas", "Pears"]])
    area = Ref(book, "S", 1, 1, 2, 2)
    assert value(call("INDEX", area, 2.0, 2.0)) == "Pears"
    assert value(call("INDEX", area, 2.0, 1.0)) == "Bananas"
    whole_row = call("INDEX", area, 2.0, 0.0)
    assert (whole_row.r1, whole_row.c1, whole_row.r2, whole_row.c2) == (2, 1, 2, 2)
    whole_col = call("INDEX", area, None, 2.0)
    assert (whole_col.r1, whole_col.c1, whole_col.r2, whole_col.c2) == (1, 2, 2, 2)
    assert call("INDEX", area, 2.0) is REF  # formulas_test.xlsx LOOKUP!R53
    assert call("INDEX", area, 3.0, 1.0) is REF and call("INDEX", area, 1.0, -1.0) is VALUE
    assert call("INDEX", area, 1.0, 1.0, 2.0) is REF
    row = Ref(book, "S", 1, 1, 1, 2)
    assert value(call("INDEX", row, 2.0)) == "Lemons"  # one row: a single number picks along it
    array = Grid([[1.0, 2.0], [3.0, 4.0]])
    assert call("INDEX", array, 2.0, 2.0) == 4.0
    assert call("INDEX", array, 1.0) == Grid([[1.0, 2.0]])  # pycel_lookup.xlsx Index!C41
    assert call("INDEX", array, None, 2.0) == Grid([[2.0], [4.0]])
    assert call("INDEX", array, 3.0) is REF and call("INDEX", array, -1.0) is VALUE
    assert call("INDEX", Grid([[2.0, 3.0, 4.0]]), 2.0) == 3.0  # LOOKUP!Y53
    assert call("INDEX", Grid([[2.0, 3.0, 4.0]]), 2.0, 1.0) is REF  # LOOKUP!X53
    assert call("INDEX", array, Grid([[1.0, 2.0]])) == Grid([[1.0, 3.0]])  # LOOKUP!AO52 (first of each row)
    union = (Ref(book, "S", 1, 1, 2, 1), Ref(book, "S", 1, 2, 2, 2))
    assert value(call("INDEX", union, 1.0, 1.0, 2.0)) == "Lemons" and call("INDEX", union, 1.0, 1.0, 3.0) is REF


def test_offset() -> None:
    # pycel_lookup.xlsx, sheet Offset: OFFSET(B2:F6, rows, cols, height, width)
    book = Book()
    base = Ref(book, "S", 2, 2, 6, 6)
    got = call("OFFSET", base, 1.0, 1.0, 2.0, 2.0)
    assert (got.r1, got.c1, got.r2, got.c2) == (3, 3, 4, 4)
    got = call("OFFSET", base, -1.0, -1.0, 1.0, 1.0)
    assert (got.r1, got.c1, got.r2, got.c2) == (1, 1, 1, 1)
    assert call("OFFSET", base, 0.0, 0.0).shape == (5, 5)
    assert call("OFFSET", base, -2.0, 0.0, 1.0, 1.0) is REF
    assert call("OFFSET", base, 0.0, 0.0, 0.0, 1.0) is REF
    assert call("OFFSET", 5.0, 0.0, 0.0) is VALUE
    got = call("OFFSET", Ref(book, "S", 10, 1, 10, 1), 0.0, 0.0, -3.0, 1.0)
    assert (got.r1, got.r2) == (8, 10)


def test_choose() -> None:
    # pycel_lookup.xlsx Lookup!B41:P44
    book = sheet_of([[-1.0, 0.5]], top=3, left=2)
    args = [Ref(book, "S", 3, 2, 3, 2), Ref(book, "S", 3, 3, 3, 3)]
    assert value(call("CHOOSE", 1.0, *args)) == -1.0
    assert value(call("CHOOSE", 2.9, *args)) == 0.5
    assert value(call("CHOOSE", True, *args)) == -1.0 and value(call("CHOOSE", "1", *args)) == -1.0
    assert call("CHOOSE", 0.0, *args) is VALUE and call("CHOOSE", 3.0, *args) is VALUE
    assert call("CHOOSE", "0", 1.0) is VALUE
    assert call("CHOOSE", NA, *args) is NA
    assert isinstance(call("CHOOSE", 2.0, *args), Ref)
    assert call("CHOOSE", Grid([[2.0, 1.0]]), "a", "b") == Grid([["b", "a"]])


def test_row_column_rows_columns_areas() -> None:
    book = Book()
    assert call("ROW", Ref(book, "S", 113, 11, 113, 11)) == 113.0  # formulas_test.xlsx LOOKUP!Z113
    assert call("ROW", Ref(book, "S", 112, 29, 113, 29)) == Grid([[112.0], [113.0]])
    assert call("COLUMN", Ref(book, "S", 12, 29, 13, 30)) == Grid([[29.0, 30.0]])
    assert call("COLUMN", Ref(book, "S", 1, 4, 1, 4)) == 4.0
    assert call("ROWS", Ref(book, "S", 1, 3, 1, 6)) == 1.0 and call("COLUMNS", Ref(book, "S", 1, 3, 1, 6)) == 4.0
    assert call("ROWS", Grid([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])) == 2.0 and call("COLUMNS", 7.0) == 1.0
    assert call("AREAS", Ref(book, "S", 1, 1, 2, 2)) == 1.0
    assert call("AREAS", (Ref(book, "S", 1, 1, 1, 1), Ref(book, "S", 2, 2, 2, 2))) == 2.0
    assert call("ROWS", (Ref(book, "S", 1, 1, 1, 1), Ref(book, "S", 2, 2, 2, 2))) is REF  # LOOKUP!S115


def test_dynamic_arrays() -> None:
    assert call("SEQUENCE", 2.0, 3.0) == Grid([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert call("SEQUENCE", 3.0, None, 10.0, -2.0) == Grid([[10.0], [8.0], [6.0]])
    assert call("SEQUENCE", 0.0) is CALC and call("SEQUENCE", -1.0) is VALUE
    assert call("TRANSPOSE", Grid([[1.0, 2.0, 3.0]])) == Grid([[1.0], [2.0], [3.0]])
    data = Grid([["b", 2.0], ["a", 1.0], ["B", 3.0], ["c", 1.0]])
    assert call("UNIQUE", Grid([["b"], ["a"], ["B"], ["c"]])) == Grid([["b"], ["a"], ["c"]])
    assert call("UNIQUE", Grid([[1.0], [2.0], [1.0]]), False, True) == Grid([[2.0]])
    assert call("UNIQUE", Grid([[1.0], [1.0]]), False, True) is CALC
    assert call("SORT", data, 2.0, -1.0) == Grid([["B", 3.0], ["b", 2.0], ["a", 1.0], ["c", 1.0]])
    assert call("SORT", data) == Grid([["a", 1.0], ["b", 2.0], ["B", 3.0], ["c", 1.0]])
    assert call("SORT", data, 3.0) is VALUE and call("SORT", data, 1.0, 2.0) is VALUE
    # formulas_test.xlsx LOOKUP!U119: errors sort by their code after logicals
    errs = [XlError(c) for c in ("#VALUE!", "#DIV/0!", "#N/A", "#NULL!")]
    assert call("SORT", Grid([[*errs, True, 1.0, "b"]]), 1.0, 1.0, True) == \
        Grid([[1.0, "b", True, XlError("#NULL!"), XlError("#DIV/0!"), VALUE, NA]])
    assert call("SORTBY", Grid([["x"], ["y"], ["z"]]), Grid([[3.0], [1.0], [2.0]])) == Grid([["y"], ["z"], ["x"]])
    assert call("SORTBY", Grid([["x"], ["y"]]), Grid([[2.0], [1.0]]), -1.0) == Grid([["x"], ["y"]])
    assert call("SORTBY", Grid([["x"], ["y"]]), Grid([[2.0, 1.0], [1.0, 1.0]])) is VALUE
    assert call("FILTER", data, Grid([[True], [False], [1.0], [0.0]])) == Grid([["b", 2.0], ["B", 3.0]])
    assert call("FILTER", data, Grid([[False]] * 4)) is CALC
    assert call("FILTER", data, Grid([[False]] * 4), "none") == "none"
    assert call("FILTER", data, Grid([[True, False]])) == Grid([["b"], ["a"], ["B"], ["c"]])
    assert call("FILTER", data, Grid([[True], [NA], [True], [True]])) is NA
    assert call("FILTER", Grid([[1.0, 2.0, 3.0]]), Grid([[1.0, 0.0, "f"]])) is VALUE  # EXTRA!M15
    assert call("FILTER", data, Grid([[True], [False]])) is VALUE


# ----------------------------------------------------------------------------- the corpus, where present
_CALL = re.compile(r"^=(?:_xlfn\.)?(MATCH|VLOOKUP|HLOOKUP|LOOKUP|XMATCH|INDEX|CHOOSE)\((.*)\)$")


def _corpus_value(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, dt.datetime):
        return None  # dates before March 1900 convert ambiguously; such cells are skipped
    if isinstance(v, str) and v.startswith("#"):
        return XlError(v)
    return v


@pytest.mark.skipif(not (CORPUS / "pycel_lookup.xlsx").exists(), reason="excel corpus not present")
def test_pycel_lookup_corpus() -> None:
    """Every plain MATCH/VLOOKUP/HLOOKUP/LOOKUP/CHOOSE/INDEX cell of sheets Lookup and LookupBlanks."""
    openpyxl = pytest.importorskip("openpyxl")
    from openpyxl.utils import range_boundaries

    path = CORPUS / "pycel_lookup.xlsx"
    formulas, values = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    book = Book({(ws.title, c.row, c.column): _corpus_value(c.value)
                 for ws in values.worksheets for row in ws.iter_rows() for c in row if c.value is not None})
    checked = 0
    for name in ("Lookup", "LookupBlanks"):
        for row in formulas[name].iter_rows():
            for cell in row:
                m = _CALL.match(cell.value) if isinstance(cell.value, str) else None
                if not m:
                    continue
                args = []
                for text in (a.strip() for a in m.group(2).split(",")):
                    if re.fullmatch(r"-?\d+(\.\d+)?", text):
                        args.append(float(text))
                    else:
                        c1, r1, c2, r2 = range_boundaries(text.replace("$", ""))
                        args.append(Ref(book, name, r1, c1, r2, c2))
                if m.group(1) == "CHOOSE" and isinstance(values[name].cell(args[0].r1, args[0].c1).value, dt.datetime):
                    continue
                expected = _corpus_value(values[name][cell.coordinate].value)
                assert value(call(m.group(1), *args)) == expected, (name, cell.coordinate, cell.value)
                checked += 1
    assert checked > 280
