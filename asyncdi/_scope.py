"""How long a value lives, and so who shares it."""

from __future__ import annotations

import enum

__all__ = ["Scope"]


class Scope(enum.Enum):
    """The lifetime of a provided value.

    ``SINGLETON``: one value per registry, released when its lifespan ends.
    ``REQUEST``: one value per active ``registry.scope()``, released when the scope exits.
    ``INSTANCE``: a new value for each dependant, owned and released by that dependant.
    """

    SINGLETON = "singleton"
    REQUEST = "request"
    INSTANCE = "instance"

    def __repr__(self) -> str:
        return f"Scope.{self.name}"

    @property
    def rank(self) -> int:
        """Longer-lived scopes rank higher; a value may only hold equal or higher ranks."""
        return _RANKS[self]


_RANKS = {Scope.SINGLETON: 2, Scope.REQUEST: 1, Scope.INSTANCE: 0}
