"""One app launch is one run, whatever its process model (issue 8 §1): gunicorn's
workers, a spawned process pool, and never an unrelated process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _apps import TIMEOUT, clean_env, free_port, get_many, start_app, start_server, stop, write_app
from _project import of_type, trace

pytestmark = pytest.mark.skipif(not Path("/proc/self/auxv").exists(),
                                reason="launches are told apart through /proc (Linux)")

#: A plain WSGI callable on the public API; every 5th request records a failure.
WSGI_APP = """\
    import time
    import flowscribe

    flowscribe.init(app_name="gapp")  # at import: in each worker, or once with --preload

    def app(environ, start_response):
        n = int(environ["PATH_INFO"].strip("/"))
        with flowscribe.flow("web/hello", n=n) as f:
            time.sleep(0.02)  # long enough for the requests to spread over the workers
            if n % 5 == 0:
                f.failure("DATA.EMPTY", "nothing for this n")
            else:
                f.success("ok")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
"""


def _one_run(root: Path) -> tuple[str, list[dict[str, Any]]]:
    """The single run in the project's trace, and its events."""
    events = trace(root)
    run_ids = {e["run_id"] for e in events}
    assert len(run_ids) == 1, run_ids
    (run_id,) = run_ids
    autodev = root / ".autodev"
    assert (autodev / "latest").resolve() == (autodev / "runs" / run_id).resolve()
    assert sorted(p.name for p in (autodev / "runs").iterdir()) == [run_id]
    return run_id, events


@pytest.mark.parametrize("preload", [False, True], ids=["default", "preload"])
def test_gunicorn_workers_are_one_run(project: Path, preload: bool) -> None:
    pytest.importorskip("gunicorn")
    write_app(project, WSGI_APP, name="wsgi_app.py")
    port = free_port()
    argv = ["gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "20",
            *(["--preload"] if preload else []), "wsgi_app:app"]
    server = start_server(project, argv, port)
    try:
        assert get_many(port, [f"/{n}" for n in range(40)]) == [200] * 40
    finally:
        status = stop(server)
    assert status == 0, (project / "server.log").read_text()
    run_id, events = _one_run(project)
    ends = [e for e in of_type(events, "flow_end") if e["flow_id"] == "web/hello"]
    assert sorted(e["correlation"]["n"] for e in ends) == list(range(40))
    assert len({e["pid"] for e in ends}) > 1  # several workers served them
    (summary,) = of_type(events, "summary")  # written once, by the last process out
    assert summary["evidence"]["flows"] == 40
    assert summary["evidence"]["failed"] == 8
    text = (project / ".autodev" / "summary.md").read_text(encoding="utf-8")
    assert run_id in text
    assert (project / ".autodev" / "runs" / run_id / "summary.md").read_text(
        encoding="utf-8") == text
    assert "DATA.EMPTY" in (project / ".autodev" / "ask.md").read_text(encoding="utf-8")
    assert not list((project / ".autodev" / "live").glob(f"{run_id}+*"))


POOL_APP = """\
    import multiprocessing, sys
    from concurrent.futures import ProcessPoolExecutor
    import flowscribe

    def task(n):
        with flowscribe.flow("pool/task", n=n) as f:
            f.success("done")
        return n

    if __name__ == "__main__":
        if sys.argv[1] == "traced":
            flowscribe.init(app_name="pool")
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(4, mp_context=ctx) as pool:
            assert sorted(pool.map(task, range(20))) == list(range(20))
"""


@pytest.mark.parametrize("parent", ["traced", "untraced"])
def test_a_spawned_process_pool_is_one_run(project: Path, parent: str) -> None:
    # Traced, the workers find the run in their environment; untraced, the parent never
    # named one and the workers find each other through the launch.
    write_app(project, POOL_APP)
    done = subprocess.run([sys.executable, "app.py", parent], cwd=project, env=clean_env(),
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr
    _, events = _one_run(project)
    ends = [e for e in of_type(events, "flow_end") if e["flow_id"] == "pool/task"]
    assert sorted(e["correlation"]["n"] for e in ends) == list(range(20))
    (summary,) = of_type(events, "summary")
    assert summary["evidence"]["flows"] == 20


def test_an_unrelated_second_launch_is_a_run_of_its_own(project: Path) -> None:
    write_app(project, """\
        import sys, time
        import flowscribe

        with flowscribe.flow("app/work", who=sys.argv[1]) as f:
            f.success("ok")
        print("ready", flush=True)
        sys.stdin.readline()
    """)
    first = start_app(project, "first", stdin=True)
    second = start_app(project, "second", stdin=True)  # while the first still runs
    for proc in (second, first):
        proc.communicate("\n", timeout=TIMEOUT)
        assert proc.returncode == 0
    events = trace(project)
    runs = {e["correlation"]["who"]: e["run_id"] for e in of_type(events, "flow_end")}
    assert runs["first"] != runs["second"]
    assert len(of_type(events, "summary")) == 2
    # The first one ended last: the top-level artifacts are its, and so is `latest`,
    # though the second started after it.
    autodev = project / ".autodev"
    assert (autodev / "latest").resolve() == (autodev / "runs" / runs["first"]).resolve()
    assert runs["first"] in (autodev / "summary.md").read_text(encoding="utf-8")


def test_recycled_gunicorn_workers_stay_in_the_run(project: Path) -> None:
    pytest.importorskip("gunicorn")
    # --max-requests: gunicorn replaces each worker after 5 requests; the new workers
    # join the launch's run while its first process (the master) runs.
    write_app(project, WSGI_APP, name="wsgi_app.py")
    port = free_port()
    argv = ["gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--max-requests", "5",
            "--graceful-timeout", "20", "wsgi_app:app"]
    server = start_server(project, argv, port)
    try:
        assert get_many(port, [f"/{n}" for n in range(40)], threads=4) == [200] * 40
    finally:
        status = stop(server)
    assert status == 0, (project / "server.log").read_text()
    _, events = _one_run(project)
    assert len({e["pid"] for e in of_type(events, "run_start")}) > 2  # workers replaced
    summaries = of_type(events, "summary")
    assert summaries[-1]["evidence"]["flows"] == 40


ASGI_APP = """\
    import flowscribe

    flowscribe.init(app_name="uapp")

    async def app(scope, receive, send):
        n = int(scope["path"].strip("/"))
        with flowscribe.flow("web/hello", n=n) as f:
            f.success("ok")
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
"""


def test_uvicorn_workers_are_one_run(project: Path) -> None:
    # Each worker imports the app inside uvicorn's signal capture, so our handler wraps
    # uvicorn's: the run so far is written when SIGTERM arrives. uvicorn then re-raises
    # the signal to the handler it found (the default action), so the workers die
    # without ending their sessions: no summary event, the artifacts are those of the
    # signal (every flow that had ended).
    pytest.importorskip("uvicorn")
    write_app(project, ASGI_APP, name="asgi_app.py")
    port = free_port()
    argv = ["uvicorn", "--workers", "2", "--port", str(port), "--lifespan", "off",
            "asgi_app:app"]
    server = start_server(project, argv, port)
    try:
        assert get_many(port, [f"/{n}" for n in range(20)]) == [200] * 20
    finally:
        stop(server)
    run_id, events = _one_run(project)
    ends = [e for e in of_type(events, "flow_end") if e["flow_id"] == "web/hello"]
    assert sorted(e["correlation"]["n"] for e in ends) == list(range(20))
    text = (project / ".autodev" / "summary.md").read_text(encoding="utf-8")
    assert run_id in text
    assert "20 started, 20 ended" in text
