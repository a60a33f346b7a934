"""Owning values and releasing them: last made, first released; every step runs.

An :class:`Owner` (a lifespan, a request scope, a service instance, or a value that
needed ``INSTANCE`` dependencies) keeps a :class:`Held` record for each value it must
release, in creation order. Releasing walks them backwards and never stops half-way.
"""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Coroutine
from typing import Any, Final

from asyncdi import _hooks as hooks
from asyncdi._errors import AsyncReleaseError, ProviderProtocolError, ReleaseError
from asyncdi._shield import Shielded, shielded

__all__ = [
    "Held",
    "Mechanism",
    "Owner",
    "any_async",
    "finish_exit",
    "finish_release",
    "held_name",
    "logger",
    "release_records",
    "shielded",
    "start_release",
]

logger: Final = logging.getLogger("asyncdi")


class Mechanism:
    """How a held value is released; exactly one per value."""

    NONE: Final = 0  # nothing to release (never held)
    GENERATOR: Final = 1
    ASYNC_GENERATOR: Final = 2
    HOOKS: Final = 3  # dispose() of an AsyncService or a @resource
    CLOSE: Final = 4  # aclose() or close(), from @provides(close=True)
    OWNER: Final = 5  # another Owner (a service instance's values), released as a whole
    ENTER_ASYNC: Final = 6  # an entered async context manager (enter=True): __aexit__
    ENTER_SYNC: Final = 7  # an entered context manager (enter=True): __exit__
    RETURN: Final = 8  # a value borrowed from a pool: given back, or discarded on failure
    POOL: Final = 9  # a pool (see ``_pool``): releases every value it keeps


# The same, as module constants for the release loop (a class attribute read costs more).
_GENERATOR: Final = Mechanism.GENERATOR
_ASYNC_GENERATOR: Final = Mechanism.ASYNC_GENERATOR
_HOOKS: Final = Mechanism.HOOKS
_CLOSE: Final = Mechanism.CLOSE
_OWNER: Final = Mechanism.OWNER
_ENTER_ASYNC: Final = Mechanism.ENTER_ASYNC
_ENTER_SYNC: Final = Mechanism.ENTER_SYNC
_RETURN: Final = Mechanism.RETURN
_POOL: Final = Mechanism.POOL


# One value an owner must release: (mechanism, value, handle, provider). ``handle`` is
# the generator to resume, or the entered context manager; ``provider`` the Provider
# whose counters count the release (None for OWNER, RETURN and POOL records: a RETURN's
# handle is the pool's lease, a POOL's value the pool). A plain tuple: one is made for
# every value with a teardown.
Held = tuple[int, Any, Any, Any]


def held_name(held: Held) -> str:
    """The name of the provider that made a held value."""
    if held[0] == _OWNER or held[0] == _POOL:
        return str(held[1].label)
    if held[0] == _RETURN:
        return str(held[2].pool.label)
    return str(held[3].name) if held[3] is not None else "?"


class Owner:
    """Keeps the values something owns, and releases them in reverse creation order."""

    __slots__ = ("closed", "held", "label")

    def __init__(self, label: str) -> None:
        self.label = label
        self.held: list[Held] = []
        self.closed = False

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<Owner {self.label} {state}, {len(self.held)} values owned>"

    async def arelease(self, exc: BaseException | None = None) -> list[BaseException]:
        """Release everything, newest first, and return the failures.

        Every awaited step is shielded: a cancellation that arrives meanwhile is
        recorded among the failures (the caller re-raises it once all steps ran).
        """
        self.closed = True
        return await release_records(self.held, exc)

    def release_sync(self, exc: BaseException | None = None) -> list[BaseException]:
        """Release everything from synchronous code; async teardown is refused.

        Refused means nothing is released and :class:`AsyncReleaseError` is raised;
        the records stay, for the caller to hand to an owner that can await them.
        """
        if any_async(self.held):
            names = [held_name(h) for h in self.held if _needs_await(h)]
            raise AsyncReleaseError(self.label, names)
        self.closed = True
        return _release_sync(self.held, exc)


