"""The regular session of the exchange, as minutes of the day."""

from flowscribe.core import Flow

OPEN_LOCAL, CLOSE_LOCAL = 9 * 60 + 30, 16 * 60
UTC_OFFSET_MIN = 60  # the feed's clock runs an hour ahead of the exchange


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def session_window(flow: Flow, bug: bool = False) -> tuple[int, int]:
    start, end = OPEN_LOCAL, CLOSE_LOCAL
    if bug:
        start = start + UTC_OFFSET_MIN  # the bug: the offset is applied to the open only
    flow.checkpoint("window", window={"start": _hhmm(start), "end": _hhmm(end)})
    flow.success("window ready")
    return start, end
