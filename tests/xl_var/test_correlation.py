"""Correlation estimation, Higham's nearest correlation matrix and the stress methods."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.optimize import minimize

import workbooks
import xl_var as xv
from xl_var import XlVarError
from xl_var.correlation import MIN_EIGENVALUE

Matrix = NDArray[np.float64]


def assert_valid(c: Matrix) -> None:
    """Exactly symmetric, exactly unit diagonal, entries in [-1, 1], smallest eigenvalue ≥ -1e-12."""
    assert c.ndim == 2 and c.shape[0] == c.shape[1]
    assert np.array_equal(c, c.T)
    assert np.all(np.diag(c) == 1.0)
    assert np.all(np.abs(c) <= 1.0)
    assert np.linalg.eigvalsh(c)[0] >= MIN_EIGENVALUE


def sample_returns() -> Matrix:
    data: Matrix = np.genfromtxt(workbooks.SAMPLE_RETURNS, delimiter=",", skip_header=1)[:, 1:]
    return data


@st.composite
def pseudo_correlations(draw: st.DrawFn) -> Matrix:
    """Symmetric matrices with unit diagonal and off-diagonal entries anywhere in [-1, 1]."""
    n = draw(st.integers(1, 8))
    values = draw(st.lists(st.floats(-1.0, 1.0), min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2))
    a = np.eye(n)
    a[np.triu_indices(n, 1)] = values
    return np.triu(a, 1) + np.triu(a, 1).T + np.eye(n)


def random_correlation(n: int, seed: int) -> Matrix:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3 * n, n)) @ rng.standard_normal((n, n))
    c: Matrix = np.corrcoef(x, rowvar=False)
    return c


# --------------------------------------------------------------------------- nearest_correlation


def test_higham_2002_example() -> None:
    # Higham (2002), IMA J. Numer. Anal. 22(3), section 4: the nearest correlation matrix to
    # A = [[1,1,0],[1,1,1],[0,1,1]] has off-diagonals 0.7607 (1,2), (2,3) and 0.1573 (1,3).
    x = xv.nearest_correlation([[1, 1, 0], [1, 1, 1], [0, 1, 1]])
    assert x[0, 1] == pytest.approx(0.76068985, abs=1e-7)
    assert x[1, 2] == pytest.approx(0.76068985, abs=1e-7)
    assert x[0, 2] == pytest.approx(0.15729811, abs=1e-7)
    assert_valid(x)


def _uniform_pseudo_correlation(n: int, seed: int) -> Matrix:
    a = np.random.default_rng(seed).uniform(-1.0, 1.0, (n, n))
    a = 0.5 * (a + a.T)
    np.fill_diagonal(a, 1.0)
    return a


@pytest.mark.parametrize(
    "a",
    [
        np.array([[1.0, 0.9, 0.7, -0.4],
                  [0.9, 1.0, -0.6, 0.3],
                  [0.7, -0.6, 1.0, 0.8],
                  [-0.4, 0.3, 0.8, 1.0]]),
        _uniform_pseudo_correlation(6, seed=8),
    ],
)
def test_nearest_agrees_with_an_independent_optimizer(a: Matrix) -> None:
    # Minimise ||A - X||_F over X = L L^T with unit-norm rows of L (every correlation matrix has this form).
    n = a.shape[0]
    assert np.linalg.eigvalsh(a)[0] < -0.1

    def build(theta: Matrix) -> Matrix:
        rows = theta.reshape(n, n)
        rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        out: Matrix = rows @ rows.T
        return out

    best = min(
        (minimize(lambda t: float(np.sum((a - build(t)) ** 2)), x0, method="BFGS", options={"gtol": 1e-10})
         for x0 in np.random.default_rng(0).standard_normal((5, n * n))),
        key=lambda res: float(res.fun),
    )
    x = xv.nearest_correlation(a)
    assert np.linalg.norm(a - x) <= math.sqrt(best.fun) + 1e-9
    np.testing.assert_allclose(x, build(best.x), atol=1e-5)


def test_valid_matrix_is_returned_unchanged() -> None:
    c = random_correlation(6, seed=1)
    c = 0.5 * (c + c.T)
    np.fill_diagonal(c, 1.0)
    np.testing.assert_array_equal(xv.nearest_correlation(c), c)


def test_rank_deficient_all_ones_is_valid() -> None:
    ones = np.ones((5, 5))
    x = xv.nearest_correlation(ones)
    np.testing.assert_allclose(x, ones, atol=1e-12)
    assert_valid(x)


def test_rank_deficient_sample_correlation_barely_moves() -> None:
    # 3 days of 6 assets: rank 2, eigenvalues a hair below zero from rounding.
    c = np.corrcoef(np.random.default_rng(1).standard_normal((3, 6)), rowvar=False)
    x = xv.nearest_correlation(c)
    np.testing.assert_allclose(x, c, atol=1e-12)
    assert_valid(x)


def test_large_indefinite_matrix() -> None:
    a = _uniform_pseudo_correlation(60, seed=4)
    assert np.linalg.eigvalsh(a)[0] < -1.0
    x = xv.nearest_correlation(a)
    assert_valid(x)


def test_small_asymmetry_is_averaged_silently() -> None:
    a = np.array([[1.0, 0.3 + 4e-7], [0.3, 1.0]])
    x = xv.nearest_correlation(a)
    assert x[0, 1] == x[1, 0] == pytest.approx(0.3 + 2e-7, abs=1e-15)


@pytest.mark.parametrize(
    ("a", "fragment"),
    [
        ([[1.0, 0.5, 0.1], [0.5, 1.0, 0.2]], "must be square but has 2 rows and 3 columns"),
        ([1.0, 0.5], "square N×N table"),
        ([[1.0, 0.5], [0.4, 1.0]], "not symmetric: row 1, column 2 is 0.5 but row 2, column 1 is 0.4"),
        ([[1.0, 0.1, 0.2], [0.1, 1.0, 0.3], [0.2, 0.9, 1.0]],
         "row 2, column 3 is 0.3 but row 3, column 2 is 0.9"),
        ([[1.0, np.nan], [np.nan, 1.0]], "row 1, column 2 is not a finite number"),
        ([["x", 0.1], [0.1, 1.0]], "must contain only numbers"),
    ],
)
def test_bad_matrices_name_the_argument_and_position(a: object, fragment: str) -> None:
    with pytest.raises(XlVarError) as info:
        xv.nearest_correlation(a)  # type: ignore[arg-type]
    assert str(info.value).startswith("a ")
    assert fragment in str(info.value)


# NAG Library g02aa example (Mark 27.2, nag::ad::g02aa passive example results, 13 digits): the
# nearest correlation matrix to the tridiagonal matrix with 2 on the diagonal and -1 beside it.
NAG_G = 2.0 * np.eye(4) - np.eye(4, k=1) - np.eye(4, k=-1)
NAG_X = np.array([
    [1.0, -0.8084124981489, 0.1915875018502, 0.1067750490255],
    [-0.8084124981489, 1.0, -0.6562326948064, 0.1915875018502],
    [0.1915875018502, -0.6562326948064, 1.0, -0.8084124981489],
    [0.1067750490255, 0.1915875018502, -0.8084124981489, 1.0],
])


def test_nag_g02aa_example_with_2_on_the_diagonal() -> None:
    x = xv.nearest_correlation(NAG_G)
    np.testing.assert_allclose(x, NAG_X, rtol=0, atol=1e-10)
    assert_valid(x)


def test_any_symmetric_matrix_is_accepted_and_its_diagonal_ignored() -> None:
    rng = np.random.default_rng(12)
    a = rng.uniform(-3.0, 3.0, (6, 6))
    a = 0.5 * (a + a.T)
    x = xv.nearest_correlation(a)
    assert_valid(x)
    b = a.copy()
    np.fill_diagonal(b, rng.uniform(-5.0, 5.0, 6))
    np.testing.assert_array_equal(xv.nearest_correlation(b), x)
    # A covariance matrix is accepted too (its nearest correlation, not its scaled correlation).
    cov = np.array([[0.04, 0.01], [0.01, 0.09]])
    np.testing.assert_array_equal(xv.nearest_correlation(cov), [[1.0, 0.01], [0.01, 1.0]])
    # Entries beyond [-1, 1] off the diagonal are projected: [[1, 2], [2, 1]] -> all ones.
    np.testing.assert_allclose(xv.nearest_correlation([[1.0, 2.0], [2.0, 1.0]]), np.ones((2, 2)), atol=1e-9)


def test_symmetry_tolerance_is_relative_to_the_largest_entry() -> None:
    a = np.array([[1e4, 3e3 + 1e-3], [3e3, 1e4]])  # a rounding-size difference on entries of 10^4
    assert xv.nearest_correlation(a)[0, 1] == 1.0
    with pytest.raises(XlVarError, match="a is not symmetric"):
        xv.nearest_correlation([[1e4, 3e3 + 1.0], [3e3, 1e4]])


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda c: xv.stress_correlation(c, 0.5), "corr diagonal entry 1 is 2, not 1: give a correlation matrix"),
        (lambda c: xv.stress_correlation(np.eye(4), 0.5, "blend", crisis=c), "crisis diagonal entry 1 is 2"),
        (lambda c: xv.portfolio_var(np.random.default_rng(1).normal(0, 0.01, (100, 4)), np.ones(4),
                                    method="normal", corr=c), "corr diagonal entry 1 is 2, not 1"),
        (lambda c: xv.stress_correlation(np.where(np.eye(4) == 1, 1.0, 1.2 * np.sign(c)), 0.5),
         "corr row 1, column 2 is -1.2: correlations must lie between -1 and 1"),
    ],
)
def test_functions_taking_a_correlation_still_refuse_a_non_unit_diagonal(call: object, fragment: str) -> None:
    with pytest.raises(XlVarError) as info:
        call(NAG_G)  # type: ignore[operator]
    assert fragment in str(info.value)


def test_bad_tolerances() -> None:
    with pytest.raises(XlVarError, match="tol must be"):
        xv.nearest_correlation(np.eye(2), tol=0)
    with pytest.raises(XlVarError, match="max_iter must be"):
        xv.nearest_correlation(np.eye(2), max_iter=0)
    with pytest.raises(XlVarError, match="did not converge in 1 steps"):
        xv.nearest_correlation([[1, 1, 0], [1, 1, 1], [0, 1, 1]], max_iter=1)


@settings(max_examples=300, deadline=None)
@given(pseudo_correlations())
def test_property_any_pseudo_correlation_repairs_to_valid(a: Matrix) -> None:
    x = xv.nearest_correlation(a)
    assert_valid(x)
    # A fixed point: repairing the result again does not move it.
    np.testing.assert_allclose(xv.nearest_correlation(x), x, atol=1e-8)


# --------------------------------------------------------------------------- correlation_matrix


def test_sample_correlation_from_the_definition() -> None:
    r = sample_returns()
    dev = r - r.mean(axis=0)
    cov = dev.T @ dev / (r.shape[0] - 1)
    sd = np.sqrt(np.diag(cov))
    c = xv.correlation_matrix(r)
    np.testing.assert_allclose(c, cov / np.outer(sd, sd), rtol=1e-12, atol=1e-14)
    assert_valid(c)
    assert c[0, 1] > 0.5  # BTC and ETH move together in the sample portfolio


def test_ewma_correlation_from_the_riskmetrics_recursion() -> None:
    rng = np.random.default_rng(7)
    r = rng.standard_normal((120, 3)) @ np.array([[1.0, 0.5, 0.2], [0.0, 1.0, 0.3], [0.0, 0.0, 1.0]]) * 0.01
    lam = 0.9
    sigma = r.T @ r / r.shape[0]
    for row in r:
        sigma = lam * sigma + (1 - lam) * np.outer(row, row)
    sd = np.sqrt(np.diag(sigma))
    expected = sigma / np.outer(sd, sd)
    np.testing.assert_allclose(xv.correlation_matrix(r, method="EWMA", lam=lam), expected, rtol=1e-12)
    np.testing.assert_allclose(xv.correlation_matrix(r, "riskmetrics", lam=lam), expected, rtol=1e-12)


def test_missing_rows_raise_or_drop() -> None:
    r = sample_returns()[:50].copy()
    r[10, 2] = np.nan
    with pytest.raises(XlVarError, match="returns row 11, column 3"):
        xv.correlation_matrix(r)
    np.testing.assert_allclose(xv.correlation_matrix(r, missing="drop"),
                               np.corrcoef(np.delete(r, 10, axis=0), rowvar=False), rtol=1e-12)


def test_flat_asset_and_bad_options() -> None:
    r = np.column_stack([np.linspace(-0.01, 0.02, 30), np.full(30, 0.001)])
    with pytest.raises(XlVarError, match="returns column 2 does not vary"):
        xv.correlation_matrix(r)
    with pytest.raises(XlVarError, match="method must be one of 'sample', 'ewma'"):
        xv.correlation_matrix(r, method="kendall")
    with pytest.raises(XlVarError, match="lam must be a decay factor"):
        xv.correlation_matrix(r, method="ewma", lam=1.5)
    with pytest.raises(XlVarError, match="at least 2"):
        xv.correlation_matrix([[0.01, 0.02]])


# --------------------------------------------------------------------------- stress_correlation


BASE = np.array([[1.0, 0.3, -0.2], [0.3, 1.0, 0.1], [-0.2, 0.1, 1.0]])
RNG_DATA = np.random.default_rng(0).random((100, 3))


def test_shift_closed_form() -> None:
    s = xv.stress_correlation(BASE, 0.5)
    expected = BASE + 0.5 * (1.0 - BASE)
    np.testing.assert_allclose(s, expected, rtol=0, atol=1e-15)
    assert s[0, 1] == pytest.approx(0.65, abs=1e-15)
    s0 = xv.stress_correlation(BASE, 0.25, target=0.0)
    np.testing.assert_allclose(s0, 0.75 * BASE + 0.25 * np.eye(3), atol=1e-15)


def test_shift_toward_negative_target_is_repaired() -> None:
    # All off-diagonals at -0.8 is impossible for 3 assets (the limit is -1/2): repaired to -1/2.
    s = xv.stress_correlation(BASE, 1.0, method="shift", target=-0.8)
    assert_valid(s)
    np.testing.assert_allclose(s, 1.5 * np.eye(3) - 0.5, atol=1e-8)


def test_shift_extremes() -> None:
    np.testing.assert_array_equal(xv.stress_correlation(BASE, 0.0), BASE)
    np.testing.assert_allclose(xv.stress_correlation(BASE, 1.0), np.ones((3, 3)), atol=1e-12)


def test_blend_and_shrink_closed_forms() -> None:
    crisis = np.array([[1.0, 0.9, 0.8], [0.9, 1.0, 0.85], [0.8, 0.85, 1.0]])
    np.testing.assert_allclose(xv.stress_correlation(BASE, 0.3, "blend", crisis=crisis),
                               0.7 * BASE + 0.3 * crisis, atol=1e-15)
    np.testing.assert_allclose(xv.stress_correlation(BASE, 0.4, "Shrink"), 0.6 * BASE + 0.4 * np.eye(3),
                               atol=1e-15)


def test_blend_repairs_an_invalid_crisis_matrix_first() -> None:
    crisis = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    repaired = xv.nearest_correlation(crisis)
    s = xv.stress_correlation(BASE, 1.0, "blend", crisis=crisis)
    np.testing.assert_allclose(s, repaired, atol=1e-12)
    assert_valid(s)


def test_tail_correlation_by_hand() -> None:
    r = sample_returns()
    q = 0.05
    t = r.shape[0]
    m = math.ceil(q * t)
    index = [sum(row) / len(row) for row in r.tolist()]
    worst_days = sorted(range(t), key=lambda i: (index[i], i))[:m]
    tail = r[worst_days]
    expected_tail = np.corrcoef(tail, rowvar=False)
    full = np.corrcoef(r, rowvar=False)

    s1 = xv.stress_correlation(None, 1.0, "tail", returns=r, q=q)
    np.testing.assert_allclose(s1, expected_tail, atol=1e-12)
    s_half = xv.stress_correlation(None, 0.5, "tail", returns=r, q=q)
    np.testing.assert_allclose(s_half, 0.5 * full + 0.5 * expected_tail, atol=1e-12)
    # The sample portfolio is generated with correlations that rise in sell-offs.
    assert s1[0, 1] > full[0, 1] and s1[0, 2] > full[0, 2]
    # A given base correlation replaces the sample one.
    base = np.eye(r.shape[1])
    np.testing.assert_allclose(xv.stress_correlation(base, 0.5, "tail", returns=r, q=q),
                               0.5 * base + 0.5 * expected_tail, atol=1e-12)


def test_corr_omitted_uses_sample_correlation_of_returns() -> None:
    r = sample_returns()
    np.testing.assert_allclose(xv.stress_correlation(None, 0.3, returns=r),
                               xv.stress_correlation(xv.correlation_matrix(r), 0.3), atol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"corr": BASE, "intensity": 1.5}, "intensity must be between 0 and 1 (e.g. 0.5 or 50%); got 1.5"),
        ({"corr": BASE, "intensity": 50}, "did you mean 0.5?"),
        ({"corr": BASE, "intensity": -0.1}, "intensity must be between 0 and 1"),
        ({"corr": BASE, "intensity": "high"}, "intensity must be a number"),
        ({"corr": BASE, "intensity": 0.5, "target": 2.0}, "target must be a correlation between -1 and 1"),
        ({"corr": BASE, "intensity": 0.5, "method": "blend"}, "method='blend' needs crisis="),
        ({"corr": BASE, "intensity": 0.5, "crisis": BASE}, "crisis is only used by method='blend'"),
        ({"corr": BASE, "intensity": 0.5, "method": "blend", "crisis": np.eye(2)},
         "crisis is 2×2 but corr is 3×3"),
        ({"corr": BASE, "intensity": 0.5, "method": "tail"}, "method='tail' needs returns="),
        ({"corr": None, "intensity": 0.5}, "give corr (a correlation matrix) or returns"),
        ({"corr": BASE, "intensity": 0.5, "returns": np.ones((9, 3))}, "give either corr or returns"),
        ({"corr": BASE, "intensity": 0.5, "method": "tail", "returns": RNG_DATA[:99, :2]},
         "returns has 2 columns but corr is 3×3"),
        ({"corr": None, "intensity": 0.5, "method": "tail", "returns": RNG_DATA[:60]},
         "q=0.05 of 60 rows leaves 3 tail day(s)"),
        ({"corr": None, "intensity": 0.5, "method": "tail", "q": 5,
          "returns": RNG_DATA[:60]}, "q must be between just above 0 and 1"),
        ({"corr": BASE, "intensity": 0.5, "method": "panic"},
         "method must be one of 'shift', 'blend', 'tail'"),
        ({"corr": [[1.0, 2.0], [2.0, 1.0]], "intensity": 0.5}, "corr row 1, column 2 is 2"),
        ({"corr": BASE, "intensity": 0.5, "method": "blend", "crisis": [[1.0, 0.5], [0.1, 1.0]]},
         "crisis is not symmetric"),
    ],
)
def test_stress_input_errors(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(XlVarError) as info:
        xv.stress_correlation(**kwargs)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_tail_flat_asset_is_named() -> None:
    rng = np.random.default_rng(2)
    r = rng.standard_normal((200, 3)) * 0.01
    r[:, 1] = 0.0
    with pytest.raises(XlVarError, match="returns column 2 does not vary"):
        xv.stress_correlation(None, 0.5, "tail", returns=r)
    r[:, 1] = np.where(r[:, 0] + r[:, 2] > -0.005, rng.standard_normal(200) * 0.01, 0.0)
    with pytest.raises(XlVarError, match="returns column 2 does not move over the 10 worst days"):
        xv.stress_correlation(None, 0.5, "tail", returns=r, q=0.05)


@settings(max_examples=200, deadline=None)
@given(pseudo_correlations(), st.floats(0.0, 1.0), st.sampled_from(["shift", "blend", "shrink"]),
       st.floats(-1.0, 1.0))
def test_property_stress_is_always_valid(a: Matrix, k: float, method: str, target: float) -> None:
    crisis = np.ones_like(a) if method == "blend" else None
    s = xv.stress_correlation(a, k, method, target=target, crisis=crisis)
    assert_valid(s)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 6), st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
def test_property_shift_extremes_and_tail_validity(n: int, seed: int, k: float) -> None:
    c = random_correlation(n, seed)
    c = 0.5 * (c + c.T)
    np.fill_diagonal(c, 1.0)
    np.testing.assert_allclose(xv.stress_correlation(c, 0.0), c, atol=1e-12)
    np.testing.assert_allclose(xv.stress_correlation(c, 1.0, target=1.0), np.ones((n, n)), atol=1e-12)
    returns = np.random.default_rng(seed).standard_normal((40, n))
    assert_valid(xv.stress_correlation(c, k, "tail", returns=returns, q=0.2))
