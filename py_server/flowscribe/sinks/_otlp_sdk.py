"""The OpenTelemetry SDK's side of the otlp sink: mapped spans as the SDK's spans, the
resource, the duration histogram. Imported only by the sink's thread (the SDK is an
optional extra, and importing it costs the app nothing there)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from .. import __version__
from ..otlp.mapping import AttrValue, SpanData

__all__ = ["meters", "resource", "to_readable"]

_SCOPE = InstrumentationScope("flowscribe", __version__)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_resources: dict[tuple[tuple[str, Any], ...], Resource] = {}


def resource(attrs: Mapping[str, AttrValue], env: Mapping[str, str]) -> Resource:
    """The process's resource; ``OTEL_RESOURCE_ATTRIBUTES``/``OTEL_SERVICE_NAME`` win
    (e.g. ``service.version=1.4.2`` for an app that has a version)."""
    key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in attrs.items()))
    res = _resources.get(key)
    if res is None:
        base = Resource.create({})  # telemetry.sdk.* and the OTEL_* variables
        res = Resource(dict(attrs)).merge(base).merge(_from_env(env))
        _resources[key] = res
    return res


def _from_env(env: Mapping[str, str]) -> Resource:
    detected = OTELResourceDetector().detect()
    attrs = dict(detected.attributes)
    name = env.get("OTEL_SERVICE_NAME", "").strip()
    if name:
        attrs["service.name"] = name
    return Resource(attrs)


def to_readable(span: SpanData, res: Resource) -> ReadableSpan:
    """The SDK's finished span for ``span`` (ids exactly as mapped)."""
    tid = int.from_bytes(span.trace_id, "big")
    ctx = SpanContext(tid, int.from_bytes(span.span_id, "big"), False, _SAMPLED)
    parent = None
    if span.parent_span_id is not None:
        parent = SpanContext(tid, int.from_bytes(span.parent_span_id, "big"),
                             span.remote_parent, _SAMPLED)
    status = Status(StatusCode.ERROR, span.status_description) if span.error \
        else Status(StatusCode.UNSET)
    return ReadableSpan(
        name=span.name, context=ctx, parent=parent, resource=res,
        attributes=dict(span.attributes),
        events=[Event(e.name, dict(e.attributes), e.time_ns) for e in span.events],
        kind=SpanKind.INTERNAL, status=status, start_time=span.start_ns,
        end_time=span.end_ns, instrumentation_scope=_SCOPE,
    )


def meters(res: Resource, url: str, headers: Mapping[str, str], timeout: float | None,
           buckets: Sequence[float]) -> tuple[MeterProvider, Any]:
    """A meter provider exporting to ``url`` when flushed (no thread of its own: the
    sink's thread flushes it) and its ``flowscribe.flow.duration`` histogram."""
    exporter = OTLPMetricExporter(endpoint=url, headers=dict(headers), timeout=timeout)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=float("inf"))
    # shutdown_on_exit=False: the sink ends it within its own time limit; the SDK's atexit
    # hook would export again, unbounded, to a backend that may be down.
    provider = MeterProvider(resource=res, metric_readers=[reader], shutdown_on_exit=False)
    histogram = provider.get_meter("flowscribe", __version__).create_histogram(
        "flowscribe.flow.duration", unit="s",
        description="Duration of flow instances, by flow id and outcome.",
        explicit_bucket_boundaries_advisory=list(buckets),
    )
    return provider, histogram
