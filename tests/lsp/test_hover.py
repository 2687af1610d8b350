"""Issue 3, point 5: hover on a flow id, in code and in flows.yaml; trace text escaped."""

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
    assert "Submit order to broker and await ack" in text
    # parent chain, root first (only what markdown acts on is escaped: no backslashes here)
    assert "premarket/prepare › agent/decision/evaluate › orders/submit" in text
    assert "ack received with order_id" in text  # success criteria
    assert "EXTERNAL.TIMEOUT, EXTERNAL.REJECTED" in text  # failure classes
    assert "**SLA p95:** 1000 ms" in text
    assert "trading/broker.py" in text  # code refs
    assert "✗ 1" in text and "p95" in text
    assert "**last failure:** EXTERNAL.TIMEOUT — no ack from the broker at " \
           "trading/broker.py:" in text


async def test_hover_in_flows_yaml(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    flows = trading_ws / ".autodev" / "flows.yaml"
    line = find_line(flows, '- id: "data/fetch/minute_candles"')
    text = await _hover_when_run(session, flows, line, col(flows, line, "fetch"))
    assert "Fetch minute candles for the active ticker and date" in text
    assert "DATA.EMPTY" in text and "**SLA p95:** 800 ms" in text
    parent = find_line(flows, 'parent: "data/fetch/minute_candles"')
    assert await session.hover(flows, parent, col(flows, parent, "minute")) is not None
    assert await session.hover(flows, 0, 0) is None


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
    # the link-like token is a code span (inert), the bracket escaped, the tag an entity
    assert "\\[run `me](command:workbench.action.terminal.new)`" in text
    prose = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", text)
    assert "](" not in prose and "command:" not in prose and "<img" not in text
    assert "&lt;img" in text


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
    assert "premarket/prepare › agent/decision/evaluate › orders/submit" in text
    assert "\\" not in text and "**" not in text
