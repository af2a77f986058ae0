"""The conversion layer: Excel-shaped values in, cells out, errors as one line."""

import datetime as dt
import decimal
import fractions
import math

import numpy as np
import pytest

from xl_var import XlVarError
from xl_var_udfs import arguments, cells, excel, guard, logs
from xl_var_udfs.excel import ExcelError, read_table, read_vector

D = [dt.datetime(2024, 1, d) for d in range(1, 8)]


def _line(fn, *args, **kwargs) -> str:
    with pytest.raises(ExcelError) as info:
        fn(*args, **kwargs)
    return info.value.line


# ----------------------------------------------------------------------------- tables
def test_header_row_and_date_column_are_detected():
    rng = [["Date", "BTC", "ETH"], [D[0], 0.01, -0.02], [D[1], 0.03, 0.04], [D[2], -0.05, 0.0]]
    t = read_table(rng, "returns")
    np.testing.assert_array_equal(t.values, [[0.01, -0.02], [0.03, 0.04], [-0.05, 0.0]])
    assert t.names == ("BTC", "ETH")
    assert t.labels == D[:3] and t.header == ["Date", "BTC", "ETH"]
    assert t.rows.tolist() == [2, 3, 4] and t.first_column == 2


def test_plain_numbers_get_default_names_and_no_labels():
    t = read_table([[0.01, 0.02], [0.03, 0.04]], "returns")
    assert t.names == ("Asset 1", "Asset 2") and t.labels is None and t.header is None
    assert t.values.shape == (2, 2) and t.rows.tolist() == [1, 2]


def test_header_without_date_column_and_blank_corner_cell():
    t = read_table([[None, "A", "B"], ["d1", 1.0, 2.0], ["d2", 3.0, 4.0]], "returns")
    assert t.names == ("A", "B") and t.labels == ["d1", "d2"]
    t = read_table([["A", "B"], [1.0, 2.0], [3.0, 4.0]], "returns")
    assert t.names == ("A", "B") and t.labels is None


def test_date_serials_are_a_label_column_but_small_whole_prices_are_not():
    serials = [[45292 + i, 0.01 * i, 0.02] for i in range(4)]
    t = read_table(serials, "returns")
    assert t.labels == [45292, 45293, 45294, 45295] and t.values.shape == (4, 2)
    prices = [[100, 50], [101, 51], [103, 52]]
    assert read_table(prices, "prices").values.shape == (3, 2)


def test_trailing_blank_rows_and_columns_are_ignored():
    rng = [[0.01, 0.02, None], [0.03, 0.04, ""], [None, None, None], [None, "", None]]
    assert read_table(rng, "returns").values.shape == (2, 2)
    wide = [[0.01 * t, "#N/A" if t == 3 else 0.02, *([None] * (t % 3)), *([""] * 5)] for t in range(6)]
    t = read_table(wide, "returns", missing="drop")  # ragged rows, blanks beyond a hole: 2 columns kept
    assert t.values.shape == (5, 2) and t.rows.tolist() == [1, 2, 3, 5, 6]
    leading = _line(read_table, [[None, 0.5, None], [None, 0.7, None]], "r")  # only trailing ones go
    assert leading == "#VALUE! r row 1, column 1 is blank" + excel._HINT


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("#N/A", "#VALUE! returns row 12, column 3 is #N/A"),
        (None, "#VALUE! returns row 12, column 3 is blank"),
        ("#DIV/0!", "#VALUE! returns row 12, column 3 is #DIV/0!"),
        ("abc", "#VALUE! returns row 12, column 3 is text ('abc'), not a number"),
        (True, "#VALUE! returns row 12, column 3 is TRUE, not a number"),
        (D[0], "#VALUE! returns row 12, column 3 is a date, not a number"),
    ],
)
def test_a_bad_cell_is_named_by_its_position_in_the_selected_range(bad, says):
    # header row + date column: data row 11 is range row 12, data column 2 is range column 3
    rng = [["Date", "A", "B"]] + [[dt.datetime(2024, 1, 1) + dt.timedelta(i), 0.01, 0.02] for i in range(15)]
    rng[11][2] = bad
    assert _line(read_table, rng, "returns").startswith(says)


