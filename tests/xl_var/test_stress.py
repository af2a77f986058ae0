"""Stress tests: hand-computed P&L, the bundled crisis library, user scenarios and their errors."""

import csv
import datetime as dt
import importlib.util
import re

import numpy as np
import pytest

from xl_var import stress
from xl_var.black76 import black76_price
from xl_var.book import Book
from xl_var.errors import XlVarError
from xl_var.stress import LIBRARY_COLUMNS, crisis_library_path, load_scenarios, stress_test

VAL = dt.datetime(2024, 6, 28, 8, tzinfo=dt.UTC)
T = 182 / 365
S0, K = 50_000.0, 60_000.0


@pytest.fixture
def book():
    """Long 2 BTC spot, long a 10,000 USD inverse perpetual, short 3 linear 60,000 calls; long 10 ETH."""
    return Book([("BTC", 2.0), ("BTC-PERPETUAL", 10_000.0), ("BTC_USDC-27DEC24-60000-C", -3.0), ("ETH", 10.0)],
                {"BTC": S0, "ETH": 3_000.0}, valuation=VAL, vols=0.6)


def test_hand_computed_pnl_of_spot_perpetual_and_option(book):
    r = stress_test(book, [{"name": "crash", "moves": {"BTC": -0.3, "ETH": -0.4}, "vol_shifts": {"BTC": 0.2}},
                           {"name": "rally", "moves": {"*": 0.1}}])
    option = -3.0 * (black76_price(True, 35_000.0, K, T, 0.8) - black76_price(True, S0, K, T, 0.6))
    crash = [2 * S0 * -0.3, 10_000 * -0.3, option, 10 * 3_000 * -0.4]
    rally_opt = -3.0 * (black76_price(True, 55_000.0, K, T, 0.6) - black76_price(True, S0, K, T, 0.6))
    rally = [2 * S0 * 0.1, 10_000 * 0.1, rally_opt, 10 * 3_000 * 0.1]
    np.testing.assert_allclose(r.pnl, [crash, rally], rtol=1e-12)
    np.testing.assert_allclose(r.total, [sum(crash), sum(rally)], rtol=1e-12)
    np.testing.assert_allclose(r.by_underlying, [[sum(crash[:3]), crash[3]], [sum(rally[:3]), rally[3]]])
    np.testing.assert_allclose(r.moves, [[-0.3, -0.4], [0.1, 0.1]])
    np.testing.assert_allclose(r.vol_shifts, [[0.2, 0.0], [0.0, 0.0]])
    assert r.names == ("crash", "rally") and r.sources == ("", "") and r.underlyings == ("BTC", "ETH")


def test_the_library_loads_and_every_scenario_and_row_has_a_source():
    scenarios = load_scenarios()
    names = " ".join(s["name"] for s in scenarios)
    for crisis in ("Mar 2020", "May 2021", "LUNA", "FTX"):
        assert crisis in names
    for s in scenarios:
        assert s["source"].strip()
        assert {"BTC", "ETH", "SOL", "*"} <= set(s["moves"]) == set(s["vol_shifts"])
        assert all(-1 < m < 0 for m in s["moves"].values()) and all(v >= 0 for v in s["vol_shifts"].values())
    with crisis_library_path().open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == LIBRARY_COLUMNS
        assert all(row["source"].strip() for row in reader)


def test_default_stress_uses_the_library_with_star_for_other_coins(book):
    library = load_scenarios()
    r = stress_test(book)
    assert r.names == tuple(s["name"] for s in library) and all(r.sources)
    ftx = r.names.index("FTX collapse (6-9 Nov 2022)")
    assert r.pnl[ftx, 0] == pytest.approx(2 * S0 * library[ftx]["moves"]["BTC"])
    doge = Book([("DOGE", 1_000.0)], {"DOGE": 0.1}, valuation=VAL)
    rd = stress_test(doge)
    np.testing.assert_allclose(rd.moves[:, 0], [s["moves"]["*"] for s in library])


def test_user_scenarios_defaults_case_and_single_dict(book):
    r = stress_test(book, {"name": "btc only", "moves": {"btc": -0.1}})
    np.testing.assert_allclose(r.moves, [[-0.1, 0.0]])  # ETH not named, no '*': stays put
    assert r.pnl[0, 3] == 0.0
    r = stress_test(book, [{"name": "vol", "vol_shifts": {"*": 0.1}, "source": "desk"}])
    assert r.sources == ("desk",) and np.all(r.pnl[0, [0, 1, 3]] == 0.0) and r.pnl[0, 2] < 0.0
    r = stress_test(book, [{"name": "mixed", "moves": {"*": -0.2, "ETH": 0.05, "XRP": -0.9}}])
    np.testing.assert_allclose(r.moves, [[-0.2, 0.05]])


