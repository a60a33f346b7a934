"""Request scopes: one value per scope, nested scopes, tasks, and use after close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial

import pytest

from asyncdi import (
    AsyncService,
    CycleError,
    Dependency,
    NoActiveScopeError,
    Registry,
    ReleaseError,
    Scope,
    ScopeClosedError,
)
from tests.fakes import Journal, async_gen, sync_gen


async def test_one_value_per_scope_released_at_exit(reg: Registry) -> None:
    """A REQUEST value is shared within its scope and released when the scope exits."""
    journal = Journal()
    counter = iter(range(100))

    async def session() -> AsyncIterator[str]:
        async for value in async_gen(f"session {next(counter)}", journal):
            yield value

    reg.register("session", session, scope=Scope.REQUEST)
    async with reg.scope():
        first = await reg.resolve("session")
        assert await reg.resolve("session") is first
    async with reg.scope():
        assert await reg.resolve("session") != first
    assert journal.events == [
        "open session 0",
        "close session 0",
        "open session 1",
        "close session 1",
    ]


async def test_fifty_concurrent_scopes_get_fifty_values(reg: Registry) -> None:
    """50 concurrent request scopes each get their own value, released at their own exit."""
    journal = Journal()
    counter = iter(range(1000))

    async def session() -> AsyncIterator[int]:
        number = next(counter)
        journal(f"open {number}")
        await asyncio.sleep(0.001)
        yield number
        journal(f"close {number}")

    reg.register("session", session, scope=Scope.REQUEST)

    async def request() -> tuple[int, int]:
        async with reg.scope():
            first = await reg.resolve("session")
            await asyncio.sleep(0.01)
            return first, await reg.resolve("session")

    results = await asyncio.gather(*(request() for _ in range(50)))
    assert all(a == b for a, b in results)
    assert len({a for a, _ in results}) == 50
    assert len([e for e in journal.events if e.startswith("close")]) == 50


async def test_inner_scope_sees_outer_values_and_releases_its_own(reg: Registry) -> None:
    """A nested scope reuses outer values, makes its own new ones, and releases only those."""
    journal = Journal()

    user = partial(sync_gen, "user", journal)

    tx = partial(sync_gen, "tx", journal)

    reg.register("user", user, scope=Scope.REQUEST)
    reg.register("tx", tx, scope=Scope.REQUEST)
    async with reg.scope() as outer:
        outer_user = await reg.resolve("user")
        async with reg.scope() as inner:
            assert await reg.resolve("user") is outer_user
            await reg.resolve("tx")
            assert inner.depth == 1
        assert journal.events == ["open user", "open tx", "close tx"]
        assert await reg.resolve("user") is outer_user
    assert journal.events[-1] == "close user"
    assert "closed" in repr(outer)


async def test_tasks_started_inside_a_scope_see_it(reg: Registry) -> None:
    """Tasks created inside a scope resolve the same REQUEST value."""
    reg.register("session", object, scope=Scope.REQUEST)
    async with reg.scope():
        mine = await reg.resolve("session")
        theirs = await asyncio.gather(
            *(asyncio.create_task(reg.resolve("session")) for _ in range(5))
        )
    assert all(value is mine for value in theirs)


async def test_value_used_after_its_scope_closed_is_an_error(reg: Registry) -> None:
    """A task that outlives its scope gets a clear error instead of a released value."""
    reg.register("session", object, scope=Scope.REQUEST)
    proceed = asyncio.Event()

    async def straggler() -> object:
        await proceed.wait()
        return await reg.resolve("session")

    async with reg.scope():
        task = asyncio.create_task(straggler())
    proceed.set()
    with pytest.raises(ScopeClosedError, match="already closed"):
        await task


async def test_request_value_without_a_scope_is_an_error(reg: Registry) -> None:
    """Without an active scope, a REQUEST value is refused, naming registry.scope()."""
    reg.register("session", object, scope=Scope.REQUEST)

    class Handler(AsyncService, registry=reg):
        session = Dependency[object]()

    with pytest.raises(NoActiveScopeError, match=r"Handler\.session"):
        await Handler().session


async def test_instance_values_resolved_in_a_scope_belong_to_it(reg: Registry) -> None:
    """An INSTANCE value resolved directly inside a scope is released with the scope."""
    journal = Journal()

    temp = partial(sync_gen, "temp", journal)

    reg.register("temp", temp)
    async with reg.scope():
        await reg.resolve("temp")
        assert journal.events == ["open temp"]
    assert journal.events == ["open temp", "close temp"]


def test_sync_scope_for_sync_providers(reg: Registry) -> None:
    """`with registry.scope():` works for sync providers via get()."""
    journal = Journal()

    tx = partial(sync_gen, "tx", journal)

    reg.register("tx", tx, scope=Scope.REQUEST)
    with reg.scope():
        assert reg.get("tx") == "tx"
        assert reg.get("tx") == "tx"
    assert journal.events == ["open tx", "close tx"]


async def test_scope_is_entered_once(reg: Registry) -> None:
    """A scope object cannot be re-entered; ask registry.scope() for a new one."""
    scope = reg.scope()
    async with scope:
        pass
    with pytest.raises(RuntimeError, match="entered once"):
        async with scope:
            pass  # pragma: no cover


async def test_concurrent_first_resolves_of_a_generator_value_share_it(reg: Registry) -> None:
    """Concurrent first resolves of an async-generator request value make it once."""
    journal = Journal()
    made = 0

    async def session() -> AsyncIterator[int]:
        nonlocal made
        made += 1
        await asyncio.sleep(0.01)
        yield made
        journal(f"close {made}")

    reg.register("session", session, scope=Scope.REQUEST)
    for _ in range(3):  # the first scopes warm the short path's caches
        async with reg.scope():
            values = await asyncio.gather(*(reg.resolve("session") for _ in range(50)))
        assert len(set(values)) == 1
    assert made == 3
    assert journal.events == ["close 1", "close 2", "close 3"]


async def test_failure_of_a_generator_value_reaches_concurrent_resolvers(reg: Registry) -> None:
    """All concurrent resolvers get the failure; a later resolve in the scope retries."""
    attempts = 0

    async def flaky() -> AsyncIterator[str]:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts % 2:
            raise ConnectionError("no session")
        yield "session"

    reg.register("flaky", flaky, scope=Scope.REQUEST)
    for _ in range(2):
        async with reg.scope():
            results = await asyncio.gather(
                *(reg.resolve("flaky") for _ in range(10)), return_exceptions=True
            )
            assert all(isinstance(r, ConnectionError) for r in results)
            assert await reg.resolve("flaky") == "session"


async def test_generator_value_asking_for_itself_is_a_cycle(reg: Registry) -> None:
    """A request generator whose body resolves its own name gets CycleError, not a hang."""

    async def selfish() -> AsyncIterator[object]:
        yield await reg.resolve("selfish")

    reg.register("selfish", selfish, scope=Scope.REQUEST)
    for _ in range(3):
        async with asyncio.timeout(2), reg.scope():
            with pytest.raises(CycleError):
                await reg.resolve("selfish")


async def test_made_request_values_are_reported_once_made(reg: Registry) -> None:
    """A scope lists the values made in it, whichever way they were made."""

    async def session() -> AsyncIterator[str]:
        yield "session"

    reg.register("session", session, scope=Scope.REQUEST)
    reg.register("user", lambda: "user", scope=Scope.REQUEST)
    for _ in range(2):
        async with reg.scope() as scope:
            await reg.resolve("session")
            await reg.resolve("user")
            made = {provider.name: value for provider, value in scope.made_values()}
            assert made == {"session": "session", "user": "user"}


async def test_a_second_cancel_during_a_scope_teardown_skips_nothing(reg: Registry) -> None:
    """A request value's teardown that waits still finishes when cancelled again."""
    journal = Journal()
    tearing_down = asyncio.Event()

    async def session() -> AsyncIterator[str]:
        try:
            yield "session"
        finally:
            tearing_down.set()
            await asyncio.sleep(0.05)
            journal("session closed")

    reg.register("session", session, scope=Scope.REQUEST)

    async def request() -> None:
        async with reg.scope():
            await reg.resolve("session")
            await asyncio.sleep(10)

    for _ in range(2):  # the second request takes the short way
        tearing_down.clear()
        task = asyncio.create_task(request())
        await asyncio.sleep(0.01)
        task.cancel()
        async with asyncio.timeout(2):
            await tearing_down.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert journal.events == ["session closed", "session closed"]


