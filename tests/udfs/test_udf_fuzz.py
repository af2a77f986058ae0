"""Fuzz every worksheet function with Excel-shaped junk: it never raises, never puts NaN/inf in a cell,
and every error is one line starting with '#'. No input may reach "internal error" (that would be a bug).

Ranges are mostly plausible numbers (so the engine is reached) with blanks, error values, text,
booleans, dates, NaN/inf and extreme numbers mixed in, optional header rows and date columns, and
the shapes Excel and formula engines pass (lists of rows, tuples, numpy object arrays, scalars).
Derandomized so CI runs the same cases every time.
"""

import datetime as dt
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xl_var_udfs as u

EXAMPLES = 400
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ERRORS = ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NUM!", "#NAME?", "#NULL!", "#VALUE! upstream failed"]
DATES = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2030, 1, 1))
JUNK = st.one_of(
    st.none(), st.just(""), st.sampled_from(ERRORS), st.text(max_size=6), st.booleans(), DATES,
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**9, 10**9),
    st.sampled_from(["99%", "0.5", "1e308", "-0", " ", "nan", "inf", 10**400, -(10**400), 1e308, 5e-324]),
)
RET = st.floats(-0.3, 0.3, allow_nan=False, allow_subnormal=False)
PRICE = st.floats(0.5, 1000.0, allow_nan=False)
WEIGHT = st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False)


def _sometimes(good, bad, one_in):
    """``bad`` about once in ``one_in`` draws, else ``good`` (one_in=0: never bad)."""
    if not one_in:
        return good
    return st.integers(0, one_in - 1).flatmap(lambda k: bad if k == 0 else good)


JUNK_RATE = st.sampled_from([0, 0, 0, 60, 8])  # per range: clean (most often), a stray bad cell, or a mess


@st.composite
def shaped(draw, rows):
    """Deliver a list of rows in one of the shapes a caller may use."""
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return tuple(tuple(r) for r in rows)
    if kind == 1:
        return np.array(rows, dtype=object)
    if kind == 2 and len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]  # a single cell arrives as a scalar
    return rows


