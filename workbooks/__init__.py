"""Bundled workbooks and sample data (installed as the ``workbooks`` package data)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["HERE", "SAMPLE_MARKET", "SAMPLE_POSITIONS", "SAMPLE_PRICES", "SAMPLE_RETURNS", "SAMPLE_SURFACE",
           "SAMPLE_VALUATION", "SAMPLE_WEIGHTS", "TEMPLATES"]

HERE = Path(__file__).resolve().parent
SAMPLE_RETURNS = HERE / "sample_returns.csv"
SAMPLE_PRICES = HERE / "sample_prices.csv"
SAMPLE_WEIGHTS = HERE / "sample_weights.csv"
SAMPLE_POSITIONS = HERE / "sample_positions.csv"
SAMPLE_MARKET = HERE / "sample_market.csv"
SAMPLE_SURFACE = HERE / "sample_surface.csv"
SAMPLE_VALUATION = "2024-12-31T16:00:00+00:00"  # the derivatives sample's valuation time (make_sample.VALUATION)
TEMPLATES = HERE / "templates"
