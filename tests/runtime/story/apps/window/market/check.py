"""Checks on what the feed delivered."""

from flowscribe.core import Flow

OPEN = 9 * 60 + 30


def covers_open(flow: Flow, minutes: list[int]) -> bool:
    first = minutes[0] if minutes else None
    if first != OPEN:
        flow.failure("CONTRACT.VALIDATION", "candles do not cover the open",
                     first_minute=first, expected=OPEN)
        return False
    flow.success("session covered", rows=len(minutes))
    return True
