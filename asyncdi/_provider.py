"""What a registry knows about one provider: its kind, scope and parameters."""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from typing import Any, Final

from asyncdi._errors import InvalidProviderError
from asyncdi._markers import injected_name
from asyncdi._scope import Scope

__all__ = ["NO_DEFAULT", "Kind", "Param", "Provider", "describe"]


class Kind(enum.Enum):
    """How a provider is called and how its value is released."""

    SYNC = "sync function"
    ASYNC = "async function"
    GENERATOR = "generator function"
    ASYNC_GENERATOR = "async generator function"
    CLASS = "class"
    VALUE = "value"


NO_DEFAULT: Final = inspect.Parameter.empty


class Param:
    """One parameter of a provider and the registered name that fills it."""

    __slots__ = ("default", "dependency", "parameter", "positional", "positional_only")

    def __init__(self, parameter: str, dependency: str, positional: bool, default: Any) -> None:
        self.parameter = parameter
        self.dependency = dependency
        self.positional = positional
        self.positional_only = False
        self.default = default

    def __repr__(self) -> str:
        return f"Param({self.parameter!r} <- {self.dependency!r})"


def describe(factory: object) -> str:
    """A short human name for a callable, for error messages."""
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None) or repr(factory)
    return f"{module}.{qualname}" if module and module != "builtins" else str(qualname)


def _kind_of(name: str, factory: object) -> Kind:
    if inspect.isclass(factory):
        return Kind.CLASS
    if inspect.isasyncgenfunction(factory):
        return Kind.ASYNC_GENERATOR
    if inspect.isgeneratorfunction(factory):
        return Kind.GENERATOR
    if inspect.iscoroutinefunction(factory):
        return Kind.ASYNC
    if callable(factory):
        return Kind.SYNC
    raise InvalidProviderError(
        name,
        f"{factory!r} is not callable. Pass a function, a class, or use "
        f"registry.register({name!r}, value=...) to register a ready value.",
    )


def _params_of(name: str, factory: Callable[..., Any]) -> tuple[Param, ...]:
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature take no injected args
        return ()
    params: list[Param] = []
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = p.default
        dependency = p.name
        marked = injected_name(default, p.name)
        if marked is not None:
            dependency = marked
            default = NO_DEFAULT
        params.append(Param(p.name, dependency, p.kind is not p.KEYWORD_ONLY, default))
        params[-1].positional_only = p.kind is p.POSITIONAL_ONLY
    return tuple(params)


class Provider:
    """A registered way to make the value of one name."""

    __slots__ = (
        "__weakref__",
        "all_positional",
        "cached_args",
        "cached_args_epoch",
        "close",
        "created",
        "creation_ns",
        "factory",
        "failures",
        "fast_epoch",
        "fast_instance",
        "fast_request",
        "held_made",
        "kind",
        "name",
        "params",
        "plain_type",
        "ready",
        "released",
        "scope",
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
        value: Any = None,
        is_value: bool = False,
    ) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidProviderError(
                str(name), "a provider name must be a Python identifier, e.g. 'db'."
            )
        if not isinstance(scope, Scope):
            raise InvalidProviderError(
                name, f"scope must be a Scope (Scope.SINGLETON, ...), not {scope!r}."
            )
        self.name = name
        self.scope = scope
        self.close = close
        self.value = value
        if is_value:
            self.factory: Callable[..., Any] = _no_factory
            self.kind = Kind.VALUE
            self.params: tuple[Param, ...] = ()
        else:
            if factory is None:
                raise InvalidProviderError(name, "no provider given: pass a callable or value=.")
            self.factory = inspect.unwrap(factory) if _is_provides_wrapper(factory) else factory
            self.kind = _kind_of(name, self.factory)
            self.params = _params_of(name, self.factory)
        if close and self.kind in (Kind.GENERATOR, Kind.ASYNC_GENERATOR):
            raise InvalidProviderError(
                name,
                f"close=True on a {self.kind.value}: its code after `yield` already "
                "releases the value. Remove close=True.",
            )
        self.created = 0
        self.released = 0
        self.held_made = 0  # values made that an owner holds for release (live: - released)
        self.failures = 0
        self.creation_ns = 0  # summed over the `timed` creations that were sampled
        self.timed = 0
        self.cached_args: list[Any] = []  # the resolved arguments, valid for one version
        self.cached_args_epoch: object = None  # the registry epoch cached_args belong to
        self.ready: Any = None  # for a value: a done future of it, shared by every reader
        self.plain_type: type | None = None  # a type of value this made with no teardown
        self.all_positional = all(p.positional and p.default is NO_DEFAULT for p in self.params)
        # Eligible for the short way of making a request value (Engine._make_in_scope).
        self.fast_request = (
            scope is Scope.REQUEST and self.kind is Kind.ASYNC_GENERATOR and self.all_positional
        )
        # Eligible for the short way of making an instance's dependency.
        self.fast_instance = (
            scope is Scope.INSTANCE
            and self.kind in (Kind.ASYNC, Kind.CLASS)
            and self.all_positional
            and not close
        )
        # The registry epoch in which fast_request holds and cached_args are valid: one
        # identity check tells resolve() it may take the short way.
        self.fast_epoch: object = None

    @property
    def dependencies(self) -> tuple[str, ...]:
        """The registered names this provider's parameters ask for."""
        return tuple(p.dependency for p in self.params)

    def describe(self) -> str:
        """The provider's kind and callable, for messages."""
        if self.kind is Kind.VALUE:
            return f"value {self.value!r}"
        return f"{self.kind.value} {describe(self.factory)}"

    def __repr__(self) -> str:
        return f"<Provider {self.name!r} {self.scope.name} {self.describe()}>"


def _no_factory() -> Any:  # pragma: no cover - value providers are never called
    raise AssertionError


def _is_provides_wrapper(factory: object) -> bool:
    return getattr(factory, "_self_asyncdi_provider_wrapper", False) is True
