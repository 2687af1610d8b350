"""A recorded run in other tools' formats: ``flowscribe export RUN --format F``.

- ``chrome``: Chrome Trace Event JSON, for Perfetto and ``chrome://tracing``
  (:mod:`flowscribe.export.chrome`);
- ``mermaid``: the flow graph and the first failing instance's sequence, as Mermaid text
  (:mod:`flowscribe.export.mermaid`).
"""

from __future__ import annotations

from flowscribe.export.chrome import chrome_trace
from flowscribe.export.mermaid import failure_sequence, flow_graph

__all__ = ["FORMATS", "chrome_trace", "failure_sequence", "flow_graph"]

FORMATS = ("chrome", "mermaid")
