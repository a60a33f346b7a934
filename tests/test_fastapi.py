"""asyncdi.fastapi: Provide in path operations, dependencies and websockets; setup()."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, WebSocket
from fastapi.responses import JSONResponse
from websockets.asyncio.client import connect

from asyncdi import InvalidNameError, Registry, Scope
from asyncdi.asgi import NoConnectionError
from asyncdi.fastapi import Provide, ProvideRoute, setup
from tests.servers import serve
from tests.web_fakes import Ledger, Transaction


class ConflictError(Exception):
    """Turned into a 409 by the app's exception handler."""


class CrashError(Exception):
    """Not handled by the app: a 500."""


def numbered(tx: Annotated[Transaction, Provide("tx")]) -> int:
    """A FastAPI dependency that uses Provide itself."""
    return tx.number


def fastapi_app(reg: Registry, ledger: Ledger) -> FastAPI:
    """A FastAPI app over ``ledger``, set up with asyncdi."""
    reg.register("tx", ledger.transaction, scope=Scope.REQUEST)
    app = FastAPI()
    setup(app, reg)

    @app.exception_handler(ConflictError)
    async def conflict(request: Request, error: ConflictError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=409)

    @app.post("/write/{key}")
    async def write(
        key: str, value: int = 1, fail: str = "", tx: Transaction = Provide("tx")
    ) -> int:
        tx.pending[key] = value
        if fail == "http":
            raise HTTPException(422, "refused")
        if fail == "handler":
            raise ConflictError("taken")
        if fail == "crash":
            raise CrashError("boom")
        return tx.number

    @app.get("/read/{key}")
    async def read(key: str) -> int | None:
        return ledger.committed.get(key)

    @app.get("/same")
    async def same(
        tx: Annotated[Transaction, Provide("tx")], number: int = Depends(numbered)
    ) -> bool:
        return tx.number == number

    @app.get("/sync")
    def sync_endpoint(tx: Transaction = Provide("tx")) -> int:
        return tx.number

    @app.websocket("/feed")
    async def feed(websocket: WebSocket, tx: Transaction = Provide("tx")) -> None:
        await websocket.accept()
        async for _ in websocket.iter_text():
            again: Transaction = await reg.resolve("tx")
            await websocket.send_text(f"{tx.number}:{again.number}")

    return app


async def test_read_your_writes_and_rollbacks_on_a_real_server(reg: Registry) -> None:
    """A 2xx is committed and readable; HTTPException, a handler's 409 and a crash roll back."""
    ledger = Ledger()
    app = fastapi_app(reg, ledger)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.post("/write/a?value=5")).status_code == 200
        assert (await client.get("/read/a")).json() == 5
        statuses = [
            (await client.post(f"/write/b?fail={fail}")).status_code
            for fail in ("http", "handler", "crash")
        ]
        assert statuses == [422, 409, 500]
        assert (await client.get("/read/b")).json() is None
    assert ledger.outcomes == [
        "commit",
        "rollback: FailedResponse",
        "rollback: FailedResponse",
        "rollback: CrashError",
    ]


async def test_commit_failure_turns_into_a_500(reg: Registry) -> None:
    """A failing COMMIT answers 500, never the endpoint's 200."""
    app = fastapi_app(reg, Ledger(fail_commit=True))
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.post("/write/a")).status_code == 500


async def test_websocket_handler_gets_one_scope_per_connection(reg: Registry) -> None:
    """Provide in a websocket handler and each later resolve see the connection's value."""
    ledger = Ledger()
    async with serve(fastapi_app(reg, ledger)) as url:
        answers = []
        for _ in range(2):
            async with connect(url.replace("http", "ws", 1) + "/feed") as websocket:
                for _ in range(2):
                    await websocket.send("next")
                    answers.append(await websocket.recv())
    assert answers == ["0:0", "0:0", "1:1", "1:1"]


@pytest.fixture
async def client(reg: Registry) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client for the FastAPI app, inside the registry's lifespan."""
    transport = httpx.ASGITransport(app=fastapi_app(reg, Ledger()))
    async with reg.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_provide_in_a_dependency_shares_the_request_scope(
    client: httpx.AsyncClient,
) -> None:
    """A dependency's Provide and the endpoint's see the same request value."""
    assert (await client.get("/same")).json() is True


async def test_sync_endpoint_gets_its_provided_value(client: httpx.AsyncClient) -> None:
    """A sync endpoint's Provide parameter is filled through FastAPI's dependency path."""
    assert (await client.get("/sync")).json() == 0


async def test_openapi_does_not_show_provide_parameters(reg: Registry) -> None:
    """Provide parameters, in the endpoint or in a dependency, are not in the schema."""
    schema = fastapi_app(reg, Ledger()).openapi()
    write = schema["paths"]["/write/{key}"]["post"]
    assert [p["name"] for p in write["parameters"]] == ["key", "value", "fail"]
    assert "parameters" not in schema["paths"]["/same"]["get"]


async def test_provide_route_resolves_outside_fastapis_solver(reg: Registry) -> None:
    """Under ProvideRoute an async endpoint's Provide params are no FastAPI dependencies."""
    router = APIRouter(route_class=ProvideRoute)

    @router.get("/x")
    async def endpoint(tx: Transaction = Provide("tx")) -> int:
        return tx.number

    [route] = router.routes
    assert isinstance(route, ProvideRoute)
    assert route.dependant.dependencies == []


async def test_routes_declared_before_setup_still_work(reg: Registry) -> None:
    """A route FastAPI declared as a plain APIRoute resolves Provide as a dependency."""
    ledger = Ledger()
    reg.register("tx", ledger.transaction, scope=Scope.REQUEST)
    app = FastAPI()

    @app.get("/early")
    async def early(tx: Transaction = Provide("tx")) -> int:
        return tx.number

    setup(app, reg)
    transport = httpx.ASGITransport(app=app)
    async with reg.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.get("/early")).json() == 0
    assert ledger.outcomes == ["commit"]


@pytest.mark.parametrize("route_class", [ProvideRoute, None])
async def test_provide_without_the_middleware_says_how_to_add_it(
    reg: Registry, route_class: Any
) -> None:
    """Without RequestScopeMiddleware, Provide raises an error naming it and how to add it."""
    reg.register("tx", Ledger().transaction, scope=Scope.REQUEST)
    router = APIRouter(route_class=route_class) if route_class else APIRouter()

    @router.get("/x")
    async def endpoint(tx: Transaction = Provide("tx")) -> int:
        return tx.number

    app = FastAPI()
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        with pytest.raises(NoConnectionError, match=r"Provide\('tx'\).*RequestScopeMiddleware"):
            await c.get("/x")


def test_provide_refuses_a_bad_name() -> None:
    """Provide takes a provider name; anything else is an InvalidNameError."""
    with pytest.raises(InvalidNameError, match="Provide"):
        Provide("not a name")
    assert repr(Provide("users")) == "Provide('users')"
