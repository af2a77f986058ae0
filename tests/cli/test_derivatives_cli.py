"""``xl-var greeks``, ``margin`` and ``stress``: tables, JSON and CSV on the sample book checked against the
engine; the valuation said; one-line errors (unknown instrument naming the file row, bad --param)."""

import csv
import datetime as dt
import io
import json

import numpy as np
import pytest

import xl_var as xv
from workbooks import SAMPLE_MARKET, SAMPLE_POSITIONS, SAMPLE_SURFACE, SAMPLE_VALUATION
from xl_var_cli.datafiles import read_book
from xl_var_cli.main import main, parse_args
from xl_var_cli.margin import GRID_COLUMNS, MARK, param

FIELDS = ("value", "delta", "delta_usd", "delta_coin", "gamma", "gamma_usd", "vega", "theta")


@pytest.fixture(scope="module")
def book():
    return read_book(SAMPLE_POSITIONS, SAMPLE_MARKET, valuation=dt.datetime.fromisoformat(SAMPLE_VALUATION),
                     surface=SAMPLE_SURFACE)


def _run(capsys, *argv):
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def _fail(capsys, *argv):
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def _line(text, first):
    return next(line for line in text.splitlines() if line.split() and line.split()[0] == first).split()


# ----------------------------------------------------------------------------- greeks
def test_greeks_json_is_the_engine_by_underlying(capsys, book):
    out = json.loads(_run(capsys, "greeks", "--json"))
    g = book.greeks("underlying")
    assert out["valuation"] == "2024-12-31T16:00:00+00:00" and out["valued"] == "the sample's" and out["sample"]
    assert [r["underlying"] for r in out["rows"]] == list(g.labels) == ["BTC", "ETH", "SOL"]
    for i, row in enumerate(out["rows"]):
        for f in FIELDS:
            assert row[f] == pytest.approx(float(getattr(g, f)[i]), rel=1e-12, abs=1e-12)
    total = out["total"]
    assert total["value"] == pytest.approx(float(book.value().sum()), rel=1e-12)
    assert total["vega"] == pytest.approx(float(g.vega.sum()), rel=1e-12)
    assert total["delta"] is None and total["delta_coin"] is None and total["gamma"] is None  # coins of 3 coins


def test_greeks_table_and_csv_by_position(capsys, book):
    text = _run(capsys, "greeks")
    assert "valuation 2024-12-31 16:00:00 UTC (the sample's)" in text
    g = book.greeks("underlying")
    total = _line(text, "Total")
    assert total[1] == f"{g.value.sum():,.2f}" and total[2] == f"{g.delta_usd.sum():,.2f}"
    assert _line(text, "BTC")[2] == f"{g.delta[0]:,.4f}"
    rows = list(csv.reader(io.StringIO(_run(capsys, "greeks", "--by", "position", "--csv"))))
    p = book.greeks("position")
    assert rows[0] == ["position", *FIELDS]
    assert [r[0] for r in rows[1:-1]] == list(p.labels) and rows[-1][0] == "Total"
    assert np.allclose([[float(v) for v in r[1:]] for r in rows[1:-1]],
                       np.column_stack([getattr(p, f) for f in FIELDS]), rtol=1e-12, atol=1e-12)
    assert rows[-1][2] == "" and float(rows[-1][1]) == pytest.approx(float(p.value.sum()), rel=1e-12)


