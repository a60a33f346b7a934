"""asyncdi benchmark: median nanoseconds per operation against hand-written equivalents.

Run ``python bench/bench.py``. All cases run in one process and one event loop: each
round runs every case once, for a batch of iterations, in a freshly shuffled order, so
machine noise hits all cases alike. A case's figure is the median over rounds of its
per-op time. Nothing is subtracted (the empty loop is shown for reference); a ratio is
the median over rounds of the two cases' ratio within each round. After the timing, the
memory a service instance keeps is measured with tracemalloc. ``--check`` exits 1 if a
target fails; ``--quick`` is a smoke test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from scope_model import FloorScope, floor_request_value, floor_resolve, model_container

from asyncdi import AsyncService, Dependency, Registry, Scope

# -- the application: the same plain classes and factories serve both sides ---------------


Config = dict[str, str]


@dataclass
class Db:
    """A stand-in for a database handle."""

    config: Config


@dataclass
class Repo:
    """A per-dependant repository over the database."""

    db: Db


@dataclass
class Session:
    """A per-request session; its teardown sets ``closed``."""

    db: Db
    closed: bool = False


def make_config() -> Config:
    """Sync provider of the ``config`` singleton."""
    return {"url": "memory://bench"}


async def make_db(config: Config) -> Db:
    """Async provider of the ``db`` singleton."""
    return Db(config)


async def make_repo(db: Db) -> Repo:
    """Async provider of ``repo``: a new one per dependant (INSTANCE scope)."""
    return Repo(db)


async def make_session(db: Db) -> AsyncIterator[Session]:
    """Async generator provider of the per-request ``session``; teardown after ``yield``."""
    session = Session(db)
    try:
        yield session
    finally:
        session.closed = True


class Scoped:
    """A per-request value built from the session: nine of them join it in a wide request."""

    __slots__ = ("session",)

    def __init__(self, session: Session) -> None:
        self.session = session


# Nine distinct classes, so that peers which resolve by type can tell them apart.
SCOPED_TYPES: tuple[type[Scoped], ...] = tuple(
    type(f"Scoped{i}", (Scoped,), {"__slots__": ()}) for i in range(1, 10)
)
SCOPED_NAMES = tuple(f"scoped{i}" for i in range(1, 10))
# the ten request values of the "10 request values" case, in the order they are resolved
REQUEST_NAMES = ("session", *SCOPED_NAMES)

# register(), not @provides: the hand-written side calls the very same unwrapped functions
REGISTRY = Registry("bench")
REGISTRY.register("config", make_config, scope=Scope.SINGLETON)
REGISTRY.register("db", make_db, scope=Scope.SINGLETON)
REGISTRY.register("repo", make_repo, scope=Scope.INSTANCE)
REGISTRY.register("session", make_session, scope=Scope.REQUEST)
for _name, _type in zip(SCOPED_NAMES, SCOPED_TYPES, strict=True):
    REGISTRY.register(_name, _type, scope=Scope.REQUEST)


class Svc(AsyncService, registry=REGISTRY):
    """The asyncdi service: three declared dependencies."""

    config = Dependency[Config]("config")
    db = Dependency[Db]("db")
    repo = Dependency[Repo]("repo")


# -- the hand-written equivalents ----------------------------------------------------------


class Shared:
    """Module-held singletons of the hand-written side, made at setup."""

    config: Config
    db: Db


SHARED = Shared()


class Plain:
    """A plain object: a ``db`` attribute, and an awaited getter of a cached field."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self._db = db

    async def get_db(self) -> Db:
        """The hand-written cached getter."""
        return self._db


async def get_shared_db() -> Db:
    """Awaited getter of the module-held ``db``."""
    return SHARED.db


class HandService:
    """Hand-written service: awaited getters, and a repo made on first request."""

    def __init__(self) -> None:
        self._repo: Repo | None = None

    async def config(self) -> Config:
        """The module-held config."""
        return SHARED.config

    async def db(self) -> Db:
        """The module-held db."""
        return SHARED.db

    async def repo(self) -> Repo:
        """This instance's repo, made by the same factory on first request, then kept."""
        repo = self._repo
        if repo is None:
            repo = self._repo = await make_repo(await self.db())
        return repo


