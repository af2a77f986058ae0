"""ruff (whole repository) and mypy (strict, on the engine) stay clean: CI holds the line."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.mark.skipif(shutil.which("ruff", path=str(Path(sys.executable).parent)) is None, reason="ruff not installed")
def test_ruff_is_clean() -> None:
    done = _run("ruff", "check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_on_the_engine_is_clean() -> None:
    pytest.importorskip("mypy")
    done = _run("mypy")  # pyproject.toml: files = ["xl_var"], strict = true
    assert done.returncode == 0, done.stdout + done.stderr
