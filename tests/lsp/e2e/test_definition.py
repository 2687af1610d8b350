"""Definition and references: from a marker to its catalog entry and back."""

from __future__ import annotations

from pathlib import Path

from _lsp_session import Session, col, find_line, position_of, uri
from lsprotocol import types as lsp


async def test_definition_goes_from_code_to_the_catalog_entry(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    broker = trading_ws / "trading" / "broker.py"
    flows = trading_ws / ".autodev" / "flows.yaml"
    session.open(broker)
    result = await session.client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(broker)),
        position=position_of(broker, "orders/submit", 'flowscribe.flow("orders/submit"')))
    assert isinstance(result, list)
    [loc] = result
    assert isinstance(loc, lsp.Location)
    line = find_line(flows, '- id: "orders/submit"')
    start = col(flows, line, "orders/submit")
    assert loc.uri == uri(flows)
    assert loc.range == lsp.Range(start=lsp.Position(line=line, character=start),
                                  end=lsp.Position(line=line, character=start + 13))

    # ... and from a parent in flows.yaml to that parent's entry.
    result = await session.client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(flows)),
        position=position_of(flows, "agent/decision/evaluate",
                             'parent: "agent/decision/evaluate"')))
    assert isinstance(result, list)
    assert result[0].range.start.line == find_line(flows, '- id: "agent/decision/evaluate"')


async def test_references_from_the_catalog_find_every_marker(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    flows = trading_ws / ".autodev" / "flows.yaml"
    market = trading_ws / "trading" / "market_data.py"
    pos = position_of(flows, "data/fetch/minute_candles", '- id: "data/fetch/minute_candles"')

    async def refs(include: bool) -> list[lsp.Location]:
        result = await session.client.text_document_references_async(lsp.ReferenceParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(flows)), position=pos,
            context=lsp.ReferenceContext(include_declaration=include)))
        return list(result or [])

    found = await refs(False)
    for _ in range(100):  # the workspace scan runs in the background
        if found:
            break
        await session.settle(0.05)
        found = await refs(False)
    assert [(r.uri, r.range.start.line) for r in found] == [
        (uri(market), find_line(market, 'flowscribe.traced("data/fetch/minute_candles"'))]
    with_decl = await refs(True)
    assert with_decl[0].uri == uri(flows) and with_decl[1:] == found
