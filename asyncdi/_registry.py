"""``Registry``: the names a program can resolve, and how each value is made.

The registry is a facade over parts that each own one concept: the providers
(``_provider``), the views and plans built from them (``_plans``, ``_codegen``), the
owners that release values (``_release``, ``_request_scope``, ``_lifespan``), and the
overrides (``_overrides``). It keeps the state they share: the singletons' cells, the
root owner, the context variables, a lock, and two epochs (the graph's, which plans
follow, and the reads', which ``Dependency`` caches follow).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Coroutine, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar, overload

from asyncdi._errors import (
    AsyncDIError,
    DuplicateProviderError,
    InvalidProviderError,
    MissingProviderError,
)
from asyncdi._flight import Cell
from asyncdi._lifespan import Lifespan
from asyncdi._monitoring import HealthReport, ProviderStats, check_health, collect_stats
from asyncdi._overrides import Overrides
from asyncdi._plans import Plan, View
from asyncdi._provider import Provider, check_name
from asyncdi._reads import first_read
from asyncdi._release import Owner
from asyncdi._request_scope import RequestScope
from asyncdi._scope import Scope
from asyncdi._validation import validate

if TYPE_CHECKING:
    from asyncdi._dependency import Dependency
    from asyncdi._pool import Pool, PoolState

__all__ = ["Registry", "registry"]

F = TypeVar("F", bound=Callable[..., Any])
_MISSING: Any = object()
_NO_PLANS: dict[str, Any] = {}  # never written to
_SINGLETON = Scope.SINGLETON
_INSTANCE = Scope.INSTANCE


class Registry:
    """Maps names to providers and owns the values it makes.

    Register with :meth:`provides` / :meth:`register`; resolve with ``await``
    :meth:`resolve` (or :meth:`get` for sync providers); run inside
    :meth:`lifespan` so singletons are released at the end; open :meth:`scope` per
    request; swap values for tests with :meth:`override`.
    """

    def __init__(self, name: str = "registry") -> None:
        self.name = name
        self.label = f"registry {name!r}"
        self._providers: dict[str, Provider] = {}
        self._services: weakref.WeakSet[type] = weakref.WeakSet()
        self._singletons: dict[Provider, Cell] = {}
        self._pools: dict[Any, PoolState] = {}  # a pooled plan's key -> its pool
        self._root = Owner(f"the singletons of registry {name!r}")
        self._lock = threading.RLock()
        self._scope_var: ContextVar[RequestScope | None] = ContextVar(
            f"asyncdi.scope.{name}", default=None
        )
        self._override_var: ContextVar[Overrides | None] = ContextVar(
            f"asyncdi.override.{name}", default=None
        )
        self._process_override: Overrides | None = None
        self._active_overrides = 0
        self._lifespan: Lifespan | None = None
        # Replaced whenever plans could be stale (registration, a lifespan opening or
        # closing), and, for Dependency caches, also when an override comes or goes.
        self._graph_epoch = object()
        self._read_epoch = object()
        self._base = View(self, self._providers)
        self._plans = self._base.plans  # the base view's plans
        # The base view's generated plans, as resolve() and get() read them: the very
        # dict while no override is active anywhere, an empty one while one is.
        self._entries: dict[str, Any] = {}  # name -> the plan's aget
        self._sync_entries: dict[str, Any] = {}  # name -> the plan's get
        self._fast: dict[str, Any] = self._entries
        self._fast_sync: dict[str, Any] = self._sync_entries

    # -- epochs -------------------------------------------------------------------------

    def _graph_changed(self) -> None:
        with self._lock:
            self._graph_epoch = object()
            self._read_epoch = object()
            self._base.plans = self._plans = {}
            self._base.epoch = self._graph_epoch
            self._entries.clear()
            self._sync_entries.clear()

    def _overrides_changed(self, delta: int) -> None:
        with self._lock:
            self._active_overrides += delta
            self._read_epoch = object()
            active = self._active_overrides
            self._fast = self._entries if not active else _NO_PLANS
            self._fast_sync = self._sync_entries if not active else _NO_PLANS

    def _view(self) -> View:
        """The view of the current context: the innermost active override, or our own."""
        if not self._active_overrides:
            return self._base
        overrides = self._override_var.get()
        while overrides is not None and not overrides.active:
            overrides = overrides.parent
        if overrides is None:
            overrides = self._process_override
        if overrides is None or overrides.view is None:
            return self._base
        return overrides.view

    # -- registration -----------------------------------------------------------------

    def register(
        self,
        name: str,
        provider: Callable[..., Any] | None = None,
        *,
        value: Any = _MISSING,
        scope: Scope = Scope.INSTANCE,
        close: bool = False,
        enter: bool = False,
        pool: Pool | None = None,
        replace: bool = False,
    ) -> Provider:
        """Register ``provider`` (or a ready ``value``) under ``name``.

        ``provider`` may be a sync or async function, a sync or async generator function
        (the value is what it yields; the code after ``yield`` releases it), or a class
        (also a parameterised generic alias such as ``Box[int]``). Its parameters are
        filled by name from this registry. ``close=True`` releases the value through its
        ``aclose()``/``close()``. ``enter=True``: the provider returns a context manager;
        the value is what its ``__aenter__`` (or ``__enter__``) gives, released by its
        ``__aexit__`` (or ``__exit__``). ``pool=Pool(size, timeout)`` (REQUEST or
        INSTANCE scope): values are borrowed from a pool of at most ``size`` and given
        back when their scope ends (see :class:`~asyncdi.Pool`). Registering a taken name raises
        :class:`~asyncdi.DuplicateProviderError` unless ``replace=True``.
        """
        check_name("register(name, ...)", name)
        if type(replace) is not bool:
            raise InvalidProviderError(name, f"replace must be True or False, not {replace!r}.")
        if value is not _MISSING:
            if provider is not None:
                raise InvalidProviderError(
                    name, f"register({name!r}, ...) takes a provider or value=, not both."
                )
            record = Provider(
                name, None, Scope.SINGLETON, enter=enter, pool=pool, value=value, is_value=True
            )
        else:
            record = Provider(name, provider, scope, close=close, enter=enter, pool=pool)
        with self._lock:
            existing = self._providers.get(name)
            if existing is not None and not replace:
                raise DuplicateProviderError(name, existing.describe(), record.describe())
            self._providers[name] = record
            self._graph_changed()
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
        enter: bool = False,
        pool: Pool | None = None,
        replace: bool = False,
    ) -> Callable[[F], F]: ...

    def provides(
        self,
        name: str | Callable[..., Any] | None = None,
        /,
        *,
        scope: Scope = Scope.INSTANCE,
        close: bool = False,
        enter: bool = False,
        pool: Pool | None = None,
        replace: bool = False,
    ) -> Any:
        """Decorator form of :meth:`register`; the function stays callable as before.

        ``@registry.provides("db", scope=Scope.SINGLETON)``; without a name, the
        function's ``__name__`` is used.
        """
        from asyncdi._decorators import keep_callable

        factory = name if callable(name) else None
        given = name if isinstance(name, str) else None
        if factory is None and name is not None:
            check_name("@provides(name)", name)

        def decorate(factory: F) -> F:
            self.register(
                given or factory.__name__,
                factory,
                scope=scope,
                close=close,
                enter=enter,
                pool=pool,
                replace=replace,
            )
            return keep_callable(factory)

        if factory is not None:  # @registry.provides without parentheses
            return decorate(factory)
        return decorate

    def unregister(self, name: str) -> None:
        """Remove the provider of ``name``; values already made are not touched."""
        with self._lock:
            if self._providers.pop(name, None) is None:
                raise MissingProviderError(name, (), self._providers)
            self._graph_changed()

    # -- resolution -------------------------------------------------------------------

    def resolve(self, name: str, /) -> Coroutine[Any, Any, Any]:
        """Make, or find, the value of ``name`` in the current context (``await`` it)."""
        aget = self._fast.get(name)
        if aget is None:
            try:
                aget = self._plan(name).aget
            except AsyncDIError as error:
                return _raise(error)
        scope = self._scope_var.get()
        return aget(scope, scope)  # type: ignore[no-any-return]  # owner: the scope, or the root

    def get(self, name: str, /) -> Any:
        """Synchronous :meth:`resolve`, for sync providers; thread-safe for singletons.

        An async provider (or async ``initialize``) raises
        :class:`~asyncdi.AsyncProviderError`, which names ``await registry.resolve``.
        """
        get = self._fast_sync.get(name)
        if get is None:
            get = self._plan(name).get
        scope = self._scope_var.get()
        return get(scope, scope)

    def _plan(self, name: object) -> Plan:
        check_name("resolve(name)", name)
        view = self._view()
        plan = view.plan(name)  # type: ignore[arg-type]
        if view is self._base and plan.view is view:
            with self._lock:
                if view.epoch is self._graph_epoch:
                    self._entries[name] = plan.aget  # type: ignore[index]
                    self._sync_entries[name] = plan.get  # type: ignore[index]
        return plan

    # -- first reads of service attributes (see Dependency.__get__) ---------------------

    def _first_read(self, dependency: Dependency[Any], instance: Any) -> Any:
        return first_read(self, dependency, instance)

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
        process_wide: bool = False,
        **named_values: Any,
    ) -> Overrides:
        """Swap values (``db=fake``) or providers for the current context only.

        ``with registry.override(db=fake):`` — tasks that did not enter it never see it,
        and once it exits it applies nowhere; nested overrides stack. Names must be
        registered. ``process_wide=True`` applies it in every context of the process
        until it exits (for tests of a server running in the same process).
        """
        records: dict[str, Provider] = {}
        for name, value in {**(values or {}), **named_values}.items():
            self._known(name)
            records[name] = Provider(name, None, Scope.SINGLETON, value=value, is_value=True)
        for name, factory in (providers or {}).items():
            original = self._known(name)
            records[name] = Provider(name, factory, original.scope)
        return Overrides(self, records, process_wide=process_wide)

    def _known(self, name: object) -> Provider:
        known = check_name("override(name=...)", name)
        provider = self._providers.get(known)
        if provider is None:
            raise MissingProviderError(known, (), self._providers)
        return provider

    # -- checking and monitoring --------------------------------------------------------

    def validate(self, *, types: bool = True) -> None:
        """Check the whole graph; raise every missing name, cycle and captive at once.

        Looks at every provider and at every ``AsyncService`` class bound to this
        registry. Raises :class:`~asyncdi.ValidationError`, an exception group.
        """
        validate(self, list(self._services), types=types)

    async def health(self, *, timeout: float = 5.0) -> HealthReport:  # noqa: ASYNC109
        """Run ``health_check()`` of every live value that has one, concurrently.

        Live values are the made singletons (also those made under the caller's
        override), registered values, and the values of the request scopes the
        caller is in; each check runs under ``timeout`` seconds. Idle pooled values
        are checked too (under their provider's name); one that fails is released and
        replaced when next needed.
        """
        return await check_health(self, timeout)

    def stats(self) -> dict[str, ProviderStats]:
        """Per provider: values created, released, live, failures, mean creation time.

        A pooled provider's entry also has ``pool``: its size, idle and in-use values,
        waits, timeouts and discards (:class:`~asyncdi.PoolStats`).
        """
        return collect_stats(self)

    def provider(self, name: str, /) -> Provider:
        """The registered provider of ``name`` (its scope, kind and dependencies)."""
        found = self._providers.get(check_name("provider(name)", name))
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
        if self._lifespan is not None:
            state = "lifespan open"
        elif self._root.closed:
            state = "lifespan closed"
        else:
            state = "no lifespan"
        return (
            f"<Registry {self.name!r}: {len(self._providers)} providers, {state}, "
            f"{len(self._root.held)} values owned>"
        )


async def _raise(error: BaseException) -> Any:
    raise error


registry = Registry("default")
"""The global default registry, used by ``@provides`` and services without ``registry=``."""
