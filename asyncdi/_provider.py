"""What a registry knows about one provider: its kind, scope, parameters and release.

Everything here is decided once, at registration: how the provider is called, what its
parameters ask for, and how its values are released. The plans (``_compiler.py``) read
these facts; nothing is found out per value except, for a plain function, whether the
type it returned has lifecycle hooks (one dict lookup, see ``mechanism_of_type``).
"""

from __future__ import annotations

import enum
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Final

from asyncdi._errors import InvalidNameError, InvalidProviderError
from asyncdi._markers import injected_name
from asyncdi._release import Mechanism
from asyncdi._scope import Scope

__all__ = [
    "DYNAMIC",
    "ENTERED",
    "NO_DEFAULT",
    "Kind",
    "Param",
    "Provider",
    "check_name",
    "describe",
    "mechanism_of_type",
]


class Kind(enum.Enum):
    """How a provider is called."""

    SYNC = "sync function"
    ASYNC = "async function"
    GENERATOR = "generator function"
    ASYNC_GENERATOR = "async generator function"
    CLASS = "class"
    VALUE = "value"


NO_DEFAULT: Final = inspect.Parameter.empty
DYNAMIC: Final = -1  # a plain function: the mechanism depends on the type it returns
ENTERED: Final = -2  # enter=True: ENTER_ASYNC or ENTER_SYNC, by the protocols of the result


def check_name(where: str, name: object) -> str:
    """``name`` if it is a provider name, else the error that says what a name is."""
    if type(name) is not str or not name.isidentifier():
        raise InvalidNameError(where, name)
    return name


class Param:
    """One parameter of a provider and the registered name that fills it."""

    __slots__ = ("default", "dependency", "keyword_only", "parameter", "positional_only")

    def __init__(
        self,
        parameter: str,
        dependency: str,
        *,
        keyword_only: bool,
        positional_only: bool,
        default: Any,
    ) -> None:
        self.parameter = parameter
        self.dependency = dependency
        self.keyword_only = keyword_only
        self.positional_only = positional_only
        self.default = default

    @property
    def required(self) -> bool:
        """Whether a missing provider for this parameter is an error."""
        return self.default is NO_DEFAULT

    def __repr__(self) -> str:
        return f"Param({self.parameter!r} <- {self.dependency!r})"


def describe(factory: object) -> str:
    """A short human name for a callable, for error messages."""
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None) or repr(factory)
    return f"{module}.{qualname}" if module and module != "builtins" else str(qualname)


def _class_of(factory: object) -> type | None:
    """The class a factory is: itself, or the origin of ``Box[int]``."""
    if inspect.isclass(factory):
        return factory
    origin = typing.get_origin(factory)
    if inspect.isclass(origin) and isinstance(factory, types.GenericAlias | typing._GenericAlias):  # type: ignore[attr-defined]
        return origin
    return None


def _kind_of(name: str, factory: object) -> Kind:
    if _class_of(factory) is not None:
        return Kind.CLASS
    if not callable(factory):
        raise InvalidProviderError(
            name,
            f"{factory!r} is not callable. Pass a function, a class, or use "
            f"registry.register({name!r}, value=...) to register a ready value.",
        )
    call = factory if inspect.isroutine(factory) or isinstance(factory, type) else None
    candidates = [factory] if call is not None else [factory, type(factory).__call__]
    for candidate in candidates:
        if inspect.isasyncgenfunction(candidate):
            return Kind.ASYNC_GENERATOR
        if inspect.isgeneratorfunction(candidate):
            return Kind.GENERATOR
        if inspect.iscoroutinefunction(candidate):
            return Kind.ASYNC
    return Kind.SYNC


def _params_of(factory: Any) -> tuple[Param, ...]:
    cls = _class_of(factory)
    try:
        signature = inspect.signature(cls if cls is not None else factory)
    except (TypeError, ValueError):  # builtins without a signature take no injected args
        return ()
    params: list[Param] = []
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = p.default
        dependency = injected_name(default, p.name)
        if dependency is None:
            dependency = p.name
        else:
            default = NO_DEFAULT
        params.append(
            Param(
                p.name,
                dependency,
                keyword_only=p.kind is p.KEYWORD_ONLY,
                positional_only=p.kind is p.POSITIONAL_ONLY,
                default=default,
            )
        )
    return tuple(params)


def _lifecycle_mechanism(cls: type) -> int:
    return Mechanism.HOOKS if getattr(cls, "__asyncdi_lifecycle__", None) else Mechanism.NONE


_TYPE_MECHANISMS: dict[type, int] = {}


def mechanism_of_type(value_type: type) -> int:
    """How a value of ``value_type`` made by a plain function is released (cached)."""
    mechanism = _TYPE_MECHANISMS.get(value_type)
    if mechanism is None:
        mechanism = _TYPE_MECHANISMS[value_type] = _lifecycle_mechanism(value_type)
    return mechanism


