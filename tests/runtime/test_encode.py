"""An event's line is the same with either JSON library: orjson when importable, else the
standard library's fragments (``FLOWSCRIBE_JSON=stdlib`` forces them).

What a reader relies on: every line is ASCII JSON ending in ``\\n``, valid against the
schema, and holds the values of the event dict the sinks and the aggregate saw; what
orjson cannot write as ASCII (non-ASCII text, an int past 64 bits, a non-str key) still
gets a line, through the fragments.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from _project import read_lines

import flowscribe
import flowscribe._lifecycle as lifecycle
from flowscribe._writer import Sink
from flowscribe.core import Session

SCHEMA = json.loads(
    (Path(flowscribe.__file__).parent / "schema" / "trace.schema.json").read_text("utf-8")
)
LIBS = [
    "stdlib",
    pytest.param("orjson", marks=pytest.mark.skipif(
        importlib.util.find_spec("orjson") is None, reason="orjson is not installed")),
]
#: Fields that differ from run to run (ids, times, where and who), not between libraries.
VARYING = ("id", "run_id", "ts", "instance", "parent", "pid", "caused_by", "duration_ms")


class Keep(Sink):
    """A sink that keeps what it is given: the event dicts and their lines."""

    def __init__(self) -> None:
        self.items: list[tuple[dict[str, Any], str]] = []

    def write(self, batch: Any) -> None:
        self.items.extend(batch)


def record(project: Path, lib: str) -> tuple[list[bytes], list[dict[str, Any]], Session]:
    """A run with awkward values, under ``lib``: its trace lines and the event dicts."""
    os.environ["FLOWSCRIBE_JSON"] = lib
    keep = Keep()
    lifecycle.taps.append(keep)  # every session started now feeds it too
    try:
        session = Session(app_name="enc", mode="test")
        with session.flow("enc/main", ticker="AAPL", tags=["t"]) as f:
            f.checkpoint("plain", rows=120, ratio=0.5, tiny=1e-7, huge=1e300, ok=True,
                         none=None, seq=[1, "two", 3.0])
            f.checkpoint("text", accented="é", wide="日本", emoji="✓", ctrl="a\x01b\x7f")
            f.checkpoint("numbers", big=10**30, negative=-(2**63) - 1, nan=float("nan"))
            f.checkpoint("keys", data={1: "one", (2, 3): "pair"}, nested={"a": {"b": [1]}})
            f.metric("latency_ms", 0.00001, unit="ms")
            f.failure("DATA.EMPTY", "no rows for café", severity="warn", rows=0)
            try:
                raise ValueError("handled ✗")
            except ValueError:
                f.exception()
        session.end_session()
    finally:
        lifecycle.taps.remove(keep)
    lines = (project / ".autodev" / "trace.jsonl").read_bytes().splitlines(keepends=True)
    assert [line.encode() for _, line in keep.items] == lines  # the items' lines, written
    return lines, [ev for ev, _ in keep.items], session


@pytest.mark.parametrize("lib", LIBS)
def test_every_line_is_ascii_json_valid_and_holds_the_event_dict(
    project: Path, lib: str
) -> None:
    lines, events, session = record(project, lib)
    assert session.recorder.uses_orjson is (lib != "stdlib")
    validator = jsonschema.Draft7Validator(SCHEMA)
    assert len(lines) == len(events)
    for raw, ev in zip(lines, events):
        assert raw.endswith(b"\n") and raw.count(b"\n") == 1 and raw.isascii()
        line = json.loads(raw)
        assert not list(validator.iter_errors(line)), line
        assert list(line) == list(ev)
        assert line == json.loads(json.dumps(ev)), (line, ev)  # the dict the sinks saw
    texts = {e["step"]: e["evidence"] for e in events if e["event_type"] == "checkpoint"}
    assert texts["text"] == {"accented": "é", "wide": "日本", "emoji": "✓",
                             "ctrl": "a\x01b\x7f"}
    assert texts["numbers"]["big"] == 10**30 and texts["numbers"]["negative"] == -(2**63) - 1
    assert texts["plain"]["tiny"] == 1e-7


def test_stdlib_lines_are_exactly_what_json_dumps_gives(project: Path) -> None:
    lines, _, _ = record(project, "stdlib")
    for raw in lines:
        assert json.dumps(json.loads(raw), separators=(",", ":")).encode() + b"\n" == raw


@pytest.mark.skipif(importlib.util.find_spec("orjson") is None, reason="needs orjson")
def test_both_libraries_record_the_same_values(tmp_path: Path, project: Path) -> None:
    orjson_lines, _, _ = record(project, "orjson")
    other = tmp_path / "other"
    other.mkdir()
    (other / ".autodev").mkdir()
    (other / ".autodev" / "ra.yaml").write_bytes((project / ".autodev" / "ra.yaml").read_bytes())
    os.chdir(other)
    stdlib_lines, _, _ = record(other, "stdlib")

    def comparable(raw: bytes) -> dict[str, Any]:
        ev: dict[str, Any] = json.loads(raw)
        for key in VARYING:
            ev.pop(key, None)
        if ev["event_type"] == "run_start":
            ev["evidence"].pop("root", None)
        return ev

    assert [comparable(x) for x in orjson_lines] == [comparable(x) for x in stdlib_lines]


def test_an_unknown_library_name_means_orjson_when_there_is_one(project: Path) -> None:
    os.environ["FLOWSCRIBE_JSON"] = "something-else"
    session = Session(app_name="enc")
    assert session.recorder.uses_orjson == (importlib.util.find_spec("orjson") is not None)
    session.end_session()
    assert read_lines(project / ".autodev" / "trace.jsonl")


@pytest.mark.parametrize("lib", LIBS)
def test_every_line_has_the_declared_keys_in_the_schemas_order(project: Path, lib: str) -> None:
    """A reader may rely on the key order (docs/trace-format.md): every event type's line
    and dict follow the one declaration of the fields, which is the schema's order too."""
    from flowscribe._event import EVENT_FIELDS, EVENT_KEYS

    assert list(EVENT_KEYS) == [name for name, _ in EVENT_FIELDS]
    assert list(SCHEMA["properties"]) == list(EVENT_KEYS)
    lines, events, _ = record(project, lib)
    types = set()
    for raw, ev in zip(lines, events):
        assert list(json.loads(raw)) == list(EVENT_KEYS), raw
        assert list(ev) == list(EVENT_KEYS)
        types.add(ev["event_type"])
    assert {"run_start", "flow_start", "checkpoint", "metric", "failure", "exception",
            "flow_end", "summary"} <= types
