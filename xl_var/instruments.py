r"""Deribit instrument names and the ACT/365 year fraction to their expiry.

:func:`parse_instrument` reads the names Deribit shows (and an analyst pastes into a
book) into a frozen :class:`Instrument`:

==========================================================  ==========================  ============
name                                                        what                        quantity in
==========================================================  ==========================  ============
``BTC``, ``BTC_USDC``, ``BTC_USDT``                         spot (coin, linear pair)    coins
``BTC-PERPETUAL``, ``BTC-27DEC24``                          inverse perpetual / future  USD notional
``BTC_USDC-PERPETUAL``, ``BTC_USDC-27DEC24``                linear perpetual / future   coins
``BTC-27SEP24-40000-C``                                     inverse option              coins
``SOL_USDC-27DEC24-200-P``, ``XRP_USDC-29MAR24-0d6-C``      linear option               coins
==========================================================  ==========================  ============

* Inverse contracts (no quote suffix) are margined and settled in the coin
  (``settle="coin"``); linear ones (``_USDC`` or ``_USDT``) in the stablecoin
  (``settle="usd"``). A bare coin ticker (2–10 letters or digits) is spot held in the
  coin (``settle="coin"``); a pair ``BTC_USDC`` is linear spot (``settle="usd"``).
* Dates are Deribit codes ``DMMMYY``: the day with or without a leading zero, a
  three-letter English month, a two-digit year of the 2000s. Every contract expires at
  08:00 UTC on that day.
* Strikes are whole numbers or decimals written with ``d`` (Deribit's ``0d6``) or
  ``.``; they must be positive. The option type is ``C`` or ``P``.
* Surrounding whitespace and lower case are accepted; :attr:`Instrument.name` is the
  canonical spelling (upper case, day without a leading zero, strike as Deribit writes it).

Time to expiry is ACT/365 counted in seconds:

.. math::

    \tau(t_0, t_1) = \frac{t_1 - t_0\ [\text{s}]}{365 \times 86\,400}.

References: Deribit, contract specifications and API ``public/get_instruments``
(instrument names, 08:00 UTC expiry); ISDA (2006), *ISDA Definitions*, §4.16(d)
(Actual/365 Fixed).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from xl_var.errors import XlVarError

__all__ = ["EXPIRY_TIME", "Instrument", "as_utc", "parse_instrument", "year_fraction"]

#: Deribit expiries and daily settlements happen at 08:00 UTC.
EXPIRY_TIME = time(8, 0, tzinfo=UTC)

_SECONDS_PER_YEAR = 365.0 * 86_400.0
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_COIN = re.compile(r"[A-Z0-9]{2,10}")
_DATE = re.compile(r"(\d{1,2})([A-Z]{3})(\d{2})")
_STRIKE = re.compile(r"\d+(?:[D.]\d+)?|[D.]\d+")
_QUOTES = ("USDC", "USDT")
_EXAMPLES = {1: "BTC or BTC_USDC", 2: "BTC-PERPETUAL or BTC-27DEC24", 4: "BTC-27DEC24-40000-C"}


@dataclass(frozen=True)
class Instrument:
    """One Deribit instrument, as read by :func:`parse_instrument`.

    Attributes
    ----------
    name : str
        Canonical name, e.g. ``"BTC-27SEP24-40000-C"``.
    underlying : str
        The coin, e.g. ``"BTC"`` (also for ``BTC_USDC-...``).
    kind : {"spot", "perpetual", "future", "option"}
    settle : {"coin", "usd"}
        ``"coin"`` for inverse contracts and bare coins, ``"usd"`` for linear ones
        (``_USDC``/``_USDT``).
    quote : str or None
        ``"USD"`` for inverse contracts, ``"USDC"`` or ``"USDT"`` for linear ones,
        ``None`` for a bare coin.
    expiry : datetime or None
        Timezone-aware expiry, 08:00 UTC; ``None`` for spot and perpetuals.
    strike : float or None
        Option strike in USD; ``None`` for other kinds.
    option_type : {"call", "put"} or None
    """

    name: str
    underlying: str
    kind: str
    settle: str
    quote: str | None
    expiry: datetime | None = None
    strike: float | None = None
    option_type: str | None = None

    @property
    def quantity_unit(self) -> str:
        """``"usd"`` for inverse perpetuals and futures (sized in USD notional), else ``"coins"``."""
        inverse_derivative = self.settle == "coin" and self.kind in ("perpetual", "future")
        return "usd" if inverse_derivative else "coins"

    def years_to_expiry(self, valuation: datetime | date) -> float:
        r"""ACT/365 years from ``valuation`` to the expiry, :math:`\tau(t_0, T)`, to the second.

        Parameters
        ----------
        valuation : datetime or date
            Valuation time; naive datetimes are UTC, a date means 08:00 UTC that day.

        Returns
        -------
        float
            Negative once the instrument has expired (callers decide what to do).

        Raises
        ------
        XlVarError
            The instrument has no expiry (spot, perpetual), or ``valuation`` is not a date.
        """
        if self.expiry is None:
            raise XlVarError(f"instrument '{self.name}' is a {self.kind} and has no expiry: "
                             "years to expiry only exist for futures and options")
        return year_fraction(valuation, self.expiry, start_name="valuation")


def as_utc(value: Any, name: str) -> datetime:
    """Return ``value`` as a timezone-aware UTC datetime.

    A naive datetime is taken as UTC; a plain date means 08:00 UTC that day (Deribit's
    expiry and settlement time); an aware datetime is converted to UTC.

    Raises
    ------
    XlVarError
        ``value`` is neither a datetime nor a date.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, EXPIRY_TIME)
    raise XlVarError(f"{name} must be a date or datetime (naive times are UTC); got {value!r}")


