"""Errors say what, where and what to do; validation reports everything at once."""

from __future__ import annotations

import asyncio

import pytest

from asyncdi import (
    AsyncDIError,
    AsyncService,
    CaptiveDependencyError,
    CycleError,
    Dependency,
    MissingProviderError,
    NoActiveScopeError,
    Registry,
    Scope,
    ValidationError,
)


async def test_missing_provider_names_class_attribute_name_and_closest(reg: Registry) -> None:
    """A missing provider says who asked, for what, what exists, and the closest name."""
    reg.register("database", lambda: "db")
    reg.register("cache", lambda: "cache")

    class OrderService(AsyncService, registry=reg):
        db = Dependency[str]("databse")

    with pytest.raises(MissingProviderError) as info:
        await OrderService().db
    error = info.value
    assert isinstance(error, LookupError)
    assert isinstance(error, AsyncDIError)
    assert error.name == "databse"
    assert error.path == ("OrderService.db",)
    assert error.registered == ("cache", "database")
    assert error.closest == "database"
    assert str(error) == (
        "No provider named 'databse': OrderService.db -> 'databse' ???. "
        "Registered: 'cache', 'database'. Did you mean 'database'? "
        "If not, register one with @provides('databse') or registry.register('databse', ...)."
    )


async def test_missing_provider_deep_in_the_graph_shows_the_path(reg: Registry) -> None:
    """A name missing behind other providers is reported with the whole path."""
    reg.register("repo", lambda db: db)

    class OrderService(AsyncService, registry=reg):
        repo = Dependency[str]()

    with pytest.raises(MissingProviderError, match=r"OrderService\.repo -> 'repo' -> 'db' \?\?\?"):
        await OrderService().repo


async def test_provider_exception_keeps_its_type_and_gets_a_path_note(reg: Registry) -> None:
    """A provider's own exception propagates unchanged, with the resolution path as a note."""

    async def make_db() -> str:
        raise ConnectionRefusedError("db host unreachable")

    reg.register("db", make_db, scope=Scope.SINGLETON)
    reg.register("repo", lambda db: db)

    class OrderService(AsyncService, registry=reg):
        repo = Dependency[str]()

    with pytest.raises(ConnectionRefusedError) as info:
        await OrderService().repo
    assert str(info.value) == "db host unreachable"
    assert info.value.__notes__ == ["asyncdi: while resolving OrderService.repo -> 'repo' -> 'db'"]
    with pytest.raises(ConnectionRefusedError) as again:
        await reg.resolve("db")
    assert again.value.__notes__ == ["asyncdi: while resolving 'db'"]


async def test_cycle_is_detected_at_resolution_without_hanging(reg: Registry) -> None:
    """A cycle raises CycleError with the whole path instead of waiting forever."""
    reg.register("a", lambda b: b)
    reg.register("b", lambda c: c)
    reg.register("c", lambda a: a, scope=Scope.SINGLETON)

    class Svc(AsyncService, registry=reg):
        a = Dependency[str]()

    async with asyncio.timeout(2):
        with pytest.raises(CycleError) as info:
            await Svc().a
    assert info.value.cycle == ("a", "b", "c", "a")
    assert "'a' -> 'b' -> 'c' -> 'a'" in str(info.value)
    assert "Svc.a" in str(info.value)
    with pytest.raises(CycleError):
        reg.get("b")


async def test_cycle_through_a_provider_body_is_detected(reg: Registry) -> None:
    """A provider that resolves its own name from its body gets CycleError, not a hang."""

    async def selfish() -> object:
        return await reg.resolve("selfish")

    reg.register("selfish", selfish, scope=Scope.SINGLETON)
    async with asyncio.timeout(2):
        with pytest.raises(CycleError, match="'selfish' -> 'selfish'"):
            await reg.resolve("selfish")


async def test_request_value_without_scope_names_registry_scope(reg: Registry) -> None:
    """A REQUEST value outside any scope says to use `async with registry.scope()`."""
    reg.register("session", object, scope=Scope.REQUEST)
    with pytest.raises(NoActiveScopeError, match=r"async with registry\.scope\(\)"):
        await reg.resolve("session")


async def test_singleton_depending_on_request_value_is_refused(reg: Registry) -> None:
    """A SINGLETON that needs a REQUEST value is a captive dependency, refused at resolution."""
    reg.register("session", object, scope=Scope.REQUEST)
    reg.register("helper", lambda session: session)
    reg.register("cache", lambda helper: helper, scope=Scope.SINGLETON)
    async with reg.scope():
        with pytest.raises(CaptiveDependencyError) as info:
            await reg.resolve("cache")
    assert info.value.holder == "cache"
    assert info.value.held == "session"
    assert "'cache' (SINGLETON) -> 'helper' -> 'session' (REQUEST)" in str(info.value)


def test_validate_reports_every_problem_at_once(reg: Registry) -> None:
    """validate() finds missing names, cycles and captives across providers and services."""
    reg.register("a", lambda b: b)
    reg.register("b", lambda a: a)
    reg.register("session", object, scope=Scope.REQUEST)
    reg.register("cache", lambda session: session, scope=Scope.SINGLETON)
    reg.register("repo", lambda dbb: dbb)
    reg.register("ok", lambda missing=1: missing)

    class Svc(AsyncService, registry=reg):
        clock = Dependency[str]()
        a = Dependency[str]()

    with pytest.raises(ValidationError) as info:
        reg.validate()
    kinds = sorted(type(e).__name__ for e in info.value.exceptions)
    assert kinds == [
        "CaptiveDependencyError",
        "CycleError",
        "MissingProviderError",
        "MissingProviderError",
    ]
    text = str(info.value)
    assert "Svc.clock -> 'clock' ???" in text
    assert "'repo' -> 'dbb' ???" in text
    assert "'a' -> 'b' -> 'a'" in text
    assert "SINGLETON 'cache' depends on REQUEST-scoped 'session'" in text
    assert isinstance(info.value, ExceptionGroup)
    assert isinstance(info.value, AsyncDIError)


def test_validate_passes_a_sound_graph(reg: Registry) -> None:
    """A complete, acyclic graph validates silently."""
    reg.register("config", dict, scope=Scope.SINGLETON)
    reg.register("db", lambda config: config, scope=Scope.SINGLETON)

    class Svc(AsyncService, registry=reg):
        db = Dependency[dict[str, str]]()

    reg.validate()


def test_errors_can_be_caught_by_builtin_or_asyncdi_base() -> None:
    """Every error subclasses both AsyncDIError and a fitting built-in."""
    assert issubclass(MissingProviderError, LookupError)
    assert issubclass(CycleError, RecursionError)
    assert issubclass(CaptiveDependencyError, RuntimeError)
    for error in (MissingProviderError, CycleError, CaptiveDependencyError, NoActiveScopeError):
        assert issubclass(error, AsyncDIError)
