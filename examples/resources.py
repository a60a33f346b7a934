"""Resources: lifecycles, request-scoped transactions, overrides, health and stats.

A tiny bank ledger on SQLite. What lives how long:

- ``workdir`` (SINGLETON, sync generator): a temporary directory for the database file,
  removed when the lifespan ends;
- ``pool`` (SINGLETON, a ``@resource`` class): three ``sqlite3`` connections, opened in
  ``initialize()`` and closed in ``dispose()``;
- ``transaction`` (REQUEST, async generator): a pooled connection inside ``BEGIN``; it
  commits if the request succeeds and rolls back if the request's exception is thrown
  into it;
- ``clock`` (SINGLETON): the time written to the audit log; swapped for a fixed one with
  ``registry.override`` the way a test would;
- ``Ledger`` (an ``AsyncService``, one per request): moves money inside the transaction.

Every release prints a line, so the output shows the order: newest first.

Run it with ``python examples/resources.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from asyncdi import AsyncService, Dependency, Registry, Scope, resource

reg = Registry("resources")

Row = tuple[Any, ...]

OPENING_BALANCES = (("alice", 100), ("bob", 50), ("carol", 0))


class InsufficientFundsError(Exception):
    """A transfer would take an account below zero."""

    def __init__(self, account: str, amount: int) -> None:
        super().__init__(f"{account} cannot pay {amount}")
        self.account = account
        self.amount = amount


# -- the clock -----------------------------------------------------------------------------


class Clock(Protocol):
    """Tells the time; the audit log asks it."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)


class FixedClock:
    """A clock stopped at one moment, for tests."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        """Always the same moment."""
        return self.at


@reg.provides("clock", scope=Scope.SINGLETON)
def make_clock() -> Clock:
    """The clock the program runs on."""
    return SystemClock()


# -- the database file and the pool ----------------------------------------------------------


@reg.provides("workdir", scope=Scope.SINGLETON)
def make_workdir() -> Iterator[Path]:
    """A temporary directory, removed after everything that uses it is released."""
    path = Path(tempfile.mkdtemp(prefix="asyncdi-example-"))
    try:
        yield path
    finally:
        shutil.rmtree(path)
        print("released workdir: temporary directory removed")


@resource("pool", scope=Scope.SINGLETON, registry=reg)
class ConnectionPool:
    """A fixed set of ``sqlite3`` connections to one database file, lent one at a time.

    A ``@resource``: the registry calls ``initialize()`` after making it and
    ``dispose()`` when its lifespan ends. ``workdir`` is injected by name.
    """

    size = 3

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / "ledger.sqlite3"
        self._connections: list[sqlite3.Connection] = []
        self._idle: asyncio.Queue[sqlite3.Connection] = asyncio.Queue()

    async def initialize(self) -> None:
        """Open the connections and create the schema."""
        for _ in range(self.size):
            # isolation_level=None: we issue BEGIN/COMMIT/ROLLBACK ourselves.
            # check_same_thread=False: a connection is used from worker threads, by one
            # borrower at a time.
            connection = await asyncio.to_thread(
                sqlite3.connect, self.path, isolation_level=None, check_same_thread=False
            )
            self._connections.append(connection)
            self._idle.put_nowait(connection)
        await asyncio.to_thread(self._create_schema, self._connections[0])
        print(f"pool ready: {self.size} connections to {self.path.name}")

    @staticmethod
    def _create_schema(connection: sqlite3.Connection) -> None:
        connection.executescript(
            "CREATE TABLE accounts (name TEXT PRIMARY KEY, balance INTEGER NOT NULL);"
            "CREATE TABLE audit (at TEXT, source TEXT, target TEXT, amount INTEGER);"
        )
        connection.executemany("INSERT INTO accounts VALUES (?, ?)", OPENING_BALANCES)

    async def acquire(self) -> sqlite3.Connection:
        """Borrow a connection, waiting for one if all are lent out."""
        return await self._idle.get()

    def release(self, connection: sqlite3.Connection) -> None:
        """Give a borrowed connection back."""
        self._idle.put_nowait(connection)

    async def health_check(self) -> bool:
        """Healthy if a pooled connection answers a query."""
        connection = await self.acquire()
        try:
            await asyncio.to_thread(connection.execute, "SELECT 1")
        finally:
            self.release(connection)
        return True

    async def dispose(self) -> None:
        """Close every connection."""
        for connection in self._connections:
            await asyncio.to_thread(connection.close)
        print(f"released pool: {len(self._connections)} connections closed")
        self._connections.clear()


# -- one transaction per request ----------------------------------------------------------


class Transaction:
    """A borrowed connection inside ``BEGIN``: every statement of one request."""

    def __init__(self, number: int, connection: sqlite3.Connection) -> None:
        self.number = number
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Run one statement in a worker thread and return its rows."""
        return await asyncio.to_thread(self._execute, sql, params)

    def _execute(self, sql: str, params: Sequence[object]) -> list[Row]:
        return self._connection.execute(sql, params).fetchall()

    async def health_check(self) -> bool:
        """Healthy if the connection still answers inside the transaction."""
        return await self.execute("SELECT 1") == [(1,)]


