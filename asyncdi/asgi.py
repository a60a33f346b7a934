"""Request scopes for any ASGI app: ``RequestScopeMiddleware`` and ``FailedResponse``.

Pure ASGI (no ``BaseHTTPMiddleware``), so it works for Starlette, FastAPI and any ASGI
app. ``import asyncdi`` never imports this module, and this module imports Starlette only
if it is installed, to provide ``"request"``.

Each HTTP request, and each websocket connection for its whole life, runs inside its own
``registry.scope()``. A complete response is held until the scope is released, so a
client that got a 2xx knows the request's teardowns (its COMMIT) have finished.
"""

from __future__ import annotations

import contextvars
import importlib.util
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from asyncdi._asgi_lifespan import run_lifespan
from asyncdi._errors import AsyncDIError, InvalidArgumentError
from asyncdi._registry import Registry
from asyncdi._registry import registry as default_registry
from asyncdi._request_scope import RequestScope
from asyncdi._scope import Scope

__all__ = [
    "FailedResponse",
    "NoConnectionError",
    "RequestScopeMiddleware",
    "current_registry",
    "register_connection",
]

Message = MutableMapping[str, Any]
ASGIScope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[ASGIScope, Receive, Send], Awaitable[None]]

logger: Final = logging.getLogger("asyncdi.asgi")

_SERVER_ERROR: Final[tuple[Message, Message]] = (
    {
        "type": "http.response.start",
        "status": 500,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21")],
    },
    {"type": "http.response.body", "body": b"Internal Server Error", "more_body": False},
)
# Messages that end a response in one go (the ASGI path-send and zero-copy extensions).
_COMPLETE_BODIES: Final = frozenset({"http.response.pathsend", "http.response.zerocopysend"})


class FailedResponse(AsyncDIError):  # noqa: N818 - the name is part of the public API
    """What a request's teardowns receive when the response counts as failed.

    The middleware throws it in at the teardown's ``yield`` when the app answered with a
    failed status (by default any status >= 400) without raising, e.g. after FastAPI
    turned an ``HTTPException`` into a 409. A teardown that rolls back on ``except
    Exception`` rolls back. Never raised to the app or the client.
    """

    def __init__(self, status: int, method: str = "", path: str = "") -> None:
        self.status = status
        self.method = method
        self.path = path
        super().__init__(status)

    def __str__(self) -> str:
        request = f" to {self.method} {self.path}" if self.path else ""
        return (
            f"the response{request} has status {self.status}, which counts as failed, so the "
            "request scope is released as after an error (teardowns roll back)"
        )


