"""Safe YAML loading that remembers where each value came from."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import yaml

from flowscribe._yamlpos import MAX_NODES, format_path, load_yaml


def test_values_equal_safe_load_and_positions_are_one_based() -> None:
    text = textwrap.dedent(
        """\
        version: 1
        artifacts:
          ask_md: on_failure
          trace_tail_events: 50
        sinks:
          - type: console
          - type: jsonl
            path: .autodev/trace.jsonl
        tags: [a, "b"]
        """
    )
    doc = load_yaml(text)
    assert doc.parsed and not doc.issues
    assert doc.data == yaml.safe_load(text)
    assert doc.value_pos(("artifacts", "ask_md")) == (3, 11)
    assert doc.key_pos(("artifacts", "ask_md")) == (3, 3)
    assert doc.value_pos(("sinks", 1, "path")) == (8, 11)
    assert doc.value_pos(("tags", 1)) == (9, 11)
    # a block sequence item starts at its dash
    assert doc.items[("sinks", 1)] == (7, 3)
    # unknown paths fall back to the nearest known ancestor
    assert doc.value_pos(("artifacts", "nope")) == (3, 3)


def test_block_collection_end_stops_at_last_content_not_next_item() -> None:
    text = "flows:\n  - id: a\n    tags: [x]\n\n# comment\n\n  - id: b\n"
    doc = load_yaml(text)
    first = doc.values[("flows", 0)]
    assert (first.line, first.end_line) == (2, 3)


def test_syntax_error_has_the_parsers_position() -> None:
    doc = load_yaml("a: 1\nb: [1, 2\nc: 3\n")
    assert not doc.parsed and doc.data is None
    (issue,) = doc.issues
    assert issue.severity == "error" and issue.message.startswith("invalid YAML")
    assert issue.line >= 2


def test_python_tags_are_rejected_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (
        f"a: !!python/object/apply:os.system ['touch {marker}']\n"
        "b: !!python/name:os.system\n"
        "c: !!python/object:collections.OrderedDict {}\n"
        "d: ok\n"
    )
    doc = load_yaml(text)
    assert not marker.exists()
    assert doc.data == {"a": None, "b": None, "c": None, "d": "ok"}
    assert [(i.line, i.path) for i in doc.issues] == [(1, ("a",)), (2, ("b",)), (3, ("c",))]
    assert all("not allowed" in i.message for i in doc.issues)


def test_unknown_local_tag_is_reported() -> None:
    doc = load_yaml("a: !secret xyz\n")
    assert doc.data == {"a": None}
    assert "unknown tag" in doc.issues[0].message


def test_duplicate_keys_warn_and_the_later_value_wins() -> None:
    doc = load_yaml("a: 1\nb: 2\na: 3\n")
    assert doc.data == {"a": 3, "b": 2}
    (issue,) = doc.issues
    assert (issue.line, issue.severity, issue.path) == (3, "warning", ("a",))


def test_merge_keys_and_anchors_work() -> None:
    doc = load_yaml("base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n")
    assert doc.data == {"base": {"x": 1}, "m": {"x": 1, "y": 2}}


def test_recursive_alias_does_not_hang() -> None:
    doc = load_yaml("a: &a [1, *a]\n")
    assert doc.issues and "recursive" in doc.issues[0].message


def test_alias_bomb_is_capped() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    doc = load_yaml("\n".join(lines) + "\n")
    assert doc.data is None
    assert str(MAX_NODES) in doc.issues[0].message


def test_empty_document() -> None:
    doc = load_yaml("# nothing here\n")
    assert doc.parsed and doc.data is None and not doc.issues


def test_non_scalar_keys_are_reported() -> None:
    doc = load_yaml("? [a, b]\n: 1\nc: 2\n")
    assert doc.data == {"c": 2}
    assert "keys" in doc.issues[0].message


def test_format_path() -> None:
    assert format_path(("flows", 2, "parent")) == "flows[2].parent"
    assert format_path(()) == ""
    assert format_path((0, "a")) == "[0].a"


def test_importing_does_not_import_yaml() -> None:
    import subprocess

    code = "import sys, flowscribe._yamlpos; print('yaml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_block_scalar_ends_at_its_last_text_line() -> None:
    text = "flows:\n  - id: a\n    description: |\n      one\n      two\n\n  - id: b\n"
    doc = load_yaml(text)
    item = doc.values[("flows", 0)]
    assert (item.end_line, item.end_column) == (5, 10)
