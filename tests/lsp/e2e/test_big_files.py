"""Issue 16 §3: huge files never hold up other requests. A data-sized Python buffer, a
10 MB flows.yaml on disk and a big flows.yaml buffer: hover elsewhere is still answered,
and right (the timeouts are hang detectors, not timing asserts)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from _lsp_session import Session, col, find_line

from flowscribe_lsp.index import MAX_PROJECT_FILE_CHARS
from flowscribe_lsp.markers import MAX_BUFFER_CHARS

HANG_S = 60.0
CATALOG = 'version: 1\nflows:\n  - id: "a/b"\n    description: "The small flow."\n'
ENTRY = '  - id: "gen/{n}"\n    description: "Generated flow number {n}."\n'


def _workspace(tmp_path: Path, catalog: str = CATALOG) -> tuple[Path, Path]:
    ws = tmp_path / "ws"
    (ws / ".autodev").mkdir(parents=True)
    (ws / ".autodev" / "flows.yaml").write_text(catalog)
    mod = ws / "mod.py"
    mod.write_text("import flowscribe\n\nwith flowscribe.flow('a/b') as f:\n    pass\n")
    return ws, mod


def _big_catalog(chars: int) -> str:
    parts, n, size = ['version: 1\nflows:\n  - id: "a/b"\n'], 0, 0
    while size < chars:
        entry = ENTRY.format(n=n)
        parts.append(entry)
        size += len(entry)
        n += 1
    return "".join(parts)


async def _hover_a_b(session: Session, mod: Path) -> str | None:
    line = find_line(mod, "flowscribe.flow('a/b')")
    return await asyncio.wait_for(session.hover(mod, line, col(mod, line, "a/b") + 1), HANG_S)


async def test_a_huge_python_buffer_is_not_scanned_and_hover_elsewhere_answers(
        session: Session, tmp_path: Path) -> None:
    ws, mod = _workspace(tmp_path)
    big = ws / "generated.py"
    block = "with flowscribe.flow('gen/x') as f:\n    rows = [1, 2, 3]\n"
    text = "import flowscribe\n" + block * (5 * (1 << 20) // len(block))
    big.write_text("")  # on disk it is empty: only the buffer is huge
    assert len(text) > MAX_BUFFER_CHARS
    await session.start(ws)
    session.open(mod)
    session.open(big, text)
    hover = await _hover_a_b(session, mod)  # straight after the open
    assert hover is not None and "The small flow." in hover
    assert await asyncio.wait_for(session.hover(big, 1, 23), HANG_S) is None  # not scanned
    assert await asyncio.wait_for(session.lenses(big), HANG_S) == []


async def test_a_10_mb_flows_yaml_is_refused_with_a_problem_and_requests_answer(
        session: Session, tmp_path: Path) -> None:
    ws, mod = _workspace(tmp_path, _big_catalog(10 << 20))
    flows = ws / ".autodev" / "flows.yaml"
    await session.start(ws)
    session.open(mod)
    hover = await _hover_a_b(session, mod)
    assert hover is not None and "a/b" in hover
    diags = await session.wait_diagnostics(flows, lambda d: any("limit" in x.message for x in d))
    assert any(f"{MAX_PROJECT_FILE_CHARS}" in d.message for d in diags)
    # Shrunk back to a normal catalog, it is read again.
    flows.write_text(CATALOG)
    await session.wait_until(lambda: not session.diagnostics(flows), "the problem cleared")
    hover = await _hover_a_b(session, mod)
    assert hover is not None and "The small flow." in hover


async def test_a_big_flows_yaml_buffer_is_parsed_off_the_request_path(
        session: Session, tmp_path: Path) -> None:
    ws, mod = _workspace(tmp_path)
    flows = ws / ".autodev" / "flows.yaml"
    await session.start(ws)
    session.open(mod)
    text = _big_catalog(MAX_PROJECT_FILE_CHARS - 4096).replace(
        'id: "a/b"\n', 'id: "a/b"\n    description: "Edited in the buffer."\n', 1)
    session.open(flows, text, language="yaml")
    hover = await _hover_a_b(session, mod)  # answered while the buffer parses
    assert hover is not None and "a/b" in hover

    async def edited() -> bool:
        h = await _hover_a_b(session, mod)
        return h is not None and "Edited in the buffer." in h

    for _ in range(int(HANG_S / 0.2)):
        if await edited():
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError("the buffer's catalog was never applied")
