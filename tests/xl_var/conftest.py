"""Shared helpers of the engine tests."""

import numpy as np
import pytest

#: MCResult fields that must be bit-identical between two runs of the same seed and chunking.
MC_FIELDS = ["var", "es", "var_se", "es_se", "var_ci", "es_ci", "component_var", "component_es", "hist_counts"]


def _assert_same_mc(a, b):
    for f in MC_FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert a.df == b.df


@pytest.fixture
def assert_same_mc():
    """``assert_same_mc(a, b)``: two MCResults agree bit for bit on every statistic and df."""
    return _assert_same_mc
