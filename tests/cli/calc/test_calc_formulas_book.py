"""Functions fixed against the values Mac Excel cached in ``formulas_test.xlsx`` (the corpus
workbook of the ``formulas`` package): Analysis ToolPak functions refusing ranges, the Mac
character set of CHAR/CODE, SKEW, BAHTTEXT, complex numbers, N/T, SUBSTITUTE, UNIQUE, TEXTAFTER."""

from __future__ import annotations

from typing import Any

import pytest

from xl_var_cli.workbook.calc.functions import complexnum, engineering, reference, spelled, statistics, text
from xl_var_cli.workbook.calc.functions.dates import FUNCTIONS as DATES
from xl_var_cli.workbook.calc.functions.info import FUNCTIONS as INFO
from xl_var_cli.workbook.calc.operands import NA, NUM, VALUE, ExcelError, Grid, scalar_only


def call(table: dict[str, Any], name: str, *args: Any) -> Any:
    try:
        return table[name](*args)
    except ExcelError as exc:
        return exc.error


# ----------------------------------------------------------------------------- scalar_only
def test_scalar_only_refuses_arrays_and_marks_intersection() -> None:
    fn = scalar_only(lambda x: x + 1.0)
    assert fn.scalar_parameters is True
    assert fn(Grid([[1.0]])) == 2.0
    assert fn(Grid([[1.0, 2.0]])) is VALUE


@pytest.mark.parametrize(("table", "name", "args"), [
    (DATES, "EDATE", (Grid([[1.0, 2.0]]), 1.0)),
    (DATES, "EOMONTH", (31778.0, Grid([[1.0], [2.0]]))),
    (DATES, "YEARFRAC", (Grid([[1.0, 2.0]]), 400.0)),
    (DATES, "WEEKNUM", (Grid([[1.0, 2.0]]),)),
    (INFO, "ISODD", (Grid([[1.0, 2.0]]),)),
    (INFO, "ISEVEN", (Grid([[1.0, 2.0]]),)),
    (engineering.FUNCTIONS, "HEX2DEC", (Grid([["A", "B"]]),)),
    (engineering.FUNCTIONS, "DELTA", (Grid([[1.0, 2.0]]),)),
    (engineering.FUNCTIONS, "GESTEP", (Grid([[1.0, 2.0]]),)),
    (complexnum.FUNCTIONS, "IMCOS", (Grid([["1+i", "2"]]),)),
])
def test_analysis_toolpak_functions_give_value_for_a_range(table: dict[str, Any], name: str, args: tuple) -> None:
    assert call(table, name, *args) is VALUE


def test_analysis_toolpak_functions_still_compute_scalars() -> None:
    assert call(DATES, "EDATE", 31778.0, 1.0) == 31809.0
    assert call(INFO, "ISODD", 3.0) is True
    assert call(engineering.FUNCTIONS, "HEX2DEC", "FF") == 255.0


# ----------------------------------------------------------------------------- CHAR / CODE on the Mac
@pytest.mark.parametrize(("code", "windows", "mac"), [(128, "€", "Ä"), (129, "\x81", "Å"), (157, "\x9d", "ù"),
                                                       (65, "A", "A")])
def test_char_uses_the_mac_character_set_in_mac_functions(code: int, windows: str, mac: str) -> None:
    assert call(text.FUNCTIONS, "CHAR", float(code)) == windows
    assert call(text.MAC_FUNCTIONS, "CHAR", float(code)) == mac
    assert call(text.MAC_FUNCTIONS, "CODE", mac) == float(code)


def test_mac_code_of_a_character_outside_the_set_is_63() -> None:
    assert call(text.MAC_FUNCTIONS, "CODE", "\u4e00") == 63.0


# ----------------------------------------------------------------------------- SKEW
def test_skew_matches_excel_to_the_last_bit() -> None:
    xs = Grid([[0.0, 0.1, 0.2, 0.3, -0.1]])
    assert call(statistics.FUNCTIONS, "SKEW", xs) == -1.1102230246251565e-15  # Excel's cached value
    assert call(statistics.FUNCTIONS, "SKEW.P", xs) == -6.217248937900876e-16
    assert call(statistics.FUNCTIONS, "SKEW", Grid([[0.3, -0.1, -0.1]])) == pytest.approx(1.7320508075688767)


