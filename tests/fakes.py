"""Fakes shared by the tests: resources that record what happened to them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path


class Journal:
    """An ordered record of lifecycle events, e.g. ``["open db", "close db"]``."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def __call__(self, event: str) -> None:
        self.events.append(event)

    def __repr__(self) -> str:
        return f"Journal({self.events!r})"


class Resource:
    """A resource with async hooks that records them."""

    __asyncdi_lifecycle__ = "resource"

    def __init__(self, name: str, journal: Journal) -> None:
        self.name = name
        self.journal = journal
        self.initialized = 0
        self.disposed = 0

    async def initialize(self) -> None:
        self.initialized += 1
        self.journal(f"init {self.name}")

    async def dispose(self) -> None:
        self.disposed += 1
        self.journal(f"dispose {self.name}")


class Closable:
    """A value released through ``close()``."""

    def __init__(self, name: str, journal: Journal) -> None:
        self.name = name
        self.journal = journal

    def close(self) -> None:
        self.journal(f"close {self.name}")


def sync_gen(name: str, journal: Journal) -> Iterator[str]:
    """A sync generator provider body."""
    journal(f"open {name}")
    try:
        yield name
    finally:
        journal(f"close {name}")


async def async_gen(name: str, journal: Journal, delay: float = 0) -> AsyncIterator[str]:
    """An async generator provider body."""
    journal(f"open {name}")
    try:
        yield name
    finally:
        if delay:
            await asyncio.sleep(delay)
        journal(f"close {name}")


def broken_teardown(message: str) -> Iterator[str]:
    """A generator provider body whose teardown raises ``OSError(message)``."""
    try:
        yield "x"
    finally:
        raise OSError(message)


async def broken_async_teardown(message: str) -> AsyncIterator[str]:
    """An async generator provider body whose teardown raises ``OSError(message)``."""
    try:
        yield "x"
    finally:
        raise OSError(message)


class SlowFactory:
    """An async provider that takes a while and counts its calls."""

    def __init__(self, delay: float = 0.01) -> None:
        self.delay = delay
        self.calls = 0

    async def __call__(self) -> object:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return object()


def run_script(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a script of the project in a fresh interpreter and capture its output."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
