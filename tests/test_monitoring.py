"""Monitoring: health checks of live values and per-provider statistics."""

from __future__ import annotations

import asyncio

import pytest

from asyncdi import Registry, Scope


class Healthy:
    """Passes its health check."""

    async def health_check(self) -> bool:
        await asyncio.sleep(0)
        return True


class Sick:
    """Fails its health check."""

    def health_check(self) -> None:
        raise ConnectionError("no route to host")


class Stuck:
    """Never finishes its health check."""

    async def health_check(self) -> None:
        await asyncio.sleep(10)


async def test_health_reports_every_live_value(reg: Registry) -> None:
    """health() checks singletons and open-scope values concurrently, each under the timeout."""
    reg.register("good", Healthy, scope=Scope.SINGLETON)
    reg.register("bad", Sick, scope=Scope.SINGLETON)
    reg.register("stuck", Stuck, scope=Scope.REQUEST)
    reg.register("plain", object, scope=Scope.SINGLETON)
    async with reg.lifespan():
        for name in ("good", "bad", "plain"):
            await reg.resolve(name)
        async with reg.scope():
            await reg.resolve("stuck")
            async with asyncio.timeout(2):
                report = await reg.health(timeout=0.05)
    by_name = {result.name: result for result in report}
    assert set(by_name) == {"good", "bad", "stuck"}
    assert by_name["good"].status == "ok"
    assert by_name["bad"].status == "failed"
    assert isinstance(by_name["bad"].error, ConnectionError)
    assert by_name["stuck"].status == "timed out"
    assert by_name["stuck"].latency_ms >= 40
    assert not report.ok
    assert "timed out" in str(report)


async def test_health_with_nothing_to_check(reg: Registry) -> None:
    """With no checkable value the report is empty and ok."""
    report = await reg.health()
    assert report.ok
    assert len(report) == 0
    with pytest.raises(ValueError, match="positive"):
        await reg.health(timeout=0)


async def test_stats_count_creation_release_and_failures(reg: Registry) -> None:
    """stats() counts created, released, live, failures and mean creation time per provider."""
    attempts = 0

    async def flaky() -> object:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise OSError("first try fails")
        return object()

    async def session() -> object:
        yield object()

    reg.register("flaky", flaky, scope=Scope.SINGLETON)
    reg.register("session", session, scope=Scope.REQUEST)
    async with reg.lifespan():
        with pytest.raises(OSError, match="first try"):
            await reg.resolve("flaky")
        await reg.resolve("flaky")
        for _ in range(3):
            async with reg.scope():
                await reg.resolve("session")
        async with reg.scope():
            await reg.resolve("session")
            live = reg.stats()["session"]
            assert (live.created, live.released, live.live) == (4, 3, 1)
    stats = reg.stats()
    assert stats["flaky"].failures == 1
    assert stats["flaky"].created == 1
    assert stats["session"].created == 4
    assert stats["session"].released == 4
    assert stats["session"].live == 0
    assert stats["session"].scope == "REQUEST"
    assert stats["session"].mean_creation_ms >= 0
