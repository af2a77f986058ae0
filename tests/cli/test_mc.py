"""``xl-var mc``: engine numbers in table/JSON/CSV form (weights or a book), confidence parsing, Ctrl-C, progress
on a terminal."""

import csv
import datetime as dt
import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import xl_var as xv
from workbooks import (
    SAMPLE_MARKET,
    SAMPLE_POSITIONS,
    SAMPLE_RETURNS,
    SAMPLE_SURFACE,
    SAMPLE_VALUATION,
    SAMPLE_WEIGHTS,
)
from xl_var_cli.datafiles import read_book
from xl_var_cli.main import main, parse_args
from xl_var_cli.mc import DEFAULT_CONFIDENCE, parse_count

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in (".", "installer", "udfs"))}


@pytest.fixture(scope="module")
def sample():
    r = pd.read_csv(SAMPLE_RETURNS, index_col=0)
    w = pd.read_csv(SAMPLE_WEIGHTS).set_index("Asset")["Weight"].reindex(r.columns).to_numpy()
    return r.to_numpy(), w, tuple(r.columns)


def test_json_is_the_engine_result_and_near_the_closed_form(capsys, sample):
    x, w, assets = sample
    assert main(["mc", "--model", "normal", "--scenarios", "200,000", "--confidence", "0.99", "--seed", "3",
                 "--workers", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    res = xv.monte_carlo(x, w, 200_000, model="normal", confidence=0.99, seed=3)
    lvl = out["levels"][0]
    assert lvl["var"] == res.var[0] and lvl["es"] == res.es[0] and lvl["var_ci"] == list(res.var_ci[0])
    z = norm.ppf(0.99)
    sd, mu = np.sqrt(w @ np.cov(x, rowvar=False) @ w), x.mean(0) @ w
    assert abs(lvl["var"] - (sd * z - mu)) < 3 * lvl["var_se"]
    assert abs(lvl["es"] - (sd * norm.pdf(z) / 0.01 - mu)) < 3 * lvl["es_se"]
    comps = out["components"]["assets"]
    assert [c["asset"] for c in comps] == list(assets)
    assert sum(c["component_es"] for c in comps) == pytest.approx(lvl["es"], rel=1e-12)
    assert sum(out["histogram"]["counts"]) == out["scenarios"] == 200_000


def test_csv_is_one_tidy_table(capsys):
    assert main(["mc", "--model", "bootstrap", "--scenarios", "5e4", "--confidence", "0.9",
                 "--confidence", "95%,0.99", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    totals = [r for r in rows if r["asset"] == "portfolio"]
    assert [(r["measure"], float(r["confidence"])) for r in totals] == [
        ("VaR", 0.9), ("ES", 0.9), ("VaR", 0.95), ("ES", 0.95), ("VaR", 0.99), ("ES", 0.99)]
    comp_es = [float(r["value"]) for r in rows if r["measure"] == "component ES"]
    assert len(comp_es) == 6
    assert sum(comp_es) == pytest.approx(float(totals[-1]["value"]), rel=1e-12)
    for r in totals:
        assert float(r["ci_low"]) <= float(r["value"]) <= float(r["ci_high"])


def test_table_output(capsys):
    assert main(["mc", "--scenarios", "5e4", "--model", "t-copula", "--horizon", "5"]) == 0
    cap = capsys.readouterr()
    assert "model t-copula" in cap.out and "Total" in cap.out and "BTC" in cap.out and "95% interval" in cap.out
    assert "Ctrl-C cancels" in cap.err and "xl-var MC" not in cap.err  # no progress bar off a terminal


def test_option_parsing_and_bad_input(capsys):
    assert parse_args(["mc", "--confidence", "0.9", "--confidence", "95%, 0.99"]).confidence == [0.9, 0.95, 0.99]
    assert parse_args(["mc"]).confidence is None and DEFAULT_CONFIDENCE == (0.95, 0.99)
    assert parse_count("1e6") == parse_count("1,000,000") == 1_000_000
    assert main(["mc", "--confidence", "0.05", "--scenarios", "1e4"]) == 2
    assert "did you mean 0.95?" in capsys.readouterr().err
    assert main(["mc", "--model", "garch", "--scenarios", "1e4"]) == 2
    assert "model must be one of" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # argparse refuses it before any file is read
        main(["mc", "--confidence", "high", "--returns", "no-such-file.csv"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "xl-var mc: error: argument --confidence: 'high' is not a number" in err and "no-such-file" not in err
    with pytest.raises(SystemExit):
        main(["mc", "--scenarios", "2.5"])
    with pytest.raises(SystemExit):
        main(["mc", "--json", "--csv"])


def test_dollar_weights_print_money(capsys, tmp_path, sample):
    r, _, assets = sample
    dollars = [2_500_000.0, 1_200_000.5, 600_000.0, 300_000.0, 200_000.0, 100_000.0]
    (tmp_path / "w.csv").write_text("Asset,Weight\n" + "".join(f"{a},{d}\n" for a, d in zip(assets, dollars,
                                                                                          strict=True)))
    args = ["mc", "--weights", str(tmp_path / "w.csv"), "--model", "normal", "--scenarios", "2e4", "--seed", "5",
            "--confidence", "0.99"]
    assert main([*args, "--json"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert full["units"]["weights"] == "amounts"
    var = full["levels"][0]["var"]
    assert var == pytest.approx(xv.monte_carlo(r, np.array(dollars), 20_000, model="normal", confidence=(0.99,),
                                               seed=5).var[0], rel=1e-12)
    assert main(args) == 0
    text = capsys.readouterr().out
    level = next(line for line in text.splitlines() if line.startswith("99.00%")).split()
    assert level[1] == f"{var:,.2f}"
    total = next(line for line in text.splitlines() if line.startswith("Total")).split()
    assert total[1] == "4,900,000.50" and total[2] == f"{var:,.2f}"
    assert "4900000.5" not in text


def _start(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "xl_var_cli.main", "mc", *args], cwd=ROOT, env=ENV, **kw)


def _wait_for(stream_fd, marker, timeout=60.0):
    buf, end = b"", time.monotonic() + timeout
    while marker not in buf and time.monotonic() < end:
        ready, _, _ = select.select([stream_fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(stream_fd, 4096)
            except OSError:  # pty closed
                break
            if not chunk:
                break
            buf += chunk
    return buf


def test_ctrl_c_cancels_cleanly():
    proc = _start(["--scenarios", "1e8", "--model", "normal", "--workers", "2"],
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = _wait_for(proc.stderr.fileno(), b"Ctrl-C cancels")
        assert b"Ctrl-C cancels" in seen
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    err = seen + err
    assert proc.returncode == 130, err
    assert b"cancelled after" in err and b"Traceback" not in err
    assert out == b""


def test_progress_bar_on_a_terminal():
    leader, follower = pty.openpty()
    proc = _start(["--scenarios", "3e7", "--model", "normal", "--workers", "2"], stdout=subprocess.PIPE,
                  stderr=follower)
    os.close(follower)
    try:
        seen = _wait_for(leader, b"(never printed)", timeout=60)  # everything until the process closes the pty
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
        os.close(leader)
    assert proc.returncode == 0
    assert b"xl-var MC" in seen  # rich's bar, drawn on the terminal only
    assert b"Components at" in out and b"xl-var MC" not in out


def test_book_in_place_of_weights_is_the_engine_per_position(capsys):
    book_args = ["--positions", str(SAMPLE_POSITIONS), "--market", str(SAMPLE_MARKET), "--surface",
                 str(SAMPLE_SURFACE), "--valuation", SAMPLE_VALUATION]
    args = ["mc", *book_args, "--model", "normal", "--scenarios", "2e4", "--seed", "7", "--confidence", "0.99"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    book = read_book(SAMPLE_POSITIONS, SAMPLE_MARKET, valuation=dt.datetime.fromisoformat(SAMPLE_VALUATION),
                     surface=SAMPLE_SURFACE)
    r = pd.read_csv(SAMPLE_RETURNS, index_col=0)
    res = xv.monte_carlo(r.to_numpy(), book, 20_000, model="normal", confidence=(0.99,), seed=7,
                         assets=list(r.columns))
    assert out["units"] == {"weights": "positions", "currency": "USD"} and out["revaluation"] == "full"
    assert out["levels"][0]["var"] == res.var[0] and out["levels"][0]["es"] == res.es[0]
    comps = out["components"]["positions"]
    assert [c["position"] for c in comps] == [p.name for p in book.positions]
    assert [c["component_es"] for c in comps] == list(res.component_es)
    assert main([*args, "--revaluation", "delta", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    delta = xv.monte_carlo(r.to_numpy(), book, 20_000, model="normal", confidence=(0.99,), seed=7,
                           assets=list(r.columns), revaluation="delta")
    assert float(rows[0]["value"]) == delta.var[0]
    assert [x["asset"] for x in rows if x["measure"] == "component VaR"] == [p.name for p in book.positions]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "full revaluation" in text and "a book of positions: VaR and ES in USD" in text
    assert "valuation 2024-12-31 16:00:00 UTC (given)" in text
    total = next(line for line in text.splitlines() if line.startswith("Total")).split()
    assert total[1] == f"{res.component_var.sum():,.2f}"  # no quantity total: instruments do not add up
    assert next(line for line in text.splitlines() if line.startswith("BTC-PERPETUAL")).split()[1] == "-400,000"


def test_book_missing_underlying_is_one_line(capsys, tmp_path):
    pd.read_csv(SAMPLE_RETURNS, index_col=0).drop(columns=["ETH"]).to_csv(tmp_path / "r.csv")
    assert main(["mc", "--returns", str(tmp_path / "r.csv"), "--positions", str(SAMPLE_POSITIONS), "--market",
                 str(SAMPLE_MARKET), "--valuation", SAMPLE_VALUATION, "--scenarios", "1e4"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "Ctrl-C cancels" in err[0]  # the start line, then the error
    assert "r.csv" in err[1] and f"{SAMPLE_POSITIONS} row 3 (ETH)" in err[1] and "no column for ETH" in err[1]
