"""Every argument of every public marker is the app's, untrusted (issue 16 §4).

Whatever a marker is given, no exception reaches the app, the event is kept when it can
be, every trace line parses and matches the schema, and the run still writes summary.md
and ask.md. Named cases first (each one raised into the app or lost the artifacts once),
then properties over arguments of every marker.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from _project import of_type, read_lines, run_python
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flowscribe
from flowscribe.core import Event, Session

SCHEMA = json.loads(
    (Path(flowscribe.__file__).parent / "schema" / "trace.schema.json").read_text("utf-8")
)
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


class BadStr:
    """An object whose text cannot be had."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class BadHash(str):
    """A severity whose hash raises (a str subclass, so it looks like text)."""

    def __hash__(self) -> int:
        raise RuntimeError("no hash")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no eq")


class BadFloat:
    def __float__(self) -> float:
        raise RuntimeError("no float")


def run_artifacts(root: Path, *, failed: bool = True) -> list[dict[str, Any]]:
    """The run's trace, every line valid; asserts summary.md was written, and ask.md
    (written by default only when the run failed)."""
    events = read_lines(root / ".autodev" / "trace.jsonl")
    for ev in events:
        VALIDATOR.validate(ev)
    assert (root / ".autodev" / "summary.md").read_text(encoding="utf-8")
    if failed:
        assert (root / ".autodev" / "ask.md").read_text(encoding="utf-8")
    return events


def test_a_metric_too_large_for_a_float_is_recorded_without_a_value(project: Path) -> None:
    s = Session(app_name="t")
    with s.flow("f/metric") as f:
        assert f.metric("rows", 10**400) is not None
        f.metric("rows", BadFloat(), unit=BadStr())
        f.failure("DATA.EMPTY", "no rows")
    s.end_session()
    metrics = of_type(run_artifacts(project), "metric")
    assert [m["value"] for m in metrics] == [None, None]
    assert metrics[1]["unit"] == "<unprintable BadStr>"


def test_classes_units_and_causes_whose_str_raises_are_placeholders(project: Path) -> None:
    s = Session(app_name="t")
    with s.flow("f/bad") as f:
        eid = f.failure(BadStr(), BadStr(), caused_by=BadStr())  # type: ignore[arg-type]
        f.checkpoint("x", caused_by=BadStr())
    s.end_session()
    assert eid is not None
    events = run_artifacts(project)
    fail = of_type(events, "failure")[0]
    assert fail["error_class"] == "<unprintable BadStr>"
    assert fail["reason"] == "<unprintable BadStr>"
    assert of_type(events, "flow_end")[0]["status"] == "failed"


def test_a_severity_whose_hash_raises_is_kept_as_info(project: Path) -> None:
    s = Session(app_name="t")
    with s.flow("f/sev") as f:
        assert f.checkpoint("x", severity=BadHash("warn")) is not None
        assert f.failure("X.Y", "r", severity=BadHash("x")) is not None
    s.end_session()
    events = run_artifacts(project)
    assert {e["severity"] for e in of_type(events, "checkpoint", "failure")} <= {
        "info", "warn", "error"
    }


def test_a_lone_surrogate_in_a_flow_id_and_reason_keeps_the_artifacts(project: Path) -> None:
    name = os.fsdecode(b"caf\xe9.csv")  # what a non-UTF-8 file name decodes to
    s = Session(app_name="t")
    with s.flow(f"files/{name}", path=name) as f:
        f.checkpoint(name, file=name)
        f.failure("DATA.BAD", f"cannot read {name}", path=name)
    s.end_session()
    events = run_artifacts(project)
    fail = of_type(events, "failure")[0]
    assert fail["flow_id"] == "files/caf\\udce9.csv"
    assert fail["reason"] == "cannot read caf\\udce9.csv"
    assert fail["evidence"]["path"] == "caf\\udce9.csv"
    assert "caf\\udce9.csv" in (project / ".autodev" / "summary.md").read_text("utf-8")


def test_evidence_with_a_number_too_long_to_print_keeps_the_failure(project: Path) -> None:
    s = Session(app_name="t")
    with s.flow("f/huge") as f:
        eid = f.failure("DATA.HUGE", "big", n=10**5000, ok=1)
    s.end_session()
    assert eid is not None
    fail = of_type(run_artifacts(project), "failure")[0]
    assert fail["evidence"]["ok"] == 1
    assert str(fail["evidence"]["n"]).startswith("<int of ")


def test_a_number_too_long_to_print_inside_evidence_keeps_the_rest(project: Path) -> None:
    # Nested, it goes the redactor's slow way, which once lost the whole evidence to it.
    s = Session(app_name="t")
    with s.flow("f/huge") as f:
        f.failure("DATA.HUGE", "big", sizes={"n": 10**5000, "m": 2}, ok=1)
    s.end_session()
    fail = of_type(run_artifacts(project), "failure")[0]
    assert fail["evidence"]["ok"] == 1 and fail["evidence"]["sizes"]["m"] == 2
    assert str(fail["evidence"]["sizes"]["n"]).startswith("<int of ")


