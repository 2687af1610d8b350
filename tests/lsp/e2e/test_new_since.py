"""Issue 10, point 7: a failure that is new since the previous run says so in Problems."""

from __future__ import annotations

import shutil
from pathlib import Path

from _lsp_session import Session, find_line
from _lsp_workspaces import EXAMPLE, copy_app, run_app

TRACE = "flowscribe.trace"


async def test_a_failure_new_since_the_previous_run_says_so(session: Session,
                                                            tmp_path: Path) -> None:
    ws = copy_app(EXAMPLE, tmp_path / "trading_app")
    run_app(ws, "--fixed")  # NFLX has its candles: no DATA.EMPTY
    run_app(ws)
    await session.start(ws)
    market = ws / "trading" / "market_data.py"
    [empty] = await session.wait_diagnostics(market, bool, source=TRACE)
    assert "new since the previous run (run " in empty.message
    broker = ws / "trading" / "broker.py"
    [timeout] = await session.wait_diagnostics(broker, bool, source=TRACE)
    assert "new since" not in timeout.message  # it failed the same way before
    # The hover on the flow's marker says it too (and only for the new failure).
    session.open(market)
    line = find_line(market, 'flowscribe.traced("data/fetch/minute_candles"')
    col = market.read_text().splitlines()[line].index("data/fetch") + 2
    text = None
    for _ in range(100):
        text = await session.hover(market, line, col)
        if text and "last failure" in text:
            break
        await session.settle(0.1)
    assert text and "new since run" in text, text
    broker_line = find_line(broker, 'flowscribe.flow("orders/submit"')
    session.open(broker)
    submit = await session.hover(broker, broker_line, broker.read_text().splitlines()[
        broker_line].index("orders/submit") + 2)
    assert submit and "last failure" in submit and "new since" not in submit, submit


async def test_the_first_run_claims_nothing_new(session: Session, tmp_path: Path) -> None:
    ws = copy_app(EXAMPLE, tmp_path / "trading_app")
    shutil.rmtree(ws / ".autodev" / "runs", ignore_errors=True)
    run_app(ws)
    await session.start(ws)
    [empty] = await session.wait_diagnostics(ws / "trading" / "market_data.py", bool,
                                             source=TRACE)
    assert "new since" not in empty.message
