r"""Scenario models: how one chunk of Monte Carlo scenarios is drawn.

Every model turns a chunk's generator into the portfolio losses of ``rows`` scenarios
of the h-period return :math:`X` (positive loss :math:`L = -w^\top X`), and keeps the
chunk's *state* so that, for the few scenarios the tail statistics need, a small
*payload* can be extracted from which the position losses :math:`-w_i X_i` are
recomputed later. Draws and scenario arithmetic are float32; losses come out float64.

* ``normal``: :math:`X = h\mu + \sqrt h\,A Z`, :math:`AA^\top = \Sigma`,
  :math:`Z \sim N(0, I)`. The portfolio loss needs only :math:`b = \sqrt h A^\top w`:
  one matrix-vector product per chunk.
* ``t``: the same with :math:`Z` scaled by :math:`\sqrt{(\nu-2)/W}`,
  :math:`W \sim \chi^2_\nu` (multivariate Student-t with covariance :math:`\Sigma`,
  square-root-of-time scaling as the analytic ``t`` method).
* ``t-copula``: Student-t dependence with empirical marginals
  (:mod:`xl_var.montecarlo.marginals`), fitted on h-period overlapping returns.
* ``bootstrap`` / ``fhs``: the sum of h rows drawn with replacement from the historical
  (or EWMA-filtered, :func:`xl_var.historical.fhs_scenarios`) returns.

Optionally (normal and t) each chunk is an independently Owen-scrambled Sobol net
(scipy ``qmc.Sobol``) mapped through the normal (and chi-square) inverse CDF.

References: Glasserman, P. (2003), *Monte Carlo Methods in Financial Engineering*,
Springer, §2.3 and §9.2; Barone-Adesi, Giannopoulos & Vosper (1999) for FHS.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import DTypeLike, NDArray
from scipy import special
from scipy.linalg import blas

from xl_var._typing import FloatArray
from xl_var.historical import fhs_scenarios, overlapping_sums
from xl_var.montecarlo.marginals import CopulaTransform, fit_t_copula
from xl_var.parametric import fit_t_df

__all__ = [
    "MODELS",
    "CopulaModel",
    "GaussianModel",
    "ResampleModel",
    "ScenarioModel",
    "Scratch",
    "SumsOfPositionLosses",
    "build_model",
]

F32Array = NDArray[np.float32]

#: Canonical model names and their accepted aliases.
MODELS: dict[str, tuple[str, ...]] = {
    "normal": ("gaussian", "mvn"),
    "t": ("student", "student-t", "mvt"),
    "t-copula": ("tcopula", "t_copula", "copula"),
    "bootstrap": ("historical", "resample"),
    "fhs": ("filtered", "filtered-historical"),
}

_U_MIN = 2.0**-40  # Sobol points are clipped to [_U_MIN, 1 - _U_MIN] before the inverse CDF


class Scratch:
    """Per-thread work buffers, 64-byte aligned and reused chunk after chunk.

    Identical alignment for every chunk keeps BLAS results bit-identical whichever
    thread or worker computes the chunk.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, NDArray[Any]] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype: DTypeLike) -> NDArray[Any]:
        """A C-contiguous, 64-byte aligned array of ``shape`` (contents undefined)."""
        dt = np.dtype(dtype)
        nbytes = math.prod(shape) * dt.itemsize
        buf = self._buffers.get(name)
        if buf is None or buf.size < nbytes + 64:
            buf = np.empty(nbytes + 64, dtype=np.uint8)
            self._buffers[name] = buf
        start = -buf.ctypes.data % 64
        return buf[start:start + nbytes].view(dt).reshape(shape)


