"""Issue 3, point 1: every failure and exception of the latest run is a diagnostic where
it happened; a new run replaces them; paths outside the workspace are never published."""

from __future__ import annotations

from pathlib import Path

from _lsp_session import Session, find_line
from lsprotocol import types as lsp


async def test_failures_of_the_example_run_appear_at_their_lines(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    broker = trading_ws / "trading" / "broker.py"
    diags = await session.wait_diagnostics(broker, bool, source="flowscribe.trace")
    [d] = diags
    line = find_line(broker, 'f.failure("EXTERNAL.TIMEOUT"')
    text = broker.read_text().splitlines()[line]
    assert d.range.start == lsp.Position(line=line, character=len(text) - len(text.lstrip()))
    assert d.range.end == lsp.Position(line=line, character=len(text.rstrip()))
    assert d.code == "EXTERNAL.TIMEOUT"
    assert d.severity == lsp.DiagnosticSeverity.Error
    assert "orders/submit" in d.message and "no ack from the broker" in d.message
    assert "waited_ms=1000" in d.message
    assert d.data["flowId"] == "orders/submit"
    assert d.data["runId"] and d.data["eventId"] and d.data["instance"]
