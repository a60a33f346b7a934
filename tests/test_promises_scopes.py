"""Issue 6, scopes: captive service attributes, exact stats, nothing lost or handed out released.

Regression tests written against the public API only, so they run unchanged against a
rewritten core. Every await that could hang runs under ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from functools import partial

import pytest

from asyncdi import (
    AsyncReleaseError,
    AsyncService,
    CaptiveDependencyError,
    Dependency,
    Registry,
    Scope,
    ScopeClosedError,
    ValidationError,
)
from tests.fakes import Journal, async_gen

LIMIT = 10.0  # seconds any one test may wait before a hang counts as a failure

CAPTIVE_PATH = "'repo' (SINGLETON) -> Repo.tx -> 'tx' (REQUEST)"


def _register_captive_repo(reg: Registry) -> type[AsyncService]:
    numbers = itertools.count(1)

    async def tx() -> AsyncIterator[str]:
        yield f"tx{next(numbers)}"

    class Repo(AsyncService, registry=reg):
        tx = Dependency[str]()

    reg.register("tx", tx, scope=Scope.REQUEST)
    reg.register("repo", Repo, scope=Scope.SINGLETON)
    return Repo


def test_validate_finds_a_captive_through_a_service_attribute(reg: Registry) -> None:
    """Issue 6 item 1: validate() reports a SINGLETON service holding a REQUEST attribute."""
    _register_captive_repo(reg)
    with pytest.raises(ValidationError) as info:
        reg.validate()
    captives = [e for e in info.value.exceptions if isinstance(e, CaptiveDependencyError)]
    assert len(captives) == 1, info.value.exceptions
    assert CAPTIVE_PATH in str(captives[0])


async def test_resolution_refuses_a_captive_through_a_service_attribute(reg: Registry) -> None:
    """Issue 6 item 1: resolving a SINGLETON service whose attribute is REQUEST raises."""
    _register_captive_repo(reg)
    async with asyncio.timeout(LIMIT), reg.lifespan(validate=False):
        for _request in range(2):
            async with reg.scope():
                with pytest.raises(CaptiveDependencyError) as info:
                    repo = await reg.resolve("repo")
                    await repo.tx
                assert CAPTIVE_PATH in str(info.value)


async def test_no_request_value_reaches_a_later_request_through_a_singleton(
    reg: Registry,
) -> None:
    """Issue 6 item 1: request 2 never receives request 1's value through a singleton service."""
    _register_captive_repo(reg)
    seen: list[object] = []
    async with asyncio.timeout(LIMIT), reg.lifespan(validate=False):
        for _request in range(2):
            async with reg.scope():
                try:
                    repo = await reg.resolve("repo")
                    seen.append(await repo.tx)
                except CaptiveDependencyError:
                    seen.append(CaptiveDependencyError)
    assert seen != ["tx1", "tx1"]
    assert seen == [CaptiveDependencyError, CaptiveDependencyError]


@pytest.mark.parametrize("count", [100, 10_000])
async def test_stats_are_exact_under_concurrent_scopes(reg: Registry, count: int) -> None:
    """Issue 6 item 5: N concurrent scopes making an async-generator value: stats add up."""
    numbers = itertools.count()
    all_made = asyncio.Event()
    made = 0

    async def session() -> AsyncIterator[int]:
        await asyncio.sleep(0)
        yield next(numbers)
        await asyncio.sleep(0)

    async def request() -> None:
        nonlocal made
        async with reg.scope():
            await reg.resolve("session")
            made += 1
            if made == count:
                all_made.set()
            await all_made.wait()

    reg.register("session", session, scope=Scope.REQUEST)
    async with asyncio.timeout(LIMIT * 3), reg.lifespan():
        tasks = [asyncio.create_task(request()) for _ in range(count)]
        await all_made.wait()
        during = reg.stats()["session"]
        await asyncio.gather(*tasks)
        after = reg.stats()["session"]
    assert (during.created, during.released, during.live) == (count, 0, count)
    assert (after.created, after.released, after.live) == (count, count, 0)


