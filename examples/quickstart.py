"""Quick start: a user directory backed by SQLite, wired together with asyncdi.

Three providers and one service:

- ``config`` (a SINGLETON sync function) says where the database lives;
- ``db`` (a SINGLETON async generator) opens the database, creates and seeds the
  ``users`` table, and closes it when the lifespan ends;
- ``users`` (a class, INSTANCE-scoped) is a repository over ``db``;
- ``UserDirectory`` (an ``AsyncService``) declares what it needs as ``Dependency``
  attributes and awaits them on first use.

Blocking ``sqlite3`` calls run in a worker thread (``asyncio.to_thread``), so the event
loop never waits on disk. The database is in memory: the program leaves nothing behind.

Run it with ``python examples/quickstart.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any

from asyncdi import AsyncService, Dependency, Registry, Scope

# A registry of our own, so importing this module never touches the global default one.
reg = Registry("quickstart")

Row = tuple[Any, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Config:
    """Where the database lives and who is in it at the start."""

    database: str = ":memory:"
    seed: tuple[tuple[str, str], ...] = (
        ("Ada Lovelace", "ada@example.org"),
        ("Alan Turing", "alan@example.org"),
        ("Grace Hopper", "grace@example.org"),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class User:
    """One row of the ``users`` table."""

    id: int
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Database:
    """A ``sqlite3`` connection whose blocking calls run in a worker thread.

    One connection is not safe to use from two threads at once, so calls take turns
    behind an ``asyncio.Lock``; each call is its own transaction.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> Database:
        """Connect to ``path`` (``":memory:"`` for a private in-memory database)."""
        # check_same_thread=False: the connection is used from worker threads, one at a time.
        connection = await asyncio.to_thread(sqlite3.connect, path, check_same_thread=False)
        return cls(connection)

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Run one statement and return its rows."""
        async with self._lock:
            return await asyncio.to_thread(self._fetch, sql, params)

    async def insert(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one ``INSERT`` and return the new row's id."""
        async with self._lock:
            return await asyncio.to_thread(self._insert, sql, params)

    async def script(self, sql: str, rows: Sequence[Sequence[object]] = ()) -> None:
        """Run ``sql`` once per row (or once, without rows) in a single transaction."""
        async with self._lock:
            await asyncio.to_thread(self._script, sql, rows)

    async def close(self) -> None:
        """Close the connection."""
        async with self._lock:
            await asyncio.to_thread(self._connection.close)

    # The blocking halves; each runs in a worker thread. `with connection` commits on
    # success and rolls back on an exception.

    def _fetch(self, sql: str, params: Sequence[object]) -> list[Row]:
        with self._connection:
            return self._connection.execute(sql, params).fetchall()

    def _insert(self, sql: str, params: Sequence[object]) -> int:
        with self._connection:
            row_id = self._connection.execute(sql, params).lastrowid
        if row_id is None:
            raise RuntimeError(f"not an INSERT: {sql!r}")
        return row_id

    def _script(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        with self._connection:
            if rows:
                self._connection.executemany(sql, rows)
            else:
                self._connection.execute(sql)


@reg.provides("config", scope=Scope.SINGLETON)
def make_config() -> Config:
    """The program's settings: one value for the whole lifespan."""
    return Config()


@reg.provides("db", scope=Scope.SINGLETON)
async def make_db(config: Config) -> AsyncIterator[Database]:
    """Open and seed the database; close it when the lifespan ends.

    ``config`` is filled by name from the registry.
    """
    db = await Database.open(config.database)
    try:
        await db.script(
            "CREATE TABLE users ("
            "id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE)"
        )
        await db.script("INSERT INTO users (name, email) VALUES (?, ?)", config.seed)
        yield db
    finally:
        await db.close()
        print("database closed")


@reg.provides("users")
class UserRepository:
    """Reads and writes ``users`` rows; made for each service that asks (INSTANCE)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def count(self) -> int:
        """How many users there are."""
        [(count,)] = await self._db.fetch("SELECT count(*) FROM users")
        return int(count)

    async def by_id(self, user_id: int) -> User | None:
        """The user with ``user_id``, or ``None``."""
        rows = await self._db.fetch("SELECT id, name, email FROM users WHERE id = ?", (user_id,))
        return User(*rows[0]) if rows else None

    async def search(self, text: str) -> list[User]:
        """Users whose name contains ``text`` (case-insensitive), by id."""
        rows = await self._db.fetch(
            "SELECT id, name, email FROM users WHERE name LIKE ? ESCAPE '\\' ORDER BY id",
            (f"%{_escape_like(text)}%",),
        )
        return [User(*row) for row in rows]

    async def add(self, name: str, email: str) -> User:
        """Insert a user and return it with its new id."""
        user_id = await self._db.insert(
            "INSERT INTO users (name, email) VALUES (?, ?)", (name, email)
        )
        return User(user_id, name, email)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class UserDirectory(AsyncService, registry=reg):
    """The application's view of its users: look up, search, add."""

    config = Dependency[Config]()  # provider name defaults to the attribute name
    users = Dependency[UserRepository]("users")

    async def initialize(self) -> None:
        """Called on ``async with``: report what we are connected to."""
        config = await self.config
        count = await (await self.users).count()
        print(f"directory ready: {count} users in {config.database}")

    async def dispose(self) -> None:
        """Called when the ``async with`` block ends, before the instance's values go."""
        print("directory disposed")

    async def lookup(self, user_id: int) -> User | None:
        """The user with ``user_id``, or ``None``."""
        return await (await self.users).by_id(user_id)

    async def search(self, text: str) -> list[User]:
        """Users whose name contains ``text``."""
        return await (await self.users).search(text)

    async def add(self, name: str, email: str) -> User:
        """Add a user."""
        return await (await self.users).add(name, email)


async def main() -> None:
    """Open the registry's lifespan, use the directory, and let everything close."""
    async with reg.lifespan(), UserDirectory() as directory:
        print(f"user 2: {await directory.lookup(2)}")
        added = await directory.add("Barbara Liskov", "barbara@example.org")
        print(f"added user {added.id}: {added}")
        found = await directory.search("ov")
        print(f"search 'ov': {', '.join(user.name for user in found)}")
        print(f"user 9: {await directory.lookup(9) or 'not found'}")


if __name__ == "__main__":
    asyncio.run(main())
