"""Eager concurrent start-up, and the cost of a pooled request value.

Run ``python bench/pools.py`` (``--quick`` for a short run, ``--check`` to exit 1 when a
bound is missed). Two measurements:

1. **Eager start-up**: ten independent singletons that each take 50 ms
   (``asyncio.sleep(0.05)``), made by ``lifespan(eager=True)`` against resolving them
   one after another inside a plain lifespan. Bound: eager / sequential <= 0.3.
2. **Pooled request value**: one request is ``async with reg.scope(): await
   reg.resolve("conn")``. ``plain`` makes the value per request (an ``async def``
   provider); ``pooled`` is the same provider with ``pool=Pool(size=4)``, so a request
   borrows the idle value and gives it back when its scope exits. Bound: pooled /
   plain <= 1.5 (borrow + return costs at most 1.5 x making a plain async value).

Method: one event loop; every round runs each variant once in a shuffled order, gc
off while timing, after a warm-up round. A figure is the median over rounds; a ratio
is the median of the within-round ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import platform
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

from asyncdi import Pool, Registry, Scope

SINGLETONS = 10
DELAY = 0.05


def startup_registry() -> Registry:
    """Ten independent singletons that take DELAY seconds each."""
    reg = Registry("bench-startup")
    for i in range(SINGLETONS):

        async def make(i: int = i) -> int:
            await asyncio.sleep(DELAY)
            return i

        reg.register(f"s{i}", make, scope=Scope.SINGLETON)
    return reg


async def eager_startup() -> float:
    """Seconds for lifespan(eager=True) to start every singleton."""
    reg = startup_registry()
    started = time.perf_counter()
    async with reg.lifespan(eager=True):
        elapsed = time.perf_counter() - started
        assert reg.stats()["s9"].created == 1
    return elapsed


async def sequential_startup() -> float:
    """Seconds to make the same singletons one after another."""
    reg = startup_registry()
    async with reg.lifespan():
        started = time.perf_counter()
        for i in range(SINGLETONS):
            await reg.resolve(f"s{i}")
        return time.perf_counter() - started


class Conn:
    """A stand-in connection."""

    __slots__ = ("number",)

    def __init__(self, number: int) -> None:
        self.number = number


def request_registry(pooled: bool) -> Registry:
    """``conn`` per request: made each time, or borrowed from a pool of four."""
    reg = Registry("bench-pooled" if pooled else "bench-plain")

    async def connect() -> Conn:
        return Conn(1)

    reg.register(
        "conn", connect, scope=Scope.REQUEST, pool=Pool(size=4, timeout=5.0) if pooled else None
    )
    return reg


def request_loop(reg: Registry, requests: int) -> Callable[[], Awaitable[float]]:
    """A timed run of ``requests`` sequential request scopes that each get ``conn``."""

    async def run() -> float:
        scope, resolve = reg.scope, reg.resolve
        started = time.perf_counter()
        for _ in range(requests):
            async with scope():
                await resolve("conn")
        return (time.perf_counter() - started) / requests

    return run


async def measure(rounds: int, requests: int) -> dict[str, list[float]]:
    """Per variant, one figure per round (seconds; per request for the request loops)."""
    plain, pooled = request_registry(False), request_registry(True)
    results: dict[str, list[float]] = {"eager": [], "sequential": [], "plain": [], "pooled": []}
    async with plain.lifespan(), pooled.lifespan():
        variants: dict[str, Callable[[], Awaitable[float]]] = {
            "eager": eager_startup,
            "sequential": sequential_startup,
            "plain": request_loop(plain, requests),
            "pooled": request_loop(pooled, requests),
        }
        for variant in variants.values():  # warm-up: plans compiled, pool filled
            await variant()
        for _ in range(rounds):
            order = list(variants)
            random.shuffle(order)
            for name in order:
                gc.disable()
                try:
                    results[name].append(await variants[name]())
                finally:
                    gc.enable()
        stats = pooled.stats()["conn"]
        assert stats.created == 1, stats  # every request reused the one pooled value
    return results


def main() -> int:
    """Print the figures and ratios; with --check, exit 1 if a bound is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a bound is missed")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--requests", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 15)
    requests = args.requests or (2_000 if args.quick else 20_000)
    results = asyncio.run(measure(rounds, requests))
    print(f"asyncdi pools bench: Python {platform.python_version()} on {platform.machine()}")
    print(f"rounds={rounds} requests/round={requests}")
    eager = statistics.median(results["eager"])
    sequential = statistics.median(results["sequential"])
    plain = statistics.median(results["plain"])
    pooled = statistics.median(results["pooled"])
    startup_ratio = statistics.median(
        e / s for e, s in zip(results["eager"], results["sequential"], strict=True)
    )
    pool_ratio = statistics.median(
        p / q for p, q in zip(results["pooled"], results["plain"], strict=True)
    )
    print(f"eager start-up      {eager * 1e3:9.1f} ms  ({SINGLETONS} x {DELAY * 1e3:.0f} ms)")
    print(f"sequential start-up {sequential * 1e3:9.1f} ms")
    print(f"plain request       {plain * 1e6:9.2f} us")
    print(f"pooled request      {pooled * 1e6:9.2f} us")
    print(f"eager / sequential  {startup_ratio:9.3f}  (bound <= 0.3)")
    print(f"pooled / plain      {pool_ratio:9.3f}  (bound <= 1.5)")
    failed = [
        what
        for what, ok in (
            ("eager / sequential > 0.3", startup_ratio <= 0.3),
            ("pooled / plain > 1.5", pool_ratio <= 1.5),
        )
        if not ok
    ]
    for what in failed:
        print(f"FAILED: {what}")
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