async def test_a_value_a_sync_scope_exit_refuses_is_released_at_lifespan_end(
    reg: Registry,
) -> None:
    """Issue 6 item 14: `with reg.scope()` refuses an awaited release; the lifespan does it."""
    journal = Journal()
    reg.register("conn", partial(async_gen, "conn", journal), scope=Scope.REQUEST)
    async with asyncio.timeout(LIMIT):
        async with reg.lifespan():
            with pytest.raises(AsyncReleaseError), reg.scope():
                assert await reg.resolve("conn") == "conn"
            assert journal.events == ["open conn"]
        assert journal.events == ["open conn", "close conn"]


async def test_a_value_a_sync_service_exit_refuses_is_released_at_lifespan_end(
    reg: Registry,
) -> None:
    """Issue 6 item 14: `with Service()` refuses an awaited release; the lifespan does it."""
    journal = Journal()
    reg.register("conn", partial(async_gen, "conn", journal))

    class Svc(AsyncService, registry=reg):
        conn = Dependency[str]()

    async with asyncio.timeout(LIMIT):
        async with reg.lifespan():
            with pytest.raises(AsyncReleaseError), Svc() as svc:
                assert await svc.conn == "conn"
            assert journal.events == ["open conn"]
        assert journal.events == ["open conn", "close conn"]


async def test_a_cached_request_value_is_not_handed_out_after_its_scope(
    reg: Registry,
) -> None:
    """Issue 6 item 16: after its scope ends, `await instance.attr` raises ScopeClosedError."""
    journal = Journal()
    reg.register("tx", partial(async_gen, "tx", journal), scope=Scope.REQUEST)

    class Handler(AsyncService, registry=reg):
        tx = Dependency[str]()

    async with asyncio.timeout(LIMIT), reg.lifespan():
        async with reg.scope():
            handler = Handler()
            assert await handler.tx == "tx"
            assert await handler.tx == "tx"  # cached from here on
        assert journal.events == ["open tx", "close tx"]
        with pytest.raises(ScopeClosedError):
            await handler.tx


async def test_a_request_value_read_in_an_inner_scope_lives_as_long_as_its_maker(
    reg: Registry,
) -> None:
    """Read through a service in a nested scope, an outer scope's value stays readable
    until that outer scope ends; the inner scope's own value ends with the inner one."""
    journal = Journal()
    reg.register("tx", partial(async_gen, "tx", journal), scope=Scope.REQUEST)
    reg.register("span", partial(async_gen, "span", journal), scope=Scope.REQUEST)

    class Handler(AsyncService, registry=reg):
        tx = Dependency[str]()
        span = Dependency[str]()

    async with asyncio.timeout(LIMIT), reg.lifespan():
        async with reg.scope():
            assert await reg.resolve("tx") == "tx"  # made by the outer scope
            async with reg.scope():
                handler = Handler()
                assert await handler.tx == "tx"
                assert await handler.span == "span"  # made by the inner scope
            assert journal.events == ["open tx", "open span", "close span"]
            assert await handler.tx == "tx"  # the outer scope is still open
            with pytest.raises(ScopeClosedError):
                await handler.span
        with pytest.raises(ScopeClosedError):
            await handler.tx
        assert journal.events == ["open tx", "open span", "close span", "close tx"]


async def test_a_background_task_cannot_read_a_released_request_value(reg: Registry) -> None:
    """Issue 6 item 16: a task outliving its request gets ScopeClosedError, not the value."""
    reg.register("tx", partial(async_gen, "tx", Journal()), scope=Scope.REQUEST)

    class Handler(AsyncService, registry=reg):
        tx = Dependency[str]()

    scope_over = asyncio.Event()

    async def background(handler: Handler) -> object:
        first = await handler.tx
        await scope_over.wait()
        try:
            return await handler.tx
        except ScopeClosedError as error:
            return (first, error)

    async with asyncio.timeout(LIMIT), reg.lifespan():
        async with reg.scope():
            task = asyncio.create_task(background(Handler()))
            await asyncio.sleep(0.01)
        scope_over.set()
        outcome = await task
    assert isinstance(outcome, tuple)
    assert outcome[0] == "tx"
    assert isinstance(outcome[1], ScopeClosedError)
