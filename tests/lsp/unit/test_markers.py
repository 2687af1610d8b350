"""Marker scanning (no server): what counts as a marker, the tolerant scan, and the
block-cached scanner agreeing with a whole-file ``ast`` parse after any edit."""

from __future__ import annotations

import ast
import random

from flowscribe_lsp.markers import (
    MarkerScanner,
    completion_prefix,
    scan_source,
    split_lines,
    string_at,
)

NAMES = ("start_flow", "flow", "traced")

SOURCE = '''\
"""Module docstring mentioning flow("not/a/marker").

with session.flow("also/not"):
    pass
"""
import flowscribe

@flowscribe.traced("a/decorated")
def f():
    with session.flow("b/with", ticker="X") as fl:  # flow("c/comment")
        fl.checkpoint("step")
    s = start_flow(flow_id="d/keyword")
    flow(name)               # not a literal
    flow(f"e/{x}")           # not a literal either
    workflow("f/not-a-marker-name")
    text = 'flow("g/in-a-string")'
    return flowscribe.flow(
        "h/multiline",
    )
'''


def test_markers_are_calls_with_a_literal_flow_id() -> None:
    scan = scan_source(SOURCE, NAMES)
    assert not scan.tolerant
    got = [(m.flow_id, m.name, m.line, m.call_line) for m in scan.markers]
    assert got == [
        ("a/decorated", "traced", 7, 7),
        ("b/with", "flow", 9, 9),
        ("d/keyword", "start_flow", 11, 11),
        ("h/multiline", "flow", 17, 16),
    ]
    decorated = scan.markers[0]
    line = SOURCE.splitlines()[7]
    assert line[decorated.start:decorated.end] == '"a/decorated"'
    assert line[decorated.value_start:decorated.value_end] == "a/decorated"
    assert scan.at(7, decorated.start + 3) == decorated
    assert scan.at(7, 0) is None


def test_the_tolerant_scan_keeps_working_through_a_syntax_error() -> None:
    broken = SOURCE.replace("def f():", "def f(:")
    scan = scan_source(broken, NAMES)
    assert scan.tolerant and scan.syntax_error
    ids = [m.flow_id for m in scan.markers]
    assert {"a/decorated", "b/with", "d/keyword", "h/multiline"} <= set(ids)
    assert "c/comment" not in ids


def test_columns_are_code_points_on_non_ascii_lines() -> None:
    src = 'x = "é😀"; session.flow("ü/ß")\n'
    [m] = scan_source(src, NAMES).markers
    assert src[m.value_start:m.value_end] == "ü/ß"


def test_custom_marker_names() -> None:
    src = 'track("a/b")\nflow("c/d")\n'
    assert [m.flow_id for m in scan_source(src, ("track",)).markers] == ["a/b"]
    assert scan_source(src, ()).markers == ()


def _whole_file(text: str) -> list[tuple[str, int, int]] | None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
            arg = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg == "flow_id"), None)
            if name in NAMES and isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                    and arg.value:
                out.append((arg.value, arg.lineno - 1, arg.col_offset))
    return sorted(out, key=lambda t: (t[1], t[2]))


def test_the_block_cache_agrees_with_a_whole_file_parse_after_random_edits() -> None:
    rng = random.Random(7)
    pieces = ["\n", "    ", "x = 1\n", 'with s.flow("r/new"):\n    pass\n', '"""\n',
              "def g():\n", "@traced('r/dec')\n", ")", "#", "else:\n", "'"]
    scanner = MarkerScanner(NAMES)
    text = SOURCE
    for _ in range(300):
        lines = text.splitlines(keepends=True)
        at = rng.randrange(len(lines) + 1)
        if rng.random() < 0.3 and lines:
            del lines[min(at, len(lines) - 1)]
        else:
            lines.insert(at, rng.choice(pieces))
        text = "".join(lines)
        expected = _whole_file(text)
        scan = scanner.scan(text)
        if expected is not None:
            got = [(m.flow_id, m.line, m.start) for m in scan.markers]
            assert got == expected, text


def test_completion_prefix_and_strings() -> None:
    assert completion_prefix('    with s.flow("ord', 20, NAMES) == (17, "ord")
    assert completion_prefix("    with s.flow(x", 17, NAMES) is None
    assert completion_prefix('start_flow(flow_id="', 20, NAMES) == (20, "")
    assert string_at('a = "x/y" + "z"', 6) == ("x/y", 4, 9)
    assert string_at('a = "x/y"', 1) is None


def test_lines_count_like_lsp_not_like_str_splitlines() -> None:
    src = 'x = 1\x0c\n# page\x0bbreak\r\nflow("a/b")\n'
    [m] = scan_source(src, NAMES).markers
    assert m.line == 2  # str.splitlines would say 4
    assert split_lines(src) == ["x = 1\x0c", "# page\x0bbreak", 'flow("a/b")']