def year_fraction(start: datetime | date, end: datetime | date, *,
                  start_name: str = "start", end_name: str = "end") -> float:
    r"""ACT/365 (Fixed) year fraction from ``start`` to ``end``, counted in seconds.

    .. math::

        \tau = \frac{(t_1 - t_0)\ \text{in seconds}}{365 \times 86\,400}

    Parameters
    ----------
    start, end : datetime or date
        Naive datetimes are UTC; a date means 08:00 UTC that day (see :func:`as_utc`).
    start_name, end_name : str
        Argument names used in error messages.

    Returns
    -------
    float
        Negative when ``end`` is before ``start``.

    References
    ----------
    ISDA (2006), *ISDA Definitions*, §4.16(d), "Actual/365 (Fixed)".
    """
    seconds = (as_utc(end, end_name) - as_utc(start, start_name)).total_seconds()
    return seconds / _SECONDS_PER_YEAR


class _BadPart(Exception):
    """A part of an instrument name is wrong; :func:`parse_instrument` adds the name."""


def parse_instrument(name: Any) -> Instrument:
    """Read a Deribit instrument name (see the module table).

    Parameters
    ----------
    name : str
        E.g. ``"BTC-PERPETUAL"``, ``"BTC_USDC-27DEC24"``, ``"XRP_USDC-29MAR24-0d6-C"``,
        ``"btc"``; surrounding whitespace and case do not matter.

    Returns
    -------
    Instrument
        The same (cached) object for every spelling of one canonical text.

    Raises
    ------
    XlVarError
        A malformed name or an impossible date, e.g.
        ``"instrument 'BTC-27DEC24-40000-X': option type 'X' must be C or P (e.g. BTC-27DEC24-40000-C)"``.
    """
    if not isinstance(name, str):
        raise XlVarError(f"instrument must be a Deribit instrument name such as BTC-PERPETUAL; got {name!r}")
    text = name.strip().upper()
    if not text:
        raise XlVarError("instrument name is empty: give a Deribit name such as BTC-PERPETUAL or BTC-27DEC24-40000-C")
    try:
        return _parse(text)
    except _BadPart as exc:
        example = _EXAMPLES.get(text.count("-") + 1, "BTC-PERPETUAL or BTC-27DEC24-40000-C")
        raise XlVarError(f"instrument {name.strip()!r}: {exc} (e.g. {example})") from None


