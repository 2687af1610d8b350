"""premarket/prepare: is the market open today, and is everything configured?"""

from __future__ import annotations

import datetime

from flowscribe import Flow, NullFlow

CONFIG = {"max_position": 100, "ema_span": 9, "threshold": 0.002}


def prepare(flow: Flow | NullFlow, day: str, tickers: list[str]) -> None:
    """Check the day and the config; the flow passes when both are fine."""
    weekday = datetime.date.fromisoformat(day).weekday()
    market_day = weekday < 5
    flow.checkpoint("market_day", day=day, weekday=weekday, market_day=market_day)
    if not market_day:
        flow.failure("BUSINESS.MARKET_CLOSED", f"{day} is a weekend", weekday=weekday)
        return
    flow.checkpoint("configs_loaded", keys=sorted(CONFIG), tickers=len(tickers))
    flow.success("market open, config loaded", tickers=len(tickers))
