"""Issue 3, point 5: hover on a flow id, in code and in flows.yaml; trace text inert.
Issue 7, point 6 and issue 13: compact (a few lines, most important first), the run by its
time, ids in code spans, and no backslashes where markdown needs none (Neovim shows them)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from _lsp_session import Session, col, find_line
from _lsp_workspaces import run_app
from lsprotocol import types as lsp


async def _hover_when_run(session: Session, path: Path, line: int, character: int) -> str:
    for _ in range(400):
        text = await session.hover(path, line, character)
        if text and "latest run" in text and "reading trace" not in text:
            return text
        await session.settle(0.05)
    raise AssertionError(f"no hover with run results: {text}")


async def test_hover_in_code_shows_catalog_and_latest_run(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    broker = trading_ws / "trading" / "broker.py"
    session.open(broker)
    line = find_line(broker, 'flowscribe.flow("orders/submit"')
    text = await _hover_when_run(session, broker, line, col(broker, line, "orders/") + 3)
    lines = text.split("  \n")
    # Most important first: what the flow is, then what the latest run did.
    assert lines[0] == "**`orders/submit`** — Submit order to broker and await ack."
    run = re.fullmatch(r"latest run (\d\d:\d\d:\d\d) · ✓ (\d+)  ✗ 1  p95 [\d.]+ ms "
                       r"\(SLA 1000 ms\)  last: EXTERNAL\.TIMEOUT", lines[1])
    assert run, lines[1]
    fail_line = find_line(broker, 'f.failure("EXTERNAL.TIMEOUT"') + 1
    assert lines[2] == ("last failure: `EXTERNAL.TIMEOUT` no ack from the broker at "
                        f"`trading/broker.py:{fail_line}`")
    assert lines[3] == "parent: `premarket/prepare` › `agent/decision/evaluate`"
    assert lines[4] == ("success: ack received with order_id · "
                        "fails as: `EXTERNAL.TIMEOUT`, `EXTERNAL.REJECTED`")
    assert len(lines) == 5 and "\n\n" not in text  # compact: no blank lines between
    # The time, not the raw run id; and nothing escaped that needs no escaping.
    run_id = (trading_ws / ".autodev" / "latest").resolve().name
    assert run_id not in text and "\\" not in text


async def test_hover_in_flows_yaml(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    flows = trading_ws / ".autodev" / "flows.yaml"
    line = find_line(flows, '- id: "data/fetch/minute_candles"')
    text = await _hover_when_run(session, flows, line, col(flows, line, "fetch"))
    assert text.startswith("**`data/fetch/minute_candles`** — Fetch minute candles for the "
                           "active ticker and date.")
    assert "(SLA 800 ms)" in text and "last failure: `DATA.EMPTY` no minute candles" in text
    # Brackets and ">=" in catalog text make no link and need no backslash.
    assert "success: rows >= 300 (+1 more)" in text
    assert "fails as: `DATA.EMPTY`, `EXTERNAL.4xx`, `EXTERNAL.5xx` +1" in text
    parent = find_line(flows, 'parent: "data/fetch/minute_candles"')
    assert await session.hover(flows, parent, col(flows, parent, "minute")) is not None
    assert await session.hover(flows, 0, 0) is None
    disabled = find_line(flows, '- id: "indicators/rsi/compute"')
    text = await _hover_when_run(session, flows, disabled, col(flows, disabled, "rsi"))
    assert text.split("  \n")[0] == (
        "**`indicators/rsi/compute`** — Relative strength index (not used by the agent yet)."
        " · disabled in flows.yaml")
    assert "not in the latest run" in text


async def test_nothing_from_a_trace_becomes_a_link_or_html(
        session: Session, tmp_path: Path) -> None:
    ws = tmp_path / "evil"
    ws.mkdir()
    (ws / "app.py").write_text(textwrap.dedent('''\
        import flowscribe

        flowscribe.init(app_name="evil", root=".")
        with flowscribe.flow("evil/flow") as f:
            f.failure("X.Y", "[run me](command:workbench.action.terminal.new) "
                             "<img src=x onerror=alert(1)>")
        flowscribe.end_session()
        '''))
    (ws / ".autodev").mkdir()
    (ws / ".autodev" / "ra.yaml").write_text("version: 1\nprofile: all\n")
    run_app(ws)
    app = ws / "app.py"
    session.open(app)
    await session.start(ws)
    line = find_line(app, 'flowscribe.flow("evil/flow")')
    text = await _hover_when_run(session, app, line, col(app, line, "evil/"))
    assert "run me" in text
    # No unescaped "](" (a link) or "<" (a tag): only those characters are escaped.
    assert not re.search(r"(?<!\\)\]\(", text) and not re.search(r"(?<!\\)<", text)
    assert "[run me\\](command:workbench.action.terminal.new) \\<img src=x" in text


async def test_plain_text_for_a_client_without_markdown(
        session: Session, trading_ws: Path) -> None:
    caps = lsp.ClientCapabilities(text_document=lsp.TextDocumentClientCapabilities(
        hover=lsp.HoverClientCapabilities(content_format=[lsp.MarkupKind.PlainText])))
    await session.start(trading_ws, capabilities=caps)
    broker = trading_ws / "trading" / "broker.py"
    session.open(broker)
    line = find_line(broker, 'flowscribe.flow("orders/submit"')
    result = await session.client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=broker.as_uri()),
        position=lsp.Position(line=line, character=col(broker, line, "orders/") + 2)))
    assert result is not None and isinstance(result.contents, lsp.MarkupContent)
    assert result.contents.kind == lsp.MarkupKind.PlainText
    text = result.contents.value
    assert text.startswith("orders/submit — Submit order to broker and await ack.\n")
    assert "\nparent: premarket/prepare › agent/decision/evaluate\n" in text
    assert "\\" not in text and "**" not in text and "`" not in text