class ScenarioModel(Protocol):
    """What the chunk runner needs from a model."""

    @property
    def centre(self) -> float:
        """Expected h-period loss (the histogram's centre)."""

    @property
    def scale(self) -> float:
        """Standard deviation of the h-period loss (the histogram's width)."""

    @property
    def n_assets(self) -> int:
        """Number of assets N."""

    def simulate(self, rng: np.random.Generator, rows: int, scratch: Scratch) -> tuple[FloatArray, Any]:
        """Portfolio losses of ``rows`` scenarios and the chunk state for :meth:`payload`."""

    def payload(self, state: Any, rows: NDArray[np.intp]) -> NDArray[Any]:
        """One row per selected scenario, enough to recompute its position losses."""

    def position_losses(self, payload: NDArray[Any]) -> FloatArray:
        """Position losses :math:`-w_i X_i`, shape (len(payload), N), float64."""

    def portfolio_losses(self, payload: NDArray[Any]) -> FloatArray:
        """Portfolio losses :math:`-w^\\top X` of the payload rows, float64 (row sums of
        :meth:`position_losses` up to rounding)."""

    def position_loss_sum(self, payload: NDArray[Any]) -> FloatArray:
        """Sum over the payload rows of :meth:`position_losses`, shape (N,)."""


def _loss_location(series: FloatArray, horizon: int) -> tuple[float, float]:
    """Expected loss and its standard deviation over ``horizon`` i.i.d. periods of the portfolio ``series``."""
    return -horizon * float(series.mean()), math.sqrt(horizon) * float(series.std())


def _factor(cov: FloatArray) -> FloatArray:
    """A matrix A with A Aᵀ = cov: Cholesky, or the eigen square root when cov is singular."""
    try:
        return np.asarray(np.linalg.cholesky(cov), dtype=np.float64)
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(cov)
        return np.asarray(vecs * np.sqrt(np.clip(vals, 0.0, None)), dtype=np.float64)


@dataclass(frozen=True)
class GaussianModel:
    """Multivariate normal (``df`` None) or Student-t with covariance ``A Aᵀ`` over the horizon."""

    mean: FloatArray  # h·μ
    factor: FloatArray  # √h·A
    weights: FloatArray
    df: float | None = None
    sobol: bool = False
    b: FloatArray = field(init=False, repr=False)  # Aᵀw: the loss is -w·μ - s b·z
    b32: F32Array = field(init=False, repr=False)
    centre: float = field(init=False)
    scale: float = field(init=False)

    def __post_init__(self) -> None:
        b = self.factor.T @ self.weights
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "b32", b.astype(np.float32))
        object.__setattr__(self, "centre", -float(self.weights @ self.mean))
        object.__setattr__(self, "scale", float(np.sqrt(b @ b)))

    @property
    def n_assets(self) -> int:
        return int(self.factor.shape[0])

    def simulate(self, rng: np.random.Generator, rows: int, scratch: Scratch) -> tuple[FloatArray, Any]:
        n = self.n_assets
        z = scratch.array("z", (rows, n), np.float32)  # scenario rows: the payload is a row gather
        chi: NDArray[Any] | None = None
        if self.sobol:
            from scipy.stats import qmc  # on first use: importing scipy.stats costs ~0.5 s

            d = n + (self.df is not None)
            u = qmc.Sobol(d, scramble=True, rng=rng).random_base2(max(0, math.ceil(math.log2(rows))))[:rows]
            np.clip(u, _U_MIN, 1.0 - _U_MIN, out=u)
            z[...] = special.ndtri(u[:, :n])
            if self.df is not None:
                chi = 2.0 * special.gammaincinv(self.df / 2.0, u[:, n])
        else:
            rng.standard_normal(out=z, dtype=np.float32)
            if self.df is not None:
                chi = 2.0 * rng.standard_gamma(self.df / 2.0, rows, dtype=np.float32)
        y = scratch.array("y", (rows,), np.float32)
        np.matmul(z, self.b32, out=y)
        s = None
        if self.df is not None and chi is not None:
            s = np.sqrt(np.float32(self.df - 2.0) / chi).astype(np.float32, copy=False)
            y *= s
        loss: FloatArray = self.centre - y.astype(np.float64)
        return loss, (z, s)

    def payload(self, state: Any, rows: NDArray[np.intp]) -> NDArray[Any]:
        z, s = state
        out = np.empty((rows.size, self.n_assets + 1), dtype=np.float32)
        out[:, :-1] = z[rows]
        out[:, -1] = 1.0 if s is None else s[rows]
        return out

    def position_losses(self, payload: NDArray[Any]) -> FloatArray:
        out: FloatArray = payload[:, :-1].astype(np.float64) @ self.factor.T
        out *= payload[:, -1:]
        out += self.mean
        out *= -self.weights
        return out

    def portfolio_losses(self, payload: NDArray[Any]) -> FloatArray:  # O(N) per row: -w·μ - s (Aᵀw)·z
        out: FloatArray = payload[:, :-1].astype(np.float64) @ self.b
        out *= payload[:, -1]
        return self.centre - out

    def position_loss_sum(self, payload: NDArray[Any]) -> FloatArray:  # -w ⊙ (k μ + A Σ s z)
        sz = payload[:, -1].astype(np.float64) @ payload[:, :-1].astype(np.float64)
        out: FloatArray = -self.weights * (payload.shape[0] * self.mean + self.factor @ sz)
        return out


