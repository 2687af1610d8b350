"""The .autodev layout: run dirs, the latest pointer, listing runs, retention."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from flowscribe.runs import RUN_ID_RE, RunLayout, new_run_id


def _write_trace(path: Path, run_id: str, t0: float, failed: bool = False) -> None:
    def ev(seq: int, event_type: str, **extra: Any) -> dict[str, Any]:
        return {"schema": 1, "id": f"p-{seq}", "run_id": run_id, "seq": seq, "ts": t0 + seq,
                "event_type": event_type, "flow_id": extra.pop("flow_id", "orders/submit"),
                **extra}

    events = [
        ev(1, "run_start", flow_id=None, evidence={"app": "demo", "mode": "sim"}),
        ev(2, "flow_start"),
        ev(3, "checkpoint"),
        ev(4, "flow_end", status="passed", duration_ms=3.0),
    ]
    if failed:
        events += [ev(5, "failure", error_class="X"), ev(6, "flow_end", status="failed"),
                   ev(7, "exception", error_class="SYSTEM")]
    events.append(ev(9, "summary", flow_id=None))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        for e in events:
            fh.write(json.dumps(e, separators=(",", ":")) + "\n")


def test_run_ids_sort_by_time() -> None:
    a, b = new_run_id(1_700_000_000), new_run_id(1_700_000_000.25)
    assert RUN_ID_RE.match(a) and a.startswith("20231114T221320.000Z-")
    assert b.startswith("20231114T221320.250Z-")
    assert a < b < new_run_id(1_700_000_001)


def test_start_run_creates_the_dir_and_points_latest_at_it(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path / ".autodev")
    first = layout.start_run("20261125T140512Z-aaaaaa")
    assert first.is_dir() and layout.latest_run_dir() == first
    assert os.readlink(layout.latest_path) == "runs/20261125T140512Z-aaaaaa"  # relative
    second = layout.start_run("20261125T140513Z-bbbbbb")
    assert layout.latest_run_dir() == second
    assert not [p for p in layout.autodev_dir.iterdir() if p.name.endswith(".tmp")]


def test_latest_falls_back_to_a_pointer_file_where_symlinks_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*_: object) -> None:
        raise OSError("symbolic links are not allowed here")

    monkeypatch.setattr(os, "symlink", no_links)
    layout = RunLayout(tmp_path / ".autodev")
    run = layout.start_run("20261125T140512Z-aaaaaa")
    assert not layout.latest_path.is_symlink()
    assert layout.latest_path.read_text().strip() == "runs/20261125T140512Z-aaaaaa"
    assert layout.latest_run_dir() == run


@pytest.mark.parametrize("pointer", ["../../etc", "runs/../../x", "/tmp", "", "runs/.hidden"])
def test_a_pointer_that_leaves_runs_is_ignored(tmp_path: Path, pointer: str) -> None:
    layout = RunLayout(tmp_path)
    (tmp_path / "runs").mkdir()
    layout.latest_path.write_text(pointer)
    assert layout.latest_run_dir() is None


@pytest.mark.parametrize("bad", ["../x", "a/b", ".hidden", "", "x" * 200])
def test_unsafe_run_ids_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        RunLayout(tmp_path).run_dir(bad)


def test_list_runs_newest_first_with_verdicts_and_artifacts(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path / ".autodev")
    ids = ["20261125T140512Z-aaaaaa", "20261125T140600Z-bbbbbb"]
    for n, rid in enumerate(ids):
        d = layout.start_run(rid)
        _write_trace(d / "trace.jsonl", rid, 1000.0 + 100 * n, failed=n == 1)
    (layout.run_dir(ids[1]) / "summary.md").write_text("# s")
    runs = layout.list_runs()
    assert [r.run_id for r in runs] == ids[::-1]
    newest, oldest = runs
    assert newest.is_latest and not oldest.is_latest
    assert (newest.app, newest.mode) == ("demo", "sim")
    assert (newest.started, newest.ended) == (1101.0, 1109.0)
    assert newest.verdicts == {"passed": 1, "failed": 1, "unfinished": 0, "failures": 1,
                               "exceptions": 1}
    assert oldest.verdicts["failed"] == 0
    assert newest.artifacts["summary"] == layout.run_dir(ids[1]) / "summary.md"
    assert newest.artifacts["ask"] is None
    assert newest.artifacts["trace"] == layout.run_dir(ids[1]) / "trace.jsonl"


def test_runs_of_the_same_second_order_by_their_first_event(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path)
    # the random suffix sorts the other way round from the runs' real order
    for rid, t0 in [("20261125T140512Z-ffffff", 1000.0), ("20261125T140512Z-000000", 1000.5)]:
        _write_trace(layout.start_run(rid) / "trace.jsonl", rid, t0)
    assert [r.run_id for r in layout.list_runs()] == [
        "20261125T140512Z-000000", "20261125T140512Z-ffffff"
    ]


def test_without_run_dirs_runs_come_from_the_shared_trace(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path)
    _write_trace(layout.trace_path, "r1", 1000.0)
    _write_trace(layout.trace_path, "r2", 2000.0, failed=True)
    (tmp_path / "summary.md").write_text("# s")
    runs = layout.list_runs()
    assert [(r.run_id, r.is_latest) for r in runs] == [("r2", True), ("r1", False)]
    assert runs[0].artifacts["summary"] == tmp_path / "summary.md"
    assert runs[1].artifacts["summary"] is None
    assert runs[0].verdicts["exceptions"] == 1


def test_a_running_or_killed_run_has_no_end(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path)
    d = layout.start_run("20261125T140512Z-aaaaaa")
    (d / "trace.jsonl").write_text(
        '{"schema":1,"run_id":"20261125T140512Z-aaaaaa","ts":5,"event_type":"run_start",'
        '"evidence":{}}\n{"schema":1,"event_ty'
    )
    [info] = layout.list_runs()
    assert info.started == 5 and info.ended is None


def test_prune_keeps_the_newest_and_never_the_latest(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path)
    ids = [f"20261125T1405{n:02d}Z-aaaaaa" for n in range(5)]
    for rid in ids:
        layout.start_run(rid)
    (tmp_path / "runs" / "notes.txt").write_text("not a run")
    assert sorted(layout.prune(2)) == ids[:3]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [*ids[3:], "notes.txt"]

    # latest pointing at an older run (e.g. a run that is still going) survives pruning
    layout.start_run("20261125T140600Z-bbbbbb")
    layout.start_run(ids[3])  # re-points latest
    assert layout.prune(1) == [ids[4]]
    assert layout.prune(0) == []
    assert layout.latest_run_dir() == layout.run_dir(ids[3])


def test_a_fifo_in_place_of_a_run_trace_never_blocks_listing(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path / ".autodev")
    run = layout.start_run("20261125T140512.000Z-aaaaaa")
    os.mkfifo(run / "trace.jsonl")  # nothing ever writes to it: opening it would block
    assert [r.run_id for r in layout.list_runs()] == ["20261125T140512.000Z-aaaaaa"]


def test_a_test_run_is_listed_as_one_and_never_moves_latest(tmp_path: Path) -> None:
    from flowscribe.story import baseline_for

    layout = RunLayout(tmp_path / ".autodev")
    ids = [new_run_id(1_700_000_000 + n) for n in range(4)]
    kinds = [False, True, False, True]  # app, test, app, test: oldest first
    for n, (run_id, test) in enumerate(zip(ids, kinds)):
        _write_trace(layout.start_run(run_id, test_run=test) / "trace.jsonl", run_id,
                     1_700_000_000 + n * 10, failed=n == 1)
    assert layout.latest_run_id() == ids[2]  # the newest app run, not the newer test run
    runs = layout.list_runs()
    assert [(r.run_id, r.test_run, r.is_latest) for r in runs] == [
        (ids[3], True, False), (ids[2], False, True), (ids[1], True, False),
        (ids[0], False, False)]
    # What a run is compared with is a run of its own kind.
    assert [d.name for d in layout.run_dirs()] == [ids[2], ids[0]]
    assert baseline_for(runs, ids[2]).run_id == ids[0]  # type: ignore[union-attr]
    assert baseline_for(runs, ids[3]).run_id == ids[1]  # type: ignore[union-attr]


def test_prune_counts_test_runs_apart_from_the_apps(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path)
    apps = [f"20261125T1405{n:02d}Z-aaaaaa" for n in range(2)]
    tests = [f"20261125T1406{n:02d}Z-bbbbbb" for n in range(4)]  # newer than every app run
    for rid in apps:
        layout.start_run(rid)
    for rid in tests:
        layout.start_run(rid, test_run=True)
    assert sorted(layout.prune(2)) == tests[:2]  # the app's two runs are kept
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [*apps, *tests[2:]]
