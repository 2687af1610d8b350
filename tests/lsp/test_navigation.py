"""Issue 3, point 7: definition, references, completion, document and workspace symbols."""

from __future__ import annotations

from pathlib import Path

from _lsp_session import Session, col, find_line, uri
from lsprotocol import types as lsp


def _pos(path: Path, needle: str, within: str = "", offset: int = 1) -> lsp.Position:
    line = find_line(path, within or needle)
    return lsp.Position(line=line, character=col(path, line, needle) + offset)


async def test_definition_goes_from_code_to_the_catalog_entry(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    broker = trading_ws / "trading" / "broker.py"
    flows = trading_ws / ".autodev" / "flows.yaml"
    session.open(broker)
    result = await session.client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(broker)),
        position=_pos(broker, "orders/submit", 'flowscribe.flow("orders/submit"')))
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
        position=_pos(flows, "agent/decision/evaluate", 'parent: "agent/decision/evaluate"')))
    assert isinstance(result, list)
    assert result[0].range.start.line == find_line(flows, '- id: "agent/decision/evaluate"')


async def test_references_from_the_catalog_find_every_marker(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    flows = trading_ws / ".autodev" / "flows.yaml"
    app = trading_ws / "app.py"
    pos = _pos(flows, "data/fetch/minute_candles", '- id: "data/fetch/minute_candles"')

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
        (uri(app), find_line(app, 'flowscribe.flow("data/fetch/minute_candles"'))]
    with_decl = await refs(True)
    assert with_decl[0].uri == uri(flows) and with_decl[1:] == found


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
