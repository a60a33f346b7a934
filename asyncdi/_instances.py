"""Resolution for service instances: ``await svc.dep`` the first time.

The descriptor's cache (see ``Dependency.__get__``) sends a first read here: a made
singleton's shared done future, or an INSTANCE value made for this instance. Mixed into
the registry after the core engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asyncdi import _hooks as hooks
from asyncdi._dependency import _keep, _raise
from asyncdi._engine import (
    _ASYNC,
    _DISPOSED,
    _INSTANCE,
    _SINGLETON,
    _VALUE,
    Engine,
    _mechanism,
    _note,
    _now,
    _running_loop,
    _weak,
)
from asyncdi._errors import MissingProviderError, ServiceDisposedError
from asyncdi._flight import MISS, Slot, done_future, make_slot
from asyncdi._instance_state import STATE_KEY, InstanceState, state_of
from asyncdi._provider import Provider
from asyncdi._release import Mechanism

if TYPE_CHECKING:
    from asyncdi._dependency import Dependency

__all__ = ["InstanceResolution"]


class InstanceResolution(Engine):
    """The first reads of a service instance's dependencies."""

    async def _instance_value(
        self, provider: Provider, path: tuple[str, ...], instance: Any, attribute: str
    ) -> Any:
        """The first read of an INSTANCE dependency, made the short way when it can be:
        an async function or a class whose arguments are cached (see ``_create``, which
        this mirrors for that case with a fraction of its work; a fresh service is
        measured against hand-written code). Anything else goes through ``_create``.
        """
        if not provider.fast_instance or provider.cached_args_epoch is not self._epoch:
            return await self._create(provider, path, None, None, instance, attribute)
        values = instance.__dict__
        current = values.get(attribute)
        if current is not None:  # another read got here first
            return await current
        slot = values[attribute] = Slot()
        slot.instance = instance
        slot.attribute = attribute
        slot.value = MISS
        slot.waiters = None
        count = provider.created
        started = _now() if not count & 15 else 0
        try:
            value = provider.factory(*provider.cached_args)
            if provider.kind is _ASYNC:
                value = await value
            if type(value) is not provider.plain_type:  # it may need releasing
                await self._hold(provider, value, instance)
            state: InstanceState | None = values.get(STATE_KEY)
            if state is not None and state.phase == _DISPOSED:
                raise ServiceDisposedError(state.label, attribute)
        except BaseException as error:
            slot.abandon(values, error)
            provider.failures += 1
            _note(error, (*path, provider.name))
            raise
        slot.value = value
        slot.instance = _weak(instance)  # no reference cycle through the instance
        if slot.waiters:  # concurrent readers may have arrived while it was made
            slot.wake(None)  # type: ignore[unreachable]
        provider.created = count + 1
        if started:
            provider.timed += 1
            provider.creation_ns += _now() - started
        return value

    async def _hold(self, provider: Provider, value: Any, instance: Any) -> None:
        """Hand a value that may need releasing to the instance that asked for it."""
        mechanism = _mechanism(provider, value)
        if not mechanism:
            return
        owner = state_of(instance)
        if owner.closed:
            raise ServiceDisposedError(owner.label, provider.name)
        held = (mechanism, value, None, None, provider)
        owner.held.append(held)
        if mechanism == Mechanism.HOOKS:
            try:
                await hooks.start(value)
            except BaseException:
                owner.held.remove(held)
                raise
        provider.held_made += 1

    def _first_read(self, dependency: Dependency[Any], instance: Any) -> Any:
        """``instance.attr`` when the Dependency had nothing cached: a done future if the
        value exists, else a coroutine that resolves it. Fills the Dependency's cache."""
        name: str = dependency.name  # type: ignore[assignment]
        overrides = self._override_var.get()
        provider = overrides.providers.get(name) if overrides is not None else None
        if provider is None:
            provider = self._providers.get(name)
            if provider is None:
                return _raise(MissingProviderError(name, dependency.path, self._providers))
        future = None
        if provider.scope is _SINGLETON:
            if provider.kind is _VALUE:
                future = provider.ready
            else:
                cells = self._singletons if overrides is None else self._singleton_cells(provider)
                cell = cells.get(provider)
                future = cell.future if cell is not None else None
        if not self._active_overrides and (future is not None or provider.scope is _INSTANCE):
            dependency._cached_future = future
            dependency._cached_provider = provider
            dependency._cached_epoch = self._epoch  # last: it makes the two above valid
        if future is not None:
            _keep(instance, dependency.attribute, future)  # type: ignore[arg-type]
            return future
        if provider.scope is _INSTANCE:
            return self._instance_value(
                provider,
                dependency.path,
                instance,
                dependency.attribute,  # type: ignore[arg-type]
            )
        return self._resolve_attribute(dependency, instance, provider)

    async def _resolve_attribute(
        self, dependency: Dependency[Any], instance: Any, provider: Provider
    ) -> Any:
        """First read of a SINGLETON or REQUEST dependency that is not made yet."""
        values = instance.__dict__
        attribute: str = dependency.attribute  # type: ignore[assignment]
        current = values.get(attribute)
        if current is not None:  # another read got here first
            return await current
        slot = make_slot(instance, attribute)
        values[attribute] = slot
        try:
            value = await self._obtain(provider, dependency.path, None, None)
            state: InstanceState | None = values.get(STATE_KEY)
            if state is not None and state.phase == _DISPOSED:
                raise ServiceDisposedError(state.label, attribute)
        except BaseException as error:
            slot.abandon(values, error)
            raise
        if provider.kind is _VALUE:
            if provider.ready is None:
                provider.ready = done_future(_running_loop(), value)
            future = provider.ready
        else:
            cell = (
                self._singleton_cells(provider).get(provider)
                if provider.scope is _SINGLETON
                else None
            )
            if cell is not None and cell.ready and cell.value is value:
                if cell.future is None:
                    cell.future = done_future(_running_loop(), value)
                future = cell.future
            else:
                future = done_future(_running_loop(), value)
        values[attribute] = future
        if slot.waiters:
            slot.wake(None)
        return value
