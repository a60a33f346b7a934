"""enter=True: a provider that returns a context manager gives what entering it gives."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any

import httpx
import pytest

from asyncdi import (
    AsyncProviderError,
    InvalidProviderError,
    NotAContextManagerError,
    Registry,
    ReleaseError,
    Scope,
    provides,
)


class Manager:
    """A context manager with both protocols, recording what happened to it."""

    def __init__(self, events: list[str], name: str = "m", fail_enter: bool = False) -> None:
        self.events = events
        self.name = name
        self.fail_enter = fail_enter
        self.exit_args: tuple[Any, ...] | None = None

    async def __aenter__(self) -> str:
        self.events.append(f"aenter {self.name}")
        if self.fail_enter:
            raise ConnectionError("cannot connect")
        return f"entered {self.name}"

    async def __aexit__(self, et: Any, exc: Any, tb: Any) -> None:
        self.exit_args = (et, exc, tb)
        self.events.append(f"aexit {self.name}")

    def __enter__(self) -> str:
        self.events.append(f"enter {self.name}")
        return f"sync {self.name}"

    def __exit__(self, et: Any, exc: Any, tb: Any) -> None:
        self.exit_args = (et, exc, tb)
        self.events.append(f"exit {self.name}")


class SyncOnly:
    """A context manager with only the sync protocol."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def __enter__(self) -> SyncOnly:
        self.events.append("enter")
        return self

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.events.append(f"exit {et.__name__ if et else None}")


class AsyncOnly:
    """A context manager with only the async protocol, whose exit may fail."""

    def __init__(self, events: list[str], fail_exit: bool = False) -> None:
        self.events = events
        self.fail_exit = fail_exit

    async def __aenter__(self) -> AsyncOnly:
        self.events.append("aenter")
        return self

    async def __aexit__(self, et: Any, exc: Any, tb: Any) -> None:
        await asyncio.sleep(0)
        self.events.append("aexit")
        if self.fail_exit:
            raise OSError("exit failed")


async def test_async_protocol_is_preferred_and_exit_runs_at_lifespan_end(reg: Registry) -> None:
    """The value is __aenter__'s result; __aexit__(None, None, None) runs at lifespan end."""
    events: list[str] = []
    managers: list[Manager] = []

    def make() -> Manager:
        managers.append(Manager(events))
        return managers[-1]

    reg.register("m", make, scope=Scope.SINGLETON, enter=True)
    async with asyncio.timeout(5):
        async with reg.lifespan():
            assert await reg.resolve("m") == "entered m"
            assert await reg.resolve("m") == "entered m"
            assert events == ["aenter m"]
    assert events == ["aenter m", "aexit m"]
    assert managers[0].exit_args == (None, None, None)
    assert reg.stats()["m"].released == 1


async def test_a_class_is_called_with_its_injected_arguments_then_entered(reg: Registry) -> None:
    """enter=True on a class: its parameters are injected, then the instance is entered."""
    events: list[str] = []
    reg.register("events", value=events)
    reg.register("name", value="db")
    reg.register("m", Manager, scope=Scope.REQUEST, enter=True)
    async with asyncio.timeout(5):
        async with reg.scope():
            assert await reg.resolve("m") == "entered db"
        assert events == ["aenter db", "aexit db"]


async def test_an_async_function_result_is_awaited_then_entered(reg: Registry) -> None:
    """An async def provider's coroutine is awaited, and its result entered."""
    events: list[str] = []

    async def connect() -> AsyncOnly:
        await asyncio.sleep(0)
        return AsyncOnly(events)

    reg.register("c", connect, enter=True)
    async with asyncio.timeout(5), reg.scope(), reg.lifespan():
        value = await reg.resolve("c")
        assert isinstance(value, AsyncOnly)
    assert events == ["aenter", "aexit"]


async def test_exit_receives_the_scopes_exception(reg: Registry) -> None:
    """A failing request scope hands its exception to the manager's __aexit__."""
    events: list[str] = []
    managers: list[Manager] = []

    def make() -> Manager:
        managers.append(Manager(events))
        return managers[-1]

    reg.register("m", make, scope=Scope.REQUEST, enter=True)
    async with asyncio.timeout(5):
        with pytest.raises(KeyError):
            async with reg.scope():
                await reg.resolve("m")
                raise KeyError("boom")
    assert managers[0].exit_args is not None
    et, exc, tb = managers[0].exit_args
    assert et is KeyError
    assert isinstance(exc, KeyError)
    assert tb is not None


async def test_failing_enter_is_the_providers_failure_without_exit(reg: Registry) -> None:
    """A failing __aenter__ is raised as itself, and __aexit__ is never called."""
    events: list[str] = []
    reg.register("m", lambda: Manager(events, fail_enter=True), scope=Scope.REQUEST, enter=True)
    async with asyncio.timeout(5):
        async with reg.scope():
            with pytest.raises(ConnectionError, match="cannot connect"):
                await reg.resolve("m")
    assert events == ["aenter m"]
    assert reg.stats()["m"].live == 0


