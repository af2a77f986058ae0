r"""Correlation matrices: estimation, stress scenarios and repair to a valid matrix.

A *valid* correlation matrix is exactly symmetric, has a unit diagonal and is positive
semi-definite; here "valid" means its smallest eigenvalue (``numpy.linalg.eigvalsh``)
is at least :math:`-10^{-12}`. Every stressed matrix, and every matrix a user supplies
(``corr``, ``crisis``), goes through :func:`nearest_correlation` — Higham's (2002)
alternating projections with Dykstra's correction — before it is returned or used.

These functions return the matrix itself (an ``ndarray``), not a result object: the
matrix *is* the result, it feeds straight into ``portfolio_var(..., corr=...)``, and
``STRESSCORR``/``CORRMATRIX`` spill it into Excel unchanged.

User-supplied correlations (``corr``, ``crisis``) are checked once, in one place: square,
every entry finite, symmetric and with a unit diagonal to within ``1e-6`` (smaller
differences, e.g. from rounding or float32 exports, are averaged away silently; larger
ones raise :class:`~xl_var.errors.XlVarError` naming the first offending position), and
every entry within ``[-1, 1]`` to within ``1e-6``. A diagonal that is not 1 almost always
means a covariance matrix was passed; the message says so. :func:`nearest_correlation`
alone accepts any symmetric matrix, as Higham (2002) and NAG ``g02aa`` do.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from xl_var._typing import FloatArray
from xl_var._validate import check_lambda, check_positive_int, choose, clean_returns
from xl_var.errors import XlVarError
from xl_var.ewma import ewma_cov

__all__ = ["correlation_input", "correlation_matrix", "nearest_correlation", "stress_correlation"]


#: Tolerance for symmetry, unit diagonal and the [-1, 1] range of user-supplied matrices.
INPUT_ATOL = 1e-6
#: Smallest eigenvalue a returned correlation matrix may have.
MIN_EIGENVALUE = -1e-12
#: Fewest days the ``tail`` method estimates a correlation from.
MIN_TAIL_DAYS = 5

_CORR_METHODS = {"sample": ("pearson",), "ewma": ("riskmetrics", "exponential")}
_STRESS_METHODS = {
    "shift": ("target",),
    "blend": ("crisis", "mix"),
    "tail": ("tails", "downside"),
    "shrink": ("identity", "shrinkage"),
}


def correlation_matrix(
    returns: ArrayLike, method: str = "sample", lam: float = 0.94, missing: str = "raise"
) -> FloatArray:
    r"""Correlation matrix of a T×N returns table (what ``CORRMATRIX`` spills).

    .. math::

        \rho_{ij} = \frac{\Sigma_{ij}}{\sqrt{\Sigma_{ii}\Sigma_{jj}}},

    where :math:`\Sigma` is the sample covariance
    :math:`\frac{1}{T-1}\sum_t (r_t-\bar r)(r_t-\bar r)^\top` (``"sample"``, i.e. the
    Pearson correlation) or the RiskMetrics EWMA covariance forecast
    :math:`\Sigma_{T+1}` of :func:`xl_var.ewma.ewma_cov` (``"ewma"``, zero mean,
    decay ``lam``).

    Parameters
    ----------
    returns : array_like, shape (T, N)
        Returns, rows are periods and columns are assets.
    method : {"sample", "ewma"}, default "sample"
        ``"sample"`` (alias ``"pearson"``) or ``"ewma"`` (aliases ``"riskmetrics"``,
        ``"exponential"``); case-insensitive.
    lam : float, default 0.94
        EWMA decay factor in (0, 1); used by ``"ewma"`` only.
    missing : {"raise", "drop"}, default "raise"
        What to do with rows holding NaN/inf: raise an error naming the first one, or
        drop those rows.

    Returns
    -------
    ndarray, shape (N, N)
        Symmetric, unit diagonal, entries in [-1, 1], positive semi-definite.

    Raises
    ------
    XlVarError
        Bad returns (non-numeric, NaN with ``missing="raise"``, fewer than 2 rows), an
        asset whose returns do not vary, an unknown ``method`` or a bad ``lam``.

    References
    ----------
    J.P. Morgan/Reuters, *RiskMetrics — Technical Document*, 4th ed., 1996, §5.2.
    """
    method = choose(method, "method", _CORR_METHODS)
    arr = clean_returns(returns, missing=missing, min_obs=2, method=f"'{method}' correlation")
    if method == "ewma":
        cov = ewma_cov(arr, check_lambda(lam))
        where = "the EWMA variance is zero"
    else:
        cov = np.atleast_2d(np.cov(arr, rowvar=False))
        where = "it has zero variance"
    return _cov_to_corr(cov, arr, f"returns column {{col}} does not vary ({where}): remove that asset")


def nearest_correlation(a: ArrayLike, *, tol: float = 1e-10, max_iter: int = 10_000) -> FloatArray:
    r"""Nearest valid correlation matrix to any symmetric ``a`` in the Frobenius norm (Higham 2002).

    Solves :math:`\min_X \lVert A - X\rVert_F` over symmetric positive semi-definite
    :math:`X` with unit diagonal by alternating projections with Dykstra's correction
    (Higham 2002, Algorithm 3.3, :math:`W = I`). ``a`` may be any symmetric matrix, as in
    Higham's paper, NAG ``g02aa`` and MATLAB's ``nearcorr``: entries outside [-1, 1] and a
    diagonal that is not 1 are allowed. Since every candidate :math:`X` has a unit diagonal,
    :math:`\lVert A - X\rVert_F^2 = \sum_{i \ne j}(a_{ij} - x_{ij})^2 + \sum_i (a_{ii} - 1)^2`
    and the diagonal of :math:`A` does not change the answer: :math:`A` is symmetrised and its
    diagonal set to 1 first (as ``g02aa`` does). Note that for a *covariance* matrix this is
    not its correlation matrix (:math:`D^{-1/2}\Sigma D^{-1/2}`): divide by the
    volatilities first for that. With :math:`Y_0 = A`, :math:`\Delta S_0 = 0`:

    .. math::

        R_k = Y_{k-1} - \Delta S_{k-1},\quad
        X_k = P_S(R_k) = Q\max(\Lambda, 0)Q^\top,\quad
        \Delta S_k = X_k - R_k,\quad
        Y_k = P_U(X_k)\;(\text{diagonal set to } 1),

    until the relative changes of :math:`X_k`, :math:`Y_k` and the gap
    :math:`\lVert Y_k - X_k\rVert_F / \lVert Y_k\rVert_F` are all below ``tol``. A
    final step clips any eigenvalue below zero, rescales to a unit diagonal
    (:math:`D^{-1/2} X D^{-1/2}`) and symmetrises exactly, so the smallest eigenvalue of
    the result is at least :math:`-10^{-12}` (:data:`MIN_EIGENVALUE`). A matrix that is
    already valid is returned unchanged (up to exact symmetrisation).

    Parameters
    ----------
    a : array_like, shape (N, N)
        Any square, finite matrix symmetric to within 1e-6 of its largest entry (smaller
        asymmetry is averaged away silently); the diagonal is ignored.
    tol : float, keyword-only, default 1e-10
        Convergence tolerance on the relative changes, in (0, 1).
    max_iter : int, keyword-only, default 10000
        Maximum number of projection steps.

    Returns
    -------
    ndarray, shape (N, N)
        Valid correlation matrix.

    Raises
    ------
    XlVarError
        Non-square, non-finite or asymmetric ``a`` (the message names the position), bad
        ``tol``/``max_iter``, or no convergence within ``max_iter`` steps.

    References
    ----------
    N. J. Higham, "Computing the nearest correlation matrix — a problem from finance",
    *IMA Journal of Numerical Analysis* 22(3), 329–343, 2002. NAG Library, routine
    ``g02aa`` (``nag_correg_corrmat_nearest``), example program: the tridiagonal matrix
    with 2 on the diagonal and -1 beside it.

    Examples
    --------
    >>> x = nearest_correlation([[1, 1, 0], [1, 1, 1], [0, 1, 1]])
    >>> round(float(x[0, 1]), 8), round(float(x[0, 2]), 8)
    (0.76068985, 0.15729811)
    """
    arr = _symmetric_input(a, "a")
    matrix = 0.5 * (arr + arr.T)
    np.fill_diagonal(matrix, 1.0)
    try:
        t = float(tol)
    except (TypeError, ValueError):
        raise XlVarError("tol must be a small positive number such as 1e-10") from None
    if not 0.0 < t < 1.0:
        raise XlVarError(f"tol must be a small positive number such as 1e-10; got {t:g}")
    return _repair(matrix, tol=t, max_iter=check_positive_int(max_iter, "max_iter"))


def stress_correlation(
    corr: ArrayLike | None,
    intensity: float,
    method: str = "shift",
    *,
    target: float = 1.0,
    crisis: ArrayLike | None = None,
    returns: ArrayLike | None = None,
    q: float = 0.05,
) -> FloatArray:
    r"""Stressed correlation matrix, repaired to the nearest valid one (``STRESSCORR``).

    With intensity :math:`k \in [0, 1]`, base correlation :math:`C` and off-diagonal
    entries :math:`i \ne j`:

    - ``"shift"``: :math:`C'_{ij} = C_{ij} + k\,(\tau - C_{ij})` toward the target
      :math:`\tau` (``target``, default 1: "correlations go to one in a crash");
    - ``"blend"``: :math:`C' = (1-k)\,C + k\,K` with a user crisis matrix :math:`K`
      (``crisis``);
    - ``"tail"``: :math:`C' = (1-k)\,C + k\,C^{\text{tail}}`, where
      :math:`C^{\text{tail}}` is the Pearson correlation over the
      :math:`m = \lceil qT\rceil` days on which the equal-weight index
      :math:`\frac1N\sum_i r_{t,i}` had its lowest returns (ties: earlier day first);
      needs ``returns``;
    - ``"shrink"``: :math:`C' = (1-k)\,C + k\,I`, shrinkage toward the identity
      (diversification stress: correlations fade toward zero).

    The diagonal stays 1. ``corr`` and ``crisis`` are first repaired with
    :func:`nearest_correlation`, and so is the result: ``shift`` toward a negative
    target, for instance, can leave the valid set (no N×N matrix has all correlations
    below :math:`-1/(N-1)`). Convex combinations of valid matrices (``blend``,
    ``tail``, ``shrink``, ``shift`` toward a target in [0, 1]) stay valid and are not
    changed by the repair.

    ``corr`` may be ``None`` when ``returns`` is given: the base is then the sample
    (Pearson) correlation of ``returns`` (``correlation_matrix(returns)``). Passing
    both is allowed only for ``"tail"``, where ``returns`` supplies the tail days and
    ``corr`` the base (their sizes must agree).

    Parameters
    ----------
    corr : array_like, shape (N, N), or None
        Base correlation matrix, or ``None`` to estimate it from ``returns``.
    intensity : float
        Stress intensity :math:`k` in [0, 1] (0 = no stress, 1 = full stress).
    method : {"shift", "blend", "tail", "shrink"}, default "shift"
        Case-insensitive.
    target : float, keyword-only, default 1.0
        Target correlation :math:`\tau \in [-1, 1]` for ``"shift"``.
    crisis : array_like, shape (N, N), keyword-only, optional
        Crisis correlation matrix :math:`K`; required by ``"blend"``, refused otherwise.
    returns : array_like, shape (T, N), keyword-only, optional
        Returns (rows are periods); required by ``"tail"`` and when ``corr`` is None.
    q : float, keyword-only, default 0.05
        Tail fraction in (0, 1] for ``"tail"``; at least 5 days
        (:data:`MIN_TAIL_DAYS`) must fall in the tail.

    Returns
    -------
    ndarray, shape (N, N)
        Valid correlation matrix.

    Raises
    ------
    XlVarError
        An invalid matrix, intensity outside [0, 1], target outside [-1, 1], a missing
        or surplus ``crisis``/``returns``, mismatched sizes, too few tail days, an asset
        that does not move over the tail days, or an unknown method.

    References
    ----------
    P. Kupiec, "Stress testing in a value at risk framework", *Journal of Derivatives*
    6(1), 7–24, 1998 (correlation stress). F. Longin and B. Solnik, "Extreme correlation
    of international equity markets", *Journal of Finance* 56(2), 649–676, 2001 (tail
    correlation). N. J. Higham, *IMA J. Numer. Anal.* 22(3), 329–343, 2002 (repair).

    Examples
    --------
    >>> c = [[1.0, 0.2], [0.2, 1.0]]
    >>> round(float(stress_correlation(c, 0.5)[0, 1]), 12)
    0.6
    """
    method = choose(method, "method", _STRESS_METHODS)
    k = _fraction(intensity, "intensity", allow_zero=True, example="0.5 or 50%")
    if crisis is not None and method != "blend":
        raise XlVarError(f"crisis is only used by method='blend' (got method='{method}'): leave crisis out")
    if returns is not None and corr is not None and method != "tail":
        raise XlVarError(f"give either corr or returns for method='{method}', not both: "
                         "returns is only used with corr by method='tail'")
    data = None if returns is None else clean_returns(returns, min_obs=2, method=f"'{method}' stress")
    if corr is not None:
        base = _repair(correlation_input(corr, "corr"))
    elif data is not None:
        base = correlation_matrix(data)
    else:
        raise XlVarError("give corr (a correlation matrix) or returns (to estimate it from)")
    n = base.shape[0]
    if data is not None and data.shape[1] != n:
        raise XlVarError(
            f"returns has {data.shape[1]} columns but corr is {n}×{n}: give one column per asset"
        )

    if method == "shift":
        tau = _correlation_value(target, "target")
        stressed = base + k * (tau - base)
    elif method == "blend":
        if crisis is None:
            raise XlVarError("method='blend' needs crisis=, the crisis correlation matrix to blend toward")
        other = _repair(correlation_input(crisis, "crisis"))
        if other.shape != base.shape:
            raise XlVarError(f"crisis is {other.shape[0]}×{other.shape[1]} but corr is {n}×{n}: "
                             "give one row and column per asset")
        stressed = (1.0 - k) * base + k * other
    elif method == "tail":
        if data is None:
            raise XlVarError("method='tail' needs returns=, the returns whose worst days define the tail")
        stressed = (1.0 - k) * base + k * _tail_correlation(data, _fraction(q, "q", allow_zero=False,
                                                                            example="0.05 or 5%"))
    else:
        stressed = (1.0 - k) * base + k * np.eye(n)
    np.fill_diagonal(stressed, 1.0)
    return _repair(stressed)


# --------------------------------------------------------------------------- helpers


def _tail_correlation(data: FloatArray, q: float) -> FloatArray:
    """Pearson correlation over the ceil(q*T) worst days of the equal-weight index."""
    t = data.shape[0]
    m = math.ceil(q * t - 1e-9)  # tolerance: q*t = 5.000000000000001 still means 5 days
    if m < MIN_TAIL_DAYS:
        raise XlVarError(
            f"q={q:g} of {t} rows leaves {m} tail day(s) but the tail correlation needs at least "
            f"{MIN_TAIL_DAYS}: raise q to {MIN_TAIL_DAYS / t:.3g} or more, or give more history"
        )
    worst = np.argsort(data.mean(axis=1), kind="stable")[:m]
    tail = data[worst]
    cov = np.atleast_2d(np.cov(tail, rowvar=False))
    return _cov_to_corr(
        cov, tail, f"returns column {{col}} does not move over the {m} worst days of the equal-weight "
        "index, so its tail correlation is undefined: remove that asset or raise q",
    )


def _cov_to_corr(cov: FloatArray, data: FloatArray, message: str) -> FloatArray:
    """Scale a covariance to a correlation; ``message`` (with ``{col}``) names a flat column."""
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    flat = sd <= 1e-12 * np.max(np.abs(data), axis=0)
    if flat.any():
        raise XlVarError(message.format(col=int(np.flatnonzero(flat)[0]) + 1))
    corr = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
    corr = 0.5 * (corr + corr.T)
    np.fill_diagonal(corr, 1.0)
    out: FloatArray = corr
    return out


def _symmetric_input(a: Any, name: str) -> FloatArray:
    """A square, finite matrix, symmetric to within ``INPUT_ATOL`` of its largest entry (or of 1)."""
    try:
        ndim = np.ndim(a)
    except ValueError:
        ndim = -1
    if ndim != 2:
        raise XlVarError(f"{name} must be a square N×N table of correlations (one row and column per asset)")
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise XlVarError(f"{name} must contain only numbers (a correlation matrix)") from None
    rows, cols = arr.shape
    if rows != cols or rows == 0:
        raise XlVarError(f"{name} must be square but has {rows} rows and {cols} columns: "
                         "give one row and one column per asset")
    bad = np.argwhere(~np.isfinite(arr))
    if bad.size:
        r, c = (int(i) for i in bad[0])
        raise XlVarError(
            f"{name} row {r + 1}, column {c + 1} is not a finite number: fill in every correlation"
        )
    asym = np.abs(arr - arr.T)
    if asym.max() > INPUT_ATOL * max(1.0, float(np.abs(arr).max())):
        r, c = sorted(int(i) for i in np.unravel_index(int(np.argmax(asym)), asym.shape))
        raise XlVarError(
            f"{name} is not symmetric: row {r + 1}, column {c + 1} is {arr[r, c]:g} but row {c + 1}, "
            f"column {r + 1} is {arr[c, r]:g}; make them equal"
        )
    return arr


def correlation_input(a: Any, name: str) -> FloatArray:
    """Validate a user-supplied correlation matrix; return it exactly symmetric with unit diagonal.

    Used by every function that *takes* a correlation (``corr=``, ``crisis=``): entries
    outside [-1, 1] and a diagonal that is not 1 are refused (almost always a covariance
    matrix passed by mistake). :func:`nearest_correlation` accepts any symmetric matrix.
    """
    arr = _symmetric_input(a, name)
    off_unit = np.flatnonzero(np.abs(np.diag(arr) - 1.0) > INPUT_ATOL)
    if off_unit.size:
        i = int(off_unit[0])
        raise XlVarError(
            f"{name} diagonal entry {i + 1} is {arr[i, i]:g}, not 1: give a correlation matrix "
            "(a covariance matrix divided by the outer product of the volatilities)"
        )
    out_of_range = np.argwhere(np.abs(arr) > 1.0 + INPUT_ATOL)
    if out_of_range.size:
        r, c = (int(i) for i in out_of_range[0])
        raise XlVarError(f"{name} row {r + 1}, column {c + 1} is {arr[r, c]:g}: correlations must lie "
                         "between -1 and 1")
    sym = np.clip(0.5 * (arr + arr.T), -1.0, 1.0)
    np.fill_diagonal(sym, 1.0)
    out: FloatArray = sym
    return out


def _repair(a: FloatArray, *, tol: float = 1e-10, max_iter: int = 10_000) -> FloatArray:
    """Nearest valid correlation matrix of a symmetric unit-diagonal ``a`` (no input checks)."""
    if np.linalg.eigvalsh(a)[0] >= 0.0:  # then every entry is within [-1, 1] up to rounding
        out: FloatArray = np.clip(a, -1.0, 1.0)
        return out
    y = a.copy()
    x = a.copy()
    ds = np.zeros_like(a)
    for _ in range(max_iter):
        r = y - ds
        w, v = np.linalg.eigh(r)
        x_new = (v * np.maximum(w, 0.0)) @ v.T
        x_new = 0.5 * (x_new + x_new.T)
        ds = x_new - r
        y_new = x_new.copy()
        np.fill_diagonal(y_new, 1.0)
        norm_x = max(float(np.linalg.norm(x_new)), 1.0)
        norm_y = float(np.linalg.norm(y_new))
        change = max(
            float(np.linalg.norm(x_new - x)) / norm_x,
            float(np.linalg.norm(y_new - y)) / norm_y,
            float(np.linalg.norm(y_new - x_new)) / norm_y,
        )
        x, y = x_new, y_new
        if change <= tol:
            return _psd_unit_diagonal(y)
    raise XlVarError(
        f"the correlation matrix repair did not converge in {max_iter} steps: pass a larger max_iter or tol"
    )


def _psd_unit_diagonal(y: FloatArray) -> FloatArray:
    """Clip negative eigenvalues, rescale to unit diagonal, symmetrise exactly."""
    w, v = np.linalg.eigh(y)
    x = (v * np.maximum(w, 0.0)) @ v.T
    d = np.sqrt(np.diag(x))
    x = np.clip(x / np.outer(d, d), -1.0, 1.0)
    x = 0.5 * (x + x.T)
    np.fill_diagonal(x, 1.0)
    out: FloatArray = x
    return out


def _fraction(value: Any, name: str, *, allow_zero: bool, example: str) -> float:
    """A number in [0, 1] (or (0, 1] without ``allow_zero``); suggest value/100 for percents."""
    low = "0" if allow_zero else "just above 0"
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise XlVarError(f"{name} must be a number between {low} and 1, e.g. {example}") from None
    if not np.isfinite(x) or x > 1.0 or x < 0.0 or (x == 0.0 and not allow_zero):
        hint = f": did you mean {x / 100:g}?" if 1.0 < x <= 100.0 else ""
        raise XlVarError(f"{name} must be between {low} and 1 (e.g. {example}); got {x:g}{hint}")
    return x


def _correlation_value(value: Any, name: str) -> float:
    """A single correlation in [-1, 1]."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise XlVarError(f"{name} must be a correlation between -1 and 1, e.g. 1") from None
    if not np.isfinite(x) or abs(x) > 1.0:
        raise XlVarError(f"{name} must be a correlation between -1 and 1; got {x:g}")
    return x
