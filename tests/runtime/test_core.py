"""Sessions, flows and markers: what a user records and what lands in the trace."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from _project import line_of, of_type, run_python, trace, write_catalog, write_config

import flowscribe
from flowscribe.core import Event, Flow, NullFlow, Session

#: Sessions are rooted in a temporary project: this file is outside it, so absolute.
HERE = Path(__file__).resolve().as_posix()


def by_step(events: list[dict[str, Any]], step: str) -> dict[str, Any]:
    found = [e for e in events if e["step"] == step]
    assert len(found) == 1, (step, found)
    return found[0]


def test_the_original_quickstart_works_verbatim_and_writes_artifacts(project: Path) -> None:
    (project / ".autodev" / "ra.yaml").unlink()  # the documented defaults
    result = run_python(  # the README's quickstart, character for character
        """\
        from flowscribe.core import Session, Event
        session = Session(app_name="my-app", mode="dev", tags=["demo"])
        flow = session.start_flow("demo/flow")
        flow.add_event(Event(event_type="checkpoint", flow_id=flow.flow_id, step="start", evidence={"count": 1}))
        session.end_session()
        """,  # noqa: E501
        project,
    )
    assert result.returncode == 0, result.stderr
    assert "flowscribe:" not in result.stderr  # a clean run has nothing to warn about
    events = trace(project)
    assert [e["event_type"] for e in events] == ["run_start", "flow_start", "checkpoint", "summary"]
    start, fstart, cp, summary = events
    assert start["evidence"]["app"] == "my-app" and start["evidence"]["mode"] == "dev"
    assert start["tags"] == ["demo"]
    assert cp["flow_id"] == "demo/flow" and cp["step"] == "start"
    assert cp["evidence"] == {"count": 1}
    assert (cp["file"], cp["line"]) == ("app.py", 4)
    assert cp["instance"] == fstart["instance"]
    # Never ended: reported as orphaned.
    assert summary["evidence"]["orphaned"] == 1
    assert summary["evidence"]["orphaned_instances"][0]["instance"] == fstart["instance"]
    autodev = project / ".autodev"
    run_dir = autodev / "runs" / start["run_id"]
    assert (run_dir / "trace.jsonl").read_bytes() == (autodev / "trace.jsonl").read_bytes()
    assert (run_dir / "summary.md").is_file() and (autodev / "summary.md").is_file()
    assert os.path.realpath(autodev / "latest") == str(run_dir.resolve())
    assert "console" not in result.stdout  # the console sink writes to stderr
    # The console prints verdicts and the run's end by default; a checkpoint is neither.
    assert "1 orphaned" in result.stderr and "demo/flow" not in result.stderr


def test_everyday_markers_record_what_the_flow_meant_and_did(project: Path) -> None:
    session = Session(app_name="shop", mode="test")
    with session.flow("orders/submit", ticker="AAPL") as f:  # L:flow
        f.checkpoint("validate", rows=120)  # L:checkpoint
        f.metric("latency_ms", 840.0, unit="ms")  # L:metric
        f.failure("EXTERNAL.TIMEOUT", "no ack in 1s", severity="error", waited_ms=1000)  # L:failure
        f.success("ack received", order_id="X1")  # L:success
    session.end_session()

    events = [e for e in trace(project) if e["flow_id"] == "orders/submit"]
    types = [e["event_type"] for e in events]
    assert types == ["flow_start", "checkpoint", "metric", "failure", "success", "flow_end"]
    start, cp, metric, fail, ok, end = events
    for ev in events:
        assert ev["correlation"] == {"ticker": "AAPL"}
        assert ev["instance"] == start["instance"] == start["id"]
        assert ev["file"] == HERE
        assert ev["function"] == "test_everyday_markers_record_what_the_flow_meant_and_did"
        assert ev["pid"] == os.getpid() and ev["thread"] == "MainThread"
    assert start["line"] == line_of("flow")
    assert (cp["step"], cp["evidence"]) == ("validate", {"rows": 120})
    assert cp["line"] == line_of("checkpoint")
    assert (metric["step"], metric["value"], metric["unit"]) == ("latency_ms", 840.0, "ms")
    assert metric["line"] == line_of("metric")
    assert fail["error_class"] == "EXTERNAL.TIMEOUT" and fail["reason"] == "no ack in 1s"
    assert fail["severity"] == "error" and fail["evidence"] == {"waited_ms": 1000}
    assert fail["line"] == line_of("failure")
    assert ok["reason"] == "ack received" and ok["evidence"] == {"order_id": "X1"}
    assert ok["line"] == line_of("success")
    # A failure anywhere fails the flow; the end names the first failure and links to it.
    assert end["status"] == "failed" and end["error_class"] == "EXTERNAL.TIMEOUT"
    assert end["caused_by"] == fail["id"]
    assert isinstance(end["duration_ms"], float) and end["duration_ms"] >= 0
    seqs = [e["seq"] for e in trace(project)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_verdicts_passed_failed_unfinished(project: Path) -> None:
    session = Session()
    with session.flow("a/passes") as f:
        f.success()
    with session.flow("a/fails") as f:
        f.failure("DATA.EMPTY", "no rows")
    with session.flow("a/says_nothing") as f:
        f.checkpoint("step")
    session.end_session()
    ends = {e["flow_id"]: e for e in of_type(trace(project), "flow_end")}
    assert ends["a/passes"]["status"] == "passed"
    assert ends["a/fails"]["status"] == "failed"
    assert ends["a/says_nothing"]["status"] == "unfinished"
    summary = of_type(trace(project), "summary")[0]["evidence"]
    assert (summary["flows"], summary["passed"], summary["failed"], summary["unfinished"]) == (
        3, 1, 1, 1)
    assert summary["orphaned"] == 0 and summary["orphaned_instances"] == []


def raise_in_helper() -> None:
    raise KeyError("missing column ema_21")  # L:raise-helper


def test_an_escaping_exception_is_recorded_at_the_raising_line_and_propagates(
    project: Path,
) -> None:
    session = Session()
    err = None
    with pytest.raises(KeyError) as info, session.flow("indicators/ema/compute", ticker="MSFT"):
        err = KeyError("placeholder")
        raise_in_helper()  # L:call-helper
    assert info.value is not err and info.value.args == ("missing column ema_21",)
    session.end_session()

    events = trace(project)
    (exc,) = of_type(events, "exception")
    assert exc["flow_id"] == "indicators/ema/compute"
    assert exc["error_class"] == "SYSTEM" and exc["severity"] == "error"
    assert (exc["file"], exc["line"]) == (HERE, line_of("raise-helper"))
    assert exc["function"] == "raise_in_helper"
    assert exc["exception"]["type"] == "KeyError"
    assert exc["exception"]["message"] == "'missing column ema_21'"
    frames = exc["exception"]["frames"]
    assert [f["line"] for f in frames] == [line_of("call-helper"), line_of("raise-helper")]
    assert all(f["file"] == HERE for f in frames)
    (end,) = of_type(events, "flow_end")
    assert end["status"] == "failed" and end["error_class"] == "SYSTEM"
    assert end["caused_by"] == exc["id"]


def test_an_exception_from_a_library_is_placed_on_the_users_line(project: Path) -> None:
    session = Session()
    with pytest.raises(json.JSONDecodeError), session.flow("data/parse"):
        json.loads("{not json")  # L:library-call
    session.end_session()
    (exc,) = of_type(trace(project), "exception")
    assert (exc["file"], exc["line"]) == (HERE, line_of("library-call"))
    # The traceback still goes down into the library, with absolute paths there.
    assert exc["exception"]["frames"][-1]["file"].endswith("json/decoder.py")


def test_nested_flows_record_one_exception_and_both_fail(project: Path) -> None:
    session = Session()
    with pytest.raises(ZeroDivisionError), session.flow("outer"), session.flow("inner"):
        _ = 1 / 0
    session.end_session()
    events = trace(project)
    (exc,) = of_type(events, "exception")
    ends = {e["flow_id"]: e for e in of_type(events, "flow_end")}
    assert ends["inner"]["status"] == ends["outer"]["status"] == "failed"
    assert ends["inner"]["caused_by"] == ends["outer"]["caused_by"] == exc["id"]


def test_base_exceptions_end_the_flow_without_an_exception_event(project: Path) -> None:
    session = Session()
    with pytest.raises(KeyboardInterrupt), session.flow("interrupted"):
        raise KeyboardInterrupt
    session.end_session()
    events = trace(project)
    assert of_type(events, "exception") == []
    assert of_type(events, "flow_end")[0]["status"] == "unfinished"


def test_parents_from_nesting_explicit_flows_ids_and_instance_ids(project: Path) -> None:
    session = Session()
    with session.flow("premarket/prepare", date="2026-01-02") as outer:
        with session.flow("data/fetch", ticker="AAPL") as inner:
            pass
        other = session.flow("side/job", parent="premarket/prepare")
        with other:
            pass
    with session.flow("late/child", parent=outer) as late:
        pass
    with session.flow("by/instance", parent=inner.instance) as by_instance:
        pass
    session.end_session()
    assert (inner.parent, inner.parent_flow) == (outer.instance, "premarket/prepare")
    # A nested flow inherits the enclosing flow's correlation keys.
    assert inner.correlation == {"date": "2026-01-02", "ticker": "AAPL"}
    assert other.parent_flow == "premarket/prepare" and other.parent is None
    assert (late.parent, late.parent_flow) == (outer.instance, "premarket/prepare")
    assert by_instance.parent == inner.instance
    starts = {e["flow_id"]: e for e in of_type(trace(project), "flow_start")}
    assert starts["data/fetch"]["parent"] == outer.instance
    assert starts["premarket/prepare"]["parent"] is None


def test_caused_by_links_events_and_flows(project: Path) -> None:
    session = Session()
    with session.flow("agent/decision/evaluate") as f:
        decided = f.checkpoint("decided", action="buy")
    with session.flow("orders/submit", caused_by=decided) as g:
        g.checkpoint("sent", caused_by=decided)
    session.end_session()
    events = trace(project)
    start = next(e for e in of_type(events, "flow_start") if e["flow_id"] == "orders/submit")
    sent = next(e for e in events if e["step"] == "sent")
    assert decided is not None
    assert start["caused_by"] == decided and sent["caused_by"] == decided


def test_event_objects_take_every_documented_field(project: Path) -> None:
    session = Session()
    flow = session.start_flow("demo/flow")
    cause = flow.add_event(Event("checkpoint", flow.flow_id, step="start", evidence={"n": 1}))
    ev = Event(
        event_type="failure", flow_id=flow.flow_id, step="check", evidence={"rows": 0},
        error_class="DATA.EMPTY", reason="no rows", severity="critical", tags=["urgent"],
        caused_by=cause,
    )
    assert flow.add_event(ev) == ev.id and ev.id is not None
    flow.add_event(Event("metric", flow.flow_id, step="rows", value=3, unit="rows"))
    flow.end()
    session.end_session()
    events = trace(project)
    fail = of_type(events, "failure")[0]
    assert (fail["error_class"], fail["reason"]) == ("DATA.EMPTY", "no rows")
    assert fail["severity"] == "critical"
    assert fail["tags"] == ["urgent"] and fail["caused_by"] == cause and fail["step"] == "check"
    metric = of_type(events, "metric")[0]
    assert (metric["value"], metric["unit"]) == (3.0, "rows")
    assert of_type(events, "flow_end")[0]["status"] == "failed"


def test_module_level_api_uses_a_default_session(project: Path) -> None:
    session = flowscribe.init(app_name="mod", mode="ci", tags=["t1"])
    assert flowscribe.get_session() is session
    with flowscribe.flow("orders/submit", ticker="AAPL") as f:
        assert flowscribe.current_flow() is f
        flowscribe.checkpoint("validate", rows=1)  # L:module-checkpoint
        flowscribe.metric("latency_ms", 12.5, unit="ms")
        flowscribe.success("done")
    assert flowscribe.current_flow() is None
    flowscribe.end_session()
    events = trace(project)
    cp = by_step(events, "validate")
    assert (cp["file"], cp["line"]) == (HERE, line_of("module-checkpoint"))
    assert of_type(events, "flow_end")[0]["status"] == "passed"
    assert events[0]["tags"] == ["t1"]


def test_default_session_starts_on_first_use(project: Path) -> None:
    with flowscribe.flow("first/use") as f:
        f.success()
    session = flowscribe.get_session()
    assert session.active and session.run_id
    flowscribe.end_session()
    assert trace(project)[0]["event_type"] == "run_start"


def test_markers_outside_a_flow_are_ignored_with_one_warning(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flowscribe.init()
    assert flowscribe.checkpoint("nowhere") is None
    assert flowscribe.failure("X.Y", "nowhere") is None
    err = capsys.readouterr().err
    assert err.count("outside any flow") == 1


@flowscribe.traced("indicators/ema/compute")  # L:traced-sync
def compute(ticker: str, window: int = 9) -> float:
    flowscribe.checkpoint("computed", window=window)
    return 1.5


@flowscribe.traced("agent/decision/evaluate", mode="sim")  # L:traced-async
async def decide(ticker: str) -> str:
    await asyncio.sleep(0)
    flowscribe.success("buy")
    return "buy"


@flowscribe.traced("orders/submit")
def submit(ticker: str) -> None:
    raise TimeoutError("no ack")


def test_traced_functions_sync_and_async(project: Path) -> None:
    write_catalog(project, """\
        version: 1
        flows:
          - id: "indicators/ema/compute"
            correlation_keys: ["ticker"]
          - id: "agent/decision/evaluate"
            correlation_keys: ["ticker"]
        """)
    flowscribe.init()
    assert compute("AAPL") == 1.5 and compute.__name__ == "compute"
    assert compute(ticker="MSFT", window=21) == 1.5
    assert asyncio.run(decide("NVDA")) == "buy"
    with pytest.raises(TimeoutError, match="no ack"):
        submit("AMZN")
    flowscribe.end_session()

    events = trace(project)
    starts = of_type(events, "flow_start")
    assert [(e["flow_id"], e["correlation"]) for e in starts] == [
        ("indicators/ema/compute", {"ticker": "AAPL"}),
        ("indicators/ema/compute", {"ticker": "MSFT"}),
        ("agent/decision/evaluate", {"mode": "sim", "ticker": "NVDA"}),
        ("orders/submit", {}),
    ]
    assert starts[0]["line"] == line_of("traced-sync") and starts[0]["function"] == "compute"
    assert starts[2]["line"] == line_of("traced-async")
    computed = [e for e in events if e["step"] == "computed"]
    assert [e["evidence"]["window"] for e in computed] == [9, 21]
    assert computed[0]["instance"] == starts[0]["instance"]
    ends = of_type(events, "flow_end")
    assert [e["status"] for e in ends] == ["unfinished", "unfinished", "passed", "failed"]
    assert of_type(events, "exception")[0]["exception"]["type"] == "TimeoutError"


def test_catalog_disables_flows_and_applies_defaults(project: Path) -> None:
    write_catalog(project, """\
        version: 1
        defaults:
          tags: ["phase5"]
        flows:
          - id: "debug/probe"
            enabled: false
          - id: "data/fetch/minute_candles"
            parent: "premarket/prepare"
            tags: ["ticker"]
        """)
    session = Session()
    probe = session.flow("debug/probe")
    assert isinstance(probe, NullFlow) and not probe.enabled
    with probe as f:
        assert f.checkpoint("ignored") is None
        assert f.failure("X", "ignored") is None
    with session.flow("data/fetch/minute_candles", tags=["extra"]) as f:
        assert isinstance(f, Flow)
        f.success()
    session.end_session()
    events = trace(project)
    assert not [e for e in events if e["flow_id"] == "debug/probe"]
    start = of_type(events, "flow_start")[0]
    assert start["parent_flow"] == "premarket/prepare" and start["parent"] is None
    assert start["tags"] == ["phase5", "ticker", "extra"]


def test_config_filters_flows_and_severities(project: Path) -> None:
    write_config(project, """\
        version: 1
        profile: narrow
        profiles:
          narrow:
            include_flows: ["orders/**"]
            min_severity: warn
        sinks:
          - type: jsonl
            path: .autodev/trace.jsonl
        """)
    session = Session()
    assert isinstance(session.flow("scratch/probe"), NullFlow)
    with session.flow("orders/submit") as f:
        assert f.checkpoint("quiet") is None  # info < warn
        assert f.checkpoint("loud", severity="warn") is not None
        assert f.success("ok") is None  # not written, but still the verdict
    session.end_session()
    events = trace(project)
    assert [e["step"] for e in of_type(events, "checkpoint")] == ["loud"]
    assert of_type(events, "flow_end")[0]["status"] == "passed"


def test_ra_enabled_0_records_nothing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RA_ENABLED", "0")
    session = Session()
    assert not session.active
    with session.flow("orders/submit") as f:
        f.failure("X", "y")
    session.end_session()
    assert not (project / ".autodev" / "trace.jsonl").exists()
    assert not (project / ".autodev" / "runs").exists()


def test_redaction_applies_to_evidence_reasons_correlation_and_exceptions(
    project: Path,
) -> None:
    session = Session()
    with pytest.raises(RuntimeError), session.flow("auth/login", api_key="sk-live-123") as f:
        f.checkpoint("sent", headers={"Authorization": "Bearer abc.def.ghi"}, db_password="pw")
        f.failure("EXTERNAL.401", "rejected: Bearer A1b2C3d4E5f6G7h8")
        raise RuntimeError("login failed with Bearer Z9y8X7w6V5u4T3s2")
    session.end_session()
    text = (project / ".autodev" / "trace.jsonl").read_text()
    for secret in ("sk-live-123", "abc.def.ghi", '"pw"', "A1b2C3d4E5f6G7h8", "Z9y8X7w6V5u4T3s2"):
        assert secret not in text
    summary = of_type(trace(project), "summary")[0]
    assert summary["evidence"]["redacted"] >= 5


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_bad_evidence_never_raises(project: Path) -> None:
    session = Session()
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    with session.flow("odd/evidence") as f:
        assert f.checkpoint("objects", obj=Unprintable(), nan=float("nan"), cyc=cyclic,
                            data=b"\x00\xff", s={1, 2}) is not None
        assert f.metric("nan", float("nan")) is not None
        assert f.checkpoint(12345) is not None  # a non-str step
    session.end_session()
    events = trace(project)
    assert len(of_type(events, "checkpoint")) == 2
    assert of_type(events, "metric")[0]["value"] is None


def test_odd_marker_arguments_never_raise(project: Path) -> None:
    session = Session()
    with session.flow("odd/arguments") as f:
        assert f.checkpoint("unhashable severity", severity=[]) is not None  # type: ignore[arg-type]
        assert f.success(severity={"a": 1}) is not None  # type: ignore[arg-type]
        assert f.metric("m", "not a number", severity=[]) is not None  # type: ignore[arg-type]
        assert f.failure(None, 42, severity=[]) is not None  # type: ignore[arg-type]
    session.end_session()
    events = trace(project)
    assert [e["event_type"] for e in events if e["flow_id"] == "odd/arguments"] == [
        "flow_start", "checkpoint", "success", "metric", "failure", "flow_end"]
    assert of_type(events, "flow_end")[0]["status"] == "failed"


def test_use_after_end_session_is_harmless(project: Path) -> None:
    session = Session()
    f = session.start_flow("still/open")
    session.end_session()
    size = (project / ".autodev" / "trace.jsonl").stat().st_size
    assert f.checkpoint("late") is None
    f.end()
    with session.flow("after/end") as g:
        g.failure("X", "y")
    session.end_session()
    session.flush()
    assert (project / ".autodev" / "trace.jsonl").stat().st_size == size


def test_an_unusable_autodev_dir_warns_once_and_the_app_runs(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    shutil.rmtree(project / ".autodev")
    (project / ".autodev").write_text("a file where a directory should be")
    session = Session()
    for _ in range(3):
        with session.flow("orders/submit") as f:
            f.failure("X", "y")
    session.end_session()
    err = capsys.readouterr().err
    assert err.count("cannot write") == 1, err


def test_a_bad_config_warns_with_file_line_and_key_then_uses_defaults(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(project, """\
        version: 1
        artifacts:
          ask_md: sometimes
        sinks:
          - type: jsonl
            path: .autodev/trace.jsonl
        """)
    session = Session()
    with session.flow("orders/submit") as f:
        f.success()
    session.end_session()
    err = capsys.readouterr().err
    assert ".autodev/ra.yaml:3" in err and "artifacts.ask_md" in err
    assert of_type(trace(project), "flow_end")[0]["status"] == "passed"


def test_a_second_session_in_one_process_starts_a_new_run(project: Path) -> None:
    first = Session()
    first.end_session()
    assert "FLOWSCRIBE_RUN_ID" not in os.environ  # restored at the end
    second = Session()
    assert second.run_id != first.run_id
    assert os.environ["FLOWSCRIBE_RUN_ID"] == second.run_id
    second.end_session()
    runs = {e["run_id"] for e in trace(project)}
    assert runs == {first.run_id, second.run_id}


@pytest.mark.parametrize("in_flow", [True, False])
def test_unhandled_exception_in_main_thread_is_recorded_then_artifacts(
    project: Path, in_flow: bool
) -> None:
    crash = 'raise ValueError("top-level crash")'
    result = run_python(
        f"""\
        import flowscribe
        flowscribe.init(app_name="crashy")
        with flowscribe.flow("a/ok") as f:
            f.success()
        {"with flowscribe.flow('a/crash'):" if in_flow else "if True:"}
            {crash}
        """,
        project,
    )
    assert result.returncode == 1 and "ValueError: top-level crash" in result.stderr
    events = trace(project)
    (exc,) = of_type(events, "exception")
    assert (exc["file"], exc["line"]) == ("app.py", 6)
    assert exc["flow_id"] == ("a/crash" if in_flow else None)
    assert events[-1]["event_type"] == "summary"
    # In a flow or not, the run's failures and top issues show it, at the raising line.
    where = "in `a/crash`" if in_flow else "outside any flow"
    summary_md = (project / ".autodev" / "summary.md").read_text()
    assert "1 exception" in summary_md
    assert f"`SYSTEM` (`ValueError`) exception {where} at `app.py:6`" in summary_md
    assert "top-level crash" in summary_md
    ask_md = (project / ".autodev" / "ask.md").read_text()
    failures = ask_md.split("## Failures")[1].split("\n## ")[0]
    flow = "`a/crash`" if in_flow else "`(outside any flow)`"
    assert f"1. `ValueError` in {flow} at `app.py:6`" in failures


def test_unhandled_exception_in_a_worker_thread_writes_artifacts_and_app_goes_on(
    project: Path,
) -> None:
    result = run_python(
        """\
        import threading, flowscribe
        from pathlib import Path
        flowscribe.init(app_name="threads")
        def work():
            raise OSError("disk on fire")
        t = threading.Thread(target=work)
        t.start(); t.join()
        print("summary exists:", Path(".autodev/summary.md").is_file())
        with flowscribe.flow("after/crash") as f:
            f.success()
        """,
        project,
    )
    assert result.returncode == 0, result.stderr
    assert "summary exists: True" in result.stdout
    events = trace(project)
    (exc,) = of_type(events, "exception")
    assert exc["thread"] != "MainThread" and exc["exception"]["type"] == "OSError"
    assert of_type(events, "flow_end")[0]["status"] == "passed"
    assert events[-1]["event_type"] == "summary"


def test_without_artifacts_the_summary_event_still_counts(project: Path) -> None:
    write_config(project, """\
        version: 1
        sinks:
          - type: jsonl
            path: .autodev/trace.jsonl
        artifacts:
          summary_md: false
          ask_md: never
        """)
    (project / ".autodev" / "summary.md").write_text("an older run's")
    session = Session()
    with session.flow("a/b") as f:
        f.failure("X.Y", "z")
    session.start_flow("left/open")
    session.end_session()
    summary = of_type(trace(project), "summary")[0]["evidence"]
    assert (summary["flows"], summary["failed"], summary["orphaned"]) == (2, 1, 1)
    assert not (project / ".autodev" / "summary.md").exists()  # no stale copy either
    assert not (project / ".autodev" / "ask.md").exists()


def test_sla_overrides_in_ra_yaml_apply_to_the_run_by_glob(project: Path) -> None:
    write_config(project, """\
        version: 1
        profile: all
        sinks:
          - type: jsonl
            path: .autodev/trace.jsonl
        performance:
          sla_overrides:
            "orders/**": {p95_ms: 600000}
        """)
    write_catalog(project, """\
        version: 1
        flows:
          - id: "orders/submit/limit"
            sla: {p95_ms: 0.001}
          - id: "data/fetch"
            sla: {p95_ms: 0.001}
        """)
    session = Session()
    for flow_id in ("orders/submit/limit", "data/fetch"):
        with session.flow(flow_id) as f:
            time.sleep(0.001)  # past the catalog's 1 µs target, far below the override
            f.success()
    session.end_session()
    summary_md = (project / ".autodev" / "summary.md").read_text()
    # The glob override wins over the catalog for orders/submit/limit only.
    assert "Over their SLA p95: `data/fetch`." in summary_md
    row = next(line for line in summary_md.splitlines() if "`orders/submit/limit`" in line)
    assert "| 600.0 s ✓ |" in row, row


def test_markers_of_a_flow_never_started_carry_its_id_and_no_instance(project: Path) -> None:
    session = Session()
    f = session.flow("orders/submit", ticker="AAPL", api_key="sk-live-1234567890abcdef")
    assert isinstance(f, Flow)
    f.checkpoint("early", rows=1)  # no `with`, no start_flow
    with f:
        f.checkpoint("started")
    session.end_session()
    raw = (project / ".autodev" / "trace.jsonl").read_text()
    assert "sk-live-1234567890abcdef" not in raw
    events = trace(project)
    early, started = by_step(events, "early"), by_step(events, "started")
    assert (early["flow_id"], early["instance"]) == ("orders/submit", None)
    assert early["correlation"] == {"ticker": "AAPL", "api_key": "[REDACTED]"}
    assert started["instance"] == of_type(events, "flow_start")[0]["instance"]
    assert started["correlation"] == early["correlation"]


def test_artifacts_written_mid_run_count_what_was_redacted(project: Path) -> None:
    result = run_python(
        """\
        import threading, flowscribe
        from pathlib import Path
        flowscribe.init(app_name="threads")
        with flowscribe.flow("auth/login") as f:
            f.checkpoint("sent", db_password="hunter2", token="t0ps3cr3t-1")
        def work():
            raise OSError("disk on fire")
        t = threading.Thread(target=work)
        t.start(); t.join()
        print(Path(".autodev/summary.md").read_text())
        """,
        project,
    )
    assert result.returncode == 0, result.stderr
    assert "**Redacted values:** 2" in result.stdout
