"""examples/fastapi_app.py served by uvicorn: a transaction per request, a committed feed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from examples.fastapi_app import app
from tests.servers import serve


@pytest.fixture
async def bank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """The example served on a free port over a fresh database, and a client for it."""
    monkeypatch.setenv("BANK_DB", str(tmp_path / "bank.sqlite3"))
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=5) as client:
        for owner, balance in [("ada", 100), ("bob", 0)]:
            response = await client.post("/accounts", json={"owner": owner, "balance": balance})
            assert response.status_code == 201
        yield client


async def balances(client: httpx.AsyncClient) -> list[int]:
    """Ada's and Bob's balances, as a client reads them."""
    return [(await client.get(f"/accounts/{n}")).json()["balance"] for n in (1, 2)]


async def test_a_transfer_is_readable_right_after_its_201(bank: httpx.AsyncClient) -> None:
    """A client that got 201 for a transfer reads the new balances with its next request."""
    response = await bank.post("/transfers", json={"source": 1, "target": 2, "amount": 30})
    assert response.status_code == 201
    assert await balances(bank) == [70, 30]


async def test_failed_transfers_roll_back(bank: httpx.AsyncClient) -> None:
    """A 409 from the exception handler and a 404 from HTTPException undo their updates."""
    overdraft = await bank.post("/transfers", json={"source": 2, "target": 1, "amount": 500})
    assert overdraft.status_code == 409
    assert overdraft.json() == {"detail": "account 2 cannot pay 500"}
    unknown = await bank.post("/transfers", json={"source": 1, "target": 9, "amount": 5})
    assert unknown.status_code == 404
    assert await balances(bank) == [100, 0]


async def test_feed_announces_only_committed_transfers(bank: httpx.AsyncClient) -> None:
    """The websocket feed shows the committed transfer and never the rolled-back one."""
    ws_url = str(bank.base_url.copy_with(scheme="ws", path="/feed"))
    async with connect(ws_url) as feed, asyncio.timeout(5):
        assert json.loads(await feed.recv()) == {"subscribed": True}
        await bank.post("/transfers", json={"source": 2, "target": 1, "amount": 500})
        await bank.post("/transfers", json={"source": 1, "target": 2, "amount": 30})
        event = json.loads(await feed.recv())
    assert event == {"id": 1, "source": 1, "target": 2, "amount": 30}


async def test_openapi_shows_no_injected_parameters(bank: httpx.AsyncClient) -> None:
    """The schema lists the path and body parameters, never the Provide ones."""
    schema = (await bank.get("/openapi.json")).json()
    operation = schema["paths"]["/accounts/{account_id}"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["account_id"]
    assert "bank" not in json.dumps(schema).lower().replace("asyncdi bank", "")
