"""Resolution: find a name's provider, make its value once per scope, own its release.

This is the machinery behind ``Registry.resolve``, ``Registry.get`` and
``await service.dep``. Paths through it are written for speed: a cached singleton is
found without awaiting anything, and a service's first read of an already-made
singleton stores a shared done future in the instance.
"""

from __future__ import annotations

import asyncio
import threading
import time
import types
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final

from asyncdi import _hooks as hooks
from asyncdi._errors import (
    AsyncDIError,
    AsyncProviderError,
    CaptiveDependencyError,
    CycleError,
    MissingProviderError,
    NoActiveScopeError,
    RegistryClosedError,
    ScopeClosedError,
    ServiceDisposedError,
    format_path,
)
from asyncdi._flight import Cell, obtain
from asyncdi._instance_state import STATE_KEY, InstanceState
from asyncdi._overrides import Overrides
from asyncdi._provider import NO_DEFAULT, Kind, Provider
from asyncdi._release import Held, Mechanism, Owner, finish_exit
from asyncdi._scope import Scope

if TYPE_CHECKING:
    from asyncdi._dependency import Dependency
    from asyncdi._request_scope import RequestScope

__all__ = ["NOTE_PREFIX", "Engine", "resolving_path"]

NOTE_PREFIX: Final = "asyncdi: while resolving "

# The path being resolved, seen by provider bodies that resolve more themselves, so a
# cycle through them is reported instead of waiting for itself forever.
_RESOLVING: ContextVar[tuple[str, ...]] = ContextVar("asyncdi.resolving", default=())

_SINGLETON: Final = Scope.SINGLETON
_REQUEST: Final = Scope.REQUEST
_INSTANCE: Final = Scope.INSTANCE
_VALUE: Final = Kind.VALUE
_SKIP: Final = object()
_RETURNED: Final = {Kind.ASYNC: "a coroutine", Kind.ASYNC_GENERATOR: "an async generator"}


def resolving_path() -> tuple[str, ...]:
    """The resolution path of the provider running in this context, if any."""
    return _RESOLVING.get()


def _note(error: BaseException, path: tuple[str, ...]) -> None:
    """Add the resolution path to a provider's own exception, once (PEP 678)."""
    if isinstance(error, AsyncDIError) or not isinstance(error, Exception):
        return
    for note in getattr(error, "__notes__", ()):
        if isinstance(note, str) and note.startswith(NOTE_PREFIX):
            return
    error.add_note(NOTE_PREFIX + format_path(path))


