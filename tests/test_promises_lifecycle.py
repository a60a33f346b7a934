"""Issue 6, lifecycle: cancels during teardown, deep graphs, services that are never entered.

Regression tests written against the public API only, so they run unchanged against a
rewritten core. Every await that could hang runs under ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from asyncdi import AsyncService, Dependency, Inject, Registry, Scope

LIMIT = 10.0  # seconds any one test may wait before a hang counts as a failure
DEPTH = 1_000


def _slow_teardown(torn: list[str], started: asyncio.Event | None = None) -> Any:
    async def conn() -> AsyncIterator[str]:
        yield "conn"
        if started is not None:
            started.set()
        await asyncio.sleep(0.1)
        torn.append("conn")

    return conn


async def test_a_cancel_during_request_teardown_reaches_the_task(reg: Registry) -> None:
    """Issue 6 item 2: a cancel arriving while a scope tears down is raised, after teardown."""
    torn: list[str] = []
    started = asyncio.Event()
    reg.register("conn", _slow_teardown(torn, started), scope=Scope.REQUEST)

    async def request() -> str:
        async with reg.scope():
            await reg.resolve("conn")
        return "returned normally"

    async with asyncio.timeout(LIMIT):
        task = asyncio.create_task(request())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert task.cancelled()
    assert torn == ["conn"]


async def test_a_timeout_fires_during_request_teardown(reg: Registry) -> None:
    """Issue 6 item 2: `asyncio.timeout()` expiring during a scope's teardown fires."""
    torn: list[str] = []
    reg.register("conn", _slow_teardown(torn), scope=Scope.REQUEST)
    async with asyncio.timeout(LIMIT):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                async with reg.scope():
                    await reg.resolve("conn")
    assert torn == ["conn"]


async def test_repeated_cancels_during_request_teardown(reg: Registry) -> None:
    """Issue 6 item 2: several cancels during teardown: it still completes, the cancel is seen."""
    for _round in range(5):
        torn: list[str] = []
        started = asyncio.Event()
        reg.register("conn", _slow_teardown(torn, started), scope=Scope.REQUEST, replace=True)

        async def request() -> str:
            async with reg.scope():
                await reg.resolve("conn")
            return "returned normally"

        async with asyncio.timeout(LIMIT):
            task = asyncio.create_task(request())
            await started.wait()
            for _cancel in range(4):
                task.cancel()
                await asyncio.sleep(0.01)
            with pytest.raises(asyncio.CancelledError):
                await task
        assert torn == ["conn"]


async def test_ten_thousand_cancels_during_teardown_are_all_observed(reg: Registry) -> None:
    """Issue 6 item 2: 10,000 requests cancelled (twice) mid-teardown all end cancelled."""
    count = 10_000
    tokens = itertools.count()
    owners: dict[int, asyncio.Task[Any]] = {}
    torn: list[int] = []
    loop = asyncio.get_running_loop()

    async def conn() -> AsyncIterator[int]:
        token = next(tokens)
        yield token
        owner = owners.pop(token)
        loop.call_soon(owner.cancel)
        await asyncio.sleep(0)
        loop.call_soon(owner.cancel)
        await asyncio.sleep(0.001)
        torn.append(token)

    reg.register("conn", conn, scope=Scope.REQUEST)

    async def request() -> str:
        async with reg.scope():
            token = await reg.resolve("conn")
            task = asyncio.current_task()
            assert task is not None
            owners[token] = task
        return "returned normally"

    async with asyncio.timeout(LIMIT * 3):
        tasks = [asyncio.create_task(request()) for _ in range(count)]
        results = await asyncio.gather(*tasks, return_exceptions=True)
    swallowed = [r for r in results if not isinstance(r, asyncio.CancelledError)]
    assert swallowed == []
    assert len(torn) == count


async def test_a_cancel_during_lifespan_teardown_reaches_the_task(reg: Registry) -> None:
    """Issue 6 item 2: a cancel arriving while a lifespan releases a singleton is raised."""
    for _round in range(3):
        torn: list[str] = []
        started = asyncio.Event()
        reg.register("conn", _slow_teardown(torn, started), scope=Scope.SINGLETON, replace=True)

        async def program() -> str:
            async with reg.lifespan():
                await reg.resolve("conn")
            return "returned normally"

        async with asyncio.timeout(LIMIT):
            task = asyncio.create_task(program())
            await started.wait()
            for _cancel in range(3):
                task.cancel()
                await asyncio.sleep(0.01)
            with pytest.raises(asyncio.CancelledError):
                await task
        assert torn == ["conn"]


async def test_a_timeout_fires_during_lifespan_teardown(reg: Registry) -> None:
    """Issue 6 item 2: `asyncio.timeout()` expiring during a lifespan's release raises."""
    torn: list[str] = []
    reg.register("conn", _slow_teardown(torn), scope=Scope.SINGLETON)
    async with asyncio.timeout(LIMIT):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05), reg.lifespan():
                await reg.resolve("conn")
    assert torn == ["conn"]


def _chain(reg: Registry, depth: int, scope: Scope) -> None:
    """Register ``n{depth-1}`` .. ``n0``, each one more than the one it takes.

    The deep end is registered first, so whatever walks the providers in registration
    order (validation, eager start-up) meets the whole depth at once.
    """
    for i in reversed(range(1, depth)):
        reg.register(f"n{i}", _link(f"n{i - 1}"), scope=scope)
    reg.register("n0", lambda: 0, scope=scope)


