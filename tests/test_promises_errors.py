"""Issue 6, errors and provider kinds: bad input gets AsyncDIErrors; values are what they are.

Regression tests written against the public API only, so they run unchanged against a
rewritten core. Every await that could hang runs under ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

import pytest

from asyncdi import (
    AsyncDIError,
    AsyncService,
    Dependency,
    InvalidNameError,
    ProviderProtocolError,
    Registry,
    ReuseError,
    Scope,
    resource,
)

LIMIT = 5.0  # seconds any one test may wait before a hang counts as a failure

T = TypeVar("T")


async def test_a_function_returning_a_generator_resolves_to_that_generator(
    reg: Registry,
) -> None:
    """Issue 6 item 10: a lambda returning a generator object: the value is that object."""
    reg.register("sq", lambda: (i * i for i in range(5)))
    async with asyncio.timeout(LIMIT), reg.lifespan():
        value = await reg.resolve("sq")
        assert isinstance(value, types.GeneratorType)
        assert list(value) == [0, 1, 4, 9, 16]
        again = reg.get("sq")
        assert isinstance(again, types.GeneratorType)
        assert list(again) == [0, 1, 4, 9, 16]


async def test_a_function_returning_an_async_generator_resolves_to_it(reg: Registry) -> None:
    """Issue 6 item 10: a function returning an async generator object returns it as is."""

    async def numbers() -> AsyncIterator[int]:
        for i in range(3):
            yield i

    def make() -> AsyncIterator[int]:
        return numbers()

    reg.register("numbers", make)
    async with asyncio.timeout(LIMIT), reg.lifespan():
        value = await reg.resolve("numbers")
        assert isinstance(value, types.AsyncGeneratorType)
        assert [i async for i in value] == [0, 1, 2]


def _bad_names(reg: Registry) -> list[tuple[str, Callable[[], Any], str]]:
    """(what, the call, the text its error must show) for each bad name."""

    async def resolve(name: Any) -> Any:
        return await reg.resolve(name)

    def run(call: Callable[[], Awaitable[Any]]) -> Callable[[], Any]:
        async def bounded() -> Any:
            async with asyncio.timeout(LIMIT):
                return await call()

        return lambda: asyncio.run(bounded())

    def one() -> int:
        return 1

    return [
        ("resolve(None)", run(lambda: resolve(None)), "None"),
        ("resolve(b'db')", run(lambda: resolve(b"db")), "b'db'"),
        (
            "get(None)",
            lambda: reg.get(None),  # type: ignore[arg-type]
            "None",
        ),
        ("@provides('')", lambda: reg.provides("")(one), "''"),
        ("register('')", lambda: reg.register("", one), "''"),
    ]


BAD_NAMES = ["resolve(None)", "resolve(b'db')", "get(None)", "@provides('')", "register('')"]
BAD_ARGUMENTS = [
    "register(provider and value=)",
    "register(scope='request')",
    "Dependency(name='not a name')",
    "Dependency(name=42)",
    "@resource on a function",
    "health(timeout=0)",
    "health(timeout=-1)",
]


@pytest.mark.parametrize("case", range(len(BAD_NAMES)), ids=BAD_NAMES)
def test_a_bad_name_gets_an_invalid_name_error(reg: Registry, case: int) -> None:
    """Issue 6 item 11: None, bytes and '' as names raise InvalidNameError naming the value."""
    reg.register("db", lambda: "db")
    what, call, shown = _bad_names(reg)[case]
    assert what == BAD_NAMES[case]
    with pytest.raises(InvalidNameError) as info:
        call()
    error = info.value
    assert isinstance(error, TypeError)
    assert isinstance(error, AsyncDIError)
    text = str(error)  # must not raise
    assert shown in text, (what, text)
    assert reg.names == ("db",)  # nothing registered under '' or the function's name


async def test_reentering_an_exited_scope_is_a_reuse_error(reg: Registry) -> None:
    """Issue 6 item 12: entering a finished request scope again raises ReuseError."""
    async with asyncio.timeout(LIMIT):
        scope = reg.scope()
        async with scope:
            pass
        with pytest.raises(ReuseError) as info:
            async with scope:
                pass
        assert isinstance(info.value, RuntimeError)
        sync_scope = reg.scope()
        with sync_scope:
            pass
        with pytest.raises(ReuseError), sync_scope:
            pass


async def test_reentering_an_exited_lifespan_is_a_reuse_error(reg: Registry) -> None:
    """Issue 6 item 12: entering a finished lifespan again raises ReuseError."""
    async with asyncio.timeout(LIMIT):
        lifespan = reg.lifespan()
        async with lifespan:
            pass
        with pytest.raises(ReuseError) as info:
            async with lifespan:
                pass
        assert isinstance(info.value, RuntimeError)
    sync_lifespan = reg.lifespan()
    with sync_lifespan:
        pass
    with pytest.raises(ReuseError), sync_lifespan:
        pass


async def test_nesting_a_lifespan_is_a_reuse_error(reg: Registry) -> None:
    """Issue 6 item 12: opening a lifespan while one is open raises ReuseError."""
    async with asyncio.timeout(LIMIT), reg.lifespan():
        with pytest.raises(ReuseError) as info:
            async with reg.lifespan():
                pass
        assert isinstance(info.value, RuntimeError)


async def test_entering_a_service_twice_is_a_reuse_error(reg: Registry) -> None:
    """Issue 6 item 12: entering one service instance twice raises ReuseError."""

    class Svc(AsyncService, registry=reg):
        pass

    async with asyncio.timeout(LIMIT), Svc() as svc:
        with pytest.raises(ReuseError) as info:
            async with svc:
                pass
        assert isinstance(info.value, RuntimeError)


def test_entering_an_override_twice_is_a_reuse_error(reg: Registry) -> None:
    """Issue 6 item 12: entering one override twice raises ReuseError."""
    reg.register("db", lambda: "db")
    override = reg.override(db="fake")
    with override:
        pass
    with pytest.raises(ReuseError) as info, override:
        pass
    assert isinstance(info.value, RuntimeError)


def _never_yields() -> Iterator[str]:
    for never in range(0):
        yield str(never)


async def _never_yields_async() -> AsyncIterator[str]:
    for never in range(0):
        yield str(never)


@pytest.mark.parametrize("provider", [_never_yields, _never_yields_async])
@pytest.mark.parametrize("scope", [Scope.INSTANCE, Scope.REQUEST, Scope.SINGLETON])
async def test_a_generator_that_never_yields_is_a_protocol_error(
    reg: Registry, provider: Callable[[], Any], scope: Scope
) -> None:
    """Issue 6 item 12: a generator provider that never yields raises ProviderProtocolError."""
    reg.register("conn", provider, scope=scope)
    async with asyncio.timeout(LIMIT), reg.lifespan(), reg.scope():
        with pytest.raises(ProviderProtocolError) as info:
            await reg.resolve("conn")
        assert isinstance(info.value, RuntimeError)
        assert "conn" in str(info.value)


def test_a_sync_generator_that_never_yields_is_a_protocol_error_in_get(reg: Registry) -> None:
    """Issue 6 item 12: `get` of a generator provider that never yields: ProviderProtocolError."""
    reg.register("conn", _never_yields)
    with pytest.raises(ProviderProtocolError):
        reg.get("conn")


def _bad_arguments(reg: Registry) -> list[tuple[str, Callable[[], Any], type[Exception]]]:
    """(what, the call, the built-in its error must also be) for each bad argument."""

    async def health(seconds: float) -> Any:
        async with asyncio.timeout(LIMIT):
            return await reg.health(timeout=seconds)

    def make() -> str:
        return "x"

    return [
        ("register(provider and value=)", lambda: reg.register("x", make, value=1), TypeError),
        (
            "register(scope='request')",
            lambda: reg.register("x", make, scope="request"),  # type: ignore[arg-type]
            TypeError,
        ),
        ("Dependency(name='not a name')", lambda: Dependency("not a name"), TypeError),
        ("Dependency(name=42)", lambda: Dependency(42), TypeError),  # type: ignore[arg-type]
        ("@resource on a function", lambda: resource("x", registry=reg)(make), TypeError),  # type: ignore[type-var]
        ("health(timeout=0)", lambda: asyncio.run(health(0)), ValueError),
        ("health(timeout=-1)", lambda: asyncio.run(health(-1)), ValueError),
    ]


@pytest.mark.parametrize("case", range(len(BAD_ARGUMENTS)), ids=BAD_ARGUMENTS)
def test_bad_arguments_are_async_di_errors(reg: Registry, case: int) -> None:
    """Issue 6 item 12: bad arguments raise an AsyncDIError that is also the old built-in."""
    what, call, builtin = _bad_arguments(reg)[case]
    assert what == BAD_ARGUMENTS[case]
    with pytest.raises(builtin) as info:
        call()
    assert isinstance(info.value, AsyncDIError), (what, repr(info.value))
    assert str(info.value)


class Box(Generic[T]):
    """A generic class whose ``__init__`` takes an injected parameter."""

    def __init__(self, item: int) -> None:
        self.item = item


async def test_a_parameterised_generic_class_gets_its_parameters(reg: Registry) -> None:
    """Issue 6 item 19: register('box', Box[int]) makes a Box with `item` injected."""
    reg.register("item", value=42)
    reg.register("box", Box[int])
    async with asyncio.timeout(LIMIT), reg.lifespan():
        box = await reg.resolve("box")
        assert isinstance(box, Box)
        assert box.item == 42
        got = reg.get("box")
        assert isinstance(got, Box)
        assert got.item == 42
    assert reg.provider("box").dependencies == ("item",)
