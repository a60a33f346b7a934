"""RequestScopeMiddleware: a request scope per request, commit before response, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect

from asyncdi import InvalidArgumentError, Registry, Scope, ValidationError
from asyncdi.asgi import FailedResponse, NoConnectionError, RequestScopeMiddleware
from tests.servers import serve, start_fails
from tests.web_fakes import Ledger, Transaction

Message = MutableMapping[str, Any]


class BoomError(Exception):
    """An error the app does not handle."""


def starlette_app(reg: Registry, ledger: Ledger, **options: Any) -> Starlette:
    """A Starlette-only app over ``ledger``, with the middleware."""
    reg.register("tx", ledger.transaction, scope=Scope.REQUEST)

    async def write(request: Request) -> Response:
        tx: Transaction = await reg.resolve("tx")
        key = request.path_params["key"]
        tx.pending[key] = int(request.query_params.get("value", "1"))
        status = int(request.query_params.get("status", "200"))
        if request.query_params.get("raise"):
            raise BoomError("unhandled")
        return PlainTextResponse(str(tx.number), status_code=status)

    async def read(request: Request) -> Response:
        return JSONResponse(ledger.committed.get(request.path_params["key"]))

    async def about(request: Request) -> Response:
        seen: Request = await reg.resolve("request")
        asgi_scope = await reg.resolve("asgi_scope")
        return JSONResponse({"path": seen.url.path, "raw": asgi_scope["path"]})

    async def stream(request: Request) -> Response:
        tx: Transaction = await reg.resolve("tx")

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(3):
                await asyncio.sleep(0.01)
                yield f"{tx.outcome};".encode()

        return StreamingResponse(chunks())

    async def feed(websocket: WebSocket) -> None:
        await websocket.accept()
        async for _ in websocket.iter_text():
            tx: Transaction = await reg.resolve("tx")
            await websocket.send_text(f"{tx.number}:{tx.outcome}")

    app = Starlette(
        routes=[
            Route("/write/{key}", write, methods=["POST"]),
            Route("/read/{key}", read),
            Route("/about", about),
            Route("/stream", stream),
            WebSocketRoute("/feed", feed),
        ]
    )
    app.add_middleware(RequestScopeMiddleware, registry=reg, **options)
    return app


async def test_read_your_writes_after_a_2xx(reg: Registry) -> None:
    """A client that got a 2xx reads its write at once: the COMMIT finished before it."""
    ledger = Ledger()
    async with serve(starlette_app(reg, ledger)) as url, httpx.AsyncClient(base_url=url) as c:
        assert (await c.post("/write/a?value=7")).status_code == 200
        assert (await c.get("/read/a")).json() == 7
    assert ledger.outcomes == ["commit"]


async def test_failed_status_and_unhandled_error_roll_back(reg: Registry) -> None:
    """A 4xx response rolls back with FailedResponse; an unhandled error with the error."""
    ledger = Ledger()
    async with serve(starlette_app(reg, ledger)) as url, httpx.AsyncClient(base_url=url) as c:
        assert (await c.post("/write/a?status=409")).status_code == 409
        assert (await c.post("/write/b?raise=1")).status_code == 500
        assert (await c.get("/read/a")).json() is None
    assert ledger.outcomes == ["rollback: FailedResponse", "rollback: BoomError"]
    assert ledger.committed == {}


async def test_failed_predicate_decides_what_counts_as_failed(reg: Registry) -> None:
    """With failed=, a 404 can count as success and a 202 as failure."""
    ledger = Ledger()
    app = starlette_app(reg, ledger, failed=lambda status: status == 202)
    transport = httpx.ASGITransport(app=app)
    async with reg.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        await c.post("/write/a?status=404")
        await c.post("/write/b?status=202")
    assert ledger.outcomes == ["commit", "rollback: FailedResponse"]


async def test_commit_failure_turns_into_a_500(
    reg: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing COMMIT replaces the held 200 with a 500, and the error is logged."""
    ledger = Ledger(fail_commit=True)
    async with serve(starlette_app(reg, ledger)) as url, httpx.AsyncClient(base_url=url) as c:
        response = await c.post("/write/a")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert "COMMIT failed: disk I/O error" in caplog.text
    assert "500 instead of the app's 200 response" in caplog.text


async def test_streaming_response_keeps_its_values_until_the_stream_ends(
    reg: Registry,
) -> None:
    """Every chunk of a stream sees its transaction open; it commits when the stream ends."""
    ledger = Ledger()
    async with serve(starlette_app(reg, ledger)) as url, httpx.AsyncClient(base_url=url) as c:
        response = await c.get("/stream")
    assert response.text == "open;open;open;"
    assert ledger.outcomes == ["commit"]


