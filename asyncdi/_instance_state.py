"""What a service instance keeps about its dependencies, inside its own ``__dict__``.

Nothing about an instance is kept anywhere else, so an unreferenced service is
garbage-collected with everything it resolved. The state is made only when the
instance first owns something or enters its lifecycle.

An instance that owns values to release is also known to the request scope (or the
registry's lifespan) it made them in: if the instance is never disposed, that owner
releases them when it ends. Disposing the instance releases them first and takes the
registration back, so nothing is released twice and nothing accumulates.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any, Final

from asyncdi._release import Held, Mechanism, Owner

__all__ = ["STATE_KEY", "InstanceState", "state_of"]

STATE_KEY: Final = "_asyncdi_state"
_OWNER: Final = Mechanism.OWNER


class InstanceState(Owner):
    """The values one service instance owns, and where it is in its lifecycle."""

    __slots__ = ("owned", "phase", "registered_with", "watcher")

    NEW: Final = 0
    ACTIVE: Final = 1
    DISPOSED: Final = 2

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.phase = InstanceState.NEW
        self.owned = False  # made by a provider: its owner releases the instance itself
        self.registered_with: Owner | None = None
        self.watcher: weakref.ref[Any] | None = None  # says so if the instance is lost

    @property
    def service(self) -> str:
        """The service class's name."""
        return self.label

    @property
    def disposed(self) -> bool:
        """Whether the instance has been disposed and released its values."""
        return self.phase == InstanceState.DISPOSED

    def adopt(self, held: list[Held], fallback: Owner, instance: Any = None) -> None:
        """Own ``held``; make sure someone releases it if this instance never is.

        Only an instance that owns something is watched (a weak reference, made once):
        if it is garbage-collected before it is disposed, a ``ResourceWarning`` names
        what it still owned. Plain instances pay nothing for this.
        """
        self.held += held
        if self.owned or self.registered_with is not None:
            return
        fallback.held.append((_OWNER, self, None, None))
        self.registered_with = fallback
        if instance is not None and self.watcher is None:
            self.watcher = weakref.ref(instance, self._lost)

    def _lost(self, _: weakref.ref[Any]) -> None:
        self.watcher = None
        if self.held and not self.closed:
            names = ", ".join(repr(name) for name in self.pending())
            warnings.warn(
                f"{self.service} instance was garbage-collected without being disposed, "
                f"still owning {names}; they are released when the request scope (or "
                f"lifespan) they were made in ends. Use `async with {self.service}() as "
                "svc:` to release them as soon as the instance is done.",
                ResourceWarning,
                stacklevel=2,
            )

    def withdraw(self) -> None:
        """Take back the registration with the owner of last resort (once released)."""
        self.watcher = None
        owner, self.registered_with = self.registered_with, None
        if owner is None:
            return
        records = owner.held
        for index in range(len(records) - 1, -1, -1):  # usually the newest record
            if records[index][1] is self:
                del records[index]
                return

    async def arelease(self, exc: BaseException | None = None) -> list[BaseException]:
        """Release the instance's values, newest first; see :meth:`Owner.arelease`."""
        errors = await super().arelease(exc)
        self.withdraw()
        return errors

    def release_sync(self, exc: BaseException | None = None) -> list[BaseException]:
        """Release from sync code; refused (and kept) if a release must be awaited."""
        errors = super().release_sync(exc)
        self.withdraw()
        return errors

    def pending(self) -> list[str]:
        """The names of the values still waiting to be released."""
        from asyncdi._release import held_name

        return [held_name(h) for h in self.held]


def state_of(instance: Any) -> InstanceState:
    """The instance's state, made on first need.

    ``AsyncService`` has a class-level ``None`` under the same name, so reading it
    never raises, and ``setattr`` keeps the instance's compact values.
    """
    state: InstanceState | None = getattr(instance, STATE_KEY, None)
    if state is None:
        state = InstanceState(type(instance).__name__)
        try:
            setattr(instance, STATE_KEY, state)
        except Exception:  # noqa: BLE001 - e.g. a frozen service; the dict always works
            instance.__dict__[STATE_KEY] = state
    return state
