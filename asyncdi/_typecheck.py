"""The graph's type check: does each provider make what its dependants declare?

asyncdi wires by name, so ``Dependency[Database]`` wired to a provider that returns a
``str`` would hand out a ``str``. :func:`find_type_mismatches` compares every
``Dependency[T]`` of a service class, and every annotated provider parameter, with what
the provider it is filled from makes (:func:`made_type`). It reports only what it can
prove: unannotated sides, ``Any``, type variables and annotations that cannot be
resolved are never reported.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import types
import typing
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from typing import TYPE_CHECKING, Any, Self, TypeVar, get_args, get_origin

from asyncdi._dependency import Dependency
from asyncdi._errors import AsyncDIError
from asyncdi._typefit import NO_SAMPLE, class_origin, fits, normalise, type_name

if TYPE_CHECKING:
    from asyncdi._provider import Provider

__all__ = ["TypeMismatchError", "find_type_mismatches", "made_type"]

_SYNC_ITERATORS = (Iterator, Iterable, Generator)
_ASYNC_ITERATORS = (AsyncIterator, AsyncIterable, AsyncGenerator)
_CALLED = ("sync function", "async function", "generator function", "async generator function")
_MISSING: Any = object()


class TypeMismatchError(TypeError, AsyncDIError):
    """A dependant declares a type that the provider it is filled from does not make.

    Fields: ``dependant`` (``Checkout.db``, or ``parameter 'db' of provider 'repo'
    (app.make_repo)``), ``declared`` (the declared type), ``provider`` (the provider's
    name), ``description`` (its ``describe()``), ``made`` (the type it makes) and
    ``attribute`` (True for a ``Dependency`` attribute, False for a parameter).
    """

    def __init__(
        self,
        dependant: str,
        declared: object,
        provider: str,
        description: str,
        made: object,
        *,
        attribute: bool = True,
    ) -> None:
        self.dependant = dependant
        self.declared = declared
        self.provider = provider
        self.description = description
        self.made = made
        self.attribute = attribute
        super().__init__(dependant)

    def __str__(self) -> str:
        declared, made = type_name(self.declared), type_name(self.made)
        if self.attribute:
            claim, fix = f"is Dependency[{declared}]", f"declare it as Dependency[{made}]"
        else:
            claim, fix = f"is annotated {declared}", f"annotate it as {made}"
        return (
            f"{self.dependant} {claim} but provider {self.provider!r} "
            f"({_short(self.description)}) makes {made}. Make {self.provider!r} make a "
            f"{declared}, or {fix} if that is what it needs; validate(types=False) skips "
            "type checks."
        )


def _short(description: str) -> str:
    """``app.make_db`` for ``async function app.make_db``: the kind is noise here."""
    for kind in (*_CALLED, "class"):
        if description.startswith(kind + " "):
            return description[len(kind) + 1 :]
    return description


# -- what a provider makes ---------------------------------------------------------------


def made_type(provider: Provider) -> object | None:
    """The type of what ``provider`` makes, or None when it cannot be told.

    A function's return annotation (for ``async def`` the annotation itself: it is what
    awaiting gives), a generator's yield type, a class (or ``Box[int]``) itself, a
    value's class. ``-> None`` is ``NoneType``, not unknown. String annotations and
    ``from __future__ import annotations`` are resolved; what cannot be resolved is
    unknown. A provider that enters its result (``enter=True``) makes what
    ``__aenter__`` (or ``__enter__``) returns.
    """
    kind = provider.kind.value
    made = _value_type(provider.value) if kind == "value" else _factory_type(provider.factory, kind)
    if made is not None and getattr(provider, "enter", False) is True:
        made = _entered_type(made)
    return made


def _value_type(value: object) -> object | None:
    mock = sys.modules.get("unittest.mock")
    if mock is not None and isinstance(value, mock.NonCallableMock):
        return getattr(value, "_spec_class", None)  # Mock(spec=Database) is a Database
    try:
        cls = value.__class__  # a proxy (wrapt, Mock) tells the class it stands for
    except Exception:  # noqa: BLE001 - a broken __class__ property: fall back to type()
        return type(value)
    return cls if isinstance(cls, type) else type(value)


def _factory_type(factory: object, kind: str) -> object | None:
    if class_origin(factory) is not None:
        return factory  # a class, or a parameterised generic alias of one
    if kind not in _CALLED:
        return None
    function = _callable_of(factory)
    if class_origin(function) is not None:
        return function  # partial(Database, url)
    made = _hints(function).get("return", _MISSING)
    if made is _MISSING:
        return None
    if made is Self:  # a classmethod such as Database.connect makes its class
        owner = getattr(function, "__self__", None)
        return owner if isinstance(owner, type) else None
    if kind == "generator function":
        return _yield_type(made, _SYNC_ITERATORS)
    if kind == "async generator function":
        return _yield_type(made, _ASYNC_ITERATORS)
    return made


def _callable_of(factory: object) -> object:
    """The function whose annotations describe calling ``factory``."""
    while isinstance(factory, functools.partial):
        factory = factory.func
    if inspect.isroutine(factory) or class_origin(factory) is not None:
        return factory
    return getattr(factory, "__call__", factory)  # noqa: B004 - an instance's __call__


def _yield_type(annotation: object, forms: tuple[type, ...]) -> object | None:
    annotation = normalise(annotation)
    args: tuple[object, ...] = get_args(annotation)
    return args[0] if get_origin(annotation) in forms and args else None


def _entered_type(manager: object) -> object | None:
    """What entering a value of type ``manager`` gives; async protocol first."""
    cls = class_origin(normalise(manager))
    if cls is None:
        return None
    if cls in _SYNC_ITERATORS or cls in _ASYNC_ITERATORS:  # a @contextmanager function
        args = get_args(normalise(manager))
        return args[0] if args else None
    for name in ("__aenter__", "__enter__"):
        method = getattr(cls, name, None)
        if method is None:
            continue
        hints = _hints(method)
        entered = hints.get("return", _MISSING)
        if entered is _MISSING:
            return None
        if entered is Self or (isinstance(entered, TypeVar) and hints.get("self") is entered):
            return manager
        if name == "__aenter__" and not inspect.iscoroutinefunction(method):
            return _awaited(entered)
        return entered
    return None


def _awaited(annotation: object) -> object | None:
    annotation = normalise(annotation)
    args: tuple[object, ...] = get_args(annotation)
    if get_origin(annotation) is Awaitable and args:
        return args[0]
    if get_origin(annotation) is Coroutine and len(args) == 3:
        return args[2]
    return None


# -- resolving annotations ---------------------------------------------------------------


def _hints(function: object) -> dict[str, object]:
    """``function``'s resolved annotations; one that cannot be resolved is left out."""
    with contextlib.suppress(Exception):  # one bad annotation must not hide the others
        return dict(typing.get_type_hints(function, include_extras=True))
    try:
        raw = dict(inspect.get_annotations(function))  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - builtins and odd callables have none
        return {}
    globalns = getattr(inspect.unwrap(function), "__globals__", None)  # type: ignore[arg-type]
    resolved = {name: _evaluate(value, globalns, None) for name, value in raw.items()}
    return {name: value for name, value in resolved.items() if value is not None}