async def test_streaming_commit_failure_aborts_the_response(
    reg: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    """A stream whose COMMIT fails never arrives complete: the connection is aborted."""
    ledger = Ledger(fail_commit=True)
    async with serve(starlette_app(reg, ledger)) as url, httpx.AsyncClient(base_url=url) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            await c.get("/stream")
    assert "COMMIT failed" in caplog.text


async def test_websocket_keeps_one_scope_per_connection(reg: Registry) -> None:
    """Every message of a connection sees one transaction; the next connection a new one."""
    ledger = Ledger()
    async with serve(starlette_app(reg, ledger)) as url:
        ws_url = url.replace("http", "ws") + "/feed"
        for _ in range(2):
            async with connect(ws_url) as websocket:
                answers = []
                for _ in range(3):
                    await websocket.send("next")
                    answers.append(await websocket.recv())
                assert len(set(answers)) == 1
                assert str(answers[0]).endswith(":open")
        async with asyncio.timeout(2):
            while ledger.outcomes != ["commit", "commit"]:  # noqa: ASYNC110 - closes in the server
                await asyncio.sleep(0.01)


async def test_request_and_asgi_scope_are_resolvable_and_validated(reg: Registry) -> None:
    """'request' and 'asgi_scope' resolve inside a request; validate() knows them."""
    ledger = Ledger()

    @reg.provides("client_path", scope=Scope.REQUEST)
    def client_path(request: Request) -> str:
        return request.url.path

    app = starlette_app(reg, ledger)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as c:
        assert (await c.get("/about")).json() == {"path": "/about", "raw": "/about"}
    reg.validate()


async def test_connection_outside_the_middleware_says_how_to_add_it() -> None:
    """'request' in a scope the middleware did not open names RequestScopeMiddleware."""
    reg = Registry("bare")
    RequestScopeMiddleware(PlainTextResponse("x"), reg)
    async with reg.scope():
        with pytest.raises(NoConnectionError, match=r"app\.add_middleware\(RequestScope"):
            await reg.resolve("request")


async def test_a_graph_that_fails_validate_stops_startup(
    reg: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    """A missing name fails the ASGI startup with the problem; the server exits."""

    @reg.provides("repo")
    def repo(db: object) -> object:
        return db

    assert await start_fails(starlette_app(reg, Ledger()))
    assert "No provider named 'db'" in caplog.text


async def test_failing_eager_singleton_stops_startup(
    reg: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    """With eager=True, a singleton that fails to start fails the server's startup."""

    @reg.provides("pool", scope=Scope.SINGLETON)
    def pool() -> object:
        raise ConnectionRefusedError("database is down")

    assert await start_fails(starlette_app(reg, Ledger(), eager=True))
    assert "ConnectionRefusedError: database is down" in caplog.text


async def test_lifespan_wraps_the_apps_own_startup_and_shutdown(reg: Registry) -> None:
    """The app's lifespan resolves singletons; they are released after its shutdown."""
    events: list[str] = []

    @reg.provides("pool", scope=Scope.SINGLETON)
    async def pool() -> AsyncIterator[str]:
        events.append("pool made")
        yield "pool"
        events.append("pool released")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append(f"app startup with {await reg.resolve('pool')}")
        yield
        events.append("app shutdown")

    app = Starlette(lifespan=lifespan)
    app.add_middleware(RequestScopeMiddleware, registry=reg)
    async with serve(app):
        pass
    assert events == ["pool made", "app startup with pool", "app shutdown", "pool released"]


async def test_lifespan_works_for_an_app_that_does_not_handle_it(reg: Registry) -> None:
    """A raw ASGI app that raises on the lifespan scope still gets the registry's lifespan."""
    events: list[str] = []

    @reg.provides("pool", scope=Scope.SINGLETON)
    async def pool() -> AsyncIterator[str]:
        yield "pool"
        events.append("pool released")

    async def raw_app(scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only http")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": (await reg.resolve("pool")).encode()})

    app = RequestScopeMiddleware(raw_app, reg, eager=True)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as c:
        assert (await c.get("/")).text == "pool"
    assert events == ["pool released"]


async def test_override_around_an_in_process_call_stays_in_its_context(reg: Registry) -> None:
    """An override around an ASGITransport call reaches the handler, not a concurrent one."""
    reg.register("greeting", value="hello")
    both_inside = asyncio.Barrier(2)

    async def greet(request: Request) -> Response:
        await both_inside.wait()  # the two requests overlap here
        return PlainTextResponse(await reg.resolve("greeting"))

    app = Starlette(routes=[Route("/", greet)])
    app.add_middleware(RequestScopeMiddleware, registry=reg)
    transport = httpx.ASGITransport(app=app)

    async def call(override: bool) -> str:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            if not override:
                return (await client.get("/")).text
            with reg.override(greeting="fake"):
                return (await client.get("/")).text

    async with reg.lifespan(), asyncio.timeout(5):
        assert list(await asyncio.gather(call(True), call(False))) == ["fake", "hello"]


def test_failed_response_says_what_and_why() -> None:
    """FailedResponse keeps the status and names the request it belongs to."""
    failure = FailedResponse(409, "POST", "/transfers")
    assert failure.status == 409
    assert str(failure).startswith("the response to POST /transfers has status 409")


def test_middleware_refuses_bad_arguments() -> None:
    """A registry that is no Registry, or a failed= that is no function, is refused."""
    app = PlainTextResponse("x")
    with pytest.raises(InvalidArgumentError, match=r"must be an asyncdi\.Registry"):
        RequestScopeMiddleware(app, registry="reg")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"status -> bool"):
        RequestScopeMiddleware(app, failed=409)  # type: ignore[arg-type]


async def test_startup_failure_message_lists_every_problem(reg: Registry) -> None:
    """lifespan.startup.failed carries every validate() problem as its message."""

    @reg.provides("repo")
    def repo(db: object, cache: object) -> object:
        return db, cache

    sent: list[Message] = []
    messages = iter([{"type": "lifespan.startup"}])

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message)

    app = RequestScopeMiddleware(PlainTextResponse("x"), reg)
    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    [failed] = sent
    assert failed["type"] == "lifespan.startup.failed"
    assert "'db'" in failed["message"]
    assert "'cache'" in failed["message"]
    with pytest.raises(ValidationError):
        reg.validate()
