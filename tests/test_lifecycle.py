"""Lifecycle: every value initialized once, released once, newest first, whatever happens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from functools import partial

import pytest

from asyncdi import (
    AsyncReleaseError,
    AsyncService,
    Dependency,
    Registry,
    RegistryClosedError,
    ReleaseError,
    Scope,
    resource,
)
from asyncdi._release import Owner, shielded
from tests.fakes import (
    Closable,
    Journal,
    Resource,
    async_gen,
    broken_async_teardown,
    broken_teardown,
    sync_gen,
)


def register_mixed(reg: Registry, journal: Journal) -> None:
    """Singletons of every release mechanism, created in the order a, b, c, d, e."""

    a = partial(sync_gen, "a", journal)

    async def b(a: str) -> AsyncIterator[str]:
        async for value in async_gen("b", journal):
            yield value

    def c(b: str) -> Resource:
        return Resource("c", journal)

    def d(c: Resource) -> Closable:
        return Closable("d", journal)

    class E(AsyncService, registry=reg):
        def initialize(self) -> None:
            journal("init e")

        async def dispose(self) -> None:
            journal("dispose e")

    reg.register("a", a, scope=Scope.SINGLETON)
    reg.register("b", b, scope=Scope.SINGLETON)
    reg.register("c", c, scope=Scope.SINGLETON)
    reg.register("d", d, scope=Scope.SINGLETON, close=True)
    reg.register("e", lambda d: E(), scope=Scope.SINGLETON)


async def test_release_is_lifo_across_mixed_mechanisms(reg: Registry) -> None:
    """Generators, async generators, hooks, close() and services release newest first."""
    journal = Journal()
    register_mixed(reg, journal)
    async with reg.lifespan():
        await reg.resolve("e")
        journal("body")
    assert journal.events == [
        "open a",
        "open b",
        "init c",
        "init e",
        "body",
        "dispose e",
        "close d",
        "dispose c",
        "close b",
        "close a",
    ]


async def test_release_follows_creation_order_not_declaration(reg: Registry) -> None:
    """Release order is the reverse of when values were actually made."""
    journal = Journal()

    first = partial(sync_gen, "declared first", journal)

    second = partial(sync_gen, "declared second", journal)

    reg.register("first", first, scope=Scope.SINGLETON)
    reg.register("second", second, scope=Scope.SINGLETON)
    async with reg.lifespan():
        await reg.resolve("second")
        await reg.resolve("first")
    assert journal.events[2:] == ["close declared first", "close declared second"]


async def test_each_value_is_released_exactly_once(reg: Registry) -> None:
    """A resource made by a provider is initialized once and disposed once."""
    journal = Journal()
    made: list[Resource] = []

    def make() -> Resource:
        made.append(Resource("r", journal))
        return made[-1]

    reg.register("r", make, scope=Scope.SINGLETON)
    async with reg.lifespan():
        await asyncio.gather(*(reg.resolve("r") for _ in range(20)))
    assert len(made) == 1
    assert (made[0].initialized, made[0].disposed) == (1, 1)


async def test_every_step_runs_and_failures_are_grouped(reg: Registry) -> None:
    """When several release steps raise, all steps still run; the group holds exactly those."""
    journal = Journal()
    errors = [ValueError("one"), KeyError("two")]

    def ok(name: str) -> Iterator[str]:
        yield from sync_gen(name, journal)

    def failing(error: Exception) -> Iterator[str]:
        yield "x"
        raise error

    reg.register("ok1", partial(ok, "ok1"), scope=Scope.SINGLETON)
    reg.register("bad1", partial(failing, errors[0]), scope=Scope.SINGLETON)
    reg.register("ok2", partial(ok, "ok2"), scope=Scope.SINGLETON)
    reg.register("bad2", partial(failing, errors[1]), scope=Scope.SINGLETON)
    reg.register("ok3", partial(ok, "ok3"), scope=Scope.SINGLETON)

    async def use_all() -> None:
        for name in ("ok1", "bad1", "ok2", "bad2", "ok3"):
            await reg.resolve(name)

    with pytest.raises(ReleaseError) as info:
        async with reg.lifespan():
            await use_all()
    assert list(info.value.exceptions) == [errors[1], errors[0]]
    assert isinstance(info.value, ExceptionGroup)
    assert journal.events[-3:] == ["close ok3", "close ok2", "close ok1"]


async def test_a_second_cancel_during_release_skips_nothing(reg: Registry) -> None:
    """Cancelling the task again while it releases does not skip any remaining step."""
    journal = Journal()
    releasing = asyncio.Event()

    async def slow(name: str) -> AsyncIterator[str]:
        try:
            yield name
        finally:
            releasing.set()
            await asyncio.sleep(0.05)
            journal(f"released {name}")

    reg.register("one", partial(slow, "one"), scope=Scope.SINGLETON)
    reg.register("two", partial(slow, "two"), scope=Scope.SINGLETON)

    async def body() -> None:
        async with reg.lifespan():
            await reg.resolve("one")
            await reg.resolve("two")
            await asyncio.sleep(10)

    task = asyncio.create_task(body())
    await asyncio.sleep(0.01)
    task.cancel()
    async with asyncio.timeout(2):
        await releasing.wait()
    task.cancel()  # the second cancel lands while the first release step sleeps
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert journal.events == ["released two", "released one"]


async def test_cancelled_body_still_raises_cancelled_when_a_finalizer_fails(reg: Registry) -> None:
    """A cancelled body propagates CancelledError; finalizer failures become notes."""
    reg.register("broken", partial(broken_teardown, "disk gone"), scope=Scope.SINGLETON)

    async def body() -> None:
        async with reg.lifespan():
            await reg.resolve("broken")
            await asyncio.sleep(10)

    task = asyncio.create_task(body())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as info:
        await task
    assert any("disk gone" in note for note in info.value.__notes__)


async def test_timeout_still_raises_timeout_error_when_a_finalizer_fails(reg: Registry) -> None:
    """`asyncio.timeout` around a lifespan still raises TimeoutError if release fails."""
    reg.register("broken", partial(broken_async_teardown, "disk gone"), scope=Scope.REQUEST)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01), reg.lifespan(), reg.scope():
            await reg.resolve("broken")
            await asyncio.sleep(10)


async def test_task_group_sees_the_original_error(reg: Registry) -> None:
    """Inside a TaskGroup, a failing sibling's error survives a failing finalizer."""
    reg.register("broken", partial(broken_teardown, "finalizer failed"), scope=Scope.REQUEST)

    async def worker() -> None:
        async with reg.scope():
            await reg.resolve("broken")
            await asyncio.sleep(10)

    async def failing() -> None:
        await asyncio.sleep(0.01)
        raise ValueError("sibling failed")

    with pytest.raises(ExceptionGroup) as info:
        async with asyncio.TaskGroup() as group:
            group.create_task(worker())
            group.create_task(failing())
    assert info.value.subgroup(ValueError) is not None


