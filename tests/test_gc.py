"""Nothing leaks: services, and what they resolved, are collectable once unreferenced."""

from __future__ import annotations

import gc
import weakref

from asyncdi import AsyncService, Dependency, Registry, Scope


class Value:
    """A weak-referenceable value."""


async def test_service_is_collected_after_resolving(reg: Registry) -> None:
    """An instance that resolved INSTANCE and SINGLETON values is collected when dropped."""
    reg.register("own", Value)
    reg.register("shared", Value, scope=Scope.SINGLETON)

    class Svc(AsyncService, registry=reg):
        own = Dependency[Value]()
        shared = Dependency[Value]()

    svc = Svc()
    own = await svc.own
    await svc.shared
    svc_ref, own_ref = weakref.ref(svc), weakref.ref(own)
    del svc, own
    gc.collect()
    assert svc_ref() is None
    assert own_ref() is None


async def test_service_is_collected_without_gc_cycles(reg: Registry) -> None:
    """Dropping the last reference frees a service at once: no reference cycles are made."""
    reg.register("own", Value)

    class Svc(AsyncService, registry=reg):
        own = Dependency[Value]()

    gc.disable()
    try:
        svc = Svc()
        await svc.own
        svc_ref = weakref.ref(svc)
        del svc
        assert svc_ref() is None
    finally:
        gc.enable()


async def test_many_services_leave_nothing_behind(reg: Registry) -> None:
    """Thousands of resolved services leave no per-instance state in the registry."""
    reg.register("own", Value)

    class Svc(AsyncService, registry=reg):
        own = Dependency[Value]()

    refs = []
    for _ in range(2000):
        svc = Svc()
        await svc.own
        refs.append(weakref.ref(svc))
    del svc
    gc.collect()
    assert all(r() is None for r in refs)
    assert reg._root.held == []


async def test_disposed_service_is_collected(reg: Registry) -> None:
    """A service that went through `async with` is collectable afterwards."""

    async def gen() -> object:
        return Value()

    reg.register("own", gen, close=False)

    class Svc(AsyncService, registry=reg):
        own = Dependency[Value]()

    async with Svc() as svc:
        await svc.own
    ref = weakref.ref(svc)
    del svc
    gc.collect()
    assert ref() is None
