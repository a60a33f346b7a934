"""Pooled values: borrowed per scope, given back clean, discarded after failure, bounded."""

from __future__ import annotations

import asyncio
import contextvars
import itertools
from collections.abc import AsyncIterator

import pytest

from asyncdi import (
    AsyncProviderError,
    AsyncService,
    Dependency,
    InvalidArgumentError,
    InvalidProviderError,
    Pool,
    PoolTimeoutError,
    Registry,
    Scope,
    provides,
    resource,
)


class Conn:
    """A fake connection that records its life."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.released = 0
        self.release_exc: BaseException | None = None
        self.healthy = True

    def health_check(self) -> bool:
        """Healthy unless told otherwise."""
        return self.healthy

    def __repr__(self) -> str:
        return f"Conn({self.number})"


class Tracker:
    """Registers a pooled async-generator provider ``conn`` and counts what it makes."""

    def __init__(self, reg: Registry, size: int = 2, timeout: float = 1.0, **kw: object) -> None:
        self.made: list[Conn] = []
        self.live = 0
        self.most = 0
        self.made_one = asyncio.Event()
        numbers = itertools.count(1)

        async def connect() -> AsyncIterator[Conn]:
            await asyncio.sleep(0)
            conn = Conn(next(numbers))
            self.made.append(conn)
            self.made_one.set()
            self.live += 1
            self.most = max(self.most, self.live)
            try:
                yield conn
            except BaseException as error:
                conn.release_exc = error
                raise
            finally:
                conn.released += 1
                self.live -= 1

        scope = kw.pop("scope", Scope.REQUEST)
        reg.register("conn", connect, scope=scope, pool=Pool(size=size, timeout=timeout))  # type: ignore[arg-type]


async def borrow(reg: Registry, hold: float = 0.0) -> Conn:
    """One request scope that borrows ``conn`` and holds it ``hold`` seconds."""
    async with reg.scope():
        conn: Conn = await reg.resolve("conn")
        await asyncio.sleep(hold)
        return conn


async def test_a_thousand_requests_share_a_pool_of_four(reg: Registry) -> None:
    """1,000 concurrent requests, pool of 4: at most 4 exist, all served, each released once."""
    tracker = Tracker(reg, size=4, timeout=10.0)
    async with asyncio.timeout(20):
        async with reg.lifespan():
            got = await asyncio.gather(*(borrow(reg, 0.0005) for _ in range(1000)))
            assert len(got) == 1000
            assert tracker.most <= 4
            assert len(tracker.made) <= 4
            stats = reg.stats()["conn"].pool
            assert stats is not None
            assert stats.in_use == 0
            assert stats.idle == len(tracker.made)
            assert stats.waits > 0
            assert stats.timeouts == 0
            assert all(conn.released == 0 for conn in tracker.made)
    assert all(conn.released == 1 for conn in tracker.made)
    assert tracker.live == 0
    assert reg.stats()["conn"].live == 0


async def test_pools_are_lazy_and_reuse_an_idle_value(reg: Registry) -> None:
    """Sequential scopes reuse the one value made; nothing is made before it is needed."""
    tracker = Tracker(reg, size=3)
    async with asyncio.timeout(5), reg.lifespan():
        assert tracker.made == []
        first = await borrow(reg)
        second = await borrow(reg)
        assert first is second
        assert len(tracker.made) == 1


async def test_nested_scopes_and_tasks_share_the_borrowed_value(reg: Registry) -> None:
    """Inside one request scope, nested scopes and child tasks see the one borrowed value."""
    tracker = Tracker(reg, size=2)
    async with asyncio.timeout(5), reg.lifespan(), reg.scope():
        outer = await reg.resolve("conn")
        async with reg.scope():
            assert await reg.resolve("conn") is outer
        children = await asyncio.gather(*(reg.resolve("conn") for _ in range(5)))
        assert all(child is outer for child in children)
        assert len(tracker.made) == 1


class Holder:
    """A request in its own task that borrows ``conn`` and holds it until let go."""

    def __init__(self, reg: Registry) -> None:
        self.got = asyncio.Event()
        self.go = asyncio.Event()
        self.conn: Conn | None = None
        self.task = asyncio.create_task(self._run(reg), context=contextvars.Context())

    async def _run(self, reg: Registry) -> None:
        async with reg.scope():
            self.conn = await reg.resolve("conn")
            self.got.set()
            await self.go.wait()

    async def holding(self) -> Conn:
        """Wait until the value is borrowed, and return it."""
        await self.got.wait()
        assert self.conn is not None
        return self.conn

    async def release(self) -> None:
        """End the request (a clean exit) and wait for it."""
        self.go.set()
        await self.task


async def test_waiting_times_out_with_the_name_and_size(reg: Registry) -> None:
    """All values borrowed: the next borrower waits up to timeout, then PoolTimeoutError."""
    Tracker(reg, size=1, timeout=0.05)
    async with asyncio.timeout(5), reg.lifespan():
        holder = Holder(reg)
        await holder.holding()
        with pytest.raises(PoolTimeoutError) as caught:
            await borrow(reg)
        await holder.release()
        stats = reg.stats()["conn"].pool
        assert stats is not None
        assert stats.timeouts == 1
        assert stats.waits == 1
    error = caught.value
    assert isinstance(error, TimeoutError)
    assert "'conn'" in str(error)
    assert "size 1" in str(error)


async def test_waiters_are_served_first_come_first_served(reg: Registry) -> None:
    """Waiters get freed values in the order they started waiting."""
    Tracker(reg, size=1, timeout=5.0)
    order: list[int] = []

    async def request(number: int) -> None:
        async with reg.scope():
            await reg.resolve("conn")
            order.append(number)
            await asyncio.sleep(0.001)

    async with asyncio.timeout(5), reg.lifespan():
        tasks = []
        for number in range(6):
            tasks.append(asyncio.create_task(request(number)))
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
    assert order == list(range(6))


async def test_a_failed_scope_discards_its_value(reg: Registry) -> None:
    """A scope that failed releases its value (with the error) before its exit returns."""
    tracker = Tracker(reg, size=2)
    async with asyncio.timeout(5), reg.lifespan():
        with pytest.raises(KeyError):
            async with reg.scope():
                broken = await reg.resolve("conn")
                raise KeyError("mid-transaction")
        assert broken.released == 1
        assert isinstance(broken.release_exc, KeyError)
        replacement = await borrow(reg)
        assert replacement is not broken
        stats = reg.stats()["conn"].pool
        assert stats is not None
        assert stats.discards == 1
        assert stats.idle == 1
    assert [conn.released for conn in tracker.made] == [1, 1]


async def test_cancelled_while_waiting_leaks_nothing(reg: Registry) -> None:
    """A borrower cancelled while it waits takes nothing; the next one gets the value."""
    tracker = Tracker(reg, size=1, timeout=5.0)
    async with asyncio.timeout(5), reg.lifespan():
        holder = Holder(reg)
        held = await holder.holding()
        waiter = asyncio.create_task(borrow(reg))
        await asyncio.sleep(0.01)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await holder.release()
        assert await borrow(reg) is held
        stats = reg.stats()["conn"].pool
        assert stats is not None
        assert stats.in_use == 0
        assert stats.idle == 1
    assert len(tracker.made) == 1
    assert held.released == 1


async def test_cancelled_after_being_handed_a_value_passes_it_on(reg: Registry) -> None:
    """A waiter handed a value and cancelled before it runs passes it to the next waiter."""
    Tracker(reg, size=1, timeout=5.0)
    async with asyncio.timeout(5), reg.lifespan():
        scope = reg.scope()
        await scope.__aenter__()
        held = await reg.resolve("conn")
        fresh = contextvars.Context()
        first = asyncio.create_task(borrow(reg), context=fresh.copy())
        second = asyncio.create_task(borrow(reg), context=fresh.copy())
        await asyncio.sleep(0.01)
        await scope.__aexit__(None, None, None)  # hands the value to `first`...
        first.cancel()  # ...which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await first
        assert await second is held
        stats = reg.stats()["conn"].pool
        assert stats is not None
        assert stats.in_use == 0
        assert stats.idle == 1


async def test_cancelled_while_holding_releases_the_value(reg: Registry) -> None:
    """A request cancelled while it holds a value discards and releases it; nothing leaks."""
    tracker = Tracker(reg, size=1, timeout=5.0)
    async with asyncio.timeout(5), reg.lifespan():
        task = asyncio.create_task(borrow(reg, hold=10))
        await tracker.made_one.wait()
        await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert tracker.made[0].released == 1
        assert isinstance(tracker.made[0].release_exc, asyncio.CancelledError)
        assert (await borrow(reg)) is tracker.made[1]
    assert tracker.live == 0


async def test_failing_creation_frees_its_place(reg: Registry) -> None:
    """A provider that fails to make a value does not use up a place in the pool."""
    attempts = itertools.count()

    async def connect() -> Conn:
        if next(attempts) == 0:
            raise ConnectionError("refused")
        return Conn(1)

    reg.register("conn", connect, scope=Scope.REQUEST, pool=Pool(size=1, timeout=0.1))
    async with asyncio.timeout(5), reg.lifespan():
        with pytest.raises(ConnectionError):
            await borrow(reg)
        assert (await borrow(reg)).number == 1


async def test_health_checks_idle_values_and_replaces_failures(reg: Registry) -> None:
    """health() reports idle pooled values under the provider's name; a failing one goes."""
    tracker = Tracker(reg, size=2)
    async with asyncio.timeout(5), reg.lifespan():
        await asyncio.gather(borrow(reg, 0.01), borrow(reg, 0.01))
        sick, well = tracker.made
        sick.healthy = False
        report = await reg.health(timeout=1.0)
        assert sorted((r.name, r.status) for r in report) == [
            ("conn", "failed"),
            ("conn", "ok"),
        ]
        assert sick.released == 1
        assert well.released == 0
        stats = reg.stats()["conn"].pool
        assert stats is not None
        assert stats.idle == 1
        assert stats.discards == 1
        got = await asyncio.gather(borrow(reg, 0.01), borrow(reg, 0.01))
        assert well in got
        assert sick not in got
        assert len(tracker.made) == 3


