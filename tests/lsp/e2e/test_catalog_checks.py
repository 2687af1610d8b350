"""Issue 3, point 6: code and catalog checked against each other (``flowscribe.catalog``).

Unknown flow ids in code (Warning, did you mean), disabled flows used in code (Hint),
flows.yaml's own problems at their exact positions, catalog flows no code uses
(Information), and ra.yaml's problems likewise. YAML tags that would run code are
rejected, never executed.
"""

from __future__ import annotations

from pathlib import Path

from _lsp_session import Session, col, find_line
from lsprotocol import types as lsp

from flowscribe.catalog import parse_catalog

CATALOG = "flowscribe.catalog"


async def test_unknown_and_disabled_flow_ids_in_code(session: Session, shop_ws: Path) -> None:
    await session.start(shop_ws)
    payment = shop_ws / "shop" / "payment.py"
    [unknown] = await session.wait_diagnostics(payment, bool, source=CATALOG)
    line = find_line(payment, 'flowscribe.flow("payment/refnd")')
    start = col(payment, line, "payment/refnd")
    assert unknown.range == lsp.Range(start=lsp.Position(line=line, character=start),
                                      end=lsp.Position(line=line, character=start + 13))
    assert unknown.severity == lsp.DiagnosticSeverity.Warning
    assert unknown.code == "unknown-flow"
    assert "did you mean 'payment/refund'?" in unknown.message
    assert unknown.data["suggestion"] == "payment/refund"

    app = shop_ws / "app.py"
    [disabled] = await session.wait_diagnostics(app, bool, source=CATALOG)
    assert disabled.severity == lsp.DiagnosticSeverity.Hint
    assert disabled.code == "disabled-flow" and "shop/legacy" in disabled.message
    assert disabled.range.start.line == find_line(app, 'flowscribe.flow("shop/legacy")')


async def test_catalog_flows_no_code_uses_are_information(
        session: Session, shop_ws: Path) -> None:
    await session.start(shop_ws)
    flows = shop_ws / ".autodev" / "flows.yaml"
    diags = await session.wait_diagnostics(
        flows, lambda d: any(x.code == "unreferenced-flow" for x in d), source=CATALOG)
    unused = {d.data["flowId"]: d for d in diags if d.code == "unreferenced-flow"}
    # payment/refund is named only by a typo ("payment/refnd"); shop/returns by nothing.
    assert set(unused) == {"shop/returns", "payment/refund"}
    d = unused["shop/returns"]
    line = find_line(flows, '- id: "shop/returns"')
    assert d.severity == lsp.DiagnosticSeverity.Information
    assert d.range.start == lsp.Position(line=line, character=col(flows, line, '"shop'))


async def test_a_disabled_flow_no_code_uses_is_not_reported_unused(
        session: Session, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".autodev").mkdir(parents=True)
    (ws / ".autodev" / "flows.yaml").write_text(
        'version: 1\nflows:\n  - id: "a/used"\n  - id: "b/unused"\n'
        '  - id: "c/planned"\n    enabled: false\n')
    (ws / "app.py").write_text('import flowscribe\n\nwith flowscribe.flow("a/used"):\n    pass\n')
    await session.start(ws)
    flows = ws / ".autodev" / "flows.yaml"
    diags = await session.wait_diagnostics(
        flows, lambda d: any(x.code == "unreferenced-flow" for x in d), source=CATALOG)
    # c/planned is switched off on purpose: "not used by any marker" would be noise.
    assert {d.data["flowId"] for d in diags if d.code == "unreferenced-flow"} == {"b/unused"}


BROKEN_CATALOG = '''\
version: 1
flows:
  - id: "a/one"
    descripton: "typo in a key"
  - id: "a/one"
  - id: "b/two"
    parent: "a/onee"
  - id: "c/three"
    parent: "d/four"
  - id: "d/four"
    parent: "c/three"
  - id: "e/five"
    code_refs: ["src/missing.py"]
'''


