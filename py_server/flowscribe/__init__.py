"""flowscribe: flow-first runtime tracing for Python apps.

Mark what your code means to do, and flowscribe records what happened::

    import flowscribe

    with flowscribe.flow("orders/submit", ticker="AAPL") as f:   # kwargs: correlation
        f.checkpoint("validate", rows=120)                       # kwargs: evidence
        f.failure("EXTERNAL.TIMEOUT", "no ack in 1s", waited_ms=1000)

    @flowscribe.traced("indicators/ema/compute")                 # sync or async
    def compute(ticker): ...

The module-level functions use a default session, started on first use (or by
:func:`init`) and ended at exit. Nothing here raises into your app.
"""

from __future__ import annotations

from ._context import child_env, copy_context, current_flow, submit, wrap
from ._on_demand import write_artifacts
from .core import Event, Flow, NullFlow, Session, end_session, get_session, init, traced

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any

    from .core import ParentLike

__version__ = "0.1.0"

__all__ = [
    "Event",
    "Flow",
    "NullFlow",
    "Session",
    "__version__",
    "checkpoint",
    "child_env",
    "copy_context",
    "current_flow",
    "end_session",
    "exception",
    "failure",
    "flow",
    "flush",
    "get_session",
    "init",
    "metric",
    "start_flow",
    "submit",
    "success",
    "traced",
    "traceparent",
    "wrap",
    "write_artifacts",
]


def flow(
    flow_id: str,
    *,
    parent: ParentLike = None,
    tags: list[str] | None = None,
    caused_by: Any = None,
    **correlation: Any,
) -> Flow | NullFlow:
    """A flow of the default session: ``with flowscribe.flow("orders/submit") as f:``."""
    return get_session().flow(
        flow_id, parent=parent, tags=tags, caused_by=caused_by, **correlation
    )


def start_flow(
    flow_id: str, *, parent: ParentLike = None, tags: list[str] | None = None, **correlation: Any
) -> Flow | NullFlow:
    """Start a flow of the default session now; end it with ``.end()``."""
    return get_session().start_flow(flow_id, parent=parent, tags=tags, **correlation)


def _current() -> Flow | NullFlow | None:
    f = current_flow()
    if f is None:
        from ._warn import warn_once

        warn_once("no-flow", "a marker was called outside any flow; it is ignored")
    return f


def checkpoint(step: str, **evidence: Any) -> str | None:
    """:meth:`Flow.checkpoint` on the current flow (ignored outside a flow)."""
    f = _current()
    return f.checkpoint(step, **evidence) if f is not None else None


def success(reason: str | None = None, **evidence: Any) -> str | None:
    """:meth:`Flow.success` on the current flow (ignored outside a flow)."""
    f = _current()
    return f.success(reason, **evidence) if f is not None else None


def failure(error_class: str, reason: str | None = None, **evidence: Any) -> str | None:
    """:meth:`Flow.failure` on the current flow (ignored outside a flow)."""
    f = _current()
    return f.failure(error_class, reason, **evidence) if f is not None else None


def metric(name: str, value: float, unit: str | None = None, **evidence: Any) -> str | None:
    """:meth:`Flow.metric` on the current flow (ignored outside a flow)."""
    f = _current()
    return f.metric(name, value, unit, **evidence) if f is not None else None


def exception(exc: BaseException | None = None, **evidence: Any) -> str | None:
    """:meth:`Flow.exception` on the current flow (ignored outside a flow)."""
    f = _current()
    return f.exception(exc, **evidence) if f is not None else None


def traceparent() -> str | None:
    """The W3C ``traceparent`` header of the current flow's span, to send on an outgoing
    call (``headers["traceparent"] = flowscribe.traceparent()``) so the service called
    joins this flow's trace in an OpenTelemetry backend (docs/otlp.md); None outside a
    flow. Never raises."""
    try:
        from .otlp.ids import flow_traceparent

        return flow_traceparent(current_flow())
    except Exception:
        return None


def flush() -> None:
    """Write everything the default session recorded so far, now."""
    get_session().flush()