async def test_failing_exit_is_a_release_failure_and_other_steps_run(reg: Registry) -> None:
    """A failing __aexit__ is reported as a ReleaseError; the older value is still released."""
    events: list[str] = []
    reg.register("older", lambda: SyncOnly(events), scope=Scope.REQUEST, enter=True)

    def newer(older: SyncOnly) -> AsyncOnly:
        return AsyncOnly(events, fail_exit=True)

    reg.register("newer", newer, scope=Scope.REQUEST, enter=True)
    async with asyncio.timeout(5):
        with pytest.raises(ReleaseError) as caught:
            async with reg.scope():
                await reg.resolve("newer")
    assert [type(e) for e in caught.value.exceptions] == [OSError]
    assert events == ["enter", "aenter", "aexit", "exit None"]


async def test_sync_get_enters_a_sync_manager(reg: Registry) -> None:
    """registry.get() enters a manager with the sync protocol and exits it on a sync exit."""
    events: list[str] = []
    reg.register("m", lambda: SyncOnly(events), scope=Scope.REQUEST, enter=True)
    with reg.scope():
        assert isinstance(reg.get("m"), SyncOnly)
    assert events == ["enter", "exit None"]


def test_sync_get_refuses_an_async_only_manager(reg: Registry) -> None:
    """An async-only context manager asked for with get() is an AsyncProviderError."""
    reg.register("m", lambda: AsyncOnly([]), scope=Scope.REQUEST, enter=True)
    with reg.scope(), pytest.raises(AsyncProviderError, match="async context manager"):
        reg.get("m")


def test_sync_get_uses_the_sync_protocol_of_a_dual_manager(reg: Registry) -> None:
    """With get(), an object with both protocols is entered through __enter__."""
    events: list[str] = []
    reg.register("m", lambda: Manager(events), scope=Scope.REQUEST, enter=True)
    with reg.scope():
        assert reg.get("m") == "sync m"
    assert events == ["enter m", "exit m"]


async def test_a_result_that_is_no_context_manager_is_a_clear_error(reg: Registry) -> None:
    """Not a context manager: NotAContextManagerError (a TypeError) naming the provider."""
    reg.register("thing", lambda: 42, enter=True)
    async with asyncio.timeout(5):
        with pytest.raises(NotAContextManagerError, match="'thing'") as caught:
            await reg.resolve("thing")
    assert isinstance(caught.value, TypeError)
    assert "int" in str(caught.value)


def test_enter_with_a_generator_close_or_value_is_refused(reg: Registry) -> None:
    """enter=True with a generator, close=True or value= is refused at registration."""

    def gen() -> Iterator[int]:
        yield 1

    with pytest.raises(InvalidProviderError, match="generator function"):
        reg.register("g", gen, enter=True)
    with pytest.raises(InvalidProviderError, match="close=True"):
        reg.register("c", SyncOnly, enter=True, close=True)
    with pytest.raises(InvalidProviderError, match="value="):
        reg.register("v", value=SyncOnly([]), enter=True)
    with pytest.raises(InvalidProviderError, match="enter must be True or False"):
        reg.register("e", SyncOnly, enter=1)  # type: ignore[arg-type]


async def test_provides_takes_enter(reg: Registry) -> None:
    """@reg.provides(enter=True) and @provides(registry=..., enter=True) both enter."""
    events: list[str] = []

    @reg.provides("a", enter=True)
    @contextlib.asynccontextmanager
    async def a() -> AsyncIterator[str]:
        events.append("open a")
        yield "A"
        events.append("close a")

    @provides("b", registry=reg, enter=True)
    def b() -> SyncOnly:
        return SyncOnly(events)

    async with asyncio.timeout(5), reg.lifespan():
        assert await reg.resolve("a") == "A"
        assert isinstance(await reg.resolve("b"), SyncOnly)
    assert events == ["open a", "enter", "exit None", "close a"]


async def test_httpx_async_client_is_entered_and_closed(reg: Registry) -> None:
    """httpx.AsyncClient registered directly with enter=True is open in, closed after."""
    reg.register("http", httpx.AsyncClient, scope=Scope.SINGLETON, enter=True)
    async with asyncio.timeout(5):
        async with reg.lifespan():
            client = await reg.resolve("http")
            assert isinstance(client, httpx.AsyncClient)
            assert not client.is_closed
        assert client.is_closed


async def test_httpx_client_talks_to_a_local_server(reg: Registry) -> None:
    """The entered client makes a real request to a server on 127.0.0.1."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reg.register("base_url", value=f"http://127.0.0.1:{port}")
    reg.register("http", httpx.AsyncClient, scope=Scope.SINGLETON, enter=True)
    try:
        async with asyncio.timeout(10), reg.lifespan():
            client = await reg.resolve("http")
            response = await client.get("/")
            assert response.text == "hi"
    finally:
        server.close()
        await server.wait_closed()
    assert client.is_closed


async def test_cancelled_scope_still_exits_the_manager(reg: Registry) -> None:
    """A request scope cancelled while its manager's __aexit__ runs still finishes the exit."""
    events: list[str] = []
    reg.register("m", lambda: AsyncOnly(events), scope=Scope.REQUEST, enter=True)
    entered = asyncio.Event()

    async def request() -> None:
        async with reg.scope():
            await reg.resolve("m")
            entered.set()
            await asyncio.sleep(10)

    async with asyncio.timeout(5):
        task = asyncio.create_task(request())
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert events == ["aenter", "aexit"]
