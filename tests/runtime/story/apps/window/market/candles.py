"""Minute candles from the (simulated) feed, within a window."""

from flowscribe.core import Flow


def fetch(flow: Flow, ticker: str, window: tuple[int, int]) -> list[int]:
    start, end = window
    got = list(range(start, end))
    flow.checkpoint("fetched", rows=len(got), source="sim")
    flow.success("candles fetched", rows=len(got))
    return got
