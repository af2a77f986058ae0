r"""``monte_carlo``: the public entry point, its input checks and the run's set-up."""

from __future__ import annotations

import math
import os
import secrets
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

from xl_var._inputs import MIN_OBS, check_df, check_variance, covariance_inputs, refuse_covariance_with_returns, vector
from xl_var._typing import FloatArray
from xl_var._validate import check_confidence, check_horizon, check_lambda, check_positive_int, choose, clean_returns
from xl_var.book import Book
from xl_var.bookrisk import book_returns, decay_years
from xl_var.errors import XlVarError
from xl_var.methods import REVALUATION_NAMES
from xl_var.moments import covariance_moments, sample_moments
from xl_var.montecarlo.bookmodel import BookModel
from xl_var.montecarlo.chunks import HIST_HALF_WIDTH, RunSpec, row_capacity
from xl_var.montecarlo.dask_backend import DaskRunner
from xl_var.montecarlo.models import MODELS, ScenarioModel, build_model
from xl_var.montecarlo.result import MCResult
from xl_var.montecarlo.runner import Monitor, ThreadRunner, execute
from xl_var.montecarlo.tail import tail_size
from xl_var.parametric import fit_t_df

__all__ = ["DEFAULT_MAX_SCENARIOS", "MAX_TAIL_BYTES", "monte_carlo"]


#: Cap on the scenarios of a convergence run (``target_rse``) when ``max_scenarios`` is not given.
DEFAULT_MAX_SCENARIOS = 10_000_000
#: Fewest scenarios beyond the VaR at the highest confidence.
MIN_TAIL = 10
#: Most memory the kept tail of a run may need (4 GiB); see :func:`_tail_bytes`.
MAX_TAIL_BYTES = 4 * 2**30
_ELEMENTS_PER_CHUNK = 2**21


def _default_chunk_size(n_assets: int) -> int:
    """A power of two near 2^21 draws per chunk, between 1,024 and 16,384 scenarios."""
    return int(min(16384, max(1024, 2 ** math.floor(math.log2(_ELEMENTS_PER_CHUNK / n_assets)))))


def _confidences(confidence: Any) -> tuple[float, ...]:
    items = [confidence] if np.ndim(confidence) == 0 else list(np.ravel(confidence))
    if not items:
        raise XlVarError("confidence is empty: give one or more levels such as 0.99")
    return tuple(check_confidence(c) for c in items)


def _capacities(scenarios: int, confidence: tuple[float, ...]) -> tuple[int, int]:
    """Losses kept (the tail at the lowest confidence, 16 spare) and rows kept (tail and kernel window)."""
    return (max(tail_size(scenarios, c) for c in confidence) + 16,
            row_capacity(scenarios, max(confidence)))


def _tail_bytes(scenarios: int, confidence: tuple[float, ...], n_assets: int, horizon: int) -> int:
    r"""Upper estimate of the memory of the kept tail of ``scenarios`` scenarios.

    :math:`1.5\,(8\,K_L + (16 + 4\max(N + 1, h))\,K_R)` bytes: :math:`K_L` float64 losses and
    :math:`K_R` rows of a float64 loss, an int64 index and a payload of at most
    :math:`\max(N+1, h)` 4-byte entries (:func:`_capacities`), each store holding up to 1.5 times
    its capacity between prunes (:class:`~xl_var.montecarlo.tail.TailKeeper`). At most about
    :math:`12\,S(1-c_{\min}) + 2\,S(1-c_{\max})(4N + 20)` bytes.
    """
    losses, rows = _capacities(scenarios, confidence)
    return math.ceil(1.5 * (8 * losses + (16 + 4 * max(n_assets + 1, horizon)) * rows))