def test_missing_drop_leaves_out_rows_with_blanks_or_errors_only():
    rng = [["Date", "A", "B"], [D[0], 0.01, 0.02], [D[1], None, 0.03], [D[2], 0.04, "#N/A"],
           [D[3], 0.05, 0.06]]
    t = read_table(rng, "returns", missing="drop")
    np.testing.assert_array_equal(t.values, [[0.01, 0.02], [0.05, 0.06]])
    assert t.rows.tolist() == [2, 5] and t.labels == [D[0], D[3]]
    rng[2][1] = "abc"
    says = _line(read_table, rng, "returns", missing="drop")
    assert says.startswith("#VALUE! returns row 3, column 2 is text")
    says = _line(read_table, [[None, 1.0], [2.0, "#N/A"]], "r", missing="drop")
    assert says.startswith("#VALUE! r has no row")


def test_error_values_propagate():
    assert _line(read_table, "#N/A", "returns") == "#N/A returns is #N/A"
    assert _line(read_table, [["#REF!"]], "returns") == "#REF! returns is #REF!"
    upstream = "#VALUE! prices row 3, column 2 is blank"
    assert _line(read_table, [[upstream]], "returns") == upstream
    assert _line(read_table, None, "returns") == "#VALUE! returns is blank: select a range of numbers"
    says = _line(read_table, [["A", "B"]], "returns")
    assert says.startswith("#VALUE! returns has a header row but no numbers")


def test_only_excel_error_codes_are_errors_not_text_starting_with_a_hash():
    assert all(excel.is_error(code) for code in excel.ERROR_CODES)
    assert excel.is_error("#VALUE! prices row 3, column 2 is blank")  # an xl-var error line
    for text in ("#1 Bond", "#tbd", "#", "#N/Anything", "#value!", " #N/A", "N/A"):
        assert not excel.is_error(text), text
    t = read_table([["Date", "#1 Bond", "#2 Bond"], [D[0], 0.01, 0.02], [D[1], 0.03, 0.04]], "returns")
    assert t.names == ("#1 Bond", "#2 Bond") and t.header == ["Date", "#1 Bond", "#2 Bond"]
    rng = [["A", "B"], [0.01, 0.02], [0.03, "#tbd"], [0.05, "#N/A"], [0.07, 0.08]]
    says = _line(read_table, rng, "returns", missing="drop")  # text is never dropped, unlike an error
    assert says == "#VALUE! returns row 3, column 2 is text ('#tbd'), not a number"
    rng[2][1] = 0.04
    assert read_table(rng, "returns", missing="drop").rows.tolist() == [2, 3, 5]
    assert arguments.opt_text("#tbd", "method", "x") == "#tbd"  # text, not an error value to pass on


def test_numpy_arrays_and_ragged_rows_are_accepted():
    t = read_table(np.array([["A", "B"], [0.1, 0.2]], dtype=object), "returns")
    assert t.names == ("A", "B") and t.values.tolist() == [[0.1, 0.2]]
    assert read_table(np.array([[1.0, 2.0], [3.0, 4.0]]), "r").values.tolist() == [[1, 2], [3, 4]]
    assert _line(read_table, [[1.0, 2.0], [3.0]], "r") == "#VALUE! r row 2, column 2 is blank" + excel._HINT


def _big_range(fill=None):
    """A 1000×20 block of floats (``fill`` everywhere when given) under a header row, beside a date column."""
    x = np.random.default_rng(5).standard_t(4, size=(1000, 20)) * 0.01 if fill is None else np.full((1000, 20), fill)
    head = [["Date", *(f"A{j}" for j in range(20))]]
    return head + [[D[0] + dt.timedelta(i), *row] for i, row in enumerate(x.tolist())], x


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (True, "TRUE, not a number"),
        (np.False_, "FALSE, not a number"),
        ("1.5", "text ('1.5'), not a number"),
        ("nan", "text ('nan'), not a number"),
        (D[0], "a date, not a number"),
        (None, "blank" + excel._HINT),
        ("#N/A", "#N/A" + excel._HINT),
    ],
)
@pytest.mark.parametrize("fill", [None, 0.0, 1.0])
def test_a_bad_cell_deep_in_a_large_numeric_range_is_named(bad, says, fill):
    # the whole-block fast path must not take it as a number (bools among many cells that read 0 or 1)
    rng, _ = _big_range(fill)
    rng[700][15] = bad
    assert _line(read_table, rng, "returns") == f"#VALUE! returns row 701, column 16 is {says}"


