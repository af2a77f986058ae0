r"""Period returns from a table of prices.

``RETURNS(prices)`` in Excel spills what :func:`price_returns` computes, so that
``=AGGVAR(RETURNS(A2:D500), F2:F5)`` works on a price range.

.. math::

    \text{simple:}\quad r_t = \frac{P_t}{P_{t-1}} - 1, \qquad
    \text{log:}\quad r_t = \ln\frac{P_t}{P_{t-1}} = \ln(1 + r^{\text{simple}}_t).

Reference: J. Y. Campbell, A. W. Lo and A. C. MacKinlay, *The Econometrics of
Financial Markets*, Princeton University Press, 1997, §1.4.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from xl_var._typing import FloatArray
from xl_var._validate import as_matrix, choose
from xl_var.errors import XlVarError

__all__ = ["price_returns"]


_KINDS = {"simple": ("arithmetic", "discrete", "pct"), "log": ("continuous", "logarithmic", "ln")}


def price_returns(prices: ArrayLike, kind: str = "simple") -> FloatArray:
    r"""Returns of each column of a T×N price table, oldest row first.

    .. math::

        r_{t,i} = \frac{P_{t,i} - P_{t-1,i}}{P_{t-1,i}} \quad(\text{simple}), \qquad
        r_{t,i} = \ln\!\left(1 + \frac{P_{t,i} - P_{t-1,i}}{P_{t-1,i}}\right) \quad(\text{log}),

    for :math:`t = 2..T`. The log return is ``log1p`` of the simple return for moves
    within ±50 % (full precision for small moves) and :math:`\ln(P_t/P_{t-1})` beyond
    (full precision for crashes towards zero).

    Parameters
    ----------
    prices : array_like, shape (T, N) or (T,)
        Prices (or index levels, NAVs), rows are periods in time order, columns are
        assets; a 1-D input is one asset. Every entry must be a finite positive number.
    kind : {"simple", "log"}, default "simple"
        ``"simple"`` (aliases ``"arithmetic"``, ``"discrete"``, ``"pct"``) or ``"log"``
        (aliases ``"continuous"``, ``"logarithmic"``, ``"ln"``); case-insensitive.

    Returns
    -------
    ndarray, shape (T - 1, N)
        Row ``t - 1`` holds the return from row ``t - 1`` to row ``t`` of ``prices``.

    Raises
    ------
    XlVarError
        Fewer than two rows, a non-numeric, non-finite, zero or negative price (the
        message gives its row and column, counted from 1), or an unknown ``kind``.

    References
    ----------
    J. Y. Campbell, A. W. Lo and A. C. MacKinlay, *The Econometrics of Financial
    Markets*, 1997, §1.4.

    Examples
    --------
    >>> price_returns([[100.0], [110.0], [99.0]])
    array([[ 0.1],
           [-0.1]])
    """
    kind = choose(kind, "kind", _KINDS)
    p = as_matrix(prices, "prices", finite=False)
    bad = ~np.isfinite(p) | (p <= 0.0)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise XlVarError(
            f"prices row {r + 1}, column {c + 1} is {p[r, c]:g}: prices must be finite positive numbers; "
            "fix or remove that row"
        )
    if p.shape[0] < 2:
        raise XlVarError(f"prices has {p.shape[0]} row but returns need at least 2 rows of prices")
    simple: FloatArray = np.diff(p, axis=0) / p[:-1]
    if kind == "log":
        out: FloatArray = np.where(np.abs(simple) < 0.5, np.log1p(simple), np.log(p[1:] / p[:-1]))
        return out
    return simple
