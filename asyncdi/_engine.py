"""Resolution: find a name's provider, make its value once per scope, own its release.

This is the machinery behind ``Registry.resolve`` (and, through the layers built on it,
``await service.dep`` in ``_instances.py`` and ``Registry.get`` in
``_sync_resolution.py``). It is written for speed, because every Python call and every
coroutine layer costs 100-150 ns on CPython 3.11: a cached value is found without
awaiting anything, making a value is one coroutine around the provider's own, and the
common cases (a request value from an async generator, an instance's dependency with
cached arguments) take a short way that does only what they need.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import types
import weakref
from collections.abc import Coroutine
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final

from asyncdi import _hooks as hooks
from asyncdi._errors import (
    AsyncDIError,
    CaptiveDependencyError,
    CycleError,
    MissingProviderError,
    NoActiveScopeError,
    RegistryClosedError,
    ScopeClosedError,
    ServiceDisposedError,
    format_path,
)
from asyncdi._flight import MAKING, MISS, Cell, Slot, done_future
from asyncdi._instance_state import STATE_KEY, InstanceState, state_of
from asyncdi._overrides import Overrides
from asyncdi._provider import NO_DEFAULT, Kind, Provider
from asyncdi._release import Held, Mechanism, Owner, finish_exit
from asyncdi._scope import Scope

if TYPE_CHECKING:
    from asyncdi._request_scope import RequestScope

__all__ = ["NOTE_PREFIX", "Engine", "resolving_path"]

NOTE_PREFIX: Final = "asyncdi: while resolving "

# The path registry.get is resolving, seen by sync provider bodies that call get() again,
# so a cycle through them is a CycleError. (The async path finds such a cycle without
# it: a waiter sees its own task's creation on its stack, see _wait_for.)
_RESOLVING: ContextVar[tuple[str, ...]] = ContextVar("asyncdi.resolving", default=())

_SINGLETON: Final = Scope.SINGLETON
_REQUEST: Final = Scope.REQUEST
_INSTANCE: Final = Scope.INSTANCE
_VALUE: Final = Kind.VALUE
_SYNC: Final = Kind.SYNC
_ASYNC: Final = Kind.ASYNC
_GENERATOR: Final = Kind.GENERATOR
_ASYNC_GENERATOR: Final = Kind.ASYNC_GENERATOR
_DISPOSED: Final = InstanceState.DISPOSED
_AGEN_RELEASE: Final = Mechanism.ASYNC_GENERATOR
_MISS: Final = object()
_SKIP: Final = object()
_IN_FLIGHT: Final[list[Any]] = []  # never appended to: a creation nobody waits for yet
_NO_ARGS: Final[list[Any]] = []  # never mutated: the arguments of a provider without any
_now = time.perf_counter_ns
_weak = weakref.ref
_getframe = sys._getframe
_running_loop = asyncio.get_running_loop
_RUNTIME_KINDS: Final = {
    types.CoroutineType: Kind.ASYNC,
    types.GeneratorType: Kind.GENERATOR,
    types.AsyncGeneratorType: Kind.ASYNC_GENERATOR,
}
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
        # Replaced whenever something cached outside the registry could go stale:
        # registration changes, singletons released, or an override entered anywhere.
        # Dependencies and providers keep what they cached together with the epoch.
        self._epoch = object()
        self._active_overrides = 0
        self._lock = threading.RLock()
        self._closures: dict[str, frozenset[str]] = {}

    def _invalidate(self) -> None:
        """Make every cache kept outside the registry stale."""
        self._epoch = object()

    def _override_entered(self) -> None:
        with self._lock:
            self._active_overrides += 1
            self._invalidate()

    def _override_left(self) -> None:
        with self._lock:
            self._active_overrides -= 1

    # -- lookup ---------------------------------------------------------------------

    def _provider(self, name: str, path: tuple[str, ...]) -> Provider:
        """The provider of ``name`` here, or the error that says what is registered."""
        provider = self._overridden(name)
        if provider is None:
            raise MissingProviderError(name, path, self._providers)
        return provider

    def _overridden(self, name: str) -> Provider | None:
        """The provider of ``name`` with the current context's overrides applied."""
        overrides = self._override_var.get()
        if overrides is not None:
            provider = overrides.providers.get(name)
            if provider is not None:
                return provider
        return self._providers.get(name)

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
        """Where a singleton is kept: the registry, or the override it depends on."""
        overrides = self._override_var.get()
        if overrides is not None and (
            provider.name in overrides.names
            or not overrides.names.isdisjoint(self._closure(provider.name))
        ):
            return overrides.singletons
        return self._singletons

    def _default_owner(self) -> Owner:
        scope = self._scope_var.get()
        return scope if scope is not None else self._singleton_owner

    def _request_scope(self, provider: Provider, path: tuple[str, ...]) -> RequestScope:
        scope = self._scope_var.get()
        if scope is None:
            raise NoActiveScopeError(provider.name, path)
        if scope.closed:
            raise ScopeClosedError("the request scope", provider.name)
        return scope

    def _cell(
        self, provider: Provider, path: tuple[str, ...], holder: str | None
    ) -> tuple[Cell, Owner]:
        """The cell that keeps ``provider``'s value here, and who releases that value."""
        if provider.scope is _SINGLETON:
            cells = self._singleton_cells(provider)
            cell = cells.get(provider)
            if cell is None:
                if self._closed:
                    raise RegistryClosedError(f"registry {self.name!r}", provider.name)
                cell = cells[provider] = Cell()
            return cell, self._singleton_owner
        if holder is not None:
            raise CaptiveDependencyError((*path, provider.name), holder, provider.name)
        scope: RequestScope | None = self._request_scope(provider, path)
        innermost = scope
        while scope is not None:  # an inner scope sees the values of outer ones
            found = scope.cell(provider)
            if found is not None and (found.ready or found.creator is not None):
                return found, scope
            scope = scope.parent
        cell = innermost.cells[provider] = Cell()  # type: ignore[union-attr]
        return cell, innermost  # type: ignore[return-value]

    # -- async resolution -----------------------------------------------------------

    async def _obtain(
        self,
        provider: Provider,
        path: tuple[str, ...],
        owner: Owner | None,
        holder: str | None,
        instance: Any = None,
    ) -> Any:
        """The value of ``provider`` for its scope, made if need be."""
        scope = provider.scope
        if scope is _REQUEST and holder is None:
            request = self._scope_var.get()
            if request is None or request.closed or request.parent is not None:
                cell, cell_owner = self._cell(provider, path, holder)
            else:  # the common case, one open scope: no lookups beyond its own cells
                found = request.cell(provider)
                if found is None:
                    found = request.cells[provider] = Cell()
                cell, cell_owner = found, request
        elif provider.kind is _VALUE:
            return provider.value
        elif scope is _INSTANCE:
            return await self._create(provider, path, owner, holder, instance)
        else:
            cell, cell_owner = self._cell(provider, path, holder)
        if cell.ready:
            return cell.value
        return await self._create(provider, path, cell_owner, None, cell=cell)

    async def resolve(self, name: str, /) -> Any:
        """Make, or find, the value of ``name`` in the current context.

        The common request value is made here the short way (a request scope cycle
        is measured against hand-written code): an async generator provider with
        cached arguments, in one open scope. Its scope's cells hold ``MAKING`` while
        it runs and then the value itself, no Cell; a concurrent resolver turns the
        mark into a Cell to wait on (``RequestScope.cell``), filled here.
        """
        # A context variable read costs; most code runs with no override anywhere.
        provider = self._overridden(name) if self._active_overrides else self._providers.get(name)
        if provider is None:
            raise MissingProviderError(name, (), self._providers)
        if provider.scope is _REQUEST:
            scope = self._scope_var.get()
            if scope is not None and scope.parent is None and not scope.closed:
                cells = scope.cells
                entry = cells.get(provider, _MISS)
                if entry is not _MISS:
                    if entry is not MAKING and type(entry) is not Cell:
                        return entry  # made in this scope already
                elif provider.fast_epoch is self._epoch:  # eligible: see Provider
                    cells[provider] = MAKING
                    making = provider  # noqa: F841 - _wait_for reads it: the creator mark
                    count = provider.created
                    started = _now() if not count & 15 else 0
                    try:
                        agen = provider.factory(*provider.cached_args)
                        try:
                            value = await agen.__anext__()
                        except StopAsyncIteration:
                            raise _no_yield(provider) from None
                        held = (_AGEN_RELEASE, value, agen, None, provider)
                        if scope.closed:  # the scope ended meanwhile: release it now
                            orphan = Owner(scope.label)  # type: ignore[unreachable]
                            # released uncounted, as it was never counted as made
                            orphan.held.append((*held[:4], None))
                            finish_exit(repr(provider.name), None, await orphan.arelease())
                            raise ScopeClosedError(scope.label, provider.name)
                    except BaseException as error:
                        entry = cells.get(provider)
                        if entry is MAKING:
                            del cells[provider]
                        elif type(entry) is Cell:
                            entry.creator = None
                            entry.fail(error)
                        provider.failures += 1
                        _note(error, (provider.name,))
                        raise
                    scope.held.append(held)
                    provider.created = count + 1  # (generator values: held_made is created)
                    if started:
                        provider.timed += 1
                        provider.creation_ns += _now() - started
                    if not scope.contended:  # nobody turned the mark into a Cell
                        cells[provider] = value
                    elif type(entry := cells.get(provider)) is Cell:
                        entry.creator = None
                        entry.value = value
                        entry.ready = True
                        woken, entry.waiters = entry.waiters, None
                        if woken:
                            _wake(woken)
                    return value
        return await self._obtain(provider, (), None, None)

    async def _arguments(
        self, provider: Provider, path: tuple[str, ...], holder: str | None
    ) -> tuple[list[Any], Owner | None]:
        """Resolve a provider's parameters; INSTANCE ones are owned by ``children``.

        When every parameter came from a made singleton or a value, with no override
        active, the list is kept on the provider until the registry's version changes:
        singletons do not change within a version, so the next call skips all this.
        """
        args: list[Any] = []
        children: Owner | None = None
        cacheable = True
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
            cacheable = False
            if dep.scope is _INSTANCE and children is None:
                children = Owner(provider.name)
            args.append(await self._obtain(dep, path, children, holder))
        if cacheable and not self._active_overrides:
            provider.cached_args = args
            provider.cached_args_epoch = self._epoch
            if provider.fast_request:
                provider.fast_epoch = self._epoch
        return args, children

    async def _create(
        self,
        provider: Provider,
        path: tuple[str, ...],
        owner: Owner | None,
        holder: str | None,
        instance: Any = None,
        attribute: str | None = None,
        cell: Cell | None = None,
    ) -> Any:
        """Make one value of ``provider``, and hand its release to ``owner``.

        ``path`` is the path up to (not including) this provider. With ``attribute``,
        this is the first read of ``instance.attribute`` (an INSTANCE dependency): a
        slot marks the creation in the instance for concurrent readers, and ``owner``
        is None because the instance's state is made only if the value needs releasing.
        With ``cell`` (a SINGLETON or REQUEST value), the value is made once for all
        concurrent callers and kept in the cell.
        """
        name = provider.name
        if name in path:
            raise _cycle(name, path)
        if cell is not None:
            while not cell.ready:
                if cell.creator is None:
                    cell.waiters = _IN_FLIGHT
                    cell.creator = _getframe()
                    break
                await _wait_for(cell, provider, path)
            else:
                return cell.value
        slot: Slot | None = None
        if attribute is not None:
            values = instance.__dict__
            current = values.get(attribute)
            if current is not None:  # another read got here first
                return await current
            slot = values[attribute] = Slot()  # make_slot(), inlined
            slot.instance = instance
            slot.attribute = attribute
            slot.value = MISS
            slot.waiters = None
        scope = provider.scope
        if scope is _SINGLETON:
            holder = name
        elif scope is _REQUEST:
            holder = None
        count = provider.created
        started = _now() if count < 32 or not count & 15 else 0  # time a sample, not all
        children: Owner | None = None
        held: Held | None = None
        adopted = False
        try:
            if provider.cached_args_epoch is self._epoch:
                args = provider.cached_args
            elif provider.params:
                args, children = await self._arguments(provider, (*path, name), holder)
            else:
                args = _NO_ARGS
                if not self._active_overrides:
                    provider.cached_args_epoch = self._epoch  # cached_args is [] already
                    if provider.fast_request:
                        provider.fast_epoch = self._epoch
            kind = provider.kind
            result = provider.factory(*args) if provider.all_positional else _call(provider, args)
            if kind is _SYNC:
                kind = _RUNTIME_KINDS.get(type(result), _SYNC)
            if kind is _ASYNC:
                value = await result
            elif kind is _ASYNC_GENERATOR:
                try:
                    value = await result.__anext__()
                except StopAsyncIteration:
                    raise _no_yield(provider) from None
                held = (_AGEN_RELEASE, value, result, children, provider)
            elif kind is _GENERATOR:
                value = _first_yield(result, provider)
                held = (Mechanism.GENERATOR, value, result, children, provider)
            else:
                value = result
            if held is None and (type(value) is not provider.plain_type or children is not None):
                mechanism = _mechanism(provider, value)
                if mechanism or children is not None:
                    held = (mechanism, value, None, children, provider)
            if held is not None:
                if owner is None:
                    owner = self._default_owner() if instance is None else state_of(instance)
                if owner.closed:
                    adopted = True  # released right here, with what was made for it
                    orphan = Owner(owner.label)
                    # released uncounted, as it was never counted as made
                    orphan.held.append((*held[:4], None))
                    finish_exit(repr(name), None, await orphan.arelease())
                    if owner is self._singleton_owner:
                        raise RegistryClosedError(f"registry {self.name!r}", name)
                    raise ScopeClosedError(owner.label, name)
                owner.held.append(held)
                if held[0] == Mechanism.HOOKS:
                    try:
                        await hooks.start(value)
                    except BaseException:
                        # Never started, so never released; what was made for it is.
                        if held in owner.held:
                            owner.held.remove(held)
                        raise
                adopted = True
                if kind is not _ASYNC_GENERATOR and kind is not _GENERATOR:
                    provider.held_made += 1
            if slot is not None:
                state: InstanceState | None = values.get(STATE_KEY)
                if state is not None and state.phase == _DISPOSED:
                    raise ServiceDisposedError(state.label, attribute)
                slot.value = value
                slot.instance = _weak(instance)  # no reference cycle through the instance
                if slot.waiters:
                    slot.wake(None)
        except BaseException as error:
            if cell is not None:
                cell.creator = None
                cell.fail(error)
            if slot is not None:
                slot.abandon(values, error)
            provider.failures += 1
            if children is not None and not adopted:
                finish_exit(repr(name), error, await children.arelease(error))
            _note(error, (*path, name))
            raise
        provider.created = count + 1
        if started:
            provider.timed += 1
            provider.creation_ns += _now() - started
        if cell is not None:
            cell.creator = None
            cell.value = value
            cell.ready = True
            woken, cell.waiters = cell.waiters, None
            if woken:
                _wake(woken)
            if scope is _SINGLETON:
                cell.future = done_future(_running_loop(), value)
        return value


