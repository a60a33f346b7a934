"""``Registry``: the names a program can resolve, and how each value is made."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from asyncdi._engine import resolving_path
from asyncdi._errors import DuplicateProviderError, MissingProviderError
from asyncdi._lifespan import Lifespan
from asyncdi._monitoring import HealthReport, ProviderStats, check_health, collect_stats
from asyncdi._overrides import Overrides
from asyncdi._provider import Provider
from asyncdi._request_scope import RequestScope
from asyncdi._scope import Scope
from asyncdi._sync_resolution import SyncResolution
from asyncdi._validation import validate

__all__ = ["Registry", "registry"]

F = TypeVar("F", bound=Callable[..., Any])
# Enum members cost ~90 ns to read on CPython 3.11: hot paths use module constants.
_MISSING: Any = object()


class Registry(SyncResolution):
    """Maps names to providers and owns the values it makes.

    Register with :meth:`provides` / :meth:`register`; resolve with ``await``
    :meth:`resolve` (or :meth:`get` for sync providers); run inside
    :meth:`lifespan` so singletons are released at the end; open :meth:`scope` per
    request; swap values for tests with :meth:`override`.
    """

    def __init__(self, name: str = "registry") -> None:
        super().__init__(name)
        self._services: weakref.WeakSet[type] = weakref.WeakSet()
        self._lifespan: Lifespan | None = None

    # -- registration -----------------------------------------------------------------

    def register(
        self,
        name: str,
        provider: Callable[..., Any] | None = None,
        *,
        value: Any = _MISSING,
        scope: Scope = Scope.INSTANCE,
        close: bool = False,
        replace: bool = False,
    ) -> Provider:
        """Register ``provider`` (or a ready ``value``) under ``name``.

        ``provider`` may be a sync or async function, a sync or async generator function
        (the value is what it yields; the code after ``yield`` releases it), or a class.
        Its parameters are filled by name from this registry. ``close=True`` releases
        the value through its ``aclose()``/``close()``. Registering a taken name raises
        :class:`~asyncdi.DuplicateProviderError` unless ``replace=True``.
        """
        if value is not _MISSING:
            if provider is not None:
                raise TypeError(f"register({name!r}, ...) takes a provider or value=, not both.")
            record = Provider(name, None, Scope.SINGLETON, value=value, is_value=True)
        else:
            record = Provider(name, provider, scope, close=close)
        existing = self._providers.get(name)
        if existing is not None and not replace:
            raise DuplicateProviderError(name, existing.describe(), record.describe())
        self._providers[name] = record
        self._closures.clear()
        self._invalidate()
        return record

    @overload
    def provides(self, name: F, /) -> F: ...

    @overload
    def provides(
        self,
        name: str | None = None,
        /,
        *,
        scope: Scope = Scope.INSTANCE,
        close: bool = False,
        replace: bool = False,
    ) -> Callable[[F], F]: ...

    def provides(
        self,
        name: str | Callable[..., Any] | None = None,
        /,
        *,
        scope: Scope = Scope.INSTANCE,
        close: bool = False,
        replace: bool = False,
    ) -> Any:
        """Decorator form of :meth:`register`; the function stays callable as before.

        ``@registry.provides("db", scope=Scope.SINGLETON)``; without a name, the
        function's ``__name__`` is used.
        """
        from asyncdi._decorators import keep_callable

        if callable(name):
            factory = name
            self.register(factory.__name__, factory, scope=scope, close=close, replace=replace)
            return keep_callable(factory)

        def decorate(factory: F) -> F:
            self.register(
                name or factory.__name__, factory, scope=scope, close=close, replace=replace
            )
            return keep_callable(factory)

        return decorate

    def unregister(self, name: str) -> None:
        """Remove the provider of ``name``; values already made are not touched."""
        if self._providers.pop(name, None) is None:
            raise MissingProviderError(name, (), self._providers)
        self._closures.clear()
        self._invalidate()

    # -- resolution -------------------------------------------------------------------

    def get(self, name: str, /) -> Any:
        """Synchronous :meth:`resolve`, for sync providers; thread-safe for singletons.

        An async provider (or async ``initialize``) raises
        :class:`~asyncdi.AsyncProviderError`, which names ``await registry.resolve``.
        """
        engine = self
        path = resolving_path()
        provider = engine._provider(name, path)
        return engine._get(provider, path, engine._default_owner(), None)

    # -- contexts -----------------------------------------------------------------------

    def scope(self) -> RequestScope:
        """A new request scope: ``async with registry.scope():`` (or ``with``)."""
        return RequestScope(self)

    def lifespan(self, *, eager: bool = False, validate: bool = True) -> Lifespan:
        """The registry's lifespan: ``async with registry.lifespan():`` (or ``with``).

        On enter: :meth:`validate` the graph (unless ``validate=False``) and, with
        ``eager=True``, make every singleton. On exit: release every value the
        registry owns, newest first, each exactly once. Resolving after it has closed
        raises :class:`~asyncdi.RegistryClosedError`.
        """
        return Lifespan(self, eager=eager, validate=validate)

    def override(
        self,
        values: Mapping[str, Any] | None = None,
        /,
        *,
        providers: Mapping[str, Callable[..., Any]] | None = None,
        **named_values: Any,
    ) -> Overrides:
        """Swap values (``db=fake``) or providers for the current context only.

        ``with registry.override(db=fake):`` — tasks that did not enter it never see
        it; nested overrides stack. Values already cached (in a service instance, a
        request scope, or an already-made singleton outside the override) keep theirs.
        """
        records: dict[str, Provider] = {}
        for name, value in {**(values or {}), **named_values}.items():
            records[name] = Provider(name, None, Scope.SINGLETON, value=value, is_value=True)
        for name, factory in (providers or {}).items():
            original = self._providers.get(name)
            scope = original.scope if original is not None else Scope.INSTANCE
            records[name] = Provider(name, factory, scope)
        return Overrides(self, records)

    # -- checking and monitoring --------------------------------------------------------

    def validate(self) -> None:
        """Check the whole graph; raise every missing name, cycle and captive at once.

        Looks at every provider and at every ``AsyncService`` class bound to this
        registry. Raises :class:`~asyncdi.ValidationError`, an exception group.
        """
        validate(self, list(self._services))

    async def health(self, *, timeout: float = 5.0) -> HealthReport:  # noqa: ASYNC109
        """Run ``health_check()`` of every live value that has one, concurrently.

        Live values are the made singletons and the values of the request scopes the
        caller is in; each check runs under ``timeout`` seconds.
        """
        return await check_health(self, timeout)

    def stats(self) -> dict[str, ProviderStats]:
        """Per provider: values created, released, live, failures, mean creation time."""
        return collect_stats(self)

    def provider(self, name: str, /) -> Provider:
        """The registered provider of ``name`` (its scope, kind and dependencies)."""
        found = self._providers.get(name)
        if found is None:
            raise MissingProviderError(name, (), self._providers)
        return found

    @property
    def services(self) -> tuple[type, ...]:
        """Every ``AsyncService`` class bound to this registry, by qualified name."""
        return tuple(sorted(self._services, key=lambda cls: cls.__qualname__))

    @property
    def names(self) -> tuple[str, ...]:
        """Every registered name, sorted."""
        return tuple(sorted(self._providers))

    def __contains__(self, name: object) -> bool:
        return name in self._providers

    def __repr__(self) -> str:
        engine = self
        if self._lifespan is not None:
            state = "lifespan open"
        elif engine._closed:
            state = "lifespan closed"
        else:
            state = "no lifespan"
        return (
            f"<Registry {self.name!r}: {len(engine._providers)} providers, {state}, "
            f"{len(engine._singleton_owner.held)} values owned>"
        )


registry = Registry("default")
"""The global default registry, used by ``@provides`` and services without ``registry=``."""
