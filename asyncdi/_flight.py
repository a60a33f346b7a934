"""Single flight: concurrent first awaits of one value share one creation.

A :class:`Cell` holds one lazily made value. The first task to ask creates it in its
own task (so its context, overrides and request scope apply); tasks that ask meanwhile
wait on futures of their own, so a waiter's cancellation never reaches the creator or
the other waiters. A failure is handed to every waiter and not kept; if the creator is
cancelled, the waiters start over and one of them creates.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

__all__ = ["MAKING", "Cell"]

_RETRY: Final = object()

# The in-flight mark of a request value made the short way (Engine._make_in_scope),
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
