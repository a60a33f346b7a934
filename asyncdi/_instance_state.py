"""What a service instance keeps about its dependencies, inside its own ``__dict__``.

Nothing about an instance is kept anywhere else, so an unreferenced service is
garbage-collected with everything it resolved.
"""

from __future__ import annotations

import asyncio
from typing import Final

from asyncdi._flight import Cell
from asyncdi._release import Owner

__all__ = ["STATE_KEY", "InstanceState"]

STATE_KEY: Final = "_asyncdi_state"


class InstanceState:
    """The values one service instance owns, its in-flight creations, and its loop."""

    __slots__ = ("cells", "loop", "owner", "phase", "service")

    NEW: Final = 0
    ACTIVE: Final = 1
    DISPOSED: Final = 2

    def __init__(self, service: str) -> None:
        self.service = service
        self.owner = Owner(f"{service} instance")
        self.cells: dict[str, Cell] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.phase = InstanceState.NEW

    @property
    def disposed(self) -> bool:
        """Whether the instance has been disposed and released its values."""
        return self.phase == InstanceState.DISPOSED
