"""Overrides: swap values or providers for the current context only."""

from __future__ import annotations

import asyncio

import pytest

from asyncdi import AsyncService, Dependency, Registry, Scope


async def test_override_replaces_a_value_in_its_block(reg: Registry) -> None:
    """Inside `with registry.override(db=fake)` resolving 'db' gives fake; outside, the real one."""
    reg.register("db", lambda: "real", scope=Scope.SINGLETON)
    with reg.override(db="fake"):
        assert await reg.resolve("db") == "fake"
        assert reg.get("db") == "fake"
    assert await reg.resolve("db") == "real"


async def test_overrides_nest(reg: Registry) -> None:
    """An inner override wins inside it; the outer one is back after it."""
    reg.register("db", lambda: "real")
    reg.register("cache", lambda: "real cache")
    with reg.override(db="outer", cache="outer cache"):
        with reg.override({"db": "inner"}):
            assert await reg.resolve("db") == "inner"
            assert await reg.resolve("cache") == "outer cache"
        assert await reg.resolve("db") == "outer"


async def test_dependants_are_rebuilt_under_the_override(reg: Registry) -> None:
    """A singleton depending on an overridden name is made anew inside the override only."""
    reg.register("db", lambda: "real db", scope=Scope.SINGLETON)
    reg.register("repo", lambda db: f"repo on {db}", scope=Scope.SINGLETON)
    assert await reg.resolve("repo") == "repo on real db"
    with reg.override(db="fake db"):
        assert await reg.resolve("repo") == "repo on fake db"
    assert await reg.resolve("repo") == "repo on real db"


async def test_provider_override(reg: Registry) -> None:
    """override(providers=...) swaps a provider, keeping the original scope."""
    calls = 0

    def fake() -> str:
        nonlocal calls
        calls += 1
        return "fake"

    reg.register("db", lambda: "real", scope=Scope.SINGLETON)
    with reg.override(providers={"db": fake}):
        assert await reg.resolve("db") == "fake"
        assert await reg.resolve("db") == "fake"
    assert calls == 1
    assert await reg.resolve("db") == "real"


async def test_concurrent_tasks_never_see_each_others_overrides(reg: Registry) -> None:
    """50 concurrent requests, each overriding 'user', only ever see their own."""
    reg.register("user", lambda: "anonymous", scope=Scope.REQUEST)
    reg.register("greeting", lambda user: f"hello {user}", scope=Scope.REQUEST)

    async def request(number: int) -> list[str]:
        seen = []
        with reg.override(user=f"user{number}"):
            async with reg.scope():
                for _ in range(3):
                    await asyncio.sleep(0)
                    seen.append(await reg.resolve("greeting"))
        return seen

    async def plain() -> list[str]:
        async with reg.scope():
            await asyncio.sleep(0)
            return [await reg.resolve("greeting")]

    results = await asyncio.gather(*(request(n) for n in range(50)), plain())
    for number, seen in enumerate(results[:50]):
        assert seen == [f"hello user{number}"] * 3
    assert results[50] == ["hello anonymous"]


async def test_values_already_cached_keep_their_value(reg: Registry) -> None:
    """An instance that already resolved 'db' keeps it when an override is entered later."""
    reg.register("db", lambda: "real")

    class Svc(AsyncService, registry=reg):
        db = Dependency[str]()

    early = Svc()
    assert await early.db == "real"
    with reg.override(db="fake"):
        assert await early.db == "real"
        assert await Svc().db == "fake"


async def test_override_is_reset_even_when_the_block_raises(reg: Registry) -> None:
    """The override's token is reset in `finally`: an exception does not leak it."""
    reg.register("db", lambda: "real")
    try:
        with reg.override(db="fake"):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert await reg.resolve("db") == "real"


async def test_override_repr(reg: Registry) -> None:
    """An override's repr tells whether it is active and what it swaps."""
    reg.register("db", value=0)
    reg.register("cache", value=0)
    override = reg.override(db=1, cache=2)
    assert repr(override) == "<Overrides new in its context: cache, db>"
    with override:
        assert repr(override) == "<Overrides active in its context: cache, db>"
    assert repr(override) == "<Overrides exited in its context: cache, db>"


async def test_first_read_caches_never_outlive_an_override(reg: Registry) -> None:
    """A new instance inside an override sees it, even after other instances were cached."""
    reg.register("db", lambda: "real", scope=Scope.SINGLETON)
    reg.register("repo", lambda db: f"repo on {db}")

    class Svc(AsyncService, registry=reg):
        db = Dependency[str]()
        repo = Dependency[str]()

    for _ in range(3):  # warm every cache: singleton future, provider, arguments
        svc = Svc()
        assert (await svc.db, await svc.repo) == ("real", "repo on real")
    with reg.override(db="fake"):
        svc = Svc()
        assert (await svc.db, await svc.repo) == ("fake", "repo on fake")
    svc = Svc()
    assert (await svc.db, await svc.repo) == ("real", "repo on real")


async def test_first_read_caches_follow_registration_changes(reg: Registry) -> None:
    """Replacing a provider reaches new instances at once, whatever was cached."""
    reg.register("db", lambda: "old", scope=Scope.SINGLETON)

    class Svc(AsyncService, registry=reg):
        db = Dependency[str]()

    assert await Svc().db == "old"
    assert await Svc().db == "old"
    reg.register("db", lambda: "new", scope=Scope.SINGLETON, replace=True)
    assert await Svc().db == "new"


async def test_override_as_async_context_manager(reg: Registry) -> None:
    """`async with registry.override(...)` works like `with`, and is entered once."""
    reg.register("db", lambda: "real")
    override = reg.override(db="fake")
    async with override:
        assert await reg.resolve("db") == "fake"
    assert await reg.resolve("db") == "real"
    with pytest.raises(RuntimeError, match="entered once"), override:
        pass  # pragma: no cover


async def test_override_left_in_another_context_still_ends(reg: Registry) -> None:
    """An override exited from a different context than it was entered in still ends."""
    import contextvars

    reg.register("db", lambda: "real")
    override = reg.override(db="fake")
    override.__enter__()
    contextvars.copy_context().run(override.__exit__, None, None, None)
    assert reg._active_overrides == 0