class SumsOfPositionLosses:
    """Portfolio losses and per-asset sums from ``position_losses`` (models that keep raw draws)."""

    def position_losses(self, payload: NDArray[Any]) -> FloatArray:
        raise NotImplementedError

    def portfolio_losses(self, payload: NDArray[Any]) -> FloatArray:
        out: FloatArray = self.position_losses(payload).sum(axis=1)
        return out

    def position_loss_sum(self, payload: NDArray[Any]) -> FloatArray:
        out: FloatArray = self.position_losses(payload).sum(axis=0)
        return out


@dataclass(frozen=True)
class CopulaModel(SumsOfPositionLosses):
    """Student-t copula with correlation ``corr_factor corr_factorᵀ`` and empirical marginals."""

    corr_factor: NDArray[np.floating[Any]]  # stored float32, Fortran order (for strmm)
    transform: CopulaTransform
    weights: FloatArray
    series: InitVar[FloatArray]  # the fitted h-period returns times the weights
    w32: F32Array = field(init=False, repr=False)
    lower: bool = field(init=False, repr=False)
    centre: float = field(init=False)
    scale: float = field(init=False)

    def __post_init__(self, series: FloatArray) -> None:
        object.__setattr__(self, "w32", self.weights.astype(np.float32))
        object.__setattr__(self, "corr_factor", np.asfortranarray(self.corr_factor, dtype=np.float32))
        centre, scale = _loss_location(series, 1)  # series are already h-period returns
        object.__setattr__(self, "centre", centre)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "lower", bool(np.array_equal(self.corr_factor, np.tril(self.corr_factor))))

    @property
    def n_assets(self) -> int:
        return int(self.corr_factor.shape[0])

    @property
    def df(self) -> float:
        return self.transform.df

    def simulate(self, rng: np.random.Generator, rows: int, scratch: Scratch) -> tuple[FloatArray, Any]:
        n = self.n_assets
        z = scratch.array("z", (n, rows), np.float32)
        rng.standard_normal(out=z, dtype=np.float32)
        a = rng.standard_gamma(self.df / 2.0, rows, dtype=np.float32)  # W/2
        a *= np.float32(4.0 / self.df)  # 2W/ν
        np.maximum(a, np.float32(1e-30), out=a)
        if self.lower:  # Y = L Z (in place), as Yᵀ = Zᵀ Lᵀ on the Fortran view: half a matrix product
            y = blas.strmm(1.0, self.corr_factor, z.T, side=1, lower=1, trans_a=1, overwrite_b=1).T
        else:
            y = np.matmul(self.corr_factor, z)
        x = scratch.array("x", (n, rows), np.float32)
        block = (min(n, 16), rows)
        self.transform.apply(y, a, x, scratch.array("q", block, np.float32), scratch.array("k", block, np.int32))
        loss: FloatArray = -np.matmul(self.w32, x).astype(np.float64)
        return loss, x

    def payload(self, state: Any, rows: NDArray[np.intp]) -> NDArray[Any]:
        out: NDArray[Any] = np.ascontiguousarray(state[:, rows].T)
        return out

    def position_losses(self, payload: NDArray[Any]) -> FloatArray:
        out: FloatArray = -payload.astype(np.float64) * self.weights
        return out


