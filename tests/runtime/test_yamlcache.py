"""The parsed ra.yaml / flows.yaml kept in ``.autodev/cache`` (``_yamlcache.py``).

A cached document must be the document the text parses to, positions and problems
included, or not be used at all: a stale, hostile or broken cache costs a parse, never a
wrong config.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flowscribe._yamlcache import load_yaml_cached
from flowscribe._yamlpos import load_yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "trading_app" / ".autodev"

CASES = [
    (EXAMPLE / "ra.yaml").read_text("utf-8"),
    (EXAMPLE / "flows.yaml").read_text("utf-8"),
    "a: 1\na: 2\n",  # a duplicate key: a warning with its path
    "x: !!python/object:os.system ls\n",  # a rejected tag: an error, the value None
    "a: [1, 2\n",  # not YAML: the syntax error
    "",  # an empty document
    "list:\n  - one\n  - {two: 2.5, three: null, four: true}\n",
]


@pytest.mark.parametrize("text", CASES)
def test_a_cached_document_is_the_parsed_one(tmp_path: Path, text: str) -> None:
    first = load_yaml_cached(text, tmp_path / "cache", "ra.yaml")
    assert (tmp_path / "cache" / "ra.yaml.json").is_file()
    second = load_yaml_cached(text, tmp_path / "cache", "ra.yaml")
    assert second == first == load_yaml(text)


def test_an_edit_is_parsed_whatever_the_clock_says(tmp_path: Path) -> None:
    load_yaml_cached("enabled: true\n", tmp_path / "cache", "ra.yaml")
    # The same length, the same second: only the text tells them apart.
    assert load_yaml_cached("enabled: fals\n", tmp_path / "cache", "ra.yaml").data == {
        "enabled": "fals"}


def test_values_json_cannot_hold_are_parsed_every_time(tmp_path: Path) -> None:
    for text in ("when: 2026-12-08\n", "1: one\n", "s: !!set {a, b}\n", "x: .inf\n",
                 "b: !!binary aGk=\n"):
        doc = load_yaml_cached(text, tmp_path / "cache", "ra.yaml")
        assert doc == load_yaml(text)
        assert not (tmp_path / "cache" / "ra.yaml.json").exists(), text


@pytest.mark.parametrize("tamper", [
    lambda o: o.update(values=[[["a"], [1, 2, 3]]]) or o,
    lambda o: o.update(values=[[[{"x": 1}], [1, 2, 3, 4]]]) or o,
    lambda o: o.update(issues=[[1, 1, "m", [], "fatal"]]) or o,
    lambda o: o.update(issues=[[1, 1]]) or o,
    lambda o: o.update(parsed="yes") or o,
    lambda o: o.update(version=99) or o,
    lambda o: [o],
])
def test_a_cache_out_of_shape_is_ignored(tmp_path: Path, tamper: object) -> None:
    text = "enabled: true\nsinks:\n  - type: console\n"
    load_yaml_cached(text, tmp_path / "cache", "ra.yaml")
    file = tmp_path / "cache" / "ra.yaml.json"
    obj = tamper(json.loads(file.read_text()))  # type: ignore[operator]
    file.write_text(json.dumps(obj))
    assert load_yaml_cached(text, tmp_path / "cache", "ra.yaml") == load_yaml(text)


def test_garbage_in_the_cache_is_ignored_and_replaced(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "ra.yaml.json").write_bytes(b"\xff[[[" * 1000)
    assert load_yaml_cached("a: 1\n", tmp_path / "cache", "ra.yaml").data == {"a": 1}
    saved = json.loads((tmp_path / "cache" / "ra.yaml.json").read_text())
    assert saved["text"] == "a: 1\n"


def test_a_cache_folder_that_is_a_link_is_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    adir = tmp_path / ".autodev"
    adir.mkdir()
    os.symlink(outside, adir / "cache")  # as a cloned repository could ship it
    assert load_yaml_cached("a: 1\n", adir / "cache", "ra.yaml").data == {"a": 1}
    assert list(outside.iterdir()) == []


def test_a_cache_that_is_not_a_folder_costs_a_parse_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("mine")
    assert load_yaml_cached("a: 1\n", tmp_path / "cache", "ra.yaml").data == {"a": 1}
    assert (tmp_path / "cache").read_text() == "mine"
