"""``Inject``: the parameter-default marker that names what a parameter is filled with."""

from __future__ import annotations

from typing import Any

__all__ = ["Inject", "InjectMarker", "injected_name"]


class InjectMarker:
    """What ``Inject(name)`` returns: a default that says "fill me from the registry".

    In a provider it renames the parameter (``conn: Conn = Inject("db")``); in an
    ``@inject`` function it marks the parameter as injected. Without a name the
    parameter's own name is used.
    """

    __slots__ = ("name",)

    def __init__(self, name: str | None = None) -> None:
        from asyncdi._errors import InvalidNameError

        if name is not None and (not isinstance(name, str) or not name.isidentifier()):
            raise InvalidNameError("Inject(name=...)", name)
        self.name = name

    def __repr__(self) -> str:
        return "Inject()" if self.name is None else f"Inject({self.name!r})"


def Inject(name: str | None = None) -> Any:  # noqa: N802 - a marker, spelled like a class
    """Mark a parameter as filled from the registry: ``users: Users = Inject()``.

    Typed ``Any`` so ``users: UserService = Inject()`` type-checks with no ignore.
    """
    return InjectMarker(name)


def injected_name(default: object, parameter: str) -> str | None:
    """The registered name a parameter default asks for, or None if it is no marker."""
    if isinstance(default, InjectMarker):
        return default.name or parameter
    from asyncdi._dependency import Dependency

    if isinstance(default, Dependency):
        return default.name or parameter
    return None
