"""``@inject``: fill a function's ``Inject()`` parameters from a registry at call time."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from asyncdi._errors import (
    AsyncDIError,
    AsyncProviderError,
    InvalidArgumentError,
    MissingProviderError,
)
from asyncdi._markers import InjectMarker, injected_name

if TYPE_CHECKING:
    from asyncdi._registry import Registry

__all__ = ["InjectNeedsAwaitError", "NotInjectableError", "inject"]

P = ParamSpec("P")
R = TypeVar("R")
_NO_FUNCTION: Any = object()  # not None: `inject(None)` must fail as a non-callable


class NotInjectableError(TypeError, AsyncDIError):
    """``@inject`` was applied to something it cannot wrap."""

    def __init__(self, target: object, problem: str) -> None:
        self.target = target
        self.problem = problem
        super().__init__(problem)

    def __str__(self) -> str:
        return f"@inject cannot wrap {_label_of(self.target)}: {self.problem}"


class InjectNeedsAwaitError(AsyncProviderError):
    """A sync ``@inject`` function asked for a value that can only be made with ``await``."""

    def __init__(self, function: str, parameter: str, cause: AsyncProviderError) -> None:
        super().__init__(cause.name, cause.what, cause.path)
        self.function = function
        self.parameter = parameter

    def __str__(self) -> str:
        return (
            f"{self.function}() is a sync function, but its parameter {self.parameter!r} "
            f"needs {self.name!r}, which is made by {self.what} and must be awaited. "
            f"Make it `async def {self.function.rpartition('.')[2]}(...)`, or pass "
            f"{self.parameter}= yourself."
        )


class _Injected:
    """What one injected parameter needs: its name, the name it asks for, its position."""

    __slots__ = ("dependency", "marker", "parameter", "position")

    def __init__(self, parameter: str, dependency: str, position: int, marker: str) -> None:
        self.parameter = parameter
        self.dependency = dependency
        self.position = position  # index among positional arguments; -1 if keyword-only
        self.marker = marker  # how the default was written, for messages


class _Plan:
    """Everything ``@inject`` works out once, at decoration, about one function."""

    __slots__ = ("injected", "label", "registry", "signature", "slots")

    def __init__(self, function: Callable[..., Any], registry: Registry) -> None:
        self.registry = registry
        self.label = _label_of(function)
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError) as error:
            raise NotInjectableError(function, f"it has no signature to read ({error}).") from None
        injected: list[_Injected] = []
        visible: list[inspect.Parameter] = []
        after_hidden = False  # a positional parameter is hidden before this one
        for position, p in enumerate(signature.parameters.values()):
            positional = p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            name = injected_name(p.default, p.name) if isinstance(p.default, InjectMarker) else None
            if name is None:
                if after_hidden and p.kind is p.VAR_POSITIONAL:
                    raise NotInjectableError(
                        function,
                        f"its Inject() parameter before *{p.name} would take the first extra "
                        "positional argument. Move it after *args (make it keyword-only).",
                    )
                if after_hidden and positional:
                    # Positions stay those of the real function (as type checkers see
                    # them), so a framework reading the signature must pass this by name.
                    p = p.replace(kind=p.KEYWORD_ONLY)  # noqa: PLW2901
                visible.append(p)
            elif p.kind is p.POSITIONAL_ONLY:
                raise NotInjectableError(
                    function,
                    f"its Inject() parameter {p.name!r} is positional-only, so it could not "
                    "be filled by name. Remove the `/` before it, or make it keyword-only.",
                )
            else:
                injected.append(
                    _Injected(p.name, name, position if positional else -1, repr(p.default))
                )
                after_hidden = after_hidden or positional
        self.injected = tuple(injected)
        # What the per-call loop unpacks; a keyword-only parameter can never be passed
        # positionally, so its position is past any argument count.
        self.slots = tuple(
            (item.parameter, item.dependency, sys.maxsize if item.position < 0 else item.position)
            for item in injected
        )
        self.signature = signature.replace(parameters=visible)

    def check(self) -> None:
        """Raise for an injected name the registry does not know (done at first call)."""
        registry = self.registry
        for item in self.injected:
            if item.dependency not in registry:
                where = f"{self.label}({item.parameter}={item.marker})"
                raise MissingProviderError(item.dependency, (where,), registry.names)


@overload
def inject(function: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def inject(
    *, registry: Registry | None = None, scope: bool = False
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def inject(
    function: Callable[..., Any] = _NO_FUNCTION,
    /,
    *,
    registry: Registry | None = None,
    scope: bool = False,
) -> Any:
    """Fill each ``Inject()`` parameter of a function from the registry at call time.

    ``@inject`` or ``@inject(registry=reg, scope=True)``, on sync and async functions
    and methods. A parameter whose default is ``Inject()`` (or ``Inject("name")``) is
    resolved when the function is called, in the caller's request scope and under its
    overrides, unless the caller passes it by name. Sync functions resolve with
    ``registry.get()``. ``scope=True`` runs every call in a request scope of its own,
    released when the call returns. ``inspect.signature()`` of the result shows only
    the parameters a caller passes.
    """
    if registry is not None:
        from asyncdi._registry import Registry

        if not isinstance(registry, Registry):
            raise InvalidArgumentError(
                "@inject(registry=...)", f"expected a Registry, got {registry!r}."
            )
    if not isinstance(scope, bool):
        raise InvalidArgumentError("@inject(scope=...)", f"expected True or False, got {scope!r}.")
    if function is _NO_FUNCTION:
        return functools.partial(_decorate, registry=registry, scope=scope)
    return _decorate(function, registry=registry, scope=scope)


def _decorate(function: Any, *, registry: Registry | None, scope: bool) -> Any:
    if isinstance(function, staticmethod | classmethod):
        return type(function)(_decorate(function.__func__, registry=registry, scope=scope))
    if not callable(function):
        raise NotInjectableError(
            function, "it is not callable. Put @inject directly above a `def` or `async def`."
        )
    if inspect.isclass(function):
        raise NotInjectableError(
            function,
            "it is a class. Register it as a provider (registry.register(name, cls)) so its "
            "parameters are filled, or decorate one of its methods.",
        )
    if inspect.isasyncgenfunction(function):
        raise NotInjectableError(
            function,
            "async generator functions are not supported. Resolve inside the body with "
            "`await registry.resolve(...)`, or inject into an async function that iterates it.",
        )
    if scope and inspect.isgeneratorfunction(function):
        raise NotInjectableError(
            function,
            "scope=True on a generator function would close the scope before the first "
            "item is made. Drop scope=True and open `with registry.scope():` around the loop.",
        )
    if registry is None:
        from asyncdi._registry import registry as default

        registry = default
    plan = _Plan(function, registry)
    if inspect.iscoroutinefunction(function):
        wrapper = _async_wrapper(function, plan, scope)
    else:
        wrapper = _sync_wrapper(function, plan, scope)
    functools.update_wrapper(wrapper, function)
    wrapper.__signature__ = plan.signature  # type: ignore[attr-defined]
    return wrapper


def _async_wrapper(function: Callable[..., Any], plan: _Plan, scope: bool) -> Callable[..., Any]:
    injected = plan.slots
    registry = plan.registry
    resolve = registry.resolve
    checked = False

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal checked
        if not checked:
            plan.check()
            checked = True
        passed = len(args)
        for parameter, dependency, position in injected:
            if position >= passed and parameter not in kwargs:
                kwargs[parameter] = await resolve(dependency)
        return await function(*args, **kwargs)

    # A call in a scope of its own pays for the scope (~0.7 us); the extra coroutine
    # layer of calling `wrapper` (~0.15 us) is not worth a second copy of the loop.
    async def scoped_wrapper(*args: Any, **kwargs: Any) -> Any:
        async with registry.scope():
            return await wrapper(*args, **kwargs)

    return scoped_wrapper if scope else wrapper


def _sync_wrapper(function: Callable[..., Any], plan: _Plan, scope: bool) -> Callable[..., Any]:
    injected = plan.slots
    registry = plan.registry
    get = registry.get
    checked = False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal checked
        if not checked:
            plan.check()
            checked = True
        passed = len(args)
        for parameter, dependency, position in injected:
            if position >= passed and parameter not in kwargs:
                try:
                    kwargs[parameter] = get(dependency)
                except AsyncProviderError as error:
                    raise InjectNeedsAwaitError(plan.label, parameter, error) from error
        return function(*args, **kwargs)

    def scoped_wrapper(*args: Any, **kwargs: Any) -> Any:
        with registry.scope():
            return wrapper(*args, **kwargs)

    return scoped_wrapper if scope else wrapper


def _label_of(target: object) -> str:
    qualname = getattr(target, "__qualname__", None)
    if isinstance(qualname, str):
        return qualname
    return repr(target)