def _evaluate(
    annotation: object, globalns: dict[str, Any] | None, localns: Mapping[str, Any] | None
) -> object | None:
    """Resolve strings and forward references inside ``annotation``; None if impossible."""
    holder = types.SimpleNamespace(__annotations__={"it": annotation})
    try:
        hints: dict[str, object] = typing.get_type_hints(
            holder, globalns, localns, include_extras=True
        )
    except Exception:  # noqa: BLE001 - a name that does not exist at runtime: unknown
        return None if isinstance(annotation, str | typing.ForwardRef) else annotation
    return hints["it"]


def _namespaces(cls: type | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    if cls is None:
        return None, None
    module = sys.modules.get(cls.__module__)
    return (vars(module) if module is not None else None), dict(vars(cls))


# -- what dependants declare -------------------------------------------------------------


def _declared_type(dependency: Dependency[Any]) -> object | None:
    """``T`` of ``Dependency[T]()``, or of an annotation ``db: Dependency[T] = ...``."""
    globalns, localns = _namespaces(dependency.owner)
    args = get_args(getattr(dependency, "__orig_class__", None))
    if args:
        return _evaluate(args[0], globalns, localns)
    if dependency.owner is None or dependency.attribute is None:
        return None
    try:
        raw = inspect.get_annotations(dependency.owner).get(dependency.attribute)
    except Exception:  # noqa: BLE001 - broken annotations: nothing declared
        return None
    annotation = normalise(_evaluate(raw, globalns, localns)) if raw is not None else None
    args = get_args(annotation)
    return args[0] if get_origin(annotation) is Dependency and args else None


def _parameter_types(provider: Provider) -> dict[str, object]:
    """The resolved annotation of each of the provider's parameters, by parameter name."""
    if provider.kind.value == "value" or not provider.params:
        return {}
    target = _callable_of(provider.factory)
    cls = class_origin(target)
    if cls is None:
        hints = _hints(target)
    else:  # a class's parameters are those of its __new__ and __init__
        hints = {}
        for method in ("__new__", "__init__"):
            hints.update(_hints(getattr(cls, method)))
    hints.pop("return", None)
    return hints


# -- the check ---------------------------------------------------------------------------


def find_type_mismatches(
    providers: Mapping[str, Provider], services: Iterable[type]
) -> list[TypeMismatchError]:
    """Every dependant whose declared type its provider provably does not make.

    Looks at each ``Dependency[T]`` of each service class (inherited ones once, under
    the class that declares them) and each annotated parameter of each provider.
    Names with no provider are left to the name check.
    """
    made: dict[str, object | None] = {}

    def made_by(name: str) -> object | None:
        if name not in made:
            made[name] = made_type(providers[name])
        return made[name]

    found: list[TypeMismatchError] = []
    seen: set[int] = set()
    for service in sorted(services, key=lambda cls: cls.__qualname__):
        for dependency in getattr(service, "__dependencies__", {}).values():
            if id(dependency) in seen or dependency.name not in providers:
                continue
            seen.add(id(dependency))
            provider = providers[dependency.name]
            declared = _declared_type(dependency)
            wrong = _wrong_type(declared, provider, made_by)
            if wrong is not None:
                found.append(_error(dependency.label, declared, provider, wrong, attribute=True))
    for name in sorted(providers):
        dependant = providers[name]
        annotations = _parameter_types(dependant)
        for param in dependant.params:
            if param.dependency not in providers or param.parameter not in annotations:
                continue
            provider = providers[param.dependency]
            declared = annotations[param.parameter]
            wrong = _wrong_type(declared, provider, made_by)
            if wrong is not None:
                label = (
                    f"parameter {param.parameter!r} of provider {name!r} "
                    f"({_short(dependant.describe())})"
                )
                found.append(_error(label, declared, provider, wrong, attribute=False))
    return found


def _wrong_type(
    declared: object | None, provider: Provider, made_by: Callable[[str], object | None]
) -> object | None:
    """What ``provider`` makes if it provably does not fit ``declared``, else None."""
    if declared is None:
        return None
    made = made_by(provider.name)
    if made is None:
        return None
    sample = NO_SAMPLE
    if provider.kind.value == "value" and type(provider.value) is made:
        sample = provider.value  # a protocol can be checked on the value itself
    try:
        return None if fits(made, declared, sample) else made
    except Exception:  # noqa: BLE001 - e.g. a recursive alias too deep to compare: unknown
        return None


def _error(
    dependant: str, declared: object, provider: Provider, made: object, *, attribute: bool
) -> TypeMismatchError:
    return TypeMismatchError(
        dependant, declared, provider.name, provider.describe(), made, attribute=attribute
    )
