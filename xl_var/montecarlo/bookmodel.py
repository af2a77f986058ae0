r"""A book of derivatives revalued in every Monte Carlo scenario.

:class:`BookModel` wraps a scenario model of the underlyings' h-period returns
(:mod:`xl_var.montecarlo.models`, fitted with unit weights so that its position losses
are :math:`-X_u`) and maps each scenario to the book's USD P&L:

* ``"full"``: every position repriced (:meth:`~xl_var.book.Book.unit_pnl`), the
  underlying at :math:`S_0(1 + X_u)`;
* ``"delta"``: :math:`\sum_i q_i\,\delta_i X_{u(i)}`;
* ``"delta-gamma"``: :math:`\sum_i q_i(\delta_i X + \tfrac12\Gamma_i X^2 + \theta_i\,\Delta t)`,

with the per-unit dollar Greeks of :meth:`~xl_var.book.Book.unit_greeks`. Simulated
returns are simple returns like the data they are fitted to; a simulated move below
:data:`MOVE_FLOOR` (a fall of more than 99%) is floored there, since a price cannot reach
zero. The tail keeps the underlyings' draws, so position losses (one column per
position) are recomputed only for the few scenarios the statistics need.

Reference: Glasserman, P. (2003), *Monte Carlo Methods in Financial Engineering*,
Springer, §9.1 (full revaluation and delta-gamma approximations).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xl_var._typing import FloatArray
from xl_var.book import Book
from xl_var.montecarlo.models import ScenarioModel, Scratch, SumsOfPositionLosses

__all__ = ["MOVE_FLOOR", "BookModel"]

#: Smallest simulated relative move of an underlying (a 99% fall).
MOVE_FLOOR = -0.99
_PILOT = 8192  # scenarios of the fixed-seed pilot that sets the histogram's centre and width


@dataclass(frozen=True)
class BookModel(SumsOfPositionLosses):
    """The book's USD losses in the scenarios of ``base`` (see the module docstring)."""

    base: ScenarioModel
    book: Book
    revaluation: str
    dt: float  # years of decay before repricing
    centre: float = field(init=False)
    scale: float = field(init=False)
    def __post_init__(self) -> None:
        loss, _ = self.simulate(np.random.default_rng(0), _PILOT, Scratch())
        object.__setattr__(self, "centre", float(loss.mean()))
        object.__setattr__(self, "scale", float(loss.std()))

    @property
    def n_assets(self) -> int:
        """Positions of the book (the components' length)."""
        return self.book.size

    @property
    def df(self) -> float | None:
        """Degrees of freedom of the underlying model, if it has them."""
        return getattr(self.base, "df", None)

    def _moves(self, payload: NDArray[Any]) -> FloatArray:
        moves: FloatArray = -self.base.position_losses(payload)  # unit weights: the h-period returns
        np.maximum(moves, MOVE_FLOOR, out=moves)
        return moves

    def _unit_pnl(self, moves: FloatArray) -> FloatArray:
        return self.book.unit_pnl(moves, dt=self.dt, revaluation=self.revaluation)

    def simulate(self, rng: np.random.Generator, rows: int, scratch: Scratch) -> tuple[FloatArray, Any]:
        _, state = self.base.simulate(rng, rows, scratch)
        payload = self.base.payload(state, np.arange(rows))
        loss: FloatArray = -(self._unit_pnl(self._moves(payload)) @ self.book.quantity)
        return loss, payload

    def payload(self, state: Any, rows: NDArray[np.intp]) -> NDArray[Any]:
        out: NDArray[Any] = state[rows]
        return out

    def position_losses(self, payload: NDArray[Any]) -> FloatArray:
        out: FloatArray = -self._unit_pnl(self._moves(payload)) * self.book.quantity
        return out

