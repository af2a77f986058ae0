"""Session-wide test setup: ``tests/`` stays off ``sys.path`` where it would shadow the engine.

pytest puts ``tests/`` on ``sys.path`` to import the modules that sit there (this one first); it
also holds a folder named ``xl_var`` (the engine's tests), which Python would then import as the
``xl_var`` package: here if the engine were first imported after that, and in every process a
test spawns (``refresh --jobs``, Monte Carlo workers), which inherits ``sys.path``. So the engine
is imported here with ``tests/`` off the path, and ``tests/`` leaves it again once every test
module is imported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_HERE = os.path.abspath(Path(__file__).parent)


def _leave_path() -> None:
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]


_leave_path()
import xl_var  # noqa: E402, F401  (the engine itself, not tests/xl_var)


def pytest_collection_finish(session: pytest.Session) -> None:
    _leave_path()
