"""A FastAPI + aiosqlite bank: accounts, transfers, a transaction per request, a live feed.

Serve it: ``uvicorn examples.fastapi_app:app`` (the database file is ``$BANK_DB``, by
default ``bank.sqlite3`` in the temp directory), or ``python examples/fastapi_app.py``
for a short demo in-process on a fresh database. Try::

    curl -X POST localhost:8000/accounts -H 'content-type: application/json' \\
         -d '{"owner": "ada", "balance": 100}'

Every request runs in one SQLite transaction: ``unit_of_work`` BEGINs, yields, and
COMMITs when the request succeeded, or ROLLs BACK when it failed, including when FastAPI
turned an exception into a 404 or 409 response. The response goes out only after the
COMMIT, so a client that got a 2xx can read its write at once. Transfers are announced on
the ``/feed`` websocket only once committed.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import aiosqlite
from fastapi import FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import asyncdi.fastapi
from asyncdi import Registry, Scope
from asyncdi.fastapi import Provide

registry = Registry("bank")

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transfers (
    id INTEGER PRIMARY KEY, source INTEGER NOT NULL, target INTEGER NOT NULL,
    amount INTEGER NOT NULL
);
"""


class InsufficientFundsError(Exception):
    """A transfer would take an account below zero."""


class Feed:
    """Committed transfers, fanned out to every connected websocket."""

    def __init__(self) -> None:
        self.subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    def publish(self, event: dict[str, Any]) -> None:
        for queue in self.subscribers:
            queue.put_nowait(event)


class Unit:
    """One request's database transaction, and what to announce once it commits."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        self.committed_events: list[dict[str, Any]] = []


@registry.provides("database", scope=Scope.SINGLETON)
async def database() -> str:
    """The database file, with its schema created (once, at startup)."""
    path = os.environ.get("BANK_DB") or str(Path(tempfile.gettempdir()) / "bank.sqlite3")
    async with aiosqlite.connect(path) as connection:
        await connection.executescript(SCHEMA)
    return path


@registry.provides("feed", scope=Scope.SINGLETON)
def make_feed() -> Feed:
    """The transfer feed, shared by every request and websocket."""
    return Feed()


@registry.provides("unit", scope=Scope.REQUEST)
async def unit_of_work(database: str, feed: Feed) -> AsyncIterator[Unit]:
    """BEGIN; yield the transaction; COMMIT on success, ROLLBACK on any failure."""
    connection = await aiosqlite.connect(database, isolation_level=None)
    try:
        connection.row_factory = aiosqlite.Row
        await connection.execute("BEGIN IMMEDIATE")
        unit = Unit(connection)
        try:
            yield unit
        except BaseException:  # the app's error, or asyncdi.asgi.FailedResponse
            await connection.execute("ROLLBACK")
            raise
        await connection.execute("COMMIT")
        for event in unit.committed_events:
            feed.publish(event)
    finally:
        await connection.close()


class Bank:
    """Accounts and transfers, inside the request's transaction."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        self.db = unit.connection

    async def open_account(self, owner: str, balance: int) -> dict[str, Any]:
        cursor = await self.db.execute(
            "INSERT INTO accounts (owner, balance) VALUES (?, ?)", (owner, balance)
        )
        return {"id": cursor.lastrowid, "owner": owner, "balance": balance}

    async def account(self, account_id: int) -> dict[str, Any]:
        cursor = await self.db.execute(
            "SELECT id, owner, balance FROM accounts WHERE id = ?", (account_id,)
        )
        row = await cursor.fetchone()
        if row is None:
            raise HTTPException(404, f"no account {account_id}")
        return dict(row)

    async def transfer(self, source: int, target: int, amount: int) -> dict[str, Any]:
        await self.account(target)
        await self.db.execute(
            "UPDATE accounts SET balance = balance - ? WHERE id = ?", (amount, source)
        )
        await self.db.execute(
            "UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, target)
        )
        if (await self.account(source))["balance"] < 0:
            # Both updates are already made: the rollback is what undoes them.
            raise InsufficientFundsError(f"account {source} cannot pay {amount}")
        cursor = await self.db.execute(
            "INSERT INTO transfers (source, target, amount) VALUES (?, ?, ?)",
            (source, target, amount),
        )
        transfer = {"id": cursor.lastrowid, "source": source, "target": target, "amount": amount}
        self.unit.committed_events.append(transfer)
        return transfer


registry.register("bank", Bank, scope=Scope.REQUEST)


class NewAccount(BaseModel):
    owner: str
    balance: int = Field(ge=0)


class NewTransfer(BaseModel):
    source: int
    target: int
    amount: int = Field(gt=0)


app = FastAPI(title="asyncdi bank")
asyncdi.fastapi.setup(app, registry, eager=True)


@app.exception_handler(InsufficientFundsError)
async def insufficient_funds(request: Request, error: InsufficientFundsError) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=409)


@app.post("/accounts", status_code=201)
async def open_account(new: NewAccount, bank: Bank = Provide("bank")) -> dict[str, Any]:
    return await bank.open_account(new.owner, new.balance)


@app.get("/accounts/{account_id}")
async def get_account(account_id: int, bank: Annotated[Bank, Provide("bank")]) -> dict[str, Any]:
    return await bank.account(account_id)


@app.post("/transfers", status_code=201)
async def transfer(new: NewTransfer, bank: Bank = Provide("bank")) -> dict[str, Any]:
    return await bank.transfer(new.source, new.target, new.amount)


@app.websocket("/feed")
async def feed_socket(websocket: WebSocket, feed: Feed = Provide("feed")) -> None:
    await websocket.accept()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    feed.subscribers.add(queue)

    async def forward() -> None:
        while True:
            await websocket.send_json(await queue.get())

    try:
        await websocket.send_json({"subscribed": True})
        async with asyncio.TaskGroup() as tasks:
            sender = tasks.create_task(forward())
            try:
                while True:  # the client says nothing; this notices when it leaves
                    await websocket.receive_text()
            except WebSocketDisconnect:
                sender.cancel()
    finally:
        feed.subscribers.discard(queue)


async def demo() -> None:
    """Open two accounts, make a good and a bad transfer, print what the client sees."""
    import httpx

    with tempfile.TemporaryDirectory() as directory:
        os.environ["BANK_DB"] = str(Path(directory) / "demo.sqlite3")
        transport = httpx.ASGITransport(app=app)  # sends no lifespan events: open it here
        async with (
            registry.lifespan(eager=True),
            httpx.AsyncClient(transport=transport, base_url="http://bank") as client,
        ):

            async def balances() -> str:
                ada = (await client.get("/accounts/1")).json()["balance"]
                bob = (await client.get("/accounts/2")).json()["balance"]
                return f"ada {ada}, bob {bob}"

            await client.post("/accounts", json={"owner": "ada", "balance": 100})
            await client.post("/accounts", json={"owner": "bob", "balance": 0})
            print(f"opened two accounts: {await balances()}")
            good = await client.post("/transfers", json={"source": 1, "target": 2, "amount": 30})
            print(f"transfer 30 from ada to bob: {good.status_code}; now {await balances()}")
            bad = await client.post("/transfers", json={"source": 2, "target": 1, "amount": 500})
            print(f"transfer 500 from bob to ada: {bad.status_code} {bad.json()['detail']}")
            print(f"after the rollback: {await balances()}")


if __name__ == "__main__":
    asyncio.run(demo())