async def test_provider_cancelled_after_acquiring_still_releases(reg: Registry) -> None:
    """If making a value is cancelled after a resource was acquired, that resource is released."""
    journal = Journal()
    acquired = asyncio.Event()

    async def connection() -> AsyncIterator[str]:
        journal("acquire connection")
        acquired.set()
        try:
            yield "conn"
        finally:
            journal("release connection")

    async def slow_service(connection: str) -> str:
        await asyncio.sleep(10)
        return "never"

    reg.register("connection", connection)
    reg.register("service", slow_service)
    task = asyncio.create_task(reg.resolve("service"))
    await acquired.wait()
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert journal.events == ["acquire connection", "release connection"]


async def test_failed_initialize_releases_what_was_made_for_it(reg: Registry) -> None:
    """If initialize() fails, values made for the value are released; the error keeps its type."""
    journal = Journal()

    connection = partial(sync_gen, "connection", journal)

    @resource
    class Client:
        def __init__(self, connection: str) -> None:
            self.connection = connection

        async def initialize(self) -> None:
            raise PermissionError("bad credentials")

        async def dispose(self) -> None:  # pragma: no cover - never initialized
            journal("dispose client")

    reg.register("connection", connection)
    reg.register("client", Client, scope=Scope.SINGLETON)
    async with reg.lifespan(validate=False):
        with pytest.raises(PermissionError, match="bad credentials"):
            await reg.resolve("client")
        assert journal.events == ["open connection", "close connection"]
    assert journal.events == ["open connection", "close connection"]


