"""aggregate.json: a finished run saves its aggregate beside summary.md, and reading it
back gives what folding the run's trace gives; a file out of step with its trace, or out
of shape, reads as none."""

from __future__ import annotations

import json
import os
from pathlib import Path

from _project import run_python

from flowscribe import runs
from flowscribe.aggregate import aggregate_to_dict
from flowscribe.artifacts import aggregate_trace
from flowscribe.artifacts.aggregate_file import AGGREGATE_FILE, load_aggregate
from flowscribe.runs import RunInfo

APP = """\
import flowscribe, threading
flowscribe.init(app_name="agg", mode="test")
for n in range(700):  # past the exact durations kept: the sketch is saved too
    with flowscribe.flow("shop/order", order=str(n)) as f:
        f.metric("lines", n % 7, unit="count")
        if n % 50 == 1:
            f.failure("DATA.EMPTY", f"no lines on order {n}", rows=0)
        elif n % 3:
            f.success("placed")
try:
    with flowscribe.flow("shop/pay"):
        raise TimeoutError("bank did not answer")
except TimeoutError:
    pass
flowscribe.flow("shop/email").__enter__()  # never ended: an orphan
flowscribe.end_session()
"""


def _run(project: Path) -> Path:
    done = run_python(APP, project)
    assert done.returncode == 0, done.stderr
    [run_dir] = (project / ".autodev" / "runs").iterdir()
    return run_dir


def _comparable(agg: object) -> dict:  # type: ignore[type-arg]
    d = aggregate_to_dict(agg)  # type: ignore[arg-type]
    # What only a reader of the file counts (markers it saw, lines it skipped) aside.
    for key in ("_redacted_seen", "skipped_lines", "not_written", "not_written_why"):
        d.pop(key)
    return d


def test_a_finished_run_saves_the_aggregate_summary_md_was_made_from(project: Path) -> None:
    run_dir = _run(project)
    saved = load_aggregate(run_dir)
    assert saved is not None
    agg, covered = saved
    trace = run_dir / "trace.jsonl"
    assert covered == os.path.getsize(trace)  # the whole trace, summary event included
    folded, _ = aggregate_trace(trace, None, None)
    assert _comparable(agg) == _comparable(folded)
    assert agg.verdicts() == folded.verdicts()
    order = agg.flows["shop/order"]
    assert not order.durations.exact and order.p95_ms == folded.flows["shop/order"].p95_ms
    assert agg.orphan_count() == 1 and agg.exception_count == 1
    doc = json.loads((run_dir / AGGREGATE_FILE).read_text())
    assert (doc["format"], doc["version"], doc["run_id"]) == \
        ("flowscribe-aggregate", 1, run_dir.name)


def test_a_saved_aggregate_out_of_step_with_its_trace_reads_as_none(project: Path) -> None:
    run_dir = _run(project)
    trace = run_dir / "trace.jsonl"
    original = trace.read_bytes()
    trace.write_bytes(original + b'{"schema":1}\n')  # written after: still good, up to it
    assert load_aggregate(run_dir) is not None
    trace.write_bytes(original[:-10])  # cut short
    assert load_aggregate(run_dir) is None
    trace.write_bytes(original.replace(b'"app":"agg"', b'"app":"AGG"', 1))  # rewritten
    assert load_aggregate(run_dir) is None
    trace.write_bytes(b"x" * len(original))  # replaced
    assert load_aggregate(run_dir) is None
    trace.write_bytes(original)
    path = run_dir / AGGREGATE_FILE
    good = path.read_text()
    for bad in ("", "null", "{}", good[: len(good) // 2], good.replace('"passed":', '"passed":"x",'
                '"was":', 1), good.replace('"count":', '"count":-', 1)):
        path.write_text(bad)
        assert load_aggregate(run_dir) is None, bad[:80]
    path.unlink()
    os.symlink("/dev/zero", path)  # not a regular file: never read
    assert load_aggregate(run_dir) is None


def test_a_run_killed_before_its_end_saves_none(project: Path) -> None:
    done = run_python("""\
        import os, flowscribe
        flowscribe.init(app_name="agg", mode="test")
        with flowscribe.flow("shop/order"):
            pass
        os._exit(0)
        """, project)
    assert done.returncode == 0, done.stderr
    assert not list((project / ".autodev").rglob(AGGREGATE_FILE))


def test_listing_runs_reads_a_run_s_counts_from_its_saved_aggregate(project: Path) -> None:
    run_dir = _run(project)
    trace = run_dir / "trace.jsonl"

    def infos() -> list[RunInfo]:
        runs._CACHE.clear()
        return runs.read_run_infos(trace)

    saved = infos()
    aside = run_dir / AGGREGATE_FILE
    aside.rename(run_dir / "aside.json")
    folded = infos()
    assert saved == folded
    [info] = saved
    assert info.verdicts["failures"] == 14 and info.verdicts["exceptions"] == 1
    # Lines written after the aggregate was saved are read on top of it.
    (run_dir / "aside.json").rename(aside)
    with open(trace, "rb") as fh:
        ends = [line for line in fh if b'"event_type":"flow_end"' in line]
    with open(trace, "ab") as fh:
        fh.write(ends[0])
    grown = infos()
    aside.unlink()
    assert grown == infos() and grown[0].verdicts != info.verdicts
