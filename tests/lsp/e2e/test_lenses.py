"""Issue 3, point 4: a code lens over every marker call with a literal flow id, showing
the flow's latest outcome, that asks the client to reveal the flow when clicked."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _lsp_session import Session, find_line
from _lsp_workspaces import EXAMPLE, copy_app, run_app

LENS = re.compile(
    r"^(?P<id>\S+)  ✓ (?P<ok>\d+)  ✗ (?P<ko>\d+)(?:  \d+ unfinished)?"
    r"(?:  p95 (?P<p95>[\d.]+) ms(?: \(SLA (?P<sla>[\d.]+) ms\))?)?(?:  last: (?P<last>\S+))?$")


async def _wait_lenses(session: Session, path: Path, ready: str = "✓") -> list:
    async def titles() -> list:
        return await session.lenses(path)

    for _ in range(400):
        lenses = await titles()
        if lenses and all(ready in (lens.command.title if lens.command else "")
                          for lens in lenses):
            return lenses
        await session.settle(0.05)
    raise AssertionError(f"lenses on {path.name} never showed {ready!r}: {lenses}")


async def test_lenses_show_the_latest_outcome_and_reveal_the_flow(
        session: Session, trading_ws: Path) -> None:
    # As the VS Code extension starts it: it runs flowscribe.revealFlow itself.
    await session.start(trading_ws, options={"clientCommands": ["flowscribe.revealFlow"]})
    broker = trading_ws / "trading" / "broker.py"
    session.open(broker)
    [lens] = await _wait_lenses(session, broker)
    assert lens.range.start.line == find_line(broker, 'flowscribe.flow("orders/submit"')
    assert lens.command is not None
    assert lens.command.command == "flowscribe.revealFlow"
    assert list(lens.command.arguments or []) == ["orders/submit"]
    m = LENS.match(lens.command.title)
    assert m, lens.command.title
    # The example submits orders for the tickers the agent trades; AMZN's times out.
    assert m["id"] == "orders/submit" and int(m["ko"]) == 1 and int(m["ok"]) >= 1
    assert m["sla"] == "1000" and m["last"] == "EXTERNAL.TIMEOUT" and m["p95"]


async def test_a_client_that_shows_timelines_gets_a_timeline_lens_per_marker(
        session: Session, trading_ws: Path) -> None:
    """Issue 14 §1: the Run Timeline opens from a lens, filtered to the lens's flow (only
    for a client that says it runs flowscribe.showTimeline)."""
    await session.start(trading_ws, options={
        "clientCommands": ["flowscribe.revealFlow", "flowscribe.showTimeline"]})
    broker = trading_ws / "trading" / "broker.py"
    session.open(broker)
    for _ in range(400):
        lenses = await session.lenses(broker)
        if lenses and "✓" in (lenses[0].command.title if lenses[0].command else ""):
            break
        await session.settle(0.05)
    outcome, timeline = lenses
    assert outcome.command is not None and outcome.command.command == "flowscribe.revealFlow"
    assert timeline.range == outcome.range and timeline.command is not None
    assert timeline.command.command == "flowscribe.showTimeline"
    assert timeline.command.title == "$(graph-line) timeline"
    [arg] = timeline.command.arguments or []
    assert arg["flow"] == "orders/submit" and arg["workspaceFolder"].startswith("file://")


async def test_lenses_name_an_exceptions_type_and_count_orphans_apart(
        session: Session, shop_example_ws: Path) -> None:
    ws = shop_example_ws
    await session.start(ws)
    titles: dict[str, str] = {}
    for path in (ws / "app.py", ws / "shop" / "inventory.py", ws / "shop" / "payments.py",
                 ws / "shop" / "notifications.py"):
        session.open(path)
        titles.update((lens.command.arguments[0], lens.command.title)
                      for lens in await _wait_lenses(session, path))
    reserve = titles["inventory/reserve"]
    assert reserve.startswith("inventory/reserve  ✓ 4  ✗ 1  p95 ") and \
        reserve.endswith(" (SLA 2000 ms)  last: TimeoutError"), reserve  # not "last: SYSTEM"
    assert titles["payments/charge"].endswith("  last: BUSINESS.LIMIT_EXCEEDED")
    # As summary.md counts them: one checkout ended with no verdict, three e-mails were
    # still open when the run ended.
    assert titles["orders/checkout"].startswith("orders/checkout  ✓ 3  ✗ 1  1 unfinished  p95 ")
    assert titles["notifications/email"] == "notifications/email  ✓ 0  ✗ 0  3 orphaned"


#: examples/shop's lenses, as summary.md counts the run (see the test above).
SHOP_TITLES = {
    "payments/charge": re.compile(r"^payments/charge  ✓ \d+  ✗ [1-9]\d*.*  last: "
                                  r"BUSINESS\.LIMIT_EXCEEDED$"),
    "inventory/reserve": re.compile(r"^inventory/reserve  ✓ 4  ✗ 1  p95 [\d.]+ ms "
                                    r"\(SLA 2000 ms\)  last: TimeoutError$"),
    "orders/checkout": re.compile(r"^orders/checkout  ✓ 3  ✗ 1  1 unfinished  p95 "),
    "notifications/email": re.compile(r"^notifications/email  ✓ 0  ✗ 0  3 orphaned$"),
}


def _spoil_saved_aggregate(ws: Path, how: str) -> None:
    """The run's aggregate.json, as the runtime wrote it or spoilt in one way."""
    [saved] = (ws / ".autodev" / "runs").glob("*/aggregate.json")
    doc = json.loads(saved.read_text())
    if how == "missing":
        saved.unlink()
    elif how == "corrupt":
        saved.write_bytes(saved.read_bytes()[:200])
    elif how == "hostile":  # the right shape with values of the wrong kinds
        for flow in doc["aggregate"]["flows"]:
            flow.update(passed="999", failed=-1, durations={"count": 1e300})
        saved.write_text(json.dumps(doc))
    elif how == "stale":  # saved from another trace than the one now there
        doc["trace"]["sha256_sampled"] = "0" * 64
        for flow in doc["aggregate"]["flows"]:
            flow["passed"] += 100
        saved.write_text(json.dumps(doc))


