"""One FastAPI app four ways, in-process: asyncdi, FastAPI's Depends, wireup, module globals.

Run ``python bench/web.py`` (``pip install -r bench/requirements-peers.txt`` for the wireup
row; without wireup it is skipped, with the reason printed). Two endpoints: ``/scoped``
gets 7 request values (one an async generator session, closed after the request) and
``/singleton`` gets 2 singletons. Each variant is the same app written the way its
library documents: asyncdi's ``setup()`` + ``Provide``; FastAPI's ``Depends``; wireup's
``setup()`` + ``Injected``; and hand-written code over module globals.

Method: one process, one event loop, requests through httpx's ``ASGITransport`` (no
network). Every round runs every (variant, endpoint) once, ``--requests`` sequential
requests each, in a freshly shuffled order, gc off while timing; a warm-up round first.
A figure is the median over rounds of requests/s; a ratio is the median over rounds of
the within-round ratio. Each variant is checked once before timing (same JSON, and the
session closed after each request). ``--check`` exits 1 unless, on both endpoints,
asyncdi >= 0.85 x globals, asyncdi > Depends, and asyncdi >= wireup.
"""

import argparse
import asyncio
import contextlib
import gc
import importlib.metadata
import platform
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI

from asyncdi import Registry, Scope
from asyncdi.fastapi import Provide
from asyncdi.fastapi import setup as asyncdi_setup

# -- the application ------------------------------------------------------------------------


class Config:
    """Settings: a singleton."""

    name = "bench"


class Db:
    """A database handle: a singleton."""

    def __init__(self, config: Config) -> None:
        self.config = config


class Session:
    """A request's session, closed when the request ends."""

    closed = 0  # sessions closed so far, to check each variant releases them

    def __init__(self) -> None:
        self.open = True

    def close(self) -> None:
        self.open = False
        Session.closed += 1


class Users:
    def __init__(self, session: Session) -> None:
        self.session = session


class Orders:
    def __init__(self, session: Session) -> None:
        self.session = session


class Audit:
    def __init__(self, session: Session) -> None:
        self.session = session


class Clock:
    pass


class RequestId:
    pass


class Tracer:
    pass


async def make_session() -> AsyncIterator[Session]:
    session = Session()
    try:
        yield session
    finally:
        session.close()


def answer(*values: object) -> dict[str, Any]:
    """What both endpoints return: the value types, and whether the session is open."""
    sessions = [v for v in values if isinstance(v, Session)]
    return {"types": [type(v).__name__ for v in values], "open": all(s.open for s in sessions)}


SCOPED = ["Session", "Users", "Orders", "Audit", "Clock", "RequestId", "Tracer"]
SINGLETON = ["Config", "Db"]


# -- asyncdi --------------------------------------------------------------------------------


def asyncdi_app() -> tuple[FastAPI, contextlib.AbstractAsyncContextManager[Any]]:
    reg = Registry("bench")
    reg.register("config", Config, scope=Scope.SINGLETON)
    reg.register("db", Db, scope=Scope.SINGLETON)
    reg.register("session", make_session, scope=Scope.REQUEST)
    for name, cls in [("users", Users), ("orders", Orders), ("audit", Audit)]:
        reg.register(name, cls, scope=Scope.REQUEST)
    for name, cls in [("clock", Clock), ("request_id", RequestId), ("tracer", Tracer)]:
        reg.register(name, cls, scope=Scope.REQUEST)
    app = FastAPI()
    asyncdi_setup(app, reg)

    @app.get("/scoped")
    async def scoped(
        session: Session = Provide("session"),
        users: Users = Provide("users"),
        orders: Orders = Provide("orders"),
        audit: Audit = Provide("audit"),
        clock: Clock = Provide("clock"),
        request_id: RequestId = Provide("request_id"),
        tracer: Tracer = Provide("tracer"),
    ) -> dict[str, Any]:
        return answer(session, users, orders, audit, clock, request_id, tracer)

    @app.get("/singleton")
    async def singleton(config: Config = Provide("config"), db: Db = Provide("db")) -> Any:
        return answer(config, db)

    return app, reg.lifespan()


# -- FastAPI's Depends ----------------------------------------------------------------------