async def test_lifespan_end_releases_idle_values_and_later_returns(reg: Registry) -> None:
    """At lifespan end idle values are released; one still borrowed goes when given back."""
    tracker = Tracker(reg, size=2)
    async with asyncio.timeout(5):
        async with reg.lifespan():
            holder = Holder(reg)
            borrowed = await holder.holding()
            idle = await borrow(reg)
            assert idle is not borrowed
        assert idle.released == 1
        assert borrowed.released == 0
        await holder.release()
        assert borrowed.released == 1
    assert tracker.live == 0


async def test_pooled_instance_values_return_when_the_service_is_disposed(reg: Registry) -> None:
    """An INSTANCE pool lends a value per service instance, given back on dispose."""
    tracker = Tracker(reg, size=1, timeout=1.0, scope=Scope.INSTANCE)

    class Repo(AsyncService, registry=reg):
        conn = Dependency[Conn]()

    async with asyncio.timeout(5), reg.lifespan():
        async with Repo() as first:
            one = await first.conn
        async with Repo() as second:
            assert await second.conn is one
        assert len(tracker.made) == 1
        stats = reg.stats()["conn"].pool
        assert stats is not None
        assert stats.idle == 1
        assert stats.in_use == 0


async def test_a_pooled_instance_dependency_of_a_request_value(reg: Registry) -> None:
    """A REQUEST value that needs a pooled INSTANCE value borrows it for the scope."""
    tracker = Tracker(reg, size=1, timeout=1.0, scope=Scope.INSTANCE)

    def repo(conn: Conn) -> tuple[str, Conn]:
        return ("repo", conn)

    reg.register("repo", repo, scope=Scope.REQUEST)
    async with asyncio.timeout(5), reg.lifespan():
        for _ in range(3):
            async with reg.scope():
                _, conn = await reg.resolve("repo")
        assert len(tracker.made) == 1
        assert conn.released == 0
    assert conn.released == 1


