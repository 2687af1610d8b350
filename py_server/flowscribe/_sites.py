"""Calling a marker as if from another file:line: where adapters place their events.

A marker records its caller's file:line (``_callsite``). An adapter (the logging handler,
the web middleware) calls markers from its own code, which flowscribe skips, so the event
would land in whatever frame called the adapter: ``logging/__init__.py`` or the web
server. What the user needs is the log call's line, or the view function of the route.

:func:`caller_at` returns a tiny function whose code object claims that file, line and
function name; a marker called through it finds that frame first and records its site,
through the same path and caches as every marker. Only the public marker API is used, so
the record path stays in one place. The functions are cached per site, and the cache is
bounded (log call sites and routes are few; a flood of distinct ones is cleared, not kept).
"""

from __future__ import annotations

import sys
from types import CodeType, FunctionType

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable

    #: A call through a site: ``call(fn, *args, **kwargs)`` runs ``fn`` from that site.
    Call = Callable[..., Any]

__all__ = ["caller_at", "site_of"]

_MAX = 4096
_cache: dict[tuple[str, int, str], Call] = {}


def _trampoline(_fn: Any, *_a: Any, **_k: Any) -> Any: return _fn(*_a, **_k)


_BASE: CodeType = _trampoline.__code__
#: ``_trampoline``'s whole body is on its ``def`` line, so moving ``co_firstlineno`` moves
#: the line a marker sees (line tables are relative to it on every supported Python).
_QUALNAME = sys.version_info >= (3, 11)


def caller_at(filename: str, lineno: int, function: str) -> Call:
    """A function that calls ``fn(*args, **kwargs)`` from ``filename:lineno`` in
    ``function``: ``caller_at(path, 12, "view")(flow.checkpoint, "log", ...)``."""
    key = (filename, lineno, function)
    call = _cache.get(key)
    if call is None:
        fields: dict[str, Any] = {
            "co_filename": filename,
            "co_firstlineno": max(int(lineno), 1),
            "co_name": function,
        }
        if _QUALNAME:
            fields["co_qualname"] = function
        call = FunctionType(_BASE.replace(**fields), {})
        if len(_cache) >= _MAX:
            _cache.clear()
        _cache[key] = call
    return call


def site_of(fn: Any) -> Call | None:
    """A caller at ``fn``'s definition (its ``def`` line), or None when ``fn`` is not a
    Python function (a class, a builtin, a partial of one)."""
    seen = 0
    while seen < 10:  # functools.wraps chains, bound methods, partials
        seen += 1
        inner = getattr(fn, "__wrapped__", None) or getattr(fn, "__func__", None) \
            or getattr(fn, "func", None)
        if inner is None:
            break
        fn = inner
    code = getattr(fn, "__code__", None)
    if not isinstance(code, CodeType):
        return None
    return caller_at(code.co_filename, code.co_firstlineno,
                     getattr(code, "co_qualname", code.co_name))
