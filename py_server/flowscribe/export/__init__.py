"""A recorded run in other tools' formats: ``flowscribe export RUN --format F``.

- ``chrome``: Chrome Trace Event JSON, for Perfetto and ``chrome://tracing``
  (:mod:`flowscribe.export.chrome`);
- ``mermaid``: the flow graph and the first failing instance's sequence, as Mermaid text
  (:mod:`flowscribe.export.mermaid`);
- ``otlp-json``: the run's spans as OTLP/JSON lines, the OpenTelemetry Collector's file
  format (:mod:`flowscribe.export.otlp_json`).
"""

from __future__ import annotations

from flowscribe.export.chrome import chrome_trace
from flowscribe.export.mermaid import failure_sequence, flow_graph
from flowscribe.export.otlp_json import otlp_json_lines

__all__ = ["FORMATS", "chrome_trace", "failure_sequence", "flow_graph", "otlp_json_lines"]

FORMATS = ("chrome", "mermaid", "otlp-json")
