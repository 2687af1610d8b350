"""indicators/ema/compute: the indicator columns the agent needs."""

from __future__ import annotations

from collections.abc import Sequence

import flowscribe
from trading.market_data import Candle

EMA_SPAN = 9


@flowscribe.traced("indicators/ema/compute")
def compute_ema(ticker: str, candles: Sequence[Candle], span: int = EMA_SPAN) -> float:
    """The exponential moving average of the closes; one flow instance per call.

    ``ticker`` is a correlation key in the catalog, so flowscribe records it for each call.
    """
    alpha = 2 / (span + 1)
    ema = candles[0].close
    for candle in candles[1:]:
        ema = alpha * candle.close + (1 - alpha) * ema
    flowscribe.checkpoint("computed", span=span, rows=len(candles))
    flowscribe.success("ema ready", ema=round(ema, 4))
    return ema


@flowscribe.traced("indicators/rsi/compute")
def compute_rsi(ticker: str, candles: Sequence[Candle]) -> float:
    """Not used by the agent yet; disabled in flows.yaml, so it records nothing."""
    gains = sum(max(0.0, b.close - a.close) for a, b in zip(candles, candles[1:]))
    losses = sum(max(0.0, a.close - b.close) for a, b in zip(candles, candles[1:]))
    flowscribe.success("rsi ready")
    return 100.0 if losses == 0 else 100 - 100 / (1 + gains / losses)
