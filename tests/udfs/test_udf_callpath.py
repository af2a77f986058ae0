"""The call path from a cell, run on Linux: the add-in's VBA wrapper -> ``xlwings.udfs.call_udf`` -> a cell.

Excel's wrapper calls ``XLPy.CallUDF("xl_var_udfs", name, Array(every argument), ActiveWorkbook,
Application.Caller)``; xlwings' COM server then runs ``udfs.call_udf`` with the values as pywin32
delivers them: a cell reference is a Range object whose ``.Value`` is a scalar (one cell) or a tuple
of row tuples, every number a float, an error an integer HRESULT (``0x800A0000 + xlErr``: #N/A is
-2146826246), a date a timezone-aware ``pywintypes`` datetime, currency a ``Decimal``, an omitted
argument -2147352572; the argument is then converted by xlwings' own converters with each function's
``ndim``/``err_to_str`` options, and the result written back by them.

This file runs that real function. Run as a script (in a subprocess, so the stubs leak nowhere) it
stubs ``pythoncom``, ``pywintypes``, ``win32api``..., imports the real ``xlwings._xlwindows`` (its
error table, date and range-value conversions) and ``xlwings.udfs``, and calls ``call_udf`` for every
case below with fake COM objects (Range, caller, workbook), printing the pickled cell values. The
tests compare them with the functions called directly with the plain Python values the other tests
use, and with the exact values expected for error, date, blank and missing arguments.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import pickle
import subprocess
import sys
import types
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Microsoft, "XlCVError enumeration": the error numbers; VBA's CVErr hands them to COM as 0x800A0000 + number.
XL_ERRORS = {"#NULL!": 2000, "#DIV/0!": 2007, "#VALUE!": 2015, "#REF!": 2023, "#NAME?": 2029, "#NUM!": 2036,
             "#N/A": 2042, "#GETTING_DATA": 2043, "#SPILL!": 2045, "#CONNECT!": 2046, "#BLOCKED!": 2047,
             "#UNKNOWN!": 2048, "#FIELD!": 2049, "#CALC!": 2050}
DISP_E_PARAMNOTFOUND = -2147352572  # an Optional Variant the formula left out
UTC = dt.UTC
EPOCH = dt.datetime(1899, 12, 30)  # Excel's date serial 0
GMT = dt.timezone(dt.timedelta(0), "GMT Standard Time")  # the zone pywin32 stamps on a VT_DATE


def cverr(code: str) -> int:
    """The integer pywin32 delivers for an error cell."""
    return (0x800A0000 + XL_ERRORS[code]) - (1 << 32)


# ----------------------------------------------------------------------------- what a formula passes
@dataclass(frozen=True)
class Err:
    """An error value: in a cell, or typed in the formula (NA())."""

    code: str


@dataclass(frozen=True)
class Ref:
    """A cell reference; ``rows`` as the cells hold them (Err for errors, datetimes for date cells)."""

    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Arr:
    """An array (a constant such as {0.5,0.5}, or another function's result), as VBA receives it."""

    rows: tuple[tuple[Any, ...], ...]
    flat: bool = False  # a one-row array constant reaches VBA as a 1-D array


@dataclass(frozen=True)
class Nested:
    """Another case's result passed on, as in =AGGVAR(RETURNS(prices), weights)."""

    case: str


MISSING = types.SimpleNamespace(name="missing")  # the argument was left out of the formula


def ref(rows: list[list[Any]]) -> Ref:
    return Ref(tuple(tuple(r) for r in rows))


def arr(rows: list[list[Any]], flat: bool = False) -> Arr:
    return Arr(tuple(tuple(r) for r in rows), flat)


# ----------------------------------------------------------------------------- sample sheet
VAL = dt.datetime(2024, 9, 1)
EXP = dt.datetime(2024, 12, 27)
_RNG = np.random.default_rng(7)
_R = _RNG.standard_t(5, size=(120, 3)) * 0.02
DAYS = [dt.datetime(2024, 1, 1) + dt.timedelta(days=i) for i in range(120)]
RETURNS = [["Date", "BTC", "ETH", "SOL"]] + [[DAYS[i], *map(float, _R[i])] for i in range(120)]
NEWEST_FIRST = [RETURNS[0], *RETURNS[:0:-1]]
PRICES = [["Date", "BTC", "ETH", "SOL"]] + [[DAYS[i], *map(float, 100 * np.exp(np.cumsum(_R, 0))[i])]
                                            for i in range(120)]
WEIGHTS = [[0.5], [0.3], [0.2]]
POSITIONS = [["Instrument", "Quantity", "Vol"], ["BTC", 1.0, None], ["BTC-PERPETUAL", 10_000.0, None],
             ["BTC-27DEC24-60000-C", 3.0, None], ["ETH_USDC-27DEC24-3000-P", -5.0, 0.8], [None, None, None]]
MARKET = [["Underlying", "Spot", "Vol", "Forward"], ["BTC", 60_000.0, 0.6, None], ["ETH", 3_000.0, 0.7, 3_050.0]]
BOOK_RETURNS = [["Date", "BTC", "ETH"]] + [r[:3] for r in RETURNS[1:]]
SCENARIOS = [["Name", "Underlying", "Move", "Vol shift"], ["Crash", "BTC", -0.3, 0.2], ["Crash", "ETH", -0.4, 0.3]]
CORR = [[1.0, 0.5], [0.5, 1.0]]
COV = [[0.0004, 0.0001], [0.0001, 0.0009]]


def with_error(rows: list[list[Any]], i: int, j: int, code: str) -> list[list[Any]]:
    out = [list(r) for r in rows]
    out[i][j] = Err(code)
    return out


# One call per worksheet function with every argument given (dates as date cells), then the targeted cases.
CASES: dict[str, tuple[str, tuple[Any, ...]]] = {
    "AGGVAR": ("AGGVAR", (ref(RETURNS), ref(WEIGHTS), 0.99, 1.0, "normal")),
    "AGGES": ("AGGES", (ref(RETURNS), ref(WEIGHTS), 0.975, 2.0, "historical", MISSING, 1e6)),
    "AGGVAR book": ("AGGVAR", (ref(BOOK_RETURNS), ref(POSITIONS), 0.99, 1.0, "normal", MISSING, MISSING,
                               MISSING, ref(MARKET), ref([[VAL]]), "delta-gamma")),
    "COMPONENTVAR": ("COMPONENTVAR", (ref(RETURNS), ref(WEIGHTS), 0.99, 1.0, "normal", "ES", False)),
    "COMPONENTVAR book": ("COMPONENTVAR", (ref(BOOK_RETURNS), ref(POSITIONS), 0.99, 1.0, "normal", "VaR", True,
                                           "raise", ref(MARKET), ref([[VAL]]))),
    "MARGINALVAR": ("MARGINALVAR", (ref(RETURNS), ref([[0.5, 0.3, 0.2]]), 0.99, 1.0, "normal")),
    "INCREMENTALVAR": ("INCREMENTALVAR", (ref(RETURNS), ref(WEIGHTS), ref([[0.1], [0.0], [-0.1]]), 0.99, 1.0,
                                          "normal", "VaR", False, 2.0)),
    "PORTVOL": ("PORTVOL", (ref(RETURNS), ref(WEIGHTS), 10.0, "ewma", 0.97)),
    "CORRMATRIX": ("CORRMATRIX", (ref(RETURNS), "sample")),
    "STRESSCORR": ("STRESSCORR", (ref(CORR), 0.5, "shift", 1.0)),
    "RETURNS": ("RETURNS", (ref(PRICES), "log")),
    "VARBACKTEST": ("VARBACKTEST", (ref([[float(v)] for v in _R[:, 0]]), ref([[0.05]] * 120), 0.99)),
    "XLVAR_VERSION": ("XLVAR_VERSION", ()),
    "OPTIONPRICE": ("OPTIONPRICE", ("call", 60_000.0, 65_000.0, ref([[EXP]]), 0.6, 0.03, "coin", ref([[VAL]]))),
    "OPTIONGREEKS": ("OPTIONGREEKS", ("put", 60_000.0, 55_000.0, ref([[EXP]]), 0.6, 0.0, "usd", ref([[VAL]]))),
    "IMPLIEDVOL": ("IMPLIEDVOL", (2_500.0, "call", 60_000.0, 65_000.0, ref([[EXP]]), 0.0, "usd", ref([[VAL]]))),
    "BOOKGREEKS": ("BOOKGREEKS", (ref(POSITIONS), ref(MARKET), ref([[VAL]]), "position")),
    "PORTMARGIN": ("PORTMARGIN", (ref(POSITIONS), ref(MARKET), "deribit", "usd", ref([[VAL]]))),
    "MARGINGRID": ("MARGINGRID", (ref(POSITIONS[:3]), ref(MARKET[:2]), "span", "usd", ref([[VAL]]))),
    "STRESSTEST": ("STRESSTEST", (ref(POSITIONS), ref(MARKET), ref(SCENARIOS), ref([[VAL]]))),
    "DGVAR": ("DGVAR", (ref([[1000.0, -500.0]]), ref([[200.0, 0.0], [0.0, 100.0]]), ref(COV), 0.99, 1.0, 0.0,
                        "normal")),
    # missing and blank arguments: the defaults
    "missing": ("AGGVAR", (ref(RETURNS), ref(WEIGHTS), MISSING, 10.0)),
    "blank cell": ("AGGVAR", (ref(RETURNS), ref(WEIGHTS), ref([[None]]), 10.0)),
    "empty text": ("AGGVAR", (ref(RETURNS), ref(WEIGHTS), ref([[""]]), 10.0)),
    "defaults": ("AGGVAR", (ref(RETURNS), ref(WEIGHTS), 0.99, 10.0, "historical")),
    "all missing": ("OPTIONPRICE", ("call", 100.0, 100.0, 1.0, 0.5)),
    "larger range": ("AGGVAR", (ref([[*r, None] for r in RETURNS] + [[None] * 5] * 3), ref([*WEIGHTS, [None]]))),
    "blank returns": ("AGGVAR", (ref([[None, None]] * 3), ref(WEIGHTS))),
    "blank in returns": ("AGGVAR", (ref([r if i != 7 else [r[0], r[1], None, r[3]] for i, r in enumerate(RETURNS)]),
                                    ref(WEIGHTS))),
    "blank gamma": ("DGVAR", (ref([[1000.0, -500.0]]), ref([[None, None]]), ref(COV))),
    # error values: in a cell, inside a range, typed in the formula, and Excel's newer ones xlwings does not name
    "N/A cell": ("AGGVAR", (ref(RETURNS), ref(WEIGHTS), ref([[Err("#N/A")]]))),
    "N/A literal": ("AGGVAR", (ref(RETURNS), ref(WEIGHTS), Err("#DIV/0!"))),
    "N/A in returns": ("AGGVAR", (ref(with_error(RETURNS, 6, 2, "#N/A")), ref(WEIGHTS))),
    "N/A dropped": ("AGGVAR", (ref(with_error(RETURNS, 6, 2, "#N/A")), ref(WEIGHTS), 0.99, 1.0, "normal", MISSING,
                               MISSING, "drop")),
    "SPILL in returns": ("AGGVAR", (ref(with_error(RETURNS, 6, 2, "#SPILL!")), ref(WEIGHTS))),
    "CALC dropped": ("AGGVAR", (ref(with_error(RETURNS, 6, 2, "#CALC!")), ref(WEIGHTS), 0.99, 1.0, "normal",
                                MISSING, MISSING, "drop")),
    "CALC weights": ("AGGVAR", (ref(RETURNS), ref([[Err("#CALC!")]]))),
    "SPILL valuation": ("OPTIONPRICE", ("call", 100.0, 100.0, ref([[EXP]]), 0.5, 0.0, "usd",
                                        ref([[Err("#SPILL!")]]))),
    "GETTING_DATA spot": ("BOOKGREEKS", (ref(POSITIONS), ref(with_error(MARKET, 1, 1, "#GETTING_DATA")),
                                         ref([[VAL]]))),
    "BLOCKED quantity": ("BOOKGREEKS", (ref(with_error(POSITIONS, 2, 1, "#BLOCKED!")), ref(MARKET), ref([[VAL]]))),
    "FIELD realized": ("VARBACKTEST", (ref([[float(v)] for v in _R[:5, 0]] + [[Err("#FIELD!")]]), ref([[0.05]]))),
    "CONNECT label": ("RETURNS", (ref(with_error(PRICES, 3, 0, "#CONNECT!")),)),
    # dates: pywintypes datetimes, newest first, and date cells for expiry and valuation
    "newest first": ("AGGVAR", (ref(NEWEST_FIRST), ref(WEIGHTS), 0.99, 1.0, "normal")),
    "serial expiry": ("OPTIONPRICE", ("call", 60_000.0, 65_000.0, float((EXP - EPOCH).days), 0.6,
                                      0.03, "coin", ref([[VAL]]))),
    "valuation now": ("OPTIONPRICE", ("call", 60_000.0, 65_000.0, ref([[dt.datetime(2031, 1, 1)]]), 0.6)),
    # other shapes and types Excel passes
    "currency": ("AGGVAR", (ref(RETURNS), ref(WEIGHTS), 0.99, 1.0, "normal", MISSING, ref([[Decimal("1250000")]]))),
    "array row": ("AGGVAR", (ref(RETURNS), arr([[0.5, 0.3, 0.2]], flat=True), 0.99, 1.0, "normal")),
    "array column": ("AGGVAR", (ref(RETURNS), arr(WEIGHTS), 0.99, 1.0, "normal")),
    "percent text": ("OPTIONPRICE", ("call", 100.0, 100.0, 1.0, "50%")),
    "headers FALSE cell": ("COMPONENTVAR", (ref(RETURNS), ref(WEIGHTS), 0.99, 1.0, "normal", "VaR", ref([[False]]))),
    "nested": ("AGGVAR", (Nested("RETURNS"), ref(WEIGHTS))),
    "range for a number": ("AGGVAR", (ref(RETURNS), ref(WEIGHTS), ref([[0.99, 0.95]]))),
}


# ----------------------------------------------------------------------------- the subprocess: Windows stand-ins
RANGE_IID = "{00020846-0000-0000-C000-000000000046}"  # Excel's Range interface, as xlwings checks it


def _stub(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def _windows_stand_ins() -> Any:
    """Stub the pywin32 modules, import the real ``xlwings._xlwindows`` and ``xlwings.udfs``; return udfs."""
    import ctypes

    class Anything:  # ctypes' windll/oledll and the DLL handles _xlwindows opens at import
        def __getattr__(self, name: str) -> Any:
            return Anything()

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return Anything()

    class TimeType(dt.datetime):  # pywintypes.datetime
        pass

    _stub("pywintypes", com_error=type("com_error", (Exception,), {}), error=type("error", (Exception,), {}),
          TimeType=TimeType, IID=str.upper)
    _stub("pythoncom", CoInitialize=lambda: None, IID_IDispatch=None, __file__="pythoncom311.dll")
    for name in ("win32api", "win32con", "win32gui", "win32event"):
        _stub(name)
    _stub("win32process", GetWindowThreadProcessId=lambda hwnd: (1, 4242))
    _stub("win32timezone", TimeZoneInfo=types.SimpleNamespace(utc=lambda: UTC))
    client = _stub("win32com.client", Dispatch=lambda obj, *a, **k: obj, DispatchEx=None,
                   CDispatch=type("CDispatch", (), {}), DispatchBaseClass=type("DispatchBaseClass", (), {}),
                   CoClassBaseClass=type("CoClassBaseClass", (), {}))
    _stub("win32com", client=client)
    ctypes.windll = ctypes.oledll = Anything()  # type: ignore[attr-defined]
    pydll, ctypes.PyDLL = ctypes.PyDLL, Anything()  # type: ignore[misc]
    import xlwings
    from xlwings import _xlwindows

    ctypes.PyDLL = pydll  # type: ignore[misc]
    xlwings.engines.add(xlwings.main.Engine(impl=_xlwindows.engine))
    _stub("xlwings.com_server", loop=None)  # call_udf imports the COM server's event loop (async functions only)
    from xlwings import udfs

    xlwings.func, xlwings.arg, xlwings.ret = udfs.xlfunc, udfs.xlarg, udfs.xlret
    assert "xl_var_udfs" not in sys.modules
    return udfs


class _Count:
    def __init__(self, n: int) -> None:
        self.Count = n


class FakeWorkbook:
    """``ActiveWorkbook``: xlwings looks for embedded ``*.py`` sheets in it and keeps it as BOOK_CALLER."""

    def __init__(self) -> None:
        self.Name = "Risk.xlsx"
        self.Application = types.SimpleNamespace(Hwnd=7)
        self.Worksheets = [types.SimpleNamespace(Name="Returns", Parent=self)]


class FakeRange:
    """A Range as pywin32 hands it over: ``.Value`` a scalar for one cell, else a tuple of row tuples."""

    def __init__(self, value: Any, rows: int, columns: int, book: FakeWorkbook, address: str = "$A$1") -> None:
        iid = sys.modules["pywintypes"].IID(RANGE_IID)
        info = types.SimpleNamespace(GetTypeAttr=lambda: types.SimpleNamespace(iid=iid))
        self._oleobj_ = types.SimpleNamespace(GetTypeInfo=lambda: info)
        self.Value = value
        self.Worksheet = book.Worksheets[0]
        self.Row, self.Column, self.Rows, self.Columns = 1, 1, _Count(rows), _Count(columns)
        self.Count, self.Address = rows * columns, address


def _variant(x: Any) -> Any:
    """One value as pywin32 converts the VARIANT: numbers are doubles, errors HRESULTs, dates VT_DATE."""
    if isinstance(x, Err):
        return cverr(x.code)
    if isinstance(x, dt.datetime):
        return sys.modules["pywintypes"].TimeType(x.year, x.month, x.day, x.hour, x.minute, x.second, tzinfo=GMT)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    return x


def _com_argument(x: Any, book: FakeWorkbook, done: dict[str, Any]) -> Any:
    if x is MISSING:
        return DISP_E_PARAMNOTFOUND
    if isinstance(x, Ref):
        grid = tuple(tuple(_variant(v) for v in row) for row in x.rows)
        value = grid[0][0] if len(grid) == 1 and len(grid[0]) == 1 else grid
        return FakeRange(value, len(grid), len(grid[0]), book)
    if isinstance(x, Arr):
        grid = tuple(tuple(_variant(v) for v in row) for row in x.rows)
        return grid[0] if x.flat else grid
    if isinstance(x, Nested):  # an array holds no dates: Excel passes them on as serial numbers
        return tuple(tuple((v.replace(tzinfo=None) - EPOCH).days if isinstance(v, dt.datetime) else v for v in row)
                     for row in done[x.case])
    return _variant(x)


def run_cases() -> dict[str, Any]:
    """Call ``udfs.call_udf`` for every case as the VBA wrapper does; the values that reach each cell."""
    udfs = _windows_stand_ins()
    import xl_var_udfs

    book = FakeWorkbook()
    caller = FakeRange(None, 1, 1, book, "$H$2")  # Application.Caller: the cell holding the formula
    out: dict[str, Any] = {}
    for case, (name, args) in CASES.items():
        params = inspect.signature(getattr(xl_var_udfs, name)).parameters
        full = list(args) + [MISSING] * (len(params) - len(args))  # Array(...) holds every parameter
        out[case] = udfs.call_udf("xl_var_udfs", name, tuple(_com_argument(a, book, out) for a in full), book, caller)
    out["<cache>"] = dict(udfs.cache)
    out["<module>"] = udfs.udf_modules["xl_var_udfs"]["module"].__name__
    return out


if __name__ == "__main__":
    sys.stdout.buffer.write(pickle.dumps(run_cases()))
    sys.exit(0)


# ----------------------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def cells() -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__], capture_output=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr.decode()
    result: dict[str, Any] = pickle.loads(done.stdout)
    return result


def _python_value(x: Any, is_range: bool) -> Any:
    """What the other tests pass for an argument: the values xlwings delivers with ``err_to_str`` (and ``ndim=2``
    for ranges), errors as their text, dates as naive datetimes, blanks as None."""
    if isinstance(x, Err):
        return x.code
    if isinstance(x, (Ref, Arr)):
        rows = [[_python_value(v, False) for v in r] for r in x.rows]
        rows = [[None if v == "" else v for v in r] for r in rows]
        if is_range:
            return rows
        if len(rows) == 1:
            return rows[0][0] if len(rows[0]) == 1 else rows[0]
        return [r[0] for r in rows] if len(rows[0]) == 1 else rows
    return x


def direct(name: str, args: tuple[Any, ...]) -> Any:
    """The function called with plain Python values; a left-out argument takes its Python default."""
    import xl_var_udfs as u
    from xl_var_udfs.functions import RANGE_ARGS

    f = getattr(u, name)
    params = inspect.signature(f).parameters.values()
    return f(*[p.default if a is MISSING else _python_value(a, p.name in RANGE_ARGS)
               for a, p in zip(args, params, strict=False)])


def as_cells(value: Any) -> list[list[Any]]:
    """What xlwings writes for a result: a list of rows (a scalar is 1 × 1); dates stamped UTC for pywin32."""
    rows = value if isinstance(value, list) else [[value]]
    return [[v.replace(tzinfo=UTC) if isinstance(v, dt.datetime) else v for v in r] for r in rows]


def close(got: Any, want: Any, rel: float = 1e-12) -> bool:
    if isinstance(got, float) and isinstance(want, float):
        return math.isclose(got, want, rel_tol=rel, abs_tol=1e-300)
    return bool(got == want)


def same_cells(got: list[list[Any]], want: list[list[Any]], rel: float = 1e-12) -> bool:
    return len(got) == len(want) and all(
        len(g) == len(w) and all(close(a, b, rel) for a, b in zip(g, w, strict=True)) for g, w in
        zip(got, want, strict=True))


def test_every_worksheet_function_is_called_through_call_udf(cells):
    import xl_var_udfs as u

    called = {name for name, _ in CASES.values()}
    assert called == set(u.__all__) and len(called) == 19
    assert cells["<module>"] == "xl_var_udfs"
    assert cells["<cache>"] == {}  # no expand/async option: xlwings caches nothing, a recalculation recomputes


def test_each_function_with_every_argument_matches_the_plain_python_call(cells):
    for case in ["AGGVAR", "AGGES", "AGGVAR book", "COMPONENTVAR", "COMPONENTVAR book", "MARGINALVAR",
                 "INCREMENTALVAR", "PORTVOL", "CORRMATRIX", "STRESSCORR", "RETURNS", "VARBACKTEST", "XLVAR_VERSION",
                 "OPTIONPRICE", "OPTIONGREEKS", "IMPLIEDVOL", "BOOKGREEKS", "PORTMARGIN", "MARGINGRID", "STRESSTEST",
                 "DGVAR"]:
        got, (name, args) = cells[case], CASES[case]
        want = as_cells(direct(name, args))
        assert same_cells(got, want), (case, got[:3], want[:3])
        assert not any(isinstance(v, str) and v.startswith("#") for r in got for v in r), (case, got[:2])


def test_what_reaches_a_cell_is_a_value_pywin32_converts(cells):
    for case, got in cells.items():
        if case.startswith("<"):
            continue
        assert isinstance(got, list) and got and all(isinstance(r, list) for r in got), case
        assert len({len(r) for r in got}) == 1, case  # rectangular
        for v in (v for r in got for v in r):
            assert type(v) in (float, int, str, bool, dt.datetime), (case, type(v))
            assert not isinstance(v, float) or math.isfinite(v), case
            assert not isinstance(v, int) or -(2**31) <= v < 2**31, case  # VT_I4: a big int is no Excel number
            assert not isinstance(v, dt.datetime) or v.tzinfo is not None, case  # pywin32 needs the zone


def test_missing_blank_and_empty_text_arguments_take_the_default(cells):
    want = cells["defaults"][0][0]
    assert isinstance(want, float) and want > 0
    assert cells["missing"] == cells["blank cell"] == cells["empty text"] == [[want]]
    assert cells["all missing"] == as_cells(direct("OPTIONPRICE", ("call", 100, 100, 1, 0.5, 0, "usd", None)))
    assert cells["defaults"] == as_cells(direct("AGGVAR", CASES["defaults"][1]))
    assert cells["larger range"] == as_cells(direct("AGGVAR", (ref(RETURNS), ref(WEIGHTS))))
    assert cells["blank returns"] == [["#VALUE! returns is blank: select a range of numbers"]]
    assert cells["blank in returns"] == [['#VALUE! returns row 8, column 3 is blank; fix it or set the missing '
                                          'argument to "drop"']]
    assert cells["blank gamma"] == [["#VALUE! gamma is blank: give the dollar gamma matrix (or zeros)"]]


def test_error_values_reach_the_cell_named(cells):
    assert cverr("#N/A") == -2146826246 and cverr("#SPILL!") == -2146826243
    assert cells["N/A cell"] == [["#N/A confidence is #N/A"]]
    assert cells["N/A literal"] == [["#DIV/0! confidence is #DIV/0!"]]
    assert cells["N/A in returns"] == [['#VALUE! returns row 7, column 3 is #N/A; fix it or set the missing '
                                        'argument to "drop"']]
    rows = [r for i, r in enumerate(RETURNS) if i != 6]
    dropped = as_cells(direct("AGGVAR", (ref(rows), ref(WEIGHTS), 0.99, 1.0, "normal")))
    assert same_cells(cells["N/A dropped"], dropped)
    assert cells["CALC weights"] == [["#CALC! weights is #CALC!"]]


def test_excels_newer_errors_are_errors_not_numbers(cells):
    """xlwings' err_to_str names seven errors; #SPILL!, #CALC!, #GETTING_DATA... arrive as their HRESULT, which
    must not be read as a return of -2146826243."""
    assert cells["SPILL in returns"] == [['#VALUE! returns row 7, column 3 is #SPILL!; fix it or set the missing '
                                          'argument to "drop"']]
    rows = [r for i, r in enumerate(RETURNS) if i != 6]
    assert same_cells(cells["CALC dropped"], as_cells(direct("AGGVAR", (ref(rows), ref(WEIGHTS), 0.99, 1.0,
                                                                         "normal"))))
    assert cells["SPILL valuation"] == [["#SPILL! valuation is #SPILL!"]]
    assert cells["GETTING_DATA spot"] == [["#GETTING_DATA market row 2 is #GETTING_DATA"]]
    assert cells["BLOCKED quantity"] == [["#BLOCKED! positions row 3 is #BLOCKED!"]]
    assert cells["FIELD realized"] == [['#VALUE! realized row 6, column 1 is #FIELD!; fix it or set the missing '
                                        'argument to "drop"']]
    got = cells["CONNECT label"]
    assert got[2][0] == "#CONNECT!" and same_cells(got, as_cells(direct("RETURNS", (ref(
        with_error(PRICES, 3, 0, "#CONNECT!")),))))


def test_date_cells_arrive_as_naive_datetimes_and_go_back_stamped_utc(cells):
    assert same_cells(cells["newest first"], cells["AGGVAR"])
    assert same_cells(cells["serial expiry"], cells["OPTIONPRICE"])
    got = cells["RETURNS"]
    assert got[0] == ["Date", "BTC", "ETH", "SOL"]
    assert [r[0] for r in got[1:]] == [d.replace(tzinfo=UTC) for d in DAYS[1:]]
    now = cells["valuation now"][0][0]
    later = direct("OPTIONPRICE", CASES["valuation now"][1])
    assert isinstance(now, float) and math.isclose(now, later, rel_tol=1e-6)


def test_other_shapes_and_types_excel_passes(cells):
    assert same_cells(cells["currency"], [[cells["AGGVAR"][0][0] * 1_250_000]])
    assert cells["array row"] == cells["AGGVAR"] == cells["array column"]
    assert same_cells(cells["percent text"], cells["all missing"])
    assert cells["headers FALSE cell"][0][0] == "BTC" and len(cells["headers FALSE cell"]) == 4
    assert cells["range for a number"] == [["#VALUE! confidence must be a single value, not a range of 1 × 2 "
                                            "cells"]]


def test_a_functions_array_result_feeds_another(cells):
    """=AGGVAR(RETURNS(prices), weights): Excel passes the inner result on as an array, its dates as serial
    numbers (an array holds no dates)."""
    returns = [[v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v for v in r] for r in cells["RETURNS"]]
    want = as_cells(direct("AGGVAR", (ref(returns), ref(WEIGHTS))))
    assert isinstance(want[0][0], float) and same_cells(cells["nested"], want)
