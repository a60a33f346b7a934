"""The sync path is thread-safe: a sync singleton is made once across threads."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from asyncdi import Registry, Scope


def test_sixteen_threads_make_one_singleton(reg: Registry) -> None:
    """16 threads calling get() at once on a sync SINGLETON create it exactly once."""
    calls = 0
    lock = threading.Lock()

    def make() -> object:
        nonlocal calls
        with lock:
            calls += 1
        time.sleep(0.05)
        return object()

    reg.register("config", make, scope=Scope.SINGLETON)
    barrier = threading.Barrier(16)

    def worker() -> object:
        barrier.wait()
        return reg.get("config")

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: worker(), range(16)))
    assert calls == 1
    assert len({id(r) for r in results}) == 1


def test_threads_making_a_dependent_singleton(reg: Registry) -> None:
    """A singleton with singleton dependencies is made once each under thread contention."""
    made: list[str] = []

    def config() -> str:
        made.append("config")
        time.sleep(0.01)
        return "config"

    def client(config: str) -> str:
        made.append("client")
        return f"client({config})"

    reg.register("config", config, scope=Scope.SINGLETON)
    reg.register("client", client, scope=Scope.SINGLETON)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: reg.get("client"), range(64)))
    assert set(results) == {"client(config)"}
    assert sorted(made) == ["client", "config"]