def test_a_large_numeric_range_reads_exactly():
    rng, x = _big_range()
    rng[5][3], rng[6][4], rng[7][5], rng[8][6] = -0.0, math.inf, 7, np.float32(0.5)
    x[4, 2], x[5, 3], x[6, 4], x[7, 5] = -0.0, math.inf, 7.0, 0.5
    t = read_table(rng, "returns")
    np.testing.assert_array_equal(t.values, x)
    assert math.copysign(1.0, t.values[4, 2]) == -1.0 and t.values.flags.writeable
    assert t.names[0] == "A0" and t.labels[999] == D[0] + dt.timedelta(999)
    rng[500][9], rng[600][1] = None, "#DIV/0!"
    t = read_table(rng, "returns", missing="drop")
    assert t.values.shape == (998, 20) and 501 not in t.rows and 601 not in t.rows


def test_engine_positions_are_rewritten_to_range_positions():
    rng = [["Date", "A", "B"], [D[0], 1.0, 2.0], [D[1], None, 3.0], [D[2], 4.0, 5.0]]
    t = read_table(rng, "prices", missing="drop")
    err = t.locate(XlVarError("prices row 2, column 1 is 0: prices must be finite positive numbers"),
                   "prices")
    assert err.line == "#NUM! prices row 4, column 2 is 0: prices must be finite positive numbers"
    err = t.locate(XlVarError("prices column 3 does not move: remove that asset"), "prices")
    assert err.line == "#VALUE! prices column 4 does not move: remove that asset"
    err = t.locate(XlVarError("prices row 9, column 1 is bad"), "prices")
    assert err.line == "#VALUE! prices row 9, column 1 is bad"  # not a row of the table: left alone
    other = t.locate(XlVarError("method must be one of 'a', 'b'; got 'x'"), "prices")
    assert other.line == "#VALUE! method must be one of 'a', 'b'; got 'x'"


# ----------------------------------------------------------------------------- vectors
@pytest.mark.parametrize(
    ("rng", "is_row"),
    [
        ([[0.5, 0.3, 0.2]], True),
        ([[0.5], [0.3], [0.2]], False),
        ([["Weight"], [0.5], [0.3], [0.2]], False),
        ([["w", 0.5, 0.3, 0.2]], True),
        ([["BTC", 0.5], ["ETH", 0.3], ["SOL", 0.2]], False),
        ([["Asset", "Weight"], ["BTC", 0.5], ["ETH", 0.3], ["SOL", 0.2]], False),
        ([["BTC", "ETH", "SOL"], [0.5, 0.3, 0.2]], True),
        ([0.5, 0.3, 0.2], True),
    ],
)
def test_weights_as_row_column_or_labelled_block(rng, is_row):
    v = read_vector(rng, "weights", size=3)
    np.testing.assert_array_equal(v.values, [0.5, 0.3, 0.2])
    assert v.is_row is is_row


def test_vector_errors_name_size_shape_and_position():
    assert _line(read_vector, [[0.5], [0.3], [0.2]], "weights", size=4) == (
        "#VALUE! weights has 3 entries but returns has 4 columns"
    )
    assert _line(read_vector, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "weights").startswith(
        "#VALUE! weights must be a single row or column (got 2 rows × 3 columns)"
    )
    assert _line(read_vector, [["BTC", 0.5], ["ETH", "#N/A"]], "weights").startswith(
        "#VALUE! weights row 2, column 2 is #N/A"
    )
    says = _line(read_vector, [["w", 0.5, None, 0.2]], "weights")
    assert says.startswith("#VALUE! weights row 1, column 3 is blank")
    kept = read_vector([[1.0], [None], ["#N/A"]], "realized", missing="keep").values
    assert kept[0] == 1.0 and np.isnan(kept[1:]).all()


def test_omitted_optional_ranges():
    for x in (None, "", [[None]], [[None, ""], [" ", None]], np.array([[None]], dtype=object), ((None,),)):
        assert excel.is_omitted(x)
    for x in (0.0, [[None, 0.0]], "#N/A", [["x"]]):
        assert not excel.is_omitted(x)


def test_a_single_cell_is_a_one_entry_vector():
    assert read_vector(0.7, "weights", size=1).values.tolist() == [0.7]
    assert read_vector([[0.7]], "weights", size=1).values.tolist() == [0.7]


