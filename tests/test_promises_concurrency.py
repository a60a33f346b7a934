"""Issue 6, concurrency: single flight under contention, across tasks, loops and threads.

Regression tests written against the public API only, so they run unchanged against a
rewritten core. Every await that could hang runs under ``asyncio.timeout``, every thread
join has a timeout, and every event loop in a thread bounds its own work, so a hang fails
the test instead of stalling the suite.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest

from asyncdi import AsyncDIError, CycleError, Registry, Scope

LIMIT = 5.0  # seconds a test's whole work may take before a hang counts as a failure
PROMPT = 2.0  # seconds for what must return promptly (a cycle, a shared value in threads)


@contextmanager
def tiny_switch_interval() -> Iterator[None]:
    """Make threads switch every microsecond, so races show up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _counting_async_gen(made: list[str], name: str) -> Callable[[], AsyncIterator[str]]:
    numbers = itertools.count(1)

    async def provider() -> AsyncIterator[str]:
        value = f"{name}{next(numbers)}"
        made.append(value)
        await asyncio.sleep(0)
        yield value

    return provider


@pytest.mark.parametrize("waiters", [2, 10_000])
async def test_a_scope_keeps_working_after_contention(reg: Registry, waiters: int) -> None:
    """Issue 6 item 3: after concurrent first resolves of 'a', resolving 'b' still returns."""
    made: list[str] = []
    reg.register("a", _counting_async_gen(made, "a"), scope=Scope.REQUEST)
    reg.register("b", _counting_async_gen(made, "b"), scope=Scope.REQUEST)
    async with asyncio.timeout(LIMIT), reg.lifespan():
        async with reg.scope():  # both providers run once in an earlier scope
            assert await reg.resolve("a") == "a1"
            assert await reg.resolve("b") == "b1"
        for scope_number in range(2, 5):
            async with reg.scope():
                values = await asyncio.gather(*(reg.resolve("a") for _ in range(waiters)))
                assert set(values) == {f"a{scope_number}"}
                assert await reg.resolve("b") == f"b{scope_number}"
                assert await reg.resolve("b") == f"b{scope_number}"  # the second read hung
                assert await reg.resolve("a") == f"a{scope_number}"
    assert sorted(made) == ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"]


def _register_static_cycle(reg: Registry) -> None:
    async def slow() -> str:
        await asyncio.sleep(0.01)
        return "slow"

    def a(slow: str, b: str) -> str:
        return f"a({b})"

    def b(slow: str, a: str) -> str:
        return f"b({a})"

    reg.register("slow", slow)
    reg.register("a", a, scope=Scope.SINGLETON)
    reg.register("b", b, scope=Scope.SINGLETON)


async def test_a_cycle_across_tasks_fails_promptly(reg: Registry) -> None:
    """Issue 6 item 6: gather(resolve('a'), resolve('b')) of a static cycle raises CycleError."""
    _register_static_cycle(reg)
    async with asyncio.timeout(PROMPT), reg.lifespan(validate=False):
        results = await asyncio.gather(reg.resolve("a"), reg.resolve("b"), return_exceptions=True)
    assert all(isinstance(r, CycleError) for r in results), results


async def test_ten_thousand_tasks_in_a_cycle_all_fail_promptly(reg: Registry) -> None:
    """Issue 6 item 6: 10,000 tasks resolving both ends of a cycle all get CycleError."""
    _register_static_cycle(reg)
    async with asyncio.timeout(PROMPT * 2), reg.lifespan(validate=False):
        results = await asyncio.gather(
            *(reg.resolve("ab"[i % 2]) for i in range(10_000)), return_exceptions=True
        )
    assert [r for r in results if not isinstance(r, CycleError)] == []


async def test_a_cycle_through_a_provider_body_names_every_step(reg: Registry) -> None:
    """Issue 6 item 6: a body resolving 'b' whose provider takes 'a': cycle a -> b -> a."""

    async def a() -> str:
        b: str = await reg.resolve("b")
        return f"a({b})"

    def b(a: str) -> str:
        return f"b({a})"

    reg.register("a", a, scope=Scope.SINGLETON)
    reg.register("b", b, scope=Scope.SINGLETON)
    async with asyncio.timeout(PROMPT), reg.lifespan():
        with pytest.raises(CycleError) as info:
            await reg.resolve("a")
    assert info.value.cycle == ("a", "b", "a")


