"""Request scopes: ``async with registry.scope():`` and its sync twin."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from asyncdi._flight import MAKING, Cell
from asyncdi._release import (
    SECOND_YIELD,
    Mechanism,
    Owner,
    finish_async_teardown,
    finish_exit,
)

if TYPE_CHECKING:
    from asyncdi._engine import Engine
    from asyncdi._provider import Provider

__all__ = ["RequestScope"]

_ASYNC_GENERATOR: Final = Mechanism.ASYNC_GENERATOR
_MISS: Final = object()


class RequestScope(Owner):
    """One request scope: the ``REQUEST`` values made in it, released when it exits.

    Held in a ``ContextVar`` of its registry, so tasks started inside see it, and a
    scope entered inside another sees the outer one's values.
    """

    __slots__ = ("_token", "cells", "contended", "engine", "parent")

    label = "the request scope"

    def __init__(self, engine: Engine) -> None:
        # Owner.__init__ inlined: a scope is made per request, and calls cost.
        self.held = []
        self.closed = False
        self.engine = engine
        self.parent: RequestScope | None = None
        self.cells: dict[Provider, Any] = {}  # a Cell, a made value, or MAKING
        self.contended = False  # whether a MAKING mark was ever turned into a Cell
        self._token: object = None

    @property
    def depth(self) -> int:
        """How many scopes this one is nested in."""
        depth, scope = 0, self.parent
        while scope is not None:
            depth, scope = depth + 1, scope.parent
        return depth

    def cell(self, provider: Provider) -> Cell | None:
        """The cell of ``provider`` in this scope, if any.

        The fast path of ``resolve`` keeps a made value in ``cells`` as it is, and the
        mark ``MAKING`` while it is made; this turns such an entry into a Cell for the
        general path (``Engine._make_in_scope`` finds it converted and fills it).
        """
        entry = self.cells.get(provider, _MISS)
        if entry is _MISS:
            return None
        if type(entry) is Cell:
            return entry
        cell = Cell()
        if entry is MAKING:
            cell.creator = MAKING
            cell.waiters = []
            self.contended = True
        else:
            cell.value = entry
            cell.ready = True
        self.cells[provider] = cell
        return cell

    def made_values(self) -> list[tuple[Provider, Any]]:
        """Every value made in this scope so far."""
        made = []
        for provider, entry in list(self.cells.items()):
            if type(entry) is Cell:
                if entry.ready:
                    made.append((provider, entry.value))
            elif entry is not MAKING:
                made.append((provider, entry))
        return made

    def _enter(self) -> RequestScope:
        if self._token is not None or self.closed:
            raise RuntimeError(
                "A request scope can be entered once; call registry.scope() for a new one."
            )
        engine = self.engine
        self.parent = engine._scope_var.get()
        self._token = engine._scope_var.set(self)
        return self

    def _leave(self) -> None:
        engine = self.engine
        try:
            engine._scope_var.reset(self._token)  # type: ignore[arg-type]
        except ValueError:  # exited in another context than it was entered in
            engine._scope_var.set(self.parent)
        self.cells.clear()

    # The async pair repeats _enter/_leave inline: a scope is entered per request.

    async def __aenter__(self) -> RequestScope:
        if self._token is not None:  # entered before (the token stays after exit)
            return self._enter()  # raises the explanation
        var = self.engine._scope_var
        self.parent = var.get()
        self._token = var.set(self)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        errors: list[BaseException] | None = None
        held = self.held
        try:
            if len(held) == 1 and (h := held[0])[0] == _ASYNC_GENERATOR and h[3] is None:
                # The usual request: one async generator value. Owner.arelease, inlined.
                # (begin_async_teardown inlined too: it runs once per request.)
                self.closed = True
                held.clear()
                step = h[2].__anext__() if exc is None else h[2].athrow(exc)
                pending: tuple[Any, Any] | None
                try:
                    pending = (step, step.send(None))
                except StopAsyncIteration:
                    pending = None
                except StopIteration:
                    pending = SECOND_YIELD
                except BaseException as error:  # noqa: BLE001 - reported below
                    pending = None
                    if error is not exc:  # the body's own exception is no failure
                        errors = [error]
                if pending is not None:
                    errors = []
                    try:
                        await finish_async_teardown(h, exc, errors, pending)
                    except BaseException as error:  # noqa: BLE001 - reported below
                        errors.append(error)
                h[4].released += 1
            elif held:
                errors = await self.arelease(exc)
            else:
                self.closed = True
        finally:
            try:
                self.engine._scope_var.reset(self._token)  # type: ignore[arg-type]
            except ValueError:  # exited in another context than it was entered in
                self.engine._scope_var.set(self.parent)
        # The cells stay: the scope is closed (resolving raises before reading them),
        # and the scope object itself is normally dropped right after this.
        if errors:
            finish_exit("the request scope", exc, errors)

    def __enter__(self) -> RequestScope:
        return self._enter()

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            errors = self.release_sync(exc)
        finally:
            self._leave()
        if errors:
            finish_exit("the request scope", exc, errors)

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("open" if self._token else "not entered")
        return f"<RequestScope {state}, depth {self.depth}, {len(self.held)} values owned>"
