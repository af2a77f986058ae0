"""Deribit instrument names: every kind, date edge cases, ACT/365 years to expiry, errors naming the bad part."""

from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

import xl_var as xv
from xl_var.instruments import Instrument, as_utc, parse_instrument, year_fraction


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "underlying", "kind", "settle", "quote", "expiry", "strike", "option_type", "unit"),
    [
        ("BTC", "BTC", "spot", "coin", None, None, None, None, "coins"),
        ("BTC_USDC", "BTC", "spot", "usd", "USDC", None, None, None, "coins"),
        ("ETH_USDT", "ETH", "spot", "usd", "USDT", None, None, None, "coins"),
        ("BTC-PERPETUAL", "BTC", "perpetual", "coin", "USD", None, None, None, "usd"),
        ("BTC-27DEC24", "BTC", "future", "coin", "USD", _utc(2024, 12, 27, 8), None, None, "usd"),
        ("BTC_USDC-PERPETUAL", "BTC", "perpetual", "usd", "USDC", None, None, None, "coins"),
        ("BTC_USDC-27DEC24", "BTC", "future", "usd", "USDC", _utc(2024, 12, 27, 8), None, None, "coins"),
        ("BTC-27SEP24-40000-C", "BTC", "option", "coin", "USD", _utc(2024, 9, 27, 8), 40000.0, "call", "coins"),
        ("SOL_USDC-27DEC24-200-P", "SOL", "option", "usd", "USDC", _utc(2024, 12, 27, 8), 200.0, "put", "coins"),
        ("XRP_USDC-29MAR24-0d6-C", "XRP", "option", "usd", "USDC", _utc(2024, 3, 29, 8), 0.6, "call", "coins"),
    ],
)
def test_every_row_of_the_table(name, underlying, kind, settle, quote, expiry, strike, option_type, unit):
    ins = parse_instrument(name)
    assert isinstance(ins, Instrument)
    assert (ins.name, ins.underlying, ins.kind, ins.settle, ins.quote) == (name, underlying, kind, settle, quote)
    assert (ins.expiry, ins.strike, ins.option_type, ins.quantity_unit) == (expiry, strike, option_type, unit)


def test_expiry_is_timezone_aware_0800_utc():
    e = parse_instrument("ETH-28JUN24-3000-P").expiry
    assert e.tzinfo is not None and e.utcoffset() == timedelta(0)
    assert (e.hour, e.minute, e.second, e.microsecond) == (8, 0, 0, 0)
    assert e == datetime(2024, 6, 28, 10, tzinfo=timezone(timedelta(hours=2)))


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("  btc-perpetual\t", "BTC-PERPETUAL"),
        ("Btc_Usdc-27dec24", "BTC_USDC-27DEC24"),
        ("BTC-05JAN24", "BTC-5JAN24"),
        ("xrp_usdc-29mar24-0d6-c", "XRP_USDC-29MAR24-0d6-C"),
        ("XRP_USDC-29MAR24-0.60-C", "XRP_USDC-29MAR24-0d6-C"),
        ("BTC-27SEP24-040000-C", "BTC-27SEP24-40000-C"),
        ("BTC-27SEP24-40000.0-C", "BTC-27SEP24-40000-C"),
        ("eth", "ETH"),
    ],
)
def test_case_whitespace_and_spelling_are_canonicalised(text, canonical):
    assert parse_instrument(text).name == canonical
    assert parse_instrument(text) == parse_instrument(canonical)


def test_parsing_is_cached_and_instruments_are_frozen_and_hashable():
    a, b = parse_instrument("BTC-27SEP24-40000-C"), parse_instrument(" btc-27sep24-40000-c ")
    assert a is b
    assert len({a, b, parse_instrument("BTC-27SEP24-40000-P")}) == 2
    with pytest.raises(FrozenInstanceError):
        a.strike = 1.0


