"""OpenTelemetry (OTLP) for flowscribe's traces: one mapping, two ways out.

``mapping`` turns trace events into spans (plain data, no SDK); the live sink
(``sinks/otlp.py``, through the official SDK's exporter) and ``flowscribe export --format
otlp-json`` (``export/otlp_json.py``, no SDK needed) both use it, so a recorded run
exported later says exactly what the live export said. ``ids`` derives trace and span ids
from run and event ids and reads and writes W3C ``traceparent`` headers. The mapping is
documented in ``docs/otlp.md``. Nothing here imports the SDK.
"""
