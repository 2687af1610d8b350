"""Issue 3, points 1 and 2: failures where they happened, and edits that don't strand them.

Every failure and exception of the latest run is a diagnostic at its recorded line
(range: the line's text without indentation), source ``flowscribe.trace``, code = error
class, with flow/class/reason/evidence in the message, related information, folded
repeats, and data linking run and event. A new run replaces them; paths outside the
workspace are never published. While a file is edited the diagnostics move with their
lines, and say "stale" when the recorded line's text changed.
"""

from __future__ import annotations

from pathlib import Path

from _handmade import event, write_trace
from _lsp_session import Session, find_line, uri
from _lsp_workspaces import run_app
from lsprotocol import types as lsp

TRACE = "flowscribe.trace"


def _text_range(path: Path, line: int) -> lsp.Range:
    text = path.read_text().splitlines()[line]
    return lsp.Range(start=lsp.Position(line=line, character=len(text) - len(text.lstrip())),
                     end=lsp.Position(line=line, character=len(text.rstrip())))


async def test_failures_of_the_example_run_appear_at_their_lines(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    broker = trading_ws / "trading" / "broker.py"
    [d] = await session.wait_diagnostics(broker, bool, source=TRACE)
    assert d.range == _text_range(broker, find_line(broker, 'f.failure("EXTERNAL.TIMEOUT"'))
    assert d.code == "EXTERNAL.TIMEOUT"
    assert d.source == TRACE
    assert d.severity == lsp.DiagnosticSeverity.Error
    first = d.message.splitlines()[0]
    assert first.startswith("EXTERNAL.TIMEOUT no ack from the broker")
    assert first.endswith(" · orders/submit")
    assert "evidence: waited_ms=1000" in d.message
    assert d.data["flowId"] == "orders/submit"
    assert d.data["runId"] == (trading_ws / ".autodev" / "latest").resolve().name
    assert d.data["eventId"] and d.data["instance"]

    market = trading_ws / "trading" / "market_data.py"
    [empty] = await session.wait_diagnostics(market, bool, source=TRACE)
    assert empty.code == "DATA.EMPTY" and "NFLX" in empty.message


async def test_an_exception_links_its_frames_and_flow_start(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    agent = trading_ws / "trading" / "agent.py"
    [d] = await session.wait_diagnostics(agent, bool, source=TRACE)
    assert d.code == "SYSTEM"
    assert d.severity == lsp.DiagnosticSeverity.Error
    first = d.message.splitlines()[0]
    assert first.startswith("ZeroDivisionError: ") and first.endswith(" · agent/decision/evaluate")
    related = {(r.location.uri, r.location.range.start.line): r.message
               for r in d.related_information or []}
    app = trading_ws / "app.py"
    start_line = find_line(app, 'flowscribe.flow("agent/decision/evaluate"')
    assert "started here" in related[(uri(app), start_line)]
    call_line = find_line(app, "agent.evaluate(decide")
    assert "process_ticker" in related[(uri(app), call_line)]


async def test_messages_put_the_class_or_exception_and_reason_first_and_the_flow_after(
        session: Session, shop_example_ws: Path) -> None:
    # Problems shows a message on one narrow row: what went wrong must come first.
    ws = shop_example_ws
    await session.start(ws)
    payments = ws / "shop" / "payments.py"
    [limit] = await session.wait_diagnostics(payments, bool, source=TRACE)
    assert limit.message.splitlines()[0] == \
        "BUSINESS.LIMIT_EXCEEDED amount over the card limit · payments/charge"
    assert limit.code == "BUSINESS.LIMIT_EXCEEDED"
    assert "evidence: amount=1240.0, limit=1000.0" in limit.message

    inventory = ws / "shop" / "inventory.py"
    [timeout] = await session.wait_diagnostics(inventory, bool, source=TRACE)
    assert timeout.message.splitlines()[0] == \
        "TimeoutError: inventory service did not answer in 2s · inventory/reserve"
    assert timeout.code == "SYSTEM"  # the class stays in the code column
    assert timeout.range == _text_range(inventory, find_line(inventory, "raise TimeoutError("))


async def test_repeats_on_one_line_fold_and_caused_by_is_linked(
        session: Session, shop_ws: Path) -> None:
    await session.start(shop_ws)
    inventory = shop_ws / "shop" / "inventory.py"
    [stock] = await session.wait_diagnostics(inventory, bool, source=TRACE)
    assert stock.severity == lsp.DiagnosticSeverity.Warning  # severity "warn"
    # The latest occurrence's reason, the fold's count last.
    assert stock.message.splitlines()[0] == \
        "STOCK.MISSING no plum in stock · inventory/reserve (x3)"
    assert stock.data["count"] == 3

    payment = shop_ws / "shop" / "payment.py"
    [declined] = await session.wait_diagnostics(payment, bool, source=TRACE)
    causes = [r for r in declined.related_information or [] if "caused by" in r.message]
    assert [c.location.uri for c in causes] == [uri(inventory)]
    assert causes[0].location.range == _text_range(
        inventory, find_line(inventory, 'f.failure("STOCK.MISSING"'))
    assert "STOCK.MISSING" in causes[0].message


async def test_min_severity_hides_info_failures_until_asked(
        session: Session, shop_ws: Path, tmp_path: Path) -> None:
    await session.start(shop_ws)
    cart = shop_ws / "shop" / "cart.py"
    diags = await session.wait_diagnostics(cart, bool, source=TRACE)
    assert {d.code for d in diags} == {"SYSTEM"}  # the info-level AUDIT.SKIPPED is hidden

    session.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        settings={"flowscribe": {"diagnostics": {"minSeverity": "info"}}}))
    diags = await session.wait_diagnostics(cart, lambda d: len(d) == 2, source=TRACE)
    audit = next(d for d in diags if d.code == "AUDIT.SKIPPED")
    assert audit.severity == lsp.DiagnosticSeverity.Information


