"""Request scopes: ``async with registry.scope():`` and its sync twin."""

from __future__ import annotations

from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING

from asyncdi._flight import Cell
from asyncdi._release import Owner, finish_exit

if TYPE_CHECKING:
    from asyncdi._provider import Provider
    from asyncdi._registry import Registry

__all__ = ["RequestScope"]


class RequestScope(Owner):
    """One request scope: the ``REQUEST`` values made in it, released when it exits.

    Held in a ``ContextVar`` of its registry, so tasks started inside see it, and a
    scope entered inside another sees the outer one's values.
    """

    __slots__ = ("_token", "_var", "cells", "depth", "parent", "registry")

    def __init__(self, registry: Registry, var: ContextVar[RequestScope | None]) -> None:
        super().__init__("the request scope")
        self.registry = registry
        self._var = var
        self.parent: RequestScope | None = None
        self.cells: dict[Provider, Cell] = {}
        self.depth = 0
        self._token: Token[RequestScope | None] | None = None

    def _enter(self) -> RequestScope:
        if self._token is not None or self.closed:
            raise RuntimeError(
                "A request scope can be entered once; call registry.scope() for a new one."
            )
        self.parent = self._var.get()
        if self.parent is not None:
            self.depth = self.parent.depth + 1
        self._token = self._var.set(self)
        self.registry._open_scopes.add(self)
        return self

    def _leave(self) -> None:
        if self._token is not None:
            try:
                self._var.reset(self._token)
            except ValueError:  # exited in another context than it was entered in
                self._var.set(self.parent)
        self.registry._open_scopes.discard(self)
        self.cells.clear()

    async def __aenter__(self) -> RequestScope:
        return self._enter()

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            errors = await self.arelease(exc)
        finally:
            self._leave()
        finish_exit("the request scope", exc, errors)

    def __enter__(self) -> RequestScope:
        return self._enter()

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            errors = self.release_sync(exc)
        finally:
            self._leave()
        finish_exit("the request scope", exc, errors)

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("open" if self._token else "not entered")
        return f"<RequestScope {state}, depth {self.depth}, {len(self.held)} values owned>"
