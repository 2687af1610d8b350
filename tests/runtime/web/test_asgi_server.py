"""flowscribe.asgi under a real uvicorn: a FastAPI app, 50 concurrent loopback requests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from _project import line_of
from _servers import free_port, request_flows, serve, wait_for_requests, write_app

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

pytestmark = pytest.mark.slow

APP = '''
import asyncio
import logging

import flowscribe
from fastapi import FastAPI, HTTPException
from fastapi.responses import PlainTextResponse, StreamingResponse
from flowscribe.asgi import FlowscribeMiddleware
from flowscribe.logging import FlowscribeHandler

log = logging.getLogger("shop")
log.setLevel(logging.INFO)
log.addHandler(FlowscribeHandler())
app = FastAPI()
app.add_middleware(FlowscribeMiddleware, record_headers=["user-agent", "authorization"])


async def part(order_id, n):
    with flowscribe.flow("orders/part", n=n) as f:
        await asyncio.sleep(0.001)
        f.checkpoint("priced", order_id=order_id)


@app.get("/orders/{order_id}")
async def get_order(order_id: int):
    flowscribe.checkpoint("load", order_id=order_id)
    await asyncio.gather(part(order_id, 1), part(order_id, 2))
    log.info("order %s served", order_id)  # L:log-info
    return {"order": order_id}


@app.post("/orders")
async def post_order():
    return {"made": True}


@app.get("/boom")
async def boom():
    raise ValueError("kaput")  # L:raise


@app.get("/busy")
async def busy():
    return PlainTextResponse("later", status_code=503)


@app.get("/missing/{key}")
async def missing(key: str):
    raise HTTPException(status_code=404)


@app.get("/stream")
async def stream():
    async def chunks():
        for i in range(3):
            flowscribe.checkpoint("chunk", i=i)
            yield b"x"
    return StreamingResponse(chunks())
'''

BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0cGF5bG9hZA.c2lnbmF0dXJlc2VjcmV0"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory,
           ) -> tuple[Path, list[Any], list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("asgi")
    (root / ".autodev").mkdir()
    (root / ".autodev" / "ra.yaml").write_text(
        "version: 1\nprofile: all\nsinks:\n  - type: jsonl\n    path: .autodev/trace.jsonl\n")
    write_app(root, "app_asgi.py", APP)
    port = free_port()
    requests: list[tuple[str, dict[str, str]]] = [
        (f"/orders/{i}", {"X-Request-ID": f"req-{i}", "User-Agent": "probe/1",
                          "Authorization": BEARER, "X-Secret-Header": "hush-hush"})
        for i in range(50)
    ]
    requests += [("/boom", {}), ("/busy", {}), ("/missing/k1", {}), ("/nowhere/at/all", {}),
                 ("/stream", {})]
    with serve(root, ["uvicorn", "app_asgi:app", "--host", "127.0.0.1", "--port", str(port),
                      "--log-level", "warning"], port) as server:
        replies = server.many(requests)
        post = server.get("/orders", data=b"card=4111111111111111&BODYMARK=1")
        events = wait_for_requests(root, len(requests) + 1)
    return root, [*replies, post], events


def _by_name(events: list[dict[str, Any]]) -> dict[str, list[list[dict[str, Any]]]]:
    out: dict[str, list[list[dict[str, Any]]]] = {}
    for evs in request_flows(events).values():
        out.setdefault(evs[0]["flow_id"], []).append(evs)
    return out


def test_one_flow_per_request_named_by_its_route(served: Any) -> None:
    _, replies, events = served
    assert [r.status for r in replies[:50]] == [200] * 50
    flows = request_flows(events)
    starts = Counter(e["flow_id"] for evs in flows.values() for e in evs
                     if e["event_type"] == "flow_start")
    assert starts == {
        "http/GET /orders/{order_id}": 50, "http/GET /boom": 1, "http/GET /busy": 1,
        "http/GET /missing/{key}": 1, "http/GET <unmatched>": 1, "http/GET /stream": 1,
        "http/POST /orders": 1,
    }
    for evs in flows.values():  # every request flow started once and ended once
        kinds = [e["event_type"] for e in evs]
        assert kinds[0] == "flow_start" and kinds[-1] == "flow_end"
        assert kinds.count("flow_start") == kinds.count("flow_end") == 1


def test_concurrent_requests_never_share_a_flow(served: Any) -> None:
    _, _, events = served
    orders = _by_name(events)["http/GET /orders/{order_id}"]
    ids = {evs[0]["correlation"]["request_id"] for evs in orders}
    assert ids == {f"req-{i}" for i in range(50)}
    by_instance = {evs[0]["instance"]: evs[0]["correlation"]["request_id"] for evs in orders}
    for evs in orders:
        rid = evs[0]["correlation"]["request_id"]
        load = next(e for e in evs if e["event_type"] == "checkpoint" and e["step"] == "load")
        assert f"req-{load['evidence']['order_id']}" == rid
    parts = [e for e in events if e["flow_id"] == "orders/part" and e["step"] == "priced"]
    assert len(parts) == 100
    for e in parts:  # asyncio.gather's sub-flows: children of their own request
        assert e["parent_flow"] == "http/GET /orders/{order_id}"
        assert by_instance[e["parent"]] == e["correlation"]["request_id"]
        assert e["correlation"]["request_id"] == f"req-{e['evidence']['order_id']}"


def test_generated_request_ids_are_distinct(served: Any) -> None:
    _, _, events = served
    rids = [evs[0]["correlation"]["request_id"] for evs in request_flows(events).values()]
    assert len(set(rids)) == len(rids) == 56


def test_status_is_the_verdict(served: Any) -> None:
    root, _, events = served
    names = _by_name(events)
    end = {name: flows[0][-1] for name, flows in names.items() if len(flows) == 1}
    assert end["http/GET /busy"]["status"] == "failed"
    assert end["http/GET /busy"]["error_class"] == "HTTP.5XX"
    assert end["http/GET /boom"]["status"] == "failed"
    assert end["http/GET /boom"]["error_class"] == "SYSTEM"
    exc = next(e for e in names["http/GET /boom"][0] if e["event_type"] == "exception")
    assert (exc["file"], exc["line"]) == (
        "app_asgi.py", line_of("raise", str(root / "app_asgi.py")))
    assert end["http/GET /missing/{key}"]["status"] == "passed"  # 4xx passes by default
    assert end["http/GET <unmatched>"]["status"] == "passed"
    assert all(flows[-1]["status"] == "passed" for flows in names["http/GET /orders/{order_id}"])


def test_a_streamed_body_belongs_to_its_flow_until_done(served: Any) -> None:
    _, replies, events = served
    assert replies[54].body == b"xxx"
    (evs,) = _by_name(events)["http/GET /stream"]
    assert [e["event_type"] for e in evs] == [
        "flow_start", "checkpoint", "checkpoint", "checkpoint", "success", "flow_end"]


def test_no_header_or_body_unless_allowed_and_no_secret_ever(served: Any) -> None:
    root, _, events = served
    text = (root / ".autodev" / "trace.jsonl").read_text()
    for secret in ("hush-hush", "x-secret-header", "eyJhbGciOiJIUzI1NiJ9", "c2lnbmF0dXJl",
                   "BODYMARK", "4111111111111111"):
        assert secret not in text
    verdicts = [e for evs in _by_name(events)["http/GET /orders/{order_id}"] for e in evs
                if e["event_type"] == "success"]
    assert {str(v["evidence"]["headers"]) for v in verdicts} == {
        str({"user-agent": "probe/1", "authorization": "[REDACTED]"})}
    (post,) = _by_name(events)["http/POST /orders"]
    assert set(post[-2]["evidence"]["headers"]) == {"user-agent"}  # only what was allowed


def test_log_records_land_at_the_log_call(served: Any) -> None:
    root, _, events = served
    logs = [e for e in events if e["event_type"] == "checkpoint" and e["step"] == "log"]
    assert len(logs) == 50
    line = line_of("log-info", str(root / "app_asgi.py"))
    assert {(e["file"], e["line"], e["function"]) for e in logs} == {
        ("app_asgi.py", line, "get_order")}
    assert all(e["flow_id"] == "http/GET /orders/{order_id}" for e in logs)