async def test_a_request_value_that_yields_twice_is_a_release_failure(reg: Registry) -> None:
    """A generator provider must yield once; a second yield fails its release, clearly."""

    async def greedy() -> AsyncIterator[str]:
        yield "first"
        yield "second"

    reg.register("greedy", greedy, scope=Scope.REQUEST)
    for _ in range(2):
        with pytest.raises(ReleaseError) as info:
            async with reg.scope():
                await reg.resolve("greedy")
        (error,) = info.value.exceptions
        assert "yielded more than once" in str(error)


async def test_failing_request_teardown_is_reported_after_the_scope(reg: Registry) -> None:
    """A request value whose teardown raises makes the scope raise ReleaseError with it."""

    async def broken() -> AsyncIterator[str]:
        try:
            yield "value"
        finally:
            raise OSError("cannot close")

    reg.register("broken", broken, scope=Scope.REQUEST)
    for _ in range(2):
        with pytest.raises(ReleaseError) as info:
            async with reg.scope():
                await reg.resolve("broken")
        assert [str(e) for e in info.value.exceptions] == ["cannot close"]


@pytest.mark.parametrize("kind", ["async generator", "async function"])
async def test_value_made_after_its_scope_closed_is_released_at_once(
    reg: Registry, kind: str
) -> None:
    """A straggler's value finished after the scope exited is released, and it is told."""
    journal = Journal()
    started = asyncio.Event()

    async def slow_session() -> AsyncIterator[str]:
        started.set()
        await asyncio.sleep(0.02)
        try:
            yield "session"
        finally:
            journal("session released")

    class Session:
        def close(self) -> None:
            journal("session released")

    async def slow_function() -> Session:
        started.set()
        await asyncio.sleep(0.02)
        return Session()

    if kind == "async generator":
        reg.register("session", slow_session, scope=Scope.REQUEST)
    else:
        reg.register("session", slow_function, scope=Scope.REQUEST, close=True)
    for _ in range(2):
        started.clear()
        async with reg.scope():
            task = asyncio.create_task(reg.resolve("session"))
            await started.wait()
        with pytest.raises(ScopeClosedError):
            await task
    assert journal.events == ["session released", "session released"]
