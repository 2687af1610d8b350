"""flowscribe.wsgi under a real gunicorn: a Flask app, 2 workers x 4 threads, 50 concurrent
loopback requests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from _project import line_of
from _servers import free_port, request_flows, serve, wait_for_requests, write_app

pytest.importorskip("flask")
pytest.importorskip("gunicorn")

pytestmark = pytest.mark.slow

APP = '''
import logging

import flowscribe
from flask import Flask, Response, abort
from flowscribe.logging import FlowscribeHandler
from flowscribe.wsgi import FlowscribeMiddleware

log = logging.getLogger("shop")
log.setLevel(logging.INFO)
log.addHandler(FlowscribeHandler(failure_level=logging.WARNING, failure_class="ORDERS.ODD"))
app = Flask(__name__)
app.wsgi_app = FlowscribeMiddleware(app.wsgi_app, record_headers=["User-Agent"])


@app.get("/orders/<int:order_id>")
def get_order(order_id):
    with flowscribe.flow("orders/price", order_id=order_id) as f:
        f.checkpoint("priced")
    if order_id % 10 == 7:
        log.warning("order %s looks odd", order_id)  # L:log-warning
    return {"order": order_id}


@app.get("/boom")
def boom():
    return {"n": 1 // 0}  # L:raise


@app.get("/busy")
def busy():
    return "later", 503


@app.get("/missing/<key>")
def missing(key):
    abort(404)


@app.get("/stream")
def stream():
    def chunks():
        for i in range(3):
            flowscribe.checkpoint("chunk", i=i)
            yield b"x"
    return Response(chunks())
'''

BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0cGF5bG9hZA.c2lnbmF0dXJlc2VjcmV0"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory,
           ) -> tuple[Path, list[Any], list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("wsgi")
    (root / ".autodev").mkdir()
    (root / ".autodev" / "ra.yaml").write_text(
        "version: 1\nprofile: all\nsinks:\n  - type: jsonl\n    path: .autodev/trace.jsonl\n")
    write_app(root, "app_wsgi.py", APP)
    port = free_port()
    requests: list[tuple[str, dict[str, str]]] = [
        (f"/orders/{i}", {"X-Request-ID": f"req-{i}", "User-Agent": "probe/1",
                          "Authorization": BEARER, "X-Secret-Header": "hush-hush"})
        for i in range(50)
    ]
    requests += [("/boom", {}), ("/busy", {}), ("/missing/k1", {}), ("/nowhere/at/all", {}),
                 ("/stream", {})]
    with serve(root, ["gunicorn", "app_wsgi:app", "--bind", f"127.0.0.1:{port}",
                      "--workers", "2", "--worker-class", "gthread", "--threads", "4",
                      "--log-level", "warning"], port) as server:
        replies = server.many(requests)
        events = wait_for_requests(root, len(requests))
    return root, replies, events


def _by_name(events: list[dict[str, Any]]) -> dict[str, list[list[dict[str, Any]]]]:
    out: dict[str, list[list[dict[str, Any]]]] = {}
    for evs in request_flows(events).values():
        out.setdefault(evs[0]["flow_id"], []).append(evs)
    return out


def test_one_flow_per_request_named_by_its_route(served: Any) -> None:
    _, replies, events = served
    assert [r.status for r in replies] == [200] * 50 + [500, 503, 404, 404, 200]
    flows = request_flows(events)
    starts = Counter(e["flow_id"] for evs in flows.values() for e in evs
                     if e["event_type"] == "flow_start")
    assert starts == {
        "http/GET /orders/<int:order_id>": 50, "http/GET /boom": 1, "http/GET /busy": 1,
        "http/GET /missing/<key>": 1, "http/GET <unmatched>": 1, "http/GET /stream": 1,
    }
    for evs in flows.values():
        kinds = [e["event_type"] for e in evs]
        assert kinds[0] == "flow_start" and kinds[-1] == "flow_end"
        assert kinds.count("flow_start") == kinds.count("flow_end") == 1
    assert len({e["pid"] for e in events if e["event_type"] == "flow_start"}) >= 1


def test_concurrent_requests_never_share_a_flow(served: Any) -> None:
    _, _, events = served
    orders = _by_name(events)["http/GET /orders/<int:order_id>"]
    assert {evs[0]["correlation"]["request_id"] for evs in orders} == {
        f"req-{i}" for i in range(50)}
    by_instance = {evs[0]["instance"]: evs[0]["correlation"]["request_id"] for evs in orders}
    priced = [e for e in events if e["flow_id"] == "orders/price" and e["step"] == "priced"]
    assert len(priced) == 50
    for e in priced:  # the view's own flow: a child of its request, never of another
        assert by_instance[e["parent"]] == f"req-{e['correlation']['order_id']}"
        assert e["correlation"]["request_id"] == f"req-{e['correlation']['order_id']}"


def test_status_is_the_verdict(served: Any) -> None:
    root, _, events = served
    names = _by_name(events)
    end = {name: flows[0][-1] for name, flows in names.items() if len(flows) == 1}
    assert (end["http/GET /busy"]["status"], end["http/GET /busy"]["error_class"]) == (
        "failed", "HTTP.5XX")
    # Flask turned the ZeroDivisionError into a 500: recorded where it was raised
    boom = names["http/GET /boom"][0]
    exc = next(e for e in boom if e["event_type"] == "exception")
    assert (exc["file"], exc["line"]) == (
        "app_wsgi.py", line_of("raise", str(root / "app_wsgi.py")))
    assert exc["exception"]["type"] == "ZeroDivisionError"
    assert (end["http/GET /boom"]["status"], end["http/GET /boom"]["error_class"]) == (
        "failed", "SYSTEM")
    assert end["http/GET /missing/<key>"]["status"] == "passed"
    assert end["http/GET <unmatched>"]["status"] == "passed"
    odd = {evs[0]["correlation"]["request_id"] for evs in names["http/GET /orders/<int:order_id>"]
           if evs[-1]["status"] == "failed"}
    assert odd == {"req-7", "req-17", "req-27", "req-37", "req-47"}


def test_a_streamed_body_belongs_to_its_flow_until_done(served: Any) -> None:
    _, replies, events = served
    assert replies[54].body == b"xxx"
    (evs,) = _by_name(events)["http/GET /stream"]
    assert [e["event_type"] for e in evs] == [
        "flow_start", "checkpoint", "checkpoint", "checkpoint", "success", "flow_end"]


def test_no_header_unless_allowed_and_no_secret_ever(served: Any) -> None:
    root, _, events = served
    text = (root / ".autodev" / "trace.jsonl").read_text()
    for secret in ("hush-hush", "eyJhbGciOiJIUzI1NiJ9", "c2lnbmF0dXJl", "authorization"):
        assert secret not in text.lower() if secret.islower() else secret not in text
    verdicts = [e for evs in _by_name(events)["http/GET /orders/<int:order_id>"] for e in evs
                if e["event_type"] == "success"]
    assert {str(v["evidence"]["headers"]) for v in verdicts} == {str({"user-agent": "probe/1"})}


def test_warnings_fail_the_flow_at_the_log_call(served: Any) -> None:
    root, _, events = served
    failures = [e for e in events if e["event_type"] == "failure"
                and e["error_class"] == "ORDERS.ODD"]
    assert len(failures) == 5
    line = line_of("log-warning", str(root / "app_wsgi.py"))
    assert {(e["file"], e["line"], e["function"], e["severity"]) for e in failures} == {
        ("app_wsgi.py", line, "get_order", "warn")}
    assert {e["reason"] for e in failures} == {f"order {i} looks odd" for i in (7, 17, 27, 37, 47)}
