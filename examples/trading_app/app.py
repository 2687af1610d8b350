"""A small trading day, traced with flowscribe: the example to read first.

    python app.py            # a day with three deliberate problems
    python app.py --fixed    # the same day with the missing NFLX candles fixed

Six tickers go through the same pipeline, three at a time in worker threads:

    premarket/prepare                      (main thread, wraps the whole day)
      data/fetch/minute_candles            one per ticker, @flowscribe.traced(capture_args=True)
      indicators/ema/compute               one per ticker, @flowscribe.traced
      agent/decision/evaluate              one per ticker
        orders/submit                      when the agent wants to trade

What goes wrong, on purpose and always the same way:

- NFLX has no candles today: ``DATA.EMPTY`` in data/fetch/minute_candles
  (``--fixed``, or ``TRADING_APP_FIXED=1``, makes the feed deliver them);
- the broker never acknowledges the AMZN order: ``EXTERNAL.TIMEOUT`` in orders/submit;
- TSLA was halted all day, every candle has the same price, and the agent divides by the
  day's range: a ``ZeroDivisionError`` escapes agent/decision/evaluate.

After the run, read ``.autodev/summary.md`` and ``.autodev/ask.md``, or run
``flowscribe runs`` and ``flowscribe tail`` here. The flows are declared in
``.autodev/flows.yaml``; what is recorded and written is set in ``.autodev/ra.yaml``.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from trading import agent, broker, indicators, market_data, premarket

import flowscribe

HERE = Path(__file__).resolve().parent
TICKERS = ["AAPL", "MSFT", "NVDA", "NFLX", "AMZN", "TSLA"]
DAY = "2026-11-25"


def process_ticker(ticker: str, fixed: bool) -> str:
    """One ticker's pipeline, run in a worker thread. Returns a line for the report."""
    candles = market_data.fetch_minute_candles(ticker, DAY, fixed=fixed)
    if not candles:
        return "no data"
    ema = indicators.compute_ema(ticker, candles)
    rsi = indicators.compute_rsi(ticker, candles)  # disabled in flows.yaml: no events

    with flowscribe.flow("agent/decision/evaluate", ticker=ticker) as decide:
        decision = agent.evaluate(decide, candles, ema, rsi)
        if decision.action == "hold":
            return f"hold (score {decision.score:.2f})"
        ack = broker.submit_order(ticker, decision)  # a child flow of the decision
    return f"{decision.action}: " + (f"order {ack}" if ack else "no ack from the broker")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fixed", action="store_true", help="the feed delivers NFLX's candles (no DATA.EMPTY)"
    )
    args = parser.parse_args(argv)
    fixed = args.fixed or os.environ.get("TRADING_APP_FIXED") == "1"

    # One session per run: reads .autodev/ra.yaml and flows.yaml under root (default: the
    # current directory), and writes the run's artifacts into that .autodev/.
    flowscribe.init(app_name="trading-app", mode="sim", tags=["demo", "sim"], root=HERE)
    problems = 0
    with flowscribe.flow("premarket/prepare", date=DAY) as prep:
        premarket.prepare(prep, DAY, TICKERS)
        # Worker threads start with an empty context: flowscribe.wrap carries the open
        # premarket flow into them, so each ticker's flows are its children.
        work = flowscribe.wrap(process_ticker)
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="ticker") as pool:
            futures = {t: pool.submit(work, t, fixed) for t in TICKERS}
        for ticker, future in futures.items():
            try:
                outcome = future.result()
            except Exception as exc:  # recorded by flowscribe where it was raised
                outcome = f"crashed: {type(exc).__name__}: {exc}"
            if not outcome.startswith(("hold", "buy: order", "sell: order")):
                problems += 1
            print(f"{ticker:5} {outcome}")

    # Writes the summary event, .autodev/summary.md and ask.md (also done at exit).
    flowscribe.end_session()
    print(f"\n{problems} of {len(TICKERS)} tickers had problems; see .autodev/summary.md")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
