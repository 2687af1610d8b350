"""Every line the runtime writes matches the trace format's JSON Schema and docs."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from _project import read_lines, write_catalog

import flowscribe
from flowscribe.core import Event, Session

SCHEMA_PATH = Path(flowscribe.__file__).parent / "schema" / "trace.schema.json"
DOC = Path(__file__).resolve().parents[2] / "docs" / "trace-format.md"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def documented_fields() -> list[str]:
    """The field names of the table in docs/trace-format.md, in order."""
    return re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(encoding="utf-8"), re.M)


class Weird:
    def __repr__(self) -> str:
        raise RuntimeError("no")


@flowscribe.traced("scenario/traced")
async def traced_task(n: int) -> None:
    await asyncio.sleep(0)
    flowscribe.metric("n", n)


def everything(session: Session) -> None:
    """Every kind of event, through every entry point, with awkward evidence."""
    with session.flow("scenario/main", ticker="AAPL", tags=["t"]) as f:
        f.checkpoint("plain", rows=1, ratio=0.5, ok=True, none=None, text="é ✓ \n \"q\"")
        f.checkpoint("odd", obj=Weird(), nan=float("nan"), inf=float("inf"), data=b"\x00",
                     nested={"a": [1, (2, 3), {4, 5}], "token": "s3cr3t"}, severity="debug")
        f.metric("latency_ms", 12.5, unit="ms")
        f.metric("bad", "not a number")  # type: ignore[arg-type]
        f.failure("DATA.EMPTY", "no rows", severity="warning", rows=0)
        f.success("done", caused_by=f.checkpoint("before-success"))
        try:
            raise ValueError("handled")
        except ValueError:
            f.exception()
        f.add_event(Event("exception", f.flow_id, reason="from an Event"))
        f.add_event(Event("metric", f.flow_id, step="m", value=1, unit="u"))
    with pytest.raises(RuntimeError), session.flow("scenario/raises"):
        raise RuntimeError("escaped with Bearer A1b2C3d4E5f6G7h8")
    with session.flow("scenario/unfinished"), session.flow("scenario/nested") as inner:
        inner.checkpoint("deep")
    t = threading.Thread(target=flowscribe.wrap(lambda: session.flow("scenario/thread")
                                                .__enter__().success()))
    t.start()
    t.join()
    asyncio.run(traced_task(3))
    session.start_flow("scenario/orphan").checkpoint("left open")


def test_every_line_of_a_rich_run_is_valid(
    project: Path, validator: jsonschema.Draft7Validator
) -> None:
    write_catalog(project, """\
        version: 1
        flows:
          - id: "scenario/main"
            correlation_keys: ["ticker"]
            sla: {p95_ms: 10}
        """)
    session = flowscribe.init(app_name="schema", mode="test", tags=["s"])
    everything(session)
    session.end_session()
    events = read_lines(project / ".autodev" / "trace.jsonl")
    kinds = {e["event_type"] for e in events}
    assert kinds == {"run_start", "flow_start", "checkpoint", "success", "failure",
                     "exception", "metric", "flow_end", "summary"}
    fields = documented_fields()
    for ev in events:
        errors = sorted(validator.iter_errors(ev), key=str)
        assert not errors, (ev, [e.message for e in errors])
        assert list(ev) == fields  # every key, in the documented order
    raw = (project / ".autodev" / "trace.jsonl").read_bytes()
    assert raw.isascii() and b"NaN" not in raw and b"Infinity" not in raw
    for line in raw.splitlines():
        assert json.dumps(json.loads(line), separators=(",", ":")).encode() == line


def test_lines_of_unhandled_and_child_process_events_are_valid(
    project: Path, validator: jsonschema.Draft7Validator
) -> None:
    child = project / "child.py"
    child.write_text("import flowscribe\nwith flowscribe.flow('child/x') as f:\n"
                     "    f.success()\nraise SystemExit(0)\n")
    (project / "app.py").write_text(
        "import subprocess, sys, threading, flowscribe\n"
        "flowscribe.init()\n"
        "subprocess.run([sys.executable, 'child.py'], check=True)\n"
        "t = threading.Thread(target=lambda: 1 / 0); t.start(); t.join()\n"
        "raise KeyError('top')\n"
    )
    result = subprocess.run([sys.executable, "app.py"], cwd=project, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 1
    events = read_lines(project / ".autodev" / "trace.jsonl")
    assert sum(e["event_type"] == "exception" for e in events) == 2
    assert len({e["pid"] for e in events}) == 2
    for ev in events:
        assert not list(validator.iter_errors(ev)), ev


def test_the_schema_and_the_docs_name_the_same_fields() -> None:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["required"] == list(schema["properties"]) == documented_fields()
