"""What the ASGI and WSGI middlewares share: a request's flow, named, identified, judged.

One request is one flow, ``http/GET /orders/{id}``: the method (unknown ones are ``OTHER``)
and the route *template* the framework matched, or the configured ``unmatched`` name;
never the raw path, so the number of flow ids stays that of the routes. Its correlation
key ``request_id`` is the ``X-Request-ID`` the client sent (when it is a short token) or a
fresh random one. The status is the verdict: 5xx fails with ``HTTP.5XX``, 4xx passes
unless ``fail_4xx``; an unhandled exception fails the flow as anywhere else (recorded at
the line that raised it). Headers are recorded only when named in ``record_headers``, on
the verdict event, through the session's redaction like all evidence; bodies never.

The framework-specific parts (finding the route, reading headers) live in ``asgi.py`` and
``wsgi.py``; this module imports no framework.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable

from ._sites import site_of
from ._warn import warn_once

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable

    from ._sites import Call
    from .core import Flow, NullFlow, Session

__all__ = ["METHODS", "RequestFlows", "direct", "site_call"]

#: Methods named as they are; anything else is ``OTHER`` (a client must not mint flow ids).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
                     "CONNECT"})
#: A client's request id is kept only when it looks like one (no spaces, markup, newlines).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")
_MAX_NAMES = 2048


class _Ids:
    """Where generated request ids come from; renewed in a forked child (a worker)."""

    def __init__(self) -> None:
        self.renew()

    def renew(self) -> None:
        self.prefix = os.urandom(5).hex() + "-"
        self.counter = itertools.count(1)


_ids = _Ids()
if hasattr(os, "register_at_fork"):  # POSIX only
    os.register_at_fork(after_in_child=_ids.renew)


def direct(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """A call with no site of its own: the marker finds the framework's frame."""
    return fn(*args, **kwargs)


class RequestFlows:
    """A middleware's options, and the per-request work both middlewares do with them."""

    __slots__ = ("_names", "_session", "fail_4xx", "header_names", "prefix",
                 "request_id_header", "route", "unmatched")

    def __init__(
        self,
        *,
        session: Session | None = None,
        prefix: str = "http",
        unmatched: str = "<unmatched>",
        fail_4xx: bool = False,
        record_headers: Iterable[str] = (),
        request_id_header: str = "X-Request-ID",
        route: Callable[[Any], str | None] | None = None,
    ) -> None:
        self._session = session
        self.prefix = str(prefix).strip("/") or "http"
        self.unmatched = str(unmatched) or "<unmatched>"
        self.fail_4xx = bool(fail_4xx)
        #: Lower-case header names to record (an allow-list; empty: none).
        self.header_names = tuple(dict.fromkeys(str(h).strip().lower() for h in record_headers
                                                if str(h).strip()))
        self.request_id_header = str(request_id_header).strip().lower()
        self.route = route
        self._names: dict[tuple[str, str | None], str] = {}

    @property
    def session(self) -> Session:
        """The session given, or the default one (looked up per request: the app may
        call ``flowscribe.init`` after building its middleware)."""
        if self._session is not None:
            return self._session
        from .core import get_session

        return get_session()

    def end_run(self) -> None:
        """The server is stopping: end the session's run (its summary and artifacts),
        without starting the default session if no request ever did. Never raises."""
        session = self._session
        if session is None:
            from . import _lifecycle

            session = _lifecycle.default
        if session is None:
            return
        try:
            session.end_session()
        except Exception as exc:
            warn_once("web:end-run", f"web middleware: ending the run failed ({exc!r})")

    def name(self, method: str, template: str | None) -> str:
        """``http/GET /orders/{id}``: the flow id of a request."""
        key = (method, template)
        name = self._names.get(key)
        if name is None:
            verb = method if method in METHODS else "OTHER"
            name = f"{self.prefix}/{verb} {template or self.unmatched}"
            if len(self._names) >= _MAX_NAMES:
                self._names.clear()
            self._names[key] = name
        return name

    def custom_route(self, request: Any) -> str | None:
        """The template the user's ``route=`` callable gives (None: ask the framework)."""
        if self.route is None:
            return None
        try:
            found = self.route(request)
        except Exception as exc:
            warn_once("web:route", f"web middleware: route= raised {exc!r}; using the "
                      "framework's route")
            return None
        return found if isinstance(found, str) and found else None

    @staticmethod
    def request_id(given: str | None) -> str:
        """The client's request id when it is a plain token, else a new one: this
        process's random prefix and a counter (unique across workers, cheaper than
        random bytes per request)."""
        if given and _REQUEST_ID.fullmatch(given):
            return given
        return f"{_ids.prefix}{next(_ids.counter):x}"

    def open(self, method: str, template: str | None, given_id: str | None,
             traceparent: str | None = None) -> Flow | NullFlow:
        """The request's flow, not started yet (enter it from the handler's site). A valid
        W3C ``traceparent`` from the caller becomes its ``traceparent`` correlation key:
        the flow's span is then a child of the caller's (docs/otlp.md)."""
        corr = {"request_id": self.request_id(given_id)}
        if traceparent:
            from .otlp.ids import TRACEPARENT_KEY, format_traceparent, parse_traceparent

            parsed = parse_traceparent(traceparent)
            if parsed is not None:
                corr[TRACEPARENT_KEY] = format_traceparent(*parsed)
        return self.session.flow(self.name(method, template), **corr)

    def verdict(self, flow: Flow | NullFlow, status: int | None,
                headers: dict[str, str] | None, call: Call) -> None:
        """Record the response's verdict from ``call``'s site. No status (the client went
        away before a response began) leaves the flow unfinished: that is what it is."""
        if status is None or not flow.enabled:
            return
        evidence: dict[str, Any] = {"status": status}
        if headers:
            evidence["headers"] = headers
        if status >= 500:
            call(flow.failure, "HTTP.5XX", f"HTTP {status}", **evidence)
        elif status >= 400 and self.fail_4xx:
            call(flow.failure, "HTTP.4XX", f"HTTP {status}", severity="warn", **evidence)
        else:
            call(flow.success, f"HTTP {status}", **evidence)


def site_call(endpoint: Any) -> Call:
    """A caller at the route's view function, so the request's events point at the code
    that served it; ``direct`` when there is none (no route, a class-based endpoint)."""
    return (site_of(endpoint) if endpoint is not None else None) or direct