# ----------------------------------------------------------------------------- scalars
@pytest.mark.parametrize(
    ("x", "expected"),
    [(None, 0.99), ("", 0.99), (0.95, 0.95), (95, 95.0), ("99%", 0.99), (" 0.9 ", 0.9), ([[0.975]], 0.975),
     ("1,000,000", 1e6), ("1,234.5", 1234.5), ("$1,250,000", 1.25e6), ("(1,234)", -1234.0), ("-1.5%", -0.015),
     ("0.39%", 0.0039), (np.float64(0.5), 0.5)],
)
def test_numbers_blank_default_percent_text_and_single_cell_ranges(x, expected):
    assert arguments.opt_number(x, "confidence", 0.99) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("x", "says"),
    [
        ("abc", "#VALUE! confidence must be a number; got text ('abc')"),
        (True, "#VALUE! confidence must be a number; got TRUE"),
        ([[0.9, 0.95]], "#VALUE! confidence must be a single value, not a range of 1 × 2 cells"),
        ("#N/A", "#N/A confidence is #N/A"),
        (D[0], "#VALUE! confidence must be a number; got a date"),
    ],
)
def test_bad_numbers(x, says):
    assert _line(arguments.opt_number, x, "confidence", 0.99) == says


def test_text_choice_and_bool_options():
    assert arguments.opt_text(None, "method", "historical") == "historical"
    assert arguments.opt_text(" Normal ", "method", "historical") == "Normal"
    says = _line(arguments.opt_text, 3.0, "method", "historical")
    assert says.startswith('#VALUE! method must be text such as')
    assert arguments.opt_choice("DROP", "missing", {"raise": (), "drop": ()}, "raise") == "drop"
    assert _line(arguments.opt_choice, "skip", "missing", {"raise": (), "drop": ()}, "raise").startswith(
        "#VALUE! missing must be one of 'raise', 'drop'"
    )
    for x, want in [(None, True), (False, False), (0, False), (1.0, True), ("FALSE", False), ("yes", True)]:
        assert arguments.opt_bool(x, "headers", True) is want
    assert _line(arguments.opt_bool, 2, "headers", True) == "#VALUE! headers must be TRUE or FALSE; got 2"


def test_confidence_horizon_and_lambda_options():
    assert arguments.opt_confidence(None) == 0.99 and arguments.opt_confidence("97.5%") == 0.975
    assert arguments.opt_confidence(None, 0.95) == 0.95
    assert _line(arguments.opt_confidence, 99).startswith("#NUM! confidence must be between 0 and 1")
    assert _line(arguments.opt_confidence, "x").startswith("#VALUE! confidence must be a number")
    assert arguments.opt_horizon(None) == 1 and arguments.opt_horizon(10.0) == 10 and arguments.opt_horizon("", 5) == 5
    assert isinstance(arguments.opt_horizon(10.0), int)
    for bad in (0, 2.5, -1):
        assert _line(arguments.opt_horizon, bad).startswith("#NUM! horizon must be a whole number of periods")
    assert arguments.opt_lambda(None) == 0.94 and arguments.opt_lambda("97%") == 0.97
    assert _line(arguments.opt_lambda, 1).startswith("#NUM! lam must be a decay factor between 0 and 1")
    assert arguments.opt_missing(None) == "raise" and arguments.opt_missing(" Drop ") == "drop"


# ----------------------------------------------------------------------------- errors and results
@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("confidence must be between 0 and 1 (e.g. 0.99 or 99%); got 5", "#NUM!"),
        ("the portfolio has zero variance: no parametric VaR", "#NUM!"),
        ("intensity must be in [0, 1]; got 2: did you mean 0.2?", "#NUM!"),
        ("weights has 3 entries but returns has 4 columns: give one per asset", "#VALUE!"),
        ("method must be one of 'normal', 't'; got 'x'", "#VALUE!"),
        ("returns has 3 usable rows but the t method needs at least 10: give more history", "#VALUE!"),
    ],
)
def test_engine_errors_map_to_num_for_domain_and_value_otherwise(message, code):
    assert cells.as_excel_error(XlVarError(message)).line == f"{code} {message}"


def test_cells_never_hold_nan_or_inf():
    assert [excel.cell(x) for x in (1, np.float64(2.5), None, "x", math.nan, math.inf, True)] == [
        1.0, 2.5, "", "x", "#N/A", "#N/A", True,
    ]
    assert excel.spill_matrix(np.eye(2), "m") == [[1.0, 0.0], [0.0, 1.0]]
    assert _line(excel.spill_matrix, np.array([[1.0, np.nan]]), "the matrix").startswith("#NUM! the matrix")
    assert _line(excel.number, -math.inf, "VaR") == "#NUM! VaR has no finite value for these inputs"


