"""``shift_line``: where a diagnostic's line is after an edit, as a table (no server)."""

from __future__ import annotations

import pytest
from lsprotocol import types as lsp

from flowscribe_lsp.features.diagnostics import shift_line


def _range(sl: int, sc: int, el: int, ec: int) -> lsp.Range:
    return lsp.Range(start=lsp.Position(line=sl, character=sc),
                     end=lsp.Position(line=el, character=ec))


# (line, indent, edit range, newlines inserted, expected line); the tracked line is line 10,
# its content starts at column 4.
CASES = [
    pytest.param(10, 4, _range(2, 0, 2, 0), 1, 11, id="a line inserted above moves it down"),
    pytest.param(10, 4, _range(2, 0, 5, 0), 0, 7, id="three lines deleted above move it up"),
    pytest.param(10, 4, _range(2, 0, 4, 0), 2, 10, id="two lines replaced by two: stays"),
    pytest.param(10, 4, _range(10, 0, 10, 4), 0, 10, id="indent changed: the content stays"),
    pytest.param(10, 4, _range(10, 0, 10, 0), 1, 11, id="a newline at column 0 pushes it"),
    pytest.param(10, 4, _range(10, 8, 10, 8), 3, 10, id="lines typed after its start: stays"),
    pytest.param(10, 4, _range(12, 0, 20, 0), 0, 10, id="an edit below: stays"),
    pytest.param(10, 4, _range(8, 0, 10, 6), 0, 8, id="an edit swallowing its start: its end"),
    pytest.param(10, 4, _range(8, 0, 10, 6), 2, 10, id="swallowed and replaced by two lines"),
    pytest.param(0, 0, _range(0, 0, 0, 0), 1, 1, id="line 0, a newline before everything"),
]


@pytest.mark.parametrize(("line", "indent", "change", "added", "expected"), CASES)
def test_shift_line(line: int, indent: int, change: lsp.Range, added: int,
                    expected: int) -> None:
    assert shift_line(line, indent, change, added) == expected
