"""``xl-var var`` prints engine numbers; checked against an independent closed form, and with a book (positions
and market in place of weights) against the engine's book VaR."""

import csv
import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import xl_var as xv
from workbooks import (
    SAMPLE_MARKET,
    SAMPLE_POSITIONS,
    SAMPLE_PRICES,
    SAMPLE_RETURNS,
    SAMPLE_SURFACE,
    SAMPLE_VALUATION,
    SAMPLE_WEIGHTS,
)
from xl_var_cli.datafiles import read_book
from xl_var_cli.main import main

ASSETS = ["BTC", "ETH", "SOL", "USDC", "SPX", "GOLD"]
DOLLARS = [2_500_000.0, 1_200_000.5, 600_000.0, 300_000.0, 200_000.0, 100_000.0]


def _dollar_weights(path):
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Asset", "Weight"])
        writer.writerows(zip(ASSETS, DOLLARS, strict=True))
    return path


def test_json_output_matches_closed_form_normal(capsys):
    assert main(["var", "--json", "--confidence", "0.975", "--method", "normal"]) == 0
    out = json.loads(capsys.readouterr().out)
    r = pd.read_csv(SAMPLE_RETURNS, index_col=0).to_numpy()
    w = pd.read_csv(SAMPLE_WEIGHTS)["Weight"].to_numpy()
    mu, sd = r.mean(0) @ w, np.sqrt(w @ np.cov(r, rowvar=False) @ w)
    z = norm.ppf(0.975)
    assert out["methods"]["normal"]["var"] == pytest.approx(sd * z - mu, rel=1e-12)
    assert out["methods"]["normal"]["es"] == pytest.approx(sd * norm.pdf(z) / 0.025 - mu, rel=1e-12)
    p = r @ w
    assert out["methods"]["historical"]["var"] == pytest.approx(-np.quantile(p, 0.025), rel=1e-12)
    comps = out["components"]["assets"]
    assert [c["asset"] for c in comps] == ["BTC", "ETH", "SOL", "USDC", "SPX", "GOLD"]
    assert sum(c["component"] for c in comps) == pytest.approx(out["methods"]["normal"]["var"], rel=1e-12)
    for m in ("normal", "t", "modified", "historical", "ewma", "fhs"):
        assert out["methods"][m]["es"] >= out["methods"][m]["var"] > 0


def test_table_output_and_bad_input(capsys, tmp_path):
    assert main(["var"]) == 0
    text = capsys.readouterr().out
    assert "historical" in text and "Total" in text and "BTC" in text
    (tmp_path / "w.csv").write_text("0.5\n0.5\n")
    assert main(["var", "--weights", str(tmp_path / "w.csv")]) == 2
    err = capsys.readouterr().err
    assert "w.csv" in err and "6 columns" in err and err.count("\n") == 1 and "Traceback" not in err
    assert main(["var", "--confidence", "0.05"]) == 2
    assert "did you mean 0.95?" in capsys.readouterr().err


def test_confidence_as_a_percentage_and_refused_text(capsys):
    assert main(["var", "--json", "--confidence", "97.5%", "--method", "normal"]) == 0
    pct = json.loads(capsys.readouterr().out)
    assert main(["var", "--json", "--confidence", "0.975", "--method", "normal"]) == 0
    assert pct == json.loads(capsys.readouterr().out) and pct["confidence"] == 0.975
    with pytest.raises(SystemExit) as exit_:
        main(["var", "--confidence", "high"])
    assert exit_.value.code == 2
    assert "xl-var var: error: argument --confidence: 'high' is not a number such as 0.99 or 99%" in \
        capsys.readouterr().err


