"""``Dependency[T]``: the descriptor a service declares its needs with."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from asyncdi._errors import NotAServiceError

if TYPE_CHECKING:
    from asyncdi._registry import Registry

__all__ = ["Dependency"]

T = TypeVar("T")


class Dependency(Generic[T]):
    """A dependency of a service, made on first ``await`` and kept by the instance.

    ``db = Dependency[Database]("db")`` in an ``AsyncService`` body makes
    ``await self.db`` a ``Database``. Without a name, the attribute's name is used.
    As a provider parameter's default, ``Dependency("other")`` fills the parameter
    from the provider named ``other``.

    This is a non-data descriptor: the first read of ``obj.db`` resolves, and once the
    value exists a done future is stored in the instance's ``__dict__`` under the same
    name, so later reads never run Python code here. That is what makes the cached
    ``await obj.db`` cost about as much as awaiting a done future.
    """

    __slots__ = (
        "__orig_class__",
        "_cached_future",
        "_cached_provider",
        "_cached_registry",
        "_cached_version",
        "attribute",
        "name",
        "owner",
        "path",
    )

    def __init__(self, name: str | None = None) -> None:
        if name is not None and (not isinstance(name, str) or not name.isidentifier()):
            raise TypeError(
                f"Dependency(name=...) takes a provider name, a Python identifier such as "
                f"'db'; got {name!r}."
            )
        self.name = name
        self.attribute: str | None = None
        self.owner: type | None = None
        # The done future of a made singleton, valid while the registry's version holds
        # and no override is active: the first read of it needs no lookups at all.
        self._cached_registry: Registry | None = None
        self._cached_version = -1
        self._cached_future: Any = None
        self._cached_provider: Any = None
        self.path: tuple[str, ...] = ()  # the resolution path's first step: ("Cls.attr",)

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute
        self.owner = owner
        if self.name is None:
            self.name = attribute
        self.path = (f"{owner.__name__}.{attribute}",)
        if not getattr(type(owner), "__asyncdi_metaclass__", False):
            raise NotAServiceError(owner.__name__, attribute)

    @overload
    def __get__(self, instance: None, owner: type) -> Dependency[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> Awaitable[T]: ...

    def __get__(
        self, instance: object | None, owner: type | None = None
    ) -> Dependency[T] | Awaitable[T]:
        if instance is None:
            return self
        registry: Registry | None = getattr(type(instance), "__asyncdi_registry__", None)
        if (
            registry is self._cached_registry
            and registry._version == self._cached_version  # type: ignore[union-attr]
            and registry._override_var.get() is None  # type: ignore[union-attr]
        ):
            future = self._cached_future
            if future is None:  # an INSTANCE provider: make a value for this instance
                return registry._resolve_attribute(self, instance, self._cached_provider)  # type: ignore[union-attr]
            instance.__dict__[self.attribute] = future  # type: ignore[index]
            return future  # type: ignore[no-any-return]
        if registry is None or self.attribute is None:
            return _raise(NotAServiceError(type(instance).__name__, self.attribute))
        return registry._first_read(self, instance)  # type: ignore[no-any-return]

    @property
    def label(self) -> str:
        """Where this dependency is declared: ``Class.attribute``."""
        owner = self.owner.__name__ if self.owner is not None else "?"
        return f"{owner}.{self.attribute}"

    def __repr__(self) -> str:
        where = f" on {self.label}" if self.attribute else ""
        return f"Dependency({self.name!r}){where}"


async def _raise(error: Exception) -> Any:
    raise error