async def test_flows_yaml_problems_at_exact_positions(session: Session, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".autodev").mkdir(parents=True)
    flows = ws / ".autodev" / "flows.yaml"
    flows.write_text(BROKEN_CATALOG)
    await session.start(ws)
    diags = await session.wait_diagnostics(flows, lambda d: len(d) >= 6, source=CATALOG)

    def at(needle: str, start: int = 0) -> lsp.Position:
        line = find_line(flows, needle, start)
        return lsp.Position(line=line, character=col(flows, line, needle))

    by_start = {(d.range.start.line, d.range.start.character): d for d in diags}

    def problem(pos: lsp.Position, words: str) -> lsp.Diagnostic:
        d = by_start.get((pos.line, pos.character))
        assert d is not None, (pos, [(x.range.start, x.message) for x in diags])
        assert words in d.message, d.message
        return d

    key = problem(at("descripton"), "unknown key 'descripton'; did you mean 'description'?")
    assert key.severity == lsp.DiagnosticSeverity.Warning
    dup = problem(at('"a/one"', find_line(flows, "descripton")), "duplicate flow id 'a/one'")
    assert dup.severity == lsp.DiagnosticSeverity.Error
    problem(at('"a/onee"'), "unknown parent 'a/onee'")
    problem(at('"d/four"', find_line(flows, '- id: "c/three"')), "parent cycle")
    problem(at('"src/missing.py"'), "does not exist")


async def test_invalid_yaml_and_executable_tags(session: Session, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".autodev").mkdir(parents=True)
    flows = ws / ".autodev" / "flows.yaml"
    pwned = tmp_path / "pwned"
    flows.write_text("version: 1\nflows:\n  - id: !!python/object/apply:os.system "
                     f"['touch {pwned}']\n")
    ra = ws / ".autodev" / "ra.yaml"
    ra.write_text("version: 1\nenabled: [true\n")
    await session.start(ws)
    diags = await session.wait_diagnostics(flows, bool, source=CATALOG)
    [tag] = [d for d in diags if "python" in d.message]
    assert tag.severity == lsp.DiagnosticSeverity.Error
    assert tag.range.start.line == 2
    assert not pwned.exists()
    [syntax] = await session.wait_diagnostics(ra, bool, source=CATALOG)
    assert syntax.severity == lsp.DiagnosticSeverity.Error
    assert syntax.range.start.line >= 1


async def test_ra_yaml_problems_name_their_key(session: Session, shop_ws: Path) -> None:
    ra = shop_ws / ".autodev" / "ra.yaml"
    ra.write_text(ra.read_text() + "privacy:\n  payload_limit: -5\n")
    await session.start(shop_ws)
    [d] = await session.wait_diagnostics(ra, bool, source=CATALOG)
    line = find_line(ra, "payload_limit")
    assert d.range.start == lsp.Position(line=line, character=col(ra, line, "-5"))
    assert d.code == "privacy.payload_limit"


async def test_an_unsaved_catalog_buffer_is_checked_as_typed(
        session: Session, shop_ws: Path) -> None:
    await session.start(shop_ws)
    payment = shop_ws / "shop" / "payment.py"
    await session.wait_diagnostics(payment, bool, source=CATALOG)
    flows = shop_ws / ".autodev" / "flows.yaml"
    session.open(flows, language="yaml")
    line = find_line(flows, '- id: "payment/refund"')
    at = col(flows, line, "refund")
    session.edit(flows, (line, at), (line, at + len("refund")), "refnd")
    # The typo'd id is now declared (unsaved), so the code's use of it is fine ...
    await session.wait_diagnostics(payment, lambda d: not d, source=CATALOG, what="no warning")
    # ... and the buffer's own problems are reported at once.
    session.edit(flows, (line, 0), (line, 0), "  - id: \"payment/refnd\"\n")
    diags = await session.wait_diagnostics(
        flows, lambda d: any("duplicate" in x.message for x in d), source=CATALOG)
    assert any(d.range.start.line == line + 1 for d in diags if "duplicate" in d.message)


async def test_invalid_yaml_in_flows_yaml_is_reported_where_it_breaks(
        session: Session, shop_ws: Path) -> None:
    flows = shop_ws / ".autodev" / "flows.yaml"
    text = flows.read_text().replace("    sla:\n      p95_ms: 500", "    sla: {p95_ms: 500")
    flows.write_text(text)
    [problem] = parse_catalog(text, flows).problems  # where the reader says it breaks
    await session.start(shop_ws)
    [d] = await session.wait_diagnostics(flows, bool, source=CATALOG)
    assert d.severity == lsp.DiagnosticSeverity.Error and "invalid YAML" in d.message
    assert d.range.start == lsp.Position(line=problem.line - 1, character=problem.column - 1)
    # A catalog that does not parse declares nothing: no "unknown flow" noise in code.
    await session.settle(0.5)
    assert not session.diagnostics(shop_ws / "app.py", CATALOG)