async def release_records(held: list[Held], exc: BaseException | None) -> list[BaseException]:
    """Release and empty ``held``, newest first; every step runs. Returns the failures."""
    errors: list[BaseException] = []
    step = start_release(held, exc, errors)
    if step is not None:
        await finish_release(step, held, exc, errors)
    return errors


def start_release(
    held: list[Held], exc: BaseException | None, errors: list[BaseException]
) -> Coroutine[Any, Any, None] | None:
    """Release ``held`` newest first, in place, until a step has to wait.

    Most releases never suspend (a generator's teardown that just returns), so they
    cost no coroutine: ``None`` means everything was released. Otherwise the returned
    coroutine finishes that step; :func:`finish_release` then goes on with the rest.
    Failures are appended to ``errors``; every step runs.
    """
    while held:
        h = held.pop()
        try:
            if h[0] == _ASYNC_GENERATOR:
                # The usual record. Its teardown's first stretch runs here, with no
                # coroutine of its own: most finish without suspending.
                step = h[2].__anext__() if exc is None else h[2].athrow(exc)
                try:
                    first = step.send(None)
                except StopAsyncIteration:
                    waiting = None
                except StopIteration:  # it yielded again
                    waiting = _finish_async_teardown(h, exc, errors, _SECOND_YIELD, None)
                except BaseException as error:
                    if error is not exc:  # the body's own exception coming back is no failure
                        raise
                    waiting = None
                else:
                    waiting = _finish_async_teardown(h, exc, errors, step, first)
            else:
                waiting = _begin_step(h, exc, errors)
        except BaseException as error:  # noqa: BLE001 - every step must run; all are reported
            errors.append(error)
            waiting = None
        if waiting is not None:
            return _finish_step(h, waiting, errors)
        if h[3] is not None:
            h[3].released += 1
    return None


async def finish_release(
    step: Coroutine[Any, Any, None],
    held: list[Held],
    exc: BaseException | None,
    errors: list[BaseException],
) -> None:
    """Await the step :func:`start_release` handed back, then release the rest."""
    next_step: Coroutine[Any, Any, None] | None = step
    while next_step is not None:
        await next_step
        next_step = start_release(held, exc, errors)


def _begin_step(h: Held, exc: BaseException | None, errors: list[BaseException]) -> Any:
    """Start releasing one record: None if it is done, else what to await to finish it."""
    mechanism = h[0]
    if mechanism == _HOOKS:
        return Shielded(hooks.stop(h[1], exc), errors)
    if mechanism == _OWNER:
        h[1].registered_with = None  # popped already: nothing to take back
        return _release_owner(h[1], exc, errors)
    if mechanism == _CLOSE and callable(getattr(h[1], "aclose", None)):
        return Shielded(h[1].aclose(), errors)
    if mechanism == _ENTER_ASYNC:
        et = None if exc is None else type(exc)
        tb = None if exc is None else exc.__traceback__
        return Shielded(_coroutine(h[2].__aexit__(et, exc, tb)), errors)
    if mechanism == _RETURN:
        pool = h[2].pool
        if exc is None and not pool.closed:
            pool.put_back(h[2])  # the common case: no coroutine
            return None
        return _extend(errors, pool.give_back(h[2], exc))
    if mechanism == _POOL:
        return _extend(errors, h[1].aclose(exc))
    _teardown_sync(h, exc)
    return None


async def _extend(errors: list[BaseException], failures: Any) -> None:
    errors += await failures


async def _finish_step(h: Held, waiting: Any, errors: list[BaseException]) -> None:
    try:
        await waiting
    except BaseException as error:  # noqa: BLE001 - every step must run; all are reported
        errors.append(error)
    if h[3] is not None:
        h[3].released += 1


def _release_owner(owner: Owner, exc: BaseException | None, errors: list[BaseException]) -> Any:
    return _extend(errors, owner.arelease(exc))


def _coroutine(awaitable: Any) -> Any:
    """``awaitable`` as something :class:`~asyncdi._shield.Shielded` can drive (a coroutine)."""
    if isinstance(awaitable, types.CoroutineType):
        return awaitable

    async def awaited() -> Any:
        return await awaitable

    return awaited()


