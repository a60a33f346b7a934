"""The Dependency descriptor: declared on a service, awaited on an instance."""

from __future__ import annotations

import asyncio
import sys

import pytest

from asyncdi import AsyncService, Dependency, NotAServiceError, Registry, Scope
from asyncdi._flight import Ready


async def test_class_access_returns_the_descriptor(reg: Registry) -> None:
    """`Svc.db` is the Dependency itself, with a repr naming provider and attribute."""

    class Svc(AsyncService, registry=reg):
        db = Dependency[str]("database")

    assert isinstance(Svc.db, Dependency)
    assert Svc.db.name == "database"
    assert Svc.db.attribute == "db"
    assert repr(Svc.db) == "Dependency('database') on Svc.db"
    reg.register("database", object, scope=Scope.SINGLETON)
    assert repr(Svc.db) == "Dependency('database', scope=SINGLETON) on Svc.db"


async def test_name_defaults_to_attribute(reg: Registry) -> None:
    """Without a name, the provider name is the attribute's name."""
    reg.register("cache", lambda: {"hit": 1})

    class Svc(AsyncService, registry=reg):
        cache = Dependency[dict[str, int]]()

    assert Svc.cache.name == "cache"
    assert await Svc().cache == {"hit": 1}


async def test_first_await_resolves_and_caches_per_instance(reg: Registry) -> None:
    """The provider runs on the first await only; later awaits return the same object."""
    calls: list[object] = []

    def make() -> object:
        calls.append(object())
        return calls[-1]

    reg.register("thing", make)

    class Svc(AsyncService, registry=reg):
        thing = Dependency[object]()

    one, two = Svc(), Svc()
    first = await one.thing
    assert await one.thing is first
    assert await one.thing is first
    assert await two.thing is not first  # INSTANCE scope: one value per instance
    assert len(calls) == 2


async def test_cached_read_is_kept_by_the_instance(reg: Registry) -> None:
    """An INSTANCE value is kept in the instance itself: later reads never call the provider."""
    calls: list[int] = []

    def make() -> int:
        calls.append(1)
        return 42

    reg.register("value", make)

    class Svc(AsyncService, registry=reg):
        value = Dependency[int]()

    svc = Svc()
    assert "value" not in vars(svc)
    assert await svc.value == 42
    kept = vars(svc)["value"]
    assert not isinstance(kept, asyncio.Future)  # a 64-byte slot, not a 144-byte future
    assert await svc.value == 42
    assert svc.value is kept
    assert await svc.value == 42
    assert calls == [1]


async def test_a_made_singleton_is_a_done_awaitable_at_once(reg: Registry) -> None:
    """Reading a singleton that exists stores its shared done awaitable on the first read:
    a done Future up to 3.11, a Ready from 3.12 (the cheaper awaitable on each)."""
    reg.register("config", dict, scope=Scope.SINGLETON)
    await reg.resolve("config")

    class Svc(AsyncService, registry=reg):
        config = Dependency[dict[str, str]]()

    svc = Svc()
    awaitable = svc.config
    if sys.version_info < (3, 12):
        assert isinstance(awaitable, asyncio.Future)
        assert awaitable.done()
    else:
        assert isinstance(awaitable, Ready)
    assert vars(svc)["config"] is awaitable
    assert await awaitable == {}
    assert await awaitable == {}  # as often as asked


async def test_singleton_instances_share_one_done_future(reg: Registry) -> None:
    """Every instance reading an existing singleton stores the same done awaitable."""
    reg.register("config", lambda: {"url": "x"}, scope=Scope.SINGLETON)

    class Svc(AsyncService, registry=reg):
        config = Dependency[dict[str, str]]()

    a, b = Svc(), Svc()
    assert await a.config is await b.config
    assert vars(a)["config"] is vars(b)["config"]


async def test_awaitable_works_with_gather(reg: Registry) -> None:
    """`asyncio.gather(svc.a, svc.b)` works, both on the first read and on cached reads."""
    reg.register("a", lambda: "A", scope=Scope.SINGLETON)
    reg.register("b", lambda: "B")

    class Svc(AsyncService, registry=reg):
        a = Dependency[str]()
        b = Dependency[str]()

    svc = Svc()
    assert await asyncio.gather(svc.a, svc.b) == ["A", "B"]
    assert await asyncio.gather(svc.a, svc.b) == ["A", "B"]


def test_dependency_on_a_plain_class_is_refused() -> None:
    """Declaring a Dependency on a class that is not an AsyncService says so, and what to do."""
    # Python 3.11 wraps an error from __set_name__ in RuntimeError (the NotAServiceError is
    # its __cause__); 3.12 and later let the NotAServiceError itself through, with a note.
    with pytest.raises((RuntimeError, NotAServiceError)) as info:

        class Plain:
            db = Dependency[str]("db")

    error = info.value if isinstance(info.value, NotAServiceError) else info.value.__cause__
    assert isinstance(error, NotAServiceError)
    assert "Plain.db" in str(error)
    assert "AsyncService" in str(error)


async def test_dependency_attached_after_class_creation_is_refused(reg: Registry) -> None:
    """A Dependency set on a class after creation has no attribute name; reading it says so."""

    class Svc(AsyncService, registry=reg):
        pass

    late = Dependency[str]("db")
    Svc.late = late  # type: ignore[attr-defined]
    with pytest.raises(NotAServiceError, match="attached after the class was created"):
        await Svc().late  # type: ignore[attr-defined]


def test_dependency_name_must_be_an_identifier() -> None:
    """A provider name that cannot be a Python name is refused at declaration."""
    with pytest.raises(TypeError, match="Python identifier"):
        Dependency("not a name")
