"""What the web middlewares add to a request, against the same app without flowscribe.

A trivial request (``GET /orders/42``, a route with a path parameter) through a real
Starlette app (ASGI) and a real Flask app (WSGI), called in-process without a server, so
the figures are the framework's and flowscribe's own work, not the network's. The traced
app's handler records 4 checkpoints; with the middleware's ``flow_start``, verdict and
``flow_end`` that is 7 events per request. The baseline is the same app with neither the
middleware nor the markers. Rows are measured in the same process and interleaved.

Target (issue 8): at most 35 µs of CPU time added per request with the default
configuration (no ra.yaml: the console sink printing verdicts, which a passing request has
none of, and the JSONL trace, written twice: the top-level trace and the run's folder).
Informational rows: JSONL only in one file; every request to a distinct id (the route
lookup's cache misses every time); the middleware alone (its 3 events, no markers); the
middleware with the request flows filtered out (``exclude_flows: ["http/**"]``): its own
work (route, name, request id, headers) without any event recorded.

Usage: python benchmarks/bench_web.py [--requests N] [--reps N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import _table

TARGET_US = 35.0
MARKERS = 4

RA_YAML_JSONL_ONLY = """\
version: 1
profile: all
sinks:
  - type: jsonl
    path: .autodev/trace.jsonl
artifacts:
  per_run_dirs: false
"""
RA_YAML_FILTERED = RA_YAML_JSONL_ONLY + """\
filters:
  exclude_flows: ["http/**"]
