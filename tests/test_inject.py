"""``@inject``: ``Inject()`` parameters are filled at call time, unless the caller passes them."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import click
import pytest
from click.testing import CliRunner

import asyncdi
from asyncdi import (
    AsyncDIError,
    AsyncProviderError,
    Inject,
    InvalidArgumentError,
    MissingProviderError,
    Registry,
    Scope,
    inject,
)
from asyncdi._inject import InjectNeedsAwaitError, NotInjectableError


class Users:
    """A stand-in service; each instance is a distinct value."""

    def __init__(self, source: str = "real") -> None:
        self.source = source


@pytest.fixture
def users_reg(reg: Registry) -> Registry:
    """A registry with a sync 'users' provider and an async 'db' provider."""
    reg.register("users", Users)

    async def make_db() -> str:
        return "db"

    reg.register("db", make_db)
    return reg


async def test_async_function_gets_injected_values(users_reg: Registry) -> None:
    """An async function's Inject() parameters are resolved when it is called."""

    @inject(registry=users_reg)
    async def handler(uid: int, users: Users = Inject(), db: str = Inject()) -> str:
        return f"{uid} {users.source} {db}"

    assert await handler(1) == "1 real db"


def test_sync_function_gets_injected_values(users_reg: Registry) -> None:
    """A sync function's Inject() parameters are resolved with registry.get()."""

    @inject(registry=users_reg)
    def handler(uid: int, users: Users = Inject()) -> str:
        return f"{uid} {users.source}"

    assert handler(2) == "2 real"


def test_inject_name_renames(users_reg: Registry) -> None:
    """Inject("name") fills the parameter from that name, not the parameter's own."""

    @inject(registry=users_reg)
    def handler(people: Users = Inject("users")) -> Users:
        return people

    assert isinstance(handler(), Users)


async def test_methods_sync_and_async(users_reg: Registry) -> None:
    """On methods (plain, class and static), self/cls bind as usual and values are injected."""

    class Handler:
        @inject(registry=users_reg)
        def sync(self, users: Users = Inject()) -> tuple[Handler, Users]:
            return self, users

        @inject(registry=users_reg)
        async def run(self, n: int, db: str = Inject()) -> str:
            return f"{n}{db}"

        @inject(registry=users_reg)
        @classmethod
        def make(cls, users: Users = Inject()) -> type[Handler]:
            assert isinstance(users, Users)
            return cls

        @inject(registry=users_reg)
        @staticmethod
        async def static(db: str = Inject()) -> str:
            return db

    handler = Handler()
    owner, users = handler.sync()
    assert owner is handler
    assert isinstance(users, Users)
    assert await handler.run(3) == "3db"
    assert Handler.make() is Handler
    assert await Handler.static() == "db"
    assert list(inspect.signature(handler.run).parameters) == ["n"]


async def test_caller_passed_value_wins(users_reg: Registry) -> None:
    """A value the caller passes (by name, or positionally) is used and nothing is resolved."""
    calls: list[str] = []

    def counted() -> Users:
        calls.append("made")
        return Users()

    users_reg.register("users", counted, replace=True)

    @inject(registry=users_reg)
    async def handler(uid: int, users: Users = Inject()) -> str:
        return users.source

    assert await handler(1, users=Users("mine")) == "mine"
    assert await handler(1, Users("positional")) == "positional"
    assert calls == []
    assert await handler(1) == "real"
    assert calls == ["made"]


def test_signature_shows_only_callers_parameters(users_reg: Registry) -> None:
    """inspect.signature() of the decorated function leaves out the injected parameters."""

    @inject(registry=users_reg)
    def handler(uid: int, *, users: Users = Inject(), verbose: bool = False) -> int:
        return uid

    signature = inspect.signature(handler)
    assert list(signature.parameters) == ["uid", "verbose"]
    assert signature.return_annotation == "int"