async def test_failed_service_initialize_releases_its_values(reg: Registry) -> None:
    """A service whose initialize() fails releases what it resolved, then re-raises."""
    journal = Journal()

    connection = partial(sync_gen, "connection", journal)

    reg.register("connection", connection)

    class Svc(AsyncService, registry=reg):
        connection = Dependency[str]()

        async def initialize(self) -> None:
            await self.connection
            raise LookupError("table missing")

    with pytest.raises(LookupError, match="table missing"):
        async with Svc():
            pass  # pragma: no cover
    assert journal.events == ["open connection", "close connection"]


async def test_service_releases_its_instance_values_after_dispose(reg: Registry) -> None:
    """On exit a service runs dispose(), then releases its INSTANCE values newest first."""
    journal = Journal()

    first = partial(sync_gen, "first", journal)

    second = partial(async_gen, "second", journal)

    reg.register("first", first)
    reg.register("second", second)

    class Svc(AsyncService, registry=reg):
        first = Dependency[str]()
        second = Dependency[str]()

        def dispose(self) -> None:
            journal("dispose svc")

    async with Svc() as svc:
        await svc.first
        await svc.second
    assert journal.events == [
        "open first",
        "open second",
        "dispose svc",
        "close second",
        "close first",
    ]


async def test_body_exception_is_thrown_into_generators(reg: Registry) -> None:
    """A generator provider sees the body's exception at its yield (except and finally work)."""
    seen: list[BaseException] = []

    async def transaction() -> AsyncIterator[str]:
        try:
            yield "tx"
        except Exception as error:
            seen.append(error)
            raise

    reg.register("tx", transaction, scope=Scope.REQUEST)
    with pytest.raises(ZeroDivisionError):
        async with reg.scope():
            await reg.resolve("tx")
            1 / 0
    assert len(seen) == 1
    assert isinstance(seen[0], ZeroDivisionError)


async def test_resolving_after_lifespan_closed_is_an_error(reg: Registry) -> None:
    """Once the lifespan has closed, resolving a new singleton says so and what to do."""
    reg.register("db", object, scope=Scope.SINGLETON)
    async with reg.lifespan() as lifespan:
        assert "open" in repr(lifespan)
        assert "lifespan open" in repr(reg)
        await reg.resolve("db")
    assert repr(lifespan) == "<Lifespan closed, 0 values owned>"
    with pytest.raises(RegistryClosedError, match=r"lifespan\(\)"):
        await reg.resolve("db")
    with pytest.raises(RegistryClosedError):
        reg.get("db")
    async with reg.lifespan():
        assert await reg.resolve("db") is not None


async def test_eager_lifespan_makes_every_singleton_up_front(reg: Registry) -> None:
    """lifespan(eager=True) creates each singleton on enter."""
    journal = Journal()

    db = partial(sync_gen, "db", journal)

    reg.register("db", db, scope=Scope.SINGLETON)
    async with reg.lifespan(eager=True):
        assert journal.events == ["open db"]
    assert journal.events == ["open db", "close db"]


async def test_lifespan_validates_on_enter(reg: Registry) -> None:
    """Entering a lifespan validates the graph first."""
    reg.register("repo", lambda db: db)
    with pytest.raises(ExceptionGroup, match="problem"):
        async with reg.lifespan():
            pass  # pragma: no cover


def test_sync_lifespan_for_sync_graphs(reg: Registry) -> None:
    """`with registry.lifespan():` runs a sync-only graph and releases it."""
    journal = Journal()

    db = partial(sync_gen, "db", journal)

    reg.register("db", db, scope=Scope.SINGLETON)
    with reg.lifespan():
        assert reg.get("db") == "db"
    assert journal.events == ["open db", "close db"]


def test_sync_lifespan_refuses_async_release(reg: Registry) -> None:
    """A sync lifespan holding a value that needs an awaited release says to use async with."""

    @resource
    class Pool:
        def initialize(self) -> None:
            pass

        async def dispose(self) -> None:  # pragma: no cover - refused
            pass

    reg.register("pool", Pool, scope=Scope.SINGLETON)
    with pytest.raises(AsyncReleaseError, match="async with") as info, reg.lifespan():
        reg.get("pool")
    assert info.value.names == ("pool",)