@contextlib.asynccontextmanager
async def hand_session() -> AsyncIterator[Session]:
    """Hand-written request scope: get db, make the session, yield, tear down."""
    session = Session(await get_shared_db())
    try:
        yield session
    finally:
        session.closed = True


# The reference request scopes of the "request scope cycle" group (see scope_model.py).
floor_request_value("session", lambda: make_session(SHARED.db))
MODEL = model_container()
MODEL.register("session", lambda: make_session(SHARED.db))


# -- cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One measured operation; ``baselines`` holds (short label, case key) pairs."""

    key: str
    label: str
    group: str
    run: Callable[[int], Awaitable[object]]
    baselines: tuple[tuple[str, str], ...] = ()


GROUPS = {
    "hit": "cached hit",
    "fresh": "fresh service",
    "scope": "request scope cycle",
    "scope10": "request scope with 10 request values",
}
BATCH = {"hit": 5000, "fresh": 1000, "scope": 1000, "scope10": 300}
# (case, baseline, ceiling on case / baseline), the targets of issue 6
TARGETS: list[tuple[str, str, float]] = [
    ("cached", "getter", 0.6),
    ("cached", "future", 1.5),
    ("fresh", "fresh_hand", 1.7),
    ("scope", "scope_hand", 1.3),
]
# ceiling on the bytes a service instance keeps once its three dependencies are cached
MEMORY_TARGET = 264
MEMORY_INSTANCES = 20_000


async def build_cases() -> list[Case]:
    """Make the singletons of both sides (lifespan already open) and return every case."""
    SHARED.config = make_config()
    SHARED.db = await make_db(SHARED.config)
    await REGISTRY.resolve("config")
    await REGISTRY.resolve("db")
    svc = Svc()
    await svc.db  # the first await resolves; every later one is a cached hit
    plain = Plain(SHARED.db)
    done: asyncio.Future[Db] = asyncio.get_running_loop().create_future()
    done.set_result(SHARED.db)

    # Group 1 loops read everything from locals, as `self.db` in a method would.
    async def cached(n: int) -> object:
        s, value = svc, None
        for _ in range(n):
            value = await s.db
        return value

    async def attribute(n: int) -> object:
        p, value = plain, None
        for _ in range(n):
            value = p.db
        return value

    async def future(n: int) -> object:
        fut, value = done, None
        for _ in range(n):
            value = await fut
        return value

    async def getter(n: int) -> object:
        p, value = plain, None
        for _ in range(n):
            value = await p.get_db()
        return value

    async def empty(n: int) -> object:
        for _ in range(n):
            pass
        return None

    async def fresh(n: int) -> object:
        value = None
        for _ in range(n):
            s = Svc()
            await s.config
            await s.db
            value = await s.repo
        return value

    async def fresh_hand(n: int) -> object:
        value = None
        for _ in range(n):
            h = HandService()
            await h.config()
            await h.db()
            value = await h.repo()
        return value

    # Shown, not targeted: an INSTANCE value's done future is made on its second read,
    # so the full cost of a service that reads each dependency twice is visible here.
    async def fresh_twice(n: int) -> object:
        value = None
        for _ in range(n):
            s = Svc()
            await s.config
            await s.db
            await s.repo
            await s.config
            await s.db
            value = await s.repo
        return value

    async def fresh_twice_hand(n: int) -> object:
        value = None
        for _ in range(n):
            h = HandService()
            await h.config()
            await h.db()
            await h.repo()
            await h.config()
            await h.db()
            value = await h.repo()
        return value

    async def scope(n: int) -> object:
        value = None
        for _ in range(n):
            async with REGISTRY.scope():
                value = await REGISTRY.resolve("session")
        return value

    async def scope_hand(n: int) -> object:
        value = None
        for _ in range(n):
            async with hand_session() as session:
                value = session
        return value

    async def scope_floor(n: int) -> object:
        value = None
        for _ in range(n):
            async with FloorScope():
                value = await floor_resolve("session")
        return value

    async def scope_model(n: int) -> object:
        model, value = MODEL, None
        for _ in range(n):
            async with model.scope():
                value = await model.resolve("session")
        return value

    async def scope10(n: int) -> object:
        names, resolve, value = REQUEST_NAMES, REGISTRY.resolve, None
        for _ in range(n):
            async with REGISTRY.scope():
                for name in names:
                    value = await resolve(name)
        return value

    async def scope10_hand(n: int) -> object:
        types, value = SCOPED_TYPES, None
        for _ in range(n):
            async with hand_session() as session:
                for cls in types:
                    value = cls(session)
        return value

    attr = (("attr", "attribute"),)
    return [
        Case("cached", "asyncdi: await svc.db (cached)", "hit", cached,
             (("getter", "getter"), ("future", "future"))),
        Case("attribute", "plain: obj.db attribute read", "hit", attribute),
        Case("future", "plain: await done future", "hit", future, attr),
        Case("getter", "plain: await async getter", "hit", getter, attr),
        Case("empty", "empty loop (not subtracted)", "hit", empty),
        Case("fresh", "asyncdi: new Svc, await 3 deps", "fresh", fresh,
             (("hand", "fresh_hand"),)),
        Case("fresh_hand", "hand-written: new service, 3 getters", "fresh", fresh_hand),
        Case("fresh_twice", "asyncdi: same, every dep read twice", "fresh", fresh_twice,
             (("hand", "fresh_twice_hand"),)),
        Case("fresh_twice_hand", "hand-written: same, read twice", "fresh", fresh_twice_hand),
        Case("scope", "asyncdi: scope() + resolve(session)", "scope", scope,
             (("hand", "scope_hand"),)),
        Case("scope_hand", "hand-written: asynccontextmanager", "scope", scope_hand),
        Case("scope_floor", "floor: a ContextVar scope, no promises", "scope", scope_floor,
             (("hand", "scope_hand"),)),
        Case("scope_model", "model: floor + asyncdi's promises", "scope", scope_model,
             (("hand", "scope_hand"),)),
        Case("scope10", "asyncdi: scope() + resolve 10 values", "scope10", scope10,
             (("hand", "scope10_hand"),)),
        Case("scope10_hand", "hand-written: session + 9 objects", "scope10", scope10_hand),
    ]  # fmt: skip


