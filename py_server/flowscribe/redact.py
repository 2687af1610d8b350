"""Redaction, truncation and safe JSON rendering of evidence and free text.

Everything a user attaches to an event passes through a :class:`Redactor` before any sink
sees it, so this module is where "no secret reaches a sink" is kept:

- a key that contains one of ``redact_keys`` has its whole value replaced by
  :data:`REDACTED`, at any depth. Matching is case-insensitive, by substring, and ignores
  ``-``, ``_``, ``.`` and spaces: ``auth`` catches ``Authorization``, ``api_key`` catches
  ``X-API-Key``, ``password`` catches ``db_password``;
- secret shapes in text (``Bearer`` credentials, JWTs, ``password=...`` pairs, URL
  passwords, well-known API key prefixes, PEM private keys) are scrubbed from every string,
  in evidence as in reasons and exception messages;
- anything that is not JSON data (objects, dataclasses, bytes, sets, cycles, NaN) is
  rendered as safe JSON data instead of raising;
- ``payload_limit`` caps the evidence's size: the bytes of its compact, ASCII-only JSON
  (the trace's encoding) never exceed it; what is cut is marked :data:`TRUNCATED`.

The marker never echoes any part of a secret. Rendering runs on every event, so the common
case (a small flat dict of ints and short strings) takes a fast path.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MAX_DEPTH", "MORE_KEY", "REDACTED", "TRUNCATED", "Redactor"]

REDACTED = "[REDACTED]"
TRUNCATED = "… (truncated)"
#: Key used in a truncated mapping to say entries were dropped.
MORE_KEY = "…"
#: Containers nested deeper than this are summarised (``<dict len=3>``).
MAX_DEPTH = 8
#: At most this many entries of one container are rendered.
MAX_ITEMS = 100
#: At most this many values in one piece of evidence are rendered, whatever the nesting.
MAX_NODES = 2000
#: Without ``allow_raw_payloads``, a string is cut at this many characters.
STR_CAP = 512
#: ``repr()`` of an unknown object is cut at this many characters.
REPR_CAP = 200
#: Smallest effective payload limit (the truncation marker must fit).
MIN_LIMIT = 64

_KEY_CACHE_MAX = 4096
#: Lists up to this long (of plain scalars) stay on the fast path.
_FLAT_SEQ_MAX = 32
_ENC = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)
_encode = _ENC.encode

# Well-known credential shapes. Each alternative starts at a literal or a boundary, so a
# search over long text stays linear.
_SHAPES = (
    r"-----BEGIN[A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z ]*PRIVATE KEY-----|\Z)",
    # JWT: header.payload.signature, base64url, header starts with '{"' -> eyJ
    r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
    r"\b(?:sk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{16,}"
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|AIza[0-9A-Za-z_-]{30,}"
    r"|glpat-[A-Za-z0-9_-]{20,}"
    r"|npm_[A-Za-z0-9]{30,})",
)
# A credential after an auth scheme must look like one (a digit, or a capital after a small
# letter as base64 has), so prose such as "Bearer token expired" or "Basic Authentication"
# stays readable. (Each lookahead runs character classes that cannot overlap, so hostile
# input cannot make the search backtrack quadratically.)
_CREDENTIAL = (r"(?=[A-Za-z._~+/-]*[0-9]|[A-Z0-9._~+/-]*[a-z][a-z0-9._~+/-]*[A-Z])"
               r"[A-Za-z0-9._~+/-]{8,}=*")
_SCHEME_WORD = r"(?i:bearer|basic|digest|token)[ \t]+"
_ANY_CREDENTIAL = r"[A-Za-z0-9._~+/-]{4,}=*"
_SCHEME = rf"(?P<scheme>\b{_SCHEME_WORD}){_CREDENTIAL}"
_URL = r"(?P<url>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)"
_WORD = "[A-Za-z0-9_.-]"
# An unquoted `key: value` is often prose ("token: expired"), so its value is taken for a
# secret only if it has a digit or symbol, or is a long run of letters.
_HEADER_VALUE = (r"(?=[A-Za-z.]*[0-9+/_~=@#$%^*-]|[A-Za-z]{12})"
                 r"[^\s,;&'\"}\])]{4,}")


def _norm_key(key: str) -> str:
    return _SEPARATORS.sub("", key.lower())


_SEPARATORS = re.compile(r"[-_. ]+")


def _key_regex(key: str) -> str:
    """``api_key`` -> ``api[-_. ]?key``: the key as written in text, any separator."""
    parts = [re.escape(p) for p in _SEPARATORS.split(key) if p]
    return "[-_. ]?".join(parts)


def _pair_patterns(keys: Sequence[str]) -> list[str]:
    """``key=value`` / ``"key": value`` / ``Key: t0ken`` for the configured keys."""
    alt = "|".join(_key_regex(k) for k in sorted(keys, key=len, reverse=True))

    def name(n: int) -> str:
        # A whole word that contains a key: the first lookahead finds the key, the second
        # takes the word atomically (a backreference to a lookahead), so a long word full
        # of keys ("tokentoken...") costs linear time, not quadratic backtracking.
        return (f"(?<!{_WORD})(?=[A-Za-z0-9_.-]*?(?i:{alt}))"
                f"(?=(?P<w{n}>{_WORD}*(?:[ ]{_WORD}+)?))(?P=w{n})")

    scheme = f"(?:{_SCHEME_WORD})?"  # `Authorization=Bearer x`: the credential goes too
    return [
        # key=value, key = "value"
        rf"(?P<kv>{name(1)}[ \t]*=[ \t]*)(?:\"[^\"]*\"|'[^']*'|{scheme}[^\s,;&]+)",
        # 'key': value  /  "key": "value"   (dict reprs, JSON)
        rf"(?P<qk>(?P<q>[\"']){name(2)}(?P=q)[ \t]*:[ \t]*)"
        rf"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|{scheme}[^\s,}}\]]+)",
        # Header: value (unquoted). After a secret key *and* an auth scheme
        # (`Authorization: Bearer x`) whatever follows is the credential, whatever it looks like.
        rf"(?P<hk>{name(3)}:[ \t]*)(?:{_SCHEME_WORD}{_ANY_CREDENTIAL}|{_HEADER_VALUE})",
    ]


def _prefilter(keys: Sequence[str]) -> re.Pattern[str]:
    """A cheap first test, run on lowercased text: literals every secret shape contains.

    Grouped by first character, which makes ``re`` several times faster than a flat
    alternation (this runs on every string of every event).
    """
    lits = {"bearer", "basic", "digest", "token", "eyj", "://", "-----begin", "sk-", "sk_",
            "rk_", "gh", "akia", "asia", "xox", "aiza", "glpat-", "npm_"}
    for key in keys:
        parts = [p for p in _SEPARATORS.split(key.lower()) if p]
        lits.update(sep.join(parts) for sep in ("", "-", "_", ".", " "))
    groups: dict[str, list[str]] = {}
    for lit in lits:
        groups.setdefault(lit[0], []).append(lit[1:])
    alts = []
    for first, rests in sorted(groups.items()):
        rest = "|".join(re.escape(r) for r in sorted(rests, key=len, reverse=True))
        alts.append(f"{re.escape(first)}(?:{rest})")
    return re.compile("|".join(alts))


class Redactor:
    """Makes evidence and text safe to write. Thread-safe; reuse one per session."""

    def __init__(self, keys: Sequence[str], payload_limit: int = 2048,
                 allow_raw_payloads: bool = False) -> None:
        self.keys = tuple(dict.fromkeys(k.lower() for k in keys if k and _norm_key(k)))
        self.payload_limit = max(int(payload_limit), MIN_LIMIT)
        self.allow_raw_payloads = bool(allow_raw_payloads)
        self._str_cap: int | None = None if allow_raw_payloads else STR_CAP
        self._norm_keys = tuple(dict.fromkeys(_norm_key(k) for k in self.keys))
        shapes = [*_SHAPES, _SCHEME, _URL, *(_pair_patterns(self.keys) if self.keys else [])]
        self._shapes = re.compile("|".join(f"(?:{s})" for s in shapes))
        self._prefilter_search = _prefilter(self.keys).search
        self._key_cache: dict[str, tuple[bool, str, int]] = {}

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
            if type(s) is not str:
                s = _safe_str(s)
            limit = self.payload_limit
            if len(s) > 8 * limit:  # bound the scrub's work; the tail is cut below anyway
                s = s[: 8 * limit]
            n = 0
            if len(s) >= 6 and self._maybe_secret(s):
                s, n = self._shapes.subn(self._replace, s)
            if len(s) > limit:
                s = s[: limit - len(TRUNCATED)] + TRUNCATED
            return s, n
        except Exception:
            return "<text could not be rendered>", 0

    def _maybe_secret(self, s: str) -> bool:
        return self._prefilter_search(s.lower()) is not None

    def is_secret_key(self, key: str) -> bool:
        """True when a value under ``key`` is redacted."""
        return self._key_info(key)[0]

    # -- fast path -----------------------------------------------------------------------
    def _flat(self, data: dict[Any, Any]) -> tuple[dict[str, Any], int] | None:
        """Small flat dicts of plain scalars; ``None`` sends the input to the slow path."""
        out: dict[str, Any] = {}
        n = 0
        bound = 2
        cache = self._key_cache
        cap = self._str_cap
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
            if t is int or t is bool or v is None:
                out[key] = v
                bound += 24
            elif t is str:
                if len(v) >= 6 and self._maybe_secret(v):
                    v, hits = self._shapes.subn(self._replace, v)
                    n += hits
                if cap is not None and len(v) > cap:
                    v = v[:cap] + TRUNCATED
                out[key] = v
                bound += (6 if v.isascii() else 12) * len(v) + 2
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
            return self._limit(out), n
        return out, n

    def _flat_seq(self, v: Sequence[Any]) -> tuple[list[Any], int, int] | None:
        """A short list of plain scalars as (copy, secrets hidden, size bound), else None."""
        out: list[Any] = []
        n = 0
        bound = 2
        cap = self._str_cap
        for x in v:
            t = type(x)
            if t is int or t is bool or x is None:
                bound += 24
            elif t is str:
                if len(x) >= 6 and self._maybe_secret(x):
                    x, hits = self._shapes.subn(self._replace, x)
                    n += hits
                if cap is not None and len(x) > cap:
                    x = x[:cap] + TRUNCATED
                bound += (6 if x.isascii() else 12) * len(x) + 3
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
        elif isinstance(data, Mapping) or _is_dataclass(data):
            rendered = self._render(data, 0, ctx)
            out = rendered if isinstance(rendered, dict) else {"value": rendered}
        else:
            out = {"value": self._render(data, 0, ctx)}
        return self._limit(out), ctx.n

    def _render(self, v: Any, depth: int, ctx: _Ctx) -> Any:
        t = type(v)
        if t is str:
            return self._string(v, ctx)
        if v is None or t is bool or t is int:
            return v
        if t is float:
            return v if math.isfinite(v) else _nonfinite(v)
        ctx.nodes += 1
        if ctx.nodes > MAX_NODES:
            return TRUNCATED
        try:
            return self._render_other(v, depth, ctx)
        except Exception:  # a hostile __repr__, __iter__, property...: say so, go on
            return f"<unrenderable {_type_name(v)}>"

    def _render_other(self, v: Any, depth: int, ctx: _Ctx) -> Any:
        if isinstance(v, (dict, Mapping)):
            return self._container(v, depth, ctx, self._mapping)
        if isinstance(v, (list, tuple)):
            return self._container(v, depth, ctx, self._sequence)
        if isinstance(v, (set, frozenset)):
            return self._container(v, depth, ctx, self._set)
        if isinstance(v, (bytes, bytearray, memoryview)):
            return self._bytes(v, ctx)
        if isinstance(v, bool):
            return bool(v)
        if isinstance(v, int):  # int subclasses: IntEnum, IntFlag, numpy ints...
            return _enum_name(v) or int(v)
        if isinstance(v, float):
            return _enum_name(v) or (float(v) if math.isfinite(v) else _nonfinite(v))
        if isinstance(v, str):
            return _enum_name(v) or self._string(str.__str__(v), ctx)
        if _is_dataclass(v):
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
        for i, (k, item) in enumerate(v.items()):
            if i >= MAX_ITEMS:
                out[MORE_KEY] = f"{len(v) - i} more {TRUNCATED}"
                break
            self._put(out, k, item, depth, ctx)
        return out

    def _put(self, out: dict[str, Any], k: Any, item: Any, depth: int, ctx: _Ctx) -> None:
        secret, key, _ = self._key_info(k if type(k) is str else _key_text(k))
        if secret:
            out[key] = REDACTED
            ctx.n += 1
        else:
            out[key] = self._render(item, depth + 1, ctx)

    def _sequence(self, v: Any, depth: int, ctx: _Ctx) -> list[Any]:
        out = [self._render(item, depth + 1, ctx) for item in v[:MAX_ITEMS]]
        if len(v) > MAX_ITEMS:
            out.append(f"{len(v) - MAX_ITEMS} more {TRUNCATED}")
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
        simple = _simple_form(v)
        if simple is not None:
            return self._string(simple, ctx)
        if isinstance(v, BaseException):
            return self._string(f"{type(v).__name__}: {_safe_str(v)}", ctx)
        shape = _shape(v)
        if shape == ():  # a numpy scalar: its Python value
            item = v.item()
            if type(item) in (int, float, bool, str):
                return self._render(item, depth, ctx)
        if shape is not None:
            return f"<{_type_name(v)} shape={shape}{_dtype(v)}>"
        attrs = _attributes(v)
        if attrs:
            if id(v) in ctx.active:
                return "<cycle>"
            ctx.active.add(id(v))  # the object, not the fresh attribute dict, is what recurs
            try:
                return self._container(attrs, depth, ctx, self._mapping)
            finally:
                ctx.active.discard(id(v))
        return self._string(_safe_repr(v), ctx)

    def _bytes(self, v: Any, ctx: _Ctx) -> str:
        data = bytes(v)
        if self.allow_raw_payloads:
            return self._string(data.decode("utf-8", "replace"), ctx)
        import hashlib

        return f"<{len(data)} bytes sha256:{hashlib.sha256(data).hexdigest()[:16]}>"

    def _string(self, s: str, ctx: _Ctx) -> str:
        cap = self._str_cap
        if cap is not None and len(s) > 8 * cap:
            s = s[: 8 * cap]
        if len(s) >= 6 and self._maybe_secret(s):
            s, hits = self._shapes.subn(self._replace, s)
            ctx.n += hits
        if cap is not None and len(s) > cap:
            s = s[:cap] + TRUNCATED
        return s

    # -- keys and shapes -------------------------------------------------------------------
    def _key_info(self, key: str) -> tuple[bool, str, int]:
        """(is secret, key as shown, upper bound of its JSON size incl. `:` and `,`)."""
        info = self._key_cache.get(key)
        if info is not None:
            return info
        norm = _norm_key(key)
        secret = any(k in norm for k in self._norm_keys)
        shown = key
        if len(key) >= 6 and self._maybe_secret(key):  # a token used as a key
            shown = self._shapes.sub(self._replace, key)
        if len(shown) > REPR_CAP:
            shown = shown[:REPR_CAP] + TRUNCATED
        info = (secret, shown, (6 if shown.isascii() else 12) * len(shown) + 4)
        if len(self._key_cache) >= _KEY_CACHE_MAX:
            self._key_cache.clear()
        self._key_cache[key] = info
        return info

    @staticmethod
    def _replace(m: re.Match[str]) -> str:
        """Keep what names the secret (``password=``, ``Bearer ``), never the secret."""
        d = m.groupdict()
        keep = d.get("kv") or d.get("qk") or d.get("hk") or d.get("scheme") or d.get("url")
        return (keep or "") + REDACTED

    # -- size ------------------------------------------------------------------------------
    def _limit(self, out: dict[str, Any]) -> dict[str, Any]:
        limit = self.payload_limit
        if len(_encode(out)) <= limit:
            return out
        fitted = _fit(out, limit)
        return fitted if isinstance(fitted, dict) else {MORE_KEY: TRUNCATED}


class _Ctx:
    """Per-call state, so one Redactor can serve many threads."""

    __slots__ = ("active", "n", "nodes")

    def __init__(self) -> None:
        self.n = 0
        self.nodes = 0
        self.active: set[int] = set()


def _size(v: Any) -> int:
    return len(_encode(v))


_MARK_ITEM = _size(TRUNCATED) + 1  # `,"…"` in a list
_MARK_ENTRY = _size(MORE_KEY) + 1 + _size(TRUNCATED) + 1  # `,"…":"… (truncated)"`


def _fit(v: Any, budget: int) -> Any:
    """``v`` cut down so its compact ASCII JSON takes at most ``budget`` bytes, or None."""
    size = _size(v)
    if size <= budget:
        return v
    if isinstance(v, str):
        return _fit_str(v, budget)
    if isinstance(v, dict):
        return _fit_dict(v, budget)
    if isinstance(v, list):
        return _fit_list(v, budget)
    return None


def _fit_str(s: str, budget: int) -> str | None:
    if _size(TRUNCATED) > budget:
        return None
    lo, hi = 0, min(len(s), budget)
    while lo < hi:  # longest prefix whose JSON (with the marker) fits
        mid = (lo + hi + 1) // 2
        if _size(s[:mid] + TRUNCATED) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return s[:lo] + TRUNCATED


def _fit_dict(d: dict[str, Any], budget: int) -> dict[str, Any] | None:
    if budget < 2 + _MARK_ENTRY:
        return None
    out: dict[str, Any] = {}
    used = 2
    items = list(d.items())
    for i, (k, v) in enumerate(items):
        kcost = _size(k) + 1 + (1 if out else 0)
        vcost = _size(v)
        reserve = 0 if i == len(items) - 1 else _MARK_ENTRY
        if used + kcost + vcost + reserve <= budget:
            out[k] = v
            used += kcost + vcost
            continue
        room = budget - used - kcost - _MARK_ENTRY
        part = _fit(v, room) if room > 0 else None
        if part is not None:
            out[k] = part
        out[MORE_KEY] = TRUNCATED
        return out
    return out


def _fit_list(items: list[Any], budget: int) -> list[Any] | None:
    if budget < 2 + _MARK_ITEM:
        return None
    out: list[Any] = []
    used = 2
    for i, v in enumerate(items):
        sep = 1 if out else 0
        vcost = _size(v)
        reserve = 0 if i == len(items) - 1 else _MARK_ITEM
        if used + sep + vcost + reserve <= budget:
            out.append(v)
            used += sep + vcost
            continue
        room = budget - used - sep - _MARK_ITEM
        part = _fit(v, room) if room > 0 else None
        if part is not None:
            out.append(part)
        out.append(TRUNCATED)
        return out
    return out


def _is_dataclass(v: Any) -> bool:
    # Checked by attribute so that this module does not import `dataclasses` (~10 ms).
    return not isinstance(v, type) and hasattr(type(v), "__dataclass_fields__")


def _nonfinite(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


def _safe_str(v: Any) -> str:
    try:
        s = str(v)
        return s if type(s) is str else _safe_repr(v)
    except Exception:
        return f"<unprintable {type(v).__name__}>"


def _safe_repr(v: Any) -> str:
    try:
        s = repr(v)
    except Exception:
        return f"<unprintable {type(v).__name__}>"
    if type(s) is not str:
        return f"<unprintable {type(v).__name__}>"
    return s if len(s) <= REPR_CAP else s[:REPR_CAP] + TRUNCATED


def _key_text(k: Any) -> str:
    if k is None or isinstance(k, (bool, int, float)):
        return json.dumps(k) if not isinstance(k, float) or math.isfinite(k) else str(k)
    if isinstance(k, str):
        return str.__str__(k)
    return _safe_repr(k)


def _enum_name(v: Any) -> str | None:
    if isinstance(v, enum.Enum):
        return f"{type(v).__name__}.{v.name}"
    return None


def _simple_form(v: Any) -> str | None:
    """Text for well-known value types (dates, decimals, UUIDs, paths, enums)."""
    if isinstance(v, enum.Enum):
        return f"{type(v).__name__}.{v.name}"
    mod = type(v).__module__
    if mod in ("datetime",):
        try:
            return str(v.isoformat())
        except Exception:
            return None
    if mod in ("decimal", "uuid", "fractions", "ipaddress") or mod.startswith("pathlib"):
        return _safe_str(v)
    if isinstance(v, complex):
        return str(v)
    return None


def _shape(v: Any) -> tuple[Any, ...] | None:
    """The ``shape`` of an array-like (numpy, pandas...): shapes beat raw payloads."""
    if getattr(type(v), "shape", None) is None or isinstance(v, type):
        return None
    try:
        return tuple(int(x) for x in v.shape)
    except Exception:
        return None


def _dtype(v: Any) -> str:
    try:
        dtype = getattr(v, "dtype", None)
    except Exception:
        return ""
    return f" dtype={_safe_str(dtype)[:40]}" if dtype is not None else ""


def _type_name(v: Any) -> str:
    return type(v).__name__


def _attributes(v: Any) -> dict[str, Any] | None:
    """An instance's attributes (``__dict__``, else ``__slots__``), or None."""
    if isinstance(v, type) or callable(v):
        return None
    try:
        d = object.__getattribute__(v, "__dict__")
        if isinstance(d, dict) and d:
            return dict(d)
    except Exception:
        pass
    slots: dict[str, Any] = {}
    for cls in type(v).__mro__:
        names = cls.__dict__.get("__slots__", ())
        for name in (names,) if isinstance(names, str) else names:
            if name in ("__dict__", "__weakref__") or name in slots:
                continue
            try:
                slots[name] = object.__getattribute__(v, name)
            except Exception:
                continue
    return slots or None
