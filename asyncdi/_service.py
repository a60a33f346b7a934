"""``AsyncServiceMeta`` and ``AsyncService``: classes that declare their dependencies."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Generator, Mapping
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self

from asyncdi import _hooks as hooks
from asyncdi._dependency import Dependency
from asyncdi._errors import AsyncReleaseError, ReuseError, ServiceDisposedError
from asyncdi._flight import Slot
from asyncdi._instance_state import InstanceState, state_of
from asyncdi._release import any_async, finish_exit, shielded

if TYPE_CHECKING:
    from asyncdi._registry import Registry

__all__ = ["AsyncService", "AsyncServiceMeta"]


class AsyncServiceMeta(type):
    """Metaclass of services: collects their dependencies and records them for validation.

    ``class Svc(AsyncService, registry=my_registry)`` binds a class (and its subclasses)
    to a registry other than the global default.
    """

    __asyncdi_metaclass__: ClassVar[bool] = True
    __dependencies__: Mapping[str, Dependency[Any]]
    __asyncdi_registry__: Registry

    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        *,
        registry: Registry | None = None,
        **kwargs: Any,
    ) -> AsyncServiceMeta:
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        dependencies: dict[str, Dependency[Any]] = {}
        for klass in reversed(cls.__mro__):
            for attribute, value in vars(klass).items():
                if isinstance(value, Dependency):
                    dependencies[attribute] = value
                elif attribute in dependencies:
                    del dependencies[attribute]  # re-declared as something else
        cls.__dependencies__ = MappingProxyType(dependencies)
        if registry is None:
            registry = getattr(cls, "__asyncdi_registry__", None)
        if registry is None:
            from asyncdi._registry import registry as default_registry

            registry = default_registry
        cls.__asyncdi_registry__ = registry
        registry._services.add(cls)
        return cls


class AsyncService(metaclass=AsyncServiceMeta):
    """Base class of services: declare ``Dependency`` attributes, then ``await self.dep``.

    ``async with Svc() as svc:`` calls ``initialize()`` on enter; on exit it calls
    ``dispose()`` and then releases the values the instance owns, newest first. Both
    hooks may be sync or async. The same happens when a provider makes a service.
    An instance belongs to one event loop and keeps what it has resolved.
    """

    __asyncdi_lifecycle__: ClassVar[str] = "service"
    _asyncdi_state: ClassVar[InstanceState | None] = None  # an instance's own, once made

    def initialize(self) -> Awaitable[None] | None:
        """Called once before the instance is used; override it (sync or async)."""
        return None

    def dispose(self) -> Awaitable[None] | None:
        """Called once at release, before the instance's own values are released."""
        return None

    async def __aenter__(self) -> Self:
        await self.__asyncdi_start__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.__asyncdi_stop__(exc)

    def __enter__(self) -> Self:
        self.__asyncdi_start_sync__()
        return self

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__asyncdi_stop_sync__(exc)

    # The protocol the registry uses for services it makes; not for users to call.

    async def __asyncdi_start__(self, owned: bool = False) -> None:
        state = _begin(self)
        state.owned = owned
        try:
            result = self.initialize()
            if result is not None:
                await result
        except BaseException as error:
            finish_exit(f"{state.service} instance", error, await _release(self, state, error))
            raise

    def __asyncdi_start_sync__(self, owned: bool = False) -> None:
        state = _begin(self)
        state.owned = owned
        try:
            hooks._refuse_awaitable(self.initialize(), f"{state.service}.initialize()")
        except BaseException as error:
            finish_exit(f"{state.service} instance", error, _release_sync(self, state, error))
            raise

    async def __asyncdi_stop__(self, exc: BaseException | None = None) -> None:
        state = state_of(self)
        if state.phase == InstanceState.DISPOSED:
            return
        cancelled: list[BaseException] = []  # reported with the failures, not instead
        errors: list[BaseException] = await shielded(
            _dispose_then_release(self, state, exc), cancelled
        )
        errors += cancelled
        finish_exit(f"{state.service} instance", exc, errors)

    def __asyncdi_stop_sync__(self, exc: BaseException | None = None) -> None:
        state = state_of(self)
        if state.phase == InstanceState.DISPOSED:
            return
        errors: list[BaseException] = []
        try:
            hooks._refuse_awaitable(self.dispose(), f"{state.service}.dispose()")
        except BaseException as error:  # noqa: BLE001 - release must still run
            errors.append(error)
        try:
            errors += _release_sync(self, state, exc)
        except AsyncReleaseError:
            # What a sync exit cannot release goes to the lifespan, never lost.
            if state.registered_with is None and not state.owned:
                root = type(self).__asyncdi_registry__._root
                state.adopt([], root)
            raise
        finish_exit(f"{state.service} instance", exc, errors)

    def __asyncdi_stop_needs_await__(self) -> bool:
        return inspect.iscoroutinefunction(self.dispose) or any_async(state_of(self).held)

    def __repr__(self) -> str:
        state: InstanceState | None = self._asyncdi_state
        phase = "new" if state is None else ("new", "active", "disposed")[state.phase]
        owned = 0 if state is None else len(state.held)
        return f"<{type(self).__name__} {phase}, {owned} values owned>"


def _begin(self: AsyncService) -> InstanceState:
    state = state_of(self)
    if state.phase == InstanceState.DISPOSED:
        raise ServiceDisposedError(state.service)
    if state.phase == InstanceState.ACTIVE:
        raise ReuseError(
            f"This {state.service} instance was already initialized",
            "a service is entered once. Create a new instance.",
        )
    state.phase = InstanceState.ACTIVE
    return state


async def _dispose_then_release(
    self: AsyncService, state: InstanceState, exc: BaseException | None
) -> list[BaseException]:
    errors: list[BaseException] = []
    try:
        result = self.dispose()
        if result is not None:
            await result
    except BaseException as error:  # noqa: BLE001 - release must still run
        errors.append(error)
    errors += await _release(self, state, exc)
    return errors


def _forget(self: AsyncService, state: InstanceState) -> None:
    # Each dependency attribute now holds an awaitable that raises, so reads never reach
    # the descriptor (whose fast path does not look at the instance's state).
    state.phase = InstanceState.DISPOSED
    values = self.__dict__
    for attribute in type(self).__dependencies__:
        current = values.get(attribute)
        if type(current) is Slot:  # still being made: its creation sees the mark
            current.disown(ServiceDisposedError(state.label, attribute))
        values[attribute] = _Disposed(state.label, attribute)


class _Disposed:
    """What a disposed service holds in place of each dependency: awaiting it raises."""

    __slots__ = ("attribute", "service")

    def __init__(self, service: str, attribute: str) -> None:
        self.service = service
        self.attribute = attribute

    def __await__(self) -> Generator[Any, None, Any]:
        raise ServiceDisposedError(self.service, self.attribute)
        yield  # type: ignore[unreachable]  # pragma: no cover - makes this a generator

    def __repr__(self) -> str:
        return f"<disposed {self.service}.{self.attribute}>"


async def _release(
    self: AsyncService, state: InstanceState, exc: BaseException | None
) -> list[BaseException]:
    _forget(self, state)
    return await state.arelease(exc)


def _release_sync(
    self: AsyncService, state: InstanceState, exc: BaseException | None
) -> list[BaseException]:
    _forget(self, state)
    return state.release_sync(exc)