# -- memory ---------------------------------------------------------------------------------


async def made_service() -> object:
    """A new asyncdi service with every dependency read twice: each later read is cached."""
    s = Svc()
    for _ in range(2):
        await s.config
        await s.db
        await s.repo
    return s


async def made_hand_service() -> object:
    """The hand-written service after its three getters ran (its repo made and kept)."""
    h = HandService()
    await h.config()
    await h.db()
    await h.repo()
    return h


async def bytes_per_object(make: Callable[[], Awaitable[object]], count: int) -> float:
    """Bytes that ``count`` objects from ``make`` keep alive, per object (tracemalloc).

    Everything the objects keep is counted, wherever it is held (the instance, its
    ``__dict__``, its futures, its repo, any record the registry keeps of it); what was
    made and dropped on the way is collected before the second reading.
    """
    kept: list[object] = [None] * count  # the list itself is allocated before tracing
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(count):
            kept[i] = await make()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    return (after - before) / count


async def measure_memory(count: int) -> dict[str, float]:
    """Bytes per service instance with three cached dependencies: asyncdi and hand-written."""
    return {
        "asyncdi": await bytes_per_object(made_service, count),
        "hand": await bytes_per_object(made_hand_service, count),
    }


# -- measuring and reporting ---------------------------------------------------------------


async def time_batch(case: Case, n: int) -> float:
    """Run ``n`` iterations of ``case`` with gc off; return nanoseconds per iteration."""
    gc.disable()
    try:
        start = time.perf_counter_ns()
        await case.run(n)
        elapsed = time.perf_counter_ns() - start
    finally:
        gc.enable()
    return elapsed / n