async def _wait_for(cell: Cell, provider: Provider, path: tuple[str, ...]) -> None:
    """Wait until the cell's creation ends: made, failed (raised here) or abandoned."""
    creator = cell.creator
    frame: types.FrameType | None = _getframe()
    while frame is not None:
        if frame is creator or (
            creator is MAKING
            and frame.f_code is _MAKE_IN_SCOPE_CODE
            and frame.f_locals.get("making") is provider
        ):
            # The creation is running right now, in this very task: its provider's
            # body asked for its own value. Waiting would wait forever.
            raise CycleError((provider.name, provider.name), path)
        frame = frame.f_back
    waiters = cell.waiters
    if waiters is None or waiters is _IN_FLIGHT:
        waiters = cell.waiters = []
    waiter: asyncio.Future[Any] = _running_loop().create_future()
    waiters.append(waiter)
    await waiter  # the creator's exception, or a wake-up to look again


_MAKE_IN_SCOPE_CODE: Final = Engine.resolve.__code__


def _wake(waiters: list[asyncio.Future[Any]]) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)


def _mechanism(provider: Provider, value: Any) -> int:
    """How a value a plain function or class made is released (generators aside).

    Remembers the value's type when it needs no release at all, so the next value of
    that type skips this (looking up a missing class attribute costs ~200 ns).
    """
    if provider.close:
        return Mechanism.CLOSE
    value_type = type(value)
    if getattr(value_type, "__asyncdi_lifecycle__", None) is not None:
        return Mechanism.HOOKS
    provider.plain_type = value_type
    return Mechanism.NONE


def _call(provider: Provider, args: list[Any]) -> Any:
    """Call with keywords where a parameter was skipped for its own default."""
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for param, value in zip(provider.params, args, strict=True):
        if param.positional_only:
            positional.append(param.default if value is _SKIP else value)
        elif value is not _SKIP:
            keywords[param.parameter] = value
    return provider.factory(*positional, **keywords)


def _cycle(name: str, path: tuple[str, ...]) -> CycleError:
    start = path.index(name)
    return CycleError((*path[start:], name), path[:start])


def _first_yield(generator: Any, provider: Provider) -> Any:
    """The value a generator provider yields, or a clear error if it yields none."""
    try:
        return next(generator)
    except StopIteration:
        raise _no_yield(provider) from None


def _no_yield(provider: Provider) -> RuntimeError:
    return RuntimeError(
        f"provider {provider.name!r} ({provider.describe()}) finished without yielding a "
        "value; a generator provider must yield exactly once."
    )


def _raise(error: Exception) -> Coroutine[Any, Any, Any]:
    async def fail() -> Any:
        raise error

    return fail()
