"""Pooled values: ``register(..., pool=Pool(size=4, timeout=5.0))``.

A pooled provider's values are not made per request scope (or per service instance)
but borrowed from a :class:`PoolState`, one per pooled plan, and given back when the
borrower's scope ends. The pool makes a value with the provider's own generated code
(``_codegen``: the plan's ``make`` for its pool), so a pooled value is made, and
released, exactly as an unpooled one would be; only *when* differs:

- a borrower takes an idle value if there is one (the most recently returned), makes a
  new one if fewer than ``size`` exist, or else waits, first come first served, up to
  ``timeout`` (then :class:`~asyncdi.PoolTimeoutError`);
- the borrower's owner keeps a RETURN record (``_release``). Released after a clean
  scope, it hands the value to the longest waiter, or back to the idle list; after a
  failed scope it releases the value (the provider's own teardown, with the scope's
  exception) and frees its place, so a replacement is made when next needed;
- the pool itself is kept by the registry's root owner (a POOL record, added when its
  first value is made, so it is released before the singletons that value used); at
  lifespan end every idle value is released, and values still borrowed are released
  when given back.

Waiters wait on futures. A future that is resolved hands its waiter either a value or
the right to make one (the place is counted already); a waiter cancelled after it was
handed something hands it on, so nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from asyncdi._errors import InvalidArgumentError, PoolTimeoutError, RegistryClosedError
from asyncdi._release import (
    Held,
    Mechanism,
    Owner,
    any_async,
    finish_exit,
    logger,
    release_records,
)

if TYPE_CHECKING:
    from asyncdi._monitoring import HealthResult
    from asyncdi._provider import Provider

__all__ = ["Lease", "Pool", "PoolState", "PoolStats"]

_SLOT: Final = object()  # what a waiter is handed instead of a value: "make one, it is counted"
_POOL: Final = Mechanism.POOL


class Pool:
    """How many values of a provider may exist, and how long a borrower waits for one.

    ``register("conn", connect, scope=Scope.REQUEST, pool=Pool(size=4, timeout=5.0))``:
    each request scope borrows one value and gives it back when it exits; at most
    ``size`` values exist at once; a borrower that finds none free waits (first come,
    first served) up to ``timeout`` seconds (``None``: without limit), then gets
    :class:`~asyncdi.PoolTimeoutError`. A ``Pool`` only describes; each pooled provider
    gets its own values.
    """

    __slots__ = ("size", "timeout")

    def __init__(self, size: int = 10, timeout: float | None = 30.0) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise InvalidArgumentError(
                "Pool(size=...)", f"the size must be a whole number of at least 1, not {size!r}."
            )
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
        ):
            raise InvalidArgumentError(
                "Pool(timeout=...)",
                f"the timeout must be a positive number of seconds or None, not {timeout!r}.",
            )
        self.size = size
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Pool(size={self.size}, timeout={self.timeout!r})"


@dataclasses.dataclass(frozen=True, slots=True)
class PoolStats:
    """One pool's counters, in :class:`~asyncdi.ProviderStats` ``.pool``.

    ``idle`` and ``in_use`` are the values that exist now (at most ``size`` together);
    ``waits`` counts borrows that had to wait, ``timeouts`` those that gave up, and
    ``discards`` values released before the pool closed (a failed scope, or a failed
    ``health_check`` while idle).
    """

    size: int
    idle: int
    in_use: int
    waits: int
    timeouts: int
    discards: int


class Lease:
    """One pooled value and the records that release it when it leaves the pool."""

    __slots__ = ("held", "pool", "value")

    def __init__(self, pool: PoolState, value: Any, held: list[Held]) -> None:
        self.pool = pool
        self.value = value
        self.held = held

    def __repr__(self) -> str:
        return f"<Lease of {self.pool.label}>"


class PoolState:
    """The values of one pooled plan: idle ones, the count, the waiters, the counters."""

    __slots__ = (
        "closed",
        "count",
        "discards",
        "idle",
        "in_use",
        "label",
        "make",
        "provider",
        "registered",
        "root",
        "size",
        "timeout",
        "timeouts",
        "waiters",
        "waits",
    )

    def __init__(self, provider: Provider, root: Owner, registry_label: str) -> None:
        pool: Pool = provider.pool
        self.provider = provider
        self.size = pool.size
        self.timeout = pool.timeout
        self.root = root
        self.label = f"the pool of {provider.name!r} ({registry_label})"
        self.idle: list[Lease] = []
        self.waiters: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.count = 0  # values that exist or are being made: never more than size
        self.in_use = 0
        self.waits = 0
        self.timeouts = 0
        self.discards = 0
        self.closed = False
        self.registered = False
        # make(scope, owner) -> (value, held): the provider's generated creation code.
        self.make: Callable[..., Awaitable[tuple[Any, list[Held]]]] | None = None

    def __repr__(self) -> str:
        return (
            f"<PoolState {self.provider.name!r}: {self.in_use} in use, {len(self.idle)} idle, "
            f"size {self.size}>"
        )

    def stats(self) -> PoolStats:
        """A snapshot of the counters."""
        return PoolStats(
            self.size, len(self.idle), self.in_use, self.waits, self.timeouts, self.discards
        )

    # -- borrowing ----------------------------------------------------------------------

    def take(self) -> Lease | None:
        """An idle value at once, or ``None`` (then :meth:`borrow`): no coroutine."""
        idle = self.idle
        if idle and not self.root.closed:
            self.in_use += 1
            return idle.pop()
        return None

    async def borrow(self) -> Lease:
        """An idle value, a new one, or (all ``size`` borrowed) the next one given back."""
        if self.closed or self.root.closed:
            raise RegistryClosedError(self.label, self.provider.name)
        idle = self.idle
        if idle:
            self.in_use += 1
            return idle.pop()
        if self.count < self.size:
            self.count += 1
            return await self._make()
        return await self._wait()

    async def _make(self) -> Lease:
        """Make a value in a place already counted; on failure free the place."""
        make = self.make
        assert make is not None
        try:
            value, held = await make(None, None)
        except BaseException:
            self._free_place()
            raise
        lease = Lease(self, value, held)
        if self.closed or self.root.closed:
            errors = await release_records(held, None)
            self._free_place()
            error = RegistryClosedError(self.label, self.provider.name)
            finish_exit(self.label, error, errors)
            raise error
        if not self.registered:
            # Registered after the first value, so after the singletons it needed:
            # the root releases the pool before them.
            self.registered = True
            self.root.held.append((_POOL, self, None, None))
        self.in_use += 1
        return lease

    async def _wait(self) -> Lease:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        self.waiters.append(waiter)
        self.waits += 1
        timer = None
        if self.timeout is not None:
            timer = loop.call_later(self.timeout, self._expire, waiter)
        try:
            got = await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._hand_on(waiter.result())  # handed something, then cancelled: pass it on
            elif not waiter.done():
                waiter.cancel()  # skipped by whoever gives back next
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if got is _SLOT:
            return await self._make()
        return got  # type: ignore[no-any-return]

    def _expire(self, waiter: asyncio.Future[Any]) -> None:
        if not waiter.done():
            self.timeouts += 1
            waiter.set_exception(PoolTimeoutError(self.provider.name, self.size, self.timeout))  # type: ignore[arg-type]

    def _next_waiter(self) -> asyncio.Future[Any] | None:
        waiters = self.waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                return waiter
        return None

    def put_back(self, lease: Lease) -> None:
        """A value returned clean: to the longest waiter, else to the idle list."""
        waiter = self._next_waiter()
        if waiter is not None:
            waiter.set_result(lease)  # stays in use, by its next borrower
            return
        self.in_use -= 1
        self.idle.append(lease)

    def _free_place(self) -> None:
        """A value left the pool for good (or was never made): its place is free."""
        waiter = self._next_waiter()
        if waiter is not None:
            waiter.set_result(_SLOT)  # the place passes to the waiter, still counted
            return
        self.count -= 1

    def _hand_on(self, got: Any) -> None:
        if got is _SLOT:
            self._free_place()
        else:
            self.put_back(got)

    # -- giving back (the RETURN record's release) ----------------------------------------

    def _put_back_or_count_out(self, lease: Lease, exc: BaseException | None) -> bool:
        """After a clean scope, put the value back (True); else count it out (False)."""
        if exc is None and not self.closed:
            self.put_back(lease)
            return True
        self.in_use -= 1
        if not self.closed:
            self.discards += 1
        return False

    async def give_back(self, lease: Lease, exc: BaseException | None) -> list[BaseException]:
        """Return a borrowed value after its scope ended; release it if the scope failed."""
        if self._put_back_or_count_out(lease, exc):
            return []
        errors = await release_records(lease.held, exc)
        self._free_place()
        return errors

    def give_back_sync(self, lease: Lease, exc: BaseException | None) -> list[BaseException]:
        """:meth:`give_back` from synchronous code (its release needs no await)."""
        from asyncdi._release import _release_sync

        if self._put_back_or_count_out(lease, exc):
            return []
        errors = _release_sync(lease.held, exc)
        self._free_place()
        return errors

    def give_back_needs_await(self, lease: Lease) -> bool:
        """Whether giving ``lease`` back may have to await its release."""
        return any_async(lease.held)

    # -- closing (the POOL record's release, at lifespan end) ------------------------------

    def _close(self) -> list[Lease]:
        self.closed = True
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RegistryClosedError(self.label, self.provider.name))
        idle, self.idle = self.idle, []
        self.count -= len(idle)
        return idle

    async def aclose(self, exc: BaseException | None) -> list[BaseException]:
        """Release every idle value; borrowed ones are released when given back."""
        errors: list[BaseException] = []
        for lease in reversed(self._close()):
            errors += await release_records(lease.held, exc)
        return errors

    def close_sync(self, exc: BaseException | None) -> list[BaseException]:
        """:meth:`aclose` from synchronous code."""
        from asyncdi._release import _release_sync

        errors: list[BaseException] = []
        for lease in reversed(self._close()):
            errors += _release_sync(lease.held, exc)
        return errors

    def close_needs_await(self) -> bool:
        """Whether releasing the idle values must be awaited."""
        return any(any_async(lease.held) for lease in self.idle)

    # -- health ---------------------------------------------------------------------------

    async def check_idle(
        self,
        check: Callable[[str, Any, float], Awaitable[HealthResult]],
        timeout: float,  # noqa: ASYNC109
    ) -> list[HealthResult]:
        """Run the ``health_check()`` of every idle value; release and replace failures.

        The values checked are taken out of the idle list meanwhile (no borrower gets a
        value under test). Results are reported under the provider's name.
        """
        testing = [
            lease for lease in self.idle if callable(getattr(lease.value, "health_check", None))
        ]
        if not testing:
            return []
        self.idle = [lease for lease in self.idle if lease not in testing]
        self.in_use += len(testing)
        name = self.provider.name
        try:
            results = await asyncio.gather(
                *(check(name, lease.value.health_check, timeout) for lease in testing)
            )
        except BaseException:
            for lease in testing:
                self.put_back(lease)
            raise
        for lease, result in zip(testing, results, strict=True):
            if result.status == "ok":
                self.put_back(lease)
                continue
            self.in_use -= 1
            self.discards += 1
            for failure in await release_records(lease.held, None):
                logger.error(
                    "asyncdi: releasing an unhealthy value of %s failed: %r",
                    self.label,
                    failure,
                    exc_info=failure,
                )
            self._free_place()
        return list(results)
