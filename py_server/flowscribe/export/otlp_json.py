"""A recorded run as OTLP/JSON lines: the OpenTelemetry Collector's file format (what its
``file`` exporter writes and its ``otlpjson`` receiver reads), for loading a run into a
backend later.

Each line is one ``ExportTraceServiceRequest`` in the protobuf JSON mapping that OTLP
specifies: lowerCamelCase field names, trace and span ids as lowercase hex (not base64),
64-bit integers (times, ``intValue``) as decimal strings, enums as numbers. The spans are
those the live ``otlp`` sink sends (:mod:`flowscribe.otlp.mapping`, ids derived from the
run's own ids), so an export and a live export of the same run agree. Needs no
OpenTelemetry package: it is plain JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from flowscribe import __version__
from flowscribe.otlp.mapping import AttrValue, SpanData, SpanMapper

__all__ = ["SPANS_PER_LINE", "otlp_json_lines"]

#: Spans per request line (the SDK batch processor's default batch).
SPANS_PER_LINE = 512
_KIND_INTERNAL = 1
_STATUS_UNSET, _STATUS_ERROR = 0, 2
_FLAG_SAMPLED = 0x01
_FLAG_HAS_IS_REMOTE, _FLAG_IS_REMOTE = 0x100, 0x200


def _value(value: AttrValue) -> dict[str, Any]:
    """An ``AnyValue``."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return {"stringValue": str(value)}  # JSON has no NaN/Infinity
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    return {"arrayValue": {"values": [{"stringValue": str(v)} for v in value]}}


def _attributes(attrs: Mapping[str, AttrValue]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _value(v)} for k, v in attrs.items()]


def _span(span: SpanData) -> dict[str, Any]:
    flags = _FLAG_SAMPLED | _FLAG_HAS_IS_REMOTE
    if span.remote_parent:
        flags |= _FLAG_IS_REMOTE
    out: dict[str, Any] = {
        "traceId": span.trace_id.hex(),
        "spanId": span.span_id.hex(),
        "flags": flags,
        "name": span.name,
        "kind": _KIND_INTERNAL,
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
        "attributes": _attributes(span.attributes),
        "events": [{"timeUnixNano": str(e.time_ns), "name": e.name,
                    "attributes": _attributes(e.attributes)} for e in span.events],
        "status": {"code": _STATUS_ERROR if span.error else _STATUS_UNSET},
    }
    if span.parent_span_id is not None:
        out["parentSpanId"] = span.parent_span_id.hex()
    if span.dropped_events:
        out["droppedEventsCount"] = span.dropped_events
    if span.error and span.status_description:
        out["status"]["message"] = span.status_description
    return out


def _line(mapper: SpanMapper, spans: list[SpanData]) -> str:
    by_pid: dict[int | None, list[SpanData]] = {}
    for span in spans:
        by_pid.setdefault(span.pid, []).append(span)
    request = {"resourceSpans": [
        {"resource": {"attributes": _attributes(mapper.resource(pid))},
         "scopeSpans": [{"scope": {"name": "flowscribe", "version": __version__},
                         "spans": [_span(s) for s in group]}]}
        for pid, group in by_pid.items()]}
    return json.dumps(request, ensure_ascii=False, separators=(",", ":"))


def otlp_json_lines(events: Iterable[Mapping[str, Any]], export_evidence: bool = False,
                    ) -> Iterator[str]:
    """The OTLP/JSON lines (no newline) of one run's ``events`` (in trace order), at most
    :data:`SPANS_PER_LINE` spans each; evidence only with ``export_evidence``, as the
    live sink."""
    mapper = SpanMapper(export_evidence)
    pending: list[SpanData] = []
    for ev in events:
        pending.extend(mapper.add(ev))
        if len(pending) >= SPANS_PER_LINE:
            yield _line(mapper, pending)
            pending = []
    pending.extend(mapper.finish())
    for start in range(0, len(pending), SPANS_PER_LINE):
        yield _line(mapper, pending[start:start + SPANS_PER_LINE])