def depends_app() -> tuple[FastAPI, contextlib.AbstractAsyncContextManager[Any]]:
    # Async dependencies throughout: FastAPI runs sync ones in a thread pool, far slower.
    config, db = Config(), None

    async def get_config() -> Config:
        return config

    async def get_db() -> Db:
        nonlocal db
        if db is None:
            db = Db(config)
        return db

    SessionDep = Annotated[Session, Depends(make_session)]  # noqa: N806 - a type alias

    async def get_users(session: SessionDep) -> Users:
        return Users(session)

    async def get_orders(session: SessionDep) -> Orders:
        return Orders(session)

    async def get_audit(session: SessionDep) -> Audit:
        return Audit(session)

    async def get_clock() -> Clock:
        return Clock()

    async def get_request_id() -> RequestId:
        return RequestId()

    async def get_tracer() -> Tracer:
        return Tracer()

    app = FastAPI()

    @app.get("/scoped")
    async def scoped(
        session: SessionDep,
        users: Annotated[Users, Depends(get_users)],
        orders: Annotated[Orders, Depends(get_orders)],
        audit: Annotated[Audit, Depends(get_audit)],
        clock: Annotated[Clock, Depends(get_clock)],
        request_id: Annotated[RequestId, Depends(get_request_id)],
        tracer: Annotated[Tracer, Depends(get_tracer)],
    ) -> dict[str, Any]:
        return answer(session, users, orders, audit, clock, request_id, tracer)

    @app.get("/singleton")
    async def singleton(
        config: Annotated[Config, Depends(get_config)], db: Annotated[Db, Depends(get_db)]
    ) -> Any:
        return answer(config, db)

    return app, contextlib.nullcontext()  # type: ignore[return-value]


# -- wireup ---------------------------------------------------------------------------------


def wireup_app() -> tuple[FastAPI, contextlib.AbstractAsyncContextManager[Any]]:
    import wireup
    import wireup.integration.fastapi
    from wireup import Injected, injectable

    @injectable
    def w_config() -> Config:
        return Config()

    @injectable
    def w_db(config: Config) -> Db:
        return Db(config)

    @injectable(lifetime="scoped")
    async def w_session() -> AsyncIterator[Session]:
        async for session in make_session():
            yield session

    @injectable(lifetime="scoped")
    def w_users(session: Session) -> Users:
        return Users(session)

    @injectable(lifetime="scoped")
    def w_orders(session: Session) -> Orders:
        return Orders(session)

    @injectable(lifetime="scoped")
    def w_audit(session: Session) -> Audit:
        return Audit(session)

    @injectable(lifetime="scoped")
    def w_clock() -> Clock:
        return Clock()

    @injectable(lifetime="scoped")
    def w_request_id() -> RequestId:
        return RequestId()

    @injectable(lifetime="scoped")
    def w_tracer() -> Tracer:
        return Tracer()

    factories = [w_config, w_db, w_session, w_users, w_orders, w_audit, w_clock]
    container = wireup.create_async_container(injectables=[*factories, w_request_id, w_tracer])
    app = FastAPI()

    @app.get("/scoped")
    async def scoped(
        session: Injected[Session],
        users: Injected[Users],
        orders: Injected[Orders],
        audit: Injected[Audit],
        clock: Injected[Clock],
        request_id: Injected[RequestId],
        tracer: Injected[Tracer],
    ) -> dict[str, Any]:
        return answer(session, users, orders, audit, clock, request_id, tracer)

    @app.get("/singleton")
    async def singleton(config: Injected[Config], db: Injected[Db]) -> Any:
        return answer(config, db)

    wireup.integration.fastapi.setup(container, app)
    return app, contextlib.nullcontext()  # type: ignore[return-value]


# -- hand-written, module globals -----------------------------------------------------------

CONFIG = Config()
DB = Db(CONFIG)
session_context = contextlib.asynccontextmanager(make_session)


def globals_app() -> tuple[FastAPI, contextlib.AbstractAsyncContextManager[Any]]:
    app = FastAPI()

    @app.get("/scoped")
    async def scoped() -> dict[str, Any]:
        async with session_context() as session:
            users, orders, audit = Users(session), Orders(session), Audit(session)
            return answer(session, users, orders, audit, Clock(), RequestId(), Tracer())

    @app.get("/singleton")
    async def singleton() -> Any:
        return answer(CONFIG, DB)

    return app, contextlib.nullcontext()  # type: ignore[return-value]


VARIANTS: dict[str, Callable[[], tuple[FastAPI, Any]]] = {
    "globals": globals_app,
    "asyncdi": asyncdi_app,
    "Depends": depends_app,
    "wireup": wireup_app,
}
ENDPOINTS = {"/scoped": SCOPED, "/singleton": SINGLETON}


# -- measuring ------------------------------------------------------------------------------


