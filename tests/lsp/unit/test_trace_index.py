"""The trace index on a run with a saved aggregate (aggregate.json: a finished run's, or a
live run's snapshot): what it shows is what folding the whole trace shows, and a saved
aggregate that is stale, corrupt or hostile is ignored (the trace is folded), never
trusted or raised."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from _lsp_workspaces import FIXTURES, SHOP_EXAMPLE, copy_app, run_app

from flowscribe.artifacts.aggregate_file import AGGREGATE_FILE
from flowscribe.trace import field_marker, instance_span, iter_events
from flowscribe_lsp.trace_index import RunSnapshot, TraceIndex


@pytest.fixture(scope="module", params=["examples/shop", "fixtures/shop"])
def template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = SHOP_EXAMPLE if request.param == "examples/shop" else FIXTURES / "shop"
    ws = copy_app(src, tmp_path_factory.mktemp("index") / "shop")
    done = run_app(ws)
    assert (ws / ".autodev" / "latest").exists(), done.stdout + done.stderr
    return ws


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "shop", symlinks=True))


def _run_dir(ws: Path) -> Path:
    [run] = (ws / ".autodev" / "runs").iterdir()
    return run


def _read(ws: Path) -> tuple[TraceIndex, RunSnapshot]:
    """Both passes to the end, as the server's worker runs them."""
    index = TraceIndex(ws / ".autodev")
    index.read_findings()
    while index.outcomes_pending:
        index.read_outcomes()
    return index, dataclasses.replace(index.snapshot(), generation=0, skipped={})


def _folded(ws: Path) -> RunSnapshot:
    aside = _run_dir(ws) / AGGREGATE_FILE
    saved = aside.read_bytes()
    aside.unlink()
    try:
        return _read(ws)[1]
    finally:
        aside.write_bytes(saved)


def test_a_finished_run_saves_its_aggregate_and_the_index_shows_the_same(ws: Path) -> None:
    assert (_run_dir(ws) / AGGREGATE_FILE).is_file()
    index = TraceIndex(ws / ".autodev")
    index.read_findings()
    early = index.snapshot()
    # The counts are there with the failures, before any of the trace was folded.
    assert early.outcomes is not None and early.outcomes
    _, loaded = _read(ws)
    folded = _folded(ws)
    assert loaded.outcomes == folded.outcomes
    assert loaded.verdicts == folded.verdicts
    # Where each failure's flow started and what caused it are found in the trace too.
    assert loaded.findings == folded.findings
    assert any(f.flow_start is not None for f in folded.findings)


def test_what_came_after_the_saved_aggregate_is_folded_in(ws: Path) -> None:
    trace = _run_dir(ws) / "trace.jsonl"
    lines = trace.read_bytes().splitlines(keepends=True)
    # A child process that went on writing after the run ended: one more passed flow.
    start = next(json.loads(x) for x in lines if b'"event_type":"flow_start"' in x)
    end = next(json.loads(x) for x in lines if b'"event_type":"flow_end"' in x
               and json.loads(x)["instance"] == start["instance"])
    for ev in (start, end):
        ev["instance"] = "late-1"
        ev["id"] = ev["id"] + "-late"
    end["status"] = "passed"
    with open(trace, "ab") as fh:
        for ev in (start, end):
            fh.write(json.dumps(ev, separators=(",", ":")).encode() + b"\n")
    _, loaded = _read(ws)
    folded = _folded(ws)
    assert loaded.outcomes == folded.outcomes and loaded.findings == folded.findings
    assert loaded.outcomes is not None
    before = json.loads((_run_dir(ws) / AGGREGATE_FILE).read_text())
    flow = next(f for f in before["aggregate"]["flows"] if f["flow_id"] == start["flow_id"])
    assert loaded.outcomes[start["flow_id"]].passed == flow["passed"] + 1


def _hostile_docs(doc: dict) -> list[tuple[str, bytes]]:
    """Saved aggregates that must not be believed (each replaces the real one)."""
    out: list[tuple[str, bytes]] = [
        ("not JSON", b'{"format":"flowscribe-aggregate","version":1,'),
        ("a list", b"[1, 2, 3]"),
        ("junk bytes", b"\x00\xff" * 100),
    ]

    def variant(name: str, change) -> None:  # type: ignore[no-untyped-def]
        copy = json.loads(json.dumps(doc))
        change(copy)
        out.append((name, json.dumps(copy).encode()))

    variant("future version", lambda d: d.update(version=99))
    variant("another run's", lambda d: d.update(run_id="20000101-000000-dead"))
    variant("past the trace's end", lambda d: d["trace"].update(bytes=d["trace"]["bytes"] + 10))
    variant("of another trace", lambda d: d["trace"].update(sha256_sampled="0" * 64))
    variant("a count that is text", lambda d: d["aggregate"]["flows"][0].update(passed="lots"))
    variant("a negative count", lambda d: d["aggregate"]["flows"][0].update(failed=-5))
    variant("durations out of step", lambda d: d["aggregate"]["flows"][0]["durations"].update(
        count=10**9))
    variant("a duration bucket past any duration", lambda d: d["aggregate"]["flows"][0].update(
        durations={"count": 1, "total": 1.0, "min": 1.0, "max": 1.0, "exact": None,
                   "buckets": [[10**7, 1]]}))
    variant("flows not objects", lambda d: d["aggregate"].update(flows=[1, "x", None]))
    variant("an unhashable issue key", lambda d: d["aggregate"]["issues"].append(
        {"key": [[1], {}, None, None], "first": {}, "latest": {}, "count": 1}))
    variant("the aggregate missing", lambda d: d.pop("aggregate"))
    return out