@lru_cache(maxsize=65536)
def _parse(text: str) -> Instrument:
    parts = text.split("-")
    if len(parts) == 3:
        raise _BadPart("an option has four parts UNDERLYING-DATE-STRIKE-C/P: the option type is missing")
    if len(parts) > 4:
        raise _BadPart(f"has {len(parts)} parts separated by '-' but a name has 1 (spot), 2 (perpetual, future) "
                       "or 4 (option)")
    underlying, quote = _underlying(parts[0])
    settle = "coin" if quote is None else "usd"
    if len(parts) == 1:
        return Instrument(text, underlying, "spot", settle, quote)
    quote = quote or "USD"
    if len(parts) == 2:
        if parts[1] == "PERPETUAL":
            return Instrument(text, underlying, "perpetual", settle, quote)
        if parts[1] in ("USD", *_QUOTES):
            raise _BadPart(f"spot is written {underlying} or {underlying}_USDC, not with '-{parts[1]}'")
        expiry = _expiry(parts[1])
        return Instrument(f"{parts[0]}-{_date_code(expiry)}", underlying, "future", settle, quote, expiry)
    expiry = _expiry(parts[1])
    strike, strike_code = _strike(parts[2])
    option_type = {"C": "call", "P": "put"}.get(parts[3])
    if option_type is None:
        raise _BadPart(f"option type '{parts[3]}' must be C or P")
    canonical = f"{parts[0]}-{_date_code(expiry)}-{strike_code}-{parts[3]}"
    return Instrument(canonical, underlying, "option", settle, quote, expiry, strike, option_type)


def _underlying(part: str) -> tuple[str, str | None]:
    """(coin, quote) of ``BTC`` (quote ``None``: inverse) or ``BTC_USDC`` / ``BTC_USDT`` (linear)."""
    coin, sep, quote = part.partition("_")
    if not _COIN.fullmatch(coin) or coin.isdigit():
        raise _BadPart(f"underlying '{coin}' must be a coin ticker: 2 to 10 letters or digits, not only digits")
    if not sep:
        return coin, None
    if quote not in _QUOTES:
        raise _BadPart(f"quote '{quote}' after '_' must be USDC or USDT")
    return coin, quote


def _expiry(code: str) -> datetime:
    """08:00 UTC on the day of a Deribit date code such as ``27DEC24`` or ``5JAN24``."""
    match = _DATE.fullmatch(code)
    if match is None:
        raise _BadPart(f"expiry '{code}' must be a date code DMMMYY such as 27DEC24")
    day, month, year = int(match[1]), _MONTHS.get(match[2]), 2000 + int(match[3])
    if month is None:
        raise _BadPart(f"expiry '{code}': month '{match[2]}' must be JAN, FEB, ..., DEC")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise _BadPart(f"expiry '{code}' is not a date: {calendar.month_name[month]} {year} has days 1 to {last}")
    return datetime.combine(date(year, month, day), EXPIRY_TIME)


def _date_code(expiry: datetime) -> str:
    return f"{expiry.day}{calendar.month_abbr[expiry.month].upper()}{expiry.year % 100:02d}"


def _strike(code: str) -> tuple[float, str]:
    """(strike, Deribit spelling) of ``40000``, ``0d6`` or ``0.6``; the strike must be positive."""
    if not _STRIKE.fullmatch(code):
        raise _BadPart(f"strike '{code}' must be a positive number, with 'd' for the decimal point (0d6 = 0.6)")
    value = Decimal(code.replace("D", "."))  # the pattern admits only plain decimals
    if value <= 0:
        raise _BadPart(f"strike '{code}' must be greater than 0")
    return float(value), format(value.normalize(), "f").replace(".", "d")
