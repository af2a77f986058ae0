"""Shared input checks: each failure names the argument and the fix."""

import numpy as np
import pytest

from xl_var import XlVarError
from xl_var._validate import (
    MAX_HORIZON,
    as_matrix,
    as_vector,
    check_confidence,
    check_horizon,
    check_lambda,
    choose,
    clean_returns,
)


@pytest.mark.parametrize(("value", "expected"), [(0.99, 0.99), ("0.95", 0.95), (np.float32(0.9), 0.9)])
def test_confidence_accepts_probabilities(value, expected):
    assert check_confidence(value) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "hint"), [(0.05, "did you mean 0.95?"), (99, "did you mean 0.99?"),
                                             (0.01, "did you mean 0.99?"), (1.0, "between 0 and 1"),
                                             ("abc", "must be a number"), (float("nan"), "between 0 and 1")])
def test_confidence_rejects_with_hint(value, hint):
    with pytest.raises(XlVarError, match="confidence") as e:
        check_confidence(value)
    assert hint in str(e.value)


def test_horizon_and_lambda():
    assert check_horizon(10.0) == 10
    for bad in (0, 2.5, -1, "x", float("inf")):
        with pytest.raises(XlVarError, match="horizon"):
            check_horizon(bad)
    assert check_lambda(0.94) == 0.94
    for bad in (0, 1, 1.2, None):
        with pytest.raises(XlVarError, match="lam"):
            check_lambda(bad)


def test_vectors_and_matrices():
    assert as_vector([[1, 2, 3]], "weights").shape == (3,)
    with pytest.raises(XlVarError, match="weights has 2 entries but returns has 3 columns"):
        as_vector([1, 2], "weights", size=3)
    with pytest.raises(XlVarError, match="weights entry 2"):
        as_vector([1, np.nan], "weights")
    with pytest.raises(XlVarError, match="returns row 2, column 1"):
        as_matrix([[0.1, 0.2], [np.inf, 0.0]], "returns")
    assert as_matrix([1.0, 2.0], "returns").shape == (2, 1)


def test_clean_returns_missing_drop_and_min_obs():
    r = np.array([[0.1, 0.2], [np.nan, 0.1], [0.3, -0.1]])
    with pytest.raises(XlVarError, match="row 2, column 1"):
        clean_returns(r)
    np.testing.assert_array_equal(clean_returns(r, missing="drop"), r[[0, 2]])
    with pytest.raises(XlVarError, match="needs at least 5"):
        clean_returns(r, missing="drop", min_obs=5, method="t")
    with pytest.raises(XlVarError, match="missing must be one of 'raise', 'drop'"):
        clean_returns(r, missing="ignore")


def test_choose_aliases_case_insensitive():
    choices = {"normal": ("gaussian", "parametric"), "t": ()}
    assert choose("Gaussian", "method", choices) == "normal"
    assert choose(" T ", "method", choices) == "t"
    with pytest.raises(XlVarError, match="method must be one of 'normal', 't'; got 'x'"):
        choose("x", "method", choices)


def test_matrix_layout_does_not_change_results():
    import xl_var as xv

    r = np.random.default_rng(3).standard_normal((500, 7)) * 0.01
    w = np.linspace(-1, 2, 7)
    f = np.asfortranarray(r)
    assert as_matrix(f, "returns").flags.c_contiguous
    for method in ("normal", "modified", "historical", "ewma"):
        assert xv.portfolio_var(f, w, method=method) == xv.portfolio_var(r, w, method=method)


def test_horizon_is_capped_with_a_message_not_an_overflow():
    assert check_horizon(MAX_HORIZON) == MAX_HORIZON
    assert check_horizon(1e6) == 1_000_000
    for huge in (1e308, MAX_HORIZON + 1, 10**400):
        with pytest.raises(XlVarError, match=r"^horizon must be at most 1,000,000; got .+: check its units$"):
            check_horizon(huge)
    with pytest.raises(XlVarError, match="got 1e\\+308"):
        check_horizon(1e308)


@pytest.mark.parametrize("method", ["historical", "normal", "modified", "t", "ewma", "fhs"])
def test_huge_horizon_is_refused_by_every_method(method):
    import xl_var as xv

    r = np.random.default_rng(0).normal(0.0, 0.01, size=(300, 3))
    with pytest.raises(XlVarError, match="horizon must be at most"):
        xv.portfolio_var(r, [0.3, 0.3, 0.4], horizon=1e308, method=method)


@pytest.mark.parametrize("method", ["historical", "normal", "modified", "t", "ewma", "fhs"])
@pytest.mark.parametrize("scale", [1e300, 1e200, 1e160])
def test_overflowing_returns_say_overflow_not_zero_variance(method, scale):
    import xl_var as xv

    r = np.random.default_rng(0).normal(0.0, 0.01, size=(300, 3)) * scale
    with np.errstate(all="ignore"), pytest.raises(XlVarError) as info:
        xv.portfolio_var(r, [0.3, 0.3, 0.4], method=method)
    msg = str(info.value)
    assert "zero variance" not in msg
    assert msg.startswith("the portfolio of weights overflows: returns × weights are too large for double precision")
    assert "rescale" in msg


def test_matrix_conversion_copies_at_most_once():
    c = np.random.default_rng(5).standard_normal((40, 6))
    assert as_matrix(c, "returns") is c  # already C-ordered float64: no copy
    assert clean_returns(c) is c
    for other in (np.asfortranarray(c), c[:, ::2], c.astype(np.float32), np.asfortranarray(c.astype(np.int64))):
        out = as_matrix(other, "returns")
        assert out.flags.c_contiguous and out.flags.owndata and out.dtype == np.float64
        np.testing.assert_array_equal(out, np.asarray(other, dtype=np.float64))
    assert as_matrix(c.tolist(), "returns").flags.c_contiguous
    col = as_matrix(c[:, 0], "returns")
    assert col.shape == (40, 1) and col.flags.c_contiguous


def test_finiteness_check_with_huge_and_nonfinite_values():
    big = np.full((3, 2), 1e200)  # the sum of squares overflows, yet every value is finite
    np.testing.assert_array_equal(as_matrix(big, "x"), big)
    for bad in (np.inf, -np.inf, np.nan):
        x = big.copy()
        x[2, 1] = bad
        with pytest.raises(XlVarError, match="x row 3, column 2 is not a finite number"):
            as_matrix(x, "x")
    r = np.array([[0.1, -0.2], [np.inf, 0.1], [0.3, -0.1]])
    np.testing.assert_array_equal(clean_returns(r, missing="drop"), r[[0, 2]])
    ok = np.array([[0.1, -0.2], [0.2, 0.1]])
    assert clean_returns(ok, missing="drop") is ok  # nothing to drop: no copy