def test_greeks_of_files_default_to_now_and_one_underlying_totals_coins(capsys, tmp_path):
    (tmp_path / "p.csv").write_text("Quantity,Instrument\n2,BTC\n-10000,BTC-PERPETUAL\n")
    (tmp_path / "m.csv").write_text("underlying,spot\nBTC,50000\n")
    files = ["--positions", str(tmp_path / "p.csv"), "--market", str(tmp_path / "m.csv")]
    out = json.loads(_run(capsys, "greeks", *files, "--json"))
    assert out["valued"] == "now" and not out["sample"]
    assert abs(dt.datetime.fromisoformat(out["valuation"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert out["total"]["delta"] == pytest.approx(2 - 10_000 / 50_000, rel=1e-12)  # one coin: deltas add up
    text = _run(capsys, "greeks", *files, "--valuation", "2025-01-02")
    assert f"positions {tmp_path / 'p.csv'}" in text and "valuation 2025-01-02 00:00:00 UTC (given)" in text


def test_book_errors_are_one_line_naming_the_file_row(capsys, tmp_path):
    (tmp_path / "p.csv").write_text("Instrument,Quantity\n\nBTC,1\nBTC-NOPE,2\n")
    (tmp_path / "m.csv").write_text("Underlying,Spot\nBTC,50000\n")
    err = _fail(capsys, "greeks", "--positions", str(tmp_path / "p.csv"), "--market", str(tmp_path / "m.csv"))
    assert "p.csv" in err and "row 4" in err and "BTC-NOPE" in err
    err = _fail(capsys, "stress", "--positions", str(tmp_path / "p.csv"))
    assert "--positions and --market go together" in err
    with pytest.raises(SystemExit) as exit_:
        main(["greeks", "--valuation", "yesterday"])
    assert exit_.value.code == 2 and "is not an ISO date" in capsys.readouterr().err


# ----------------------------------------------------------------------------- margin
def test_margin_table_json_and_csv_are_the_engine(capsys, book):
    res = xv.portfolio_margin(book)
    text = _run(capsys, "margin")
    assert f"margin {res.margin:,.2f}, maintenance {res.maintenance:,.2f}" in text
    assert _line(text, "Total")[1] == f"{res.margin:,.2f}"
    for u, name in enumerate(res.underlyings):
        assert _line(text, name)[1] == f"{res.by_underlying[u]:,.2f}"
    out = json.loads(_run(capsys, "margin", "--json"))
    assert out["model"] == "deribit" and out["margin"] == pytest.approx(res.margin, rel=1e-12)
    assert out["params"]["price_range"] == 0.16 and len(out["grid"]) == len(res.scenarios)
    assert [u["margin"] for u in out["underlyings"]] == pytest.approx(list(res.by_underlying), rel=1e-12)
    assert [(u["price_move"], u["vol_shock"]) for u in out["underlyings"]] == [
        (w.price_move, w.vol_shock) for w in res.worst]
    assert sum(r["sets_margin"] for r in out["grid"]) == 3
    rows = list(csv.DictReader(io.StringIO(_run(capsys, "margin", "--grid", "--csv"))))
    assert list(rows[0]) == list(GRID_COLUMNS) and len(rows) == len(res.scenarios)
    assert [float(r["pnl"]) for r in rows] == pytest.approx(list(res.pnl.sum(axis=1)), rel=1e-12, abs=1e-9)
    assert [float(r["loss"]) for r in rows] == pytest.approx(list(res.loss), rel=1e-12, abs=1e-9)
    grid = _run(capsys, "margin", "--grid")
    assert grid.count(MARK) == 3 and "P&L (USD)" in grid


def test_margin_span_with_params_and_coin(capsys, book):
    res = xv.portfolio_margin(book, model="span", price_scan=0.2, short_option_minimum=1000.0)
    out = json.loads(_run(capsys, "margin", "--model", "span", "--param", "price_scan=0.2",
                          "--param", "short_option_minimum=1e3", "--json"))
    assert out["margin"] == pytest.approx(res.margin, rel=1e-12) and out["params"]["price_scan"] == 0.2
    coin = json.loads(_run(capsys, "margin", "--currency", "coin", "--json"))
    assert coin["margin"] is None and coin["currency"] == "coin"
    assert [u["margin"] for u in coin["underlyings"]] == pytest.approx(
        list(xv.portfolio_margin(book, currency="coin").by_underlying), rel=1e-12)
    assert "none (coins of different underlyings)" in _run(capsys, "margin", "--currency", "coin")
    moves = json.loads(_run(capsys, "margin", "--param", "extended_moves=-0.5,0.5", "--json"))
    assert moves["params"]["extended_moves"] == [-0.5, 0.5]


def test_margin_bad_params_are_one_line(capsys):
    err = _fail(capsys, "margin", "--model", "span", "--param", "price_range=0.2")
    assert "price_range is not a parameter of the span margin model; valid ones: price_scan, vol_scan" in err
    assert "must be a number in (0, 1)" in _fail(capsys, "margin", "--param", "price_range=2")
    assert "given twice" in _fail(capsys, "margin", "--param", "buckets=3", "--param", "buckets=5")
    assert "model must be one of 'deribit', 'span'" in _fail(capsys, "margin", "--model", "cboe")
    assert param("vol_scan = 0.1") == ("vol_scan", 0.1) and param("x=a,b") == ("x", "a,b")
    with pytest.raises(SystemExit) as exit_:
        parse_args(["margin", "--param", "price_range"])
    assert exit_.value.code == 2 and "write a model parameter as NAME=VALUE" in capsys.readouterr().err


# ----------------------------------------------------------------------------- stress
def test_stress_table_json_and_csv_are_the_engine(capsys, book):
    res = xv.stress_test(book)
    text = _run(capsys, "stress")
    assert "the bundled crisis library" in text
    for i, name in enumerate(res.names):
        line = next(x for x in text.splitlines() if x.startswith(name))
        assert line[len(name):].split() == [f"{res.total[i]:,.2f}", *(f"{v:,.2f}" for v in res.by_underlying[i])]
    out = json.loads(_run(capsys, "stress", "--json"))
    assert [s["name"] for s in out["scenarios"]] == list(res.names)
    assert [s["pnl"] for s in out["scenarios"]] == pytest.approx(list(res.total), rel=1e-12)
    assert out["scenarios"][0]["moves"]["BTC"] == res.moves[0, 0] and out["scenarios"][0]["source"]
    rows = list(csv.reader(io.StringIO(_run(capsys, "stress", "--csv"))))
    assert rows[0] == ["scenario", "pnl", "BTC", "ETH", "SOL"]
    assert np.allclose([[float(v) for v in r[1:]] for r in rows[1:]], np.column_stack([res.total, res.by_underlying]),
                       rtol=1e-12)


def test_stress_scenario_file(capsys, tmp_path, book):
    path = tmp_path / "s.csv"
    path.write_text("scenario,underlying,move,vol_shift,source\ncrash,BTC,-0.3,0.2,desk\ncrash,*,-0.4,,desk\n"
                    "rally,ETH,0.25,-0.1,desk\n")
    res = xv.stress_test(book, xv.load_scenarios(path))
    rows = list(csv.DictReader(io.StringIO(_run(capsys, "stress", "--scenarios", str(path), "--csv"))))
    assert [r["scenario"] for r in rows] == ["crash", "rally"]
    assert [float(r["pnl"]) for r in rows] == pytest.approx(list(res.total), rel=1e-12)
    assert float(rows[1]["BTC"]) == 0.0
    path.write_text("scenario,underlying,move\ncrash,BTC,-0.3\n")
    assert "needs the columns" in _fail(capsys, "stress", "--scenarios", str(path))
