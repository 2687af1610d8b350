"""Minute candles for the regular session, checked for coverage.

    python main.py [--bug] [--busy]

Root cause with --bug (written down before running): ``market/hours.py`` adds the UTC
offset twice when it turns the exchange's local open into the session window, so the
window starts at 10:30 instead of 09:30; ``market/check.py`` detects that the candles do
not cover the open (CONTRACT.VALIDATION).
"""

import sys

from market import candles, check, hours

import flowscribe


def day(ticker: str, bug: bool) -> None:
    with flowscribe.flow("session/candles", ticker=ticker):
        with flowscribe.flow("session/window", ticker=ticker) as f:
            window = hours.session_window(f, bug=bug)
        with flowscribe.flow("session/fetch", ticker=ticker) as f:
            got = candles.fetch(f, ticker, window)
        with flowscribe.flow("session/check", ticker=ticker) as f:
            check.covers_open(f, got)


def main() -> int:
    bug, busy = "--bug" in sys.argv, "--busy" in sys.argv
    flowscribe.init(app_name="session-candles", mode="dev")
    tickers = [f"T{n:02d}" for n in range(40)] if busy else []
    for t in tickers[:20]:
        day(t, bug=False)
    day("NFLX", bug=bug)
    for t in tickers[20:]:
        day(t, bug=False)
    flowscribe.end_session()
    return 0


if __name__ == "__main__":
    sys.exit(main())