def _check_tail_memory(count: int, arg: str, confidence: tuple[float, ...], n_assets: int, horizon: int) -> None:
    """Refuse a scenario count whose kept tail would need more than :data:`MAX_TAIL_BYTES`."""
    need = _tail_bytes(count, confidence, n_assets, horizon)
    if need > MAX_TAIL_BYTES:
        lo, hi = 1, count  # the largest count that fits (the memory grows with the count)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if _tail_bytes(mid, confidence, n_assets, horizon) <= MAX_TAIL_BYTES else (lo, mid)
        most = lo - lo % 10 ** max(len(str(lo)) - 2, 0)  # two significant digits, rounded down
        raise XlVarError(f"{arg} ({count:,}) would keep about {need / 2**30:,.1f} GiB of tail scenarios in memory, "
                         f"more than the {MAX_TAIL_BYTES / 2**30:g} GiB limit: give at most {most:,} {arg} "
                         f"(or a higher lowest confidence)")


def _seed(seed: Any) -> int:
    if seed is None:
        return secrets.randbelow(2**53)  # exact in a spreadsheet cell and in JSON
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise XlVarError(f"seed must be a whole number ≥ 0 (or None for a fresh one); got {seed!r}")
    return int(seed)


@dataclass(frozen=True)
class _Inputs:
    """Validated arguments of one :func:`monte_carlo` call."""

    model: str
    returns: FloatArray | None
    weights: FloatArray
    cov: FloatArray | None
    mean: FloatArray | None
    confidence: tuple[float, ...]
    horizon: int
    scenarios: int
    cap: int
    target_rse: float | None
    seed: int
    workers: int
    chunk_size: int
    df: float | None
    lam: float
    sobol: bool
    bins: int
    size: float  # Σ|w_i|·rms_i of one period: the size against which a zero variance is judged
    book: Book | None = None  # a book revalued in each scenario (weights are then the unit weights of its fit)
    revaluation: str = "full"
    dt: float = 0.0