def test_a_stale_corrupt_or_hostile_saved_aggregate_is_ignored(ws: Path) -> None:
    folded = _folded(ws)
    path = _run_dir(ws) / AGGREGATE_FILE
    doc = json.loads(path.read_text())
    for name, data in _hostile_docs(doc):
        path.write_bytes(data)
        index = TraceIndex(ws / ".autodev")
        index.read_findings()
        assert index.snapshot().outcomes is None, name  # not believed: folding first
        _, shown = _read(ws)
        assert shown.outcomes == folded.outcomes, name
        assert shown.findings == folded.findings, name
    # A trace rewritten after the aggregate was saved (same size, other bytes).
    path.write_text(json.dumps(doc))
    trace = _run_dir(ws) / "trace.jsonl"
    data = trace.read_bytes()
    trace.write_bytes(data.replace(b'"status":"passed"', b'"status":"failed"', 1))
    index = TraceIndex(ws / ".autodev")
    index.read_findings()
    assert index.snapshot().outcomes is None


def _events_of(trace: Path, instance: str, span: tuple[int, int | None] | None) -> list[dict]:
    start, end = span if span is not None else (0, None)
    return [ev for ev in iter_events(trace, contains=(field_marker("instance", instance),),
                                     start=start, limit=end)
            if ev.get("instance") == instance]


def test_a_failed_instance_s_events_are_read_from_its_span_alone(ws: Path) -> None:
    index, snap = _read(ws)
    trace = _run_dir(ws) / "trace.jsonl"
    failed = {f.instance for f in snap.findings if f.instance}
    assert failed
    size = trace.stat().st_size
    for instance in failed:
        span = index.instance_span(instance)
        assert span is not None, instance
        start, end = span
        assert (end or size) - start < size  # less than the whole trace
        assert _events_of(trace, instance, span) == _events_of(trace, instance, None)
    assert index.instance_span("never-ran") is None


def test_spans_from_every_line_of_every_instance_match_a_whole_read(ws: Path) -> None:
    # Wherever a reader knows a line of an instance from (here: each of its lines), the
    # span found from it holds exactly what reading the whole trace finds.
    trace = _run_dir(ws) / "trace.jsonl"
    data = trace.read_bytes()
    at = 0
    lines = []
    for raw in data.splitlines(keepends=True):
        lines.append((at, json.loads(raw)))
        at += len(raw)
    for offset, ev in lines:
        inst = ev.get("instance")
        if not isinstance(inst, str):
            continue
        span = instance_span(trace, inst, offset)
        assert span is not None
        assert _events_of(trace, inst, span) == _events_of(trace, inst, None), (inst, offset)
        # A window too small to hold the start or the end says so (read the whole file).
        small = instance_span(trace, inst, offset, reach=1)
        assert small is None or _events_of(trace, inst, small) == _events_of(trace, inst, None)


#: A run that stays live: it snapshots its aggregate after every batch (whatever its
#: size), records on after the last snapshot it will take, then waits on stdin.
LIVE_APP = """\
import sys
import flowscribe
import flowscribe._finish as finish

finish.SNAPSHOT_EVERY_S, finish.SNAPSHOT_MIN_BYTES = 0.0, 0
flowscribe.init(app_name="live")
for n in range(200):
    with flowscribe.flow("orders/submit", n=n) as f:
        if n % 9 == 0:
            f.failure("DATA.EMPTY", "no rows")
        else:
            f.success("sent")
    flowscribe.flush()
finish.SNAPSHOT_EVERY_S = 3600.0  # no snapshot of what follows
for n in range(200, 260):
    with flowscribe.flow("orders/submit", n=n) as f:
        f.success("sent")
flowscribe.flush()
print("ready", flush=True)
sys.stdin.readline()
"""


def test_a_live_runs_snapshot_and_what_followed_show_what_folding_shows(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    ws = tmp_path / "live"
    (ws / ".autodev").mkdir(parents=True)
    (ws / ".autodev" / "ra.yaml").write_text(
        "version: 1\nprofile: all\nsinks:\n  - type: jsonl\n    path: .autodev/trace.jsonl\n"
        "artifacts:\n  per_run_dirs: true\n", encoding="utf-8")
    (ws / "app.py").write_text(LIVE_APP, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCRIBE_", "RA_"))}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ws, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        snapshot = json.loads((_run_dir(ws) / AGGREGATE_FILE).read_text())
        assert snapshot["aggregate"]["ended"] is None
        assert snapshot["trace"]["bytes"] < (_run_dir(ws) / "trace.jsonl").stat().st_size
        index, loaded = _read(ws)
        assert index.snapshot().ended is None  # still running
        folded = _folded(ws)
        assert loaded.outcomes == folded.outcomes and loaded.verdicts == folded.verdicts
        assert loaded.outcomes is not None
        outcome = loaded.outcomes["orders/submit"]
        assert (outcome.passed, outcome.failed) == (237, 23)
    finally:
        proc.communicate("\n", timeout=60)
