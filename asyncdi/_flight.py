"""Single flight: concurrent first awaits of one value share one creation.

A :class:`Cell` holds one lazily made value of a registry or a request scope; a
:class:`Slot` stands in a service instance for one of its dependencies. The first task
to ask creates the value in its own task (so its context, overrides and request scope
apply); tasks that ask meanwhile wait on futures of their own, so a waiter's
cancellation never reaches the creator or the other waiters. A failure is handed to
every waiter and not kept; if the creator is cancelled, the waiters start over and one
of them creates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any, Final

__all__ = ["MAKING", "MISS", "Cell", "Slot", "done_future", "make_slot"]

_RETRY: Final = object()
MISS: Final = object()  # a Slot's value while it is being made
_running_loop = asyncio.get_running_loop
_Future = asyncio.Future

# The in-flight mark of a request value made the short way (in Engine.resolve),
# and the creator recorded in the Cell a concurrent resolver turns that mark into.
MAKING: Final = object()


class Cell:
    """One value made at most once at a time, and kept once made."""

    __slots__ = ("creator", "future", "ready", "value", "waiters")

    def __init__(self) -> None:
        self.value: Any = None
        self.ready = False
        self.waiters: list[asyncio.Future[Any]] | None = None  # not None while in flight
        self.creator: Any = None  # the coroutine making the value, while it runs
        # a done future of a singleton's value, shared by every service instance reading it
        self.future: asyncio.Future[Any] | None = None

    def set(self, value: Any) -> None:
        """Keep ``value`` and wake every waiter."""
        self.value = value
        self.ready = True
        waiters = self.waiters
        self.waiters = None
        if waiters:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def fail(self, error: BaseException) -> None:
        """Forget the attempt; waiters get ``error``, or retry if it was a cancellation."""
        waiters = self.waiters
        self.waiters = None
        if waiters:
            deliver = isinstance(error, Exception)
            for waiter in waiters:
                if not waiter.done():
                    if deliver:
                        waiter.set_exception(error)
                    else:
                        waiter.set_result(_RETRY)


def done_future(loop: asyncio.AbstractEventLoop, value: Any) -> asyncio.Future[Any]:
    """A future of ``value``, done already."""
    future: asyncio.Future[Any] = _Future(loop=loop)
    future.set_result(value)
    return future


class Slot:
    """Stands in an instance's ``__dict__`` for a dependency being made, then made.

    While the value is made, concurrent readers find the slot and wait on futures of
    their own, so one reader's cancellation never reaches the creation or the others.
    Once an INSTANCE value is made the slot holds it, and the first read after that
    swaps in a done future: a value read once never pays for the future (~0.5 us on
    CPython 3.11, most of it ``get_running_loop``), one read twice pays for it once.
    """

    __slots__ = ("attribute", "instance", "value", "waiters")

    # No __init__ (a call costs ~100 ns here): see make_slot(), or its inlined copies.
    instance: Any  # while in flight; a weak reference once made
    attribute: str
    value: Any
    waiters: list[asyncio.Future[Any]] | None

    def __await__(self) -> Generator[Any, None, Any]:
        value = self.value
        if value is not MISS:
            instance = self.instance()
            if instance is not None:
                values = instance.__dict__
                if values.get(self.attribute) is self:
                    values[self.attribute] = done_future(_running_loop(), value)
            return value
        instance = self.instance
        waiter = _running_loop().create_future()
        if self.waiters is None:
            self.waiters = []
        self.waiters.append(waiter)
        yield from waiter  # the creation's exception, or a wake-up to read again
        return (yield from getattr(instance, self.attribute).__await__())

    def abandon(self, values: dict[str, Any], error: BaseException) -> None:
        """The creation failed: leave the instance's ``values`` and tell the waiters."""
        if values.get(self.attribute) is self:
            del values[self.attribute]
        self.wake(error)

    def wake(self, error: BaseException | None) -> None:
        """Hand ``error`` to every waiter, or tell them to read again."""
        deliver = isinstance(error, Exception)
        for waiter in self.waiters or ():
            if not waiter.done():
                if deliver:
                    waiter.set_exception(error)  # type: ignore[arg-type]
                else:
                    waiter.set_result(_RETRY)
        self.waiters = None


def make_slot(instance: Any, attribute: str) -> Slot:
    """A slot for a dependency of ``instance`` being made."""
    slot = Slot()
    slot.instance = instance
    slot.attribute = attribute
    slot.value = MISS
    slot.waiters = None
    return slot
