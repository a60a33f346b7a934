"""Registry: registering providers of every kind, filling parameters, get and resolve."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import pytest

import asyncdi
from asyncdi import (
    AsyncProviderError,
    Dependency,
    DuplicateProviderError,
    InvalidProviderError,
    MissingProviderError,
    Registry,
    Scope,
)


async def test_every_provider_kind_makes_a_value(reg: Registry) -> None:
    """Sync, async, generator, async generator functions and classes all provide values."""

    class Repo:
        def __init__(self, db: str) -> None:
            self.db = db

    def sync() -> str:
        return "sync"

    async def async_() -> str:
        return "async"

    def gen() -> Iterator[str]:
        yield "gen"

    async def agen() -> AsyncIterator[str]:
        yield "agen"

    reg.register("sync", sync)
    reg.register("async_", async_)
    reg.register("gen", gen)
    reg.register("agen", agen)
    reg.register("db", lambda: "the-db")
    reg.register("repo", Repo)
    assert await reg.resolve("sync") == "sync"
    assert await reg.resolve("async_") == "async"
    assert await reg.resolve("gen") == "gen"
    assert await reg.resolve("agen") == "agen"
    repo = await reg.resolve("repo")
    assert isinstance(repo, Repo)
    assert repo.db == "the-db"


async def test_parameters_are_filled_by_name(reg: Registry) -> None:
    """A provider's parameters are resolved by name, positional and keyword-only alike."""
    reg.register("a", lambda: 1)
    reg.register("b", lambda: 2)

    def total(a: int, /, b: int, *, c: int = 10) -> int:
        return a + b + c

    reg.register("total", total)
    assert await reg.resolve("total") == 13  # c has no provider: its default is used
    reg.register("c", lambda: 100)
    assert await reg.resolve("total") == 103


async def test_dependency_default_renames_a_parameter(reg: Registry) -> None:
    """A parameter defaulting to Dependency('other') is filled from 'other'."""
    reg.register("primary_db", lambda: "primary")

    def repo(database: str = Dependency("primary_db")) -> str:  # type: ignore[assignment]
        return f"repo on {database}"

    def annotated(database: Annotated[str, "unused"] = Dependency("primary_db")) -> str:  # type: ignore[assignment]
        return database

    reg.register("repo", repo)
    reg.register("annotated", annotated)
    assert await reg.resolve("repo") == "repo on primary"
    assert await reg.resolve("annotated") == "primary"


async def test_ready_value_is_registered_as_is(reg: Registry) -> None:
    """register(name, value=...) provides that very object."""
    marker = object()
    reg.register("marker", value=marker)
    assert await reg.resolve("marker") is marker
    assert reg.get("marker") is marker


def test_duplicate_registration_is_an_error_unless_replacing(reg: Registry) -> None:
    """Registering a taken name fails with both providers named; replace=True replaces."""

    def first() -> int:
        return 1

    def second() -> int:
        return 2

    reg.register("n", first)
    with pytest.raises(DuplicateProviderError) as info:
        reg.register("n", second)
    message = str(info.value)
    assert "first" in message
    assert "second" in message
    assert "replace=True" in message
    assert isinstance(info.value, ValueError)
    reg.register("n", second, replace=True)
    assert reg.get("n") == 2


def test_invalid_providers_are_refused(reg: Registry) -> None:
    """Non-callables, bad names, bad scopes and close=True on generators are clear errors."""
    with pytest.raises(InvalidProviderError, match="not callable"):
        reg.register("x", 42)  # type: ignore[arg-type]
    with pytest.raises(InvalidProviderError, match="identifier"):
        reg.register("not a name", lambda: 1)
    with pytest.raises(InvalidProviderError, match="Scope"):
        reg.register("x", lambda: 1, scope="singleton")  # type: ignore[arg-type]

    def gen() -> Iterator[int]:
        yield 1

    with pytest.raises(InvalidProviderError, match="close=True"):
        reg.register("g", gen, close=True)
    with pytest.raises(TypeError, match="not both"):
        reg.register("x", lambda: 1, value=1)