"""


@contextlib.contextmanager
def session_in(root: Path, ra_yaml: str | None) -> Iterator[Any]:
    """A Session rooted at ``root``: the default configuration when ``ra_yaml`` is None."""
    from flowscribe.core import Session

    (root / ".autodev").mkdir(parents=True)
    if ra_yaml is not None:
        (root / ".autodev" / "ra.yaml").write_text(ra_yaml, encoding="utf-8")
    old = Path.cwd()
    os.chdir(root)
    try:
        session = Session(app_name="bench-web", mode="bench", root=str(root))
        try:
            yield session
        finally:
            session.end_session()
    finally:
        os.chdir(old)


# --- ASGI: Starlette -----------------------------------------------------------------------

def starlette_app(session: Any | None, markers: bool = True) -> Any:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    import flowscribe

    async def plain(request: Any) -> Any:
        return PlainTextResponse("ok")

    async def traced(request: Any) -> Any:
        flowscribe.checkpoint("parse", order=request.path_params["order_id"])
        flowscribe.checkpoint("load", rows=1)
        flowscribe.checkpoint("price", total=12.5)
        flowscribe.checkpoint("render", size=2)
        return PlainTextResponse("ok")

    handler = traced if session is not None and markers else plain
    app = Starlette(routes=[Route("/orders/{order_id:int}", handler),
                            Route("/health", plain)])
    if session is not None:
        from flowscribe.asgi import FlowscribeMiddleware

        app.add_middleware(FlowscribeMiddleware, session=session)
    return app


def asgi_runner(app: Any, paths: Callable[[], str]) -> Callable[[int], None]:
    loop = asyncio.new_event_loop()
    headers = [(b"host", b"localhost"), (b"user-agent", b"bench/1")]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    async def batch(n: int) -> None:
        for _ in range(n):
            path = paths()
            await app({"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                       "method": "GET", "scheme": "http", "path": path,
                       "raw_path": path.encode(), "root_path": "", "query_string": b"",
                       "headers": headers, "server": ("127.0.0.1", 80),
                       "client": ("127.0.0.1", 5000)}, receive, send)

    def run(n: int) -> None:
        loop.run_until_complete(batch(n))

    return run


# --- WSGI: Flask ---------------------------------------------------------------------------

def flask_app(session: Any | None, markers: bool = True) -> Any:
    import flask

    import flowscribe

    app = flask.Flask("bench")

    if session is not None and markers:
        @app.get("/orders/<int:order_id>")
        def order(order_id: int) -> str:
            flowscribe.checkpoint("parse", order=order_id)
            flowscribe.checkpoint("load", rows=1)
            flowscribe.checkpoint("price", total=12.5)
            flowscribe.checkpoint("render", size=2)
            return "ok"
    else:
        @app.get("/orders/<int:order_id>")
        def order(order_id: int) -> str:
            return "ok"

    if session is not None:
        from flowscribe.wsgi import FlowscribeMiddleware

        app.wsgi_app = FlowscribeMiddleware(app.wsgi_app, session=session)  # type: ignore[method-assign]
    return app


def wsgi_runner(app: Any, paths: Callable[[], str]) -> Callable[[int], None]:
    base = {"REQUEST_METHOD": "GET", "QUERY_STRING": "", "SCRIPT_NAME": "",
            "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "localhost", "HTTP_USER_AGENT": "bench/1",
            "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": False, "wsgi.run_once": False, "wsgi.version": (1, 0)}

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        return None

    def run(n: int) -> None:
        for _ in range(n):
            environ = dict(base, PATH_INFO=paths(), **{"wsgi.input": io.BytesIO()})
            body = app(environ, start_response)
            b"".join(body)
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return run


def same_path() -> Callable[[], str]:
    return lambda: "/orders/42"


def distinct_paths() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"/orders/{next(counter)}"


def count_request_events(root: Path) -> float:
    """Events per request flow in a session's trace (read back: what was really written)."""
    trace = root / ".autodev" / "trace.jsonl"
    if not trace.exists():
        return 0.0
    text = trace.read_text(encoding="utf-8")
    flows = text.count('"event_type":"flow_start","flow_id":"http/')
    events = text.count('"flow_id":"http/')
    return events / flows if flows else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per repetition")
    parser.add_argument("--reps", type=int, default=31, help="timed repetitions per row")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.requests, opts.reps = 20, 2
    tmp = Path(tempfile.mkdtemp(prefix="flowscribe-bench-web-"))
    try:
        return _run(opts, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(opts: argparse.Namespace, tmp: Path) -> int:
    notes = [f"{opts.requests} requests x {opts.reps} repetitions per row (+1 warm-up); rows "
             "interleaved; median and 25th–75th percentile",
             "CPU = whole-process CPU time per request (counts flowscribe's flusher thread)"]
    missing = [m for m in ("starlette", "flask") if not _installed(m)]
    if missing:
        _table.print_header("flowscribe web middleware: cost per request",
                            [*notes, f"not installed: {', '.join(missing)}; nothing measured"])
        print("could not run: pip install -e '.[dev]'")
        return 1
    with contextlib.ExitStack() as stack:
        roots = {name: tmp / name for name in
                 ("asgi-default", "asgi-jsonl", "asgi-bare", "asgi-off", "wsgi-default",
                  "wsgi-jsonl", "wsgi-bare", "wsgi-off")}
        s = {name: stack.enter_context(session_in(
                 root, None if "default" in name
                 else RA_YAML_FILTERED if "off" in name else RA_YAML_JSONL_ONLY))
             for name, root in roots.items()}
        rows: dict[str, tuple[str, Callable[[int], None]]] = {
            "asgi: Starlette, no flowscribe": ("ASGI", asgi_runner(starlette_app(None),
                                                                   same_path())),
            "asgi: + middleware, default config": ("ASGI", asgi_runner(
                starlette_app(s["asgi-default"]), same_path())),
            "(info) asgi: JSONL only, one file": ("ASGI", asgi_runner(
                starlette_app(s["asgi-jsonl"]), same_path())),
            "(info) asgi: default config, distinct ids": ("ASGI", asgi_runner(
                starlette_app(s["asgi-default"]), distinct_paths())),
            "(info) asgi: middleware alone (3 events)": ("ASGI", asgi_runner(
                starlette_app(s["asgi-bare"], markers=False), same_path())),
            "(info) asgi: middleware, flows filtered out": ("ASGI", asgi_runner(
                starlette_app(s["asgi-off"], markers=False), same_path())),
            "wsgi: Flask, no flowscribe": ("WSGI", wsgi_runner(flask_app(None), same_path())),
            "wsgi: + middleware, default config": ("WSGI", wsgi_runner(
                flask_app(s["wsgi-default"]), same_path())),
            "(info) wsgi: JSONL only, one file": ("WSGI", wsgi_runner(
                flask_app(s["wsgi-jsonl"]), same_path())),
            "(info) wsgi: default config, distinct ids": ("WSGI", wsgi_runner(
                flask_app(s["wsgi-default"]), distinct_paths())),
            "(info) wsgi: middleware alone (3 events)": ("WSGI", wsgi_runner(
                flask_app(s["wsgi-bare"], markers=False), same_path())),
            "(info) wsgi: middleware, flows filtered out": ("WSGI", wsgi_runner(
                flask_app(s["wsgi-off"], markers=False), same_path())),
        }
        _table.print_header("flowscribe web middleware: cost per request", notes)
        results = _table.measure({name: run for name, (_, run) in rows.items()},
                                 opts.requests, opts.reps)
        for session in s.values():
            session.flush()
        per_flow = {name: count_request_events(root) for name, root in roots.items()}
    base = {"ASGI": results["asgi: Starlette, no flowscribe"],
            "WSGI": results["wsgi: Flask, no flowscribe"]}
    table = []
    for name, (kind, _) in rows.items():
        t = results[name]
        added_cpu = (t.cpu.median - base[kind].cpu.median) / 1000
        added_wall = (t.wall.median - base[kind].wall.median) / 1000
        baseline = "no flowscribe" in name
        table.append([name, _table.fmt(t.cpu.median / 1000),
                      f"{_table.fmt(t.cpu.p25 / 1000)}–{_table.fmt(t.cpu.p75 / 1000)}",
                      _table.fmt(t.wall.median / 1000),
                      "" if baseline else f"{added_cpu:+.1f}",
                      "" if baseline else f"{added_wall:+.1f}"])
    _table.print_table(["row", "CPU µs/request", "CPU p25–p75", "wall µs/request",
                        "added CPU µs", "added wall µs"], table)
    print(f"events per request flow, read back from the traces: "
          f"default {per_flow['asgi-default']:.1f} (ASGI), {per_flow['wsgi-default']:.1f} "
          f"(WSGI); middleware alone {per_flow['asgi-bare']:.1f}, {per_flow['wsgi-bare']:.1f}")
    print()
    for kind, name in (("ASGI", "asgi: + middleware, default config"),
                       ("WSGI", "wsgi: + middleware, default config")):
        t = results[name]
        cpu = (t.cpu.median - base[kind].cpu.median) / 1000
        wall = (t.wall.median - base[kind].wall.median) / 1000
        verdict = "MET" if cpu <= TARGET_US else "MISSED"  # the target is CPU time
        print(f"{kind} middleware, {MARKERS + 3} events per request: +{cpu:.1f} µs CPU "
              f"(+{wall:.1f} µs wall) per request, target <= {TARGET_US:.0f} µs: {verdict}")
    return 0


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    sys.exit(main())
