"""A real uvicorn server on 127.0.0.1, started and stopped by a test, in the test's loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

STARTUP_TIMEOUT = 5.0


def _config(app: Any) -> uvicorn.Config:
    # log_config=None: uvicorn's records reach pytest's caplog instead of its own handlers.
    # The sans-I/O websockets protocol: the legacy one warns (and warnings are errors).
    return uvicorn.Config(
        app, lifespan="on", log_config=None, ws="websockets-sansio", log_level="info"
    )


async def _run(server: uvicorn.Server, sock: socket.socket) -> None:
    try:
        await server.serve(sockets=[sock])
    except SystemExit as exit_:  # uvicorn exits the process when startup fails
        if exit_.code != 3:  # uvicorn's STARTUP_FAILURE
            raise


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    async with asyncio.timeout(STARTUP_TIMEOUT):
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.005)
    return server.started


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` on a free port for the block; yields its base URL."""
    sock = _free_socket()
    server = uvicorn.Server(_config(app))
    task = asyncio.create_task(_run(server, sock))
    try:
        if not await _started(server, task):
            await task
            raise RuntimeError("the server did not start; see the log")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(STARTUP_TIMEOUT):
            await task
        sock.close()


async def start_fails(app: Any) -> bool:
    """Start a server for ``app``; True if its startup failed and it exited by itself."""
    sock = _free_socket()
    server = uvicorn.Server(_config(app))
    task = asyncio.create_task(_run(server, sock))
    try:
        started = await _started(server, task)
        if not started:
            async with asyncio.timeout(STARTUP_TIMEOUT):
                await task
        return not started
    finally:
        server.should_exit = True
        async with asyncio.timeout(STARTUP_TIMEOUT):
            await task
        sock.close()
