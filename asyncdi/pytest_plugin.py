"""asyncdi's pytest plugin: the fixtures ``asyncdi_registry`` and ``asyncdi_override``.

Registered through the ``pytest11`` entry point, so installing asyncdi is enough. It adds
the ini option ``asyncdi_registry`` (``"package.module:attribute"``; default: the global
``asyncdi.registry``) and two fixtures; it has no other hooks, so a test that uses neither
fixture runs exactly as without the plugin.

- ``asyncdi_registry``: the registry under test, inside an open lifespan for the test's
  duration. What the test registers or replaces is undone at its end, and what it made
  is released in the test's own event loop. Needs pytest-asyncio (strict or auto mode).
- ``asyncdi_override``: ``asyncdi_override(db=fake, providers={...})`` swaps values or
  providers for the rest of the test, in every thread and task of the process (a server
  the test started in-process sees them too), and undoes it at the test's end.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import pytest

from asyncdi._locate import RegistryNotFoundError, locate_registry

if TYPE_CHECKING:
    from asyncdi._overrides import Overrides
    from asyncdi._provider import Provider
    from asyncdi._registry import Registry

__all__ = ["OverrideFixture", "asyncdi_override", "asyncdi_registry"]

F = TypeVar("F", bound=Callable[..., Any])

INI_OPTION = "asyncdi_registry"


class OverrideFixture(Protocol):
    """The type of the ``asyncdi_override`` fixture, for annotating tests."""

    def __call__(
        self,
        values: Mapping[str, Any] | None = None,
        /,
        *,
        providers: Mapping[str, Callable[..., Any]] | None = None,
        **named_values: Any,
    ) -> Overrides:
        """Override values (``db=fake``) or providers process-wide until the test ends."""
        ...


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the ini option that names the registry under test."""
    parser.addini(
        INI_OPTION,
        "the registry the asyncdi fixtures use, as 'package.module:attribute' "
        "(default: the global asyncdi.registry)",
        default="",
    )


def registry_under_test(config: pytest.Config) -> Registry:
    """The registry named by the ini option ``asyncdi_registry``, or the global one."""
    target = str(config.getini(INI_OPTION)).strip()
    if not target:
        from asyncdi._registry import registry

        return registry
    try:
        return locate_registry(target)
    except RegistryNotFoundError as error:
        detail = f"\n{error.detail}" if error.detail else ""
        pytest.fail(f"ini option {INI_OPTION} = {target!r}: {error}{detail}", pytrace=False)


class _Registrations:
    """The providers a registry had when a test began, to put back when it ends."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.saved: dict[str, Provider] = {name: registry.provider(name) for name in registry.names}

    def restore(self) -> None:
        registry = self.registry
        for name in registry.names:
            if name not in self.saved:
                registry.unregister(name)
        for name, record in self.saved.items():
            if name not in registry or registry.provider(name) is not record:
                _register_again(registry, record)


def _register_again(registry: Registry, record: Provider) -> None:
    if record.kind.value == "value":
        registry.register(record.name, value=record.value, replace=True)
    else:
        registry.register(
            record.name, record.factory, scope=record.scope, close=record.close, replace=True
        )


def _async_fixture(function: F) -> F:
    """``pytest_asyncio.fixture``, so the fixture also runs in strict mode, where it exists."""
    try:
        from pytest_asyncio import fixture
    except ImportError:  # pragma: no cover - pytest then says an async fixture needs a plugin
        return cast(F, pytest.fixture(function))
    return cast(F, fixture(function))


@_async_fixture
async def asyncdi_registry(request: pytest.FixtureRequest) -> AsyncIterator[Registry]:
    """The registry under test in an open lifespan for the test's duration.

    At the test's end the lifespan closes (releasing what the test made, in the test's
    event loop) and the registrations it added, replaced or removed are put back.
    """
    registry = registry_under_test(request.config)
    registrations = _Registrations(registry)
    try:
        async with registry.lifespan():
            yield registry
    finally:
        registrations.restore()


@pytest.fixture
def asyncdi_override(request: pytest.FixtureRequest) -> Iterator[OverrideFixture]:
    """Override values or providers process-wide for the rest of the test."""
    registry = registry_under_test(request.config)
    with contextlib.ExitStack() as entered:

        def override(
            values: Mapping[str, Any] | None = None,
            /,
            *,
            providers: Mapping[str, Callable[..., Any]] | None = None,
            **named_values: Any,
        ) -> Overrides:
            overrides = registry.override(
                values, providers=providers, process_wide=True, **named_values
            )
            return entered.enter_context(overrides)

        yield override
