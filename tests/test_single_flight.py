"""Single flight: concurrent first awaits share one creation; failures and cancellation."""

from __future__ import annotations

import asyncio

import pytest

from asyncdi import AsyncService, Dependency, Registry, Scope
from tests.fakes import SlowFactory

N = 1000


async def test_instance_single_flight_under_1000_tasks(reg: Registry) -> None:
    """1,000 concurrent first awaits on one instance call the provider once, same object."""
    make = SlowFactory()

    reg.register("thing", make)

    class Svc(AsyncService, registry=reg):
        thing = Dependency[object]()

    svc = Svc()
    results = await asyncio.gather(*(svc.thing for _ in range(N)))
    assert make.calls == 1
    assert all(r is results[0] for r in results)
    assert await svc.thing is results[0]


async def test_registry_single_flight_under_1000_tasks(reg: Registry) -> None:
    """1,000 concurrent resolves of a singleton, from 1,000 instances, make it once."""
    make = SlowFactory()

    reg.register("db", make, scope=Scope.SINGLETON)

    class Svc(AsyncService, registry=reg):
        db = Dependency[object]()

    from_services = [Svc().db for _ in range(N // 2)]
    from_registry = [reg.resolve("db") for _ in range(N // 2)]
    results = await asyncio.gather(*from_services, *from_registry)
    assert make.calls == 1
    assert len({id(r) for r in results}) == 1


async def test_request_scope_single_flight(reg: Registry) -> None:
    """Concurrent first resolves of a REQUEST value inside one scope make it once."""
    make = SlowFactory()

    reg.register("session", make, scope=Scope.REQUEST)
    async with reg.scope():
        results = await asyncio.gather(*(reg.resolve("session") for _ in range(100)))
    assert make.calls == 1
    assert len({id(r) for r in results}) == 1


async def test_failure_reaches_every_waiter_and_is_not_cached(reg: Registry) -> None:
    """Every concurrent waiter gets the provider's exception; the next await tries again."""
    attempts = 0

    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts == 1:
            raise ConnectionError("database is down")
        return "connected"

    reg.register("db", flaky, scope=Scope.SINGLETON)

    class Svc(AsyncService, registry=reg):
        db = Dependency[str]()

    svc = Svc()
    results = await asyncio.gather(*(svc.db for _ in range(50)), return_exceptions=True)
    assert attempts == 1
    assert all(isinstance(r, ConnectionError) for r in results)
    assert await svc.db == "connected"
    assert attempts == 2
    assert await reg.resolve("db") == "connected"
    assert attempts == 2


async def test_cancelled_creator_lets_a_waiter_retry(reg: Registry) -> None:
    """If the creating task is cancelled, waiters never see its CancelledError; one retries."""
    attempts = 0
    started = asyncio.Event()

    async def slow() -> str:
        nonlocal attempts
        attempts += 1
        started.set()
        await asyncio.sleep(0.05)
        return f"made by attempt {attempts}"

    reg.register("thing", slow)

    class Svc(AsyncService, registry=reg):
        thing = Dependency[str]()

    svc = Svc()
    creator = asyncio.ensure_future(svc.thing)
    await started.wait()
    waiters = [asyncio.ensure_future(svc.thing) for _ in range(10)]
    await asyncio.sleep(0)
    creator.cancel()
    with pytest.raises(asyncio.CancelledError):
        await creator
    results = await asyncio.gather(*waiters)
    assert results == ["made by attempt 2"] * 10
    assert attempts == 2


async def test_cancelled_waiter_does_not_disturb_others(reg: Registry) -> None:
    """Cancelling one waiter cancels only that waiter, never the creation or other waiters."""
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> str:
        started.set()
        await release.wait()
        return "value"

    reg.register("thing", slow, scope=Scope.SINGLETON)
    creator = asyncio.create_task(reg.resolve("thing"))
    await started.wait()
    doomed = asyncio.create_task(reg.resolve("thing"))
    survivor = asyncio.create_task(reg.resolve("thing"))
    await asyncio.sleep(0)
    doomed.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await creator == "value"
    assert await survivor == "value"
    with pytest.raises(asyncio.CancelledError):
        await doomed


async def test_concurrent_instances_are_independent(reg: Registry) -> None:
    """Two instances resolving at once each get their own INSTANCE value."""

    async def make() -> object:
        await asyncio.sleep(0.001)
        return object()

    reg.register("thing", make)

    class Svc(AsyncService, registry=reg):
        thing = Dependency[object]()

    services = [Svc() for _ in range(100)]
    values = await asyncio.gather(*(s.thing for s in services))
    assert len({id(v) for v in values}) == 100


async def test_instance_single_flight_on_the_short_way(reg: Registry) -> None:
    """Once a provider's arguments are cached, concurrent first reads still make one value."""
    calls = 0

    async def make(config: str) -> object:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return object()

    reg.register("config", lambda: "config", scope=Scope.SINGLETON)
    reg.register("thing", make)

    class Svc(AsyncService, registry=reg):
        thing = Dependency[object]()

    await Svc().thing  # warms the caches: the next instances take the short way
    calls = 0
    svc = Svc()
    results = await asyncio.gather(*(svc.thing for _ in range(N)))
    assert calls == 1
    assert all(r is results[0] for r in results)


async def test_instance_failure_on_the_short_way_is_not_cached(reg: Registry) -> None:
    """A failing INSTANCE provider's error reaches every reader; the next read retries."""
    fail = False

    async def make() -> str:
        await asyncio.sleep(0.01)
        if fail:
            raise TimeoutError("upstream slow")
        return "ok"

    reg.register("thing", make)

    class Svc(AsyncService, registry=reg):
        thing = Dependency[str]()

    assert await Svc().thing == "ok"
    fail = True
    svc = Svc()
    results = await asyncio.gather(*(svc.thing for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, TimeoutError) for r in results)
    fail = False
    assert await svc.thing == "ok"