def _validate(returns: Any, weights: Any, scenarios: Any, model: Any, confidence: Any, horizon: Any, seed: Any,
              workers: Any, progress: Any, cancel: Any, *, cov: Any, mean: Any, df: Any, lam: Any, sobol: Any,
              chunk_size: Any, target_rse: Any, max_scenarios: Any, bins: Any, missing: Any, assets: Any = None,
              revaluation: Any = None, time_decay: Any = False, period: Any = 1.0) -> _Inputs:
    """Check every argument once; raise XlVarError naming the argument and the fix."""
    name = choose(model, "model", MODELS)
    book: Book | None = None
    reval, decay = "full", 0.0
    if isinstance(weights, Book):
        if returns is None:
            raise XlVarError("a Book needs returns of its underlyings (one column each, named by assets=)")
        book = weights
        returns = book_returns(returns, book, assets)
        reval = choose("full" if revaluation is None else revaluation, "revaluation", REVALUATION_NAMES)
        decay = decay_years(time_decay, horizon, period)
        weights = book.dollar_delta()  # the book's linear part: for the size checks and fitting t's df
    elif assets is not None or revaluation is not None or time_decay:
        raise XlVarError("assets, revaluation and time_decay apply to a Book of positions given as weights: "
                         "leave them out, or pass an xl_var.Book")
    confs = _confidences(confidence)
    h = check_horizon(horizon)
    s = check_positive_int(scenarios, "scenarios")
    if progress is not None and not callable(progress):
        raise XlVarError("progress must be a function progress(done, total) or None")
    if cancel is not None and not callable(getattr(cancel, "is_set", None)):
        raise XlVarError("cancel must have an is_set() method (e.g. threading.Event) or be None")
    nu = check_df(df, name, allowed=("t", "t-copula"), kind="model")
    if sobol and name not in ("normal", "t"):
        raise XlVarError(f"sobol=True is available for models 'normal' and 't', not '{name}'")
    r = cov_ = mean_ = None
    if returns is None:
        w, cov_, mean_ = covariance_inputs(weights, cov, mean, nu, kind="model", name=name)
    else:
        refuse_covariance_with_returns(cov, mean)
        fits = name == "t-copula" or (name == "t" and nu is None)
        r = clean_returns(returns, missing=missing, min_obs=h - 1 + MIN_OBS["t" if fits else "normal"],
                          method=name)
        w = vector(weights, "weights", r.shape[1], f"returns has {r.shape[1]} columns")
    chunk = _default_chunk_size(w.size) if chunk_size is None else check_positive_int(chunk_size, "chunk_size")
    if sobol and chunk & (chunk - 1):
        raise XlVarError(f"chunk_size must be a power of two with sobol=True (e.g. 8192); got {chunk}")
    rse = None
    cap = s
    if target_rse is not None:
        try:
            rse = float(target_rse)
        except (TypeError, ValueError):
            rse = math.nan
        if not 0.0 < rse < 1.0:
            raise XlVarError(f"target_rse must be a relative error between 0 and 1, e.g. 0.01; got {target_rse!r}")
        cap = check_positive_int(DEFAULT_MAX_SCENARIOS if max_scenarios is None else max_scenarios, "max_scenarios")
        if cap < s:
            raise XlVarError(f"max_scenarios ({cap:,}) must be at least scenarios ({s:,})")
    elif max_scenarios is not None:
        raise XlVarError("max_scenarios caps a convergence run: pass target_rse too, or leave it out")
    _check_tail_memory(cap, "scenarios" if rse is None else "max_scenarios", confs,
                       w.size if book is None else max(book.size, w.size), h)
    c_max = max(confs)
    if s * (1.0 - c_max) < MIN_TAIL:
        raise XlVarError(f"scenarios must be at least {math.ceil(MIN_TAIL / (1.0 - c_max)):,} for confidence "
                         f"{c_max:g} (at least {MIN_TAIL} beyond the VaR); got {s:,}")
    if r is not None:  # before any model is fitted: a fit to a constant series fails obscurely
        m = sample_moments(r, w, gradient=False)
    else:
        assert cov_ is not None
        m = covariance_moments(cov_, np.zeros(w.size) if mean_ is None else mean_, w, gradient=False)
    check_variance(m.sd, m.scale, f"model '{name}'")
    return _Inputs(
        model=name, returns=r, weights=w, cov=cov_, mean=mean_, confidence=confs, horizon=h, scenarios=s, cap=cap,
        target_rse=rse, seed=_seed(seed),
        workers=check_positive_int(workers, "workers") if workers is not None else (os.cpu_count() or 1),
        chunk_size=chunk, df=nu, lam=check_lambda(lam), sobol=bool(sobol), bins=check_positive_int(bins, "bins"),
        size=m.scale, book=book, revaluation=reval, dt=decay,
    )


