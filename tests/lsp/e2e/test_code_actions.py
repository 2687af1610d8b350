"""Issue 3, point 6: quick fixes for a flow id flows.yaml lacks: use the suggestion, or add
a stub entry to flows.yaml. Applying the edits yields valid code and a valid catalog."""

from __future__ import annotations

from pathlib import Path

from _lsp_session import Session, col, find_line, uri
from lsprotocol import types as lsp

from flowscribe.catalog import parse_catalog


def apply(text: str, edits: list[lsp.TextEdit]) -> str:
    """Apply LSP text edits (ASCII text: characters are code units)."""
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                    reverse=True):
        lines = text.splitlines(keepends=True)

        def offset(p: lsp.Position, lines: list[str] = lines) -> int:
            return sum(len(x) for x in lines[:p.line]) + p.character

        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


async def _actions(session: Session, path: Path, line: int, character: int,
                   diagnostics: list[lsp.Diagnostic]) -> list[lsp.CodeAction]:
    result = await session.client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
        range=lsp.Range(start=lsp.Position(line=line, character=character),
                        end=lsp.Position(line=line, character=character)),
        context=lsp.CodeActionContext(diagnostics=diagnostics)))
    return [a for a in result or [] if isinstance(a, lsp.CodeAction)]


async def test_quick_fixes_for_an_unknown_flow_id(session: Session, shop_ws: Path) -> None:
    await session.start(shop_ws)
    payment = shop_ws / "shop" / "payment.py"
    flows = shop_ws / ".autodev" / "flows.yaml"
    session.open(payment)
    diags = await session.wait_diagnostics(payment, bool, source="flowscribe.catalog")
    line = find_line(payment, '"payment/refnd"')
    use, add = await _actions(session, payment, line, col(payment, line, "refnd"), diags)

    assert use.title == "Use 'payment/refund'" and use.is_preferred
    assert use.kind == lsp.CodeActionKind.QuickFix and use.diagnostics
    assert use.edit is not None and use.edit.changes is not None
    fixed = apply(payment.read_text(), list(use.edit.changes[uri(payment)]))
    assert 'flowscribe.flow("payment/refund")' in fixed

    assert add.title == "Add 'payment/refnd' to flows.yaml"
    assert add.edit is not None and add.edit.changes is not None
    catalog = apply(flows.read_text(), list(add.edit.changes[uri(flows)]))
    parsed = parse_catalog(catalog, flows)
    assert "payment/refnd" in parsed and parsed.problems == []
    assert list(parsed.flows)[-1] == "payment/refnd"  # appended after the last entry
    assert len(parsed) == 9


async def test_no_fixes_for_known_ids(session: Session, shop_ws: Path) -> None:
    await session.start(shop_ws)
    payment = shop_ws / "shop" / "payment.py"
    session.open(payment)
    await session.wait_diagnostics(payment, bool, source="flowscribe.catalog")
    line = find_line(payment, '"payment/charge"')
    assert await _actions(session, payment, line, col(payment, line, "charge"), []) == []


async def test_stub_goes_into_an_empty_flows_list(session: Session, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".autodev").mkdir(parents=True)
    flows = ws / ".autodev" / "flows.yaml"
    flows.write_text("version: 1\nflows: []\n")
    mod = ws / "mod.py"
    mod.write_text('import flowscribe\n\nwith flowscribe.flow("new/flow"):\n    pass\n')
    await session.start(ws)
    session.open(mod)
    diags = await session.wait_diagnostics(mod, bool, source="flowscribe.catalog")
    [add] = await _actions(session, mod, 2, 25, diags)
    assert add.edit is not None and add.edit.changes is not None
    catalog = apply(flows.read_text(), list(add.edit.changes[uri(flows)]))
    parsed = parse_catalog(catalog, flows)
    assert list(parsed.flows) == ["new/flow"] and parsed.problems == []
