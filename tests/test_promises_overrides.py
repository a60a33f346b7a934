"""Issue 6, overrides and health: an override stays in its block; health sees every live value.

Regression tests written against the public API only, so they run unchanged against a
rewritten core. Every await that could hang runs under ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio

import pytest

from asyncdi import MissingProviderError, Registry, Scope

LIMIT = 5.0  # seconds any one test may wait before a hang counts as a failure
REAL = ("real clock", "scheduler on the real clock")


def _clock_and_scheduler(reg: Registry) -> None:
    def clock() -> str:
        return "real clock"

    def scheduler(clock: str) -> str:
        return f"scheduler on the {clock}"

    reg.register("clock", clock, scope=Scope.SINGLETON)
    reg.register("scheduler", scheduler, scope=Scope.SINGLETON)


async def _clock_then_scheduler(reg: Registry, start: asyncio.Event) -> tuple[str, str]:
    await start.wait()
    return await reg.resolve("clock"), await reg.resolve("scheduler")


@pytest.mark.parametrize("made_before", [False, True], ids=["cold", "scheduler made before"])
async def test_a_task_outliving_its_override_block_sees_no_override(
    reg: Registry, made_before: bool
) -> None:
    """Issue 6 item 4: tasks started in an override that resolve after it see the real graph."""
    _clock_and_scheduler(reg)
    block_over = asyncio.Event()
    async with asyncio.timeout(LIMIT), reg.lifespan():
        if made_before:
            assert await reg.resolve("scheduler") == REAL[1]
        with reg.override(clock="fake clock"):
            late = [
                asyncio.create_task(_clock_then_scheduler(reg, block_over)) for _ in range(10_000)
            ]
            assert await reg.resolve("scheduler") == "scheduler on the fake clock"
        block_over.set()
        results = await asyncio.gather(*late)
        assert set(results) == {REAL}
        assert await reg.resolve("scheduler") == REAL[1]
        assert await reg.resolve("clock") == REAL[0]


async def test_an_override_never_reaches_a_concurrent_task(reg: Registry) -> None:
    """Issue 6 item 4: while one task is in an override, 10,000 others see the real graph."""
    _clock_and_scheduler(reg)
    go = asyncio.Event()

    async def in_override() -> str:
        with reg.override(clock="fake clock"):
            go.set()
            await asyncio.sleep(0.01)
            scheduler: str = await reg.resolve("scheduler")
            return scheduler

    async with asyncio.timeout(LIMIT), reg.lifespan():
        faked = asyncio.create_task(in_override())
        others = [asyncio.create_task(_clock_then_scheduler(reg, go)) for _ in range(10_000)]
        assert await faked == "scheduler on the fake clock"
        assert set(await asyncio.gather(*others)) == {REAL}
        assert await reg.resolve("scheduler") == REAL[1]


@pytest.mark.parametrize("form", ["keyword", "mapping", "providers"])
def test_a_misspelt_override_names_the_closest_provider(reg: Registry, form: str) -> None:
    """Issue 6 item 13: override(dbb=...) when only 'db' exists raises MissingProviderError."""
    reg.register("db", lambda: "db")
    with pytest.raises(MissingProviderError) as info:  # at override() or at entry
        if form == "keyword":
            override = reg.override(dbb="fake")
        elif form == "mapping":
            override = reg.override({"dbb": "fake"})
        else:
            override = reg.override(providers={"dbb": lambda: "fake"})
        with override:
            pass
    assert info.value.name == "dbb"
    assert info.value.closest == "db"
    assert "'db'" in str(info.value)


class Checked:
    """A value whose health check records that it ran."""

    def __init__(self, label: str, checked: list[str]) -> None:
        self.label = label
        self.checked = checked

    def health_check(self) -> bool:
        self.checked.append(self.label)
        return True


async def test_health_checks_singletons_made_under_the_callers_override(reg: Registry) -> None:
    """Issue 6 item 17: health() inside an override checks the singletons made under it."""
    checked: list[str] = []

    def db() -> Checked:
        return Checked("real db", checked)

    def client(db: Checked) -> Checked:
        return Checked(f"client on {db.label}", checked)

    reg.register("db", db, scope=Scope.SINGLETON)
    reg.register("client", client, scope=Scope.SINGLETON)
    async with asyncio.timeout(LIMIT), reg.lifespan():
        with reg.override(db=Checked("fake db", checked)):
            assert (await reg.resolve("client")).label == "client on fake db"
            report = await reg.health()
        assert "client" in [result.name for result in report]
        assert "client on fake db" in checked
        checked.clear()
        outside = await reg.health()
        assert "client on fake db" not in checked  # not seen outside the override
        assert "client" not in [result.name for result in outside]


async def test_health_checks_registered_values(reg: Registry) -> None:
    """Issue 6 item 17: health() checks values given with register(name, value=...)."""
    checked: list[str] = []
    reg.register("cache", value=Checked("cache", checked))
    async with asyncio.timeout(LIMIT), reg.lifespan():
        report = await reg.health()
    assert [result.name for result in report] == ["cache"]
    assert report.ok
    assert checked == ["cache"]
