"""``import xl_var`` stays cheap: scipy.stats (about half a second) is imported by the functions that use it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CODE = """
import sys
import numpy as np
import xl_var as xv
print("scipy.stats" in sys.modules, "scipy.signal" in sys.modules)
r = np.random.default_rng(0).normal(0.0, 0.01, (300, 2))
xv.portfolio_var(r, [0.5, 0.5], 0.99, method="ewma")
xv.portfolio_var(r, [0.5, 0.5], 0.99, method="t")
xv.backtest(r[:, 0], 0.02, 0.99)
print("scipy.stats" in sys.modules)
"""


def test_import_does_not_load_scipy_stats() -> None:
    done = subprocess.run([sys.executable, "-c", _CODE], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "True"]  # loaded on first use, and then it works