@pytest.mark.parametrize(("scenarios", "words"), [
    ([{"name": "wipe", "moves": {"BTC": -1.0}}], ["scenario 1 (wipe)", "moves['BTC']", "above -1"]),
    ([{"name": "ok", "moves": {"BTC": 0.1}}, {"name": "bad vol", "vol_shifts": {"ETH": "high"}}],
     ["scenario 2 (bad vol)", "vol_shifts['ETH']"]),
    ([{"moves": {"BTC": -0.1}}], ["scenario 1", "name"]),
    ([{"name": "a", "moves": {"BTC": -0.1}}, {"name": "a", "moves": {"BTC": -0.2}}], ["scenario 2 (a)", "twice"]),
    ([{"name": "typo", "move": {"BTC": -0.1}}], ["scenario 1 (typo)", "unknown field move"]),
    ([{"name": "nothing"}], ["scenario 1 (nothing)", "moves"]),
    ([{"name": "xbt", "moves": {"XBT": -0.1}}], ["scenario 1 (xbt)", "none of the book's underlyings"]),
    ([{"name": "list", "moves": [-0.1]}], ["scenario 1 (list)", "moves must map"]),
    (["crash"], ["scenario 1", "dict"]),
    ([], ["empty"]),
    ("crash", ["list of"]),
])
def test_bad_scenarios_are_refused_naming_scenario_and_field(book, scenarios, words):
    with pytest.raises(XlVarError) as err:
        stress_test(book, scenarios)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_missing_library_is_an_error_but_user_scenarios_still_work(book, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: None)
    with pytest.raises(XlVarError, match=re.escape("crisis library workbooks/crises.csv is missing")):
        stress_test(book)
    assert stress_test(book, {"name": "x", "moves": {"*": -0.1}}).total[0] < 0.0
    with pytest.raises(XlVarError, match="book must be"):
        stress.stress_test("BTC", None)


def write(path, rows):
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_load_scenarios_from_a_user_file_and_its_errors(tmp_path, book):
    good = write(tmp_path / "mine.csv", ["scenario,underlying,move,vol_shift,source",
                                         "Halving dump,BTC,-0.2,,desk view", "Halving dump,*,-0.3,0.1,desk view"])
    [s] = load_scenarios(good)
    assert s == {"name": "Halving dump", "moves": {"BTC": -0.2, "*": -0.3}, "vol_shifts": {"BTC": 0.0, "*": 0.1},
                 "source": "desk view"}
    assert stress_test(book, load_scenarios(good)).moves.tolist() == [[-0.2, -0.3]]
    bad = {
        "no_source.csv": (["scenario,underlying,move,vol_shift,source", "X,BTC,-0.2,0.1,"], "line 2 (X, BTC)"),
        "bad_move.csv": (["scenario,underlying,move,vol_shift,source", "X,BTC,-0.2,0.1,s", "X,ETH,lots,0,s"],
                         "line 3 move"),
        "twice.csv": (["scenario,underlying,move,vol_shift,source", "X,BTC,-0.2,0,s", "X,btc,-0.3,0,s"],
                      "BTC appears twice"),
        "columns.csv": (["scenario,underlying,move", "X,BTC,-0.2"], "missing: vol_shift, source"),
    }
    for name, (rows, words) in bad.items():
        with pytest.raises(XlVarError, match=re.escape(words)):
            load_scenarios(write(tmp_path / name, rows))
    with pytest.raises(XlVarError, match="cannot be read"):
        load_scenarios(tmp_path / "absent.csv")


@pytest.mark.parametrize(("scenario", "says"), [
    ({"name": "typo", "moves": {"BTC": 30}}, "divide a move in percent by 100"),
    ({"name": "typo", "moves": {"BTC": 0.3}, "vol_shifts": {"BTC": 20}}, "change of vol as a fraction"),
])
def test_numbers_in_percent_are_refused_not_applied(scenario: dict, says: str) -> None:
    """30 for +30% would be a 3000% move: refused with the fix rather than applied."""
    book = Book([("BTC", 1)], {"BTC": 100}, valuation=dt.datetime(2024, 1, 1))
    with pytest.raises(XlVarError, match=says):
        stress_test(book, [scenario])
