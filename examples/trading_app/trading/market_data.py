"""data/fetch/minute_candles: a simulated market-data feed (no network)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import flowscribe

MINUTES = 390  # 09:30 to 16:00
BASE_PRICE = {"AAPL": 190.0, "MSFT": 410.0, "NVDA": 480.0, "NFLX": 600.0, "AMZN": 150.0}
#: How far each price moves over the day, in percent.
DRIFT = {"AAPL": 0.6, "MSFT": -0.8, "NVDA": 0.05, "NFLX": 0.3, "AMZN": 0.7}
HALTED = {"TSLA": 240.0}  # ticker -> the one price it traded at all day


@dataclass(frozen=True)
class Candle:
    minute: int
    open: float
    high: float
    low: float
    close: float


def _feed(ticker: str, fixed: bool) -> list[Candle]:
    """What the feed returns: deterministic prices, and nothing for NFLX unless fixed."""
    if ticker == "NFLX" and not fixed:
        return []  # the provider has no data for it today
    if ticker in HALTED:
        price = HALTED[ticker]
        return [Candle(m, price, price, price, price) for m in range(MINUTES)]
    base, drift = BASE_PRICE[ticker], DRIFT[ticker]
    candles = []
    for m in range(MINUTES):
        price = base * (1 + drift / 100 * m / MINUTES + 0.001 * math.sin(m / 7))
        candles.append(Candle(m, price, price * 1.0005, price * 0.9995, price))
    return candles


# capture_args: the call's arguments are recorded in the flow's start (redacted, JSON data
# only), so `flowscribe test-from` can write a test that calls it again with them.
@flowscribe.traced("data/fetch/minute_candles", capture_args=True)
def fetch_minute_candles(ticker: str, date: str, fixed: bool = False) -> list[Candle]:
    """The day's minute candles for ``ticker``; an empty list when there are none.

    ``ticker`` and ``date`` are correlation keys in the catalog, so they are recorded too.
    """
    flowscribe.checkpoint("request", source="sim-feed", day=date)
    candles = _feed(ticker, fixed)
    flowscribe.metric("rows", len(candles), unit="rows")
    if not candles:
        flowscribe.failure("DATA.EMPTY", f"no minute candles for {ticker} on {date}", rows=0)
        return []
    covers = candles[0].minute == 0 and candles[-1].minute == MINUTES - 1
    flowscribe.success("candles cover the session", rows=len(candles), covers_session=covers)
    return candles