def _needs_await(held: Held) -> bool:
    mechanism, value = held[0], held[1]
    if mechanism == _ASYNC_GENERATOR:
        return True
    if mechanism == _HOOKS:
        return hooks.stop_needs_await(value)
    if mechanism == _CLOSE:
        return callable(getattr(value, "aclose", None))
    if mechanism == _OWNER:
        return any_async(value.held)
    if mechanism == _ENTER_ASYNC:
        return True
    if mechanism == _RETURN:
        return bool(held[2].pool.give_back_needs_await(held[2]))
    if mechanism == _POOL:
        return bool(value.close_needs_await())
    return False


def any_async(held: list[Held]) -> bool:
    """Whether releasing any of ``held`` must be awaited."""
    return any(_needs_await(h) for h in held)


def _release_sync(held: list[Held], exc: BaseException | None) -> list[BaseException]:
    errors: list[BaseException] = []
    while held:
        h = held.pop()
        try:
            if h[0] == _OWNER:
                h[1].registered_with = None  # popped already: nothing to take back
                errors += h[1].release_sync(exc)
            elif h[0] == _RETURN:
                errors += h[2].pool.give_back_sync(h[2], exc)
            elif h[0] == _POOL:
                errors += h[1].close_sync(exc)
            else:
                _teardown_sync(h, exc)
        except BaseException as error:  # noqa: BLE001 - every step must run; all are reported
            errors.append(error)
        if h[3] is not None:
            h[3].released += 1
    return errors


def _teardown_sync(h: Held, exc: BaseException | None) -> None:
    mechanism = h[0]
    if mechanism == _GENERATOR:
        _finish_generator(h, exc)
    elif mechanism == _HOOKS:
        hooks.stop_sync(h[1], exc)
    elif mechanism == _CLOSE:
        h[1].close()
    elif mechanism == _ENTER_SYNC:
        if exc is None:
            h[2].__exit__(None, None, None)
        else:
            h[2].__exit__(type(exc), exc, exc.__traceback__)


_SECOND_YIELD: Final = object()


async def _finish_async_teardown(
    h: Held, exc: BaseException | None, errors: list[BaseException], step: Any, first: Any
) -> None:
    """Finish an async generator's teardown that ``start_release`` began, under the shield.

    ``step`` is the started ``__anext__()`` (or ``athrow``) and ``first`` what it waits
    on; ``_SECOND_YIELD`` if the generator yielded again instead of finishing.
    """
    if step is not _SECOND_YIELD:
        try:
            await Shielded(step, errors, first)
        except StopAsyncIteration:
            return
        except BaseException as error:
            if error is exc:
                return  # the generator let the body's exception through: not a failure
            raise
    await Shielded(h[2].aclose(), errors)
    raise ProviderProtocolError(held_name(h), "yielded more than once; it must yield once")


def _finish_generator(h: Held, exc: BaseException | None) -> None:
    gen = h[2]
    try:
        if exc is None:
            next(gen)
        else:
            gen.throw(exc)
    except StopIteration:
        return
    except BaseException as error:
        if error is exc:
            return
        raise
    gen.close()
    raise ProviderProtocolError(held_name(h), "yielded more than once; it must yield once")


def finish_exit(what: str, exc: BaseException | None, errors: list[BaseException]) -> None:
    """Report release failures without ever hiding the body's own exception.

    After a clean body the failures are raised together as a :class:`ReleaseError`. If
    the body raised (including ``CancelledError``), its exception keeps propagating and
    the failures are logged and attached to it as notes.
    """
    if not errors:
        return
    cancelled = [e for e in errors if not isinstance(e, Exception)]
    failures = [e for e in errors if isinstance(e, Exception)]
    raised = exc
    if cancelled and not isinstance(exc, asyncio.CancelledError):
        # A cancellation arrived while releasing: it propagates once every step ran.
        raised = cancelled[0]
    elif exc is None:
        raise ReleaseError(f"releasing {what} failed in {len(failures)} step(s)", failures)
    for failure in failures:
        logger.error("asyncdi: releasing %s failed: %r", what, failure, exc_info=failure)
        raised.add_note(f"asyncdi: while releasing {what}, a release step failed: {failure!r}")  # type: ignore[union-attr]
    if raised is not exc:
        raise raised  # type: ignore[misc]
