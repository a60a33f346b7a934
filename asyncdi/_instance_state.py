"""What a service instance keeps about its dependencies, inside its own ``__dict__``.

Nothing about an instance is kept anywhere else, so an unreferenced service is
garbage-collected with everything it resolved. The state is made only when the
instance first owns something or enters its lifecycle.
"""

from __future__ import annotations

from typing import Any, Final

from asyncdi._release import Owner

__all__ = ["STATE_KEY", "InstanceState", "state_of"]

STATE_KEY: Final = "_asyncdi_state"


class InstanceState(Owner):
    """The values one service instance owns, and where it is in its lifecycle."""

    __slots__ = ("phase",)

    NEW: Final = 0
    ACTIVE: Final = 1
    DISPOSED: Final = 2

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.phase = InstanceState.NEW

    @property
    def service(self) -> str:
        """The service class's name."""
        return self.label

    @property
    def disposed(self) -> bool:
        """Whether the instance has been disposed and released its values."""
        return self.phase == InstanceState.DISPOSED


def state_of(instance: Any) -> InstanceState:
    """The instance's state, made on first need."""
    values = instance.__dict__
    state: InstanceState | None = values.get(STATE_KEY)
    if state is None:
        state = values[STATE_KEY] = InstanceState(type(instance).__name__)
    return state