async def test_shielded_runs_to_the_end_despite_cancels() -> None:
    """The release driver finishes its coroutine even when cancelled repeatedly."""
    journal = Journal()

    async def work() -> str:
        for step in range(3):
            await asyncio.sleep(0.01)
            journal(f"step {step}")
        return "done"

    async def run() -> str:
        result: str = await shielded(work())
        return result

    task = asyncio.create_task(run())
    for _ in range(3):
        await asyncio.sleep(0.005)
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert journal.events == ["step 0", "step 1", "step 2"]


def test_owner_repr_tells_state() -> None:
    """An owner's repr tells whether it is open and how many values it holds."""
    owner = Owner("request scope")
    assert repr(owner) == "<Owner request scope open, 0 values owned>"


async def test_instance_values_with_hooks_are_started_and_released(reg: Registry) -> None:
    """Every INSTANCE value with hooks, however it was made, is initialized and disposed."""
    journal = Journal()
    reg.register("client", Resource)  # a class provider: Resource(name, journal)
    reg.register("name", value="client")
    reg.register("journal", value=journal)

    class Svc(AsyncService, registry=reg):
        client = Dependency[Resource]()

    for _ in range(3):  # the first read takes the long way, the others the short way
        async with Svc() as svc:
            await svc.client
    assert journal.events == ["init client", "dispose client"] * 3


async def test_a_registry_can_live_through_several_lifespans(reg: Registry) -> None:
    """After a lifespan closes, a new one makes and releases singletons afresh."""
    journal = Journal()
    generation = iter(range(1, 10))

    def db() -> Iterator[str]:
        yield from sync_gen(f"db{next(generation)}", journal)

    reg.register("db", db, scope=Scope.SINGLETON)
    for _ in range(2):
        async with reg.lifespan():
            await reg.resolve("db")
    assert journal.events == ["open db1", "close db1", "open db2", "close db2"]


async def test_service_exit_finishes_despite_repeated_cancels(reg: Registry) -> None:
    """A service's dispose() and its values' release run to the end under cancellation."""
    journal = Journal()
    disposing = asyncio.Event()

    connection = partial(sync_gen, "connection", journal)

    reg.register("connection", connection)

    class Svc(AsyncService, registry=reg):
        connection = Dependency[str]()

        async def dispose(self) -> None:
            disposing.set()
            await asyncio.sleep(0.05)
            journal("disposed")

    async def use() -> None:
        async with Svc() as svc:
            await svc.connection
            await asyncio.sleep(10)

    task = asyncio.create_task(use())
    await asyncio.sleep(0.01)
    task.cancel()
    async with asyncio.timeout(2):
        await disposing.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert journal.events == ["open connection", "disposed", "close connection"]


async def test_failing_eager_startup_releases_what_it_made(reg: Registry) -> None:
    """If an eager lifespan's singleton fails, those made before it are released."""
    journal = Journal()

    db = partial(sync_gen, "db", journal)

    def broken(db: str) -> str:
        raise ConnectionError("cache unreachable")

    reg.register("db", db, scope=Scope.SINGLETON)
    reg.register("cache", broken, scope=Scope.SINGLETON)
    with pytest.raises(ConnectionError, match="cache unreachable"):
        async with reg.lifespan(eager=True):
            pass  # pragma: no cover
    assert journal.events == ["open db", "close db"]
    assert "lifespan closed" in repr(reg)


def test_failing_sync_eager_startup_releases_what_it_made(reg: Registry) -> None:
    """The sync lifespan releases what an eager start made before a failure, too."""
    journal = Journal()

    db = partial(sync_gen, "db", journal)

    def broken(db: str) -> str:
        raise ConnectionError("cache unreachable")

    reg.register("db", db, scope=Scope.SINGLETON)
    reg.register("cache", broken, scope=Scope.SINGLETON)
    with pytest.raises(ConnectionError), reg.lifespan(eager=True):
        pass  # pragma: no cover
    assert journal.events == ["open db", "close db"]


async def test_a_lifespan_is_opened_once_at_a_time(reg: Registry) -> None:
    """Opening a second lifespan while one is open, or re-entering one, is refused."""
    lifespan = reg.lifespan()
    async with lifespan:
        with pytest.raises(RuntimeError, match="already open"):
            async with reg.lifespan():
                pass  # pragma: no cover
    with pytest.raises(RuntimeError, match="entered once"):
        async with lifespan:
            pass  # pragma: no cover
