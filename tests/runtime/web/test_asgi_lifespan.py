"""uvicorn stopped with SIGTERM ends the run in its workers: the middleware passes the
ASGI lifespan through and ends the session at the app's shutdown, so the run gets its
``summary`` event and complete artifacts (issue 8 §1/§2), with and without ``--workers``,
for an app that speaks lifespan (FastAPI) and for one that does not (a bare callable)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
from _project import of_type
from _servers import free_port, serve, trace_events, wait_for_requests, write_app

pytest.importorskip("uvicorn")

pytestmark = pytest.mark.slow

FASTAPI_APP = '''
from contextlib import asynccontextmanager

import flowscribe
from fastapi import FastAPI
from flowscribe.asgi import FlowscribeMiddleware


@asynccontextmanager
async def lifespan(app):
    yield
    with flowscribe.flow("app/shutdown") as f:  # the app's own shutdown is in the run
        f.success("closed")


app = FastAPI(lifespan=lifespan)
app.add_middleware(FlowscribeMiddleware)


@app.get("/items/{n}")
async def item(n: int):
    flowscribe.checkpoint("load", n=n)
    return {"n": n}
'''

#: No lifespan support: it fails on any scope but http (as Django's handler does).
BARE_APP = '''
from flowscribe.asgi import FlowscribeMiddleware


async def bare(scope, receive, send):
    if scope["type"] != "http":
        raise ValueError("only http")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


app = FlowscribeMiddleware(bare, route=lambda scope: "/items/{n}")
'''


def _stopped_run(project: Path, app: str, workers: list[str]) -> tuple[list[dict[str, Any]], str]:
    """Serve ``app`` under uvicorn, send 20 requests, SIGTERM it: (events, server log)."""
    if app == "fastapi":
        pytest.importorskip("fastapi")
    write_app(project, "lifespan_app.py", FASTAPI_APP if app == "fastapi" else BARE_APP)
    port = free_port()
    argv = ["uvicorn", *workers, "--port", str(port), "lifespan_app:app"]
    with serve(project, argv, port) as server:
        replies = server.many([(f"/items/{n}", {}) for n in range(20)], threads=8)
        assert [r.status for r in replies] == [200] * 20
        wait_for_requests(project, 20)
        # Every worker up (its run_start is written at the lifespan's startup) before the
        # stop: on a loaded machine the second one may still be importing the app, and a
        # worker that starts after the others ended the run would end it again.
        processes = 2 if workers else 1
        deadline = time.monotonic() + 60
        while (len(of_type(trace_events(project), "run_start")) < processes
               and time.monotonic() < deadline):
            time.sleep(0.1)
        proc = server.proc
    # serve() sent SIGTERM and waited; uvicorn exits as that signal asks.
    assert proc.returncode in (0, -signal.SIGTERM), server.log.read_text()
    return trace_events(project), server.log.read_text()


@pytest.mark.parametrize("app", ["fastapi", "bare"])
@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["single", "workers"])
def test_sigterm_to_uvicorn_ends_the_run(project: Path, app: str, workers: list[str]) -> None:
    events, log = _stopped_run(project, app, workers)
    assert len({e["run_id"] for e in events}) == 1
    (run_id,) = {e["run_id"] for e in events}
    ends = [e for e in of_type(events, "flow_end") if e["flow_id"] == "http/GET /items/{n}"]
    assert len(ends) == 20
    processes = 2 if workers else 1
    shutdowns = processes if app == "fastapi" else 0  # the app's shutdown, in each worker
    assert len([e for e in of_type(events, "flow_end") if e["flow_id"] == "app/shutdown"]
               ) == shutdowns
    (summary,) = of_type(events, "summary")  # the run ended, once, in the last worker out
    assert summary["evidence"]["flows"] == 20 + shutdowns, log
    assert summary["evidence"]["passed"] == 20 + shutdowns
    assert events[-1] is summary  # nothing recorded after the run's end
    assert len({e["pid"] for e in of_type(events, "run_start")}) == processes
    autodev = project / ".autodev"
    text = (autodev / "summary.md").read_text(encoding="utf-8")
    assert run_id in text and f"{20 + shutdowns} started, {20 + shutdowns} ended" in text
    assert (autodev / "runs" / run_id / "summary.md").read_text(encoding="utf-8") == text
    assert not list((autodev / "live").glob(f"{run_id}+*"))  # every worker left the run
    assert "Traceback" not in log  # the bare app's refusal of lifespan stays quiet
