"""Repository contracts: README Quickstart, CI command, sample data reproducibility."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1]
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", section, re.S)
    assert block, "Quickstart needs a code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quickstart_is_two_commands_and_ci_runs_the_second():
    commands = _quickstart_commands()
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci, ".ci/run must run the README's test command"
    assert "pytest" in commands[1] and "--dev" in commands[1]


def test_setup_script_installs_libreoffice_for_tests():
    setup = (ROOT / "installer" / "setup.sh").read_text()
    assert "libreoffice-calc-nogui" in setup and "--no-install-recommends" in setup


def test_sample_portfolio_regenerates_identically(tmp_path):
    here, r_out, w_out = str(ROOT / "workbooks"), str(tmp_path / "r.csv"), str(tmp_path / "w.csv")
    code = (f"import sys; sys.path.insert(0, {here!r}); import make_sample; r, w = make_sample.generate(); "
            f"r.to_csv({r_out!r}, date_format='%Y-%m-%d'); w.to_csv({w_out!r}, index=False); "
            f"p, m, s = make_sample.book(); "
            + "; ".join(f"{v}.to_csv({str(tmp_path / name)!r}, index=False)" for v, name in BOOK_FILES))
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (tmp_path / "r.csv").read_text() == (ROOT / "workbooks" / "sample_returns.csv").read_text()
    assert (tmp_path / "w.csv").read_text() == (ROOT / "workbooks" / "sample_weights.csv").read_text()
    for _, name in BOOK_FILES:  # the synthetic derivatives book, byte for byte
        assert (tmp_path / name).read_bytes() == (ROOT / "workbooks" / name).read_bytes(), name


BOOK_FILES = (("p", "sample_positions.csv"), ("m", "sample_market.csv"), ("s", "sample_surface.csv"))


def test_sample_has_fat_tails_and_crisis_correlation():
    r = pd.read_csv(ROOT / "workbooks" / "sample_returns.csv", index_col=0)
    assert list(r.columns) == ["BTC", "ETH", "SOL", "USDC", "SPX", "GOLD"]
    assert len(r) > 700
    assert (r[["BTC", "ETH", "SOL"]].kurt() > 3).all()
    crash = r["BTC"] < r["BTC"].quantile(0.1)
    assert r[crash].corr().loc["BTC", "SPX"] > r[~crash].corr().loc["BTC", "SPX"] + 0.2
