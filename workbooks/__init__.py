"""Bundled workbooks and sample data (installed as the ``workbooks`` package data)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["HERE", "SAMPLE_PRICES", "SAMPLE_RETURNS", "SAMPLE_WEIGHTS", "TEMPLATES"]

HERE = Path(__file__).resolve().parent
SAMPLE_RETURNS = HERE / "sample_returns.csv"
SAMPLE_PRICES = HERE / "sample_prices.csv"
SAMPLE_WEIGHTS = HERE / "sample_weights.csv"
TEMPLATES = HERE / "templates"