def test_get_is_the_sync_path(reg: Registry) -> None:
    """get() makes sync values; on an async provider it names `await registry.resolve`."""
    reg.register("config", lambda: {"debug": True}, scope=Scope.SINGLETON)

    async def make_db() -> str:
        return "db"

    reg.register("db", make_db)
    reg.register("repo", lambda db: db)
    assert reg.get("config") == {"debug": True}
    with pytest.raises(AsyncProviderError) as info:
        reg.get("db")
    assert "await registry.resolve('db')" in str(info.value)
    with pytest.raises(AsyncProviderError, match="asked for by 'repo'"):
        reg.get("repo")


def test_get_refuses_a_sync_function_returning_a_coroutine(reg: Registry) -> None:
    """A sync provider that returns a coroutine cannot be used from get(); no warning leaks."""

    async def inner() -> int:
        return 1

    reg.register("sneaky", lambda: inner())  # noqa: PLW0108 - the lambda is the point
    with pytest.raises(AsyncProviderError, match="returned a coroutine"):
        reg.get("sneaky")


async def test_resolve_awaits_a_sync_function_returning_a_coroutine(reg: Registry) -> None:
    """resolve() awaits a coroutine returned by a sync provider (e.g. a lambda)."""

    async def inner() -> int:
        return 7

    reg.register("lazy", lambda: inner())  # noqa: PLW0108 - the lambda is the point
    assert await reg.resolve("lazy") == 7


async def test_singleton_is_made_once_per_registry(reg: Registry) -> None:
    """A SINGLETON is made once and shared; INSTANCE values are made on every resolve."""
    reg.register("single", object, scope=Scope.SINGLETON)
    reg.register("each", object)
    assert await reg.resolve("single") is await reg.resolve("single")
    assert reg.get("single") is await reg.resolve("single")
    assert await reg.resolve("each") is not await reg.resolve("each")


def test_generator_that_does_not_yield_is_an_error(reg: Registry) -> None:
    """A generator provider that returns without yielding gets a clear error."""

    def empty() -> Iterator[int]:
        return
        yield  # pragma: no cover

    reg.register("empty", empty)
    with pytest.raises(RuntimeError, match="without yielding"):
        reg.get("empty")


async def test_provides_keeps_the_function_callable(reg: Registry) -> None:
    """@provides registers and returns something that behaves exactly like the function."""

    @reg.provides("greeting")
    async def make_greeting(name: str = "world") -> str:
        """Say hello."""
        return f"hello {name}"

    @reg.provides
    def answer() -> int:
        return 42

    assert await make_greeting() == "hello world"
    assert await make_greeting("you") == "hello you"
    assert make_greeting.__name__ == "make_greeting"
    assert make_greeting.__doc__ == "Say hello."
    assert inspect.signature(make_greeting) == inspect.signature(make_greeting.__wrapped__)
    assert inspect.iscoroutinefunction(make_greeting)
    assert answer() == 42
    assert await reg.resolve("greeting") == "hello world"
    assert await reg.resolve("answer") == 42


async def test_provides_on_a_class_returns_the_class(reg: Registry) -> None:
    """@provides on a class leaves the class itself in place."""

    @reg.provides("thing", scope=Scope.SINGLETON)
    class Thing:
        pass

    assert isinstance(Thing, type)
    assert isinstance(await reg.resolve("thing"), Thing)


async def test_module_level_provides_uses_the_given_registry(reg: Registry) -> None:
    """asyncdi.provides(registry=...) registers there instead of the global registry."""

    @asyncdi.provides("local", registry=reg)
    def make_local() -> str:
        return "local"

    assert "local" in reg
    assert "local" not in asyncdi.registry
    assert reg.names == ("local",)


async def test_missing_name_via_resolve(reg: Registry) -> None:
    """Resolving an unknown name raises MissingProviderError (a LookupError)."""
    with pytest.raises(LookupError):
        await reg.resolve("nothing")
    with pytest.raises(MissingProviderError):
        reg.get("nothing")


def test_unregister_removes_a_name(reg: Registry) -> None:
    """unregister() removes a provider; removing an unknown name is an error."""
    reg.register("x", lambda: 1)
    reg.unregister("x")
    assert "x" not in reg
    with pytest.raises(MissingProviderError):
        reg.unregister("x")


def test_registry_repr_tells_state(reg: Registry) -> None:
    """A registry's repr names it and tells providers, lifespan state and owned values."""
    reg.register("x", lambda: 1)
    assert repr(reg) == "<Registry 'test': 1 providers, no lifespan, 0 values owned>"
