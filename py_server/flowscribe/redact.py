"""Redaction and truncation of everything a user attaches to an event.

Everything recorded passes through a :class:`Redactor` before any sink sees it, so this is
where "no secret reaches a sink" is kept. Its parts, one job each:

- :mod:`._secret_keys`: which names are secret (``redact_keys``, any case, any separator);
- :mod:`._secret_text`: secret shapes in free text (tokens, URL passwords, key blocks,
  ``key=value`` pairs, card numbers);
- :mod:`._render`: safe text forms of values that are not JSON data;
- :mod:`._fit`: cutting evidence down to ``payload_limit`` bytes;
- here: the walk over evidence that puts them together.

A value under a secret name is replaced whole by :data:`REDACTED`, at any depth: under a
mapping key, an attribute or dataclass/namedtuple field, the first item of a
``(name, value)`` pair (header lists: ``[("Cookie", "sessionid=...")]``), or the ``name``
of a ``{"name": ..., "value": ...}`` entry (HAR headers, Kubernetes env). Every string is
scrubbed of secret shapes. The marker never echoes any part of a secret. Rendering runs on
every event, so the common case (a small flat dict of ints and short strings) takes a fast
path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from . import _render as rd
from ._fit import fit_mapping
from ._secret_keys import KeyMatcher
from ._secret_text import TextScrubber
from .vocabulary import MORE_KEY, REDACTED, TRUNCATED

__all__ = ["MAX_DEPTH", "MORE_KEY", "REDACTED", "TRUNCATED", "Redactor"]

#: Containers nested deeper than this are summarised (``<dict> … (truncated)``).
MAX_DEPTH = 8
#: At most this many entries of one container are rendered.
MAX_ITEMS = 100
#: At most this many values in one piece of evidence are rendered, whatever the nesting.
MAX_NODES = 2000
#: Without ``allow_raw_payloads``, a string is cut at this many characters.
STR_CAP = 512
#: Smallest effective payload limit (the truncation marker must fit).
MIN_LIMIT = 64

_KEY_CACHE_MAX = 4096
#: Short ASCII strings found clean are remembered (at most this many, then forgotten):
#: evidence repeats its values (a source, a status, a ticker), and the prefilter's regex
#: costs ten times a set lookup. Only clean strings are kept, so no secret is.
_CLEAN_MAX = 4096
_CLEAN_LEN = 64
#: Lists up to this long (of plain scalars) stay on the fast path.
_FLAT_SEQ_MAX = 32
#: The fast path counts 24 characters for an int: true below this magnitude (22 with the
#: sign); a bigger one goes the slow way, which measures what it renders.
_FLAT_INT_MAX = 10**21
#: A scrub reads at most this many times the characters it may keep: the rest is cut anyway.
_SCAN_FACTOR = 8
#: Keys of a mapping entry that say what its ``value`` is.
_NAME_KEYS = frozenset({"name", "key", "header", "field"})
_VALUE_KEYS = frozenset({"value", "values"})


class Redactor:
    """Makes evidence and text safe to write. Thread-safe; reuse one per session."""

    def __init__(self, keys: Sequence[str], payload_limit: int = 2048,
                 allow_raw_payloads: bool = False) -> None:
        self.keys = tuple(dict.fromkeys(k.lower() for k in keys if k))
        self.payload_limit = max(int(payload_limit), MIN_LIMIT)
        self.allow_raw_payloads = bool(allow_raw_payloads)
        self._str_cap: int | None = None if allow_raw_payloads else STR_CAP
        self._keys = KeyMatcher(self.keys)
        self._scrubber = TextScrubber(self._keys)
        self._scrub = self._scrubber.scrub
        self._might_contain = self._scrubber.might_contain
        self._key_cache: dict[str, tuple[bool, str, int]] = {}
        self._clean: set[str] = set()

    # -- public API ----------------------------------------------------------------------
    def evidence(self, data: Any) -> tuple[dict[str, Any], int]:
        """A JSON-safe, redacted, size-capped copy of ``data`` and how many secrets it hid.

        Never raises. A non-mapping is wrapped as ``{"value": ...}``.
        """
        try:
            if type(data) is dict:
                fast = self._flat(data)
                if fast is not None:
                    return fast
            return self._slow(data)
        except Exception:  # the host app must never see our failure
            return {MORE_KEY: "<evidence could not be rendered>"}, 0

    def text(self, s: Any) -> tuple[str, int]:
        """``s`` as text with secret shapes scrubbed and cut to ``payload_limit`` chars."""
        try:
            limit = self.payload_limit
            if type(s) is str and len(s) <= limit:
                # the hot path: step names, flow ids, short clean reasons (a reason is
                # given again on every failure of its kind: remembered, not re-scanned)
                if s in self._clean:
                    return s, 0
                if not self._might_contain(s):
                    if not s.isascii():
                        return rd.safe_str(s), 0
                    if len(s) <= _CLEAN_LEN:
                        self._remember_clean(s)
                    return s, 0
            s = rd.safe_str(s)
            s, n = self._scrub(_scan_window(s, limit))
            if len(s) > limit:
                s = s[: limit - len(TRUNCATED)] + TRUNCATED
            return s, n
        except Exception:
            return "<text could not be rendered>", 0

    def might_contain_secret(self, s: str) -> bool:
        """A cheap test for hot paths: False when ``s`` surely holds no secret shape, so
        ``text(s)`` would return it unchanged (if within ``payload_limit``)."""
        return self._might_contain(s)

    def is_secret_key(self, key: str) -> bool:
        """True when a value under ``key`` is redacted."""
        return self._key_info(key)[0]

    # -- fast path -----------------------------------------------------------------------
    def _scrub_str(self, s: str) -> tuple[str, int]:
        """:meth:`TextScrubber.scrub`, remembering short ASCII strings found clean."""
        if s in self._clean:
            return s, 0
        out, hits = self._scrub(s)
        if not hits and len(s) <= _CLEAN_LEN and out == s and s.isascii():
            self._remember_clean(s)
        return out, hits

    def _remember_clean(self, s: str) -> None:
        """Remember a short ASCII string found free of secret shapes (bounded: cleared
        when full, so a flood of distinct strings costs a rescan, never memory)."""
        clean = self._clean
        if len(clean) >= _CLEAN_MAX:
            clean.clear()
        clean.add(s)

    def _flat(self, data: dict[Any, Any]) -> tuple[dict[str, Any], int] | None:
        """Small flat dicts of plain scalars; ``None`` sends the input to the slow path."""
        if "value" in data or "Value" in data:  # maybe a {"name": ..., "value": ...} entry
            return None
        out: dict[str, Any] = {}
        n = 0
        bound = 2
        cache = self._key_cache
        cap = self._str_cap
        clean = self._clean
        for k, v in data.items():
            if type(k) is not str:
                return None
            info = cache.get(k)
            if info is None:
                info = self._key_info(k)
            key = info[1]
            bound += info[2]
            if info[0]:
                out[key] = REDACTED
                n += 1
                bound += 12
                continue
            t = type(v)
            if (t is int and -_FLAT_INT_MAX < v < _FLAT_INT_MAX) or t is bool or v is None:
                out[key] = v
                bound += 24
            elif t is str:
                if v not in clean:
                    if cap is not None and len(v) > cap:
                        return None  # long text: the slow path's scan window
                    v, hits = self._scrub_str(v)
                    n += hits
                    if not v.isascii():
                        v = rd.safe_str(v)  # a lone surrogate could not be written
                        bound += 6 * len(v)
                out[key] = v
                bound += 6 * len(v) + 2
            elif t is float and math.isfinite(v):
                out[key] = v
                bound += 26
            elif (t is list or t is tuple) and len(v) <= _FLAT_SEQ_MAX:
                seq = self._flat_seq(v)  # shapes, column names: common and cheap
                if seq is None:
                    return None
                out[key] = seq[0]
                n += seq[1]
                bound += seq[2]
            else:
                return None
        if bound > self.payload_limit:
            return fit_mapping(out, self.payload_limit), n
        return out, n

    def _flat_seq(self, v: Sequence[Any]) -> tuple[list[Any], int, int] | None:
        """A short list of plain scalars as (copy, secrets hidden, size bound), else None."""
        if len(v) == 2 and type(v[0]) is str and self.is_secret_key(v[0]):
            return None  # a (name, value) pair: the slow path hides the value
        out: list[Any] = []
        n = 0
        bound = 2
        cap = self._str_cap
        for x in v:
            t = type(x)
            if (t is int and -_FLAT_INT_MAX < x < _FLAT_INT_MAX) or t is bool or x is None:
                bound += 24
            elif t is str:
                if cap is not None and len(x) > cap:
                    return None
                x, hits = self._scrub_str(x)
                n += hits
                if not x.isascii():
                    x = rd.safe_str(x)
                    bound += 6 * len(x)
                bound += 6 * len(x) + 3
            elif t is float and math.isfinite(x):
                bound += 26
            else:
                return None
            out.append(x)
        return out, n, bound

    # -- slow path -----------------------------------------------------------------------
    def _slow(self, data: Any) -> tuple[dict[str, Any], int]:
        ctx = _Ctx()
        if data is None:
            out: dict[str, Any] = {}
        elif isinstance(data, Mapping) or rd.is_dataclass(data):
            rendered = self._render(data, 0, ctx)
            out = rendered if isinstance(rendered, dict) else {"value": rendered}
        else:
            out = {"value": self._render(data, 0, ctx)}
        return fit_mapping(out, self.payload_limit), ctx.n

    def _render(self, v: Any, depth: int, ctx: _Ctx) -> Any:
        t = type(v)
        if t is str:
            return self._string(v, ctx)
        if v is None or t is bool:
            return v
        if t is int:
            return rd.long_int(v) or v
        if t is float:
            return v if math.isfinite(v) else rd.nonfinite(v)
        ctx.nodes += 1
        if ctx.nodes > MAX_NODES:
            return TRUNCATED
        try:
            return self._render_other(v, depth, ctx)
        except Exception:  # a hostile __repr__, __iter__, property...: say so, go on
            return f"<unrenderable {rd.type_name(v)}>"

    def _render_other(self, v: Any, depth: int, ctx: _Ctx) -> Any:
        if isinstance(v, (dict, Mapping)):
            return self._container(v, depth, ctx, self._mapping)
        if isinstance(v, tuple) and rd.namedtuple_fields(v) is not None:
            return self._container(v, depth, ctx, self._namedtuple)
        if isinstance(v, (list, tuple)):
            return self._container(v, depth, ctx, self._sequence)
        if isinstance(v, (set, frozenset)):
            return self._container(v, depth, ctx, self._set)
        if isinstance(v, (bytes, bytearray, memoryview)):
            return self._bytes(v, ctx)
        if isinstance(v, bool):
            return bool(v)
        if isinstance(v, int):  # int subclasses: IntEnum, IntFlag, numpy ints...
            return rd.enum_name(v) or rd.long_int(int(v)) or int(v)
        if isinstance(v, float):
            return rd.enum_name(v) or (float(v) if math.isfinite(v) else rd.nonfinite(v))
        if isinstance(v, str):
            return rd.enum_name(v) or self._string(str.__str__(v), ctx)
        if rd.is_dataclass(v):
            return self._container(v, depth, ctx, self._dataclass)
        return self._object(v, depth, ctx)

    def _container(self, v: Any, depth: int, ctx: _Ctx, render: Any) -> Any:
        if depth >= MAX_DEPTH:
            return f"<{type(v).__name__}> {TRUNCATED}"
        if id(v) in ctx.active:
            return "<cycle>"
        ctx.active.add(id(v))
        try:
            return render(v, depth, ctx)
        finally:
            ctx.active.discard(id(v))

    def _mapping(self, v: Any, depth: int, ctx: _Ctx) -> dict[str, Any]:
        out: dict[str, Any] = {}
        hide = self._names_a_secret(v)
        for i, (k, item) in enumerate(v.items()):
            if i >= MAX_ITEMS:
                out[MORE_KEY] = f"{len(v) - i} more {TRUNCATED}"
                break
            if hide and type(k) is str and k.lower() in _VALUE_KEYS:
                out[self._key_info(k)[1]] = REDACTED
                ctx.n += 1
                continue
            self._put(out, k, item, depth, ctx)
        return out

    def _names_a_secret(self, v: Any) -> bool:
        """A ``{"name": "Authorization", "value": ...}`` entry (HAR headers, k8s env)."""
        if len(v) > 8:
            return False
        keys = {k.lower(): k for k in v if type(k) is str}
        if _VALUE_KEYS.isdisjoint(keys):
            return False
        for low, k in keys.items():
            name = v[k] if low in _NAME_KEYS else None
            if type(name) is str and self.is_secret_key(name):
                return True
        return False

    def _put(self, out: dict[str, Any], k: Any, item: Any, depth: int, ctx: _Ctx) -> None:
        secret, key, _ = self._key_info(k if type(k) is str else rd.key_text(k))
        if secret:
            out[key] = REDACTED
            ctx.n += 1
        else:
            out[key] = self._render(item, depth + 1, ctx)

    def _sequence(self, v: Any, depth: int, ctx: _Ctx) -> list[Any]:
        if len(v) == 2 and type(v[0]) is str and self.is_secret_key(v[0]):
            ctx.n += 1  # a (name, value) pair: the name says the value is a secret
            return [self._key_info(v[0])[1], REDACTED]
        out = [self._render(item, depth + 1, ctx) for item in v[:MAX_ITEMS]]
        if len(v) > MAX_ITEMS:
            out.append(f"{len(v) - MAX_ITEMS} more {TRUNCATED}")
        return out

    def _namedtuple(self, v: Any, depth: int, ctx: _Ctx) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, item in list(zip(rd.namedtuple_fields(v) or (), v))[:MAX_ITEMS]:
            self._put(out, name, item, depth, ctx)
        return out

    def _set(self, v: Any, depth: int, ctx: _Ctx) -> list[Any]:
        try:
            items = sorted(v)
        except Exception:  # mixed types: keep iteration order
            items = list(v)
        return self._sequence(items, depth, ctx)

    def _dataclass(self, v: Any, depth: int, ctx: _Ctx) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in list(v.__dataclass_fields__)[:MAX_ITEMS]:
            try:
                item = getattr(v, name)
            except Exception:
                item = "<unreadable>"
            self._put(out, name, item, depth, ctx)
        return out

    def _object(self, v: Any, depth: int, ctx: _Ctx) -> Any:
        """Anything else: a known simple form, a shape, its attributes, or a capped repr."""
        simple = rd.simple_form(v)
        if simple is not None:
            return self._string(simple, ctx)
        if isinstance(v, BaseException):
            return self._string(f"{type(v).__name__}: {rd.safe_str(v)}", ctx)
        shape = rd.shape(v)
        if shape == ():  # a numpy scalar: its Python value
            item = v.item()
            if type(item) in (int, float, bool, str):
                return self._render(item, depth, ctx)
        if shape is not None:
            return f"<{rd.type_name(v)} shape={shape}{rd.dtype_text(v)}>"
        attrs = rd.attributes(v)
        if attrs:
            if id(v) in ctx.active:
                return "<cycle>"
            ctx.active.add(id(v))  # the object, not the fresh attribute dict, is what recurs
            try:
                return self._container(attrs, depth, ctx, self._mapping)
            finally:
                ctx.active.discard(id(v))
        return self._string(rd.safe_repr(v), ctx)

    def _bytes(self, v: Any, ctx: _Ctx) -> str:
        data = bytes(v)
        if self.allow_raw_payloads:
            return self._string(data.decode("utf-8", "replace"), ctx)
        import hashlib

        return f"<{len(data)} bytes sha256:{hashlib.sha256(data).hexdigest()[:16]}>"

    def _string(self, s: str, ctx: _Ctx) -> str:
        cap = self._str_cap
        if cap is not None:
            s = _scan_window(s, cap)
        s, hits = self._scrub(s)
        ctx.n += hits
        if cap is not None and len(s) > cap:
            s = s[:cap] + TRUNCATED
        return s if s.isascii() else rd.safe_str(s)

    # -- keys --------------------------------------------------------------------------------
    def _key_info(self, key: str) -> tuple[bool, str, int]:
        """(is secret, key as shown, upper bound of its JSON size incl. `:` and `,`)."""
        info = self._key_cache.get(key)
        if info is not None:
            return info
        secret = self._keys.is_secret(key)
        shown = rd.safe_str(self._scrub(key)[0])  # a token used as a key
        if len(shown) > rd.REPR_CAP:
            shown = shown[: rd.REPR_CAP] + TRUNCATED
        info = (secret, shown, (6 if shown.isascii() else 12) * len(shown) + 4)
        if len(self._key_cache) >= _KEY_CACHE_MAX:
            self._key_cache.clear()
        self._key_cache[key] = info
        return info


class _Ctx:
    """Per-call state, so one Redactor can serve many threads."""

    __slots__ = ("active", "n", "nodes")

    def __init__(self) -> None:
        self.n = 0
        self.nodes = 0
        self.active: set[int] = set()


def _scan_window(s: str, keep: int) -> str:
    """The part of ``s`` worth scrubbing when at most ``keep`` characters are kept.

    Scrubbing can shorten text (a long key block becomes one marker) and so pull in text
    from far behind; the cut ends at a whitespace, so no half of a secret, too short to be
    recognised, is left at its end.
    """
    window = _SCAN_FACTOR * keep
    if len(s) <= window:
        return s
    s = s[:window]
    cut = max(s.rfind(" "), s.rfind("\n"), s.rfind("\t"))
    return s[:cut] if cut > 0 else s