async def test_a_new_run_replaces_the_diagnostics_and_a_fix_clears_them(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    market = trading_ws / "trading" / "market_data.py"
    broker = trading_ws / "trading" / "broker.py"
    [old] = await session.wait_diagnostics(market, bool, source=TRACE)
    run_app(trading_ws, "--fixed")  # NFLX's candles arrive: no DATA.EMPTY this time
    await session.wait_diagnostics(market, lambda d: not d, source=TRACE, what="cleared")
    [timeout] = await session.wait_diagnostics(
        broker, lambda d: bool(d) and d[0].data["runId"] != old.data["runId"], source=TRACE)
    assert timeout.data["runId"] == (trading_ws / ".autodev" / "latest").resolve().name


async def test_paths_outside_the_workspace_or_missing_are_never_published(
        session: Session, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    outside = tmp_path / "outside.py"
    outside.write_text("x = 1\n")
    (ws / "pkg").mkdir(parents=True)
    inside = ws / "pkg" / "mod.py"
    inside.write_text("def f():\n    fail_here()\n")
    events = [
        event(1, "run_start", None, evidence={"root": str(ws)}),
        event(2, "failure", "a/b", file=str(outside), line=1),
        event(3, "failure", "a/b", file="../outside.py", line=1),
        event(4, "failure", "a/b", file="/etc/hosts", line=1),
        event(5, "failure", "a/b", file="pkg/gone.py", line=1),
        event(6, "failure", "a/b", file="pkg/mod.py", line=2),
    ]
    write_trace(ws, events)
    await session.start(ws)
    [d] = await session.wait_diagnostics(inside, bool, source=TRACE)
    assert d.range == _text_range(inside, 1)
    await session.settle(0.5)
    published = set(session.client.diagnostics)
    assert published <= {uri(p) for p in ws.rglob("*")}
    assert uri(outside) not in published and "file:///etc/hosts" not in published
    assert "4 failure(s) point at files that are missing or outside" in session.log_text()


async def test_edits_move_diagnostics_with_their_lines(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    broker = trading_ws / "trading" / "broker.py"
    line = find_line(broker, 'f.failure("EXTERNAL.TIMEOUT"')
    await session.wait_diagnostics(broker, bool, source=TRACE)
    session.open(broker)
    session.edit(broker, (0, 0), (0, 0), "# one\n# two\n")  # two lines above
    [d] = await session.wait_diagnostics(
        broker, lambda d: bool(d) and d[0].range.start.line == line + 2, source=TRACE)
    assert "stale" not in d.message and d.data["stale"] is False

    # Enter at the start of the line pushes the line's content down with it.
    indent = d.range.start.character
    session.edit(broker, (line + 2, 0), (line + 2, 0), "\n")
    await session.wait_diagnostics(
        broker, lambda d: bool(d) and d[0].range.start.line == line + 3, source=TRACE)

    session.edit(broker, (0, 0), (2, 0), "")  # and back up
    [d] = await session.wait_diagnostics(
        broker, lambda d: bool(d) and d[0].range.start.line == line + 1, source=TRACE)
    assert d.range.start.character == indent


async def test_changing_the_recorded_line_marks_it_stale(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    broker = trading_ws / "trading" / "broker.py"
    line = find_line(broker, 'f.failure("EXTERNAL.TIMEOUT"')
    await session.wait_diagnostics(broker, bool, source=TRACE)
    session.open(broker)
    text = broker.read_text().splitlines()[line]
    at = text.index("EXTERNAL.TIMEOUT")
    session.edit(broker, (line, at), (line, at + len("EXTERNAL.TIMEOUT")), "EXTERNAL.SLOW")
    [d] = await session.wait_diagnostics(
        broker, lambda d: bool(d) and d[0].data["stale"], source=TRACE)
    assert d.range.start.line == line
    assert "stale" in d.message.splitlines()[-1]

    # Undo: the text matches again, the diagnostic is current again.
    session.edit(broker, (line, at), (line, at + len("EXTERNAL.SLOW")), "EXTERNAL.TIMEOUT")
    await session.wait_diagnostics(
        broker, lambda d: bool(d) and not d[0].data["stale"], source=TRACE)


async def test_the_next_run_puts_moved_diagnostics_back_at_recorded_lines(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    broker = trading_ws / "trading" / "broker.py"
    await session.wait_diagnostics(broker, bool, source=TRACE)
    session.open(broker)
    session.edit(broker, (0, 0), (0, 0), "# a comment\n")
    new_text = "# a comment\n" + broker.read_text()
    line = find_line(broker, 'f.failure("EXTERNAL.TIMEOUT"')
    await session.wait_diagnostics(
        broker, lambda d: bool(d) and d[0].range.start.line == line + 1, source=TRACE)
    broker.write_text(new_text)  # saved, and the app runs again with the new line numbers
    run_app(trading_ws)
    [d] = await session.wait_diagnostics(
        broker, lambda d: bool(d) and d[0].data["recordedLine"] == line + 2, source=TRACE)
    assert d.range.start.line == line + 1 and not d.data["stale"]



async def test_a_workspace_opened_through_a_symlink_gets_the_clients_paths(
        session: Session, trading_ws: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(trading_ws, target_is_directory=True)
    await session.start(link)
    broker = link / "trading" / "broker.py"
    await session.wait_diagnostics(broker, bool, source=TRACE)
    assert uri(trading_ws / "trading" / "broker.py") not in session.client.diagnostics


async def test_a_secret_in_a_trace_the_runtime_did_not_write_is_never_shown(
        session: Session, tmp_path: Path) -> None:
    # A trace from an older version or another tool: the reason and evidence hold secrets
    # the runtime would have redacted. Problems and the hover redact them again.
    ws = tmp_path / "ws"
    ws.mkdir()
    mod = ws / "mod.py"
    mod.write_text("import flowscribe\nwith flowscribe.flow('a/b') as f:\n"
                   "    f.failure('X.Y', 'r')\n")
    write_trace(ws, [
        event(1, "run_start", None, evidence={"root": str(ws)}),
        event(2, "failure", "a/b", file="mod.py", line=3,
              reason="password hunter2-very-secret, token=abcDEF123456",
              evidence={"api_key": "k-987654321", "note": "Bearer eyJhbGciOi.eyJzdWIi.sig"}),
    ])
    await session.start(ws)
    [d] = await session.wait_diagnostics(mod, bool, source=TRACE)
    hover = ""
    for _ in range(50):
        hover = await session.hover(mod, 1, 22) or ""
        if "X.Y" in hover:
            break
        await session.settle(0.1)
    assert "X.Y" in hover
    for secret in ("hunter2-very-secret", "abcDEF123456", "k-987654321", "eyJzdWIi"):
        assert secret not in d.message and secret not in hover, (d.message, hover)
    assert "password [REDACTED]" in d.message
