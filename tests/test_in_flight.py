"""Values in flight: a body asking for its own value is a CycleError; no waiter hangs."""

from __future__ import annotations

import asyncio

import pytest

from asyncdi import CycleError, Registry, Scope, ScopeClosedError

SCOPES = [Scope.SINGLETON, Scope.REQUEST]


@pytest.mark.parametrize("scope", SCOPES, ids=lambda s: s.name)
async def test_async_body_cycle_names_every_step(reg: Registry, scope: Scope) -> None:
    """`a`'s body resolves `b`, which takes `a`: the error draws a -> b -> a, at once."""

    async def a() -> object:
        return await reg.resolve("b")

    reg.register("a", a, scope=scope)
    reg.register("b", lambda a: a, scope=scope)
    async with reg.scope():
        with pytest.raises(CycleError) as info:
            async with asyncio.timeout(2):
                await reg.resolve("a")
    assert info.value.cycle == ("a", "b", "a")


@pytest.mark.parametrize("scope", SCOPES, ids=lambda s: s.name)
def test_sync_body_cycle_names_every_step(reg: Registry, scope: Scope) -> None:
    """The same through `get()`: a sync body calling `get` of what needs it."""
    reg.register("a", lambda: reg.get("b"), scope=scope)
    reg.register("b", lambda a: a, scope=scope)
    with reg.scope(), pytest.raises(CycleError) as info:
        reg.get("a")
    assert info.value.cycle == ("a", "b", "a")


async def test_a_waiter_in_another_task_is_no_cycle(reg: Registry) -> None:
    """Another task waits for a value being made: only the creator's own stack is a cycle."""
    started = asyncio.Event()

    async def slow() -> str:
        started.set()
        await asyncio.sleep(0.05)
        return "made"

    reg.register("slow", slow, scope=Scope.REQUEST)
    async with reg.scope(), asyncio.timeout(2):
        first = asyncio.ensure_future(reg.resolve("slow"))
        await started.wait()
        assert await reg.resolve("slow") == "made"
        assert await first == "made"


async def test_waiters_are_told_when_the_scope_ends_before_the_value_is_made(
    reg: Registry,
) -> None:
    """A scope that exits while a value is made and waited for: both tasks get an error, no hang."""

    async def slow() -> str:
        await asyncio.sleep(0.05)
        return "made"

    reg.register("slow", slow, scope=Scope.REQUEST)
    async with reg.scope():
        creator = asyncio.ensure_future(reg.resolve("slow"))
        await asyncio.sleep(0.01)
        waiter = asyncio.ensure_future(reg.resolve("slow"))
        await asyncio.sleep(0.01)
    async with asyncio.timeout(2):
        outcomes = await asyncio.gather(creator, waiter, return_exceptions=True)
    assert [type(outcome) for outcome in outcomes] == [ScopeClosedError, ScopeClosedError]