@pytest.mark.parametrize("how", ["as written", "missing", "corrupt", "hostile", "stale"])
async def test_lenses_from_the_saved_aggregate_match_the_folded_trace(
        session: Session, shop_example_ws: Path, how: str) -> None:
    ws = shop_example_ws
    _spoil_saved_aggregate(ws, how)
    await session.start(ws)
    titles: dict[str, str] = {}
    for path in (ws / "app.py", ws / "shop" / "inventory.py", ws / "shop" / "payments.py",
                 ws / "shop" / "notifications.py"):
        session.open(path)
        titles.update((lens.command.arguments[0], lens.command.title)
                      for lens in await _wait_lenses(session, path))
    for flow_id, title in SHOP_TITLES.items():
        assert title.match(titles[flow_id]), (how, titles[flow_id])
    assert "Traceback" not in session.log_text() and "failed" not in session.log_text()


async def test_a_decorator_and_every_marker_in_a_file_get_lenses(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    indicators = trading_ws / "trading" / "indicators.py"
    app = trading_ws / "app.py"
    market = trading_ws / "trading" / "market_data.py"
    for path in (indicators, app, market):
        session.open(path)
    lenses = await _wait_lenses(session, app)
    ids = {lens.command.arguments[0] for lens in lenses}
    assert {"premarket/prepare", "agent/decision/evaluate"} <= ids
    [fetch] = await _wait_lenses(session, market)  # a decorator with keyword arguments
    assert fetch.command.arguments[0] == "data/fetch/minute_candles"
    assert LENS.match(fetch.command.title) and "last: DATA.EMPTY" in fetch.command.title
    lenses = await session.lenses(indicators)
    by_id = {lens.command.arguments[0]: lens.command.title for lens in lenses}
    assert LENS.match(by_id["indicators/ema/compute"])
    # The disabled flow never records anything.
    assert by_id["indicators/rsi/compute"].endswith("not in the latest run")


async def test_no_runs_yet(session: Session, tmp_path: Path) -> None:
    ws = copy_app(EXAMPLE, tmp_path / "fresh")  # never run
    await session.start(ws)
    broker = ws / "trading" / "broker.py"
    session.open(broker)
    [lens] = await _wait_lenses(session, broker, ready="no runs yet")
    assert lens.command is not None
    assert lens.command.title == "orders/submit  no runs yet"


async def test_lenses_survive_a_syntax_error(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    broker = trading_ws / "trading" / "broker.py"
    text = broker.read_text()
    line = find_line(broker, "def submit_order")
    broken = text.replace("def submit_order(", "def submit_order((")
    session.open(broker, broken)
    [lens] = await _wait_lenses(session, broker)
    assert lens.command is not None and (lens.command.arguments or [])[0] == "orders/submit"
    assert lens.range.start.line == line + 2


async def test_marker_names_are_configurable_and_lenses_can_be_off(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws, options={"markers": ["track"]})
    mod = trading_ws / "trading" / "custom.py"
    mod.write_text('def go(t):\n    with t.track("orders/submit"):\n        pass\n'
                   'flowscribe.flow("orders/submit")\n')
    session.open(mod)
    [lens] = await _wait_lenses(session, mod)
    assert lens.range.start.line == 1

    from lsprotocol import types as lsp
    session.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        settings={"flowscribe": {"markers": ["track"], "lenses": {"enabled": False}}}))
    for _ in range(200):
        if not await session.lenses(mod):
            break
        await session.settle(0.05)
    assert await session.lenses(mod) == []


