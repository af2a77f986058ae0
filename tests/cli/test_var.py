"""``xl-var var`` prints engine numbers; checked against an independent closed form."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from workbooks import SAMPLE_RETURNS, SAMPLE_WEIGHTS
from xl_var_cli.main import main


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
    assert "w.csv: 2 weights but returns has 6 columns" in err and "Traceback" not in err
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
