"""The middlewares' options and edges, with the apps called in-process (real Starlette and
Flask apps, a real session writing the project's trace)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _project import of_type, trace, write_config

import flowscribe
from flowscribe.asgi import FlowscribeMiddleware as AsgiMiddleware
from flowscribe.wsgi import FlowscribeMiddleware as WsgiMiddleware

starlette = pytest.importorskip("starlette")
flask = pytest.importorskip("flask")

from starlette.applications import Starlette  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Mount, Route  # noqa: E402


def _starlette(**options: Any) -> Any:
    async def item(request: Any) -> Any:
        flowscribe.checkpoint("item")
        return PlainTextResponse("ok", status_code=int(request.query_params.get("s", 200)))

    app = Starlette(routes=[Route("/items/{key}", item, methods=["GET"]),
                            Mount("/api/v1", routes=[Route("/items/{key}", item)])])
    app.add_middleware(AsgiMiddleware, **options)
    return app


def _call_asgi(app: Any, path: str, method: str = "GET", query: bytes = b"",
               headers: list[tuple[bytes, bytes]] | None = None) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": query, "headers": headers or [],
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000)}
    asyncio.run(app(scope, receive, send))
    return sent


def _flask(**options: Any) -> Any:
    app = flask.Flask("shop")

    @app.route("/items/<key>", methods=["GET", "POST"])
    def item(key: str) -> Any:
        flowscribe.checkpoint("item")
        return "ok", int(flask.request.args.get("s", 200))

    @app.get("/chunks")
    def chunks() -> Any:
        def gen() -> Iterator[bytes]:
            yield b"a"
            yield b"b"
        return flask.Response(gen())

    app.wsgi_app = WsgiMiddleware(app.wsgi_app, **options)  # type: ignore[method-assign]
    return app


def _environ(path: str, method: str = "GET", query: str = "", **extra: str) -> dict[str, Any]:
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
            "SCRIPT_NAME": "", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
            "wsgi.errors": io.StringIO(), "wsgi.multithread": False,
            "wsgi.multiprocess": False, "wsgi.run_once": False, "wsgi.version": (1, 0), **extra}


def _call_wsgi(app: Any, environ: dict[str, Any], read: bool = True) -> tuple[str, bytes]:
    status: list[str] = []
    body = app(environ, lambda s, h, e=None: status.append(s))
    data = b"".join(body) if read else b""
    getattr(body, "close", lambda: None)()
    return status[0], data


def _ends(project: Path) -> dict[str, dict[str, Any]]:
    flowscribe.end_session()
    return {e["flow_id"]: e for e in of_type(trace(project), "flow_end")}


def test_mount_prefixes_and_methods_name_the_flow(project: Path) -> None:
    app = _starlette()
    _call_asgi(app, "/api/v1/items/7")
    _call_asgi(app, "/items/7", method="BREW")  # 405: still its route, an unknown verb
    ends = _ends(project)
    assert set(ends) == {"http/GET /api/v1/items/{key}", "http/OTHER /items/{key}"}


def test_4xx_fail_only_when_asked(project: Path) -> None:
    _call_asgi(_starlette(), "/items/a", query=b"s=404")
    _call_asgi(_starlette(fail_4xx=True, prefix="web"), "/items/b", query=b"s=409")
    ends = _ends(project)
    assert ends["http/GET /items/{key}"]["status"] == "passed"
    assert (ends["web/GET /items/{key}"]["status"], ends["web/GET /items/{key}"]["error_class"]) \
        == ("failed", "HTTP.4XX")


def test_a_route_callable_and_the_unmatched_name(project: Path) -> None:
    _call_asgi(_starlette(route=lambda scope: "/custom"), "/items/1")
    _call_asgi(_starlette(unmatched="(none)"), "/nothing/here")
    _call_wsgi(_flask(unmatched="(none)"), _environ("/nothing/here"))
    assert set(_ends(project)) == {"http/GET /custom", "http/GET (none)"}


def test_an_odd_request_id_is_replaced(project: Path) -> None:
    app = _starlette()
    _call_asgi(app, "/items/1", headers=[(b"x-request-id", b"abc-123")])
    _call_asgi(app, "/items/2", headers=[(b"x-request-id", b"<script>\nx")])
    flowscribe.end_session()
    rids = [e["correlation"]["request_id"] for e in of_type(trace(project), "flow_start")]
    assert rids[0] == "abc-123"
    assert rids[1] not in ("abc-123", "<script>\nx") and "<" not in rids[1]
    assert len(set(rids)) == 2


def test_other_scopes_pass_through(project: Path) -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    told = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    answers: list[str] = []

    async def receive() -> Any:
        return next(told)

    async def send(message: Any) -> None:
        answers.append(message["type"])

    async def run() -> None:
        mw = AsgiMiddleware(inner)
        await mw({"type": "lifespan"}, receive, send)
        await mw({"type": "websocket", "path": "/ws"}, None, None)  # type: ignore[arg-type]

    asyncio.run(run())
    assert seen == ["lifespan", "websocket"]
    # The app had no lifespan of its own: the middleware answered for it.
    assert answers == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    # The lifespan's startup started the run and its shutdown ended it.
    assert [e["event_type"] for e in trace(project)] == ["run_start", "summary"]


def test_an_exception_propagates_unchanged_and_fails_the_flow(project: Path) -> None:
    class Boom(Exception):
        pass

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        raise Boom("no")

    with pytest.raises(Boom):
        _call_asgi(AsgiMiddleware(inner), "/x")

    def wsgi_inner(environ: Any, start_response: Any) -> Any:
        raise Boom("no")

    with pytest.raises(Boom):
        _call_wsgi(WsgiMiddleware(wsgi_inner), _environ("/y"))
    ends = _ends(project)
    assert ends["http/GET <unmatched>"]["error_class"] == "SYSTEM"
    assert [e["flow_id"] for e in of_type(trace(project), "exception")] == [
        "http/GET <unmatched>", "http/GET <unmatched>"]


def test_wsgi_ends_the_flow_when_the_body_is_closed_unread(project: Path) -> None:
    app = _flask()
    status, _ = _call_wsgi(app, _environ("/chunks"), read=False)
    assert status.startswith("200")
    assert flowscribe.current_flow() is None  # the thread is free for its next request
    status, data = _call_wsgi(app, _environ("/items/9", method="POST", query="s=503"))
    assert (status[:3], data) == ("503", b"ok")
    ends = _ends(project)
    assert ends["http/GET /chunks"]["status"] == "passed"
    assert ends["http/POST /items/<key>"]["error_class"] == "HTTP.5XX"


def test_a_filtered_out_request_flow_still_serves(project: Path) -> None:
    write_config(project, """\
        version: 1
        profile: all
        filters:
          exclude_flows: ["http/**"]
        sinks:
          - type: jsonl
            path: .autodev/trace.jsonl
        """)
    assert _call_wsgi(_flask(), _environ("/items/1"))[1] == b"ok"
    assert _call_asgi(_starlette(), "/items/1")[1]["body"] == b"ok"
    flowscribe.end_session()
    assert [e["flow_id"] for e in of_type(trace(project), "flow_start")] == []


def test_tracing_trouble_never_stops_a_request(project: Path) -> None:
    def bad_route(_: Any) -> str:
        raise RuntimeError("route lookup broke")

    assert _call_wsgi(_flask(route=bad_route), _environ("/items/1"))[1] == b"ok"
    sent = _call_asgi(_starlette(), "/items/1", headers=[(b"x-request-id", b"\xff\xfe")])
    assert sent[1]["body"] == b"ok"
    assert set(_ends(project)) == {"http/GET /items/<key>", "http/GET /items/{key}"}


def test_wrapping_the_whole_app_finds_its_router(project: Path) -> None:
    async def item(request: Any) -> Any:
        return PlainTextResponse("ok")

    app = AsgiMiddleware(Starlette(routes=[Route("/items/{key}", item)]))
    assert _call_asgi(app, "/items/3")[1]["body"] == b"ok"
    assert set(_ends(project)) == {"http/GET /items/{key}"}
