"""The first read of a service attribute, when ``Dependency.__get__`` has no cache.

Finds the plan of the attribute's name in the current view and reads it the way its
scope says: a made singleton's shared done awaitable (cached on the descriptor); an
INSTANCE value made for the instance, or a REQUEST value kept in a
:class:`~asyncdi._scoped_value.ScopedValue` that refuses once its scope has ended, each
by the plan's generated ``read``. The INSTANCE and REQUEST reads are cached on the descriptor too
(while no override is active anywhere), so a fresh instance's first read goes
straight to them.

A slow read puts its slot in the instance at once (``place_slot``), so concurrent
reads wait on it, and the instance's compact values are never turned into a dict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asyncdi._dependency import _keep, place_slot
from asyncdi._errors import AsyncDIError, MissingProviderError, ServiceDisposedError
from asyncdi._flight import DISOWNED, Cell, Slot
from asyncdi._paths import prefix_path
from asyncdi._scope import Scope

if TYPE_CHECKING:
    from asyncdi._dependency import Dependency
    from asyncdi._plans import Plan
    from asyncdi._registry import Registry

__all__ = ["first_read"]


def first_read(registry: Registry, dependency: Dependency[Any], instance: Any) -> Any:
    """``instance.attr`` with nothing cached: an awaitable of the attribute's value."""
    name: str = dependency.name  # type: ignore[assignment]
    attribute: str = dependency.attribute  # type: ignore[assignment]
    label = dependency.path[0]
    view = registry._view()
    if name not in view.providers:
        return _raise(MissingProviderError(name, (label,), view.providers))
    try:
        plan = view.plan(name)
    except AsyncDIError as error:
        _prefix_error(error, label)
        return _raise(error)
    cacheable = not registry._active_overrides
    epoch = registry._read_epoch
    if plan.scope is Scope.INSTANCE or plan.scope is Scope.REQUEST:
        read = plan.read
        if cacheable:
            dependency._cached_awaitable = None
            dependency._cached_read = read
            dependency._cached_epoch = epoch  # last: it makes the two above valid
        return read(instance, place_slot(instance, attribute), attribute, dependency)
    cell = plan.cell if plan.cell is not None else _value_cell(plan)
    if cell.ready:
        awaitable = cell.shared_awaitable()
        if cacheable:
            dependency._cached_awaitable = awaitable
            dependency._cached_epoch = epoch
        _keep(instance, attribute, awaitable)
        return awaitable
    slot = place_slot(instance, attribute)
    return _read_singleton(plan, instance, slot, attribute, label)


async def _read_singleton(plan: Plan, instance: Any, slot: Slot, attribute: str, label: str) -> Any:
    """Wait for a singleton being made; on failure the slot leaves the instance."""
    try:
        value = await plan.aget(None, None)
        if slot.value is DISOWNED:  # the instance was disposed meanwhile (see Slot.disown)
            raise ServiceDisposedError(type(instance).__name__, attribute)
    except BaseException as error:
        slot.abandon(instance, attribute, error)
        prefix_path(error, (label,))
        raise
    _keep(instance, attribute, plan.cell.shared_awaitable())  # type: ignore[union-attr]
    slot.made(value)
    return value


def _value_cell(plan: Plan) -> Cell:
    """A registered value's cell: made, and shared by every reader of the plan."""
    cell = plan.cell = Cell()
    cell.value = plan.provider.value
    cell.ready = True
    return cell


def _prefix_error(error: AsyncDIError, label: str) -> None:
    path = getattr(error, "path", None)
    if isinstance(path, tuple):
        error.path = (label, *path)  # type: ignore[attr-defined]


async def _raise(error: BaseException) -> Any:
    raise error
