"""Completion of catalog ids in marker strings and of parents in flows.yaml."""

from __future__ import annotations

from pathlib import Path

from _lsp_session import Session, uri
from lsprotocol import types as lsp


async def test_completion_offers_catalog_ids_inside_marker_strings(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    mod = trading_ws / "trading" / "new.py"
    text = 'import flowscribe\n\nwith flowscribe.flow("ord'
    session.open(mod, text)
    result = await session.client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(mod)),
        position=lsp.Position(line=2, character=len('with flowscribe.flow("ord'))))
    assert isinstance(result, lsp.CompletionList)
    labels = {i.label: i for i in result.items}
    assert "orders/submit" in labels and "indicators/rsi/compute" in labels
    item = labels["orders/submit"]
    assert item.detail == "Submit order to broker and await ack."
    assert isinstance(item.text_edit, lsp.TextEdit)
    assert item.text_edit.range.start == lsp.Position(line=2, character=22)
    assert labels["indicators/rsi/compute"].detail.startswith("(disabled)")

    # Outside a marker string: nothing.
    result = await session.client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(mod)),
        position=lsp.Position(line=0, character=3)))
    assert result is None or not getattr(result, "items", result)


async def test_completion_of_parents_in_flows_yaml(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    flows = trading_ws / ".autodev" / "flows.yaml"
    text = flows.read_text() + '  - id: "x/y"\n    parent: "pre'
    session.open(flows, text, language="yaml")
    last = len(text.splitlines()) - 1
    result = await session.client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(flows)),
        position=lsp.Position(line=last, character=len('    parent: "pre'))))
    assert isinstance(result, lsp.CompletionList)
    assert "premarket/prepare" in {i.label for i in result.items}
