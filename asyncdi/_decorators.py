"""The module-level decorators: ``@provides`` and ``@resource``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

import wrapt

from asyncdi._errors import InvalidProviderError
from asyncdi._scope import Scope

if TYPE_CHECKING:
    from asyncdi._pool import Pool
    from asyncdi._registry import Registry

__all__ = ["keep_callable", "provides", "resource"]

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)


def _call_through(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    return wrapped(*args, **kwargs)


class _ProviderFunction(wrapt.FunctionWrapper):  # type: ignore[type-arg]
    """A registered provider function, still callable (and introspectable) as before."""

    _self_asyncdi_provider_wrapper = True


def keep_callable(factory: F) -> F:
    """Return what ``@provides`` hands back: classes as they are, functions wrapped so
    name, signature, ``inspect`` checks and calls behave exactly as before."""
    if inspect.isclass(factory) or isinstance(factory, _ProviderFunction):
        return factory
    wrapper: F = _ProviderFunction(factory, _call_through)  # type: ignore[assignment]
    return wrapper


def _default_registry(registry: Registry | None) -> Registry:
    if registry is not None:
        return registry
    from asyncdi._registry import registry as default

    return default


@overload
def provides(name: F, /) -> F: ...


@overload
def provides(
    name: str | None = None,
    /,
    *,
    scope: Scope = Scope.INSTANCE,
    registry: Registry | None = None,
    close: bool = False,
    enter: bool = False,
    pool: Pool | None = None,
    replace: bool = False,
) -> Callable[[F], F]: ...


def provides(
    name: str | Callable[..., Any] | None = None,
    /,
    *,
    scope: Scope = Scope.INSTANCE,
    registry: Registry | None = None,
    close: bool = False,
    enter: bool = False,
    pool: Pool | None = None,
    replace: bool = False,
) -> Any:
    """Register the decorated function or class as the provider of ``name``.

    ``@provides("db", scope=Scope.SINGLETON)`` registers in the global ``registry``
    unless ``registry=`` is given. See :meth:`Registry.register` for what a provider
    may be (and what ``close``, ``enter`` and ``pool`` do). The decorated function stays
    callable exactly as before.
    """
    target = _default_registry(registry)
    if callable(name):
        return target.provides(name)
    return target.provides(name, scope=scope, close=close, enter=enter, pool=pool, replace=replace)


@overload
def resource(cls: C, /) -> C: ...


@overload
def resource(
    name: str | None = None,
    /,
    *,
    scope: Scope = Scope.INSTANCE,
    registry: Registry | None = None,
    pool: Pool | None = None,
    replace: bool = False,
) -> Callable[[C], C]: ...


def resource(
    name: str | type | None = None,
    /,
    *,
    scope: Scope = Scope.INSTANCE,
    registry: Registry | None = None,
    pool: Pool | None = None,
    replace: bool = False,
) -> Any:
    """Mark a class whose instances have ``initialize()``/``dispose()`` hooks.

    Values of a ``@resource`` class get ``initialize()`` after a provider makes them
    and ``dispose()`` at release (sync or async). ``@resource("pool", scope=...)``
    also registers the class as the provider of ``pool``; ``pool=Pool(...)`` lends its
    instances from a pool (see :class:`~asyncdi.Pool`).
    """
    if isinstance(name, type):
        return _mark(name)

    def decorate(cls: C) -> C:
        if not isinstance(cls, type):
            raise InvalidProviderError(
                name or getattr(cls, "__name__", "?"),
                f"@resource decorates a class; got {cls!r}. For a function, use "
                "@provides(..., close=True) or a generator provider.",
            )
        _mark(cls)
        if pool is not None and name is None:
            raise InvalidProviderError(
                cls.__qualname__,
                "@resource(pool=...) needs a name to register the pooled provider under: "
                "@resource('name', pool=Pool(...)).",
            )
        if name is not None:
            _default_registry(registry).register(name, cls, scope=scope, pool=pool, replace=replace)
        return cls

    return decorate


def _mark(cls: C) -> C:
    if getattr(cls, "__asyncdi_lifecycle__", None) is None:
        cls.__asyncdi_lifecycle__ = "resource"  # type: ignore[attr-defined]
    return cls