async def test_lenses_follow_a_new_run(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    app = trading_ws / "trading" / "market_data.py"
    session.open(app)

    def fetch_lens(lenses: list) -> str:
        return next(lens.command.title for lens in lenses
                    if lens.command.arguments[0] == "data/fetch/minute_candles")

    title = fetch_lens(await _wait_lenses(session, app))
    assert "last: DATA.EMPTY" in title
    run_app(trading_ws, "--fixed")
    for _ in range(400):
        title = fetch_lens(await session.lenses(app))
        if "✗ 0" in title:
            break
        await session.settle(0.05)
    assert LENS.match(title) and "✗ 0" in title and "last:" not in title
    # ... and the client was asked to re-request its lenses.
    await session.wait_until(lambda: session.client.lens_refreshes > 0,  # type: ignore[attr-defined]
                             "workspace/codeLens/refresh")


async def test_an_editor_that_asks_only_when_told_sees_the_first_run(
        session: Session, tmp_path: Path) -> None:
    # VS Code asks for a document's lenses when it opens, then again only when the server
    # sends workspace/codeLens/refresh (or the text changes): it never polls. So the lenses
    # of a file opened before the first run must be refreshed when that run shows up.
    ws = copy_app(EXAMPLE, tmp_path / "fresh")  # never run
    await session.start(ws)
    # Start-up ends with a refresh (the index is built): past it, only the run can refresh.
    await session.wait_until(lambda: session.client.lens_refreshes > 0,  # type: ignore[attr-defined]
                             "the start-up's workspace/codeLens/refresh")
    app = ws / "app.py"
    session.open(app)
    answers: list[list[str]] = []

    async def ask() -> int:
        """Ask once, as the editor does; the refreshes counted before asking."""
        asked_after = session.client.lens_refreshes  # type: ignore[attr-defined]
        answers.append([lens.command.title for lens in await session.lenses(app)])
        return asked_after

    asked_after = await ask()
    assert "premarket/prepare  no runs yet" in answers[0], answers
    run_app(ws)
    while not any(t.startswith("premarket/prepare  ✓ 1  ✗ 0") for t in answers[-1]):
        assert len(answers) < 20, f"the lenses never showed the run: {answers}"
        await session.wait_until(
            lambda n=asked_after: session.client.lens_refreshes > n,  # type: ignore[attr-defined]
            f"workspace/codeLens/refresh after the lenses {answers[-1]}")
        asked_after = await ask()
