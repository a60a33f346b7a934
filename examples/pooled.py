"""Pooled connections and entered context managers, with real resources.

- ``workdir`` (SINGLETON): a temporary directory for the SQLite file, removed at the end;
- ``db`` (REQUEST, ``pool=Pool(size=2)``): an ``aiosqlite`` connection. Each request
  scope borrows one and gives it back when it exits; at most two are ever open, and
  eight concurrent requests share them. A request that fails returns its connection
  rolled back and closed (a new one is opened when next needed);
- ``server`` (SINGLETON): a tiny HTTP server on 127.0.0.1 that this example starts;
- ``http`` (SINGLETON, ``enter=True``): ``httpx.AsyncClient`` registered directly: the
  registry enters it and exits it (closing its connections) at lifespan end.

Run it with ``python examples/pooled.py``.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiosqlite
import httpx

from asyncdi import Pool, Registry, Scope

reg = Registry("pooled")
opened: list[int] = []


@reg.provides("workdir", scope=Scope.SINGLETON)
def make_workdir() -> Iterator[Path]:
    """A temporary directory, removed after everything that uses it is released."""
    path = Path(tempfile.mkdtemp(prefix="asyncdi-pooled-"))
    try:
        yield path
    finally:
        shutil.rmtree(path)
        print("released workdir")


@reg.provides("db", scope=Scope.REQUEST, pool=Pool(size=2, timeout=5.0))
async def connect(workdir: Path) -> AsyncIterator[aiosqlite.Connection]:
    """A pooled connection: opened when the pool needs one more, closed when it leaves."""
    connection = await aiosqlite.connect(workdir / "visits.sqlite3")
    opened.append(id(connection))
    await connection.execute("CREATE TABLE IF NOT EXISTS visits (page TEXT)")
    try:
        yield connection
    except BaseException:
        await connection.rollback()
        raise
    finally:
        await connection.close()
        print("closed a connection")


@reg.provides("server", scope=Scope.SINGLETON)
async def serve() -> AsyncIterator[str]:
    """An HTTP server on 127.0.0.1 that answers every request with its path; its URL."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        path = request.split(b" ", 2)[1]
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(path), path))
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()
        print("released server")


def client(server: str) -> httpx.AsyncClient:
    """An httpx client for the local server; entered by the registry (enter=True)."""
    return httpx.AsyncClient(base_url=server)


reg.register("http", client, scope=Scope.SINGLETON, enter=True)


async def visit(page: str) -> None:
    """One request: fetch the page over HTTP and record the visit on a pooled connection."""
    async with reg.scope():
        http: httpx.AsyncClient = await reg.resolve("http")
        body = (await http.get(f"/{page}")).text
        db: aiosqlite.Connection = await reg.resolve("db")
        await db.execute("INSERT INTO visits VALUES (?)", (body,))
        await db.commit()
        await asyncio.sleep(0.01)  # hold the connection a while, as real work would


async def failing_visit() -> None:
    """A request that fails after writing: its connection is rolled back and closed."""
    try:
        async with reg.scope():
            db: aiosqlite.Connection = await reg.resolve("db")
            await db.execute("INSERT INTO visits VALUES ('lost')")
            raise RuntimeError("request failed")
    except RuntimeError as error:
        print(f"failed request: {error}")


async def main() -> None:
    """Eight concurrent visits on two pooled connections, one failure, then the stats."""
    async with reg.lifespan():
        pages = [f"page{i}" for i in range(8)]
        await asyncio.gather(*(visit(page) for page in pages))
        print(f"visits: 8 requests on {len(opened)} connections")
        pool = reg.stats()["db"].pool
        assert pool is not None
        print(f"pool: size {pool.size}, idle {pool.idle}, in use {pool.in_use}")
        await failing_visit()
        async with reg.scope():
            db: aiosqlite.Connection = await reg.resolve("db")
            async with db.execute("SELECT COUNT(*) FROM visits") as cursor:
                (count,) = await cursor.fetchone() or (0,)
        print(f"recorded visits: {count}")
        pool = reg.stats()["db"].pool
        assert pool is not None
        print(f"pool: discards {pool.discards}, idle {pool.idle}")
        client = await reg.resolve("http")
        print(f"http client open: {not client.is_closed}")
    print(f"http client closed: {client.is_closed}")
    db_stats = reg.stats()["db"]
    print(f"db connections: created={db_stats.created} released={db_stats.released}")


if __name__ == "__main__":
    asyncio.run(main())
