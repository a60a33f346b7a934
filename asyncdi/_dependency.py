"""``Dependency[T]``: the descriptor a service declares its needs with."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from asyncdi._errors import NotAServiceError
from asyncdi._flight import MISS as _MISS
from asyncdi._flight import Slot as _Slot

if TYPE_CHECKING:
    from asyncdi._registry import Registry

__all__ = ["Dependency"]

T = TypeVar("T")
_NEVER: Any = object()


class _NotAService:
    """Stands in for the registry of a class that has none; matches no cache."""

    _read_epoch = None


_NOT_A_SERVICE: Any = _NotAService()


class Dependency(Generic[T]):
    """A dependency of a service, made on first ``await`` and kept by the instance.

    ``db = Dependency[Database]("db")`` in an ``AsyncService`` body makes
    ``await self.db`` a ``Database``. Without a name, the attribute's name is used.
    As a provider parameter's default, ``Dependency("other")`` fills the parameter
    from the provider named ``other``.

    This is a non-data descriptor: the first read of ``obj.db`` resolves, and once the
    value exists a done awaitable of it is stored in the instance under the same name,
    so later reads never run Python code here. That is what makes the cached
    ``await obj.db`` cost about as much as awaiting a done future (on 3.12 and later,
    less: see ``_flight.done_awaitable``).
    """

    __slots__ = (
        "__orig_class__",
        "_cached_awaitable",
        "_cached_epoch",
        "_cached_read",
        "attribute",
        "name",
        "owner",
        "path",
    )

    def __init__(self, name: str | None = None) -> None:
        if name is not None and (type(name) is not str or not name.isidentifier()):
            from asyncdi._errors import InvalidNameError

            raise InvalidNameError("Dependency(name=...)", name)
        self.name = name
        self.attribute: str | None = None
        self.owner: type | None = None
        # What the first read on an instance needs, valid while the registry's read
        # epoch holds: the done awaitable of a made singleton, or the plan's read.
        self._cached_epoch: object = _NEVER
        self._cached_awaitable: Any = None
        self._cached_read: Any = None
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
        try:  # cheaper than getattr() with a default when the attribute is there
            registry: Registry = type(instance).__asyncdi_registry__  # type: ignore[attr-defined]
        except AttributeError:
            registry = _NOT_A_SERVICE
        if registry._read_epoch is self._cached_epoch:
            awaitable = self._cached_awaitable
            if awaitable is None:  # an INSTANCE provider: make a value for this instance
                # place_slot(), inlined: one call less on a fresh service's first read
                slot = _Slot()
                slot.value = _MISS
                try:
                    setattr(instance, self.attribute, slot)  # type: ignore[arg-type]
                except Exception:  # noqa: BLE001
                    _keep(instance, self.attribute, slot)  # type: ignore[arg-type]
                return self._cached_read(instance, slot, self.attribute, self)  # type: ignore[no-any-return]
            try:  # setattr keeps CPython's compact instance values: see _keep
                setattr(instance, self.attribute, awaitable)  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001
                _keep(instance, self.attribute, awaitable)  # type: ignore[arg-type]
            return awaitable  # type: ignore[no-any-return]
        if registry is _NOT_A_SERVICE or self.attribute is None:
            return _raise(NotAServiceError(type(instance).__name__, self.attribute))
        return registry._first_read(self, instance)  # type: ignore[no-any-return]

    @property
    def label(self) -> str:
        """Where this dependency is declared: ``Class.attribute``."""
        owner = self.owner.__name__ if self.owner is not None else "?"
        return f"{owner}.{self.attribute}"

    def __repr__(self) -> str:
        registry = getattr(self.owner, "__asyncdi_registry__", None)
        provider = registry._providers.get(self.name or "") if registry is not None else None
        scope = f", scope={provider.scope.name}" if provider is not None else ""
        where = f" on {self.label}" if self.attribute else ""
        return f"Dependency({self.name!r}{scope}){where}"


def place_slot(instance: Any, attribute: str) -> _Slot:
    """Put a slot for a value being made in the instance: later reads find it there."""
    slot = _Slot()
    slot.value = _MISS
    _keep(instance, attribute, slot)
    return slot


def _keep(instance: Any, attribute: str, awaitable: Any) -> None:
    """Store ``awaitable`` in the instance, shadowing this descriptor from now on.

    ``setattr`` keeps CPython's compact per-instance values (reading through
    ``__dict__`` would build a dict, and later reads of the attribute get slower); a
    class whose own ``__setattr__`` refuses gets the value in its ``__dict__``.
    """
    try:
        setattr(instance, attribute, awaitable)
    except Exception:  # noqa: BLE001 - e.g. a frozen service; the dict always works
        instance.__dict__[attribute] = awaitable


async def _raise(error: Exception) -> Any:
    raise error
