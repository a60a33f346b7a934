"""Monitoring: health checks of live values and per-provider counters."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from asyncdi._errors import InvalidArgumentError
from asyncdi._pool import PoolStats
from asyncdi._provider import Kind

if TYPE_CHECKING:
    from asyncdi._provider import Provider
    from asyncdi._registry import Registry as Engine

__all__ = ["HealthReport", "HealthResult", "ProviderStats", "check_health", "collect_stats"]

Status = Literal["ok", "failed", "timed out"]


@dataclasses.dataclass(frozen=True, slots=True)
class HealthResult:
    """The outcome of one value's ``health_check()``."""

    name: str
    status: Status
    latency_ms: float
    error: BaseException | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class HealthReport:
    """Every health check run by ``registry.health()``; ``ok`` if all passed."""

    results: tuple[HealthResult, ...]

    @property
    def ok(self) -> bool:
        """Whether every check passed (true when there was nothing to check)."""
        return all(result.status == "ok" for result in self.results)

    def __iter__(self) -> Iterator[HealthResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __str__(self) -> str:
        if not self.results:
            return "no live value has a health_check()"
        rows = [
            f"{r.name:<20} {r.status:<10} {r.latency_ms:8.2f} ms"
            + (f"  {r.error!r}" if r.error is not None else "")
            for r in self.results
        ]
        return "\n".join(rows)


@dataclasses.dataclass(frozen=True, slots=True)
class ProviderStats:
    """Counters of one provider since it was registered."""

    name: str
    scope: str
    created: int
    released: int
    live: int
    failures: int
    mean_creation_ms: float
    pool: PoolStats | None = None
    """A pooled provider's pool counters (summed over its pools, e.g. under overrides)."""


def _live_values(engine: Engine) -> list[tuple[str, Any]]:
    """Every made singleton, and the values of the request scopes the caller is in.

    Other tasks' request values are left alone: they belong to requests that may be
    tearing them down at this very moment (and tracking every open scope would cost
    each request). Outer scopes come first, then inner ones.
    """
    values: list[tuple[str, Any]] = []
    seen: set[int] = set()
    view = engine._view()
    overridden = view.overrides.singletons if view.overrides is not None else {}
    for provider, cell in [*engine._singletons.items(), *overridden.items()]:
        if cell.ready and id(cell) not in seen:
            seen.add(id(cell))
            values.append((provider.name, cell.value))
    for name in sorted(view.providers):
        provider = view.providers[name]
        if provider.kind is Kind.VALUE:
            values.append((name, provider.value))
    scopes = []
    scope = engine._scope_var.get()
    while scope is not None:
        scopes.append(scope)
        scope = scope.parent
    for scope in reversed(scopes):
        for provider, value in scope.made_values():
            values.append((provider.name, value))
    return values


async def _check(name: str, check: Any, timeout: float) -> HealthResult:  # noqa: ASYNC109
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            result = check()
            if inspect.isawaitable(result):
                result = await result
    except TimeoutError as error:
        return HealthResult(name, "timed out", _ms(started), error)
    except Exception as error:  # noqa: BLE001 - a failing check is a report, not a crash
        return HealthResult(name, "failed", _ms(started), error)
    if result is False:
        return HealthResult(name, "failed", _ms(started), None)
    return HealthResult(name, "ok", _ms(started))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def check_health(engine: Engine, timeout: float) -> HealthReport:  # noqa: ASYNC109
    """Run every live value's ``health_check()`` concurrently, each under ``timeout``."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise InvalidArgumentError(
            "registry.health(timeout=...)",
            f"the timeout must be a positive number of seconds, got {timeout!r}.",
        )
    checks = [
        _check(name, check, timeout)
        for name, value in _live_values(engine)
        if callable(check := getattr(value, "health_check", None))
    ]
    pools = [state.check_idle(_check, timeout) for state in list(engine._pools.values())]
    results = list(await asyncio.gather(*checks)) if checks else []
    for pooled in await asyncio.gather(*pools) if pools else []:
        results += pooled
    return HealthReport(tuple(results))


def collect_stats(engine: Engine) -> dict[str, ProviderStats]:
    """A snapshot of every provider's counters."""
    stats: dict[str, ProviderStats] = {}
    for name, provider in engine._providers.items():
        mean = provider.creation_ns / provider.timed / 1e6 if provider.timed else 0.0
        stats[name] = ProviderStats(
            name,
            provider.scope.name,
            provider.created,
            provider.released,
            provider.live,
            provider.failures,
            mean,
            _pool_stats(engine, provider),
        )
    return stats


def _pool_stats(engine: Engine, provider: Provider) -> PoolStats | None:
    if provider.pool is None:
        return None
    states = [s.stats() for s in engine._pools.values() if s.provider is provider]
    return PoolStats(
        provider.pool.size,
        sum(s.idle for s in states),
        sum(s.in_use for s in states),
        sum(s.waits for s in states),
        sum(s.timeouts for s in states),
        sum(s.discards for s in states),
    )