@dataclass(frozen=True)
class ResampleModel(SumsOfPositionLosses):
    """Sum of ``horizon`` rows drawn with replacement from a T×N scenario ``panel``."""

    panel: FloatArray
    weights: FloatArray
    horizon: int
    series: FloatArray = field(init=False, repr=False)
    centre: float = field(init=False)
    scale: float = field(init=False)

    def __post_init__(self) -> None:
        series = self.panel @ self.weights
        centre, scale = _loss_location(series, self.horizon)
        object.__setattr__(self, "series", series)
        object.__setattr__(self, "centre", centre)
        object.__setattr__(self, "scale", scale)

    @property
    def n_assets(self) -> int:
        return int(self.panel.shape[1])

    def simulate(self, rng: np.random.Generator, rows: int, scratch: Scratch) -> tuple[FloatArray, Any]:
        idx = rng.integers(0, self.panel.shape[0], size=(self.horizon, rows), dtype=np.int32)
        loss: FloatArray = -self.series[idx].sum(axis=0)
        return loss, idx

    def payload(self, state: Any, rows: NDArray[np.intp]) -> NDArray[Any]:
        out: NDArray[Any] = np.ascontiguousarray(state[:, rows].T)
        return out

    def position_losses(self, payload: NDArray[Any]) -> FloatArray:
        out: FloatArray = -self.panel[payload].sum(axis=1) * self.weights
        return out


def build_model(
    model: str,
    returns: FloatArray | None,
    weights: FloatArray,
    horizon: int,
    *,
    cov: FloatArray | None = None,
    mean: FloatArray | None = None,
    df: float | None = None,
    lam: float = 0.94,
    sobol: bool = False,
    step: Callable[[], object] | None = None,
) -> ScenarioModel:
    """Fit ``model`` to validated inputs (see the module docstring for each model).

    Parameters
    ----------
    model : str
        Canonical name, a key of :data:`MODELS`.
    returns : ndarray (T, N) or None
        Clean returns; None only for normal and t with ``cov``.
    weights : ndarray (N,)
    horizon : int
    cov, mean : ndarray, optional
        Covariance and mean (normal and t without returns; mean defaults to zero).
    df : float, optional
        Degrees of freedom (t, t-copula); fitted by maximum likelihood when None.
    lam : float
        EWMA decay (fhs).
    sobol : bool
        Scrambled Sobol draws (normal, t).
    step : callable, optional
        Called between the steps of a long fit (the copula's likelihood evaluations).

    Returns
    -------
    ScenarioModel
    """
    if model in ("normal", "t"):
        if returns is not None:
            mu, sigma = returns.mean(axis=0), np.cov(returns, rowvar=False, ddof=1).reshape(weights.size, -1)
            if model == "t" and df is None:
                df = fit_t_df(returns @ weights)
        else:
            assert cov is not None
            mu, sigma = (np.zeros(weights.size) if mean is None else mean), cov
        root_h = math.sqrt(horizon)
        return GaussianModel(horizon * mu, root_h * _factor(sigma), weights, df if model == "t" else None, sobol)
    assert returns is not None
    if model == "t-copula":
        data = overlapping_sums(returns, horizon)
        corr, fitted = fit_t_copula(data, df, step)
        return CopulaModel(_factor(corr), CopulaTransform.build(data, fitted), weights, series=data @ weights)
    panel = returns if model == "bootstrap" else fhs_scenarios(returns, lam)
    return ResampleModel(panel, weights, horizon)
