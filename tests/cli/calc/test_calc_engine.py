"""The formula engine itself (grammar, compiler, book): Excel's semantics where engines differ.

Each case is a rule Excel documents or a value Excel saved (the corpus book and cell are named).
"""

from __future__ import annotations

from typing import Any

import pytest

from xl_var_cli.workbook.calc.book import Book
from xl_var_cli.workbook.calc.grammar import parse, shape_key
from xl_var_cli.workbook.calc.library import excel_functions
from xl_var_cli.workbook.calc.operands import NA, NAME, NULL, VALUE
from xl_var_cli.workbook.calc.structured import Table


def calc(formulas: dict[str, str], constants: dict[str, Any] | None = None, arrays: dict[str, str] | None = None,
         tables: dict[str, Table] | None = None, names: dict[str, str] | None = None) -> dict[str, Any]:
    """Calculate ``formulas`` ("B2": "=...") on sheet S over ``constants``; every cell's value by A1 name."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter

    def key(a1: str) -> tuple[str, int, int]:
        letters, row = coordinate_from_string(a1)
        return ("S", row, column_index_from_string(letters))

    book = Book(["S"], {key(k): v for k, v in (constants or {}).items()}, excel_functions(), names, tables)
    spans = {}
    for a1, text in formulas.items():
        ref = (arrays or {}).get(a1)
        assert book.add_formula(key(a1), text, array=ref is not None) == ""
        if ref:
            last = key(ref.split(":")[1])
            spans[key(a1)] = (last[1], last[2])
    book.set_arrays(spans)
    book.run()
    return {f"{get_column_letter(c)}{r}": v for (_, r, c), v in book.cells.items()}


def test_precedence_negation_binds_tighter_than_power() -> None:
    v = calc({"A1": "=-2^2", "A2": "=2^3^2", "A3": "=1+2*3&\"x\"", "A4": "=50%*2", "A5": "=2-3-4"})
    assert (v["A1"], v["A2"], v["A3"], v["A4"], v["A5"]) == (4.0, 64.0, "7x", 1.0, -5.0)


def test_implicit_intersection_at_each_operand_of_a_plain_formula() -> None:
    # koala_advanced.xlsx Sheet1!F2: =Liste*100 +B2:B4 with Liste = A1:A3 gives 220 on row 2
    const = {"A1": 1.0, "A2": 2.0, "A3": 3.0, "B1": 10.0, "B2": 20.0, "B3": 30.0, "B4": 40.0}
    v = calc({"F2": "=Liste*100 +B2:B4", "G5": "=A1:A3*2", "C2": "=SUM(A1:A3*2)"}, const,
             names={"LISTE": "=S!$A$1:$A$3"})
    assert v["F2"] == 220.0
    assert v["G5"] is VALUE  # row 5 is outside A1:A3
    assert v["C2"] == 4.0  # a plain formula: A1:A3 meets row 2 before the multiplication


def test_array_formula_goes_element_by_element_and_pads_with_na() -> None:
    const = {"A1": 1.0, "A2": 2.0, "A3": 3.0}
    v = calc({"C1": "=A1:A3*2", "D1": "=SUM(A1:A3*A1:A3)"}, const, arrays={"C1": "C1:C4", "D1": "D1:D1"})
    assert (v["C1"], v["C2"], v["C3"], v["C4"], v["D1"]) == (2.0, 4.0, 6.0, NA, 14.0)


def test_sumproduct_takes_arrays_even_in_a_plain_formula() -> None:
    # koala_advanced.xlsx Sheet1!G9: =SUMPRODUCT(Liste2+Liste) is 66
    const = {"A1": 1.0, "A2": 2.0, "A3": 3.0, "B1": 10.0, "B2": 20.0, "B3": 30.0}
    v = calc({"D9": "=SUMPRODUCT(A1:A3+B1:B3)"}, const)
    assert v["D9"] == 66.0


def test_a_formula_reading_an_empty_cell_shows_zero() -> None:
    # poi_formula_eval_testdata.xlsx EverythingTests!F11 =D7 (empty) is 0, so COUNT and LEN see a number
    v = calc({"B1": "=A1", "B2": "=LEN(B1)", "B3": "=COUNT(B1)", "B4": "=A1&\"\""})
    assert (v["B1"], v["B2"], v["B3"], v["B4"]) == (0.0, 1.0, 1.0, "")


def test_lazy_if_and_iferror_evaluate_only_what_they_need() -> None:
    v = calc({"A1": "=IF(TRUE,1,1/0)", "A2": "=IFERROR(1/0,\"none\")", "A3": "=IFNA(NA(),2)", "A4": "=IF(FALSE,1)",
              "A5": "=IFS(FALSE,1,TRUE,2)", "A6": "=SWITCH(2,1,\"a\",2,\"b\",\"c\")", "A7": "=SWITCH(9,1,\"a\")"})
    assert (v["A1"], v["A2"], v["A3"], v["A4"], v["A5"], v["A6"], v["A7"]) == (1.0, "none", 2.0, False, 2.0, "b", NA)


def test_switch_over_an_array_goes_element_by_element() -> None:
    # formulas_test.xlsx LOGICAL!AI25: SWITCH(C25:Q25, ...) in an array formula
    const = {"A1": 1.0, "B1": 2.0, "C1": 3.0}
    v = calc({"A3": "=SWITCH(A1:C1,1,\"one\",2,\"two\",\"other\")"}, const, arrays={"A3": "A3:C3"})
    assert (v["A3"], v["B3"], v["C3"]) == ("one", "two", "other")


def test_reference_operators() -> None:
    const = {"B2": 5.0, "C3": 7.0}
    v = calc({"A1": "=SUM(B2:C3 C2:C4)", "A2": "=COLUMN(B2:B3 C2:C3)", "A3": "=SUM(B2:INDEX(B2:C3,2,2))",
              "A4": "=ROWS(A1:B2:C5)"}, const)
    assert (v["A1"], v["A2"], v["A3"], v["A4"]) == (7.0, NULL, 12.0, 5.0)


def test_filled_formulas_share_one_compiled_shape_and_keep_their_own_cells() -> None:
    assert shape_key("=SUM(Data!B5:G5)*$A$1")[0] == shape_key("=SUM(Data!B9:G9)*$A$2")[0]
    assert shape_key("=SUM(Data!B5:G5)")[1] == (5, 2, 5, 7)
    assert shape_key('="A1"&\'Q1 2024\'!A1')[1] == (1, 1)  # text and a quoted sheet name are not references
    const = {f"A{r}": float(r) for r in range(1, 6)}
    v = calc({f"B{r}": f"=A{r}*10+SUM($A$1:A{r})" for r in range(1, 6)}, const)
    assert [v[f"B{r}"] for r in range(1, 6)] == [11.0, 23.0, 36.0, 50.0, 65.0]


def test_a_reference_the_two_readings_disagree_on_is_compiled_alone() -> None:
    # XFE1 looks like a cell to the shape key but is past Excel's last column: a name to the grammar
    v = calc({"A1": "=IFERROR(XFE1,-1)+B1", "A2": "=IFERROR(XFE2,-1)+B2"}, {"B1": 1.0, "B2": 2.0})
    assert (v["A1"], v["A2"]) == (0.0, 1.0)


def test_names_tables_and_indirect() -> None:
    table = Table("Sales", "S", 1, 1, 4, 2, 1, 0, ("Item", "Qty"))
    const = {"A1": "Item", "B1": "Qty", "A2": "x", "B2": 2.0, "A3": "y", "B3": 3.0, "A4": "z", "B4": 4.0}
    v = calc({"C3": "=Sales[@Qty]*10", "D1": "=SUM(Sales[Qty])", "D2": "=ROWS(Sales[#All])", "D3": "=INDIRECT(\"B\"&3)",
              "D4": "=Rate*2", "D5": "=NoSuchName", "D6": "=COUNTA(Sales[[Item]:[Qty]])"},
             const, tables={"SALES": table}, names={"RATE": "=0.5"})
    assert (v["C3"], v["D1"], v["D2"], v["D3"], v["D4"], v["D5"], v["D6"]) == (30.0, 9.0, 4.0, 3.0, 1.0, NAME, 6.0)


def test_a_circular_reference_is_listed_and_keeps_its_stored_value() -> None:
    book = Book(["S"], {}, excel_functions())
    for key, text in ((("S", 1, 1), "=B1+1"), (("S", 1, 2), "=A1+1"), (("S", 2, 1), "=5")):
        assert book.add_formula(key, text) == ""
    book.stored = {("S", 1, 2): 41.0}.get
    book.set_arrays({})
    book.run()
    assert "circular" in book.failed[("S", 1, 2)] and book.cells[("S", 1, 2)] == 41.0
    assert book.cells[("S", 2, 1)] == 5.0


def test_a_defect_in_one_function_costs_that_cell_only() -> None:
    def broken(*args: Any) -> Any:
        raise KeyError("a bug")

    book = Book(["S"], {}, {**excel_functions(), "BROKEN": broken})
    assert book.add_formula(("S", 1, 1), "=BROKEN(1)") == "" and book.add_formula(("S", 2, 1), "=A1+1") == ""
    book.stored = {("S", 1, 1): 7.0}.get
    book.set_arrays({})
    book.run()
    assert "BROKEN failed" in book.failed[("S", 1, 1)] or "broken failed" in book.failed[("S", 1, 1)]
    assert book.cells[("S", 2, 1)] == 8.0  # its reader sees the stored value


def test_what_cannot_be_compiled_says_why() -> None:
    book = Book(["S"], {}, excel_functions())
    assert "lacks" in book.add_formula(("S", 1, 1), "=NOSUCHFUNCTION(1)")
    assert "LAMBDA" in book.add_formula(("S", 2, 1), "=_xlfn.BYROW(A1:B2,_xleta.SUM)") or \
        "lacks" in book.add_formula(("S", 2, 1), "=_xlfn.BYROW(A1:B2,_xleta.SUM)")
    assert "parsed" in book.add_formula(("S", 3, 1), "=SUM(1,")


@pytest.mark.parametrize("text", ["=1+", "=SUM((1)", "={1,2"])
def test_syntax_errors_are_refused_by_the_grammar(text: str) -> None:
    from xl_var_cli.workbook.calc.grammar import FormulaSyntaxError

    with pytest.raises(FormulaSyntaxError):
        parse(text, 1, 1)


def test_array_constants() -> None:
    v = calc({"A1": "={1,2;3,4}", "B1": "=SUM({1,2;3,-4})", "C1": "=INDEX({1,2;3,4},2,1)"})
    assert (v["A1"], v["B1"], v["C1"]) == (1.0, 2.0, 3.0)
    rows = ((("num", 1.0), ("num", -2.0)), (("str", "a"), ("bool", True)))
    assert parse("={1,-2;\"a\",TRUE}", 1, 1)[0] == ("array", rows)


def test_text_becomes_the_same_number_in_arithmetic_value_and_datevalue() -> None:
    """One reader of numbers, dates and times written as text (Microsoft, "VALUE function")."""
    for text, number in (("1/1/1987 02:00 AM", 31778 + 2 / 24), ("(12)", -12.0), ("0:0:9999", 9999 / 86400),
                         ("1/1/1900", 1.0), ("3/1/1900", 61.0), ("January 31, 2020", 43861.0), ("5%", 0.05)):
        v = calc({"A1": f'="{text}"+0', "A2": f'=VALUE("{text}")'})
        assert v["A1"] == pytest.approx(number, rel=1e-12) and v["A2"] == v["A1"], text
    v = calc({"A1": '=DATEVALUE("1/1/1987 02:00 AM")+TIMEVALUE("1/1/1987 02:00 AM")', "A2": '="1/32/2020"+0'})
    assert v["A1"] == pytest.approx(31778 + 2 / 24, rel=1e-12) and v["A2"] is VALUE


def test_a_spill_that_shrinks_leaves_empty_cells_behind() -> None:
    """Cells an old, larger spill filled read as empty in the pass that shrinks it (not as leftovers)."""
    import openpyxl
    from openpyxl.worksheet.formula import ArrayFormula

    from xl_var_cli.workbook.engine import evaluate

    wb = openpyxl.Workbook()
    wb.active["A1"] = ArrayFormula("A1:A4", "=SEQUENCE(2)")  # stored when it spilled over four rows
    wb.active["B1"] = '=A4&"x"'
    ev = evaluate(wb, dynamic=[("Sheet", "A1")])
    assert ev.arrays[("Sheet", "A1")] == "A1:A2" and ev.values[("Sheet", "B1")] == "x"
    assert ev.cleared == {("Sheet", "A3"), ("Sheet", "A4")} and not ev.skipped
