"""What an event is: the trace format's vocabulary, and the values markers are made of.

The names every part of the runtime shares (the schema version, the event keys in trace
order, severities, marker types), the original quickstart's :class:`Event`, ``_More`` (what
an event has beyond a plain marker's fields) and the small normalisers that turn what an
app passes (a severity, a ``caused_by``, a number, an exception, tags) into trace values.
It sits below flows and sessions, which both build events from it, and imports nothing
but the warning helper and the vocabulary.
"""

from __future__ import annotations

from ._warn import warn_once
from .vocabulary import SEVERITIES, SEVERITY_ALIASES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

SCHEMA_VERSION = 1
#: The one declaration of an event's fields, in the order the trace writes them
#: (docs/trace-format.md; schema/trace.schema.json lists its properties in this order, a
#: test checks both), each with what fills it: ``run`` the run's constant, ``event`` each
#: event's own, ``flow`` the flow instance's (null outside a flow), ``context`` the
#: instance's correlation and tags, ``site`` the call site's, and ``more`` what a plain
#: marker lacks (a :class:`_More`'s, null on a plain marker). Everything that lays a line
#: out (``EVENT_KEYS``, ``_More``, the recorder's template, ``_encode``'s fragments) is
#: derived from it.
EVENT_FIELDS: tuple[tuple[str, str], ...] = (
    ("schema", "run"), ("id", "event"), ("run_id", "run"), ("seq", "event"),
    ("ts", "event"), ("event_type", "event"),
    ("flow_id", "flow"), ("instance", "flow"), ("parent", "flow"), ("parent_flow", "flow"),
    ("step", "event"), ("correlation", "context"), ("tags", "context"),
    ("file", "site"), ("line", "site"), ("function", "site"), ("thread", "event"),
    ("pid", "run"), ("severity", "event"),
    ("error_class", "more"), ("reason", "more"), ("evidence", "event"),
    ("value", "more"), ("unit", "more"), ("status", "more"), ("duration_ms", "more"),
    ("caused_by", "more"), ("exception", "more"),
)  # fmt: skip
#: The keys of every event, in trace order.
EVENT_KEYS = tuple(name for name, _ in EVENT_FIELDS)
#: The keys a :class:`_More` fills, in trace order (null on a plain marker).
MORE_KEYS = tuple(name for name, part in EVENT_FIELDS if part == "more")
#: The keys of a flow instance's fields, in trace order (null outside a flow).
FLOW_KEYS = tuple(name for name, part in EVENT_FIELDS if part == "flow")
#: Event types a user may record through :meth:`Flow.add_event`.
MARKER_TYPES = frozenset({"checkpoint", "success", "failure", "exception", "metric"})
_SEVERITY_SET = frozenset(SEVERITIES)
#: The attribute an exception carries once recorded (its event id), so it is recorded once.
_EXC_ATTR = "_flowscribe_event"


def _text(value: Any) -> str:
    """``value`` as text any file can hold; never raises.

    Everything a marker is given is the app's and untrusted: a ``__str__`` that raises
    becomes a placeholder, and a lone surrogate (what ``os.fsdecode`` makes of a
    non-UTF-8 file name) is kept as its ``\\udcXX`` escape, so the trace, summary.md
    and ask.md can all still be written.
    """
    text: str
    if type(value) is str:
        text = value
    else:
        try:
            text = str(value)
        except Exception:
            return f"<unprintable {type(value).__name__}>"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _severity(value: Any) -> str:
    """A trace severity from what a user passed (``WARNING`` -> ``warn``)."""
    text = _text(value).lower()
    text = SEVERITY_ALIASES.get(text, text)
    if text in _SEVERITY_SET:
        return text
    warn_once(f"severity:{text}", f"unknown severity {value!r} recorded as 'info' "
              f"(use one of {', '.join(SEVERITIES)})")
    return "info"


def _id_of(ref: Any) -> str | None:
    """An event id from what a user passes as ``caused_by`` (an id, an Event, a Flow)."""
    if ref is None:
        return None
    if type(ref) is str:
        return ref if ref.isascii() else _text(ref)
    try:
        ident = getattr(ref, "id", None) or getattr(ref, "instance", None)
    except Exception:  # a property of the app's that raises
        ident = None
    return ident if type(ident) is str else _text(ref)


def _float_or_none(value: Any) -> float | None:
    try:
        f = float(value)
    except Exception:  # OverflowError for 10**400, anything from an app's __float__
        return None
    return f if f == f and f not in (float("inf"), float("-inf")) else None


def _exc_type_name(exc: BaseException) -> str:
    cls = type(exc)
    mod = cls.__module__
    return cls.__qualname__ if mod in ("builtins", "__main__") else f"{mod}.{cls.__qualname__}"


def _exc_message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__name__}>"


class Event:
    """One marker, in the shape of the original quickstart; record it with
    :meth:`Flow.add_event`. After that, :attr:`id` holds the recorded event's id."""

    __slots__ = (
        "caused_by",
        "error_class",
        "event_type",
        "evidence",
        "flow_id",
        "id",
        "reason",
        "severity",
        "step",
        "tags",
        "unit",
        "value",
    )

    def __init__(
        self,
        event_type: str,
        flow_id: str | None = None,
        step: str | None = None,
        evidence: Mapping[str, Any] | None = None,
        error_class: str | None = None,
        reason: str | None = None,
        severity: str | None = None,
        tags: Sequence[str] | None = None,
        caused_by: Any = None,
        value: float | None = None,
        unit: str | None = None,
    ) -> None:
        self.event_type = event_type
        self.flow_id = flow_id
        self.step = step
        self.evidence = evidence
        self.error_class = error_class
        self.reason = reason
        self.severity = severity
        self.tags = tags
        self.caused_by = caused_by
        self.value = value
        self.unit = unit
        self.id: str | None = None

    def __repr__(self) -> str:
        return f"Event({self.event_type!r}, flow_id={self.flow_id!r}, step={self.step!r})"


class _More:
    """What an event has beyond a plain marker's fields (see :meth:`Recorder.record`).

    ``fields`` holds its values of the ``more`` fields of :data:`EVENT_FIELDS` by key
    (``error_class`` and ``reason`` may be passed first, by position); those not given
    stay null. ``ident`` is a (seq, id) already taken (a flow start's id is its instance
    id); ``trusted`` evidence is flowscribe's own (run header, summary) and is not
    redacted; ``urgent`` events are written before the call returns.
    """

    __slots__ = ("fields", "ident", "tags", "trusted", "urgent")

    def __init__(
        self,
        error_class: str | None = None,
        reason: Any = None,
        *,
        tags: Sequence[str] | None = None,
        urgent: bool = False,
        trusted: bool = False,
        ident: tuple[int, str] | None = None,
        **fields: Any,
    ) -> None:
        if error_class is not None:
            fields["error_class"] = error_class
        if reason is not None:
            fields["reason"] = reason
        self.fields = fields
        self.tags = tags
        self.urgent = urgent
        self.trusted = trusted
        self.ident = ident


def _merge_tags(*groups: Sequence[str] | None) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        if group:
            items: Any = group
            if isinstance(group, str) or not hasattr(group, "__iter__"):
                items = (group,)  # tags="beta" is one tag, not four
            for tag in items:
                seen.setdefault(tag if type(tag) is str and tag.isascii() else _text(tag), None)
    return list(seen)
