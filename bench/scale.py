"""asyncdi scaling bench: cost per link of long chains, wide fan-in, and memory over calls.

Run ``python bench/scale.py``. Three measurements:

- a chain of N INSTANCE providers (``n0 <- n1 <- ... <- n{N-1}``, each a sync function of
  the link before it) resolved from its head, at N = 10, 100 and 500, reported per link;
- one provider of 50 INSTANCE (transient) dependencies, resolved;
- the resident set size over 1,000,000 ``resolve()`` calls of a 10-link chain, outside any
  request scope, after a warm-up (``--calls`` shrinks it).

wireup and dishka, when installed, run the same chains and fan-in in the same run (wireup
from a scope opened once, as transients need; dishka's transients are ``cache=False``); a
hand-written loop over the same factories is shown for reference. The timing method is
bench.py's, reused from it: one event loop, every case once per round in a freshly shuffled
order, gc off while timing, a warm-up round; a figure is the median over rounds, a ratio
the median over rounds of the within-round ratio. Every case is checked once before timing
(a new chain of the right length each time); one that fails (a ``RecursionError`` in a deep
chain, say) is reported and left out, and a target that needs it fails. ``--check`` exits 1
if a target fails; ``--quick`` is a smoke test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib
import importlib.metadata
import os
import platform
import statistics
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as core  # bench/bench.py, found through the path above
from asyncdi import Registry, Scope

Run = Callable[[int], Awaitable[object]]
Setup = Callable[[Any, contextlib.AsyncExitStack], Awaitable[dict[str, tuple[str, Run]]]]

LENGTHS = (10, 100, 500)
WIDTH = 50
RSS_LENGTH = 10
RSS_CALLS = 1_000_000
RSS_LIMIT = 1 << 20  # bytes
# iterations per case per round: each chain batch resolves about 2,000 links
BATCH = {f"chain{n}": max(1, 2000 // n) for n in LENGTHS} | {"wide": 100}
GROUPS = {f"chain{n}": f"chain of {n} INSTANCE providers, ns per link" for n in LENGTHS} | {
    "wide": f"one provider of {WIDTH} INSTANCE dependencies, ns per resolve"
}
# (case, baseline, ceiling on case / baseline within a round); both per link for chains
TARGETS: list[tuple[str, str, float]] = [
    (f"asyncdi.chain{LENGTHS[-1]}", f"asyncdi.chain{LENGTHS[0]}", 1.3),
    ("asyncdi.chain100", "wireup.chain100", 1.0),
    ("asyncdi.chain100", "dishka.chain100", 1.0),
    ("asyncdi.wide", "wireup.wide", 1.0),
]


# -- the application: generated providers, the same functions for every side ------------------


class Link:
    """One link of a chain: holds the link it was made from (``None`` for the first)."""

    __slots__ = ("prev",)

    def __init__(self, prev: Link | None) -> None:
        self.prev = prev


class Part:
    """One of the wide provider's dependencies."""

    __slots__ = ()


