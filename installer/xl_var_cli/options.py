"""Option types shared by the ``xl-var`` commands (``argparse`` ``type=`` callables).

A bad value raises :class:`argparse.ArgumentTypeError`, which argparse reports as
``xl-var COMMAND: error: argument --OPTION: ...`` before any file is read. Whether a
level is a valid probability is left to the engine, which says how to fix it.
"""

from __future__ import annotations

import argparse

__all__ = ["confidence_level", "confidence_levels"]


def confidence_level(text: str) -> float:
    """A confidence level written as a probability (``0.99``) or a percentage (``99%``)."""
    item = text.strip()
    try:
        return float(item[:-1]) / 100.0 if item.endswith("%") else float(item)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number such as 0.99 or 99%") from None


def confidence_levels(text: str) -> list[float]:
    """A comma list of confidence levels (``0.95,99%``); use with ``action="extend"``."""
    levels = [confidence_level(part) for part in text.split(",") if part.strip()]
    if not levels:
        raise argparse.ArgumentTypeError(f"{text!r}: expected confidence levels such as 0.95,0.99")
    return levels
