"""Issue 3, "Bad input": truncated, malformed, unknown, huge and binary trace lines, missing
or unreadable files, a trace deleted under the server, events pointing at files that no
longer exist. All skipped and counted in the log; the server never crashes or hangs."""

from __future__ import annotations

import os
from pathlib import Path

from _handmade import event, line, write_trace
from _lsp_session import Session, uri
from lsprotocol import types as lsp

TRACE = "flowscribe.trace"


def _workspace(tmp_path: Path) -> tuple[Path, Path]:
    ws = tmp_path / "ws"
    ws.mkdir()
    mod = ws / "mod.py"
    mod.write_text("import flowscribe\n\nwith flowscribe.flow('a/b') as f:\n"
                   "    f.failure('X.Y', 'boom')\n    f.failure('X.Z', 'bang')\n")
    return ws, mod


async def _alive(session: Session, mod: Path) -> None:
    """The server still answers requests."""
    result = await session.client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(mod)),
        position=lsp.Position(line=2, character=22)))
    assert result is not None


async def test_bad_lines_are_skipped_counted_and_the_rest_is_shown(
        session: Session, tmp_path: Path) -> None:
    ws, mod = _workspace(tmp_path)
    good = [event(1, "run_start", None), event(2, "failure", "a/b", file="mod.py", line=4)]
    junk = (
        b"{not json at all\n"
        + b"\x00\xff\xfe\x89PNG binary junk\n"
        + b"[1, 2, 3]\n"
        + line({**event(3, "failure", "a/b", file="mod.py", line=5), "schema": 99})
        + line(event(4, "teleport", "a/b", file="mod.py", line=5))
        + b'{"schema":1,"event_type":"failure","evidence":"' + b"x" * (2 << 20) + b'"}\n'
        + line({**event(5, "failure", "a/b", file="mod.py", line=5), "line": "five"})
        + line(event(6, "failure", "a/b", file="mod.py", line=10_000))
        + line(event(7, "failure", "a/b", file="mod.py", line=5, error_class="X.Z"))
        + b'{"schema":1,"id":"p-8","run_id":"run-1","seq":8,"event_type":"fail'  # still writing
    )
    write_trace(ws, good, junk)
    await session.start(ws)
    diags = await session.wait_diagnostics(mod, lambda d: len(d) == 3, source=TRACE)
    current = {(d.range.start.line, d.code) for d in diags if not d.data["stale"]}
    assert current == {(3, "X.Y"), (4, "X.Z")}
    # A line number past the end of the file: shown on the last line, marked stale.
    [beyond] = [d for d in diags if d.data["stale"]]
    assert beyond.range.start.line == 4 and beyond.data["recordedLine"] == 10_000
    await session.wait_until(lambda: "skipped" in session.log_text(), "a log line")
    log = session.log_text()
    # Without parsing every line: junk and lines of unknown types are counted by search,
    # lines of the types the server reads are parsed and checked.
    await session.wait_until(lambda: "unknown_event_type" in session.log_text(), "a count")
    log = session.log_text()
    for why in ("malformed", "unknown_schema", "unknown_event_type", "too_long"):
        assert why in log, log
    await _alive(session, mod)


async def test_a_trace_that_is_all_junk_or_empty(session: Session, tmp_path: Path) -> None:
    ws, mod = _workspace(tmp_path)
    trace = write_trace(ws, [], os.urandom(200_000))
    await session.start(ws)
    await session.wait_until(lambda: "skipped" in session.log_text(), "a log line")
    await _alive(session, mod)
    trace.write_bytes(b"")
    await session.settle(0.5)
    await _alive(session, mod)
    assert not session.diagnostics(mod, TRACE)


async def test_growing_lines_and_a_replaced_trace(session: Session, tmp_path: Path) -> None:
    ws, mod = _workspace(tmp_path)
    trace = write_trace(ws, [event(1, "run_start", None)])
    await session.start(ws)
    whole = line(event(2, "failure", "a/b", file="mod.py", line=4))
    with trace.open("ab") as fh:  # half a line: a run in the middle of writing it
        fh.write(whole[:40])
    await session.settle(0.5)
    assert not session.diagnostics(mod, TRACE)
    with trace.open("ab") as fh:
        fh.write(whole[40:])
    await session.wait_diagnostics(mod, bool, source=TRACE)
    # The file is replaced by a shorter one of another run: start over, no stale leftovers.
    tmp = trace.with_suffix(".tmp")
    tmp.write_bytes(line({**event(1, "failure", "a/b", file="mod.py", line=5,
                                  error_class="X.Z"), "run_id": "run-2"}))
    os.replace(tmp, trace)
    [d] = await session.wait_diagnostics(
        mod, lambda d: len(d) == 1 and d[0].code == "X.Z", source=TRACE)
    assert d.data["runId"] == "run-2"