# ----------------------------------------------------------------------------- guard and log
def test_guard_turns_every_failure_into_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("XLVAR_LOG_DIR", str(tmp_path))

    @guard.excel_function
    def FN(x, y=None):
        if x == "excel":
            raise ExcelError("#VALUE!", "x is wrong")
        if x == "engine":
            raise XlVarError("horizon must be positive")
        if x == "nan":
            return math.nan
        return 1 / 0

    assert FN("excel") == "#VALUE! x is wrong"
    assert FN("engine") == "#NUM! horizon must be positive"
    assert FN("nan") == "#NUM! the result has no finite value for these inputs"
    line = FN([[1.0, 2.0]], y="secret-free")
    assert line.startswith("#VALUE! internal error: ZeroDivisionError: division by zero (details in ")
    assert "\n" not in line
    log = (tmp_path / logs.LOG_NAME).read_text()
    assert "FN" in log and "Traceback" in log and "ZeroDivisionError" in log
    assert "<range 1x2>" in log and "1.0" not in log


def test_the_internal_error_path_describes_any_argument_without_raising(tmp_path, monkeypatch):
    monkeypatch.setenv("XLVAR_LOG_DIR", str(tmp_path))

    class Unprintable:
        def __repr__(self):
            raise RuntimeError("no repr")

    @guard.excel_function
    def FN(*args, **kwargs):
        raise KeyError("bug")

    line = FN(np.array(0.5), [[1.0, 2.0], [3.0]], Unprintable(), x=np.zeros((3, 4)), y=[0.1, 0.2, 0.3])
    assert line.startswith("#VALUE! internal error: KeyError: 'bug' (details in ")
    log = (tmp_path / logs.LOG_NAME).read_text()
    assert "arguments: <range 1x1>, <list, not described: ValueError>, <Unprintable, not described: " \
           "RuntimeError>, x=<range 3x4>, y=<range 3x1>" in log


def test_log_folder_rule(tmp_path, monkeypatch):
    monkeypatch.delenv("XLVAR_LOG_DIR", raising=False)
    monkeypatch.setattr(logs.sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert logs.log_dir() == tmp_path / "local" / "xl-var" / "logs"
    monkeypatch.setattr(logs.sys, "platform", "linux")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert logs.log_dir() == tmp_path / "state" / "xl-var" / "logs"
    monkeypatch.setenv("XLVAR_LOG_DIR", str(tmp_path / "mine"))
    assert logs.log_dir() == tmp_path / "mine"


def test_log_rotates_and_never_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("XLVAR_LOG_DIR", str(tmp_path))
    (tmp_path / logs.LOG_NAME).write_text("x" * 1_000_001)
    assert logs.log_exception("F", ValueError("boom")) == tmp_path / logs.LOG_NAME
    assert (tmp_path / (logs.LOG_NAME + ".1")).stat().st_size == 1_000_001
    assert "boom" in (tmp_path / logs.LOG_NAME).read_text()
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XLVAR_LOG_DIR", str(blocker / "sub"))
    assert logs.log_exception("F", ValueError("boom")) is None
    assert guard.internal_error_line(ValueError("a\nb"), "F") == "#VALUE! internal error: ValueError: a"


@pytest.mark.parametrize("fast", [True, False], ids=["all-numbers block", "block with a blank"])
def test_the_fast_and_the_cell_by_cell_path_agree_on_unusual_numbers(fast: bool) -> None:
    # Whether or not another cell forces the careful path, the same cells are numbers.
    rows = [[0.01, 0.02], [-0.02, 0.01], [0.03, -0.01], [0.0, 0.02]] * 10
    if not fast:
        rows[20] = [None, 0.01]

    def read(cell: object) -> object:
        data = [list(r) for r in rows]
        data[5][0] = cell
        try:
            return read_table(data, "returns", missing="drop").values[5, 0]
        except ExcelError as exc:
            return exc.line

    assert read(decimal.Decimal("0.25")) == 0.25 and read(fractions.Fraction(1, 4)) == 0.25
    assert read(np.float32(0.25)) == 0.25 and read(np.int64(2)) == 2.0
    assert read(np.complex128(0.25)) == "#VALUE! returns row 6, column 1 is complex128 ('(0.25+0j)'), not a number"
    assert read(np.timedelta64(3, "D")) == "#VALUE! returns row 6, column 1 is timedelta64 ('3 days'), not a number"