class NoConnectionError(LookupError, AsyncDIError):
    """The current ASGI connection was asked for outside ``RequestScopeMiddleware``."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(what)

    def __str__(self) -> str:
        return (
            f"{self.what} needs the current ASGI request, and none is active: "
            "RequestScopeMiddleware sets it. Add the middleware to the app: "
            "`app.add_middleware(RequestScopeMiddleware, registry=registry)` (from "
            "asyncdi.asgi import RequestScopeMiddleware), or `asyncdi.fastapi.setup(app, "
            "registry)` for FastAPI."
        )


class _Connection:
    """The ASGI connection being served in the current context, and its registry."""

    __slots__ = ("receive", "registry", "scope", "send")

    def __init__(self, registry: Registry, scope: ASGIScope, receive: Receive, send: Send) -> None:
        self.registry = registry
        self.scope = scope
        self.receive = receive
        self.send = send


_connection: contextvars.ContextVar[_Connection | None] = contextvars.ContextVar(
    "asyncdi_asgi_connection", default=None
)


def current_registry(what: str) -> Registry:
    """The registry of the connection being served here; ``what`` names the asker.

    Raises :class:`NoConnectionError` outside ``RequestScopeMiddleware``.
    """
    connection = _connection.get()
    if connection is None:
        raise NoConnectionError(what)
    return connection.registry


def _current(what: str) -> _Connection:
    connection = _connection.get()
    if connection is None:
        raise NoConnectionError(what)
    return connection


def _asgi_scope() -> ASGIScope:
    return _current("the provider 'asgi_scope'").scope


def _starlette_connection() -> Any:
    from starlette.requests import Request
    from starlette.websockets import WebSocket

    connection = _current("the provider 'request'")
    if connection.scope["type"] == "websocket":
        return WebSocket(connection.scope, connection.receive, connection.send)
    return Request(connection.scope, connection.receive, connection.send)


def register_connection(registry: Registry) -> None:
    """Register ``"asgi_scope"`` and (with Starlette installed) ``"request"`` on ``registry``.

    Both are ``REQUEST``-scoped and read the connection ``RequestScopeMiddleware`` is
    serving, so ``validate()`` knows them. The middleware calls this when it is built;
    call it yourself to validate a registry before any app exists (a CLI check).
    """
    registry.register("asgi_scope", _asgi_scope, scope=Scope.REQUEST, replace=True)
    if importlib.util.find_spec("starlette") is not None:
        registry.register("request", _starlette_connection, scope=Scope.REQUEST, replace=True)


def _status_failed(status: int) -> bool:
    return status >= 400


class RequestScopeMiddleware:
    """Run each HTTP request and each websocket connection in its own request scope.

    ``app.add_middleware(RequestScopeMiddleware, registry=registry)``, or wrap any ASGI
    app: ``RequestScopeMiddleware(app, registry)``. ``registry`` defaults to the global
    ``asyncdi.registry``.

    - Inside a request, ``"asgi_scope"`` (the raw ASGI scope) and, with Starlette
      installed, ``"request"`` (a ``Request`` or ``WebSocket``) are resolvable.
    - A request's teardowns receive the app's exception when it raised, and a
      :class:`FailedResponse` when the response counts as failed: ``failed(status)``,
      by default ``status >= 400``.
    - A complete response is held until the scope is released; if a teardown fails
      (a COMMIT), the error is logged and the client gets a 500 instead. A streaming
      response is released when the app sends its last body message, before that
      message goes out; a teardown failure then aborts the response.
    - With ``lifespan=True`` the ASGI lifespan opens ``registry.lifespan(eager=eager)``
      before the app's own startup, and closes it after the app's shutdown. A graph that
      fails ``validate()``, or a failing eager singleton, fails startup.
    """

    def __init__(
        self,
        app: ASGIApp,
        registry: Registry | None = None,
        *,
        lifespan: bool = True,
        eager: bool = False,
        failed: Callable[[int], bool] | None = None,
    ) -> None:
        if registry is None:
            registry = default_registry
        elif not isinstance(registry, Registry):
            raise InvalidArgumentError(
                "RequestScopeMiddleware(app, registry=...)",
                f"registry must be an asyncdi.Registry, got {type(registry).__name__}.",
            )
        if failed is not None and not callable(failed):
            raise InvalidArgumentError(
                "RequestScopeMiddleware(app, failed=...)",
                "failed takes a function `status -> bool` that says whether a response "
                f"status counts as failed, or None for `status >= 400`; got {failed!r}.",
            )
        self.app = app
        self.registry = registry
        self.lifespan = lifespan
        self.eager = eager
        self.failed = failed or _status_failed
        register_connection(registry)

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan" and self.lifespan:
            await run_lifespan(self.app, self.registry, self.eager, scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        request_scope = self.registry.scope()
        token = _connection.set(_Connection(self.registry, scope, receive, send))
        try:
            await request_scope.__aenter__()
            exchange = _Exchange(self, request_scope, scope, send)
            try:
                await self.app(scope, receive, exchange.send)
            except BaseException as error:
                if exchange.open:
                    exchange.open = False
                    # Release errors are logged and noted on `error` by the scope.
                    await request_scope.__aexit__(type(error), error, error.__traceback__)
                raise
            if exchange.open:  # the app returned without finishing its response
                await exchange.finish()
        finally:
            _connection.reset(token)

    async def _websocket(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        request_scope = self.registry.scope()
        token = _connection.set(_Connection(self.registry, scope, receive, send))
        try:
            async with request_scope:
                await self.app(scope, receive, send)
        finally:
            _connection.reset(token)


class _Exchange:
    """One HTTP request's response messages, held until its scope is released."""

    __slots__ = ("downstream", "middleware", "open", "request_scope", "scope", "start", "status")

    def __init__(
        self,
        middleware: RequestScopeMiddleware,
        request_scope: RequestScope,
        scope: ASGIScope,
        downstream: Send,
    ) -> None:
        self.middleware = middleware
        self.request_scope = request_scope
        self.scope = scope
        self.downstream = downstream
        self.start: Message | None = None
        self.status = 500  # until the app starts a response
        self.open = True  # the request scope is not released yet

    def _failure(self, status: int) -> FailedResponse | None:
        if not self.middleware.failed(status):
            return None
        return FailedResponse(status, self.scope.get("method", ""), self.scope.get("path", ""))

    async def _release(self, status: int) -> None:
        """Release the request scope, with a FailedResponse if ``status`` counts as failed."""
        self.open = False
        failure = self._failure(status)
        if failure is None:
            await self.request_scope.__aexit__(None, None, None)
        else:
            await self.request_scope.__aexit__(FailedResponse, failure, None)

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.start = message
            self.status = int(message["status"])
            return
        start = self.start
        if start is not None:  # the first message after the start
            self.start = None
            if (kind == "http.response.body" and not message.get("more_body", False)) or (
                kind in _COMPLETE_BODIES
            ):
                await self._complete(start, message)
                return
            await self.downstream(start)  # a stream: headers go out now
        elif self.open and kind == "http.response.body" and not message.get("more_body", False):
            # The stream's last message: release first, so a teardown failure aborts the
            # response instead of completing it.
            await self._release(self.status)
        await self.downstream(message)

    async def _complete(self, start: Message, body: Message) -> None:
        status = self.status
        if not self.open:  # released already (the app raised, then answered): just send
            await self.downstream(start)
            await self.downstream(body)
            return
        try:
            await self._release(status)
        except Exception:
            logger.exception(
                "asyncdi: releasing the request scope of %s %s failed, so the client gets "
                "500 instead of the app's %d response",
                self.scope.get("method", ""),
                self.scope.get("path", ""),
                status,
            )
            start, body = _SERVER_ERROR
        await self.downstream(start)
        await self.downstream(body)

    async def finish(self) -> None:
        """The app returned without a complete response: release, then send what is held."""
        start, self.start = self.start, None
        await self._release(self.status)
        if start is not None:
            await self.downstream(start)
