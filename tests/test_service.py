"""AsyncServiceMeta and AsyncService: collecting dependencies, binding registries, hooks."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from asyncdi import AsyncService, Dependency, Registry, ServiceDisposedError, registry
from tests.fakes import Journal


def test_dependencies_are_collected_in_mro_order(reg: Registry) -> None:
    """A class sees its bases' dependencies; a subclass may re-declare or drop one."""

    class Base(AsyncService, registry=reg):
        db = Dependency[str]("db")
        cache = Dependency[str]("cache")

    class Child(Base):
        cache = Dependency[str]("fast_cache")
        extra = Dependency[int]()

    class Dropped(Child):
        db = None  # type: ignore[assignment]

    assert list(Base.__dependencies__) == ["db", "cache"]
    assert list(Child.__dependencies__) == ["db", "cache", "extra"]
    assert Child.__dependencies__["cache"].name == "fast_cache"
    assert list(Dropped.__dependencies__) == ["cache", "extra"]
    with pytest.raises(TypeError):
        Child.__dependencies__["x"] = Dependency()  # type: ignore[index]


def test_registry_keyword_binds_class_and_subclasses(reg: Registry) -> None:
    """`registry=` binds a class; subclasses inherit the binding; default is the global one."""

    class Bound(AsyncService, registry=reg):
        pass

    class Sub(Bound):
        pass

    class Default(AsyncService):
        pass

    assert Bound.__asyncdi_registry__ is reg
    assert Sub.__asyncdi_registry__ is reg
    assert Default.__asyncdi_registry__ is registry
    assert set(reg._services) == {Bound, Sub}


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_hooks_run_on_enter_and_exit(reg: Registry, kind: str) -> None:
    """`async with` calls initialize() on enter and dispose() on exit, sync or async hooks."""
    journal = Journal()

    if kind == "sync":

        class Svc(AsyncService, registry=reg):
            def initialize(self) -> None:
                journal("initialize")

            def dispose(self) -> None:
                journal("dispose")

    else:

        class Svc(AsyncService, registry=reg):  # type: ignore[no-redef]
            async def initialize(self) -> None:
                await asyncio.sleep(0)
                journal("initialize")

            async def dispose(self) -> None:
                await asyncio.sleep(0)
                journal("dispose")

    async with Svc() as svc:
        assert isinstance(svc, Svc)
        journal("body")
    assert journal.events == ["initialize", "body", "dispose"]


def test_sync_with_runs_sync_hooks(reg: Registry) -> None:
    """A service with sync hooks also works as a plain `with` context manager."""
    journal = Journal()

    class Svc(AsyncService, registry=reg):
        def initialize(self) -> None:
            journal("initialize")

        def dispose(self) -> None:
            journal("dispose")

    with Svc():
        journal("body")
    assert journal.events == ["initialize", "body", "dispose"]


async def test_disposed_instance_fails_clearly(reg: Registry) -> None:
    """After exit the instance lets go of its values; its next await names the problem."""

    class Connection:
        pass

    reg.register("db", Connection)
    reg.register("unused", Connection)

    class Svc(AsyncService, registry=reg):
        db = Dependency[Connection]()
        unused = Dependency[Connection]()

    async with Svc() as svc:
        connection = weakref.ref(await svc.db)
    gc.collect()
    assert connection() is None
    with pytest.raises(ServiceDisposedError, match=r"Svc\.db.*disposed"):
        await svc.db
    with pytest.raises(ServiceDisposedError, match=r"Svc\.unused"):
        await svc.unused
    assert "disposed" in repr(svc)


async def test_instance_is_entered_once(reg: Registry) -> None:
    """Entering a service twice is an error rather than a second initialize()."""

    class Svc(AsyncService, registry=reg):
        pass

    async with Svc() as svc:
        with pytest.raises(RuntimeError, match="already initialized"):
            await svc.__aenter__()
    with pytest.raises(ServiceDisposedError):
        await svc.__aenter__()


async def test_repr_tells_state(reg: Registry) -> None:
    """A service's repr says whether it is new, active or disposed, and what it owns."""
    reg.register("x", Journal)

    class Svc(AsyncService, registry=reg):
        pass

    svc = Svc()
    assert repr(svc) == "<Svc new, 0 values owned>"
    async with svc:
        assert "active" in repr(svc)
    assert "disposed" in repr(svc)
