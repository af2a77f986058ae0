"""xl-var: portfolio Value-at-Risk engine (numpy/scipy only).

Conventions everywhere: VaR and ES are positive losses in the units of
returns × weights; ``confidence`` is a probability such as 0.99; ``horizon`` is in
periods of the returns. Every public function validates its inputs once and raises
:class:`XlVarError` naming the argument and the fix.

>>> import xl_var as xv
>>> r = xv.portfolio_var(returns, weights, confidence=0.99, method="historical")  # doctest: +SKIP
"""

from __future__ import annotations

from xl_var.backtest import BacktestResult, backtest
from xl_var.book import Book, BookGreeks, Position
from xl_var.correlation import correlation_matrix, nearest_correlation, stress_correlation
from xl_var.deltagamma import QuadraticCumulants, delta_gamma_var, quadratic_cumulants
from xl_var.errors import Cancelled, LooksLikePrices, XlVarError
from xl_var.instruments import Instrument, parse_instrument, year_fraction
from xl_var.margin import MarginResult, MarginScenario, margin_parameters, portfolio_margin
from xl_var.montecarlo import MCResult, monte_carlo
from xl_var.portfolio import (
    Decomposition,
    IncrementalResult,
    RiskResult,
    component_var,
    incremental_var,
    portfolio_var,
    portfolio_volatility,
)
from xl_var.pricing import Greeks, implied_vol, option_greeks, option_price
from xl_var.returns import price_returns
from xl_var.stress import StressResult, load_scenarios, stress_test
from xl_var.volsurface import VolSurface

__version__ = "0.1.0"

__all__ = [
    "BacktestResult",
    "Book",
    "BookGreeks",
    "Cancelled",
    "Decomposition",
    "Greeks",
    "IncrementalResult",
    "Instrument",
    "LooksLikePrices",
    "MCResult",
    "MarginResult",
    "MarginScenario",
    "Position",
    "QuadraticCumulants",
    "RiskResult",
    "StressResult",
    "VolSurface",
    "XlVarError",
    "__version__",
    "backtest",
    "component_var",
    "correlation_matrix",
    "delta_gamma_var",
    "implied_vol",
    "incremental_var",
    "load_scenarios",
    "margin_parameters",
    "monte_carlo",
    "nearest_correlation",
    "option_greeks",
    "option_price",
    "parse_instrument",
    "portfolio_margin",
    "portfolio_var",
    "portfolio_volatility",
    "price_returns",
    "quadratic_cumulants",
    "stress_correlation",
    "stress_test",
    "year_fraction",
]