def _link(previous: str) -> Callable[..., int]:
    def link(before: int = Inject(previous)) -> int:
        return before + 1

    return link


def _async_chain(reg: Registry, depth: int, scope: Scope) -> None:
    """The same chain with async providers, each taking its predecessor by parameter name."""

    async def first() -> int:
        return 0

    for i in reversed(range(1, depth)):
        namespace: dict[str, Any] = {}
        # The parameter's name is the dependency's name, so the function is written out.
        exec(f"async def link(n{i - 1}: int) -> int:\n    return n{i - 1} + 1", namespace)
        reg.register(f"n{i}", namespace["link"], scope=scope)
    reg.register("n0", first, scope=scope)


@pytest.mark.parametrize("scope", [Scope.INSTANCE, Scope.SINGLETON])
async def test_a_chain_of_a_thousand_resolves(reg: Registry, scope: Scope) -> None:
    """Issue 6 item 9: `resolve` of the end of a 1,000-link chain works."""
    _async_chain(reg, DEPTH, scope)
    async with asyncio.timeout(LIMIT), reg.lifespan(validate=False):
        assert await reg.resolve(f"n{DEPTH - 1}") == DEPTH - 1


@pytest.mark.parametrize("scope", [Scope.INSTANCE, Scope.SINGLETON])
def test_a_chain_of_a_thousand_gets(reg: Registry, scope: Scope) -> None:
    """Issue 6 item 9: `get` of the end of a 1,000-link chain works."""
    _chain(reg, DEPTH, scope)
    with reg.lifespan(validate=False):
        assert reg.get(f"n{DEPTH - 1}") == DEPTH - 1


@pytest.mark.parametrize("scope", [Scope.INSTANCE, Scope.SINGLETON])
def test_a_chain_of_a_thousand_validates(reg: Registry, scope: Scope) -> None:
    """Issue 6 item 9: `validate()` of a 1,000-link chain passes."""
    _chain(reg, DEPTH, scope)
    reg.validate()


@pytest.mark.parametrize("eager", [False, True])
async def test_a_chain_of_a_thousand_singletons_starts(reg: Registry, eager: bool) -> None:
    """Issue 6 item 9: `async with lifespan()` (and eager=True) of a 1,000-deep chain works."""
    _async_chain(reg, DEPTH, Scope.SINGLETON)
    async with asyncio.timeout(LIMIT), reg.lifespan(eager=eager):
        assert await reg.resolve(f"n{DEPTH - 1}") == DEPTH - 1


def _conn_with_journal(journal: list[str]) -> Callable[[], AsyncIterator[str]]:
    numbers = itertools.count(1)

    async def conn() -> AsyncIterator[str]:
        name = f"conn{next(numbers)}"
        journal.append(f"open {name}")
        yield name
        journal.append(f"close {name}")

    return conn


async def test_a_service_never_entered_is_released_with_its_request(reg: Registry) -> None:
    """Issue 6 item 15: values of a service never entered are released when its request ends."""
    journal: list[str] = []
    reg.register("conn", _conn_with_journal(journal))

    class Svc(AsyncService, registry=reg):
        conn = Dependency[str]()

    async with asyncio.timeout(LIMIT), reg.lifespan():
        async with reg.scope():
            svc = Svc()  # kept alive: the scope's end, not garbage collection, releases
            assert await svc.conn == "conn1"
        assert journal == ["open conn1", "close conn1"]
        del svc
        gc.collect()
    assert journal == ["open conn1", "close conn1"]


def _drop(held: list[Any]) -> None:
    """Let go of the only references to ``held``'s items and collect them."""
    held.clear()
    gc.collect()


async def test_a_service_collected_with_pending_values_warns(reg: Registry) -> None:
    """Issue 6 item 15: an instance collected with values still pending gives a ResourceWarning."""
    journal: list[str] = []
    reg.register("conn", _conn_with_journal(journal))

    class Forgotten(AsyncService, registry=reg):
        conn = Dependency[str]()

    async with asyncio.timeout(LIMIT):
        async with reg.lifespan():
            held = [Forgotten()]
            assert await held[0].conn == "conn1"
            with pytest.warns(ResourceWarning) as warned:
                _drop(held)
            text = " ".join(str(w.message) for w in warned)
            assert "Forgotten" in text
            assert "conn" in text
        # and the lifespan released what the instance left behind, once
        assert journal == ["open conn1", "close conn1"]


def _sync_conn(journal: list[str]) -> Callable[[], Iterator[str]]:
    def conn() -> Iterator[str]:
        journal.append("open")
        yield "conn"
        journal.append("close")

    return conn


async def test_a_disposed_service_warns_nothing(reg: Registry) -> None:
    """Issue 6 item 15: an instance disposed with `async with` releases at exit, no warning."""
    journal: list[str] = []
    reg.register("conn", _sync_conn(journal))

    class Svc(AsyncService, registry=reg):
        conn = Dependency[str]()

    async with asyncio.timeout(LIMIT), reg.lifespan():
        async with Svc() as svc:
            await svc.conn
        assert journal == ["open", "close"]
        del svc
        gc.collect()  # filterwarnings=error: a ResourceWarning here fails the test
    assert journal == ["open", "close"]
