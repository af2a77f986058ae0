"""Type aliases shared by the engine (one definition, imported everywhere).

``FloatArray`` is a float64 ndarray of any shape, ``IntArray`` an int64 one and
``BoolArray`` a boolean one; the engine's public functions accept ``ArrayLike`` and
return these.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["BoolArray", "FloatArray", "IntArray"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
