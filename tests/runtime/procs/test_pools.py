"""``with Pool() as p:`` terminates its workers on exit: every flow of a task that
returned is in the trace and in the run's summary anyway (issue 8 §2). A pool made inside
a flow has its tasks' flows as that flow's children, under every start method, with no
``parent=`` (§3)."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
from _apps import TIMEOUT, clean_env, write_app
from _project import of_type, trace

METHODS = [m for m in ("fork", "spawn", "forkserver")
           if m in multiprocessing.get_all_start_methods()]

POOL_APP = """\
    import multiprocessing, sys, time
    import flowscribe

    def task(n):
        with flowscribe.flow("pool/task", n=n) as f:
            f.checkpoint("work", n=n)
            time.sleep(0.05)  # else the first spawned worker may do them all alone
            f.success("done")
        return n

    if __name__ == "__main__":
        flowscribe.init(app_name="pool")
        ctx = multiprocessing.get_context(sys.argv[1])
        with ctx.Pool(4) as pool:
            assert sorted(pool.map(task, range(40), chunksize=1)) == list(range(40))
"""


@pytest.mark.parametrize("method", METHODS)
def test_with_pool_keeps_every_returned_tasks_flow(project: Path, method: str) -> None:
    write_app(project, POOL_APP)
    done = subprocess.run([sys.executable, "app.py", method], cwd=project, env=clean_env(),
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr
    events = trace(project)
    ends = [e for e in of_type(events, "flow_end") if e["flow_id"] == "pool/task"]
    assert sorted(e["correlation"]["n"] for e in ends) == list(range(40))
    assert len({e["pid"] for e in ends}) > 1  # the work was spread over the workers
    assert {e["run_id"] for e in events} == {events[0]["run_id"]}  # one run
    (summary,) = of_type(events, "summary")
    assert summary["evidence"]["flows"] == 40
    assert summary["evidence"]["passed"] == 40
    assert "pool/task" in (project / ".autodev" / "summary.md").read_text(encoding="utf-8")


LINKED_APP = """\
    import multiprocessing, sys
    from concurrent.futures import ProcessPoolExecutor
    import flowscribe

    def task(n):
        with flowscribe.flow("pool/task", n=n) as f:  # no parent= anywhere
            f.success("done")
        return n

    if __name__ == "__main__":
        flowscribe.init(app_name="pool")
        ctx = multiprocessing.get_context(sys.argv[1])
        with flowscribe.flow("pool/batch", kind=sys.argv[2]) as batch:
            if sys.argv[2] == "pool":
                with ctx.Pool(4) as pool:
                    done = pool.map(task, range(40), chunksize=1)
            else:
                with ProcessPoolExecutor(4, mp_context=ctx) as pool:
                    done = list(pool.map(task, range(40)))
            assert sorted(done) == list(range(40))
            batch.success("all done")
        with flowscribe.flow("pool/after") as f:  # a later flow: not the tasks' parent
            f.success()
"""


@pytest.mark.parametrize("kind", ["pool", "executor"])
@pytest.mark.parametrize("method", METHODS)
def test_pool_workers_find_their_parent_flow(project: Path, method: str, kind: str) -> None:
    write_app(project, LINKED_APP)
    done = subprocess.run([sys.executable, "app.py", method, kind], cwd=project,
                          env=clean_env(), capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)
    assert done.returncode == 0, done.stderr
    events = trace(project)
    (batch,) = [e for e in of_type(events, "flow_start") if e["flow_id"] == "pool/batch"]
    tasks = [e for e in of_type(events, "flow_start") if e["flow_id"] == "pool/task"]
    assert len(tasks) == 40
    assert batch["pid"] not in {e["pid"] for e in tasks}  # they ran in the workers
    linked = [e for e in tasks
              if (e["parent"], e["parent_flow"]) == (batch["instance"], "pool/batch")]
    assert len(linked) == 40
    (summary,) = of_type(events, "summary")
    assert summary["evidence"]["flows"] == 42