def _run_in_threads(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in ``count`` threads started together; each result or its exception."""
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=LIMIT)
            results[index] = work()
        except BaseException as error:  # the test inspects every outcome
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + LIMIT * 2
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    hung = [thread.name for thread in threads if thread.is_alive()]
    assert hung == [], f"threads never returned: {hung}"
    return results


def _loops_resolving_one_singleton(reg: Registry) -> tuple[list[Any], list[int]]:
    """8 threads, each `asyncio.run(reg.resolve('db'))`, inside one open sync lifespan.

    Each thread's result is the value, or the exception it raised; one that took longer
    than PROMPT counts as hung (a waiter that swallows its timeout's cancel and retries
    would otherwise return late, as if all was well).
    """
    calls: list[int] = []

    async def db() -> object:
        calls.append(1)
        await asyncio.sleep(0.05)
        return object()

    async def bounded() -> object:
        started = time.monotonic()
        async with asyncio.timeout(PROMPT):
            value = await reg.resolve("db")
        if time.monotonic() - started >= PROMPT:
            raise TimeoutError(f"resolve('db') took {time.monotonic() - started:.1f} s")
        return value

    reg.register("db", db, scope=Scope.SINGLETON)
    with tiny_switch_interval(), reg.lifespan():
        results = _run_in_threads(8, lambda: asyncio.run(bounded()))
    return results, calls


def test_event_loops_in_threads_never_hang(reg: Registry) -> None:
    """Issue 6 item 7: 8 threads with their own loops: one shared value or AsyncDIErrors."""
    results, calls = _loops_resolving_one_singleton(reg)
    failures = [r for r in results if isinstance(r, BaseException)]
    values = [r for r in results if not isinstance(r, BaseException)]
    assert [f for f in failures if not isinstance(f, AsyncDIError)] == [], failures
    if values:
        assert len({id(v) for v in values}) == 1
        assert len(calls) == 1


def test_event_loops_in_threads_share_one_singleton(reg: Registry) -> None:
    """Issue 6 item 7: 8 threads with their own loops all get the one value, made once."""
    results, calls = _loops_resolving_one_singleton(reg)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert len({id(r) for r in results}) == 1
    assert len(calls) == 1


def test_get_from_sixteen_threads_makes_one_singleton() -> None:
    """Issue 6 item 8: `get` from 16 threads at a 1 us switch interval: made once, one object."""
    with tiny_switch_interval():
        for _round in range(400):  # the race window is a few bytecodes wide
            reg = Registry("threads")
            calls: list[int] = []

            def config(calls: list[int] = calls) -> object:
                calls.append(1)
                return object()

            reg.register("config", config, scope=Scope.SINGLETON)
            results = _run_in_threads(16, partial(reg.get, "config"))
            assert [r for r in results if isinstance(r, BaseException)] == []
            assert len({id(r) for r in results}) == 1
            assert len(calls) == 1


class Interrupt(BaseException):
    """Stands in for KeyboardInterrupt: a BaseException that is not a cancellation.

    (A real KeyboardInterrupt raised in a task also escapes the event loop itself.)
    """


@pytest.mark.parametrize("waiters", [100, 10_000])
async def test_a_base_exception_reaches_every_waiter_once(reg: Registry, waiters: int) -> None:
    """Issue 6 item 18: an interrupted provider is called once; every waiter gets the error."""
    calls: list[int] = []

    async def db() -> object:
        calls.append(1)
        await asyncio.sleep(0.01)
        raise Interrupt("stop")

    reg.register("db", db, scope=Scope.SINGLETON)
    async with asyncio.timeout(LIMIT), reg.lifespan():
        tasks = [asyncio.create_task(reg.resolve("db")) for _ in range(waiters)]
        _done, pending = await asyncio.wait(tasks, timeout=PROMPT)
        for task in pending:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert len(pending) == 0, f"{len(pending)} waiters still waiting after {PROMPT} s"
    assert len(calls) == 1
    assert [o for o in outcomes if not isinstance(o, Interrupt)] == []
