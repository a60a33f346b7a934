"""Single flight: concurrent first awaits of one value share one creation.

A :class:`Cell` holds one lazily made value. The first task to ask creates it in its
own task (so its context, overrides and request scope apply); tasks that ask meanwhile
wait on futures of their own, so a waiter's cancellation never reaches the creator or
the other waiters. A failure is handed to every waiter and not kept; if the creator is
cancelled, the waiters start over and one of them creates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Final

__all__ = ["Cell", "obtain"]

_RETRY: Final = object()


class Cell:
    """One value made at most once at a time, and kept once made."""

    __slots__ = ("future", "ready", "value", "waiters")

    def __init__(self) -> None:
        self.value: Any = None
        self.ready = False
        self.waiters: list[asyncio.Future[Any]] | None = None  # not None while in flight
        self.future: asyncio.Future[Any] | None = None  # a done future of value, made lazily

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

    def done_future(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Any]:
        """A done future of the value, shared by every reader on ``loop``."""
        future = self.future
        if future is None or future.get_loop() is not loop:
            future = self.future = loop.create_future()
            future.set_result(self.value)
        return future


async def obtain(
    cell: Cell,
    create: Callable[..., Coroutine[Any, Any, Any]],
    *args: Any,
) -> Any:
    """Return the cell's value, creating it with ``create(*args)`` if nobody has."""
    while True:
        if cell.ready:
            return cell.value
        if cell.waiters is None:
            cell.waiters = []
            try:
                value = await create(*args)
            except BaseException as error:
                cell.fail(error)
                raise
            cell.set(value)
            return value
        waiter = asyncio.get_running_loop().create_future()
        cell.waiters.append(waiter)
        await waiter  # raises the creator's exception; returns on success or retry