def test_visible_positional_after_hidden_one(users_reg: Registry) -> None:
    """A visible parameter after a hidden positional one is shown keyword-only."""

    @inject(registry=users_reg)
    def handler(uid: int, users: Users = Inject(), limit: int = 10) -> tuple[int, str, int]:
        return uid, users.source, limit

    parameters = inspect.signature(handler).parameters
    assert list(parameters) == ["uid", "limit"]
    assert parameters["limit"].kind is inspect.Parameter.KEYWORD_ONLY
    assert handler(1, limit=5) == (1, "real", 5)
    assert handler(1) == (1, "real", 10)
    # Positions are the real function's, as type checkers see them.
    assert handler(1, Users("mine"), 7) == (1, "mine", 7)


def test_wraps_keeps_metadata(users_reg: Registry) -> None:
    """The decorated function keeps its name, docstring, module and coroutine-ness."""

    async def handler(users: Users = Inject()) -> None:
        """Handle things."""

    wrapped = inject(registry=users_reg)(handler)
    assert wrapped.__name__ == "handler"
    assert wrapped.__doc__ == "Handle things."
    assert wrapped.__module__ == __name__
    assert wrapped.__wrapped__ is handler  # type: ignore[attr-defined]
    assert inspect.iscoroutinefunction(wrapped)


def test_bare_inject_uses_global_registry() -> None:
    """Plain @inject resolves from the global asyncdi.registry."""
    asyncdi.registry.register("inject_test_value", value=41)
    try:

        @inject
        def handler(inject_test_value: int = Inject()) -> int:
            return inject_test_value + 1

        assert handler() == 42
    finally:
        asyncdi.registry.unregister("inject_test_value")


async def test_current_request_scope_applies(reg: Registry) -> None:
    """Calls inside one request scope share its REQUEST values; another scope gets its own."""
    reg.register("session", object, scope=Scope.REQUEST)

    @inject(registry=reg)
    async def handler(session: object = Inject()) -> object:
        return session

    async with reg.scope():
        first = await handler()
        assert await handler() is first
    async with reg.scope():
        assert await handler() is not first


async def test_overrides_apply(users_reg: Registry) -> None:
    """An override in force where the function is called replaces the injected value."""

    @inject(registry=users_reg)
    async def handler(users: Users = Inject()) -> str:
        return users.source

    with users_reg.override(users=Users("fake")):
        assert await handler() == "fake"
    assert await handler() == "real"


async def test_scope_true_worker_loop(reg: Registry) -> None:
    """scope=True: each job in a queue consumer gets its own request value, released after it."""
    events: list[str] = []
    counter = iter(range(100))

    async def make_session() -> AsyncIterator[str]:
        session = f"session-{next(counter)}"
        events.append(f"open {session}")
        yield session
        events.append(f"close {session}")

    reg.register("session", make_session, scope=Scope.REQUEST)

    @inject(registry=reg, scope=True)
    async def handle(job: int, session: str = Inject()) -> None:
        await asyncio.sleep(0)
        events.append(f"job {job} in {session}")

    queue: asyncio.Queue[int | None] = asyncio.Queue()

    async def worker() -> None:
        while (job := await queue.get()) is not None:
            await handle(job)

    for job in (1, 2, 3):
        queue.put_nowait(job)
    queue.put_nowait(None)
    async with reg.lifespan():
        await asyncio.wait_for(worker(), timeout=5)
    assert events == [
        "open session-0",
        "job 1 in session-0",
        "close session-0",
        "open session-1",
        "job 2 in session-1",
        "close session-1",
        "open session-2",
        "job 3 in session-2",
        "close session-2",
    ]


def test_scope_true_sync(reg: Registry) -> None:
    """scope=True on a sync function: a request scope per call, released when it returns."""
    events: list[str] = []

    def make_session() -> Iterator[object]:
        session = object()
        events.append("open")
        yield session
        events.append("close")

    reg.register("session", make_session, scope=Scope.REQUEST)

    @inject(registry=reg, scope=True)
    def handle(session: object = Inject()) -> object:
        events.append("run")
        return session

    first = handle()
    assert handle() is not first
    assert events == ["open", "run", "close", "open", "run", "close"]


