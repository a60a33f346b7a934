"""Overrides: swap values or providers for the current context, or for the process.

An override is a :class:`~asyncdi._plans.View` of the registry with its records on
top. While it is entered, resolution in its context (the task that entered it and the
tasks started inside) uses that view; everything else keeps the registry's own. Once
it exits it applies nowhere, not even in a task that was started inside and outlives
the block: such a task goes back to what is around it. Singletons that depend on an
overridden name are made again for the override and kept with it, so nobody outside
ever sees them; their release still belongs to the registry's lifespan.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from asyncdi._errors import ReuseError
from asyncdi._flight import Cell
from asyncdi._plans import View

if TYPE_CHECKING:
    from asyncdi._provider import Provider
    from asyncdi._registry import Registry

__all__ = ["Overrides"]


class Overrides:
    """Overrides of some names, for one context (or, ``process_wide``, every context)."""

    __slots__ = (
        "_registry",
        "_state",
        "_token",
        "names",
        "parent",
        "process_wide",
        "providers",
        "singletons",
        "view",
    )

    def __init__(
        self, registry: Registry, providers: dict[str, Provider], *, process_wide: bool
    ) -> None:
        self._registry = registry
        self.providers = providers
        self.names = frozenset(providers)
        self.process_wide = process_wide
        self.parent: Overrides | None = None
        self.singletons: dict[Provider, Cell] = {}
        self.view: View | None = None
        self._token: Any = None
        self._state = "new"

    @property
    def active(self) -> bool:
        """Whether the override is in force (entered and not yet exited)."""
        return self._state == "active"

    def __enter__(self) -> Overrides:
        if self._state != "new":
            raise ReuseError(
                "This override was entered already",
                "an override is entered once; call registry.override(...) again.",
            )
        registry = self._registry
        parent = None if self.process_wide else registry._override_var.get()
        while parent is not None and not parent.active:
            parent = parent.parent
        if parent is None:
            parent = registry._process_override
        self.parent = parent
        maps: list[Mapping[str, Provider]] = [self.providers]
        names = set(self.names)
        while parent is not None:
            maps.append(parent.providers)
            names |= parent.names
            parent = parent.parent
        self.names = frozenset(names)
        self.view = View(registry, ChainMap(*maps, registry._providers), self)  # type: ignore[arg-type]
        self._state = "active"
        if self.process_wide:
            registry._process_override = self
        else:
            self._token = registry._override_var.set(self)
        registry._overrides_changed(+1)
        return self

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._state != "active":
            return
        self._state = "exited"
        registry = self._registry
        if self.process_wide:
            if registry._process_override is self:
                registry._process_override = self.parent
        else:
            try:
                registry._override_var.reset(self._token)
            except ValueError:  # left in another context than it was entered in
                registry._override_var.set(self.parent)
        registry._overrides_changed(-1)
        self.singletons.clear()

    async def __aenter__(self) -> Overrides:
        return self.__enter__()

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(et, exc, tb)

    def __repr__(self) -> str:
        where = "process-wide" if self.process_wide else "in its context"
        return f"<Overrides {self._state} {where}: {', '.join(sorted(self.providers))}>"
