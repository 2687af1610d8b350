"""The story's parts on runs recorded by the real runtime: roll-ups folded, code read only
inside the project, run diffs, the token packer."""

from __future__ import annotations

import os
from pathlib import Path

import flowscribe
from flowscribe.story import build_story, diff_runs, load_run, render_story, top_failures
from flowscribe.story._budget import Packer, estimate_tokens
from flowscribe.story._source import SourceReader


def _run(project: Path) -> Path:
    run_dir = (project / ".autodev" / "latest").resolve()
    return run_dir / "trace.jsonl"


def _nested_exception(project: Path) -> None:
    flowscribe.init(app_name="t")
    try:
        with flowscribe.flow("outer/job"), flowscribe.flow("inner/step"):
            raise KeyError("sku-42")
    except KeyError:
        pass
    flowscribe.end_session()


def test_an_exception_escaping_two_flows_is_one_problem(project: Path) -> None:
    _nested_exception(project)
    run = load_run(_run(project))
    tops = top_failures(run)
    assert len(tops) == 1
    assert tops[0].event["flow_id"] == "inner/step"
    assert [c["flow_id"] for c in tops[0].consequences] == ["outer/job"]
    text = render_story(build_story(run))
    assert "`outer/job` failed as a consequence of #1" in text
    assert "`KeyError` in `inner/step`" in text


def test_a_parent_failing_after_its_child_is_folded(project: Path) -> None:
    flowscribe.init(app_name="t")
    with flowscribe.flow("batch/run") as outer:
        with flowscribe.flow("batch/item") as inner:
            inner.failure("DATA.EMPTY", "no rows")
        outer.failure("BATCH.INCOMPLETE", "an item failed")
    flowscribe.end_session()
    tops = top_failures(load_run(_run(project)))
    assert [t.event["error_class"] for t in tops] == ["DATA.EMPTY"]
    assert tops[0].consequences[0]["error_class"] == "BATCH.INCOMPLETE"


def test_code_is_read_only_inside_the_project(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "mod.py").write_text("def f():\n    return 1\n")
    (tmp_path / "secret.py").write_text("def g():\n    return 'outside'\n")
    os.symlink(tmp_path / "secret.py", root / "link.py")
    reader = SourceReader(root)
    block = reader.function_at("mod.py", 2)
    assert block is not None and block.function == "f"
    assert reader.function_at("../secret.py", 2) is None
    assert reader.function_at(str(tmp_path / "secret.py"), 2) is None
    assert reader.function_at("link.py", 2) is None  # a link out of the project


def test_diff_pairs_instances_by_correlation(project: Path) -> None:
    def day(rows: dict[str, int]) -> Path:
        flowscribe.init(app_name="t")
        for ticker, n in rows.items():
            with flowscribe.flow("data/fetch", ticker=ticker) as f:
                f.checkpoint("fetched", rows=n)
                if n:
                    f.success("ok")
                else:
                    f.failure("DATA.EMPTY", "no rows")
        flowscribe.end_session()
        return _run(project)

    good = load_run(day({"AAPL": 390, "NFLX": 390}))
    bad = load_run(day({"AAPL": 390, "NFLX": 0}))
    lines = diff_runs(good, bad).lines()
    assert "data/fetch: 2 passed -> 1 passed, 1 failed" in lines
    assert "data/fetch: DATA.EMPTY is new" in lines
    assert "data/fetch [ticker=NFLX] fetched: rows: 390 -> 0" in lines
    assert not any("AAPL" in line for line in lines)


def test_the_packer_keeps_whole_items_by_rank() -> None:
    packer = Packer(budget_tokens=50)
    packer.require("x" * 70)  # 20 tokens
    packer.offer("a", "a" * 35, rank=1)  # 10 tokens + 1
    packer.offer("b", "b" * 70, rank=3)  # 20 tokens + 1
    packer.offer("c", "c" * 35, rank=2)
    kept = packer.pack()
    assert kept == {"b": ["b" * 70]}
    assert packer.dropped == 2
    assert estimate_tokens("abcdefg") == 2


def test_fields_of_the_wrong_type_read_as_absent_and_break_nothing(project: Path) -> None:
    # A trace is untrusted: a line written by hand, or by a future version, may give any
    # field any JSON type. The story, its diff and its prompt read such a field as absent.
    import json

    from flowscribe.story import RunView
    from flowscribe.story._diff import fold_for_diff
    from flowscribe.story._run import well_typed

    flowscribe.init(app_name="t")
    with flowscribe.flow("orders/submit", ticker="AAPL") as f:
        f.failure("DATA.EMPTY", "no rows", rows=0)
    flowscribe.end_session()
    trace = _run(project)
    good = [json.loads(line) for line in trace.read_bytes().splitlines()]
    odd = dict(good[2], id="odd-1", seq=99, line=True, status=["x"], flow_id=5,
               error_class={"a": 1}, correlation="AAPL", evidence=[1, 2], step=7.5)
    fixed = well_typed(odd)
    assert [fixed[k] for k in ("line", "status", "flow_id", "error_class", "correlation",
                               "evidence", "step")] == [None] * 7
    assert fixed["reason"] == odd["reason"] and well_typed(good[2]) is good[2]
    with trace.open("ab") as fh:
        fh.write(json.dumps(odd).encode() + b"\n")
    run = load_run(trace)
    assert run.by_id["odd-1"]["line"] is None
    story = build_story(run)
    assert "## 1." in render_story(story)
    side = fold_for_diff(well_typed(e) for e in [*good, odd])
    same = diff_runs(RunView("a", [], diff_side=side), RunView("b", [], diff_side=side))
    assert same.changes == []