def _bulk(draw, nrows, ncols, cell):
    """A long table of plausible numbers (fat-tailed returns, or positive price paths) from a drawn seed."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_t(3, size=(nrows, ncols)) * 0.02
    if cell is PRICE:
        x = 100 * np.exp(np.cumsum(x, axis=0))
    shape = draw(st.sampled_from(["", "", "", "constant", "duplicate", "zeros"]))
    if shape == "constant":
        x[:, 0] = x[0, 0]
    elif shape == "duplicate" and ncols > 1:
        x[:, 1] = x[:, 0]
    elif shape == "zeros":
        x[:] = 0.0 if cell is RET else 1.0
    rows = x.tolist()
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 4]))):
        rows[draw(st.integers(0, nrows - 1))][draw(st.integers(0, ncols - 1))] = draw(JUNK)
    return rows


@st.composite
def table(draw, ncols, cell=RET):
    """A range of numbers: short with every cell drawn (edge values), or long (enough history for every
    method) with a few junk cells; optional date column and header row."""
    if draw(st.booleans()):
        nrows = draw(st.integers(1, 14))
        cells = _sometimes(cell, JUNK, draw(JUNK_RATE))
        rows = [[draw(cells) for _ in range(ncols)] for _ in range(nrows)]
    else:
        rows = _bulk(draw, draw(st.integers(100, 300)), ncols, cell)
    if draw(st.booleans()):
        start = draw(DATES)
        rows = [[start + dt.timedelta(days=i), *r] for i, r in enumerate(rows)]
    if draw(st.booleans()):
        names = [draw(st.one_of(st.text(min_size=1, max_size=4), st.none(), st.sampled_from(ERRORS)))
                 for _ in range(len(rows[0]))]
        rows = [names, *rows]
    return draw(shaped(rows))


@st.composite
def vector(draw, n, cell=WEIGHT):
    n = draw(st.sampled_from([n, n, n, n, max(n - 1, 1), n + 1]))
    cells = _sometimes(cell, JUNK, draw(JUNK_RATE))
    values = [draw(cells) for _ in range(n)]
    if draw(st.booleans()):
        values = ["label", *values]
    rows = [values] if draw(st.booleans()) else [[v] for v in values]
    return draw(shaped(rows))


@st.composite
def correlation(draw, n):
    if draw(st.integers(0, 3)) == 0:
        return draw(table(n))
    a = np.array([[draw(st.floats(-1, 1)) for _ in range(n)] for _ in range(n)])
    c = (a + a.T) / 2
    np.fill_diagonal(c, 1.0)
    return c.tolist()


def scalar(*valid):
    """An optional argument: mostly a valid value or blank, sometimes junk or a range."""
    bad = st.one_of(JUNK, st.lists(st.lists(JUNK, min_size=1, max_size=2), min_size=1, max_size=2))
    return _sometimes(st.one_of(st.sampled_from(valid), st.none()), bad, 10)


BLANK_RANGE = st.sampled_from([[[None]], [[None, ""]], [[""], [None]]])  # a blank cell given for an optional range
CONF = scalar(0.95, 0.99, 0.975, "99%", 0.9)
HORIZON = scalar(1, 10, 5.0)
VAR_METHOD = scalar("historical", "normal", "t", "modified", "ewma", "fhs", "Gaussian", "cornish-fisher")
MEASURE = scalar("VaR", "ES", "cvar")
MISSING = scalar("raise", "drop")
BOOL = scalar(True, False)
VALUE = scalar(1e6, 250.0)
NCOLS = st.integers(1, 5)


def check(result, *, text_ok=False):
    """The contract of a cell: no exception got here, no NaN/inf, errors are one line starting with '#'."""
    if isinstance(result, str):
        assert "\n" not in result
        if not text_ok:
            assert result.startswith("#"), result
        assert "internal error" not in result, result
    elif isinstance(result, list):
        assert result and all(isinstance(r, list) and r for r in result)
        for row in result:
            for v in row:
                assert isinstance(v, (float, str, bool, dt.date)), type(v)
                assert not isinstance(v, float) or math.isfinite(v)
                assert not isinstance(v, float) or type(v) is float
    else:
        assert type(result) is float and math.isfinite(result), result


@st.composite
def portfolio(draw, cell=RET):
    n = draw(NCOLS)
    return draw(table(n, cell)), draw(vector(n))


@FUZZ
@given(portfolio(), CONF, HORIZON, VAR_METHOD, st.one_of(st.none(), BLANK_RANGE, NCOLS.flatmap(correlation)), VALUE,
       MISSING)
def test_aggvar_and_agges(pf, confidence, horizon, method, corr, value, missing):
    check(u.AGGVAR(*pf, confidence, horizon, method, corr, value, missing))
    check(u.AGGES(*pf, confidence, horizon, method, corr, value, missing))


@FUZZ
@given(portfolio(), CONF, HORIZON, VAR_METHOD, MEASURE, BOOL, MISSING)
def test_componentvar_and_marginalvar(pf, confidence, horizon, method, measure, headers, missing):
    check(u.COMPONENTVAR(*pf, confidence, horizon, method, measure, headers, missing))
    check(u.MARGINALVAR(*pf, confidence, horizon, method, measure, missing))


@FUZZ
@given(NCOLS.flatmap(lambda n: st.tuples(table(n), vector(n), vector(n))), CONF, HORIZON, VAR_METHOD, MEASURE,
       BOOL, VALUE, MISSING)
def test_incrementalvar(args, confidence, horizon, method, measure, exact, value, missing):
    check(u.INCREMENTALVAR(*args, confidence, horizon, method, measure, exact, value, missing))


@FUZZ
@given(portfolio(), HORIZON, scalar("sample", "ewma"), scalar(0.94, 0.97, 0.5), VALUE, MISSING)
def test_portvol(pf, horizon, method, lam, value, missing):
    check(u.PORTVOL(*pf, horizon, method, lam, value, missing))


@FUZZ
@given(NCOLS.flatmap(table), scalar("sample", "ewma"), scalar(0.94, 0.97), MISSING)
def test_corrmatrix(returns, method, lam, missing):
    check(u.CORRMATRIX(returns, method, lam, missing))


@FUZZ
@given(NCOLS.flatmap(lambda n: st.tuples(st.one_of(table(n), correlation(n)),
                                          st.one_of(st.none(), BLANK_RANGE, correlation(n)))),
       scalar(0.0, 0.5, 1.0, 0.25), scalar("shift", "blend", "tail", "shrink"), scalar(1.0, 0.0, -1.0, 0.5),
       MISSING)
def test_stresscorr(args, intensity, method, target, missing):
    base, crisis = args
    check(u.STRESSCORR(base, intensity, method, target, crisis, missing))


@FUZZ
@given(NCOLS.flatmap(lambda n: table(n, PRICE)), scalar("simple", "log"), MISSING)
def test_returns(prices, kind, missing):
    check(u.RETURNS(prices, kind, missing))


@FUZZ
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(vector(n, RET), st.one_of(vector(n, PRICE), PRICE, JUNK))),
       CONF, MISSING)
def test_varbacktest(args, confidence, missing):
    check(u.VARBACKTEST(*args, confidence, missing))


def test_xlvar_version():
    check(u.XLVAR_VERSION(), text_ok=True)