class Wide:
    """The value of the wide provider: every part it was given."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple[Part, ...]) -> None:
        self.parts = parts


# One class per link and per part: wireup and dishka find a dependency by its type.
LINK_TYPES: tuple[type[Link], ...] = tuple(
    type(f"Link{i}", (Link,), {"__slots__": ()}) for i in range(max(LENGTHS))
)
PART_TYPES: tuple[type[Part], ...] = tuple(
    type(f"Part{i}", (Part,), {"__slots__": ()}) for i in range(WIDTH)
)


def generated(name: str, params: list[tuple[str, type]], returns: type, value: str) -> Any:
    """A function compiled from source, as one would write it by hand, annotations included.

    ``generated("n2", [("n1", Link1)], Link2, "Link2(n1)")`` is ``def n2(n1: Link1) ->
    Link2: return Link2(n1)``: asyncdi fills ``n1`` by name, the peers by its type.
    """
    namespace: dict[str, Any] = {"__name__": __name__, returns.__name__: returns}
    namespace.update((t.__name__, t) for _, t in params)
    signature = ", ".join(f"{param}: {t.__name__}" for param, t in params)
    exec(f"def {name}({signature}) -> {returns.__name__}:\n    return {value}\n", namespace)
    return namespace[name]


def link_factory(i: int) -> Any:
    """The provider of link ``i``: a function of link ``i - 1``, its parameter named after it."""
    made = LINK_TYPES[i].__name__
    if i == 0:
        return generated("n0", [], LINK_TYPES[0], f"{made}(None)")
    prev = f"n{i - 1}"
    return generated(f"n{i}", [(prev, LINK_TYPES[i - 1])], LINK_TYPES[i], f"{made}({prev})")


LINK_FACTORIES = tuple(link_factory(i) for i in range(max(LENGTHS)))
PART_FACTORIES = tuple(
    generated(f"d{i}", [], t, f"{t.__name__}()") for i, t in enumerate(PART_TYPES)
)
WIDE_FACTORY = generated(
    "wide",
    [(f"d{i}", t) for i, t in enumerate(PART_TYPES)],
    Wide,
    f"Wide(({', '.join(f'd{i}' for i in range(WIDTH))},))",
)


def chain_registry(length: int) -> Registry:
    """A registry of the chain ``n0 <- ... <- n{length-1}``, every link INSTANCE scoped."""
    registry = Registry(f"chain{length}")
    for i in range(length):
        registry.register(f"n{i}", LINK_FACTORIES[i], scope=Scope.INSTANCE)
    return registry


def wide_registry() -> Registry:
    """A registry of ``wide`` and its 50 INSTANCE dependencies ``d0`` ... ``d49``."""
    registry = Registry("wide")
    for i, factory in enumerate(PART_FACTORIES):
        registry.register(f"d{i}", factory, scope=Scope.INSTANCE)
    registry.register("wide", WIDE_FACTORY, scope=Scope.INSTANCE)
    return registry


def repeat(call: Callable[[Any], Awaitable[object]], arg: Any) -> Run:
    """A run that awaits ``call(arg)`` ``n`` times: the measured call and nothing else."""

    async def run(n: int) -> object:
        value = None
        for _ in range(n):
            value = await call(arg)
        return value

    return run


# -- one setup per side: each returns case name -> (label, run) -------------------------------


async def setup_asyncdi(_: Any, stack: contextlib.AsyncExitStack) -> dict[str, tuple[str, Run]]:
    """asyncdi: one registry per chain and one for the fan-in, each in an open lifespan."""
    runs: dict[str, tuple[str, Run]] = {}
    for length in LENGTHS:
        registry = chain_registry(length)
        await stack.enter_async_context(registry.lifespan())
        head = f"n{length - 1}"
        runs[f"chain{length}"] = (f'await reg.resolve("{head}")', repeat(registry.resolve, head))
    registry = wide_registry()
    await stack.enter_async_context(registry.lifespan())
    runs["wide"] = ('await reg.resolve("wide")', repeat(registry.resolve, "wide"))
    return runs


async def setup_hand(_: Any, __: contextlib.AsyncExitStack) -> dict[str, tuple[str, Run]]:
    """Hand-written: call the same factories in a loop, inside an ``async def``."""

    def chain(length: int) -> Run:
        first, rest = LINK_FACTORIES[0], LINK_FACTORIES[1:length]

        async def run(n: int) -> object:
            value = None
            for _ in range(n):
                value = first()
                for factory in rest:
                    value = factory(value)
            return value

        return run

    async def wide(n: int) -> object:
        parts, make, value = PART_FACTORIES, WIDE_FACTORY, None
        for _ in range(n):
            value = make(*[part() for part in parts])
        return value

    runs = {f"chain{length}": ("call the factories in a loop", chain(length)) for length in LENGTHS}
    runs["wide"] = ("wide(*[part() for part in parts])", wide)
    return runs


async def setup_wireup(wireup: Any, stack: contextlib.AsyncExitStack) -> dict[str, tuple[str, Run]]:
    """wireup: transients can only be resolved in a scope, so one is opened before timing."""
    runs: dict[str, tuple[str, Run]] = {}
    for length in LENGTHS:
        container = wireup.create_async_container(
            injectables=[
                wireup.injectable(f, lifetime="transient") for f in LINK_FACTORIES[:length]
            ]
        )
        stack.push_async_callback(container.close)
        scope = await stack.enter_async_context(container.enter_scope())
        runs[f"chain{length}"] = (
            f"await scope.get(Link{length - 1}) [open scope]",
            repeat(scope.get, LINK_TYPES[length - 1]),
        )
    factories = (*PART_FACTORIES, WIDE_FACTORY)
    container = wireup.create_async_container(
        injectables=[wireup.injectable(f, lifetime="transient") for f in factories]
    )
    stack.push_async_callback(container.close)
    scope = await stack.enter_async_context(container.enter_scope())
    runs["wide"] = ("await scope.get(Wide) [open scope]", repeat(scope.get, Wide))
    return runs


async def setup_dishka(dishka: Any, stack: contextlib.AsyncExitStack) -> dict[str, tuple[str, Run]]:
    """dishka: every provider at APP scope with ``cache=False`` (a transient)."""
    app = dishka.Scope.APP

    def container(factories: tuple[Any, ...]) -> Any:
        provider = dishka.Provider()
        for factory in factories:
            provider.provide(factory, scope=app, cache=False)
        made = dishka.make_async_container(provider)
        stack.push_async_callback(made.close)
        return made

    runs: dict[str, tuple[str, Run]] = {}
    for length in LENGTHS:
        c = container(LINK_FACTORIES[:length])
        runs[f"chain{length}"] = (
            f"await container.get(Link{length - 1})",
            repeat(c.get, LINK_TYPES[length - 1]),
        )
    c = container((*PART_FACTORIES, WIDE_FACTORY))
    runs["wide"] = ("await container.get(Wide)", repeat(c.get, Wide))
    return runs


# (side, distribution to import, or None for asyncdi and the hand-written loop, setup)
SIDES: list[tuple[str, str | None, Setup]] = [
    ("hand", None, setup_hand),
    ("asyncdi", None, setup_asyncdi),
    ("wireup", "wireup", setup_wireup),
    ("dishka", "dishka", setup_dishka),
]

# -- checking and collecting --------------------------------------------------------------------


def check_value(group: str, first: object, second: object) -> None:
    """Raise ValueError unless two results are new, complete values of ``group``."""
    if group == "wide":
        ok = (
            isinstance(first, Wide) and isinstance(second, Wide)
            and [type(p) for p in first.parts] == list(PART_TYPES)
            and all(a is not b for a, b in zip(first.parts, second.parts, strict=True))
        )  # fmt: skip
        if not ok:
            raise ValueError(f"check failed: got {first!r}, then {second!r}")
        return
    length = int(group.removeprefix("chain"))
    for value in (first, second):
        links = 0
        link: object = value
        while isinstance(link, Link):
            links, link = links + 1, link.prev
        if links != length or link is not None or not isinstance(value, LINK_TYPES[length - 1]):
            raise ValueError(f"check failed: {value!r} is not a chain of {length} links")
    if isinstance(first, Link) and isinstance(second, Link) and first.prev is second.prev:
        raise ValueError("check failed: two resolutions share a link (not transient)")


@dataclass
class Loaded:
    """The checked cases, a note per side, and why each case that was left out failed."""

    cases: list[core.Case] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


async def load(stack: contextlib.AsyncExitStack) -> Loaded:
    """Set up and check every side; a failure is reported and leaves its cases out."""
    loaded = Loaded()
    for side, dist, setup in SIDES:
        module: Any = None
        name = side
        if dist is not None:
            try:
                module = importlib.import_module(dist)
            except ImportError as exc:
                loaded.notes.append(f"{side}: skipped, not installed ({exc})")
                continue
            name = f"{side} {importlib.metadata.version(dist)}"
        try:
            runs = await setup(module, stack)
        # a side that cannot be set up is reported and skipped, never fatal
        except Exception as exc:  # noqa: BLE001
            loaded.notes.append(f"{name}: skipped, setup failed: {exc!r}")
            continue
        measured = []
        for group, (label, run) in runs.items():
            key = f"{side}.{group}"
            try:
                check_value(group, await run(1), await run(1))
            # RecursionError in a deep chain is the expected failure; any other too
            except Exception as exc:  # noqa: BLE001
                loaded.failed[key] = f"{type(exc).__name__}: {str(exc)[:120]}"
                continue
            measured.append(group)
            loaded.cases.append(core.Case(key, f"{side}: {label}", group, run))
        failed = "".join(
            f"; FAILED {key.split('.', 1)[1]}: {why}"
            for key, why in loaded.failed.items()
            if key.startswith(f"{side}.")
        )
        loaded.notes.append(f"{name}: measured {', '.join(measured) or 'nothing'}{failed}")
    return loaded


# -- memory over many calls -----------------------------------------------------------------------


def rss_bytes() -> int | None:
    """This process's resident set size, from /proc/self/statm (None where there is none)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
    except OSError:
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


