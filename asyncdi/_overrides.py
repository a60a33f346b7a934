"""Overrides: swap values or providers for the current context only."""

from __future__ import annotations

from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING

from asyncdi._flight import Cell

if TYPE_CHECKING:
    from asyncdi._engine import Engine
    from asyncdi._provider import Provider

__all__ = ["Overrides"]


class Overrides:
    """The overrides in force in one context, merged with the ones around them.

    Singletons that depend on an overridden name are made again under the override
    and kept here, not in the registry, so nobody outside the override sees them.
    Their release still belongs to the registry's lifespan.
    """

    __slots__ = (
        "_engine",
        "_entered",
        "_parent",
        "_token",
        "_var",
        "names",
        "providers",
        "singletons",
    )

    def __init__(self, engine: Engine, providers: dict[str, Provider]) -> None:
        self._engine = engine
        self._var = engine._override_var
        self._parent: Overrides | None = None
        self._entered = False
        self.providers = providers
        self.names = frozenset(providers)
        self.singletons: dict[Provider, Cell] = {}
        self._token: Token[Overrides | None] | None = None

    def __enter__(self) -> Overrides:
        if self._entered:
            raise RuntimeError("An override can be entered once; call registry.override() again.")
        self._entered = True
        parent = self._parent = self._var.get()
        if parent is not None:
            self.providers = {**parent.providers, **self.providers}
            self.names = frozenset(self.providers)
        self._token = self._var.set(self)
        self._engine._override_entered()
        return self

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        token, self._token = self._token, None
        if token is not None:
            self._engine._override_left()
            try:
                self._var.reset(token)
            except ValueError:  # left in another context than it was entered in
                self._var.set(self._parent)
        self.singletons.clear()

    async def __aenter__(self) -> Overrides:
        return self.__enter__()

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(et, exc, tb)

    def __repr__(self) -> str:
        state = "active" if self._token is not None else "inactive"
        return f"<Overrides {state}: {', '.join(sorted(self.names))}>"
