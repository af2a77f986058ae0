"""Generate the bundled synthetic crypto-heavy sample portfolio (fixed seed, reproducible).

The data are synthetic — no market data is bundled. Six assets, daily weekday returns
2022-01-03 … 2024-12-31:

* BTC, ETH, SOL load on a common crypto factor; SPX and GOLD on a macro factor; USDC is a
  stablecoin with tiny noise and rare small de-peg jumps.
* Volatility clustering: each factor and each idiosyncratic term follows a GARCH(1,1)
  variance recursion ``s2[t] = w + a*e[t-1]**2 + b*s2[t-1]``.
* Fat tails: innovations are Student-t with 4 degrees of freedom, scaled to unit variance.
* Correlations rise in sell-offs: on days when the crypto factor falls below its 10% quantile
  the crypto betas double and SPX picks up crypto exposure, so the assets move together.

A synthetic derivatives book on the same underlyings (BTC, ETH, SOL), valued at
2024-12-31 16:00 UTC, the last sample day: spot, inverse and linear perpetuals and futures,
and inverse and linear options at several strikes and expiries (``sample_positions.csv``);
its market data — spot, a flat implied vol per underlying and the forward of each dated
expiry (``sample_market.csv``, a mild contango of 8% a year) — and a small BTC vol surface
(``sample_surface.csv``: expiries down, strikes across, a smile that flattens with
maturity). Prices are round illustrative levels, not market data.

Run ``python workbooks/make_sample.py`` to rewrite ``sample_returns.csv``,
``sample_prices.csv``, ``sample_weights.csv``, ``sample_positions.csv``, ``sample_market.csv``
and ``sample_surface.csv`` beside this file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20221109  # the FTX collapse, a crypto sell-off
ASSETS = ["BTC", "ETH", "SOL", "USDC", "SPX", "GOLD"]
WEIGHTS = [0.35, 0.25, 0.10, 0.10, 0.15, 0.05]
START_PRICES = [47000.0, 3700.0, 170.0, 1.0, 4790.0, 1830.0]


def _garch(rng: np.random.Generator, n: int, daily_vol: float, a: float = 0.08, b: float = 0.90) -> np.ndarray:
    """Unit-variance Student-t(4) innovations with GARCH(1,1) volatility of long-run level daily_vol."""
    e = rng.standard_t(4, n) / np.sqrt(2.0)  # var of t4 is 2
    w = daily_vol**2 * (1 - a - b)
    s2 = np.empty(n)
    s2[0] = daily_vol**2
    x = np.empty(n)
    for t in range(n):
        if t:
            s2[t] = w + a * x[t - 1] ** 2 + b * s2[t - 1]
        x[t] = np.sqrt(s2[t]) * e[t]
    return x


def generate() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (returns, weights) frames for the sample portfolio."""
    rng = np.random.default_rng(SEED)
    dates = pd.bdate_range("2022-01-03", "2024-12-31")
    n = len(dates)
    crypto = _garch(rng, n, 0.030)
    macro = _garch(rng, n, 0.008)
    stress = crypto < np.quantile(crypto, 0.10)
    k = np.where(stress, 2.0, 1.0)
    idio = {a: _garch(rng, n, v) for a, v in
            [("BTC", 0.012), ("ETH", 0.016), ("SOL", 0.030), ("SPX", 0.006), ("GOLD", 0.008)]}
    depeg = np.where(rng.random(n) < 0.004, -rng.exponential(0.01, n), 0.0)
    r = pd.DataFrame(index=dates.rename("Date"))
    r["BTC"] = 0.0004 + 0.90 * k * crypto + idio["BTC"]
    r["ETH"] = 0.0003 + 1.15 * k * crypto + idio["ETH"]
    r["SOL"] = 0.0002 + 1.50 * k * crypto + idio["SOL"]
    r["USDC"] = rng.standard_normal(n) * 0.0003 + depeg - np.concatenate([[0.0], depeg[:-1]]) * 0.9
    r["SPX"] = 0.0003 + macro + np.where(stress, 0.25 * crypto, 0.02 * crypto) + idio["SPX"]
    r["GOLD"] = 0.0001 - 0.3 * macro + idio["GOLD"]
    r = r.clip(lower=-0.95).round(8)
    w = pd.DataFrame({"Asset": ASSETS, "Weight": WEIGHTS})
    return r, w


