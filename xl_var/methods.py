r"""The one registry of VaR methods and book revaluations.

Every consumer reads these entries: input validation (names, aliases, minimum rows),
:mod:`xl_var.portfolio` (which estimator and which distribution), book risk (default
revaluation), the worksheet functions' argument help, the command line and the README's
method table (a test compares it). A new method or revaluation is one entry here.

Methods
-------
Each :class:`Method` either estimates portfolio moments (``estimator`` "sample",
"higher" or "ewma") and applies a distribution's quantile and tail mean (``risk``), or
is scenario-based (``estimator`` "historical" or "filtered") and takes the empirical
quantile of scenario losses (:mod:`xl_var.historical`).

References
----------
Jorion, P. (2007), *Value at Risk*, 3rd ed.; Boudt, Peterson & Croux (2008);
RiskMetrics Technical Document (1996); Barone-Adesi, Giannopoulos & Vosper (1999).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xl_var.moments import PortfolioMoments
from xl_var.parametric import Risk, cornish_fisher_risk, normal_risk, student_t_risk

__all__ = ["METHODS", "MIN_OBS", "REGISTRY", "REVALUATIONS", "REVALUATION_NAMES", "SCENARIO_METHODS", "Method",
           "Revaluation", "method_names", "revaluation_names"]

#: A moment method's law: (moments over the horizon, confidence, degrees of freedom) → VaR and ES.
RiskLaw = Callable[[PortfolioMoments, float, float], Risk]


@dataclass(frozen=True)
class Method:
    """One VaR method.

    Attributes
    ----------
    name : str
        Canonical name (lower case).
    aliases : tuple of str
        Other accepted spellings.
    min_obs : int
        Fewest rows of returns it needs (a quantile and a covariance need 2, skewness
        and kurtosis 4, fitting the t's degrees of freedom 10).
    scenarios : bool
        Scenario-based (empirical quantile) rather than moment-based.
    estimator : str
        "sample", "higher" (co-moments up to the fourth) or "ewma" for moment methods;
        "historical" or "filtered" (EWMA-filtered) for scenario methods.
    risk : callable or None
        The distribution applied to the moments (None for scenario methods).
    fits_df : bool
        Whether ``risk`` needs degrees of freedom, fitted when not given.
    summary : str
        One line for help texts and the README.
    """

    name: str
    aliases: tuple[str, ...]
    min_obs: int
    scenarios: bool
    estimator: str
    risk: RiskLaw | None
    fits_df: bool
    summary: str

    @property
    def default_revaluation(self) -> str:
        """How a book is repriced by default: in full over scenarios, by its deltas otherwise."""
        return "full" if self.scenarios else "delta"


@dataclass(frozen=True)
class Revaluation:
    """One way of mapping underlying returns to a book's P&L (:mod:`xl_var.bookrisk`)."""

    name: str
    aliases: tuple[str, ...]
    summary: str


REGISTRY: dict[str, Method] = {m.name: m for m in (
    Method("normal", ("gaussian", "parametric"), 2, False, "sample", lambda m, c, df: normal_risk(m, c), False,
           "sample mean and covariance, normal quantile"),
    Method("t", ("student", "student-t"), 10, False, "sample", student_t_risk, True,
           "Student-t scaled to the sample volatility, df fitted by maximum likelihood or given"),
    Method("modified", ("cornish-fisher", "cornishfisher"), 4, False, "higher",
           lambda m, c, df: cornish_fisher_risk(m, c), False,
           "Cornish–Fisher VaR and modified ES from skewness and kurtosis (PerformanceAnalytics)"),
    Method("historical", (), 2, True, "historical", None, False,
           "empirical quantile of the portfolio's past returns; ES the mean loss beyond it"),
    Method("ewma", (), 2, False, "ewma", lambda m, c, df: normal_risk(m, c), False,
           "RiskMetrics EWMA covariance (decay lam), zero mean, normal quantile"),
    Method("fhs", (), 2, True, "filtered", None, False,
           "filtered historical simulation: returns rescaled by EWMA volatility to today's"),
)}

REVALUATIONS: dict[str, Revaluation] = {r.name: r for r in (
    Revaluation("full", ("full revaluation", "full-revaluation", "reprice"),
                "every position repriced in every scenario"),
    Revaluation("delta", ("linear", "delta-normal"), "each position's dollar delta times its underlying's return"),
    Revaluation("delta-gamma", ("deltagamma", "delta gamma", "quadratic", "delta-gamma-theta"),
                "delta + ½ gamma × return² (+ theta); Cornish–Fisher on exact cumulants for normal/ewma"),
)}

#: Canonical method names → aliases (the form :func:`xl_var._validate.choose` reads).
METHODS: dict[str, tuple[str, ...]] = {m.name: m.aliases for m in REGISTRY.values()}
#: Canonical revaluation names → aliases (for :func:`xl_var._validate.choose`).
REVALUATION_NAMES: dict[str, tuple[str, ...]] = {r.name: r.aliases for r in REVALUATIONS.values()}
#: Fewest rows of returns per method.
MIN_OBS: dict[str, int] = {m.name: m.min_obs for m in REGISTRY.values()}
#: The scenario-based methods.
SCENARIO_METHODS: tuple[str, ...] = tuple(m.name for m in REGISTRY.values() if m.scenarios)


def _listing(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1]


def method_names() -> str:
    """The methods for a help text: "normal, t, modified, historical, ewma or fhs"."""
    return _listing(list(REGISTRY))


def revaluation_names() -> str:
    """The revaluations for a help text: "full, delta or delta-gamma"."""
    return _listing(list(REVALUATIONS))
