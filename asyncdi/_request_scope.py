"""Request scopes: ``async with registry.scope():`` and its sync twin."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from asyncdi._errors import AsyncReleaseError, ReuseError
from asyncdi._flight import Flight
from asyncdi._release import Owner, finish_exit, finish_release, start_release

if TYPE_CHECKING:
    from asyncdi._registry import Registry

__all__ = ["RequestScope"]


class RequestScope(Owner):
    """One request scope: the ``REQUEST`` values made in it, released when it exits.

    Held in a ``ContextVar`` of its registry, so tasks started inside see it, and a
    scope entered inside another sees the outer one's values. ``values`` maps a plan's
    key to its made value; ``flights`` marks the values being made (see ``_flight``).
    After the scope exits, nothing it made is handed out again.
    """

    __slots__ = ("_token", "parent", "registry", "values", "waited")

    parent: RequestScope | None  # the scope this one was entered in
    waited: dict[Any, Any]  # Flights with waiters, see find_request (set by the first)

    label = "the request scope"

    def __init__(self, registry: Registry) -> None:
        # Owner.__init__ inlined, and `parent`, `waited` set only once needed (read
        # with getattr until then): a scope is made per request, and each store costs.
        self.held = []
        self.closed = False
        self.registry = registry
        self.values: dict[Any, Any] = {}
        self._token: Any = None  # set once entered, and kept: a scope is entered once

    @property
    def depth(self) -> int:
        """How many scopes this one is nested in."""
        depth, scope = 0, getattr(self, "parent", None)  # None until entered
        while scope is not None:
            depth, scope = depth + 1, scope.parent
        return depth

    def made_values(self) -> list[tuple[Any, Any]]:
        """``(provider, value)`` of every value made in this scope so far."""
        return [
            (key if not isinstance(key, tuple) else key[0], value)
            for key, value in list(self.values.items())
            if type(value) is not Flight
        ]

    def _enter(self) -> RequestScope:
        if self._token is not None:
            raise ReuseError(
                "This request scope was entered already",
                "a scope is entered once; call registry.scope() for a new one.",
            )
        var = self.registry._scope_var
        self.parent = var.get()
        self._token = var.set(self)
        return self

    def _leave(self) -> None:
        var = self.registry._scope_var
        try:
            var.reset(self._token)
        except ValueError:  # exited in another context than it was entered in
            var.set(self.parent)
        self.values.clear()

    # __aenter__ does what _enter does without calling it: a scope is entered once per
    # request, and the call costs ~70 ns (bench/bench.py, request scope cycle).

    async def __aenter__(self) -> RequestScope:
        if self._token is not None:
            return self._enter()  # raises the explanation
        var = self.registry._scope_var
        self.parent = var.get()
        self._token = var.set(self)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.closed = True
        errors: list[BaseException] = []
        try:
            step = start_release(self.held, exc, errors)
            if step is not None:
                await finish_release(step, self.held, exc, errors)
        finally:
            self._leave()
        if errors:
            finish_exit("the request scope", exc, errors)

    def __enter__(self) -> RequestScope:
        return self._enter()

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            errors = self.release_sync(exc)
        except AsyncReleaseError:
            # A sync exit cannot await these: the lifespan releases them, nothing is lost.
            self.closed = True
            self.registry._root.held += self.held
            self.held = []
            raise
        finally:
            self._leave()
        if errors:
            finish_exit("the request scope", exc, errors)

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("open" if self._token else "not entered")
        return f"<RequestScope {state}, depth {self.depth}, {len(self.held)} values owned>"
