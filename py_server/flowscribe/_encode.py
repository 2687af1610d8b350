"""An event's JSON line: the encoders, the constant fragments, and what cannot be encoded.

A line is assembled from JSON fragments: what is constant for a session, a flow instance
or a call site is encoded once, and only the fields that change per event are encoded per
event. The line equals ``json.dumps(event, separators=(",", ":"))`` (the tests check this
for every event type).

With orjson importable (as Eliot and structlog use it), a line is instead the whole event
dict through ``orjson.dumps``: one C call, cheaper than the fragments. Its lines hold the
same values and stay ASCII: a line orjson cannot write as ASCII JSON (non-ASCII text, an
int past 64 bits, a non-str key) is made by the fragments instead. Importing orjson costs
more than the fragments do on thousands of events (it imports ``dataclasses``,
``inspect``, ``uuid`` and ``datetime``: 5–12 ms), so a process takes it from the start
only when the app has imported it already, or when ``FLOWSCRIBE_JSON=orjson`` says so;
otherwise once it has recorded :data:`ORJSON_AFTER` events (:func:`json_choice`).
``FLOWSCRIBE_JSON=stdlib`` in the environment keeps to the standard library (the
benchmarks compare both).

This module holds the pieces of that: the encoders, loaded when the first session starts
(``json`` is imported then, so that ``import flowscribe`` stays cheap), the fragments
every line shares (derived from ``_event.EVENT_FIELDS``, the one declaration of the
fields), and the fallbacks that make any value encodable without raising. Assembling a
line is the recorder's hot path (``_recorder.py``), which binds the encoders as its own
globals once they are loaded.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from ._event import EVENT_KEYS, FLOW_KEYS, MORE_KEYS
from ._render import long_int
from .vocabulary import SEVERITIES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable

_NO_FLOW = "".join(f'"{key}":null,' for key in FLOW_KEYS)
#: The line's text for each severity (None included), which is also the set of valid ones.
_SEVERITY_JSON: dict[str | None, str] = {
    None: '"severity":null,', **{s: f'"severity":"{s}",' for s in SEVERITIES}
}
_EVIDENCE_AT = EVENT_KEYS.index("evidence")
#: The ``more`` fields around the evidence, each with its JSON prefix (see _More).
MORE_BEFORE = tuple((k, f'"{k}":') for k in MORE_KEYS if EVENT_KEYS.index(k) < _EVIDENCE_AT)
MORE_AFTER = tuple((k, f',"{k}":') for k in MORE_KEYS if EVENT_KEYS.index(k) > _EVIDENCE_AT)
#: A plain marker's line around its evidence: its ``more`` fields are all null.
_PLAIN_MIDDLE = "".join(f"{prefix}null," for _, prefix in MORE_BEFORE)
_PLAIN_END = "".join(f"{prefix}null" for _, prefix in MORE_AFTER) + "}"


#: orjson's option that ends each line with ``\n`` (OPT_APPEND_NEWLINE).
ORJSON_NEWLINE = 1 << 10


#: A process that has not imported orjson yet takes it after recording this many events:
#: about where the fragments' extra cost (1–2 µs an event) has paid for orjson's import,
#: so a short run never pays it and a long one pays at most twice what is best.
ORJSON_AFTER = 4096


def _json_setting() -> str:
    """``FLOWSCRIBE_JSON`` as given (``stdlib``, ``orjson``; anything else is the default)."""
    return os.environ.get("FLOWSCRIBE_JSON", "").strip().lower()


def orjson_allowed() -> bool:
    """False when ``FLOWSCRIBE_JSON=stdlib`` switches orjson off, for writing and reading
    traces alike (tests cover both paths that way)."""
    return _json_setting() != "stdlib"


def json_choice() -> int:
    """When a process's lines move to orjson: 0 at once (``FLOWSCRIBE_JSON=orjson``, or
    orjson already imported by the app), :data:`ORJSON_AFTER` events in (orjson merely
    installed, or not known to be), -1 never (``FLOWSCRIBE_JSON=stdlib``)."""
    choice = _json_setting()
    if choice == "stdlib":
        return -1
    if choice == "orjson" or "orjson" in sys.modules:
        return 0
    return ORJSON_AFTER


def orjson_dumps() -> Callable[[Any, Any, int], bytes] | None:
    """``orjson.dumps`` when it is importable and not switched off, else None.

    Called as ``dumps(event, None, ORJSON_NEWLINE)``: positional arguments are the
    cheapest call (the hot path's).
    """
    if not orjson_allowed():
        return None
    try:
        import orjson  # optional: used when the app's environment has it
    except ImportError:
        return None
    dumps: Callable[[Any, Any, int], bytes] = orjson.dumps
    if getattr(orjson, "OPT_APPEND_NEWLINE", None) != ORJSON_NEWLINE:
        return None  # an orjson too old (or too different) to trust with the trace
    try:
        if dumps({"a": [1, 1.5, None, True, "x"]}, None, ORJSON_NEWLINE) != (
            b'{"a":[1,1.5,null,true,"x"]}\n'
        ):
            return None
    except Exception:
        return None
    return dumps


def _no_json(value: Any) -> str:
    raise RuntimeError("no session started: the JSON encoder is not loaded")


#: A str as a JSON string (ASCII-only); a JSON value of anything.
_esc: Callable[[str], str] = _no_json
_enc_value: Callable[[Any], str] = _no_json


def _no_chunks(value: Any, indent: int) -> Any:
    raise RuntimeError("no session started: the JSON encoder is not loaded")


#: The C encoder's chunks of a JSON-safe value (json's own encoder where there is no C).
_chunks: Callable[[Any, int], Any] = _no_chunks


def _load_encoders() -> None:
    global _esc, _enc_value, _chunks
    if _esc is not _no_json:
        return
    import json  # lazily: `import flowscribe` must stay cheap
    from json import encoder as json_encoder

    esc = json_encoder.encode_basestring_ascii
    slow = json.JSONEncoder(separators=(",", ":"), default=_fallback, allow_nan=False).encode
    fast: Callable[[Any], str] = slow
    c_make = getattr(json_encoder, "c_make_encoder", None)
    if c_make is not None:
        try:
            # One reusable C encoder: no per-call setup. Without a circularity check,
            # which redacted data never needs; a cycle becomes a RecursionError below.
            chunks = c_make(None, _fallback, esc, None, ":", ",", False, False, False)

            def joined(value: Any) -> str:
                return "".join(chunks(value, 0))

            if joined({"a": [1, "\u00e9", 1.5, None, True]}) == slow(
                {"a": [1, "\u00e9", 1.5, None, True]}
            ):
                fast = joined
                _chunks = chunks
        except Exception:
            pass

    def value(obj: Any) -> str:
        try:
            return fast(obj)
        except (ValueError, TypeError, RecursionError):
            return slow(_sanitize(obj, 0))  # NaN, odd keys, cycles: unredacted data only

    _esc, _enc_value = esc, value
    if _chunks is _no_chunks:
        _chunks = _python_chunks(slow)


def _python_chunks(encode: Callable[[Any], str]) -> Callable[[Any, int], Any]:
    def chunks(value: Any, _indent: int) -> tuple[str]:
        return (encode(value),)

    return chunks


def _js(value: str | None) -> str:
    return "null" if value is None else _esc(value)


def _fallback(obj: Any) -> Any:
    """JSON for what json cannot encode: never raises."""
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, (bytes, bytearray)):
        return f"<{len(obj)} bytes>"
    try:
        text = repr(obj)
    except Exception:
        text = f"<unrepresentable {type(obj).__name__}>"
    return text if len(text) <= 200 else text[:199] + "…"


def _sanitize(value: Any, depth: int) -> Any:
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, int) and not isinstance(value, bool):
        text = long_int(value)
        if text is not None:
            return text
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if depth > 8:
        return _fallback(value)
    if isinstance(value, Mapping):
        return {str(k): _sanitize(v, depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_sanitize(v, depth + 1) for v in list(value)[:100]]
    return _fallback(value)
