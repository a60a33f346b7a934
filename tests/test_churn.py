"""Issue 6, churn: many request scopes with faults and cancels lose nothing and count right.

100,000 request scopes (``ASYNCDI_CHURN`` sets the count), at most 500 in flight, with
seeded random failures in bodies, providers and teardowns, contention inside a scope, and
cancellations (some repeated) landing anywhere, teardowns included. At the end: no
resource open, none released twice, every cancel seen as CancelledError by the task it
was meant for (and by no other), and ``stats()`` exact throughout.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

from asyncdi import Registry, Scope

CHURN = int(os.environ.get("ASYNCDI_CHURN", "100000"))
IN_FLIGHT = 500
SEED = 6
LIMIT = 120.0  # seconds for the whole churn: a hang fails it instead of stalling the suite
DRAIN = 10.0  # seconds the last requests may take once every request has started


class BodyError(Exception):
    """A request body failed."""


class ProviderError(Exception):
    """A provider failed before acquiring its resource."""


class TeardownError(Exception):
    """A teardown failed after releasing its resource."""


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """What one request will do, drawn from the seeded generator."""

    fail_conn: bool
    fail_tx: bool
    fail_conn_teardown: bool
    fail_tx_teardown: bool
    slow_teardown: bool
    fail_body: bool
    contend: bool
    steps: int
    cancel_after: int | None  # loop iterations after the start, or no cancel
    cancel_again: bool

    @classmethod
    def draw(cls, rng: random.Random) -> Plan:
        cancel = rng.random() < 0.05
        return cls(
            fail_conn=rng.random() < 0.02,
            fail_tx=rng.random() < 0.02,
            fail_conn_teardown=rng.random() < 0.02,
            fail_tx_teardown=rng.random() < 0.02,
            slow_teardown=rng.random() < 0.3,
            fail_body=rng.random() < 0.05,
            contend=rng.random() < 0.1,
            steps=rng.randrange(4),
            cancel_after=rng.randrange(12) if cancel else None,
            cancel_again=cancel and rng.random() < 0.5,
        )


PLAN: ContextVar[Plan] = ContextVar("PLAN")


class Ledger:
    """Resources acquired and released, by token; counts double releases."""

    def __init__(self) -> None:
        self.open: set[int] = set()
        self.acquired = 0
        self.released = 0
        self.released_twice = 0

    def acquire(self) -> int:
        self.acquired += 1
        token = self.acquired
        self.open.add(token)
        return token

    def release(self, token: int) -> None:
        if token in self.open:
            self.open.remove(token)
            self.released += 1
        else:
            self.released_twice += 1


def _register(reg: Registry, ledger: Ledger) -> None:
    async def pool() -> str:
        return "pool"

    async def release(token: int, slow: bool) -> None:
        if slow:
            await asyncio.sleep(0)
        ledger.release(token)

    async def conn(pool: str) -> AsyncIterator[int]:
        plan = PLAN.get()
        if plan.fail_conn:
            raise ProviderError
        await asyncio.sleep(0)
        token = ledger.acquire()
        try:
            yield token
        finally:
            await release(token, plan.slow_teardown)
        if plan.fail_conn_teardown:
            raise TeardownError

    async def tx(conn: int) -> AsyncIterator[int]:
        plan = PLAN.get()
        if plan.fail_tx:
            raise ProviderError
        token = ledger.acquire()
        try:
            yield token
        finally:
            await release(token, plan.slow_teardown)
        if plan.fail_tx_teardown:
            raise TeardownError

    reg.register("pool", pool, scope=Scope.SINGLETON)
    reg.register("conn", conn, scope=Scope.REQUEST)
    reg.register("tx", tx, scope=Scope.REQUEST)


async def _request(reg: Registry, plan: Plan) -> None:
    PLAN.set(plan)
    async with reg.scope():
        if plan.contend:  # a task group: no sibling is left running when one fails
            async with asyncio.TaskGroup() as group:
                first = group.create_task(reg.resolve("tx"))
                second = group.create_task(reg.resolve("tx"))
            assert first.result() == second.result()
        else:
            await reg.resolve("tx")
        await reg.resolve("conn")
        for _ in range(plan.steps):
            await asyncio.sleep(0)
        if plan.fail_body:
            raise BodyError


def _expected(error: BaseException) -> bool:
    """Whether ``error`` is one of the faults the churn injects (or a group of them)."""
    if isinstance(error, BaseExceptionGroup):
        return all(_expected(inner) for inner in error.exceptions)
    return isinstance(error, (BodyError, ProviderError, TeardownError))


class Outcomes:
    """How the requests ended, checked against what each was meant to see."""

    def __init__(self) -> None:
        self.cancel_requested: set[asyncio.Task[None]] = set()
        self.cancelled = 0
        self.swallowed_cancels = 0
        self.stray_cancels = 0
        self.unexpected: list[str] = []

    def cancel(self, task: asyncio.Task[None]) -> None:
        if task.cancel():
            self.cancel_requested.add(task)

    def finished(self, task: asyncio.Task[None]) -> None:
        meant = task in self.cancel_requested
        self.cancel_requested.discard(task)
        if task.cancelled():
            self.cancelled += 1
            if not meant:
                self.stray_cancels += 1
            return
        error = task.exception()
        if meant and not isinstance(error, BaseExceptionGroup):
            # asyncio's own rule, not asyncdi's: a TaskGroup whose children failed
            # raises their group even when its task was cancelled meanwhile.
            self.swallowed_cancels += 1
        if error is not None and not _expected(error) and len(self.unexpected) < 5:
            self.unexpected.append(repr(error))


def _after(loop: asyncio.AbstractEventLoop, hops: int, callback: Any, *args: Any) -> None:
    """Call ``callback(*args)`` after ``hops`` iterations of the event loop."""
    if hops <= 0:
        callback(*args)
    else:
        loop.call_soon(_after, loop, hops - 1, callback, *args)


def _stats_problems(reg: Registry, *, final: bool) -> list[str]:
    """Where ``stats()`` of the request values does not add up right now."""
    problems = []
    for name in ("conn", "tx"):
        stats = reg.stats()[name]
        exact = stats.created - stats.released == stats.live
        bounded = 0 <= stats.live <= (0 if final else IN_FLIGHT)
        if not (exact and bounded):
            problems.append(repr(stats))
    return problems


async def test_churn_of_request_scopes_loses_nothing(reg: Registry) -> None:
    """Issue 6 churn: 100,000 faulty, cancelled requests: nothing open, counts exact."""
    ledger = Ledger()
    outcomes = Outcomes()
    _register(reg, ledger)
    rng = random.Random(SEED)
    loop = asyncio.get_running_loop()
    in_flight = asyncio.Semaphore(IN_FLIGHT)
    live: set[asyncio.Task[None]] = set()
    stats_problems: list[str] = []

    def finished(task: asyncio.Task[None]) -> None:
        live.discard(task)
        in_flight.release()
        outcomes.finished(task)

    started = time.monotonic()
    async with reg.lifespan():
        try:
            async with asyncio.timeout(LIMIT):
                for number in range(CHURN):
                    await in_flight.acquire()
                    plan = Plan.draw(rng)
                    task = asyncio.create_task(_request(reg, plan))
                    live.add(task)
                    task.add_done_callback(finished)
                    if plan.cancel_after is not None:
                        _after(loop, plan.cancel_after, outcomes.cancel, task)
                        if plan.cancel_again:
                            _after(loop, plan.cancel_after + 2, outcomes.cancel, task)
                    if number % 1000 == 999 and len(stats_problems) < 3:
                        stats_problems += _stats_problems(reg, final=False)
            if live:
                _done, hung = await asyncio.wait(set(live), timeout=DRAIN)
                assert not hung, f"{len(hung)} requests never finished"
        finally:
            elapsed = time.monotonic() - started
            for task in live:  # only after a failure: clean up before the lifespan ends
                task.cancel()
            if live:
                await asyncio.wait(set(live), timeout=DRAIN)
    print(f"churn: {CHURN} requests in {elapsed:.1f} s")  # shown with -s
    stats_problems += _stats_problems(reg, final=True)
    found = {
        "resources open": len(ledger.open),
        "released twice": ledger.released_twice,
        "cancels swallowed": outcomes.swallowed_cancels,
        "cancels meant for another task": outcomes.stray_cancels,
        "unexpected errors": outcomes.unexpected,
        "stats() not adding up": stats_problems,
    }
    assert found == {
        "resources open": 0,
        "released twice": 0,
        "cancels swallowed": 0,
        "cancels meant for another task": 0,
        "unexpected errors": [],
        "stats() not adding up": [],
    }
    assert ledger.acquired == ledger.released
    assert outcomes.cancelled > 0  # the cancels did land
