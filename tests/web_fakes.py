"""Fakes for the web tests: a store whose writes show only after a slow COMMIT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

COMMIT_DELAY = 0.05


class Transaction:
    """One request's writes, pending until its COMMIT."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.pending: dict[str, int] = {}
        self.outcome = "open"  # then "commit", "commit failed" or "rollback: <error type>"


class Ledger:
    """A key-value store with a transaction per request, made by :meth:`transaction`."""

    def __init__(self, *, fail_commit: bool = False) -> None:
        self.committed: dict[str, int] = {}
        self.transactions: list[Transaction] = []
        self.fail_commit = fail_commit

    async def transaction(self) -> AsyncIterator[Transaction]:
        """The REQUEST provider: commits after a clean exit, rolls back on any failure."""
        tx = Transaction(len(self.transactions))
        self.transactions.append(tx)
        try:
            yield tx
        except BaseException as error:
            tx.outcome = f"rollback: {type(error).__name__}"
            raise
        await asyncio.sleep(COMMIT_DELAY)  # a slow COMMIT: the response must wait for it
        if self.fail_commit:
            tx.outcome = "commit failed"
            raise RuntimeError("COMMIT failed: disk I/O error")
        self.committed.update(tx.pending)
        tx.outcome = "commit"

    @property
    def outcomes(self) -> list[str]:
        """The outcome of every transaction so far, oldest first."""
        return [tx.outcome for tx in self.transactions]
