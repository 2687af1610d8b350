"""``flowscribe export RUN --format otlp-json``: a recorded run as OTLP/JSON lines that the
official protobuf JSON mapping reads, and that a real receiver (oteltap) then holds as the
very spans the live otlp sink sent for the same run."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from _otlp_receiver import APP_SPANS, attrs, free_port, otlp_project, receive, run_app

pytest.importorskip("oteltap")
pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
json_format = pytest.importorskip("google.protobuf.json_format")
trace_service = pytest.importorskip(
    "opentelemetry.proto.collector.trace.v1.trace_service_pb2")


def _post(port: int, body: bytes) -> None:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/traces", data=body,
                                 headers={"Content-Type": "application/x-protobuf"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200


def _as_protobuf_json(line: str) -> str:
    """OTLP/JSON differs from the generic protobuf JSON mapping in one point: ids are hex,
    not base64. Receivers convert them before parsing; so does this (and checks them)."""
    doc = json.loads(line)
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                for key, size in (("traceId", 16), ("spanId", 8), ("parentSpanId", 8)):
                    if key in span:
                        raw = bytes.fromhex(span[key])
                        assert len(raw) == size and span[key] == raw.hex()  # lowercase
                        span[key] = base64.b64encode(raw).decode()
    return json.dumps(doc)


def _shape(span: Any) -> tuple[Any, ...]:
    return (span.name, span.trace_id, span.span_id, span.parent_span_id, span.status.code,
            span.status.message, span.start_time_unix_nano, span.end_time_unix_nano,
            sorted(attrs(span).items()),
            [(e.name, e.time_unix_nano, sorted(attrs(e).items())) for e in span.events])


def test_an_exported_run_loads_into_a_receiver_as_the_live_spans(project: Path) -> None:
    port = free_port()
    live, _ = asyncio.run(receive(port, run_app(otlp_project(project, port))))
    out = project / "run.otlp.jsonl"
    done = subprocess.run([sys.executable, "-m", "flowscribe", "export", "--format",
                           "otlp-json", "-o", str(out)], cwd=project, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert "hunter2" not in text
    lines = text.splitlines()
    assert lines and all(json.loads(line)["resourceSpans"] for line in lines)
    # The official mapping: the parser refuses unknown fields and wrong types (ids in hex,
    # 64-bit integers as strings).
    requests = [json_format.Parse(_as_protobuf_json(line),
                                  trace_service.ExportTraceServiceRequest()) for line in lines]
    [resource] = {json.dumps(sorted(attrs(rs.resource).items())) for r in requests
                  for rs in r.resource_spans}
    assert dict(json.loads(resource))["service.name"] == "shop"
    port2 = free_port()

    async def load() -> None:
        for request in requests:
            await asyncio.to_thread(_post, port2, request.SerializeToString())

    offline, _ = asyncio.run(receive(port2, load))
    assert {s.name for s in offline} == APP_SPANS
    assert sorted(map(_shape, offline)) == sorted(map(_shape, live))
    ack = next(s for s in offline if s.name == "orders/ack")
    assert attrs(ack)["error.type"] == "EXTERNAL.TIMEOUT"
    assert ack.status.message == "no ack password=[REDACTED]"