def test_sync_function_needing_await_says_so(users_reg: Registry) -> None:
    """A sync function that needs an async provider's value names itself and `async def`."""

    @inject(registry=users_reg)
    def report(db: str = Inject()) -> str:
        return db

    with pytest.raises(InjectNeedsAwaitError) as caught:
        report()
    message = str(caught.value)
    assert "report()" in message
    assert "'db'" in message
    assert "async def report" in message
    assert isinstance(caught.value, AsyncProviderError)
    assert isinstance(caught.value, TypeError)


def test_missing_name_fails_at_first_call(reg: Registry) -> None:
    """An Inject naming nothing registered raises MissingProviderError, with a suggestion."""
    reg.register("users", Users)

    @inject(registry=reg)  # decorating before registering is allowed
    def handler(user: Users = Inject("usres")) -> Users:
        return user

    with pytest.raises(MissingProviderError) as caught:
        handler()
    message = str(caught.value)
    assert "usres" in message
    assert "Did you mean 'users'?" in message
    assert "handler(user=Inject('usres')) -> 'usres' ???" in message


def test_missing_name_registered_later_is_found(reg: Registry) -> None:
    """A name registered after decoration (but before the first call) is resolved."""

    @inject(registry=reg)
    def handler(users: Users = Inject()) -> Users:
        return users

    reg.register("users", Users)
    assert isinstance(handler(), Users)


@pytest.mark.parametrize("target", [42, "name", None])
def test_non_callable_fails_at_decoration(target: Any) -> None:
    """@inject on something that is not callable raises a TypeError-based asyncdi error."""
    with pytest.raises(NotInjectableError, match="not callable") as caught:
        inject(target)
    assert isinstance(caught.value, AsyncDIError)
    assert isinstance(caught.value, TypeError)


def test_unsupported_shapes_fail_at_decoration(reg: Registry) -> None:
    """Classes, async generators, positional-only and pre-*args Inject() fail clearly."""

    async def agen(users: Users = Inject()) -> AsyncIterator[Users]:
        yield users

    def positional_only(users: Users = Inject(), /) -> None: ...

    def before_star(users: Users = Inject(), *rest: int) -> None: ...

    def gen(users: Users = Inject()) -> Iterator[Users]:
        yield users

    cases: list[tuple[Callable[..., Any], str]] = [
        (Users, "is a class"),
        (agen, "async generator"),
        (positional_only, "positional-only"),
        (before_star, "after \\*args"),
    ]
    for target, problem in cases:
        with pytest.raises(NotInjectableError, match=problem):
            inject(registry=reg)(target)
    with pytest.raises(NotInjectableError, match="scope=True on a generator"):
        inject(registry=reg, scope=True)(gen)


def test_bad_arguments(reg: Registry) -> None:
    """registry= must be a Registry and scope= a bool."""
    with pytest.raises(InvalidArgumentError, match="expected a Registry"):
        inject(registry="reg")  # type: ignore[call-overload]
    with pytest.raises(InvalidArgumentError, match="True or False"):
        inject(registry=reg, scope=1)  # type: ignore[call-overload]


def test_click_sees_only_callers_options(users_reg: Registry) -> None:
    """A click command built on an @inject function runs with its value injected."""

    @click.command()
    @click.option("--uid", type=int, default=1)
    @inject(registry=users_reg)
    def show(uid: int, users: Users = Inject()) -> None:
        click.echo(f"user {uid} from {users.source}")

    result = CliRunner().invoke(show, ["--uid", "7"])
    assert result.exit_code == 0, result.output
    assert result.output == "user 7 from real\n"
    assert [p.name for p in show.params] == ["uid"]