VALUATION = "2024-12-31 16:00"  # UTC: the last sample day's close
SPOT = {"BTC": 93_500.0, "ETH": 3_350.0, "SOL": 190.0}
VOL = {"BTC": 0.55, "ETH": 0.65, "SOL": 0.80}
EXPIRIES = {"31JAN25": "2025-01-31", "28MAR25": "2025-03-28", "27JUN25": "2025-06-27"}
POSITIONS = [
    ("BTC", 12.0), ("ETH", 150.0), ("SOL", 2_000.0),
    ("BTC-PERPETUAL", -400_000.0), ("ETH-PERPETUAL", -150_000.0), ("BTC_USDC-PERPETUAL", -2.5),
    ("SOL_USDC-PERPETUAL", -500.0), ("BTC-28MAR25", 250_000.0), ("ETH_USDC-27JUN25", -40.0),
    ("BTC-31JAN25-100000-C", -8.0), ("BTC-31JAN25-85000-P", 10.0), ("BTC-28MAR25-120000-C", -5.0),
    ("BTC-28MAR25-80000-P", -6.0), ("BTC-27JUN25-100000-C", 4.0), ("ETH-31JAN25-3500-C", -60.0),
    ("ETH-28MAR25-3000-P", 50.0), ("ETH_USDC-27JUN25-4000-C", 30.0), ("SOL_USDC-28MAR25-150-P", 400.0),
]


def book() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(positions, market, BTC vol surface) of the synthetic derivatives book."""
    positions = pd.DataFrame(POSITIONS, columns=["Instrument", "Quantity"])
    rows = [(u, SPOT[u], VOL[u], "", "") for u in SPOT]
    years = {code: (pd.Timestamp(day) - pd.Timestamp(VALUATION)).days / 365 for code, day in EXPIRIES.items()}
    for u in SPOT:
        rows += [(u, "", "", code, round(SPOT[u] * (1 + 0.08 * t), 2)) for code, t in years.items()]
    market = pd.DataFrame(rows, columns=["Underlying", "Spot", "Vol", "Expiry", "Forward"])
    strikes = [70_000, 85_000, 100_000, 120_000]
    surface = pd.DataFrame(
        [[day, *(round(VOL["BTC"] + 0.06 * abs(k / SPOT["BTC"] - 1) / (1 + t) ** 0.5 + 0.02 * (k < SPOT["BTC"]),
                       4) for k in strikes)]
         for (code, day), t in zip(EXPIRIES.items(), years.values(), strict=True)],
        columns=["BTC", *strikes])
    return positions, market, surface


def main() -> None:
    here = Path(__file__).resolve().parent
    r, w = generate()
    r.to_csv(here / "sample_returns.csv", date_format="%Y-%m-%d")
    prices = (1 + r).cumprod() * START_PRICES
    first = pd.DataFrame([START_PRICES], columns=r.columns, index=[r.index[0] - pd.offsets.BDay()])
    pd.concat([first, prices]).rename_axis("Date").round(6).to_csv(
        here / "sample_prices.csv", date_format="%Y-%m-%d")
    w.to_csv(here / "sample_weights.csv", index=False)
    positions, market, surface = book()
    positions.to_csv(here / "sample_positions.csv", index=False)
    market.to_csv(here / "sample_market.csv", index=False)
    surface.to_csv(here / "sample_surface.csv", index=False)


if __name__ == "__main__":
    main()
