"""The enclosing flow across threads, executors, asyncio tasks and child processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _project import of_type, read_lines, trace

import flowscribe
from flowscribe.core import Session

CHILD = """\
import sys
import flowscribe
with flowscribe.flow("child/work", worker=sys.argv[1]) as f:
    f.checkpoint("working")
    f.success("done")
"""


def test_threads_get_the_parent_only_when_the_context_is_carried(project: Path) -> None:
    session = Session()
    seen: dict[str, object] = {}

    def work(name: str) -> None:
        seen[name] = flowscribe.current_flow()
        with session.flow(f"worker/{name}") as f:
            f.success()

    with session.flow("batch/run") as outer:
        plain = threading.Thread(target=work, args=("plain",))
        wrapped = threading.Thread(target=flowscribe.wrap(work), args=("wrapped",))
        for t in (plain, wrapped):
            t.start()
            t.join()
    session.end_session()
    assert seen == {"plain": None, "wrapped": outer}
    starts = {e["flow_id"]: e for e in of_type(trace(project), "flow_start")}
    assert starts["worker/plain"]["parent"] is None
    assert starts["worker/wrapped"]["parent"] == outer.instance
    assert starts["worker/wrapped"]["thread"] != "MainThread"


def test_every_documented_thread_pool_pattern_links_40_concurrent_tasks(project: Path) -> None:
    # Issue 8 §3: one copy_context() reused for every submit failed 39 times in 40 with
    # "cannot enter context"; each way the docs show must link every task, under load.
    session = Session()
    started = threading.Barrier(8)  # eight tasks at once, in eight threads

    def work(how: str, n: int) -> str | None:
        if n < 8:
            started.wait(30)
        with session.flow("pool/item", how=how, item=n) as f:
            f.success()
            return f.parent

    patterns = {
        "submit": lambda pool, n: flowscribe.submit(pool, work, "submit", n),
        "wrap": lambda pool, n: pool.submit(flowscribe.wrap(work), "wrap", n),
        "copy": lambda pool, n: pool.submit(flowscribe.copy_context().run, work, "copy", n),
    }
    outer: dict[str, str | None] = {}
    parents: dict[str, list[str | None]] = {}
    for how, submit in patterns.items():
        started.reset()
        with session.flow("pool/batch", how=how) as batch, ThreadPoolExecutor(8) as pool:
            futures = [submit(pool, n) for n in range(40)]
            parents[how] = [f.result() for f in futures]
        outer[how] = batch.instance
    session.end_session()
    for how in patterns:
        assert parents[how] == [outer[how]] * 40, how
    items = [e for e in of_type(trace(project), "flow_start") if e["flow_id"] == "pool/item"]
    assert len(items) == 120
    assert all(e["parent"] == outer[e["correlation"]["how"]] for e in items)
    assert len({e["thread"] for e in items}) > 1


def test_submit_to_a_process_pool_passes_the_call_through(project: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert flowscribe.submit(pool, pow, 2, 10).result() == 1024


def test_asyncio_tasks_inherit_the_enclosing_flow(project: Path) -> None:
    session = Session()

    async def step(n: int) -> str | None:
        await asyncio.sleep(0)
        with session.flow("async/step", n=n) as f:
            await asyncio.sleep(0)
            f.success()
            return f.parent

    async def main() -> tuple[str | None, list[str | None]]:
        with session.flow("async/batch") as outer:
            results = await asyncio.gather(*(asyncio.create_task(step(n)) for n in range(5)))
            return outer.instance, list(results)

    outer_instance, parents = asyncio.run(main())
    session.end_session()
    assert parents == [outer_instance] * 5
    ends = [e for e in of_type(trace(project), "flow_end") if e["flow_id"] == "async/step"]
    assert [e["status"] for e in ends] == ["passed"] * 5


def test_a_subprocess_joins_the_run_and_the_summary_counts_its_flows(
    project: Path, tmp_path: Path
) -> None:
    (tmp_path / "child.py").write_text(CHILD)
    elsewhere = tmp_path / "elsewhere"  # the child runs outside the project: ROOT leads it home
    elsewhere.mkdir()
    session = Session(app_name="parent")
    with session.flow("parent/spawn") as f:
        subprocess.run([sys.executable, str(tmp_path / "child.py"), "plain"],
                       cwd=elsewhere, check=True)
        subprocess.run([sys.executable, str(tmp_path / "child.py"), "linked"],
                       cwd=elsewhere, check=True, env=flowscribe.child_env())
        f.success()
    session.end_session()

    assert not (elsewhere / ".autodev").exists()
    events = trace(project)
    assert {e["run_id"] for e in events} == {session.run_id}
    pids = {e["pid"] for e in of_type(events, "run_start")}
    assert len(pids) == 3 and os.getpid() in pids
    children = {e["correlation"]["worker"]: e for e in of_type(events, "flow_start")
                if e["flow_id"] == "child/work"}
    assert children["plain"]["parent"] is None
    assert (children["linked"]["parent"], children["linked"]["parent_flow"]) == (
        f.instance, "parent/spawn")
    # The owner's summary and artifacts include what the children wrote.
    summary = events[-1]
    assert summary["event_type"] == "summary" and summary["pid"] == os.getpid()
    assert (summary["evidence"]["flows"], summary["evidence"]["passed"]) == (3, 3)
    assert "child/work" in (project / ".autodev" / "summary.md").read_text()
    run_trace = project / ".autodev" / "runs" / str(session.run_id) / "trace.jsonl"
    assert len(read_lines(run_trace)) == len(events)


def spawned_worker(name: str) -> None:
    with flowscribe.flow("mp/spawned", worker=name) as f:
        f.success()


def test_multiprocessing_spawned_children_join_the_run(project: Path) -> None:
    session = Session()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=spawned_worker, args=(str(n),)) for n in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    session.end_session()
    events = trace(project)
    ends = [e for e in of_type(events, "flow_end") if e["flow_id"] == "mp/spawned"]
    assert sorted(e["correlation"]["worker"] for e in ends) == ["0", "1"]
    assert {e["run_id"] for e in events} == {session.run_id}
    assert events[-1]["evidence"]["passed"] == 2


def forked_worker(session: Session) -> None:
    # Returns at once: only the exit hook can flush this (multiprocessing's fork
    # children leave through os._exit, which skips atexit).
    with session.flow("mp/forked") as f:
        f.checkpoint("quick")


def test_multiprocessing_forked_children_flush_before_exit(project: Path) -> None:
    session = Session()
    ctx = multiprocessing.get_context("fork")
    with session.flow("mp/parent") as parent:
        procs = [ctx.Process(target=forked_worker, args=(session,)) for _ in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
    session.end_session()
    events = trace(project)
    forked = [e for e in events if e["flow_id"] == "mp/forked"]
    assert len(forked) == 6  # start, checkpoint, end: twice
    assert {e["pid"] for e in forked}.isdisjoint({os.getpid()})
    assert all(e["parent"] == parent.instance for e in of_type(forked, "flow_start"))
    # Event ids stay unique across the forked processes.
    assert len({e["id"] for e in events}) == len(events)


def test_the_run_environment_is_set_while_the_session_is_open(project: Path) -> None:
    session = Session()
    assert os.environ["FLOWSCRIBE_RUN_ID"] == session.run_id
    assert os.environ["FLOWSCRIBE_ROOT"] == str(project)
    assert os.environ["FLOWSCRIBE_RUN_PID"] == str(os.getpid())
    with session.flow("x/y") as f:
        env = flowscribe.child_env()
        assert env["FLOWSCRIBE_PARENT"] == f"{f.instance}|x/y"
    assert "FLOWSCRIBE_PARENT" not in flowscribe.child_env()
    session.end_session()
    assert not any(k.startswith("FLOWSCRIBE_") for k in os.environ)
