"""A registry's lifespan: validate and start up, then release everything it owns."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TYPE_CHECKING

from asyncdi._errors import ReuseError
from asyncdi._graph import creation_order
from asyncdi._provider import Kind
from asyncdi._release import finish_exit
from asyncdi._scope import Scope

if TYPE_CHECKING:
    from asyncdi._registry import Registry

__all__ = ["Lifespan"]


class Lifespan:
    """``async with registry.lifespan():`` — or ``with`` for a graph of sync providers."""

    __slots__ = ("eager", "registry", "state", "validate")

    def __init__(self, registry: Registry, *, eager: bool, validate: bool) -> None:
        self.registry = registry
        self.eager = eager
        self.validate = validate
        self.state = "new"

    def _open(self) -> None:
        registry = self.registry
        if self.state != "new":
            raise ReuseError(
                f"This lifespan of registry {registry.name!r} was entered already",
                "a lifespan is entered once; call registry.lifespan() again.",
            )
        if registry._lifespan is not None:
            raise ReuseError(
                f"The lifespan of registry {registry.name!r} is already open",
                "enter registry.lifespan() once, around the whole program.",
            )
        if self.validate:
            registry.validate()
        registry._root.closed = False  # a registry may live many lifespans
        registry._graph_changed()
        registry._lifespan = self
        self.state = "open"

    def _singleton_order(self) -> list[str]:
        """Every singleton, each after the ones it depends on (iteratively, any depth)."""
        providers = self.registry._providers
        order: list[str] = []
        seen: set[str] = set()
        for name, provider in providers.items():
            if provider.scope is not Scope.SINGLETON or name in seen:
                continue
            for step in creation_order(providers, name):
                if step not in seen:
                    seen.add(step)
                    if providers[step].scope is Scope.SINGLETON:
                        order.append(step)
        return order

    async def _start_concurrently(self) -> None:
        """Make every singleton, independent ones concurrently (a task each).

        Each task resolves one singleton; single flight does the ordering: a task
        whose singleton needs another waits for that one's creation, wherever it runs.
        If any fails the task group cancels the rest; the failure is raised as itself,
        several as an ``ExceptionGroup`` (each failure once, however many waited on it).
        """
        registry = self.registry
        names = [name for name in self._singleton_order() if not _made(registry, name)]
        if len(names) < 2:
            for name in names:
                await registry.resolve(name)
            return
        try:
            async with asyncio.TaskGroup() as group:
                for name in names:
                    group.create_task(registry.resolve(name), name=f"asyncdi eager {name!r}")
        except BaseExceptionGroup as failed:
            unique: list[BaseException] = []
            for error in failed.exceptions:
                if not any(error is seen for seen in unique):
                    unique.append(error)
            if len(unique) == 1:
                raise unique[0] from None
            raise BaseExceptionGroup(
                f"eager start-up of registry {registry.name!r}: {len(unique)} singletons failed",
                unique,
            ) from None

    def _finish(self) -> None:
        registry = self.registry
        registry._lifespan = None
        registry._root.closed = True
        registry._singletons.clear()
        registry._pools.clear()  # released with the root; the next lifespan starts afresh
        registry._graph_changed()
        self.state = "closed"

    async def __aenter__(self) -> Lifespan:
        self._open()
        if self.eager:
            try:
                await self._start_concurrently()
            except BaseException as error:
                await self.__aexit__(type(error), error, error.__traceback__)
                raise
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.state != "open":
            return
        try:
            errors = await self.registry._root.arelease(exc)
        finally:
            self._finish()
        finish_exit(f"the lifespan of registry {self.registry.name!r}", exc, errors)

    def __enter__(self) -> Lifespan:
        self._open()
        if self.eager:
            try:
                for name in self._singleton_order():
                    self.registry.get(name)
            except BaseException as error:
                self.__exit__(type(error), error, error.__traceback__)
                raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.state != "open":
            return
        try:
            errors = self.registry._root.release_sync(exc)
        finally:
            self._finish()
        finish_exit(f"the lifespan of registry {self.registry.name!r}", exc, errors)

    def __repr__(self) -> str:
        owned = len(self.registry._root.held)
        return f"<Lifespan {self.state}, {owned} values owned>"


def _made(registry: Registry, name: str) -> bool:
    """Whether there is nothing to make: a registered value, or a singleton made already."""
    provider = registry._providers[name]
    if provider.kind is Kind.VALUE:
        return True
    cell = registry._singletons.get(provider)
    return cell is not None and cell.ready