async def check(name: str, client: httpx.AsyncClient) -> None:
    """The variant answers like the others and closes one session per scoped request."""
    for path, types in ENDPOINTS.items():
        before = Session.closed
        response = await client.get(path)
        expected = {"types": types, "open": True}
        if response.status_code != 200 or response.json() != expected:
            raise RuntimeError(f"{name} {path}: {response.status_code} {response.text}")
        if path == "/scoped" and Session.closed != before + 1:
            raise RuntimeError(f"{name} {path}: the session was not closed after the request")


async def timed(client: httpx.AsyncClient, path: str, requests: int) -> float:
    """Requests per second for ``requests`` sequential requests to ``path``."""
    get = client.get
    gc.disable()
    try:
        started = time.perf_counter()
        for _ in range(requests):
            await get(path)
        elapsed = time.perf_counter() - started
    finally:
        gc.enable()
    return requests / elapsed


async def measure(rounds: int, requests: int) -> tuple[dict[str, list[float]], list[str]]:
    """Per (variant, endpoint): requests/s of every round; and the notes on skipped ones."""
    notes: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[str, httpx.AsyncClient] = {}
        for name, build in VARIANTS.items():
            try:
                app, lifespan = build()
                await stack.enter_async_context(lifespan)
                client = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://bench"
                )
                await stack.enter_async_context(client)
                await check(name, client)
            except Exception as error:  # noqa: BLE001 - a variant that cannot run is skipped
                notes.append(f"  {name}: skipped ({type(error).__name__}: {error})")
                continue
            clients[name] = client
        cases = [(name, path) for name in clients for path in ENDPOINTS]
        samples: dict[str, list[float]] = {f"{n} {p}": [] for n, p in cases}
        for round_ in range(rounds + 1):  # round 0 warms up
            random.shuffle(cases)
            for name, path in cases:
                rate = await timed(clients[name], path, requests)
                if round_:
                    samples[f"{name} {path}"].append(rate)
    return samples, notes


def ratio(samples: dict[str, list[float]], a: str, b: str, path: str) -> float | None:
    """Median over rounds of the within-round ratio of a's requests/s to b's."""
    left, right = samples.get(f"{a} {path}"), samples.get(f"{b} {path}")
    if not left or not right:
        return None
    return statistics.median(x / y for x, y in zip(left, right, strict=True))


TARGETS = [("globals", 0.85), ("Depends", 1.0), ("wireup", 1.0)]


def report(samples: dict[str, list[float]]) -> list[str]:
    """Print the table; return the targets that failed."""
    failures = []
    print(f"{'variant':<10} {'endpoint':<11} {'median req/s':>13} {'x globals':>10}")
    for path in ENDPOINTS:
        for name in VARIANTS:
            rates = samples.get(f"{name} {path}")
            if not rates:
                continue
            versus = ratio(samples, name, "globals", path)
            shown = f"{versus:.2f}" if versus is not None else "-"
            print(f"{name:<10} {path:<11} {statistics.median(rates):>13,.0f} {shown:>10}")
    print("\nasyncdi ratios, measured in this run (target):")
    for path in ENDPOINTS:
        for other, target in TARGETS:
            value = ratio(samples, "asyncdi", other, path)
            if value is None:
                continue
            met = value > target if other == "Depends" else value >= target
            mark = "ok" if met else "MISSED"
            sign = ">=" if other != "Depends" else ">"
            print(f"  {path:<11} asyncdi / {other:<8} {value:5.2f}  ({sign} {target:.2f}) {mark}")
            if not met:
                failures.append(f"{path} asyncdi / {other} = {value:.2f}")
    return failures


def versions() -> str:
    found = []
    for package in ("fastapi", "starlette", "httpx", "wireup"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} not installed")
    return ", ".join(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15, help="measured rounds (default 15)")
    parser.add_argument("--requests", type=int, default=300, help="requests per case per round")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 20: a smoke run")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    rounds, requests = (2, 20) if args.quick else (args.rounds, args.requests)
    if rounds < 1 or requests < 1:
        parser.error("--rounds and --requests must be at least 1")
    print(f"Python {platform.python_version()} ({sys.implementation.name}), {versions()}")
    print(f"{rounds} rounds x {requests} requests per case, shuffled each round, gc off\n")
    samples, notes = asyncio.run(measure(rounds, requests))
    if notes:
        print("Skipped:", *notes, sep="\n", end="\n\n")
    failures = report(samples)
    if args.check and failures:
        print("\nmissed: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
