"""Shared input checks: each failure names the argument and the fix."""

import numpy as np
import pytest

from xl_var import XlVarError
from xl_var._validate import (
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