def test_deeply_nested_flows_all_end_and_keep_the_artifacts(project: Path) -> None:
    s = Session(app_name="t")

    def nest(depth: int) -> None:
        with s.flow(f"deep/{depth}") as f:
            if depth == 300:
                f.failure("DATA.DEEP", "at the bottom")
            else:
                nest(depth + 1)

    nest(0)
    s.end_session()
    events = run_artifacts(project)
    ends = of_type(events, "flow_end")
    assert len(ends) == 301
    assert of_type(events, "flow_start")[-1]["parent_flow"] == "deep/299"


def test_a_forked_child_leaving_its_parents_flow_does_not_end_it(project: Path) -> None:
    result = run_python(
        """\
        import os
        import flowscribe
        flowscribe.init(app_name="fork")
        with flowscribe.flow("jobs/fork") as f:
            pid = os.fork()
            if pid == 0:
                f.checkpoint("in the child")
            else:
                os.waitpid(pid, 0)
                f.success("done")
        if pid == 0:
            flowscribe.end_session()
            os._exit(0)
        """,
        project,
    )
    assert result.returncode == 0, result.stderr
    events = run_artifacts(project, failed=False)
    ends = of_type(events, "flow_end")
    assert len(ends) == 1 and ends[0]["status"] == "passed"
    child = of_type(events, "checkpoint")[0]
    assert child["instance"] == ends[0]["instance"] and child["pid"] != ends[0]["pid"]


# -- properties ----------------------------------------------------------------------------

text = st.text(max_size=40) | st.sampled_from(
    ["", "password=hunter2secret", os.fsdecode(b"caf\xe9"), "\udcff", "a\x00b", "é" * 5]
)
odd = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**300),
    st.floats(), text, st.binary(max_size=10), st.lists(st.integers(), max_size=3),
    st.builds(BadStr), st.builds(BadFloat), st.builds(object),
    st.dictionaries(text, st.integers(), max_size=3),
)
severity = st.one_of(
    st.sampled_from(["debug", "info", "warn", "WARNING", "error", "critical", "fatal"]),
    text, st.builds(BadHash, text), st.integers(), st.none(), st.lists(st.integers()),
)
evidence = st.dictionaries(
    st.text(alphabet="abcxyz_", min_size=1, max_size=8), odd, max_size=4
)
tags = st.none() | st.lists(odd, max_size=3) | text


def checked(root: Path, events_before: int) -> None:
    """Every line so far parses and matches the schema, and at least one was added."""
    events = read_lines(root / ".autodev" / "trace.jsonl")
    assert len(events) > events_before
    for ev in events[events_before:]:
        VALIDATOR.validate(ev)


@pytest.mark.parametrize("marker", ["checkpoint", "success", "failure", "metric", "exception",
                                    "add_event"])
def test_any_arguments_to_a_marker_never_raise_and_keep_the_run(
    project: Path, marker: str
) -> None:
    s = Session(app_name="t")
    s.flush()  # run_start
    count = [len(read_lines(project / ".autodev" / "trace.jsonl"))]

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(flow_id=text, a=odd, b=odd, sev=severity, ev=evidence, tg=tags, corr=evidence)
    def check(flow_id: str, a: Any, b: Any, sev: Any, ev: dict[str, Any], tg: Any,
              corr: dict[str, Any]) -> None:
        with s.flow(flow_id or "f", tags=tg, **corr) as f:
            if marker == "checkpoint":
                f.checkpoint(a, severity=sev, caused_by=b, **ev)
            elif marker == "success":
                f.success(a, step=b, severity=sev, **ev)
            elif marker == "failure":
                f.failure(a, b, step=a, severity=sev, caused_by=b, **ev)
            elif marker == "metric":
                f.metric(a, b, unit=a, severity=sev, **ev)
            elif marker == "exception":
                try:
                    raise ValueError(a)
                except ValueError as exc:
                    f.exception(exc, step=b, severity=sev, **ev)
            else:
                f.add_event(Event(event_type=a if isinstance(a, str) and a else "failure",
                                  step=b, evidence=ev, error_class=a, reason=b,
                                  severity=sev, tags=tg, caused_by=b, value=a, unit=b))
        s.flush()
        checked(project, count[0])
        count[0] = len(read_lines(project / ".autodev" / "trace.jsonl"))

    check()
    s.end_session()
    run_artifacts(project, failed=marker in ("failure", "exception"))


@pytest.fixture(scope="module")
def default_session_elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The default session these examples start (hypothesis reruns a test's body, so no
    per-test fixture) lives in a folder of its own, never the repository's, and ends with
    the module rather than at the test process's exit."""
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("default-session"))
    try:
        yield
    finally:
        flowscribe.end_session()
        os.chdir(here)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flow_id=odd, parent=odd, cause=odd, tg=tags)
@pytest.mark.usefixtures("default_session_elsewhere")
def test_any_flow_arguments_never_raise(flow_id: Any, parent: Any, cause: Any, tg: Any) -> None:
    # The default session exercises the argument handling that runs before recording.
    f = flowscribe.flow(flow_id, parent=parent, tags=tg, caused_by=cause)
    with f:
        f.checkpoint("x")
    assert sys.exc_info()[0] is None
