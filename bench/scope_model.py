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

The model is written once, as a template whose lines are tagged with the promise they
keep, so ``scope_ablation.py`` can build it without any of them. It is a measuring stick,
not a second implementation: it has no waiting, no error reporting, no other kind of
provider. Its ratio is the least an implementation
that keeps these promises could measure on the interpreter that runs it.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

__all__ = ["PROMISES", "FloorScope", "floor_request_value", "floor_resolve", "model_container"]

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

# Lines ending in "#@<promise>" are left out of the variant without that promise.
TEMPLATE = """
_ABSENT = object()
_MAKING = object()


class _Counters:
    __slots__ = ("created", "released", "timed")

    def __init__(self):
        self.created = self.released = self.timed = 0


class Scope:
    __slots__ = ("closed", "held", "parent", "token", "values", "var")

    def __init__(self, var):
        self.var = var
        self.held = []
        self.values = {}
        self.closed = False  #@closed
        self.token = None

    async def __aenter__(self):
        if self.token is not None:
            raise RuntimeError("entered twice")
        self.parent = self.var.get()  #@nesting
        self.token = self.var.set(self)
        return self

    async def __aexit__(self, et, exc, tb):
        self.closed = True  #@closed
        held, errors = self.held, []
        try:
            while held:
                record = held.pop()
                try:
                    if record[0] != 2:
                        raise NotImplementedError
                    step = record[2].__anext__() if exc is None else record[2].athrow(exc)
                    try:
                        step.send(None)
                    except StopAsyncIteration:
                        pass
                except BaseException as error:
                    errors.append(error)
                record[3].released += 1  #@stats
        finally:
            self.var.reset(self.token)
            self.values.clear()  #@forget
        if errors:
            raise errors[0]


class Container:
    def __init__(self):
        self._var = contextvars.ContextVar("model", default=None)
        self._resolvers = {}

    def scope(self):
        return Scope(self._var)

    def resolve(self, name):
        resolver = self._resolvers.get(name)
        if resolver is None:
            raise LookupError(name)
        return resolver(self._var.get())

    def register(self, name, factory):
        counters = _Counters()

        async def resolver(scope):
            try:
                values = scope.values
            except AttributeError:
                raise LookupError("no request scope") from None
            value = values.get(counters, _ABSENT)
            if value is not _ABSENT:
                return value
            if scope.parent is not None:  #@nesting
                return value  #@nesting
            if scope.closed:  #@closed
                raise LookupError("scope closed")  #@closed
            values[counters] = _MAKING  #@single_flight
            sampled = not counters.created & 15  #@stats
            generator = factory()
            value = await generator.__anext__()
            record = (2, value, generator, counters)
            counters.created += 1  #@stats
            if sampled:  #@stats
                counters.timed += 1  #@stats
            if scope.closed:  #@closed
                raise LookupError("scope closed")  #@closed
            scope.held.append(record)
            mark = values[counters]  #@single_flight
            values[counters] = value
            if mark is not _MAKING:  #@single_flight
                raise NotImplementedError  #@single_flight
            return value

        self._resolvers[name] = resolver
"""
PROMISES = {
    "closed": "a closed scope hands nothing out",
    "nesting": "an inner scope sees the outer one's values",
    "single_flight": "a creation claims its key",
    "stats": "creations and releases counted, creation times sampled",
    "forget": "an exited scope drops its values",
}


def model_container(without: frozenset[str] = frozenset()) -> Any:
    """A new model container: ``scope()``, ``resolve(name)``, ``register(name, factory)``
    (an async generator function, made once per scope), keeping every promise of
    ``PROMISES`` except those in ``without``."""
    lines = [
        line
        for line in TEMPLATE.splitlines()
        if not any(line.rstrip().endswith(f"#@{promise}") for promise in without)
    ]
    namespace: dict[str, Any] = {"contextvars": contextvars}
    exec(compile("\n".join(lines), "<scope model>", "exec"), namespace)
    return namespace["Container"]()
