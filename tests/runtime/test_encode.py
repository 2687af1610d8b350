"""An event's line is the same with either JSON library: orjson when importable (at once
when the app has it or ``FLOWSCRIBE_JSON=orjson`` asks, else once the process has recorded
enough events to pay for its import), else the standard library's fragments
(``FLOWSCRIBE_JSON=stdlib`` forces them).

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
from _project import clean_env, read_lines, run_python

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


HAS_ORJSON = importlib.util.find_spec("orjson") is not None

#: Records events in a fresh interpreter and reports when orjson came in.
SWITCH_APP = """
import json, sys
PRE
import flowscribe
from flowscribe import _encode
from flowscribe._recorder import BATCH
s = flowscribe.init(app_name="enc")
state = {"at_start": s.recorder.uses_orjson, "imported_at_start": "orjson" in sys.modules}
with s.flow("enc/main") as f:
    for i in range(_encode.ORJSON_AFTER + 2 * BATCH):
        f.checkpoint("step", i=i, ratio=i / 7)
state["after"] = s.recorder.uses_orjson
print(json.dumps(state))
"""


@pytest.mark.skipif(not HAS_ORJSON, reason="needs orjson")
@pytest.mark.parametrize("choice", ["", "something-else"])
def test_orjson_comes_in_once_a_process_has_recorded_enough_to_pay_for_it(
    project: Path, choice: str
) -> None:
    # Its import costs a start more than the rest of init(): a short run never pays it.
    env = clean_env(FLOWSCRIBE_JSON=choice)
    out = run_python(SWITCH_APP.replace("PRE", ""), project, env=env)
    assert out.returncode == 0, out.stderr
    state = json.loads(out.stdout.splitlines()[-1])
    assert state == {"at_start": False, "imported_at_start": False, "after": True}
    lines = (project / ".autodev" / "trace.jsonl").read_bytes().splitlines()
    events = [json.loads(raw) for raw in lines]
    steps = [e for e in events if e["event_type"] == "checkpoint"]
    # One run, every line ASCII JSON of the schema, nothing lost across the switch.
    validator = jsonschema.Draft7Validator(SCHEMA)
    assert all(raw.isascii() and not list(validator.iter_errors(e))
               for raw, e in zip(lines, events))
    assert [e["evidence"]["i"] for e in steps] == list(range(len(steps)))
    assert all(e["evidence"]["ratio"] == e["evidence"]["i"] / 7 for e in steps)


@pytest.mark.skipif(not HAS_ORJSON, reason="needs orjson")
@pytest.mark.parametrize(("pre", "choice"), [("import orjson", ""), ("", "orjson")])
def test_orjson_is_taken_at_once_when_the_app_has_it_or_asks_for_it(
    project: Path, pre: str, choice: str
) -> None:
    out = run_python(SWITCH_APP.replace("PRE", pre), project,
                     env=clean_env(FLOWSCRIBE_JSON=choice))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["at_start"] is True


def test_stdlib_never_takes_orjson(project: Path) -> None:
    out = run_python(SWITCH_APP.replace("PRE", ""), project,
                     env=clean_env(FLOWSCRIBE_JSON="stdlib"))
    assert out.returncode == 0, out.stderr
    state = json.loads(out.stdout.splitlines()[-1])
    assert state["at_start"] is False and state["after"] is False
    assert read_lines(project / ".autodev" / "trace.jsonl")