@dataclass
class RssResult:
    """RSS growth over ``calls`` resolutions (fewer if it passed the limit early)."""

    calls: int
    planned: int
    growth: int | None
    error: str | None = None


async def measure_rss(calls: int) -> RssResult:
    """Resolve a 10-link chain ``calls`` times outside any request scope; RSS growth.

    A warm-up of a tenth of the calls (at most 50,000) comes first, so that the memory
    the interpreter keeps for reuse is in place; gc stays on, as in an application. The
    loop stops early once RSS grew past the limit: a leak of a few KB per call would
    otherwise take gigabytes.
    """
    if rss_bytes() is None:
        return RssResult(0, calls, None, "no /proc/self/statm on this system")
    registry = chain_registry(RSS_LENGTH)
    head = f"n{RSS_LENGTH - 1}"
    async with registry.lifespan():
        resolve = registry.resolve
        try:
            for _ in range(min(max(calls // 10, 1), 50_000)):
                await resolve(head)
        except Exception as exc:  # noqa: BLE001  (reported as a failed target)
            return RssResult(0, calls, None, f"{type(exc).__name__}: {exc}")
        gc.collect()
        start = rss_bytes() or 0
        done, growth, step = 0, 0, min(calls, 10_000)
        while done < calls and growth < RSS_LIMIT:
            for _ in range(min(step, calls - done)):
                await resolve(head)
            done += min(step, calls - done)
            gc.collect()
            growth = (rss_bytes() or 0) - start
    return RssResult(done, calls, growth)


# -- reporting ----------------------------------------------------------------------------------


def per_link(samples: dict[str, list[float]]) -> dict[str, list[float]]:
    """The samples with every chain case's ns per resolve turned into ns per link."""
    out = {}
    for key, values in samples.items():
        group = key.split(".", 1)[1]
        links = int(group.removeprefix("chain")) if group.startswith("chain") else 1
        out[key] = [value / links for value in values]
    return out


def report(loaded: Loaded, samples: dict[str, list[float]], batch: dict[str, int]) -> None:
    """Print one row per case, grouped; ratios are to asyncdi's row of the group."""
    medians = {key: statistics.median(values) for key, values in samples.items()}
    rows = [(case.label, case.key) for case in loaded.cases]
    rows += [(f"{key.split('.', 1)[0]}: FAILED", key) for key in loaded.failed]
    width = max(len(label) for label, _ in rows)
    print(f"{'case':<{width}}  {'median ns':>12}  ratio vs asyncdi")
    print(f"{'-' * width}  {'-' * 12}  {'-' * 16}")
    for group, title in GROUPS.items():
        print(f"[{title}, batches of {batch[group]}]")
        mine = f"asyncdi.{group}"
        for case in (c for c in loaded.cases if c.group == group):
            shown = "-"
            if mine in samples and case.key != mine:
                shown = f"{core.ratio(samples, case.key, mine):.2f}x"
            print(f"{case.label:<{width}}  {medians[case.key]:>12.1f}  {shown}")
        for key, why in loaded.failed.items():
            if key.endswith(f".{group}"):
                print(f"{key.split('.', 1)[0] + ': FAILED':<{width}}  {'-':>12}  {why}")


def report_targets(loaded: Loaded, samples: dict[str, list[float]], rss: RssResult) -> bool:
    """Print every target's verdict; return whether none failed (a missing peer skips)."""
    labels = {case.key: case.label for case in loaded.cases}
    print("\nTargets (per link for chains; median over rounds of the ratio within each round)")
    passed = True
    for key, baseline, limit in TARGETS:
        named = f"{key} / {baseline}"
        missing = [k for k in (key, baseline) if k not in samples]
        if any(k.startswith("asyncdi.") for k in missing):
            passed = False
            print(f"  {named}: FAIL ({'; '.join(loaded.failed.get(k, k) for k in missing)})")
        elif missing:
            print(f"  {named}: SKIP (no {missing[0]} row: not installed or failed)")
        else:
            measured = core.ratio(samples, key, baseline)
            passed = passed and measured <= limit
            verdict = "PASS" if measured <= limit else "FAIL"
            print(f"  {labels[key]} / {labels[baseline]}: {measured:.2f} (<= {limit}) {verdict}")
    limit_mib = RSS_LIMIT / (1 << 20)
    if rss.growth is None:
        print(f"  RSS growth over resolve() calls: FAIL ({rss.error})")
        return False
    ok = rss.growth < RSS_LIMIT and rss.calls == rss.planned
    early = "" if rss.calls == rss.planned else f" (stopped early, of {rss.planned:,})"
    print(f"  RSS growth over {rss.calls:,} resolve() calls of a {RSS_LENGTH}-link chain: "
          f"{rss.growth / (1 << 20):.2f} MiB (< {limit_mib:g} MiB) {'PASS' if ok else 'FAIL'}"
          f"{early}")  # fmt: skip
    return passed and ok


async def run(rounds: int, batch: dict[str, int], calls: int) -> bool:
    """Set up every side, measure all cases and the RSS loop, and report."""
    async with contextlib.AsyncExitStack() as stack:
        loaded = await load(stack)
        print("Sides:")
        for note in loaded.notes:
            print(f"  {note}")
        print()
        samples = per_link(await core.measure(loaded.cases, rounds, batch))
    report(loaded, samples, batch)
    rss = await measure_rss(calls)
    return report_targets(loaded, samples, rss)


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the scaling bench, return the exit code."""
    parser = argparse.ArgumentParser(description="asyncdi scaling: chains, fan-in, memory.")
    parser.add_argument("--rounds", type=int, default=30, help="measured rounds (default 30)")
    parser.add_argument(
        "--calls", type=int, default=None, help=f"calls of the RSS loop (default {RSS_CALLS:,})"
    )
    parser.add_argument("--quick", action="store_true", help="tiny batches: a smoke test")
    parser.add_argument("--check", action="store_true", help="exit 1 if any target fails")
    args = parser.parse_args(argv)
    rounds: int = min(args.rounds, 3) if args.quick else args.rounds
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    calls: int = args.calls if args.calls is not None else (10_000 if args.quick else RSS_CALLS)
    if calls < 1:
        parser.error("--calls must be at least 1")
    sizes = {group: max(1, n // 100) if args.quick else n for group, n in BATCH.items()}
    print(f"Python {platform.python_version()} ({platform.python_implementation()}) "
          f"on {platform.platform()}")  # fmt: skip
    print(f"{rounds} rounds, shuffled order each round, gc off while timing\n")
    passed = asyncio.run(run(rounds, sizes, calls))
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
