"""agent/decision/evaluate: buy, sell or hold, with a confidence score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowscribe import Flow, NullFlow
from trading.market_data import Candle

THRESHOLD = 0.002  # how far the EMA must have moved from the open to act


@dataclass(frozen=True)
class Decision:
    action: str  # "buy" | "sell" | "hold"
    score: float
    price: float


def evaluate(
    flow: Flow | NullFlow, candles: Sequence[Candle], ema: float, rsi: float
) -> Decision:
    """Compare the EMA of the closes with the day's open; the score scales the move by
    the day's range."""
    day_open = candles[0].open
    high = max(c.high for c in candles)
    low = min(c.low for c in candles)
    flow.checkpoint("inputs", open=round(day_open, 4), ema=round(ema, 4), rsi=round(rsi, 1))
    # A halted ticker trades at one price all day: high == low divides by zero here.
    score = abs(ema - day_open) / (high - low)
    move = (ema - day_open) / day_open
    action = "buy" if move > THRESHOLD else "sell" if move < -THRESHOLD else "hold"
    flow.success(f"{action} with score {score:.2f}", action=action, score=round(score, 3))
    return Decision(action, score, candles[-1].close)
