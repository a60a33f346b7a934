"""Does a made type fit a declared one? The relation the graph's type check uses.

The relation only answers "no" when it can prove it: ``Any``, type variables, string
annotations left unresolved and every construct it does not understand fit anything.
Subclasses (``bool`` for ``int``), ABCs and their virtual subclasses, ``typing.Protocol``
(members for ``runtime_checkable`` ones, declared bases otherwise), unions and generic
arguments are understood.
"""

from __future__ import annotations

import collections
import inspect
import types
import typing
from collections.abc import (
    Callable,
    Collection,
    Container,
    Iterable,
    Mapping,
    MutableMapping,
    MutableSequence,
    MutableSet,
    Reversible,
    Sequence,
)
from collections.abc import Set as AbstractSet
from typing import (
    Annotated,
    Any,
    ForwardRef,
    ParamSpec,
    TypeVar,
    TypeVarTuple,
    get_args,
    get_origin,
)

__all__ = ["NO_SAMPLE", "class_origin", "fits", "normalise", "type_name"]

NoneType = type(None)
NO_SAMPLE: Any = object()  # no made value at hand, only its type
_UNKNOWN: Any = object()  # a type this check does not understand: it fits anything
_TYPE_ALIAS: Any = getattr(typing, "TypeAliasType", ())  # `type X = ...`, Python 3.12+
_UNIONS = (typing.Union, types.UnionType)
_CALLABLE: Any = Callable

# Builtin containers have no __orig_bases__, so how their arguments line up with those of
# the ABCs they implement is written down here: list[int] is a Sequence[int].
_ONE_ARGUMENT = frozenset({Iterable, Collection, Container, Reversible, Sequence,
                           MutableSequence, AbstractSet, MutableSet})  # fmt: skip
_TWO_ARGUMENTS = frozenset({Mapping, MutableMapping})
_ITEMS = frozenset({list, set, frozenset, collections.deque})
_MAPPINGS = frozenset({dict, collections.defaultdict, collections.OrderedDict})

# Names a protocol class has that are not members a conforming class must have; the
# same set typing uses (3.11 has no __protocol_attrs__ to read them from).
_NOT_MEMBERS = frozenset({
    "__abstractmethods__", "__annotations__", "__annotate__", "__annotate_func__",
    "__annotations_cache__", "__dict__", "__doc__", "__firstlineno__", "__init__",
    "__module__", "__new__", "__slots__", "__subclasshook__", "__weakref__",
    "__class_getitem__", "__match_args__", "__static_attributes__", "__qualname__",
    "__parameters__", "__orig_bases__", "__orig_class__", "__protocol_attrs__",
    "__non_callable_proto_members__", "__type_params__", "_is_protocol",
    "_is_runtime_protocol", "__callable_proto_members_only__",
})  # fmt: skip


def normalise(tp: object) -> Any:
    """``tp`` with ``Annotated``, ``NewType`` and type aliases taken off; None as NoneType.

    Returns an internal marker for anything that fits everything (``Any``, type
    variables, unresolved strings).
    """
    for _ in range(32):  # an alias of an alias of ...; deeper than this is not real code
        if tp is None:
            return NoneType
        if tp is Any or isinstance(tp, str | ForwardRef | TypeVar | ParamSpec | TypeVarTuple):
            return _UNKNOWN
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif getattr(tp, "__supertype__", None) is not None:  # NewType: what it stands for
            tp = tp.__supertype__  # type: ignore[attr-defined]
        elif _TYPE_ALIAS and isinstance(tp, _TYPE_ALIAS):
            tp = tp.__value__
        else:
            return tp
    return _UNKNOWN


def class_origin(tp: object) -> type | None:
    """The class behind ``tp`` (``list`` for ``list[int]``), or None if it has none."""
    if isinstance(tp, type) and tp is not Any:
        return tp
    origin = get_origin(tp)
    return origin if isinstance(origin, type) else None


def fits(made: object, declared: object, sample: object = NO_SAMPLE) -> bool:
    """Whether a value of type ``made`` is a ``declared``, or it cannot be told.

    ``sample`` is the made value itself when it is at hand (a registered value): a
    ``runtime_checkable`` protocol is then checked on it, as ``isinstance`` would.
    """
    if made is declared or made == declared:  # also ends the comparison of recursive aliases
        return True
    made = normalise(made)
    declared = normalise(declared)
    if made is _UNKNOWN or declared is _UNKNOWN:
        return True
    if get_origin(made) in _UNIONS:  # a made union fits only if each member does
        return all(fits(member, declared) for member in get_args(made))
    if get_origin(declared) in _UNIONS:
        return any(fits(made, member, sample) for member in get_args(declared))
    made_class = class_origin(made)
    declared_class = class_origin(declared)
    if made_class is None or declared_class is None:  # Literal, Never, Self, ...
        return True
    if not _class_fits(made_class, declared_class, sample):
        return False
    return _arguments_fit(made, made_class, declared, declared_class)


def _class_fits(made: type, declared: type, sample: object) -> bool:
    if made is declared or declared is object:
        return True
    if declared in (float, complex) and issubclass(made, int | float):
        return True  # PEP 484's numeric tower: an int is acceptable where a float is
    if getattr(declared, "_is_protocol", False):
        if declared in made.__mro__:
            return True
        if getattr(declared, "_is_runtime_protocol", False):
            return _has_members(made, declared, sample)
        return False  # not runtime_checkable: only a declared base counts
    try:
        return issubclass(made, declared)
    except Exception:  # noqa: BLE001 - a class whose __subclasscheck__ refuses: unknown
        return True


