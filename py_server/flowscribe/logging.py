"""stdlib ``logging`` and flowscribe, both ways.

Log records into flows: :class:`FlowscribeHandler` records each record emitted inside a
flow as an event of that flow, at the *log call's* file:line (``record.pathname``,
``lineno``, ``funcName``: where ``logger.warning(...)`` was written, not this handler)::

    import logging
    from flowscribe.logging import FlowscribeHandler

    logging.getLogger().addHandler(FlowscribeHandler(failure_level=logging.ERROR))

Levels map to severities (DEBUG debug, INFO info, WARNING warn, ERROR error, CRITICAL
critical); a record is a ``checkpoint`` (step ``log``, evidence ``logger``, ``level``,
``message``), a record with an exception (``logger.exception``) an ``exception`` event, and
with ``failure_level`` set, records at that level and above a ``failure`` of
``failure_class``. Records outside any flow, and flowscribe's own, are left alone.

Flow ids onto log records: :class:`FlowFilter` adds ``flow_id`` and ``flow_instance`` to
every record (for formats such as ``%(flow_id)s``); :func:`structlog_processor` does the
same for structlog (which is not imported here). And the console's lines through logging:
``sinks: [{type: logging}]`` in ra.yaml (``sinks/console.py``).

The module shares its name with the standard library's; inside flowscribe every
``import logging`` is absolute, so it is the standard library everywhere, here included.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from ._context import CURRENT
from ._event import _EXC_ATTR
from ._sites import caller_at

__all__ = ["LOGGER_NAME", "FlowFilter", "FlowscribeHandler", "severity_of",
           "structlog_processor"]

#: The logger flowscribe's own lines go to (``sinks: [{type: logging}]``); the handler
#: never records them back (that would loop).
LOGGER_NAME = "flowscribe"
_OWN_PREFIX = LOGGER_NAME + "."


def severity_of(levelno: int) -> str:
    """The flowscribe severity of a logging level (levels between round down)."""
    if levelno >= logging.CRITICAL:
        return "critical"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warn"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


class FlowscribeHandler(logging.Handler):
    """Records log records in the current flow, at the log call's file:line.

    ``failure_level``: records at this level or above are failures of ``failure_class``
    (default: none are; ``logging.WARNING`` or ``logging.ERROR`` are the usual choices).
    ``step``: the step name of plain records. Attach it where records are emitted
    synchronously (not behind a ``QueueHandler``): the flow is the one current in the
    thread or task that logged.
    """

    def __init__(
        self,
        level: int = logging.NOTSET,
        *,
        failure_level: int | None = None,
        failure_class: str = "LOG.ERROR",
        step: str = "log",
    ) -> None:
        super().__init__(level)
        self.failure_level = failure_level
        self.failure_class = str(failure_class)
        self.step = str(step)

    def handle(self, record: logging.LogRecord) -> Any:
        """Filter and emit without the handler's lock. ``emit`` only calls markers, which
        are thread-safe; holding the lock would deadlock against the writer's flusher when
        the ``logging`` sink's lines come back through this handler while an app thread,
        inside ``emit``, flushes an urgent failure (the two locks in opposite orders)."""
        rv: Any = self.filter(record)  # bool, or (3.12+) a replacement record
        if isinstance(rv, logging.LogRecord):
            record = rv
        if rv:
            self.emit(record)
        return rv

    def emit(self, record: logging.LogRecord) -> None:
        flow = CURRENT.get()
        if flow is None or not flow.enabled:
            return
        name = record.name
        if name == LOGGER_NAME or name.startswith(_OWN_PREFIX):
            return
        try:
            call = caller_at(record.pathname, record.lineno or 1, record.funcName or "?")
            message = record.getMessage()
            severity = severity_of(record.levelno)
            exc = record.exc_info[1] if record.exc_info else None
            if exc is not None and getattr(exc, _EXC_ATTR, None) is None:
                call(flow.exception, exc, severity=severity, logger=name, message=message)
            elif self.failure_level is not None and record.levelno >= self.failure_level:
                call(flow.failure, self.failure_class, message, severity=severity,
                     logger=name, level=record.levelname)
            else:
                call(flow.checkpoint, self.step, severity=severity, logger=name,
                     level=record.levelname, message=message)
        except Exception:
            # A message whose arguments do not format is the app's bug; logging reports
            # it the way it reports it for every handler, and never raises.
            self.handleError(record)


class FlowFilter(logging.Filter):
    """Adds ``flow_id`` and ``flow_instance`` of the current flow to every record
    (``default`` outside flows, so a format string never fails). It filters nothing out.
    Attributes already on the record (flowscribe's own lines carry theirs) are kept."""

    def __init__(self, name: str = "", default: str | None = None) -> None:
        super().__init__(name)
        self.default = default

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "flow_id"):
            flow = CURRENT.get()
            if flow is None:
                record.flow_id = record.flow_instance = self.default
            else:
                record.flow_id = flow.flow_id
                record.flow_instance = flow.instance
        return True


def structlog_processor(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: ``flow_id`` and ``flow_instance`` of the current flow
    (nothing outside flows; keys the app set itself are kept)."""
    flow = CURRENT.get()
    if flow is not None:
        event_dict.setdefault("flow_id", flow.flow_id)
        event_dict.setdefault("flow_instance", flow.instance)
    return event_dict