async def test_unreadable_and_missing_files(session: Session, tmp_path: Path) -> None:
    ws, mod = _workspace(tmp_path)
    adir = ws / ".autodev"
    adir.mkdir()
    (adir / "flows.yaml").mkdir()  # not a file: cannot be read
    (adir / "ra.yaml").write_bytes(b"\xff\xfe not utf-8")
    (adir / "latest").write_text("runs/../../../../etc\n")  # a pointer that points nowhere
    (adir / "runs").mkdir()
    (adir / "runs" / "weird").write_text("not a run dir")
    await session.start(ws)
    flows_diags = await session.wait_diagnostics(adir / "flows.yaml", bool,
                                                 source="flowscribe.catalog")
    assert "cannot read" in flows_diags[0].message
    ra = await session.wait_diagnostics(adir / "ra.yaml", bool, source="flowscribe.catalog")
    assert "not UTF-8" in ra[0].message
    await _alive(session, mod)
    runs = await session.request("flowscribe/runs", {})
    assert runs == {"runs": []}
    nodes = await session.request("flowscribe/flows", {})
    assert [n["id"] for n in nodes["flows"]] == ["a/b"]
    assert nodes["flows"][0]["status"] == "never_run"


async def test_events_in_files_that_no_longer_exist(session: Session, tmp_path: Path) -> None:
    ws, mod = _workspace(tmp_path)
    write_trace(ws, [
        event(1, "run_start", None),
        event(2, "failure", "a/b", file="deleted.py", line=3),
        event(3, "exception", "a/b", file="mod.py", line=4, error_class="SYSTEM",
              exception={"type": "KeyError", "message": "'k'", "frames": [
                  {"file": "deleted.py", "line": 9, "function": "gone"},
                  {"file": "mod.py", "line": 4, "function": "<module>"}]}),
    ])
    await session.start(ws)
    [d] = await session.wait_diagnostics(mod, bool, source=TRACE)
    assert d.code == "SYSTEM" and "KeyError" in d.message
    assert not d.related_information  # the frame in a deleted file is dropped
    await session.wait_until(lambda: "1 failure(s) point at files that are missing"
                             in session.log_text(), "a log line")


async def test_garbage_requests_get_answers_not_crashes(
        session: Session, tmp_path: Path) -> None:
    ws, mod = _workspace(tmp_path)
    await session.start(ws)
    assert (await session.request("flowscribe/flowEvents", {"flowId": 12}))["events"] == []
    assert (await session.request("flowscribe/failurePrompt", None))["prompt"] == ""
    assert "flows" in await session.request("flowscribe/flows")
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n")
    session.open(outside)
    assert await session.lenses(outside) == []
    assert await session.hover(outside, 0, 0) is None
    await _alive(session, mod)


async def test_a_failure_prompt_for_an_event_with_odd_field_types(
        session: Session, tmp_path: Path) -> None:
    ws, mod = _workspace(tmp_path)
    write_trace(ws, [
        event(1, "run_start", None),
        event(2, "failure", "a/b", file=123, line="four", function=["f"], error_class=7),
        event(3, "failure", 99, file={"x": 1}, line=4, exception="not a dict"),
    ])
    await session.start(ws)
    for event_id in ("p-2", "p-3"):
        result = await session.request("flowscribe/failurePrompt",
                                       {"runId": "run-1", "eventId": event_id})
        prompt = result["prompt"]
        assert "error" not in result and "## Action request" in prompt, result
        assert "(unknown location)" in prompt and "Traceback" not in prompt
    await _alive(session, mod)


async def test_fifos_in_place_of_files_are_never_opened(
        session: Session, tmp_path: Path) -> None:
    ws, mod = _workspace(tmp_path)
    adir = ws / ".autodev"
    adir.mkdir()
    for name in ("trace.jsonl", "flows.yaml", "ra.yaml"):
        os.mkfifo(adir / name)  # reading one would block until a writer came
    os.mkfifo(ws / "pipe.py")
    await session.start(ws)
    flows = await session.wait_diagnostics(adir / "flows.yaml", bool, source="flowscribe.catalog")
    assert "not a regular file" in flows[0].message
    session.open(mod)
    await _alive(session, mod)
    assert [n["id"] for n in (await session.request("flowscribe/flows", {}))["flows"]] == ["a/b"]
