"""Shielding: drive an awaitable to its end in the current task, deaf to cancellation.

Release steps run under this shield, so a cancellation that arrives while a value is
being released never cuts the release short; it is recorded and raised once the step
(and, through ``Owner.arelease``, every step) has run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, Final

__all__ = ["Shielded", "shielded"]


_UNSTARTED: Final = object()


class Shielded:
    """Drive an awaitable to its end inside the current task, deaf to cancellation.

    ``asyncio.shield`` needs a new task (and a loop iteration to start it); this runs
    the awaitable in place and, while it waits on a future, shows the task a stand-in
    future instead, so ``task.cancel()`` cancels the stand-in and never the work. A
    cancellation that arrives is appended to ``record`` if one is given, else raised
    once the awaitable has finished.
    """

    __slots__ = ("coro", "first", "record")

    def __init__(
        self, coro: Any, record: list[BaseException] | None = None, first: Any = _UNSTARTED
    ) -> None:
        self.coro = coro
        self.record = record
        self.first = first  # what ``coro`` yielded already, if it was started

    def __await__(self) -> Generator[Any, None, Any]:
        coro = self.coro
        cancelled: asyncio.CancelledError | None = None
        waited = self.first
        while True:
            if waited is _UNSTARTED:
                try:
                    waited = coro.send(None)
                except StopIteration as stop:
                    result = stop.value
                    break
                except BaseException:
                    # The work ended with its own exception: a cancellation that arrived
                    # meanwhile must still be seen, so record it before that propagates.
                    if cancelled is not None and self.record is not None:
                        self.record.append(cancelled)
                    raise
            if waited is None:  # a bare yield, as in asyncio.sleep(0)
                try:
                    yield None
                except asyncio.CancelledError as error:
                    cancelled = error
                waited = _UNSTARTED
                continue
            waited._asyncio_future_blocking = False
            while not waited.done():
                stand_in = waited.get_loop().create_future()
                waited.add_done_callback(_relay(stand_in))
                try:
                    yield from stand_in
                except asyncio.CancelledError as error:
                    cancelled = error
            waited = _UNSTARTED
        if cancelled is not None:
            if self.record is None:
                raise cancelled
            self.record.append(cancelled)
        return result


def _relay(stand_in: asyncio.Future[None]) -> Callable[[asyncio.Future[Any]], None]:
    def done(_: asyncio.Future[Any]) -> None:
        if not stand_in.done():
            stand_in.set_result(None)

    return done


def shielded(
    coro: Coroutine[Any, Any, Any], record: list[BaseException] | None = None
) -> Awaitable[Any]:
    """Await ``coro`` to completion even if the current task is cancelled meanwhile.

    The cancellation is raised afterwards, or appended to ``record`` if one is given.
    """
    return Shielded(coro, record)