def _protocol_members(protocol: type) -> list[str]:
    found = getattr(protocol, "__protocol_attrs__", None)
    if found is not None:
        return sorted(found)
    members: set[str] = set()
    for base in protocol.__mro__[:-1]:
        if base.__module__ == "typing" and base.__name__ in ("Protocol", "Generic"):
            continue
        for name in [*vars(base), *vars(base).get("__annotations__", {})]:
            if not name.startswith("_abc_") and name not in _NOT_MEMBERS:
                members.add(name)
    return sorted(members)


def _has_members(made: type, protocol: type, sample: object) -> bool:
    """Structural check of a runtime_checkable protocol, without making a value."""
    if sample is not NO_SAMPLE:
        missing = object()
        if _on_class(type(sample), "__getattr__"):
            return True
        return all(
            inspect.getattr_static(sample, name, missing) is not missing
            for name in _protocol_members(protocol)
        )
    if _on_class(made, "__getattr__"):  # members made on demand: cannot be told
        return True
    for name in _protocol_members(protocol):
        if _on_class(made, name):
            continue
        if callable(getattr(protocol, name, None)):
            return False  # a method must be on the class
        if not _assigned_somewhere(made, name):
            return False
    return True


def _on_class(cls: type, name: str) -> bool:
    # Not hasattr: that also finds the metaclass's attributes (every class has __call__).
    return any(name in vars(klass) for klass in cls.__mro__)


def _assigned_somewhere(cls: type, name: str) -> bool:
    """A data member may be set per instance: declared, slotted, or assigned in a method."""
    for klass in cls.__mro__:
        if name in vars(klass).get("__annotations__", {}):
            return True
        for attribute in vars(klass).values():
            function = getattr(attribute, "__func__", attribute)
            code = getattr(function, "__code__", None)
            if code is not None and name in code.co_names:
                return True
    return False


def _arguments_fit(made: object, made_class: type, declared: object, declared_class: type) -> bool:
    declared_args = get_args(declared)
    if not declared_args:
        return True
    made_args = _arguments_as(made_class, get_args(made), declared_class)
    if made_args is None:
        return True
    if declared_class is _CALLABLE:  # compare what is returned; parameters go the other way
        return fits(made_args[-1], declared_args[-1])
    if declared_class is tuple:
        return _tuple_fits(made_args, declared_args)
    if len(made_args) != len(declared_args):
        return True
    return all(fits(m, d) for m, d in zip(made_args, declared_args, strict=True))


def _arguments_as(
    made_class: type, made_args: tuple[Any, ...], target: type
) -> tuple[Any, ...] | None:
    """The made type's arguments spelled as arguments of ``target``, or None if unknown."""
    if made_class is target:
        return made_args or None
    if made_class in _ITEMS and len(made_args) == 1 and target in _ONE_ARGUMENT:
        return made_args
    if made_class in _MAPPINGS and len(made_args) == 2:
        if target in _TWO_ARGUMENTS:
            return made_args
        if target in _ONE_ARGUMENT:
            return made_args[:1]
        return None
    parameters = getattr(made_class, "__parameters__", ())
    if made_args and len(made_args) == len(parameters):
        # Sub[int] where `class Sub(Base[T])`: substitute into the base as written.
        chosen = dict(zip(parameters, made_args, strict=True))
        for base in vars(made_class).get("__orig_bases__", ()):
            if get_origin(base) is target:
                try:
                    return get_args(base[tuple(chosen[p] for p in base.__parameters__)])
                except Exception:  # noqa: BLE001 - an unusual base: unknown
                    return None
        return None
    if made_args:
        return None
    for klass in made_class.__mro__:  # IntBox(Box[int]): the arguments a base was given
        for base in vars(klass).get("__orig_bases__", ()):
            if get_origin(base) is target:
                return None if getattr(base, "__parameters__", ()) else get_args(base)
    return None


def _tuple_fits(made: tuple[Any, ...], declared: tuple[Any, ...]) -> bool:
    made_varies = len(made) == 2 and made[1] is Ellipsis
    if len(declared) == 2 and declared[1] is Ellipsis:  # tuple[X, ...]
        return all(fits(m, declared[0]) for m in made[: 1 if made_varies else None])
    if made_varies:
        return all(fits(made[0], d) for d in declared)
    if len(made) != len(declared):
        return False
    return all(fits(m, d) for m, d in zip(made, declared, strict=True))


def type_name(tp: object) -> str:
    """A type as users write it: ``Database``, ``list[int]``, ``Cache | None``."""
    if tp is None or tp is NoneType:
        return "None"
    if tp is Ellipsis:
        return "..."
    if isinstance(tp, list):
        return "[" + ", ".join(type_name(t) for t in tp) + "]"
    if isinstance(tp, ForwardRef):
        return tp.__forward_arg__
    origin, args = get_origin(tp), get_args(tp)
    if origin in _UNIONS:
        return " | ".join(type_name(t) for t in args)
    if origin is Annotated:
        return type_name(args[0])
    if origin is not None and args:
        return f"{type_name(origin)}[{', '.join(type_name(t) for t in args)}]"
    if isinstance(tp, type) and tp is not Any:
        return tp.__qualname__.rpartition("<locals>.")[2]
    return repr(tp).removeprefix("typing.")