@pytest.mark.parametrize(
    ("code", "expected"),
    [("5JAN24", date(2024, 1, 5)), ("05JAN24", date(2024, 1, 5)), ("29FEB24", date(2024, 2, 29)),
     ("31DEC99", date(2099, 12, 31)), ("1MAR00", date(2000, 3, 1)), ("30apr25", date(2025, 4, 30))],
)
def test_date_codes(code, expected):
    assert parse_instrument(f"ETH-{code}").expiry == _utc(expected.year, expected.month, expected.day, 8)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [("29FEB23", "February 2023 has days 1 to 28"), ("31FEB24", "February 2024 has days 1 to 29"),
     ("31APR24", "April 2024 has days 1 to 30"), ("0JAN24", "January 2024 has days 1 to 31"),
     ("32JAN24", "January 2024 has days 1 to 31")],
)
def test_impossible_dates_name_the_date_part(code, fragment):
    with pytest.raises(xv.XlVarError, match=f"expiry '{code}' is not a date: {fragment}"):
        parse_instrument(f"BTC-{code}-40000-C")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("BTC-27DEC24-40000-X",
         "instrument 'BTC-27DEC24-40000-X': option type 'X' must be C or P (e.g. BTC-27DEC24-40000-C)"),
        ("BTC-27XYZ24", "instrument 'BTC-27XYZ24': expiry '27XYZ24': month 'XYZ' must be JAN, FEB, ..., DEC"),
        ("BTC-27DEC2024", "expiry '27DEC2024' must be a date code DMMMYY such as 27DEC24"),
        ("BTC-DEC24", "expiry 'DEC24' must be a date code"),
        ("BTC-27DEC24-0-C", "strike '0' must be greater than 0"),
        ("BTC-27DEC24-0d0-P", "strike '0D0' must be greater than 0"),
        ("BTC-27DEC24-1e5-C", "strike '1E5' must be a positive number, with 'd' for the decimal point"),
        ("BTC-27DEC24--C", "strike '' must be a positive number"),
        ("BTC-27DEC24-40000", "option has four parts UNDERLYING-DATE-STRIKE-C/P: the option type is missing"),
        ("BTC-27DEC24-40000-C-X", "has 5 parts separated by '-'"),
        ("B-PERPETUAL", "underlying 'B' must be a coin ticker"),
        ("123-PERPETUAL", "underlying '123' must be a coin ticker"),
        ("VERYLONGCOIN", "underlying 'VERYLONGCOIN' must be a coin ticker"),
        ("BTC$", "underlying 'BTC$' must be a coin ticker"),
        ("BTC_EUR-PERPETUAL", "quote 'EUR' after '_' must be USDC or USDT"),
        ("BTC_-PERPETUAL", "quote '' after '_' must be USDC or USDT"),
        ("BTC-USD", "spot is written BTC or BTC_USDC, not with '-USD'"),
        ("btc-perp", "instrument 'btc-perp': expiry 'PERP' must be a date code"),
    ],
)
def test_each_malformed_part_is_named(name, message):
    with pytest.raises(xv.XlVarError) as info:
        parse_instrument(name)
    text = str(info.value)
    assert message in text
    assert text.startswith(f"instrument {name!r}: ")
    example = {0: "BTC or BTC_USDC", 1: "BTC-PERPETUAL or BTC-27DEC24", 3: "BTC-27DEC24-40000-C"}
    assert text.endswith(f"(e.g. {example.get(name.count('-'), 'BTC-PERPETUAL or BTC-27DEC24-40000-C')})")


@pytest.mark.parametrize("bad", ["", "   ", None, 42, ["BTC"]])
def test_empty_or_non_text_names(bad):
    with pytest.raises(xv.XlVarError, match="instrument"):
        parse_instrument(bad)


def test_year_fraction_is_act_365_to_the_second():
    start = _utc(2024, 1, 1, 8)
    assert year_fraction(start, _utc(2025, 1, 1, 8)) == 366 / 365  # leap year: ACT counts 366 days
    assert year_fraction(start, start + timedelta(seconds=1)) == 1 / (365 * 86400)
    assert year_fraction(start, _utc(2023, 12, 31, 8)) == -1 / 365
    assert year_fraction(start, start) == 0.0


def test_years_to_expiry_conventions_for_valuation():
    ins = parse_instrument("BTC-27DEC24-40000-C")
    aware = _utc(2024, 6, 28, 8)
    days = (date(2024, 12, 27) - date(2024, 6, 28)).days
    assert ins.years_to_expiry(aware) == days / 365
    assert ins.years_to_expiry(datetime(2024, 6, 28, 8)) == days / 365  # naive = UTC
    assert ins.years_to_expiry(date(2024, 6, 28)) == days / 365  # a date = 08:00 UTC that day
    tokyo = datetime(2024, 6, 28, 17, tzinfo=timezone(timedelta(hours=9)))  # = 08:00 UTC
    assert ins.years_to_expiry(tokyo) == days / 365
    assert ins.years_to_expiry(_utc(2024, 12, 27, 7, 59, 59)) == 1 / (365 * 86400)
    assert ins.years_to_expiry(_utc(2024, 12, 28, 8)) == -1 / 365  # expired: negative, callers decide


def test_years_to_expiry_needs_an_expiry_and_a_date():
    for name in ("BTC", "BTC-PERPETUAL", "ETH_USDC-PERPETUAL"):
        with pytest.raises(xv.XlVarError, match=f"instrument '{name}' is a .* and has no expiry"):
            parse_instrument(name).years_to_expiry(_utc(2024, 1, 1))
    with pytest.raises(xv.XlVarError, match="valuation must be a date or datetime"):
        parse_instrument("BTC-27DEC24").years_to_expiry("2024-01-01")


def test_as_utc():
    assert as_utc(date(2024, 3, 1), "d") == _utc(2024, 3, 1, 8)
    assert as_utc(datetime(2024, 3, 1, 12), "d") == _utc(2024, 3, 1, 12)
    assert as_utc(datetime(2024, 3, 1, 12), "d").tzinfo is UTC
    with pytest.raises(xv.XlVarError, match="when must be a date or datetime"):
        as_utc(45000.0, "when")