def test_pool_arguments_and_scopes_are_checked(reg: Registry) -> None:
    """Bad sizes and timeouts, SINGLETON pools and non-Pool values are refused clearly."""
    with pytest.raises(InvalidArgumentError, match="size"):
        Pool(size=0)
    with pytest.raises(InvalidArgumentError, match="timeout"):
        Pool(timeout=-1)
    with pytest.raises(InvalidProviderError, match="SINGLETON"):
        reg.register("s", Conn, scope=Scope.SINGLETON, pool=Pool())
    with pytest.raises(InvalidProviderError, match=r"asyncdi\.Pool"):
        reg.register("s", Conn, pool=4)  # type: ignore[arg-type]


async def test_a_pooled_value_may_not_depend_on_a_request_value(reg: Registry) -> None:
    """A pooled provider that needs a REQUEST value is refused when first resolved."""
    reg.register("tenant", lambda: "t", scope=Scope.REQUEST)

    def connect(tenant: str) -> Conn:
        return Conn(1)

    reg.register("conn", connect, scope=Scope.REQUEST, pool=Pool())
    async with asyncio.timeout(5), reg.scope():
        with pytest.raises(InvalidProviderError, match="REQUEST-scoped"):
            await reg.resolve("conn")


def test_sync_get_refuses_a_pooled_value(reg: Registry) -> None:
    """registry.get() of a pooled value is an AsyncProviderError naming await."""
    reg.register("conn", lambda: Conn(1), scope=Scope.REQUEST, pool=Pool())
    with reg.scope(), pytest.raises(AsyncProviderError, match="pooled"):
        reg.get("conn")


async def test_decorators_take_pool(reg: Registry) -> None:
    """@provides(pool=...) and @resource(name, pool=...) register pooled providers."""

    @provides("a", registry=reg, scope=Scope.REQUEST, pool=Pool(size=1))
    def make_a() -> Conn:
        return Conn(7)

    @resource("b", registry=reg, scope=Scope.REQUEST, pool=Pool(size=1))
    class B:
        disposed = 0

        def dispose(self) -> None:
            B.disposed += 1

    async with asyncio.timeout(5):
        async with reg.lifespan():
            for _ in range(2):
                async with reg.scope():
                    assert (await reg.resolve("a")).number == 7
                    await reg.resolve("b")
            assert reg.stats()["a"].created == 1
            assert reg.stats()["b"].created == 1
        assert B.disposed == 1
    assert reg.provider("a").pool is not None


def test_resource_with_a_pool_needs_a_name(reg: Registry) -> None:
    """@resource(pool=...) without a name is refused: there is nothing to register."""
    with pytest.raises(InvalidProviderError, match="needs a name"):

        @resource(registry=reg, pool=Pool())
        class Nameless:
            pass
