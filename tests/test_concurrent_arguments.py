"""Issue 8, part 2: a provider's missing asynchronous arguments are made concurrently."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from asyncdi import Registry, Scope
from tests.fakes import Journal


def _slow(name: str, delay: float, journal: Journal, fail: bool = False) -> object:
    async def make() -> AsyncIterator[str]:
        journal(f"start {name}")
        await asyncio.sleep(delay)
        if fail:
            raise OSError(f"{name} failed")
        journal(f"made {name}")
        try:
            yield name
        finally:
            journal(f"release {name}")

    return make


async def test_two_slow_arguments_are_made_at_once(reg: Registry) -> None:
    """Two 0.2 s singleton parameters take well under 0.4 s: they are made concurrently."""
    journal = Journal()
    reg.register("a", _slow("a", 0.2, journal), scope=Scope.SINGLETON)
    reg.register("b", _slow("b", 0.2, journal), scope=Scope.SINGLETON)
    reg.register("both", lambda a, b: f"{a}+{b}")
    async with reg.lifespan(), asyncio.timeout(5):
        started = time.perf_counter()
        assert await reg.resolve("both") == "a+b"
        assert time.perf_counter() - started < 0.3
        assert await reg.resolve("both") == "a+b"  # made already: read as before
    assert reg.stats()["a"].created == 1
    assert reg.stats()["b"].created == 1


async def test_release_order_follows_actual_creation(reg: Registry) -> None:
    """Made concurrently, released newest first by when each was actually made."""
    journal = Journal()
    reg.register("slow", _slow("slow", 0.1, journal), scope=Scope.SINGLETON)
    reg.register("fast", _slow("fast", 0.01, journal), scope=Scope.SINGLETON)
    reg.register("both", lambda slow, fast: (slow, fast))
    async with reg.lifespan(), asyncio.timeout(5):
        await reg.resolve("both")
    assert journal.events[-2:] == ["release slow", "release fast"]


async def test_request_arguments_are_made_concurrently(reg: Registry) -> None:
    """REQUEST parameters too: made at once, each kept by the scope and released with it."""
    journal = Journal()
    reg.register("x", _slow("x", 0.2, journal), scope=Scope.REQUEST)
    reg.register("y", _slow("y", 0.2, journal), scope=Scope.REQUEST)
    reg.register("pair", lambda x, y: (x, y), scope=Scope.REQUEST)
    async with reg.lifespan(), asyncio.timeout(5):
        async with reg.scope():
            started = time.perf_counter()
            assert await reg.resolve("pair") == ("x", "y")
            assert time.perf_counter() - started < 0.3
            assert await reg.resolve("x") == "x"
        assert sorted(e for e in journal.events if e.startswith("release")) == [
            "release x",
            "release y",
        ]


async def test_a_failure_cancels_the_others_and_is_raised_as_itself(reg: Registry) -> None:
    """One argument fails: the other, still being made, is cancelled; nothing stays made."""
    journal = Journal()
    reg.register("bad", _slow("bad", 0.01, journal, fail=True), scope=Scope.SINGLETON)
    reg.register("slow", _slow("slow", 1.0, journal), scope=Scope.SINGLETON)
    reg.register("both", lambda bad, slow: (bad, slow))
    async with reg.lifespan(), asyncio.timeout(5):
        started = time.perf_counter()
        with pytest.raises(OSError, match="bad failed"):
            await reg.resolve("both")
        assert time.perf_counter() - started < 0.5
    assert "made slow" not in journal.events
    assert reg.stats()["slow"].live == 0


async def test_cancelling_the_caller_cancels_every_argument(reg: Registry) -> None:
    """A cancelled resolve leaves no argument being made behind it, and it is cancelled."""
    journal = Journal()
    reg.register("a", _slow("a", 1.0, journal), scope=Scope.SINGLETON)
    reg.register("b", _slow("b", 1.0, journal), scope=Scope.SINGLETON)
    reg.register("both", lambda a, b: (a, b))
    async with reg.lifespan(), asyncio.timeout(5):
        task = asyncio.create_task(reg.resolve("both"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0)
        assert journal.events == ["start a", "start b"]
        assert all(not t.get_coro().__qualname__.startswith("aget") for t in asyncio.all_tasks()
                   if t is not asyncio.current_task())  # fmt: skip
