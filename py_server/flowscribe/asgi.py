"""One flow per HTTP request of an ASGI app (Starlette, FastAPI, any ASGI framework)::

    from flowscribe.asgi import FlowscribeMiddleware

    app.add_middleware(FlowscribeMiddleware)        # Starlette / FastAPI
    app = FlowscribeMiddleware(app)                  # any ASGI app

Each request runs inside its flow ``http/GET /orders/{id}`` (see ``_web.py`` for the
name, the request id, the verdict and what is recorded), so markers and sub-flows in the
handler, and tasks it starts (``asyncio.gather``), belong to that request: the flow lives
in the request's own context, never shared with a concurrent one. The flow ends when the
app returns, which for a streaming response is after its last body chunk.

The route template comes from the app's Starlette router, asked before the app runs (the
flow must exist before the handler's first marker): the first route that fully matches, as
Starlette's own routing picks it, with ``Mount`` prefixes joined. Other frameworks: pass
``route=lambda scope: ...``. No framework is imported here. Websocket scopes pass through
untouched.

The ``lifespan`` scope passes through to the app, and its shutdown ends the run: when the
server stops (SIGTERM to uvicorn, with or without ``--workers``), the session ends once
the app has shut down, so the run gets its ``summary`` and artifacts in every worker
before the server re-raises the signal and the process dies of it (no ``atexit`` then).
An app that does not speak lifespan (it returns or raises before its first ``receive()``,
as Django's handler does) has the middleware answer the protocol for it, so its run ends
the same way. ``end_on_shutdown=False`` keeps the session open (an app that goes on
recording after its server stopped).
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, MutableMapping
from typing import Any, Callable

from ._warn import warn_once
from ._web import RequestFlows, direct, site_call

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._sites import Call
    from .core import Session

__all__ = ["FlowscribeMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_FULL, _PARTIAL = 2, 1  # starlette.routing.Match values, compared without importing it
_MAX_ROUTES = 4096
_NO_ROUTE: tuple[str | None, Any] = (None, None)


def _find_router(app: Any) -> Any:
    """The Starlette ``Router`` behind ``app`` (through wrapping middleware), or None."""
    obj = app
    for _ in range(32):
        if obj is None:
            return None
        router = getattr(obj, "router", None)
        if router is not None and hasattr(router, "routes"):
            return router
        if hasattr(obj, "routes") and hasattr(obj, "lifespan"):  # a bare Router
            return obj
        obj = getattr(obj, "app", None)
    return None


def _match(routes: Iterable[Any], scope: Scope, prefix: str, depth: int) -> tuple[str | None, Any]:
    """(template, endpoint) of the route Starlette would pick: the first full match, else
    the first partial one (a 405 still names its route)."""
    partial = _NO_ROUTE
    for route in routes:
        try:
            match, child = route.matches(scope)
            value = getattr(match, "value", 0)
        except Exception:
            continue
        if value != _FULL and not (value == _PARTIAL and partial is _NO_ROUTE):
            continue
        path = getattr(route, "path", "") or ""
        inner = getattr(route, "routes", None)
        if inner:  # a Mount (or Host) with routes of its own: its prefix, then theirs
            if depth >= 8:
                continue
            found = _match(inner, {**scope, **child}, prefix + path, depth + 1)
        elif hasattr(route, "endpoint"):
            found = (prefix + path, route.endpoint)
        else:  # a mounted app: its prefix and the rest as one parameter
            found = (prefix + (getattr(route, "path_format", None) or path), None)
        if found[0] is None:
            continue
        if value == _FULL:
            return found
        partial = found
    return partial


class FlowscribeMiddleware:
    """ASGI middleware: each HTTP request is one flow named by its route template.

    ``record_headers``: request headers to record (names, any case; redacted like all
    evidence, so ``Authorization`` stays ``[REDACTED]`` even when listed). ``fail_4xx``:
    4xx responses fail (``HTTP.4XX``) instead of passing. ``unmatched``: the template of a
    request no route matched. ``request_id_header``: where the client's request id is read.
    ``route``: ``scope -> template`` for apps without a Starlette router. ``session``: a
    :class:`~flowscribe.Session` (default: the default session). ``prefix``: the flow ids'
    first segment. ``end_on_shutdown``: the lifespan's shutdown ends the session's run.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        session: Session | None = None,
        prefix: str = "http",
        unmatched: str = "<unmatched>",
        fail_4xx: bool = False,
        record_headers: Iterable[str] = (),
        request_id_header: str = "X-Request-ID",
        route: Callable[[Scope], str | None] | None = None,
        end_on_shutdown: bool = True,
    ) -> None:
        self.app = app
        self.end_on_shutdown = bool(end_on_shutdown)
        self._flows = RequestFlows(
            session=session, prefix=prefix, unmatched=unmatched, fail_4xx=fail_4xx,
            record_headers=record_headers, request_id_header=request_id_header, route=route,
        )
        self._rid = self._flows.request_id_header.encode("latin-1", "replace")
        self._wanted = {h.encode("latin-1", "replace") for h in self._flows.header_names}
        self._router: Any = None
        self._looked = False
        self._routes: dict[tuple[str, str, str], tuple[str | None, Call]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind != "http":
            if kind == "lifespan" and self.end_on_shutdown:
                await _Lifespan(self.app, self._flows).run(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        try:
            flow, call, headers = self._begin(scope)
        except Exception as exc:  # never let tracing stop a request
            warn_once("web:asgi", f"asgi middleware: request not traced: {exc!r}")
            await self.app(scope, receive, send)
            return
        if not flow.enabled:  # filtered out or tracing off: nothing to wrap
            await self.app(scope, receive, send)
            return
        status: int | None = None

        async def send_status(message: Message) -> None:
            nonlocal status
            if message.get("type") == "http.response.start":
                status = message.get("status")
            await send(message)

        call(flow.__enter__)
        try:
            await self.app(scope, receive, send_status)
        except BaseException as exc:
            call(flow.__exit__, type(exc), exc, exc.__traceback__)
            raise
        self._flows.verdict(flow, status if isinstance(status, int) else None, headers, call)
        call(flow.__exit__, None, None, None)

    def _begin(self, scope: Scope) -> tuple[Any, Any, dict[str, str] | None]:
        method = str(scope.get("method") or "GET")
        template = self._flows.custom_route(scope)
        call = direct
        if template is None:
            template, call = self._route(scope, method)
        given = parent = None
        recorded: dict[str, str] | None = None
        rid, wanted = self._rid, self._wanted
        for name, value in scope.get("headers") or ():
            if name == rid:
                given = value.decode("latin-1")
            elif name == b"traceparent":
                parent = value.decode("latin-1")
            if wanted and name in wanted:
                if recorded is None:
                    recorded = {}
                recorded[name.decode("latin-1")] = value.decode("latin-1")
        return self._flows.open(method, template, given, parent), call, recorded

    def _route(self, scope: Scope, method: str) -> tuple[str | None, Call]:
        """The route's template and a caller at its view, found once per method and path."""
        if not self._looked:
            self._router = _find_router(self.app) or _find_router(scope.get("app"))
            self._looked = True
        router = self._router
        if router is None:
            return None, direct
        key = (method, str(scope.get("root_path") or ""), str(scope.get("path") or ""))
        found = self._routes.get(key)
        if found is None:
            template, endpoint = _match(router.routes, scope, "", 0)
            found = (template, site_call(endpoint))
            if len(self._routes) >= _MAX_ROUTES:  # raw paths are many: keep a bounded set
                self._routes.clear()
            self._routes[key] = found
        return found


class _Lifespan:
    """One lifespan scope: the app's, passed through. At startup the session starts, so
    every worker is a live member of the run before it serves (a worker whose first flow
    came at shutdown, after the others had left, would end the run a second time); once
    the app has shut down, the run ends (before the server hears of it: it may kill the
    process right after)."""

    __slots__ = ("app", "asked", "flows", "stopping")

    def __init__(self, app: ASGIApp, flows: RequestFlows) -> None:
        self.app = app
        self.flows = flows
        self.asked = False  # the app called receive(): it speaks the protocol
        self.stopping = False  # it was told to shut down

    def begin_run(self) -> None:
        try:
            self.flows.session  # noqa: B018 - starts the default session if none is open
        except Exception as exc:
            warn_once("web:begin-run", f"asgi middleware: no session at startup ({exc!r})")

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def app_receive() -> Message:
            self.asked = True
            message = await receive()
            kind = message.get("type")
            if kind == "lifespan.startup":
                self.begin_run()
            elif kind == "lifespan.shutdown":
                self.stopping = True
            return message

        async def app_send(message: Message) -> None:
            if str(message.get("type", "")).startswith("lifespan.shutdown."):
                self.flows.end_run()  # .complete or .failed: the app is done either way
            await send(message)

        try:
            await self.app(scope, app_receive, app_send)
        except Exception:
            if self.asked:
                if self.stopping:
                    self.flows.end_run()
                raise  # the app's own startup or shutdown failed: the server says so
            await self._answer(receive, send)  # it refused the scope outright
            return
        if self.asked:
            if self.stopping:
                self.flows.end_run()  # it returned without saying complete
            return
        await self._answer(receive, send)  # it returned at once: no lifespan of its own

    async def _answer(self, receive: Receive, send: Send) -> None:
        """Speak lifespan for an app that does not, so the server's shutdown still ends
        the run; to the server it looks like an app with nothing to start or stop."""
        while True:
            kind = (await receive()).get("type")
            if kind == "lifespan.startup":
                self.begin_run()
                await send({"type": "lifespan.startup.complete"})
            elif kind == "lifespan.shutdown":
                self.flows.end_run()
                await send({"type": "lifespan.shutdown.complete"})
                return
            else:
                return