def test_skew_needs_three_values_and_spread() -> None:
    assert call(statistics.FUNCTIONS, "SKEW", Grid([[1.0, 2.0]])).code == "#DIV/0!"
    assert call(statistics.FUNCTIONS, "SKEW", Grid([[1.0, 1.0, 1.0]])).code == "#DIV/0!"


# ----------------------------------------------------------------------------- BAHTTEXT
@pytest.mark.parametrize(("number", "words"), [
    (0.0, "ศูนย์บาทถ้วน"), (157.0, "หนึ่งร้อยห้าสิบเจ็ดบาทถ้วน"), (65.8, "หกสิบห้าบาทแปดสิบสตางค์"),
    (-1.0, "ลบหนึ่งบาทถ้วน"), (True, "หนึ่งบาทถ้วน"), (21.0, "ยี่สิบเอ็ดบาทถ้วน"),
    (1234567.0, "หนึ่งล้านสองแสนสามหมื่นสี่พันห้าร้อยหกสิบเจ็ดบาทถ้วน"),
])
def test_bahttext(number: Any, words: str) -> None:
    assert call(spelled.FUNCTIONS, "BAHTTEXT", number) == words


# ----------------------------------------------------------------------------- complex numbers
@pytest.mark.parametrize(("name", "args", "expected"), [
    ("IMCOS", ("7+25j",), "27142327967.109-23653126953.379j"),
    ("IMCOT", ("13+5j",), "0.0000692442674613868-1.00005873951153j"),
    ("IMCOT", ("7+25j",), "3.82126757337684E-22-j"),
    ("IMCSCH", ("13+5j",), "1.28233995888454E-06+4.33496947416312E-06j"),
    ("IMCSC", ("3.1+2j",), "0.0118908807944521+0.275445903842597j"),
    ("IMPOWER", ("-3+2i", 2.3), "17.5176143915122-7.61220636461807i"),
    ("IMPRODUCT", ("3.1+2j", "13+5j"), "30.3+41.5j"),
    ("IMPRODUCT", (None, "-13+25j"), "0"),
    ("IMSUM", (Grid([["7+25j", "13+5j"]]), "3.1+2j"), "23.1+32j"),
    ("IMSUM", ("13+5j", "-3+2i"), VALUE),
    ("IMSUB", ("3.1+2j", "-3+2i"), NUM),
    ("IMCOS", ("yvj",), NUM),
    ("IMCOS", (True,), VALUE),
    ("IMCOS", (NA,), NA),
    ("IMCOS", (None,), "1"),
])
def test_complex_functions_write_excels_text(name: str, args: tuple, expected: Any) -> None:
    assert call(complexnum.FUNCTIONS, name, *args) == expected


# ----------------------------------------------------------------------------- N, T, SUBSTITUTE, TEXTAFTER
def test_n_and_t_read_the_first_value_of_an_array() -> None:
    assert call(text.FUNCTIONS, "N", Grid([[4.0, 1.0, "x"]])) == 4.0
    assert call(text.FUNCTIONS, "T", Grid([["26/08/1987", 1.0]])) == "26/08/1987"
    assert call(text.FUNCTIONS, "T", Grid([[None, "a"]])) == ""


def test_substitute_refuses_an_empty_or_logical_instance() -> None:
    assert call(text.FUNCTIONS, "SUBSTITUTE", "a-a", "a", "b") == "b-b"
    assert call(text.FUNCTIONS, "SUBSTITUTE", "a-a", "a", "b", 2.0) == "a-b"
    assert call(text.FUNCTIONS, "SUBSTITUTE", "a-a", "a", "b", None) is VALUE
    assert call(text.FUNCTIONS, "SUBSTITUTE", "a-a", "a", "b", True) is VALUE


def test_textafter_lifts_over_its_instance_number() -> None:
    out = call(text.FUNCTIONS, "TEXTAFTER", "1,2,3,4,5", Grid([["3", "4"]]), Grid([[1.0, -1.0, 9.0]]))
    assert out == Grid([[",4,5", ",5", NA]])


# ----------------------------------------------------------------------------- UNIQUE
def test_unique_with_an_array_of_flags_gives_one_value_per_flag() -> None:
    out = call(reference.FUNCTIONS, "UNIQUE", Grid([[2.0, 1.0, 2.0, 1.0]]), Grid([[1.0, 1.0, 1.0]]))
    assert isinstance(out, Grid) and out.shape == (1, 3)
