"""One flow per HTTP request of a WSGI app (Flask, Django, any WSGI framework)::

    from flowscribe.wsgi import FlowscribeMiddleware

    app.wsgi_app = FlowscribeMiddleware(app.wsgi_app)    # Flask
    application = FlowscribeMiddleware(get_wsgi_application())   # Django
    app = FlowscribeMiddleware(app)                      # any WSGI app

Each request runs inside its flow ``http/GET /orders/<int:id>`` (see ``_web.py`` for the
name, the request id, the verdict and what is recorded). The flow is current in the
thread serving the request from the call until the response body is done (exhausted or
closed by the server, as PEP 3333 requires), so a streamed body's markers belong to it.

The route template comes from the framework, asked before the app runs (the flow must
exist before the view's first marker): Flask's URL map (the rule ``request.url_rule``
will hold), Django's URL resolver (``request.resolver_match.route``). Other frameworks:
pass ``route=lambda environ: ...``. No framework is imported unless the app is one.
An exception Flask turns into a 500 is recorded at the line that raised it (through
Flask's ``got_request_exception`` signal).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Callable

from ._context import CURRENT
from ._event import _EXC_ATTR
from ._warn import warn_once
from ._web import RequestFlows, direct, site_call

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._sites import Call
    from .core import Flow, NullFlow, Session

__all__ = ["FlowscribeMiddleware"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_MAX_ROUTES = 4096
_NO_ROUTE: tuple[str | None, Any] = (None, None)


def _find_flask(app: Any) -> Any:
    """The Flask app behind ``app`` (``app.wsgi_app`` is a bound method of it), or None."""
    obj = app
    for _ in range(32):
        if obj is None:
            return None
        if hasattr(obj, "url_map") and hasattr(obj, "view_functions"):
            return obj
        owner = getattr(obj, "__self__", None)
        if owner is not None and hasattr(owner, "url_map"):
            return owner
        obj = getattr(obj, "app", None) or getattr(obj, "application", None)
    return None


def _is_django(app: Any) -> bool:
    return type(app).__module__.startswith("django.")


class _FlaskRoutes:
    """Flask's URL map, asked the way Flask will ask it for this request."""

    def __init__(self, flask_app: Any) -> None:
        self.app = flask_app
        url_map = flask_app.url_map
        self.cacheable = not (getattr(url_map, "host_matching", False)
                              or getattr(flask_app, "subdomain_matching", False))
        self._connected = False

    def match(self, environ: Environ, method: str) -> tuple[str | None, Any]:
        if not self._connected:
            self._connect()
        try:
            adapter = self.app.url_map.bind_to_environ(environ)
            rule, _ = adapter.match(method=method, return_rule=True)
        except Exception:  # NotFound, MethodNotAllowed, RequestRedirect: no route ran
            return _NO_ROUTE
        return str(rule.rule), self.app.view_functions.get(rule.endpoint)

    def _connect(self) -> None:
        # Flask answers a view's exception with a 500 and keeps the exception to itself;
        # its signal hands it over, so the flow records where it was raised.
        self._connected = True
        try:
            from flask import got_request_exception

            got_request_exception.connect(_flask_exception, self.app, weak=False)
        except Exception as exc:
            warn_once("web:flask-signal", f"wsgi middleware: Flask's exceptions are not "
                      f"recorded ({exc!r})")


def _flask_exception(sender: Any, exception: BaseException | None = None, **_: Any) -> None:
    flow = CURRENT.get()
    if flow is not None and exception is not None and getattr(exception, _EXC_ATTR, None) is None:
        flow.exception(exception)


def _django_route(environ: Environ) -> tuple[str | None, Any]:
    import importlib  # Django is optional: looked up only for a Django app

    urls = importlib.import_module("django.urls")
    try:
        match = urls.resolve(environ.get("PATH_INFO") or "/")
    except urls.Resolver404:
        return _NO_ROUTE
    route = match.route
    return ("/" + route.lstrip("/") if isinstance(route, str) else None), match.func


class _Request:
    """One request's state between the call and the body's end."""

    __slots__ = ("call", "ended", "flow", "headers", "owner", "status")

    def __init__(self, owner: RequestFlows, flow: Flow | NullFlow, call: Call,
                 headers: dict[str, str] | None) -> None:
        self.owner = owner
        self.flow = flow
        self.call = call
        self.headers = headers
        self.status: int | None = None
        self.ended = False

    def end(self, exc: BaseException | None) -> None:
        if self.ended:
            return
        self.ended = True
        flow, call = self.flow, self.call
        if exc is not None:
            call(flow.__exit__, type(exc), exc, exc.__traceback__)
            return
        self.owner.verdict(flow, self.status, self.headers, call)
        call(flow.__exit__, None, None, None)


