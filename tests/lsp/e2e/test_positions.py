"""Issue 13, 'Every editor': columns in the position encoding the client negotiated.

Neovim offers UTF-8 first, VS Code speaks UTF-16, some clients offer UTF-32. After
non-ASCII text on a line (é: 2 UTF-8 bytes, 中文: 3 each, 🎉: 4 bytes and 2 UTF-16
units), hover, lenses and diagnostics must land on exactly the characters they mean.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from _lsp_session import Session, find_line
from _lsp_workspaces import run_app
from lsprotocol import types as lsp
from pytest_lsp import client_capabilities

PREFIX = 'note = "é 中文 🎉"; '
APP = textwrap.dedent(f'''\
    import flowscribe

    flowscribe.init(app_name="unicode", root=".")
    {PREFIX}f = flowscribe.start_flow("unicode/flow")
    {PREFIX}f.failure("DATA.EMPTY", "no rows")
    f.end()
    {PREFIX}g = flowscribe.start_flow("unicode/flwo")
    g.success("ok")
    g.end()
    flowscribe.end_session()
    ''')
FLOWS = textwrap.dedent('''\
    version: 1
    flows:
      - id: "unicode/flow"
        description: "A flow named after non-ASCII text."
    ''')


def units(text: str, encoding: str) -> int:
    """Code units of ``text`` in an LSP position encoding."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def at(line_text: str, col: int, encoding: str) -> int:
    return units(line_text[:col], encoding)


@pytest.fixture
def unicode_ws(tmp_path: Path) -> Path:
    ws = tmp_path / "unicode"
    (ws / ".autodev").mkdir(parents=True)
    (ws / ".autodev" / "ra.yaml").write_text("version: 1\nprofile: all\n")
    (ws / ".autodev" / "flows.yaml").write_text(FLOWS)
    (ws / "app.py").write_text(APP, encoding="utf-8")
    proc = run_app(ws)
    assert (ws / ".autodev" / "latest").exists(), proc.stdout + proc.stderr
    return ws


def _caps(encoding: str) -> lsp.ClientCapabilities:
    caps = client_capabilities("neovim")
    assert caps.general is not None
    caps.general.position_encodings = [encoding]
    return caps


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
async def test_hover_lenses_and_diagnostics_in_the_negotiated_encoding(
        session: Session, unicode_ws: Path, encoding: str) -> None:
    result = await session.start(unicode_ws, capabilities=_caps(encoding))
    assert result.capabilities.position_encoding == encoding
    app = unicode_ws / "app.py"
    session.open(app)
    lines = APP.splitlines()
    flow_ln = find_line(app, '"unicode/flow"')
    flow_text = lines[flow_ln]
    id_col = flow_text.index("unicode/flow")

    # Hover at the id's column, in the client's units, finds the flow and its range.
    hover = None
    for _ in range(400):
        hover = await session.client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=app.as_uri()),
            position=lsp.Position(line=flow_ln, character=at(flow_text, id_col + 2, encoding))))
        if hover is not None and "run " in str(hover.contents):
            break
        await session.settle(0.05)
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "A flow named after non-ASCII text." in hover.contents.value
    assert hover.range is not None
    assert hover.range == lsp.Range(  # the id, no quotes
        start=lsp.Position(line=flow_ln, character=at(flow_text, id_col, encoding)),
        end=lsp.Position(line=flow_ln,
                         character=at(flow_text, id_col + len("unicode/flow"), encoding)))
    # The last character of the id still hits; one past the closing quote does not.
    last = at(flow_text, id_col + len("unicode/flow") - 1, encoding)
    assert await session.hover(app, flow_ln, last) is not None
    beyond = at(flow_text, id_col + len("unicode/flow") + 2, encoding)
    assert await session.hover(app, flow_ln, beyond) is None

    # The lens sits at the call, after the non-ASCII prefix.
    lenses = await session.lenses(app)
    by_line = {lens.range.start.line: lens for lens in lenses}
    call_col = flow_text.index("flowscribe.start_flow")
    assert by_line[flow_ln].range.start.character == at(flow_text, call_col, encoding)

    # The failure recorded on a non-ASCII line is underlined over the whole statement.
    fail_ln = find_line(app, 'f.failure("DATA.EMPTY"')
    [failure] = await session.wait_diagnostics(app, bool, source="flowscribe.trace")
    assert failure.range == lsp.Range(
        start=lsp.Position(line=fail_ln, character=0),
        end=lsp.Position(line=fail_ln, character=units(lines[fail_ln], encoding)))

    # The unknown id is underlined on exactly its characters.
    bad_ln = find_line(app, '"unicode/flwo"')
    bad_text = lines[bad_ln]
    bad_col = bad_text.index("unicode/flwo")
    [unknown] = await session.wait_diagnostics(app, bool, source="flowscribe.catalog")
    assert unknown.code == "unknown-flow"
    assert unknown.range == lsp.Range(
        start=lsp.Position(line=bad_ln, character=at(bad_text, bad_col, encoding)),
        end=lsp.Position(line=bad_ln,
                         character=at(bad_text, bad_col + len("unicode/flwo"), encoding)))


async def test_an_edit_after_non_ascii_text_in_utf8(session: Session, unicode_ws: Path) -> None:
    """Incremental edits arrive in the client's units too: typing into the id after the
    prefix renames exactly that id."""
    await session.start(unicode_ws, capabilities=_caps("utf-8"))
    app = unicode_ws / "app.py"
    session.open(app)
    lines = APP.splitlines()
    bad_ln = find_line(app, '"unicode/flwo"')
    bad_text = lines[bad_ln]
    start = bad_text.index("flwo")
    await session.wait_diagnostics(app, bool, source="flowscribe.catalog")
    session.edit(app, (bad_ln, at(bad_text, start, "utf-8")),
                 (bad_ln, at(bad_text, start + 4, "utf-8")), "flow")
    await session.wait_diagnostics(app, lambda d: not d, source="flowscribe.catalog",
                                   what="the unknown-flow warning gone")
