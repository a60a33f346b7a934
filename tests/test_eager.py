"""lifespan(eager=True): independent singletons start concurrently, each after its needs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from asyncdi import Registry, Scope


def slow(
    reg: Registry, name: str, events: list[str], delay: float = 0.1, fail: bool = False
) -> None:
    """Register a singleton that takes ``delay`` seconds and records start, end and release."""

    async def make() -> AsyncIterator[str]:
        events.append(f"start {name}")
        await asyncio.sleep(delay)
        if fail:
            raise RuntimeError(f"{name} failed")
        events.append(f"made {name}")
        try:
            yield name
        finally:
            events.append(f"release {name}")

    reg.register(name, make, scope=Scope.SINGLETON)


async def test_ten_independent_singletons_start_concurrently(reg: Registry) -> None:
    """Ten independent 100 ms singletons start in under 250 ms, not 1 s."""
    events: list[str] = []
    for i in range(10):
        slow(reg, f"s{i}", events)
    async with asyncio.timeout(5):
        started = time.perf_counter()
        async with reg.lifespan(eager=True):
            elapsed = time.perf_counter() - started
            assert sum(e.startswith("made") for e in events) == 10
    assert elapsed < 0.25
    assert sum(e.startswith("release") for e in events) == 10


async def test_each_singleton_starts_after_what_it_depends_on(reg: Registry) -> None:
    """A singleton is made only after its dependencies; independent ones overlap."""
    events: list[str] = []
    slow(reg, "a", events, 0.05)
    slow(reg, "b", events, 0.05)

    async def top(a: str, b: str) -> str:
        events.append("start top")
        return a + b

    reg.register("top", top, scope=Scope.SINGLETON)
    async with asyncio.timeout(5):
        started = time.perf_counter()
        async with reg.lifespan(eager=True):
            elapsed = time.perf_counter() - started
            assert await reg.resolve("top") == "ab"
    assert events.index("start top") > max(events.index("made a"), events.index("made b"))
    assert events.index("start b") < events.index("made a")  # b did not wait for a
    assert elapsed < 0.09
    assert reg.stats()["a"].created == 1


async def test_one_failure_is_raised_as_itself_and_the_rest_released(reg: Registry) -> None:
    """One failing singleton: others being made are cancelled, made ones released, error raised."""
    events: list[str] = []
    slow(reg, "quick", events, 0.0)
    slow(reg, "bad", events, 0.02, fail=True)
    slow(reg, "slow", events, 5.0)
    async with asyncio.timeout(5):
        with pytest.raises(RuntimeError, match="bad failed"):
            async with reg.lifespan(eager=True):
                pytest.fail("the body must not run")
    assert "made slow" not in events
    assert events[-1] == "release quick"
    assert reg._lifespan is None


async def test_several_failures_are_raised_as_a_group(reg: Registry) -> None:
    """Two singletons failing at once are raised together as an ExceptionGroup of them."""
    events: list[str] = []
    slow(reg, "one", events, 0.01, fail=True)
    slow(reg, "two", events, 0.01, fail=True)
    async with asyncio.timeout(5):
        with pytest.raises(ExceptionGroup) as caught:
            async with reg.lifespan(eager=True):
                pass
    assert sorted(str(e) for e in caught.value.exceptions) == ["one failed", "two failed"]


async def test_a_failure_shared_by_dependants_is_reported_once(reg: Registry) -> None:
    """A failing dependency that two singletons wait for is raised once, as itself."""
    events: list[str] = []
    slow(reg, "base", events, 0.01, fail=True)

    async def left(base: str) -> str:
        return base

    async def right(base: str) -> str:
        return base

    reg.register("left", left, scope=Scope.SINGLETON)
    reg.register("right", right, scope=Scope.SINGLETON)
    async with asyncio.timeout(5):
        with pytest.raises(RuntimeError, match="base failed"):
            async with reg.lifespan(eager=True):
                pass


async def test_release_is_newest_first_by_creation(reg: Registry) -> None:
    """At lifespan end eager singletons are released in reverse order of being made."""
    events: list[str] = []
    slow(reg, "late", events, 0.06)
    slow(reg, "early", events, 0.01)
    async with asyncio.timeout(5), reg.lifespan(eager=True):
        pass
    assert events[-2:] == ["release late", "release early"]


async def test_cancelling_an_eager_start_releases_what_was_made(reg: Registry) -> None:
    """A start-up cancelled from outside releases every singleton made so far."""
    events: list[str] = []
    made = asyncio.Event()

    async def fast() -> AsyncIterator[str]:
        made.set()
        try:
            yield "fast"
        finally:
            events.append("release fast")

    reg.register("fast", fast, scope=Scope.SINGLETON)
    slow(reg, "forever", events, 10.0)

    async def start() -> None:
        async with reg.lifespan(eager=True):
            pass

    async with asyncio.timeout(5):
        task = asyncio.create_task(start())
        await made.wait()
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert events[-1] == "release fast"


def test_sync_eager_lifespan_stays_sequential(reg: Registry) -> None:
    """with lifespan(eager=True) makes sync singletons one after another, in order."""
    order: list[str] = []

    def make(name: str) -> Any:
        def provider() -> str:
            order.append(name)
            return name

        return provider

    reg.register("x", make("x"), scope=Scope.SINGLETON)
    reg.register("y", make("y"), scope=Scope.SINGLETON)
    with reg.lifespan(eager=True):
        assert order == ["x", "y"]
