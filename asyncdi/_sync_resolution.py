"""Synchronous resolution: ``registry.get`` and the ``with`` forms, for sync providers.

Thread-safe for singletons (one lock per registry). Refuses async providers and async
hooks with an error naming the async call to use instead.
"""

from __future__ import annotations

from typing import Any

from asyncdi import _hooks as hooks
from asyncdi._engine import (
    _ASYNC,
    _ASYNC_GENERATOR,
    _GENERATOR,
    _INSTANCE,
    _REQUEST,
    _RESOLVING,
    _RETURNED,
    _RUNTIME_KINDS,
    _SINGLETON,
    _SKIP,
    _SYNC,
    _VALUE,
    _call,
    _cycle,
    _first_yield,
    _mechanism,
    _note,
    _now,
)
from asyncdi._errors import AsyncProviderError, MissingProviderError
from asyncdi._instances import InstanceResolution
from asyncdi._provider import NO_DEFAULT, Provider
from asyncdi._release import Held, Mechanism, Owner, finish_exit

__all__ = ["SyncResolution"]


class SyncResolution(InstanceResolution):
    """``registry.get``: resolution without awaiting."""

    def _get(
        self, provider: Provider, path: tuple[str, ...], owner: Owner, holder: str | None
    ) -> Any:
        if provider.kind is _VALUE:
            return provider.value
        if provider.scope is _INSTANCE:
            return self._create_sync(provider, path, owner, holder)
        cell, cell_owner = self._cell(provider, path, holder)
        if cell.ready:
            return cell.value
        with self._lock:
            if cell.ready:  # another thread made it while this one waited for the lock
                return cell.value  # type: ignore[unreachable]
            if cell.waiters is not None:
                raise AsyncProviderError(provider.name, "a value being made asynchronously", path)
            if provider.name in path:
                raise _cycle(provider.name, path)
            value = self._create_sync(provider, path, cell_owner, None)
            cell.set(value)
            return value

    def _create_sync(
        self, provider: Provider, path: tuple[str, ...], owner: Owner, holder: str | None
    ) -> Any:
        name = provider.name
        if name in path:
            raise _cycle(name, path)
        path = (*path, name)
        kind = provider.kind
        if kind is _ASYNC or kind is _ASYNC_GENERATOR:
            raise AsyncProviderError(name, f"{provider.describe()}", path[:-1])
        if provider.scope is _SINGLETON:
            holder = name
        elif provider.scope is _REQUEST:
            holder = None
        started = _now()
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
                    children = Owner(name)
                args.append(self._get(dep, path, owner if children is None else children, holder))
            token = _RESOLVING.set(path)
            try:
                result = (
                    provider.factory(*args) if provider.all_positional else _call(provider, args)
                )
            finally:
                _RESOLVING.reset(token)
            if kind is _SYNC:
                kind = _RUNTIME_KINDS.get(type(result), _SYNC)
                if kind is _ASYNC or kind is _ASYNC_GENERATOR:
                    if kind is _ASYNC:
                        result.close()
                    raise AsyncProviderError(
                        name, f"{provider.describe()} (it returned {_RETURNED[kind]})", path[:-1]
                    )
            if kind is _GENERATOR:
                value = _first_yield(result, provider)
                held = (Mechanism.GENERATOR, value, result, children, provider)
            else:
                value = result
                mechanism = _mechanism(provider, value)
                if mechanism or children is not None:
                    held = (mechanism, value, None, children, provider)
            if held is not None:
                owner.held.append(held)
                if held[0] == Mechanism.HOOKS:
                    try:
                        hooks.start_sync(value)
                    except BaseException:
                        owner.held.remove(held)
                        held = None
                        raise
                provider.held_made += 1
        except BaseException as error:
            provider.failures += 1
            if children is not None and held is None:
                finish_exit(repr(name), error, children.release_sync(error))
            _note(error, path)
            raise
        provider.created += 1
        provider.timed += 1
        provider.creation_ns += _now() - started
        return value