class Engine:
    """The resolution core a :class:`~asyncdi.Registry` is built on."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._providers: dict[str, Provider] = {}
        self._singletons: dict[Provider, Cell] = {}
        self._singleton_owner = Owner(f"the singletons of registry {name!r}")
        self._scope_var: ContextVar[RequestScope | None] = ContextVar(
            f"asyncdi.scope.{name}", default=None
        )
        self._override_var: ContextVar[Overrides | None] = ContextVar(
            f"asyncdi.override.{name}", default=None
        )
        self._closed = False
        self._lock = threading.RLock()
        self._closures: dict[str, frozenset[str]] = {}
        self._open_scopes: set[RequestScope] = set()

    # -- lookup ---------------------------------------------------------------------

    def _provider(self, name: str, path: tuple[str, ...]) -> Provider:
        overrides = self._override_var.get()
        if overrides is not None:
            provider = overrides.providers.get(name)
            if provider is not None:
                return provider
        provider = self._providers.get(name)
        if provider is None:
            raise MissingProviderError(name, path, self._providers)
        return provider

    def _closure(self, name: str) -> frozenset[str]:
        """Every registered name ``name`` depends on, directly or not."""
        closure = self._closures.get(name)
        if closure is None:
            seen: set[str] = set()
            stack = [name]
            while stack:
                provider = self._providers.get(stack.pop())
                if provider is None:
                    continue
                for dependency in provider.dependencies:
                    if dependency not in seen:
                        seen.add(dependency)
                        stack.append(dependency)
            closure = self._closures[name] = frozenset(seen)
        return closure

    def _singleton_cells(self, provider: Provider) -> dict[Provider, Cell]:
        overrides = self._override_var.get()
        if overrides is not None and (
            provider.name in overrides.names
            or not overrides.names.isdisjoint(self._closure(provider.name))
        ):
            return overrides.singletons
        return self._singletons

    def _default_owner(self) -> Owner:
        scope = self._scope_var.get()
        return scope.owner if scope is not None else self._singleton_owner

    def _request_scope(self, provider: Provider, path: tuple[str, ...]) -> RequestScope:
        scope = self._scope_var.get()
        if scope is None:
            raise NoActiveScopeError(provider.name, path)
        if scope.closed:
            raise ScopeClosedError("the request scope", provider.name)
        return scope

    # -- async resolution -----------------------------------------------------------

    async def _obtain(
        self, provider: Provider, path: tuple[str, ...], owner: Owner, holder: str | None
    ) -> Any:
        scope = provider.scope
        if scope is _SINGLETON:
            if provider.kind is _VALUE:
                return provider.value
            cells = self._singleton_cells(provider)
            cell = cells.get(provider)
            if cell is None:
                if self._closed:
                    raise RegistryClosedError(f"registry {self.name!r}", provider.name)
                cell = cells[provider] = Cell()
            elif cell.ready:
                return cell.value
            elif provider.name in path:
                raise _cycle(provider.name, path)
            return await obtain(cell, self._create, provider, path, self._singleton_owner, None)
        if scope is _REQUEST:
            if holder is not None:
                raise CaptiveDependencyError((*path, provider.name), holder, provider.name)
            request = self._request_scope(provider, path)
            cell = request.find(provider)
            if cell is None:
                cell = request.cells[provider] = Cell()
            elif cell.ready:
                return cell.value
            elif provider.name in path:
                raise _cycle(provider.name, path)
            return await obtain(cell, self._create, provider, path, request.owner, None)
        return await self._create(provider, path, owner, holder)

    async def _create(
        self, provider: Provider, path: tuple[str, ...], owner: Owner, holder: str | None
    ) -> Any:
        name = provider.name
        if name in path:
            raise _cycle(name, path)
        path = (*path, name)
        scope = provider.scope
        if scope is _SINGLETON:
            holder = name
        elif scope is _REQUEST:
            holder = None
        started = time.perf_counter_ns()
        children: Owner | None = None
        held: Held | None = None
        try:
            args: list[Any] = []
            if provider.params:
                overrides = self._override_var.get()
                for param in provider.params:
                    dependency = param.dependency
                    dep = overrides.providers.get(dependency) if overrides is not None else None
                    if dep is None:
                        dep = self._providers.get(dependency)
                        if dep is None:
                            if param.default is NO_DEFAULT:
                                raise MissingProviderError(dependency, path, self._providers)
                            args.append(_SKIP)
                            continue
                    if dep.kind is _VALUE:
                        args.append(dep.value)
                        continue
                    if dep.scope is _SINGLETON and overrides is None:
                        cell = self._singletons.get(dep)
                        if cell is not None and cell.ready:
                            args.append(cell.value)
                            continue
                    elif dep.scope is _INSTANCE and children is None:
                        children = Owner(f"the dependencies of {name!r}")
                    args.append(
                        await self._obtain(
                            dep, path, owner if children is None else children, holder
                        )
                    )
            value, held = await self._call(provider, args, path, children)
            if held is not None:
                held.provider = provider
                if owner.closed:
                    orphan = Owner(owner.label)
                    orphan.held.append(held)
                    finish_exit(repr(name), None, await orphan.arelease())
                    raise ScopeClosedError(owner.label, name)
                owner.held.append(held)
                if held.mechanism == Mechanism.HOOKS:
                    await self._start(value, held, owner)
                provider.live += 1
        except BaseException as error:
            provider.failures += 1
            if children is not None and held is None:
                finish_exit(repr(name), error, await children.arelease(error))
            _note(error, path)
            raise
        provider.created += 1
        provider.creation_ns += time.perf_counter_ns() - started
        return value

    async def _call(
        self, provider: Provider, args: list[Any], path: tuple[str, ...], children: Owner | None
    ) -> tuple[Any, Held | None]:
        factory = provider.factory
        kind = provider.kind
        token = _RESOLVING.set(path)
        try:
            result = factory(*args) if provider.all_positional else _call_mixed(provider, args)
            if kind is Kind.SYNC:
                kind = _runtime_kind(result)  # e.g. a lambda returning a generator
            if kind is Kind.ASYNC:
                value = await result
            elif kind is Kind.ASYNC_GENERATOR:
                try:
                    value = await result.__anext__()
                except StopAsyncIteration:
                    raise _no_yield(provider) from None
                return value, Held(
                    repr(provider.name), value, Mechanism.ASYNC_GENERATOR, result, children
                )
            elif kind is Kind.GENERATOR:
                try:
                    value = next(result)
                except StopIteration:
                    raise _no_yield(provider) from None
                return value, Held(
                    repr(provider.name), value, Mechanism.GENERATOR, result, children
                )
            else:
                value = result
        finally:
            _RESOLVING.reset(token)
        if provider.close:
            mechanism = Mechanism.CLOSE
        elif getattr(type(value), "__asyncdi_lifecycle__", False):
            mechanism = Mechanism.HOOKS
        elif children is None:
            return value, None
        else:
            mechanism = Mechanism.NONE
        return value, Held(repr(provider.name), value, mechanism, None, children)

    async def _start(self, value: Any, held: Held, owner: Owner) -> None:
        """Initialize a value with lifecycle hooks; on failure, release what it got."""
        try:
            await hooks.start(value)
        except BaseException as error:
            if held in owner.held:
                owner.held.remove(held)
            if held.children is not None:
                finish_exit(held.label, error, await held.children.arelease(error))
                held.children = None
            raise

    async def _resolve_attribute(self, dependency: Dependency[Any], instance: Any) -> Any:
        """``await instance.attr`` the first time: resolve, then leave a done future."""
        values = instance.__dict__
        state: InstanceState | None = values.get(STATE_KEY)
        if state is None:
            state = values[STATE_KEY] = InstanceState(type(instance).__name__)
        elif state.phase == InstanceState.DISPOSED:
            raise ServiceDisposedError(state.service, dependency.attribute)
        attribute: str = dependency.attribute  # type: ignore[assignment]
        label = dependency.label
        provider = self._provider(dependency.name, (label,))  # type: ignore[arg-type]
        loop = state.loop
        if loop is None:
            loop = state.loop = asyncio.get_running_loop()
        if provider.scope is _SINGLETON:
            if provider.kind is _VALUE:
                value = provider.value
                future = loop.create_future()
                future.set_result(value)
                values[attribute] = future
                return value
            cell = self._singleton_cells(provider).get(provider)
            if cell is not None and cell.ready:
                values[attribute] = cell.done_future(loop)
                return cell.value
        cell = state.cells.get(attribute)
        if cell is None:
            cell = state.cells[attribute] = Cell()
        value = await obtain(cell, self._obtain, provider, (label,), state.owner, None)
        if state.phase == InstanceState.DISPOSED:
            raise ServiceDisposedError(state.service, attribute)
        state.cells.pop(attribute, None)
        shared = (
            self._singleton_cells(provider).get(provider) if provider.scope is _SINGLETON else None
        )
        if shared is not None and shared.ready and shared.value is value:
            future = shared.done_future(loop)
        else:
            future = loop.create_future()
            future.set_result(value)
        values[attribute] = future
        return value

    # -- sync resolution ------------------------------------------------------------

    def _get(
        self, provider: Provider, path: tuple[str, ...], owner: Owner, holder: str | None
    ) -> Any:
        scope = provider.scope
        if scope is _SINGLETON:
            if provider.kind is _VALUE:
                return provider.value
            cells = self._singleton_cells(provider)
            cell = cells.get(provider)
            if cell is not None and cell.ready:
                return cell.value
            with self._lock:
                cell = cells.get(provider)
                if cell is None:
                    if self._closed:
                        raise RegistryClosedError(f"registry {self.name!r}", provider.name)
                    cell = cells[provider] = Cell()
                elif cell.ready:
                    return cell.value
                elif cell.waiters is not None:
                    raise AsyncProviderError(
                        provider.name, "a value being made asynchronously", path
                    )
                value = self._create_sync(provider, path, self._singleton_owner, None)
                cell.set(value)
                return value
        if scope is _REQUEST:
            if holder is not None:
                raise CaptiveDependencyError((*path, provider.name), holder, provider.name)
            request = self._request_scope(provider, path)
            cell = request.find(provider)
            if cell is not None and cell.ready:
                return cell.value
            if cell is not None and cell.waiters is not None:
                raise AsyncProviderError(provider.name, "a value being made asynchronously", path)
            value = self._create_sync(provider, path, request.owner, None)
            new = request.cells[provider] = Cell()
            new.set(value)
            return value
        return self._create_sync(provider, path, owner, holder)

    def _create_sync(
        self, provider: Provider, path: tuple[str, ...], owner: Owner, holder: str | None
    ) -> Any:
        name = provider.name
        if name in path:
            raise _cycle(name, path)
        path = (*path, name)
        kind = provider.kind
        if kind is Kind.ASYNC or kind is Kind.ASYNC_GENERATOR:
            raise AsyncProviderError(name, f"{provider.describe()}", path[:-1])
        if provider.scope is _SINGLETON:
            holder = name
        elif provider.scope is _REQUEST:
            holder = None
        started = time.perf_counter_ns()
        children: Owner | None = None
        held: Held | None = None
        try:
            args: list[Any] = []
            for param in provider.params:
                try:
                    dep = self._provider(param.dependency, path)
                except MissingProviderError:
                    if param.default is NO_DEFAULT:
                        raise
                    args.append(_SKIP)
                    continue
                if dep.scope is _INSTANCE and children is None:
                    children = Owner(f"the dependencies of {name!r}")
                args.append(self._get(dep, path, owner if children is None else children, holder))
            token = _RESOLVING.set(path)
            try:
                result = (
                    provider.factory(*args)
                    if provider.all_positional
                    else _call_mixed(provider, args)
                )
            finally:
                _RESOLVING.reset(token)
            if kind is Kind.SYNC:
                kind = _runtime_kind(result)
                if kind is not Kind.SYNC and kind is not Kind.GENERATOR:
                    if kind is Kind.ASYNC:
                        result.close()
                    raise AsyncProviderError(
                        name, f"{provider.describe()} (it returned {_RETURNED[kind]})", path[:-1]
                    )
            if kind is Kind.GENERATOR:
                try:
                    value = next(result)
                except StopIteration:
                    raise _no_yield(provider) from None
                held = Held(repr(name), value, Mechanism.GENERATOR, result, children)
            else:
                value = result
                lifecycle = getattr(type(value), "__asyncdi_lifecycle__", False)
                if provider.close:
                    held = Held(repr(name), value, Mechanism.CLOSE, None, children)
                elif lifecycle:
                    held = Held(repr(name), value, Mechanism.HOOKS, None, children)
                elif children is not None:
                    held = Held(repr(name), value, Mechanism.NONE, None, children)
            if held is not None:
                held.provider = provider
                owner.held.append(held)
                if held.mechanism == Mechanism.HOOKS:
                    try:
                        hooks.start_sync(value)
                    except BaseException:
                        owner.held.remove(held)
                        held = None
                        raise
                provider.live += 1
        except BaseException as error:
            provider.failures += 1
            if children is not None and held is None:
                finish_exit(repr(name), error, children.release_sync(error))
            _note(error, path)
            raise
        provider.created += 1
        provider.creation_ns += time.perf_counter_ns() - started
        return value


def _call_mixed(provider: Provider, args: list[Any]) -> Any:
    """Call with keywords where a parameter was skipped for its own default."""
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for param, value in zip(provider.params, args, strict=True):
        if param.positional_only:
            positional.append(param.default if value is _SKIP else value)
        elif value is not _SKIP:
            keywords[param.parameter] = value
    return provider.factory(*positional, **keywords)


def _runtime_kind(result: object) -> Kind:
    """What a sync provider's result really is: a plain value, or something to drive."""
    kind = type(result)
    if kind is types.CoroutineType:
        return Kind.ASYNC
    if kind is types.GeneratorType:
        return Kind.GENERATOR
    if kind is types.AsyncGeneratorType:
        return Kind.ASYNC_GENERATOR
    return Kind.SYNC


def _cycle(name: str, path: tuple[str, ...]) -> CycleError:
    start = path.index(name)
    return CycleError((*path[start:], name), path[:start])


def _no_yield(provider: Provider) -> RuntimeError:
    return RuntimeError(
        f"provider {provider.name!r} ({provider.describe()}) finished without yielding a "
        "value; a generator provider must yield exactly once."
    )