_transaction_numbers = itertools.count(1)


@reg.provides("transaction", scope=Scope.REQUEST)
async def begin_transaction(pool: ConnectionPool) -> AsyncIterator[Transaction]:
    """One transaction per request scope: commit on success, roll back on failure.

    When the scope exits because the request raised, asyncdi throws that exception in
    at the ``yield``; we roll back and let it continue.
    """
    connection = await pool.acquire()
    transaction = Transaction(next(_transaction_numbers), connection)
    try:
        await transaction.execute("BEGIN IMMEDIATE")
        try:
            yield transaction
        except BaseException as error:
            await transaction.execute("ROLLBACK")
            print(f"  released transaction {transaction.number}: rolled back ({error})")
            raise
        await transaction.execute("COMMIT")
        print(f"  released transaction {transaction.number}: committed")
    finally:
        pool.release(connection)


# -- the service ------------------------------------------------------------------------------


class Ledger(AsyncService, registry=reg):
    """Account operations, all inside the current request's transaction."""

    transaction = Dependency[Transaction]()
    clock = Dependency[Clock]()

    async def initialize(self) -> None:
        """Called on ``async with``."""
        print("  ledger ready")

    async def dispose(self) -> None:
        """Called at the end of the ``async with`` block."""
        print("  released ledger")

    async def balances(self) -> dict[str, int]:
        """Every account's balance."""
        transaction = await self.transaction
        rows = await transaction.execute("SELECT name, balance FROM accounts ORDER BY name")
        return dict(rows)

    async def transfer(self, source: str, target: str, amount: int) -> None:
        """Move ``amount`` from ``source`` to ``target`` and write it to the audit log."""
        transaction = await self.transaction
        await transaction.execute(
            "UPDATE accounts SET balance = balance - ? WHERE name = ?", (amount, source)
        )
        await transaction.execute(
            "UPDATE accounts SET balance = balance + ? WHERE name = ?", (amount, target)
        )
        [(left,)] = await transaction.execute(
            "SELECT balance FROM accounts WHERE name = ?", (source,)
        )
        if left < 0:
            raise InsufficientFundsError(source, amount)
        at = (await self.clock).now().isoformat()
        await transaction.execute(
            "INSERT INTO audit VALUES (?, ?, ?, ?)", (at, source, target, amount)
        )

    async def audit_log(self) -> list[Row]:
        """Every audit entry, oldest first."""
        transaction = await self.transaction
        return await transaction.execute("SELECT * FROM audit ORDER BY rowid")


# -- the program ------------------------------------------------------------------------------


async def transfer(source: str, target: str, amount: int) -> None:
    """One request: a scope, a ledger, a transfer. Failures are reported, not raised."""
    print(f"request: {source} pays {target} {amount}")
    try:
        async with reg.scope(), Ledger() as ledger:
            await ledger.transfer(source, target, amount)
    except InsufficientFundsError as error:
        print(f"  request failed: {error}")


async def main() -> None:
    """Run a few requests inside the lifespan, check health, then print the stats."""
    print("== startup")
    async with reg.lifespan(eager=True):
        print(reg)

        print("== requests")
        await transfer("alice", "bob", 30)
        await transfer("bob", "alice", 500)

        print("== override, as a test would")
        stopped = FixedClock(datetime(2024, 1, 1, 9, 0, tzinfo=UTC))
        with reg.override(clock=stopped):
            await transfer("alice", "carol", 10)
            async with reg.scope(), Ledger() as ledger:
                *_, last = await ledger.audit_log()
                print(f"  audit: {' '.join(map(str, last))}")

        print("== health")
        async with reg.scope(), Ledger() as ledger:
            balances = await ledger.balances()
            print("  balances: " + ", ".join(f"{k}={v}" for k, v in balances.items()))
            report = await reg.health(timeout=1.0)
            for result in report:
                print(f"  {result.name}: {result.status}")
            print(f"  healthy: {report.ok}")

        print("== shutdown")
    print(reg)

    print("== stats")
    for stats in reg.stats().values():
        print(
            f"{stats.name:<12} {stats.scope:<10} created={stats.created} "
            f"released={stats.released} live={stats.live} failures={stats.failures}"
        )


if __name__ == "__main__":
    asyncio.run(main())
