"""What every real-editor test opens and looks for: the example trading app after a real run,
with non-ASCII text put before the flow id and before the failure on their lines (é is 2
UTF-8 bytes and 1 UTF-16 unit, 🎉 4 bytes and 2 units), where a server counting in the
wrong units lands short."""

from __future__ import annotations

from pathlib import Path

FLOW = "orders/submit"
#: The broker's marker and failure lines, and what they become.
MARKER = '    with flowscribe.flow("orders/submit", ticker=ticker) as f:\n'
MARKER_NOW = ('    label = "naïve 🎉"; order = flowscribe.flow("orders/submit", ticker=ticker)\n'
              '    with order as f:\n')
FAILURE = '            f.failure("EXTERNAL.TIMEOUT"'
FAILURE_NOW = '            note = "café ☕"; f.failure("EXTERNAL.TIMEOUT"'


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def find(lines: list[str], needle: str) -> int:
    """0-based index of the first line containing ``needle``."""
    return next(n for n, text in enumerate(lines) if needle in text)
