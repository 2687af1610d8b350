"""Flows in tests: in-memory capture of what the runtime records, and assertions on it.

The pytest plugin (``flowscribe.pytest_plugin``) gives each test a ``flows`` fixture, a
:class:`Recording` of that test's events; outside pytest, ``with capture() as rec:``
records the block's. Both offer ``instances(flow_id)`` (:class:`FlowInstance` objects),
``assert_flow(flow_id, verdict=..., error_class=...)`` and ``tree()`` (see :class:`Flows`).
``with reproducible():`` makes the runs started in it write the same summary.md, ask.md
and trace every time (fixed clock and ids), for golden-file tests.
"""

from __future__ import annotations

from ._capture import Recording, capture
from ._flows import FlowInstance, Flows
from ._reproducible import reproducible

__all__ = ["FlowInstance", "Flows", "Recording", "capture", "reproducible"]