class Provider:
    """A registered way to make the value of one name, and its counters."""

    __slots__ = (
        "__weakref__",
        "close",
        "created",
        "creation_ns",
        "enter",
        "factory",
        "failures",
        "held",
        "kind",
        "mechanism",
        "name",
        "params",
        "plain_type",
        "pool",
        "released",
        "scope",
        "service",
        "timed",
        "value",
    )

    def __init__(
        self,
        name: str,
        factory: Callable[..., Any] | None,
        scope: Scope,
        *,
        close: bool = False,
        enter: bool = False,
        pool: Any = None,
        value: Any = None,
        is_value: bool = False,
    ) -> None:
        self.name = check_name("register(name, ...)", name)
        if not isinstance(scope, Scope):
            raise InvalidProviderError(
                name, f"scope must be a Scope (Scope.SINGLETON, ...), not {scope!r}."
            )
        if type(close) is not bool:
            raise InvalidProviderError(name, f"close must be True or False, not {close!r}.")
        if type(enter) is not bool:
            raise InvalidProviderError(name, f"enter must be True or False, not {enter!r}.")
        self.scope = scope
        self.close = close
        self.enter = enter
        self.pool = pool  # a Pool (see ``_pool``), checked below
        self.value = value
        self.service: type | None = None  # an AsyncService class this provider makes
        if is_value:
            if enter or pool is not None:
                keyword = "enter=True" if enter else "pool="
                raise InvalidProviderError(
                    name,
                    f"{keyword} needs a provider to call; a ready value (value=...) is "
                    "neither entered nor pooled. Pass a factory instead.",
                )
            self.factory: Callable[..., Any] = _no_factory
            self.kind = Kind.VALUE
            self.params: tuple[Param, ...] = ()
            self.mechanism = Mechanism.NONE
        else:
            if factory is None:
                raise InvalidProviderError(name, "no provider given: pass a callable or value=.")
            if getattr(factory, "_self_asyncdi_provider_wrapper", False) is True:
                factory = inspect.unwrap(factory)
            self.factory = factory
            self.kind = _kind_of(name, factory)
            self.params = _params_of(factory)
            self.mechanism = self._mechanism()
            self.plain_type = _plain_return(factory) if self.mechanism == DYNAMIC else None
            cls = _class_of(factory)
            if cls is not None and getattr(type(cls), "__asyncdi_metaclass__", False):
                self.service = cls
            if pool is not None:
                self._check_pool()
        self.created = 0
        self.released = 0
        self.held = 0  # for DYNAMIC only: the values held (the others hold every value)
        self.failures = 0
        self.creation_ns = 0  # summed over the `timed` creations that were sampled
        self.timed = 0

    def _check_pool(self) -> None:
        from asyncdi._pool import Pool

        if not isinstance(self.pool, Pool):
            raise InvalidProviderError(
                self.name,
                f"pool must be an asyncdi.Pool(size=..., timeout=...), not {self.pool!r}.",
            )
        if self.scope is Scope.SINGLETON:
            raise InvalidProviderError(
                self.name,
                "a pool lends values to request scopes or service instances; a SINGLETON "
                "has one value and nothing to pool. Use scope=Scope.REQUEST or "
                "Scope.INSTANCE with pool=, or drop pool=.",
            )

    def _mechanism(self) -> int:
        kind = self.kind
        if self.enter:
            if kind in (Kind.GENERATOR, Kind.ASYNC_GENERATOR) or self.close:
                what = "close=True" if self.close else f"a {kind.value}"
                raise InvalidProviderError(
                    self.name,
                    f"enter=True with {what}: the value would be released twice. enter=True "
                    "is for a function or class that returns a context manager; remove one.",
                )
            return ENTERED
        if kind in (Kind.GENERATOR, Kind.ASYNC_GENERATOR):
            if self.close:
                raise InvalidProviderError(
                    self.name,
                    f"close=True on a {kind.value}: its code after `yield` already releases "
                    "the value. Remove close=True.",
                )
            return Mechanism.GENERATOR if kind is Kind.GENERATOR else Mechanism.ASYNC_GENERATOR
        if self.close:
            return Mechanism.CLOSE
        if kind is Kind.CLASS:
            return _lifecycle_mechanism(_class_of(self.factory))  # type: ignore[arg-type]
        return DYNAMIC

    @property
    def live(self) -> int:
        """Values handed to an owner for release and not yet released."""
        if self.mechanism == DYNAMIC:
            held = self.held  # only the values whose type has hooks
        elif self.mechanism == Mechanism.NONE:
            held = 0
        else:
            held = self.created  # every value made is held: no second counter per value
        return held - self.released

    @property
    def dependencies(self) -> tuple[str, ...]:
        """The registered names this provider's parameters ask for."""
        return tuple(p.dependency for p in self.params)

    @property
    def service_dependencies(self) -> tuple[tuple[str, str], ...]:
        """``(label, name)`` of each ``Dependency`` of the service class this makes."""
        if self.service is None:
            return ()
        declared = getattr(self.service, "__dependencies__", {})
        return tuple((d.label, d.name) for d in declared.values())

    def describe(self) -> str:
        """The provider's kind and callable, for messages."""
        if self.kind is Kind.VALUE:
            try:
                return f"value {self.value!r}"
            except Exception:  # noqa: BLE001 - a broken __repr__ must not break messages
                return f"value of type {type(self.value).__name__}"
        return f"{self.kind.value} {describe(self.factory)}"

    def __repr__(self) -> str:
        return f"<Provider {self.name!r} {self.scope.name} {self.describe()}>"


def _plain_return(factory: Any) -> type | None:
    """The class a function is annotated to return, if values of it need no release.

    Lets the plan skip the per-value lifecycle lookup for exactly that class (a value of
    another type, such as a subclass, is still looked up).
    """
    try:
        returned = typing.get_type_hints(factory).get("return")
    except Exception:  # noqa: BLE001 - unresolvable annotations are simply not used
        return None
    if isinstance(returned, type) and mechanism_of_type(returned) == Mechanism.NONE:
        return returned
    return None


def _no_factory() -> Any:  # pragma: no cover - value providers are never called
    raise AssertionError