def test_dollar_weights_print_money_in_aligned_columns(capsys, tmp_path):
    weights = _dollar_weights(tmp_path / "w.csv")
    assert main(["var", "--weights", str(weights), "--json"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert full["units"]["weights"] == "amounts"
    r = pd.read_csv(SAMPLE_RETURNS, index_col=0).to_numpy()
    hist = xv.portfolio_var(r, np.array(DOLLARS), 0.99, 1, method="historical")
    assert full["methods"]["historical"]["var"] == pytest.approx(hist.var, rel=1e-12)  # full precision in JSON
    assert main(["var", "--weights", str(weights)]) == 0
    text = capsys.readouterr().out
    assert "in the weights' currency" in text or "VaR and ES in" in text
    lines = text.splitlines()
    method = next(line for line in lines if line.startswith("historical"))
    assert method.split() == ["historical", f"{hist.var:,.2f}", f"{hist.es:,.2f}"]  # money: 2 decimals, commas
    table = lines[lines.index(next(line for line in lines if line.startswith("asset"))):]
    rows = [line for line in table if line.split() and line.split()[0] in (*ASSETS, "Total")]
    assert rows[0].split()[1] == "2,500,000.00" and rows[-1].split()[1] == "4,900,000.50"
    for row in rows:  # every cell is one token: no number runs into the next column
        cells = row.split()
        assert all(re.fullmatch(r"-?[\d,]+\.\d\d%?", c) for c in cells[1:] if c), row
    assert len({len(line) for line in [table[0], *rows[:-1]]}) == 1  # right-aligned columns
    assert not re.search(r"\d+\.\d{6}", text)  # no six-decimal dollars


def test_fraction_weights_print_percentages(capsys):
    assert main(["var"]) == 0
    text = capsys.readouterr().out
    assert "as a percentage of the portfolio value" in text
    btc = next(line for line in text.splitlines() if line.startswith("BTC")).split()
    assert btc[1] == "35.00%" and all(c.endswith("%") for c in btc[1:])


def test_prices_option_converts_and_prices_as_returns_are_refused(capsys, tmp_path):
    assert main(["var", "--returns", str(SAMPLE_PRICES), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "look like prices" in err and f"use --prices {SAMPLE_PRICES}" in err
    assert main(["var", "--prices", str(SAMPLE_PRICES), "--json", "--method", "normal"]) == 0
    out = json.loads(capsys.readouterr().out)
    prices = pd.read_csv(SAMPLE_PRICES, index_col=0).to_numpy()
    w = pd.read_csv(SAMPLE_WEIGHTS)["Weight"].to_numpy()
    r = np.asarray(xv.price_returns(prices))
    assert out["n_obs"] == len(prices) - 1
    assert out["methods"]["normal"]["var"] == pytest.approx(xv.portfolio_var(r, w, 0.99, 1, method="normal").var,
                                                            rel=1e-9)
    with pytest.raises(SystemExit) as exit_:
        main(["var", "--returns", str(SAMPLE_RETURNS), "--prices", str(SAMPLE_PRICES)])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_missing_drop_and_raise(capsys, tmp_path):
    lines = SAMPLE_RETURNS.read_text().splitlines()
    cells = lines[5].split(",")
    cells[2] = ""
    lines[5] = ",".join(cells)
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    assert main(["var", "--returns", str(tmp_path / "r.csv")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["var", "--returns", str(tmp_path / "r.csv"), "--missing", "drop", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_obs"] == len(lines) - 2  # header and the blank row
    with pytest.raises(SystemExit):
        main(["var", "--missing", "ignore"])


# ----------------------------------------------------------------------------- a book in place of weights
BOOK = ["--positions", str(SAMPLE_POSITIONS), "--market", str(SAMPLE_MARKET), "--surface", str(SAMPLE_SURFACE),
        "--valuation", SAMPLE_VALUATION]


@pytest.fixture(scope="module")
def book():
    return read_book(SAMPLE_POSITIONS, SAMPLE_MARKET, valuation=dt.datetime.fromisoformat(SAMPLE_VALUATION),
                     surface=SAMPLE_SURFACE)


def test_book_json_is_the_engine_in_usd(capsys, book):
    assert main(["var", *BOOK, "--json", "--method", "normal"]) == 0
    out = json.loads(capsys.readouterr().out)
    r = pd.read_csv(SAMPLE_RETURNS, index_col=0)
    x, assets = r.to_numpy(), list(r.columns)
    assert out["units"] == {"weights": "positions", "currency": "USD"} and out["refused"] == {}
    assert out["book"]["valuation"] == "2024-12-31T16:00:00+00:00" and out["book"]["valued"] == "given"
    for m in ("normal", "t", "modified", "historical", "ewma", "fhs"):
        res = xv.portfolio_var(x, book, 0.99, 1, method=m, assets=assets)
        assert out["methods"][m]["var"] == pytest.approx(res.var, rel=1e-12)
        assert out["methods"][m]["es"] == pytest.approx(res.es, rel=1e-12)
    assert out["methods"]["historical"]["revaluation"] == "full" and out["methods"]["t"]["revaluation"] == "delta"
    comps = out["components"]
    d = xv.component_var(x, book, 0.99, 1, method="normal", assets=assets)
    assert [c["position"] for c in comps["positions"]] == [p.name for p in book.positions]
    assert [c["quantity"] for c in comps["positions"]] == list(book.quantity)
    assert [c["component"] for c in comps["positions"]] == pytest.approx(list(d.component), rel=1e-12)
    assert comps["total"] == pytest.approx(out["methods"]["normal"]["var"], rel=1e-12)


def test_book_table_with_a_revaluation_lists_the_methods_it_does_not_fit(capsys, book):
    assert main(["var", *BOOK, "--revaluation", "delta-gamma", "--method", "ewma"]) == 0
    text = capsys.readouterr().out
    assert "a book of positions: VaR and ES in USD" in text and "valuation 2024-12-31 16:00:00 UTC (given)" in text
    r = pd.read_csv(SAMPLE_RETURNS, index_col=0)
    res = xv.portfolio_var(r.to_numpy(), book, 0.99, 1, method="ewma", assets=list(r.columns),
                           revaluation="delta-gamma")
    assert re.search(rf"^ewma\s+delta-gamma\s+{re.escape(f'{res.var:,.2f}')}\s", text, re.MULTILINE)
    assert "not computed: t, modified: revaluation='delta-gamma'" in text
    assert "Component VaR (ewma, delta-gamma revaluation)" in text and "BTC-31JAN25-100000-C" in text
    assert main(["var", *BOOK, "--revaluation", "full", "--method", "normal"]) == 2  # the component method refused
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "revaluation='full' reprices the book in scenarios" in err


def test_book_errors(capsys, tmp_path):
    r = pd.read_csv(SAMPLE_RETURNS, index_col=0).drop(columns=["SOL"])
    r.to_csv(tmp_path / "r.csv")
    assert main(["var", "--returns", str(tmp_path / "r.csv"), *BOOK]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "r.csv" in err and f"{SAMPLE_POSITIONS} row 4 (SOL)" in err
    assert "returns have no column for SOL" in err
    assert main(["var", "--positions", str(SAMPLE_POSITIONS)]) == 2
    assert "--positions and --market go together" in capsys.readouterr().err
    assert main(["var", "--revaluation", "full"]) == 2
    assert "--revaluation applies to a book" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["var", "--weights", str(SAMPLE_WEIGHTS), *BOOK])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