class _Body:
    """The app's response body, passed through; the flow ends when it is exhausted or
    closed, whichever comes first."""

    __slots__ = ("_body", "_it", "_req")

    def __init__(self, body: Iterable[bytes], req: _Request) -> None:
        self._body = body
        self._req = req
        self._it: Iterator[bytes] | None = None

    def __iter__(self) -> _Body:
        self._it = iter(self._body)
        return self

    def __next__(self) -> bytes:
        if self._it is None:
            self._it = iter(self._body)
        try:
            return next(self._it)
        except StopIteration:
            self._req.end(None)
            raise
        except BaseException as exc:
            self._req.end(exc)
            raise

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._req.end(None)


class FlowscribeMiddleware:
    """WSGI middleware: each HTTP request is one flow named by its route template.

    Options as :class:`flowscribe.asgi.FlowscribeMiddleware`; ``route`` takes the environ.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        session: Session | None = None,
        prefix: str = "http",
        unmatched: str = "<unmatched>",
        fail_4xx: bool = False,
        record_headers: Iterable[str] = (),
        request_id_header: str = "X-Request-ID",
        route: Callable[[Environ], str | None] | None = None,
    ) -> None:
        self.app = app
        self._flows = RequestFlows(
            session=session, prefix=prefix, unmatched=unmatched, fail_4xx=fail_4xx,
            record_headers=record_headers, request_id_header=request_id_header, route=route,
        )
        self._rid = "HTTP_" + self._flows.request_id_header.upper().replace("-", "_")
        self._wanted = tuple(
            (h, ("HTTP_" if h not in ("content-type", "content-length") else "")
             + h.upper().replace("-", "_"))
            for h in self._flows.header_names
        )
        self._resolver: Callable[[Environ, str], tuple[str | None, Any]] | None = None
        self._cacheable = True
        self._routes: dict[tuple[str, str, str], tuple[str | None, Call]] = {}

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            req = self._begin(environ)
        except Exception as exc:  # never let tracing stop a request
            warn_once("web:wsgi", f"wsgi middleware: request not traced: {exc!r}")
            return self.app(environ, start_response)
        if not req.flow.enabled:  # filtered out or tracing off: nothing to wrap
            return self.app(environ, start_response)

        def start(status: str, headers: Any, exc_info: Any = None) -> Any:
            code = str(status)[:3]
            if code.isdigit():
                req.status = int(code)
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        req.call(req.flow.__enter__)
        try:
            body = self.app(environ, start)
        except BaseException as exc:
            req.end(exc)
            raise
        return _Body(body, req)

    def _begin(self, environ: Environ) -> _Request:
        method = str(environ.get("REQUEST_METHOD") or "GET")
        template = self._flows.custom_route(environ)
        call = direct
        if template is None:
            template, call = self._route(environ, method)
        recorded: dict[str, str] | None = None
        for name, key in self._wanted:
            value = environ.get(key)
            if isinstance(value, str):
                if recorded is None:
                    recorded = {}
                recorded[name] = value
        flow = self._flows.open(method, template, environ.get(self._rid),
                                environ.get("HTTP_TRACEPARENT"))
        return _Request(self._flows, flow, call, recorded)

    def _route(self, environ: Environ, method: str) -> tuple[str | None, Call]:
        """The route's template and a caller at its view, found once per method and path
        (for every request when the app routes by host)."""
        if self._resolver is None:
            self._resolver = self._find_resolver()
        key = (method, str(environ.get("SCRIPT_NAME") or ""), str(environ.get("PATH_INFO") or ""))
        found = self._routes.get(key) if self._cacheable else None
        if found is None:
            try:
                template, endpoint = self._resolver(environ, method)
            except Exception:
                template, endpoint = _NO_ROUTE
            found = (template, site_call(endpoint))
            if self._cacheable:
                if len(self._routes) >= _MAX_ROUTES:  # raw paths are many: keep a bounded set
                    self._routes.clear()
                self._routes[key] = found
        return found

    def _find_resolver(self) -> Callable[[Environ, str], tuple[str | None, Any]]:
        flask_app = _find_flask(self.app)
        if flask_app is not None:
            routes = _FlaskRoutes(flask_app)
            self._cacheable = routes.cacheable
            return routes.match
        if _is_django(self.app):
            return lambda environ, _method: _django_route(environ)
        return lambda _environ, _method: _NO_ROUTE