async def measure(cases: list[Case], rounds: int, batch: dict[str, int]) -> dict[str, list[float]]:
    """Interleave every case for ``rounds`` rounds after a warm-up; ns/op per round."""
    samples: dict[str, list[float]] = {case.key: [] for case in cases}
    order = list(cases)
    shuffle = random.Random(0).shuffle
    for round_index in range(-1, rounds):  # round -1 is the warm-up, not recorded
        shuffle(order)
        gc.collect()
        for case in order:
            per_op = await time_batch(case, batch[case.group])
            if round_index >= 0:
                samples[case.key].append(per_op)
    return samples


def ratio(samples: dict[str, list[float]], key: str, baseline: str) -> float:
    """The median over rounds of ``key``'s time over ``baseline``'s in the same round.

    Pairing by round cancels the machine's drift (a shared machine speeds up and slows
    down over seconds), which a ratio of two medians does not.
    """
    return statistics.median(a / b for a, b in zip(samples[key], samples[baseline], strict=True))


def report(
    cases: list[Case],
    samples: dict[str, list[float]],
    batch: dict[str, int],
    memory: dict[str, float],
    instances: int,
) -> bool:
    """Print the table and the targets; return whether every target passed."""
    medians = {key: statistics.median(values) for key, values in samples.items()}
    width = max(len(case.label) for case in cases)
    print(f"{'case':<{width}}  {'median ns/op':>12}  ratio vs baseline(s)")
    print(f"{'-' * width}  {'-' * 12}  {'-' * 26}")
    for group, title in GROUPS.items():
        print(f"[{title}, batches of {batch[group]}]")
        for case in (c for c in cases if c.group == group):
            ratios = ", ".join(
                f"{ratio(samples, case.key, key):.2f}x {label}" for label, key in case.baselines
            )
            print(f"{case.label:<{width}}  {medians[case.key]:>12.1f}  {ratios or '-'}")
    print(f"\nMemory per service instance, 3 dependencies cached ({instances} kept, tracemalloc)")
    print(f"  asyncdi: new Svc, every dep read twice  {memory['asyncdi']:7.1f} B")
    print(f"  hand-written: new service, 3 getters    {memory['hand']:7.1f} B")
    labels = {case.key: case.label for case in cases}
    print("\nTargets (ratios: median over rounds of the ratio within each round)")
    passed = True
    for key, baseline, limit in TARGETS:
        measured = ratio(samples, key, baseline)
        passed = passed and measured <= limit
        verdict = "PASS" if measured <= limit else "FAIL"
        print(f"  {labels[key]} / {labels[baseline]}: {measured:.2f} (<= {limit}) {verdict}")
    fits = memory["asyncdi"] <= MEMORY_TARGET
    verdict = "PASS" if fits else "FAIL"
    print(f"  bytes per asyncdi service instance: {memory['asyncdi']:.0f} (<= {MEMORY_TARGET}) "
          f"{verdict}")  # fmt: skip
    return passed and fits


async def run(rounds: int, batch: dict[str, int], instances: int) -> bool:
    """Open the lifespan, measure every case and the memory, then print the report."""
    async with REGISTRY.lifespan():
        cases = await build_cases()
        samples = await measure(cases, rounds, batch)
        memory = await measure_memory(instances)
    return report(cases, samples, batch, memory, instances)


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the benchmark, return the exit code."""
    parser = argparse.ArgumentParser(description="asyncdi benchmark: median ns per operation.")
    parser.add_argument("--rounds", type=int, default=60, help="measured rounds (default 60)")
    parser.add_argument("--quick", action="store_true", help="tiny batches: a smoke test")
    parser.add_argument("--check", action="store_true", help="exit 1 if any target fails")
    args = parser.parse_args(argv)
    rounds: int = min(args.rounds, 3) if args.quick else args.rounds
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    batch = {group: max(1, n // 100) if args.quick else n for group, n in BATCH.items()}
    instances = MEMORY_INSTANCES // 100 if args.quick else MEMORY_INSTANCES
    print(f"Python {platform.python_version()} ({platform.python_implementation()}) "
          f"on {platform.platform()}")  # fmt: skip
    print(f"{rounds} rounds, shuffled order each round, gc off while timing\n")
    passed = asyncio.run(run(rounds, batch, instances))
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
