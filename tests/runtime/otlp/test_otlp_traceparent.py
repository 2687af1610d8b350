"""W3C trace context: ``flowscribe.traceparent()`` names the current flow's span as the
export names it, and a request carrying it makes the called service's request flow a child
of the caller's span, so a failure in service B shows up inside service A's trace (two real
processes talking HTTP, both exporting to a real receiver)."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from _otlp_receiver import attrs, free_port, otlp_project, receive

import flowscribe
from flowscribe.otlp.ids import format_traceparent, parse_traceparent
from flowscribe.otlp.mapping import map_events
from flowscribe.trace import iter_events


def test_traceparent_names_the_current_flows_span_as_exported(project: Path) -> None:
    assert flowscribe.traceparent() is None  # outside any flow
    caller = format_traceparent(b"\x4b" * 16, b"\x1f" * 8)
    with flowscribe.flow("orders/submit"):
        outer = flowscribe.traceparent()
        with flowscribe.flow("orders/ack"):
            inner = flowscribe.traceparent()
    with flowscribe.flow("orders/refund", traceparent=caller), flowscribe.flow("orders/notify"):
        joined = flowscribe.traceparent()
    flowscribe.end_session()
    trace = (project / ".autodev" / "latest").resolve() / "trace.jsonl"
    _, spans = map_events(iter_events(trace))
    by_name = {s.name: s for s in spans}
    for header, name in ((outer, "orders/submit"), (inner, "orders/ack"),
                         (joined, "orders/notify")):
        parsed = parse_traceparent(header)
        assert parsed is not None, header
        span = by_name[name]
        assert (parsed[0], parsed[1]) == (span.trace_id, span.span_id), name
    assert by_name["orders/ack"].trace_id == by_name["orders/submit"].trace_id
    assert by_name["orders/notify"].trace_id == b"\x4b" * 16  # the caller's trace


SERVICE_B = """\
import flowscribe
from wsgiref.simple_server import WSGIRequestHandler, make_server
from flowscribe.wsgi import FlowscribeMiddleware

flowscribe.init(app_name="stock", mode="test")


def app(environ, start_response):
    flowscribe.failure("DATA.EMPTY", "no stock for the ticker", ticker="AAPL")
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"none"]


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


server = make_server("127.0.0.1", 0, FlowscribeMiddleware(app), handler_class=Quiet)
print(server.server_port, flush=True)
server.handle_request()
flowscribe.end_session()
"""

SERVICE_A = """\
import sys
import urllib.error
import urllib.request

import flowscribe

flowscribe.init(app_name="shop", mode="test")
with flowscribe.flow("orders/submit") as f:
    headers = {"traceparent": flowscribe.traceparent()}
    req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/stock", headers=headers)
    try:
        urllib.request.urlopen(req, timeout=30)
    except urllib.error.HTTPError as exc:
        f.failure("EXTERNAL.REJECTED", f"stock answered {exc.code}")
flowscribe.end_session()
"""


def test_a_failure_in_the_called_service_is_inside_the_callers_trace(tmp_path: Path) -> None:
    pytest.importorskip("oteltap")
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    port = free_port()
    roots = []
    for name, app in (("b", SERVICE_B), ("a", SERVICE_A)):
        root = tmp_path / name
        (root / ".autodev").mkdir(parents=True)
        roots.append(otlp_project(root, port, textwrap.dedent(app)))
    b_root, a_root = roots

    async def act() -> None:
        b = await asyncio.create_subprocess_exec(sys.executable, "app.py", cwd=b_root,
                                                 stdout=asyncio.subprocess.PIPE)
        assert b.stdout is not None
        b_port = int((await b.stdout.readline()).decode())
        a = await asyncio.create_subprocess_exec(sys.executable, "app.py", str(b_port),
                                                 cwd=a_root)
        assert await a.wait() == 0
        assert await b.wait() == 0

    served_name = "http/GET <unmatched>"  # a bare WSGI app has no route templates
    spans, _ = asyncio.run(receive(port, act, spans={"orders/submit", served_name}))
    caller = next(s for s in spans if s.name == "orders/submit")
    [served] = [s for s in spans if s.name == served_name]
    assert served.trace_id == caller.trace_id
    assert served.parent_span_id == caller.span_id
    assert served.status.code == 2  # ERROR, inside the caller's trace
    assert attrs(served)["error.type"] == "DATA.EMPTY"
    assert "flowscribe.correlation.traceparent" not in attrs(served)


def _asgi_request(headers: list[tuple[bytes, bytes]]) -> None:
    from flowscribe.asgi import FlowscribeMiddleware

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        pass

    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers}
    asyncio.run(FlowscribeMiddleware(app)(scope, receive, send))


def test_asgi_requests_join_a_valid_incoming_trace_only(project: Path) -> None:
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    _asgi_request([(b"traceparent", caller.upper().encode())])
    _asgi_request([(b"traceparent", b"00-" + b"0" * 32 + b"-00f067aa0ba902b7-01")])  # invalid
    flowscribe.end_session()
    trace = (project / ".autodev" / "latest").resolve() / "trace.jsonl"
    starts = [e for e in iter_events(trace) if e["event_type"] == "flow_start"]
    assert [e["correlation"].get("traceparent") for e in starts] == [caller, None]
    _, spans = map_events(iter_events(trace))
    joined = next(s for s in spans if s.remote_parent)
    assert joined.trace_id.hex() == caller[3:35] and joined.parent_span_id is not None
    assert joined.parent_span_id.hex() == caller[36:52]