def monte_carlo(
    returns: ArrayLike | None,
    weights: ArrayLike | Book,
    scenarios: int = 1_000_000,
    model: str = "t",
    confidence: float | Sequence[float] = (0.95, 0.99),
    horizon: int = 1,
    seed: int | None = 12345,
    workers: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
    cancel: Any = None,
    *,
    cov: ArrayLike | None = None,
    mean: ArrayLike | None = None,
    df: float | None = None,
    lam: float = 0.94,
    sobol: bool = False,
    chunk_size: int | None = None,
    target_rse: float | None = None,
    max_scenarios: int | None = None,
    scheduler: Any = None,
    bins: int = 100,
    missing: str = "raise",
    assets: Sequence[str] | None = None,
    revaluation: str | None = None,
    time_decay: bool = False,
    period: float | str = 1.0,
) -> MCResult:
    r"""Monte Carlo VaR and ES of a portfolio, with standard errors and Euler decomposition.

    Simulates ``scenarios`` h-period returns :math:`X_s` of the assets under ``model``
    and reports, per confidence :math:`c`, the type-7 quantile of the losses
    :math:`L_s = -w^\top X_s` (VaR) and the mean loss beyond it (ES):

    .. math::

        \widehat{\mathrm{VaR}}_c = L_{(j+1)} + g\,(L_{(j+2)} - L_{(j+1)}),\ j + g = (S-1)c,
        \qquad \widehat{\mathrm{ES}}_c = \operatorname{mean}\{L_s : L_s > \widehat{\mathrm{VaR}}_c\}.

    Models (``model=``, case-insensitive): ``normal`` (sample mean, covariance with
    divisor n−1), ``t`` (multivariate Student-t with that covariance; ``df`` given or
    fitted by maximum likelihood to the portfolio series as the analytic ``t`` method),
    ``t-copula`` (Student-t dependence, empirical marginals; see
    :mod:`xl_var.montecarlo.marginals`), ``bootstrap`` (sums of h resampled historical
    rows) and ``fhs`` (the same on EWMA-filtered returns rescaled to today's volatility).
    ``returns=None`` with ``cov=`` (and ``mean=``, default 0) works for normal and t.

    Scenarios are generated in chunks; chunk :math:`k` uses its own generator seeded by
    ``SeedSequence(seed, spawn_key=(k,))``, so the result is bit-identical for any
    ``workers`` or Dask cluster. Draws are float32, accumulation float64. Only the
    largest losses are kept (memory :math:`O(S(1-c)\,N)`, never :math:`S \times N`).

    Parameters
    ----------
    returns : array_like (T, N) or None
        Historical returns, rows are periods.
    weights : array_like (N,)
        Positions (fractions or amounts); VaR is in units of returns × weights.
    scenarios : int
        Number of scenarios (with ``target_rse``: the first round). Refused when the
        kept tail would need more than :data:`MAX_TAIL_BYTES` (4 GiB): about
        :math:`12\,S(1-c_{\min}) + 2\,S(1-c_{\max})(4N + 20)` bytes, so up to roughly
        3·10⁹ scenarios for 5 assets at 95% and 99%, 5·10⁸ for 100 assets.
    model : str
        One of ``normal``, ``t``, ``t-copula``, ``bootstrap``, ``fhs``.
    confidence : float or sequence of float
        Confidence levels such as 0.99.
    horizon : int
        Horizon in periods: normal and t scale mean by h and covariance by h; the
        copula is fitted to overlapping h-period returns; bootstrap and fhs sum h draws.
    seed : int or None
        Seed; None draws one below 2**53 from the OS (reported in the result, exact in a
        spreadsheet cell).
    workers : int, optional
        Threads (default: the CPUs available).
    progress : callable, optional
        ``progress(done, total)``, called from the calling thread at least every 0.5 s.
    cancel : object with ``is_set()``, optional
        When set, the run stops within 0.5 s and raises :class:`~xl_var.errors.Cancelled`.
    cov, mean : array_like, optional
        Covariance (N, N) and mean (N,) instead of ``returns`` (normal, t).
    df : float, optional
        Degrees of freedom (> 2) for ``t`` and ``t-copula``; fitted when omitted.
    lam : float
        EWMA decay for ``fhs``.
    sobol : bool
        Each chunk an independently scrambled Sobol net (normal, t).
    chunk_size : int, optional
        Scenarios per chunk (default a power of two, 1,024–16,384, by the number of
        assets); results depend on it, never on ``workers``.
    target_rse : float, optional
        Stop when the relative standard error of VaR at the highest confidence is at
        most this (e.g. 0.01), or at ``max_scenarios``.
    max_scenarios : int, optional
        Cap for ``target_rse`` (default 10,000,000); bounded like ``scenarios``.
    scheduler : str or distributed.Client, optional
        Run on Dask: ``"tcp://host:8786"``, ``"local"`` or a ``Client`` (extra ``xl-var[dask]``).
    bins : int
        Bins of the loss histogram.
    missing : {"raise", "drop"}
        What to do with rows of ``returns`` holding NaN or inf.
    assets, revaluation, time_decay, period
        With a :class:`~xl_var.book.Book` as ``weights``: the names of the columns of
        ``returns`` (the underlyings); how each scenario reprices the book (``"full"``,
        the default, ``"delta"`` or ``"delta-gamma"``; :mod:`xl_var.montecarlo.bookmodel`);
        whether scenarios reprice at valuation + horizon; days per period. VaR, ES and
        the components (one per position) are then in USD.

    Returns
    -------
    MCResult

    Notes
    -----
    Standard errors: order-statistic 95% interval for VaR (SE = half-width / 1.96) and
    the asymptotic variance of ES (Manistre & Hancock 2005); see
    :mod:`xl_var.montecarlo.tail`. Component ES is each position's mean loss beyond the
    VaR; component VaR is the historical method's kernel estimator
    (:mod:`xl_var.montecarlo.result`).

    References
    ----------
    Glasserman, P. (2003), *Monte Carlo Methods in Financial Engineering*, Springer, §9.
    """
    start = time.perf_counter()
    run = _validate(returns, weights, scenarios, model, confidence, horizon, seed, workers, progress, cancel,
                    cov=cov, mean=mean, df=df, lam=lam, sobol=sobol, chunk_size=chunk_size, target_rse=target_rse,
                    max_scenarios=max_scenarios, bins=bins, missing=missing, assets=assets,
                    revaluation=revaluation, time_decay=time_decay, period=period)
    with threadpool_limits(limits=1, user_api="blas"):  # one BLAS thread: same rounding on every worker
        monitor = Monitor(progress, cancel, run.scenarios)
        monitor.tick(0, force=True)
        mc: ScenarioModel
        if run.book is None:
            mc = build_model(run.model, run.returns, run.weights, run.horizon, cov=run.cov, mean=run.mean,
                             df=run.df, lam=run.lam, sobol=run.sobol, step=lambda: monitor.tick(0))
        else:  # the underlyings' model with unit weights (t's df fitted to the book's delta portfolio)
            assert run.returns is not None
            df_ = fit_t_df(run.returns @ run.weights) if run.model == "t" and run.df is None else run.df
            base = build_model(run.model, run.returns, np.ones(run.weights.size), run.horizon, df=df_, lam=run.lam,
                               sobol=run.sobol, step=lambda: monitor.tick(0))
            mc = BookModel(base, run.book, run.revaluation, run.dt)
        # the model's own spread too (filtered or overlapping h-period data can differ from the returns')
        check_variance(mc.scale, math.sqrt(run.horizon) * run.size, f"model '{run.model}'")
        lo, hi = mc.centre - HIST_HALF_WIDTH * mc.scale, mc.centre + HIST_HALF_WIDTH * mc.scale
        spec = RunSpec(run.seed, run.chunk_size, run.cap, *_capacities(run.cap, run.confidence),
                       np.linspace(lo, hi, run.bins + 1))
        with (nullcontext(ThreadRunner(run.workers)) if scheduler is None
              else DaskRunner.connect(scheduler, run.workers)) as runner:
            acc, summary, converged = execute(mc, spec, runner, monitor, run.confidence, run.scenarios,
                                              run.target_rse)
    st = summary.stats
    return MCResult(
        var=np.array([x.var for x in st]),
        es=np.array([x.es for x in st]),
        var_se=np.array([x.var_se for x in st]),
        es_se=np.array([x.es_se for x in st]),
        var_ci=np.array([x.var_ci for x in st]),
        es_ci=np.array([x.es_ci for x in st]),
        component_var=summary.component_var,
        component_es=summary.component_es,
        confidence=run.confidence,
        horizon=run.horizon,
        seed=run.seed,
        scenarios=acc.scenarios,
        model=run.model,
        df=getattr(mc, "df", None),
        sobol=run.sobol,
        chunk_size=run.chunk_size,
        converged=converged,
        hist_edges=spec.edges,
        hist_counts=acc.counts,
        elapsed=time.perf_counter() - start,
    )
