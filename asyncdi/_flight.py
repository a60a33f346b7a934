"""Single flight: concurrent first awaits of one value share one creation.

A :class:`Cell` keeps one singleton; a request scope keeps its values in plain dicts.
While a value is made, a :class:`Flight` (or, in a request scope, just the creator's
frame until someone waits) stands for the creation. Waiters wait on futures of their
own event loop, so a waiter's cancellation never reaches the creator or the other
waiters, and a waiter in another thread's loop is woken thread-safely. A failure is
handed to every waiter and not kept; only a cancelled creator makes waiters retry.

A waiter that finds the creation running in its own stack is inside that creation (a
provider body asked for its own value): that is a cycle, reported at once instead of
waiting forever (see :func:`creating_here`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Collection, Generator
from types import CodeType, FrameType
from typing import Any, Final

from asyncdi._errors import AsyncProviderError, CycleError, ServiceDisposedError

__all__ = [
    "ABSENT",
    "DISOWNED",
    "MAKING",
    "MISS",
    "Cell",
    "Flight",
    "Ready",
    "Slot",
    "creating_here",
    "done_awaitable",
    "find_request",
    "find_request_sync",
    "holder_of",
    "open_cycle",
    "take_mark",
]

MISS: Final = object()  # a Slot's value while it is being made; a dict's "not there"
DISOWNED: Final = object()  # a Slot's value once its instance was disposed mid-creation
_running_loop = asyncio.get_running_loop
_get_running_loop = asyncio._get_running_loop
_Future = asyncio.Future


class Flight:
    """One creation in progress, and the tasks waiting for it."""

    __slots__ = ("retry", "waiters")

    def __init__(self) -> None:
        self.retry: tuple[Any, str] | None = None  # a Slot's (instance, attribute) to read again
        self.waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]] = []

    def waiter(self) -> asyncio.Future[Any]:
        """A future of the running loop, resolved when this creation ends."""
        loop = _running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self.waiters.append((loop, future))
        return future

    def finish(self, error: BaseException | None) -> None:
        """Wake every waiter: with ``error``, or to look again (made, or cancelled)."""
        waiters, self.waiters = self.waiters, []
        if not waiters:
            return
        outcome = None if error is None or isinstance(error, asyncio.CancelledError) else error
        here = _get_running_loop()
        for loop, future in waiters:
            if loop is here:
                _deliver(future, outcome)
            else:
                # a loop that has closed has nobody waiting any more
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_deliver, future, outcome)


def creating_here(codes: Collection[CodeType], scope: Any = None, start: int = 2) -> bool:
    """Whether a creation by one of ``codes`` is running in the caller's own stack.

    Asked only when a value is found in flight, before waiting for it: if its creation
    is an executing frame of this very thread, the caller runs inside that creation
    (a provider's body asked for its own value), and waiting would wait forever.
    Nothing is recorded on the way in: making a value pays nothing for this check.
    ``scope``, if given, must be the creation's own ``scope`` argument. ``start`` skips
    this function and the caller, which runs the same code as the creation it found.
    """
    frame: FrameType | None = sys._getframe(start)
    while frame is not None:
        if frame.f_code in codes and (scope is None or frame.f_locals.get("scope") is scope):
            return True
        frame = frame.f_back
    return False


# A request scope keeps made values and creations in flight in one dict, ``values``:
# an entry that is a Flight is in flight. These two are Flights that never wait:
# ABSENT is the default of a lookup (so one type check tells "made" from "not made"),
# MAKING the mark of a creation nobody waits for yet (a waiter swaps in a Flight).
ABSENT: Final = Flight()
MAKING: Final = Flight()


def _scan(scope: Any, key: Any, codes: Collection[CodeType]) -> tuple[Any, Any]:
    """Look for ``key`` from ``scope`` outwards: ``(value, None)`` if made,
    ``(ABSENT, None)`` if nowhere, ``(flight, scope_making_it)`` if in flight.

    A creation of it running in the caller's own stack is a cycle.
    """
    current = scope
    while current is not None:
        value = current.values.get(key, ABSENT)
        if type(value) is not Flight:
            return value, None
        if value is not ABSENT:
            if creating_here(codes, current, 4):
                raise open_cycle(key)
            return value, current
        current = current.parent
    return ABSENT, None


async def find_request(scope: Any, key: Any, codes: Collection[CodeType]) -> Any:
    """A request value in ``scope`` or the scopes around it, waiting for one in flight.

    ``ABSENT`` if none has it (nor is making it).
    """
    while True:
        value, making = _scan(scope, key, codes)
        if making is None:
            return value
        if value is MAKING:
            value = making.values[key] = Flight()
            # also kept aside: the scope may exit (and forget its values) meanwhile,
            # and the creator must still find who waits (see take_mark)
            waited = getattr(making, "waited", None)
            if waited is None:
                waited = making.waited = {}
            waited[key] = value
        await wait_for(value)  # made, failed (raised) or abandoned: look again


def find_request_sync(scope: Any, key: Any, codes: Collection[CodeType]) -> Any:
    """:func:`find_request` for ``get()``: a value in flight cannot be waited for."""
    value, making = _scan(scope, key, codes)
    if making is not None:
        raise AsyncProviderError(_name_of(key), "a value being made asynchronously", ())
    return value


def take_mark(scope: Any, key: Any) -> Any:
    """The creator's end: remove its in-flight mark; the Flight waiters wait on, if any."""
    mark = scope.values.pop(key, None)
    waited = getattr(scope, "waited", None)
    if waited is not None:
        flight = waited.pop(key, None)
        if flight is not None:
            return flight
    return mark


def holder_of(scope: Any, key: Any) -> Any:
    """The scope, ``scope`` or one around it, that has the made value of ``key``; or None."""
    while scope is not None:
        if type(scope.values.get(key, ABSENT)) is not Flight:
            return scope
        scope = scope.parent
    return None


def open_cycle(key: Any) -> CycleError:
    """The start of a cycle found while running: the steps out of it complete it."""
    return CycleError((_name_of(key),))


def _name_of(key: Any) -> str:
    """The provider name of a plan key: a Provider, or ``(provider, overrides)``."""
    return str(key.name if hasattr(key, "name") else key[0].name)


def _deliver(future: asyncio.Future[Any], outcome: BaseException | None) -> None:
    if not future.done():
        future.set_result(outcome)


async def wait_for(flight: Flight) -> None:
    """Wait until ``flight`` ends; raise the creator's failure, if it failed."""
    outcome = await flight.waiter()
    if outcome is not None:
        raise outcome


class Cell:
    """One singleton: made at most once at a time, and kept once made."""

    __slots__ = ("awaitable", "flight", "ready", "value")

    def __init__(self) -> None:
        self.value: Any = None
        self.ready = False
        self.flight: Flight | None = None
        # the value, done and awaitable, shared by every service instance reading it
        self.awaitable: Awaitable[Any] | None = None

    def shared_awaitable(self) -> Awaitable[Any]:
        """The done awaitable of the value, which every service instance reading it shares."""
        awaitable = self.awaitable
        if awaitable is None:
            awaitable = self.awaitable = done_awaitable(self.value)
        return awaitable


class Ready:
    """A made value as an awaitable: ``await ready`` returns it, as often as asked.

    ``__await__`` is a generator function whose first step returns, which the
    interpreter runs inline, with no exception; see :func:`done_awaitable`.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        return self.value
        yield  # type: ignore[unreachable]  # never runs: it makes this a generator

    def __repr__(self) -> str:
        return f"<asyncdi ready value {self.value!r}>"


def _done_future(value: Any) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = _Future(loop=_running_loop())
    future.set_result(value)
    return future


# The cheapest awaitable of a made value differs by interpreter, and a cached service
# attribute is one (bench/bench.py, cached hit). Up to 3.11, awaiting a done Future
# returns its result without an exception (~30 ns). From 3.12 on, ``await`` inlines only
# generators and coroutines; any other awaitable returns by raising StopIteration, so a
# done Future costs ~160 ns there and a Ready ~100 ns.
done_awaitable: Callable[[Any], Awaitable[Any]] = (
    _done_future if sys.version_info < (3, 12) else Ready
)


class Slot:
    """Stands in a service instance for a dependency being made, then made.

    ``value`` is ``MISS`` while the value is made and nobody waits, a :class:`Flight`
    once someone does, and then the value itself. Concurrent readers wait on futures of
    their own, so one reader's cancellation never reaches the creation or the others.
    Once made, the slot keeps the value (40 bytes; a done Future would take 144), and
    awaiting it returns the value.
    """

    __slots__ = ("value",)

    value: Any

    def __await__(self) -> Generator[Any, None, Any]:
        value = self.value
        if value is not MISS and type(value) is not Flight:
            if value is DISOWNED:
                raise ServiceDisposedError("the service")
            return value
        if value is MISS:
            value = self.value = Flight()
        flight: Flight = value
        yield from wait_for(flight).__await__()
        if self.value is not flight:
            return self.value
        # the creator was cancelled: read the attribute again (this reader may create)
        instance, attribute = flight.retry
        return (yield from getattr(instance, attribute).__await__())

    def abandon(self, instance: Any, attribute: str, error: BaseException) -> None:
        """The creation failed: leave ``instance`` and tell the waiters."""
        values = instance.__dict__
        if values.get(attribute) is self:
            del values[attribute]
        flight = self.value
        if type(flight) is Flight:
            flight.retry = (instance, attribute)
            flight.finish(error)

    def disown(self, error: BaseException) -> None:
        """The instance was disposed while this value was made: mark it, tell waiters."""
        flight = self.value
        if flight is MISS or type(flight) is Flight:
            self.value = DISOWNED
            if type(flight) is Flight:
                flight.finish(error)

    def made(self, value: Any) -> None:
        """Keep ``value``; wake the readers that waited for it."""
        flight, self.value = self.value, value
        if type(flight) is Flight:
            flight.finish(None)
