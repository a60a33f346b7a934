"""Two reference request scopes, to read asyncdi's request-scope ratio against.

``bench.py`` times a request scope cycle (enter, resolve an async generator value, exit)
three ways besides the hand-written ``asynccontextmanager``:

- **floor**: what any ContextVar-scoped container pays and nothing more: a ContextVar
  entry, a provider found by name, a per-scope cache and a teardown list. None of
  asyncdi's promises.
- **model**: the floor reached through the API asyncdi has (``container.scope()``,
  ``container.resolve(name)``), plus the promises asyncdi keeps on this path, each in
  its cheapest form and written for this one provider: nested scopes see the outer
  one's values, a creation claims its key so concurrent resolves wait (single flight),
  a closed scope hands nothing out, creations and releases are counted, and every
  teardown runs and its failures are collected.
- **asyncdi** itself, where the same promises come from one generated plan per
  provider and one release loop for every kind of value.

The model is a measuring stick, not a second implementation: it has no waiting, no
error reporting, no other kind of provider. Its ratio is the least an implementation
that keeps these promises could measure on the interpreter that runs it.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

__all__ = ["FloorScope", "ModelContainer", "floor_request_value", "floor_resolve"]

Factory = Callable[[], AsyncIterator[Any]]

# -- floor ----------------------------------------------------------------------------------

_FLOOR: contextvars.ContextVar[FloorScope | None] = contextvars.ContextVar("floor", default=None)
floor_providers: dict[str, Callable[[], Awaitable[Any]]] = {}


class FloorScope:
    """A ContextVar entry, a value cache and a teardown list."""

    __slots__ = ("teardowns", "token", "values")

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.teardowns: list[AsyncIterator[object]] = []

    async def __aenter__(self) -> FloorScope:
        self.token = _FLOOR.set(self)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        teardowns = self.teardowns
        while teardowns:
            try:  # noqa: SIM105 - suppress() would add a context manager per teardown
                await anext(teardowns.pop())
            except StopAsyncIteration:
                pass
        _FLOOR.reset(self.token)


def floor_request_value(name: str, factory: Factory) -> Callable[[], Awaitable[Any]]:
    """Register ``factory`` (an async generator function) as the floor's ``name``."""

    async def resolve() -> Any:
        scope = _FLOOR.get()
        assert scope is not None
        value = scope.values.get(name)
        if value is None:
            generator = factory()
            value = scope.values[name] = await anext(generator)
            scope.teardowns.append(generator)
        return value

    floor_providers[name] = resolve
    return resolve


def floor_resolve(name: str) -> Awaitable[Any]:
    """Resolve by name, as a container's ``resolve`` does."""
    return floor_providers[name]()


# -- model ----------------------------------------------------------------------------------

_ABSENT: Any = object()
_MAKING: Any = object()
_ASYNC_GENERATOR = 2


class _Counters:
    __slots__ = ("created", "released", "timed")

    def __init__(self) -> None:
        self.created = 0
        self.released = 0
        self.timed = 0


class _ModelScope:
    __slots__ = ("closed", "held", "parent", "token", "values", "var")

    def __init__(self, var: contextvars.ContextVar[_ModelScope | None]) -> None:
        self.var = var
        self.held: list[tuple[int, Any, Any, _Counters]] = []
        self.values: dict[Any, Any] = {}
        self.closed = False
        self.token: Any = None

    async def __aenter__(self) -> _ModelScope:
        if self.token is not None:
            raise RuntimeError("entered twice")
        self.parent = self.var.get()
        self.token = self.var.set(self)
        return self

    async def __aexit__(self, et: Any, exc: BaseException | None, tb: Any) -> None:
        self.closed = True
        held, errors = self.held, []
        try:
            while held:
                record = held.pop()
                try:
                    if record[0] != _ASYNC_GENERATOR:
                        raise NotImplementedError
                    step = record[2].__anext__() if exc is None else record[2].athrow(exc)
                    try:  # noqa: SIM105 - as above
                        step.send(None)
                    except StopAsyncIteration:
                        pass
                except BaseException as error:  # noqa: BLE001 - collected, as asyncdi does
                    errors.append(error)
                record[3].released += 1
        finally:
            self.var.reset(self.token)
            self.values.clear()
        if errors:
            raise errors[0]


class ModelContainer:
    """``scope()`` and ``resolve(name)`` over request-scoped async generator factories."""

    def __init__(self) -> None:
        self._var: contextvars.ContextVar[_ModelScope | None] = contextvars.ContextVar(
            "model", default=None
        )
        self._resolvers: dict[str, Callable[[Any], Awaitable[Any]]] = {}

    def scope(self) -> _ModelScope:
        """A new request scope."""
        return _ModelScope(self._var)

    def resolve(self, name: str) -> Awaitable[Any]:
        """The value of ``name`` in the current scope."""
        resolver = self._resolvers.get(name)
        if resolver is None:
            raise LookupError(name)
        return resolver(self._var.get())

    def register(self, name: str, factory: Factory) -> None:
        """``factory`` (an async generator function) makes ``name``, once per scope."""
        counters = _Counters()

        async def resolver(scope: Any) -> Any:
            try:
                values = scope.values
            except AttributeError:
                raise LookupError("no request scope") from None
            value = values.get(counters, _ABSENT)
            if value is not _ABSENT or scope.parent is not None:
                return value  # asyncdi waits, or looks outwards, here: not modelled
            if scope.closed:
                raise LookupError("scope closed")
            values[counters] = _MAKING
            sampled = not counters.created & 15
            generator = factory()
            value = await generator.__anext__()
            record = (_ASYNC_GENERATOR, value, generator, counters)
            counters.created += 1
            if sampled:
                counters.timed += 1
            if scope.closed:
                raise LookupError("scope closed")
            scope.held.append(record)
            mark = values[counters]
            values[counters] = value
            if mark is not _MAKING:
                raise NotImplementedError  # waiters: not modelled
            return value

        self._resolvers[name] = resolver
