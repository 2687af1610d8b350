"""Document and workspace symbols: the flows of flows.yaml."""

from __future__ import annotations

from pathlib import Path

from _lsp_session import Session, find_line, uri
from lsprotocol import types as lsp


async def test_document_symbols_of_flows_yaml(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    flows = trading_ws / ".autodev" / "flows.yaml"
    result = await session.client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(flows))))
    symbols = [s for s in result or [] if isinstance(s, lsp.DocumentSymbol)]
    assert [s.name for s in symbols] == [
        "premarket/prepare", "data/fetch/minute_candles", "indicators/ema/compute",
        "indicators/rsi/compute", "agent/decision/evaluate", "orders/submit"]
    orders = symbols[-1]
    assert orders.selection_range.start.line == find_line(flows, '- id: "orders/submit"')
    assert orders.range.start.line <= orders.selection_range.start.line
    assert orders.range.end.line >= find_line(flows, '"trading/broker.py"')
    assert orders.detail == "Submit order to broker and await ack."


async def test_workspace_symbols_find_flows(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    result = await session.client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="ind"))
    names = {s.name for s in result or []}
    assert {"indicators/ema/compute", "indicators/rsi/compute"} <= names
    assert "orders/submit" not in names
