"""Peer DI libraries on bench.py's three operations, against the same hand-written code.

Run ``pip install -r bench/requirements-peers.txt`` then ``python bench/peers.py``. The
method is bench.py's, reused from it: one process, one event loop, every case once per
round in a freshly shuffled order, gc off while timing, a warm-up round first; a figure is
the median over rounds of ns/op, a ratio the median over rounds of the within-round ratio
to the hand-written baseline. asyncdi's own rows come from the same run, for reference.

Each peer is set up the way its documentation shows, from the same application (bench.py's
``Db``, ``Repo``, ``Session``, ``make_repo``, ``make_session``), and checked once before
timing (a hit returns the same ``Db``; a fresh service has a new repo and the shared db; a
scope yields a new session, closed on exit). A peer that is not installed, fails to set
up, or fails a check is skipped with the reason printed; nothing is hard-coded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import importlib.metadata
import platform
import statistics
import sys
import types
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as core  # bench/bench.py, found through the path above

Run = Callable[[int], Awaitable[object]]
Setup = Callable[[Any, contextlib.AsyncExitStack], Awaitable["Peer"]]


def repeat(call: Callable[[Any], Awaitable[object]], arg: Any) -> Run:
    """A run that awaits ``call(arg)`` ``n`` times: the measured call and nothing else.

    ``call`` is a bound method (``container.get``); calling it costs what calling
    ``container.get(...)`` in the loop would.
    """

    async def run(n: int) -> object:
        value = None
        for _ in range(n):
            value = await call(arg)
        return value

    return run


# -- the application as the peers see it ----------------------------------------------------


class PeerConfig(dict[str, str]):
    """The config, as its own type: aioinject reads ``dict[str, str]`` as "every str"."""


def make_peer_config() -> PeerConfig:
    """Sync provider of the config singleton (bench.make_config's value); called once."""
    return PeerConfig(core.make_config())


async def make_peer_db(config: PeerConfig) -> core.Db:
    """Async provider of the db singleton (bench.make_db); called once per container."""
    return await core.make_db(config)


@dataclass
class Service:
    """The peers' service: built by the container from config, db and a new repo."""

    config: PeerConfig
    db: core.Db
    repo: core.Repo


@dataclass
class Peer:
    """One library's operations: group -> (label, run); group -> why skipped, if it is."""

    runs: dict[str, tuple[str, Run]]
    skipped: dict[str, str] = field(default_factory=dict)


# -- one adapter per library -----------------------------------------------------------------
# Each setup builds the container, registers its closing on ``stack``, and returns one loop per
# operation. Loops read from locals, like bench.py's.


async def setup_dishka(dishka: Any, stack: contextlib.AsyncExitStack) -> Peer:
    """dishka: APP-scope singletons, ``cache=False`` transients, a REQUEST-scope session."""
    app, request = dishka.Scope.APP, dishka.Scope.REQUEST
    provider = dishka.Provider()
    provider.provide(make_peer_config, scope=app)
    provider.provide(make_peer_db, scope=app)
    provider.provide(core.make_repo, scope=app, cache=False)
    provider.provide(Service, scope=app, cache=False)
    provider.provide(core.make_session, scope=request)
    container = dishka.make_async_container(provider)
    stack.push_async_callback(container.close)

    hit = repeat(container.get, core.Db)

    fresh = repeat(container.get, Service)

    async def scope(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            async with c() as request_container:
                value = await request_container.get(core.Session)
        return value

    return Peer({
        "hit": ("await container.get(Db)", hit),
        "fresh": ("await container.get(Service)", fresh),
        "scope": ("async with container(): get(Session)", scope),
    })  # fmt: skip


async def setup_wireup(wireup: Any, stack: contextlib.AsyncExitStack) -> Peer:
    """wireup: singletons on the root; transients need a scope, so one is kept open."""
    # injectable() marks the object it is given (an attribute); it does not wrap it.
    container = wireup.create_async_container(injectables=[
        wireup.injectable(make_peer_config),
        wireup.injectable(make_peer_db),
        wireup.injectable(core.make_repo, lifetime="transient"),
        wireup.injectable(Service, lifetime="transient"),
        wireup.injectable(core.make_session, lifetime="scoped"),
    ])  # fmt: skip
    stack.push_async_callback(container.close)
    scoped = await stack.enter_async_context(container.enter_scope())

    hit = repeat(container.get, core.Db)

    fresh = repeat(scoped.get, Service)

    async def scope(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            async with c.enter_scope() as request_scope:
                value = await request_scope.get(core.Session)
        return value

    return Peer({
        "hit": ("await container.get(Db)", hit),
        "fresh": ("await scope.get(Service) [open scope]", fresh),
        "scope": ("async with enter_scope(): get(Session)", scope),
    })  # fmt: skip


async def setup_that_depends(td: Any, stack: contextlib.AsyncExitStack) -> Peer:
    """that-depends: a BaseContainer of providers; a REQUEST-scope ContextResource."""
    providers, request = td.providers, td.ContextScopes.REQUEST
    config = providers.Singleton(make_peer_config)
    db = providers.AsyncSingleton(make_peer_db, config)
    repo = providers.AsyncFactory(core.make_repo, db)
    attributes = {
        "config": config,
        "db": db,
        "repo": repo,
        "service": providers.Factory(Service, config=config, db=db, repo=repo),
        "session": providers.ContextResource(core.make_session, db).with_config(scope=request),
    }
    # `class PeerContainer(BaseContainer): ...`, built at run time: the import is optional
    container: Any = types.new_class(
        "PeerContainer", (td.BaseContainer,), exec_body=lambda ns: ns.update(attributes)
    )
    stack.push_async_callback(container.tear_down)
    container_context = td.container_context

    async def hit(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            value = await c.db.resolve()  # the provider is looked up each time, as users write it
        return value

    async def fresh(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            value = (
                await c.service.resolve()
            )  # the provider is looked up each time, as users write it
        return value

    async def scope(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            async with container_context(scope=request):
                value = await c.session.resolve()
        return value

    return Peer({
        "hit": ("await Container.db.resolve()", hit),
        "fresh": ("await Container.service.resolve()", fresh),
        "scope": ("container_context(REQUEST) + resolve()", scope),
    })  # fmt: skip


async def setup_dependency_injector(di: Any, stack: contextlib.AsyncExitStack) -> Peer:
    """dependency-injector: a DeclarativeContainer in async mode; a ContextLocalResource."""
    providers = importlib.import_module("dependency_injector.providers")
    containers = importlib.import_module("dependency_injector.containers")
    config = providers.Singleton(make_peer_config)
    db = providers.Singleton(make_peer_db, config)  # async factory: the provider awaits
    repo = providers.Factory(core.make_repo, db)
    attributes = {
        "config": config,
        "db": db,
        "repo": repo,
        "service": providers.Factory(Service, config=config, db=db, repo=repo),
        "session": providers.ContextLocalResource(core.make_session, db),
    }
    container_class = types.new_class(
        "PeerContainer", (containers.DeclarativeContainer,),
        exec_body=lambda ns: ns.update(attributes),
    )  # fmt: skip
    container = container_class()
    stack.push_async_callback(_awaited, container.shutdown_resources)

    async def hit(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            value = await c.db()  # the provider is looked up each time, as users write it
        return value

    async def fresh(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            value = await c.service()  # the provider is looked up each time, as users write it
        return value

    # What @inject with Closing[Provide[...]] does around a call, without wiring a module.
    async def scope(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            value = await c.session()
            await c.session.shutdown()
        return value

    return Peer({
        "hit": ("await container.db()", hit),
        "fresh": ("await container.service()", fresh),
        "scope": ("await session(); await session.shutdown()", scope),
    })  # fmt: skip


async def setup_aioinject(aioinject: Any, stack: contextlib.AsyncExitStack) -> Peer:
    """aioinject: Singleton/Transient/Scoped providers, resolved from a context."""
    container = aioinject.Container()
    container.register(
        aioinject.Singleton(make_peer_config),
        aioinject.Singleton(make_peer_db),
        aioinject.Transient(core.make_repo),
        aioinject.Transient(Service),
        # aioinject enters what a factory returns: a generator must be a context manager
        aioinject.Scoped(contextlib.asynccontextmanager(core.make_session)),
    )
    await stack.enter_async_context(container)
    context = await stack.enter_async_context(container.context())

    hit = repeat(context.resolve, core.Db)

    fresh = repeat(context.resolve, Service)

    async def scope(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            async with c.context() as request_context:
                value = await request_context.resolve(core.Session)
        return value

    return Peer({
        "hit": ("await ctx.resolve(Db) [open context]", hit),
        "fresh": ("await ctx.resolve(Service) [open context]", fresh),
        "scope": ("async with context(): resolve(Session)", scope),
    })  # fmt: skip


async def setup_svcs(svcs: Any, stack: contextlib.AsyncExitStack) -> Peer:
    """svcs: app-wide values in the registry; a Container (caches all it makes) per request."""
    registry = svcs.Registry()
    config = make_peer_config()
    registry.register_value(PeerConfig, config)
    registry.register_value(core.Db, await make_peer_db(config))
    registry.register_factory(core.Repo, svcs.aautowire(core.make_repo))
    registry.register_factory(Service, svcs.aautowire(Service))
    # aautowire refuses a bare async generator (its cleanup would be lost)
    registry.register_factory(
        core.Session, svcs.aautowire(contextlib.asynccontextmanager(core.make_session))
    )
    stack.push_async_callback(registry.aclose)
    long_lived = await stack.enter_async_context(svcs.Container(registry))
    container_type = svcs.Container

    hit = repeat(long_lived.aget, core.Db)

    # A container keeps every service it made: a new service needs a new container.
    async def fresh(n: int) -> object:
        r, value = registry, None
        for _ in range(n):
            async with container_type(r) as c:
                value = await c.aget(Service)
        return value

    async def scope(n: int) -> object:
        r, value = registry, None
        for _ in range(n):
            async with container_type(r) as c:
                value = await c.aget(core.Session)
        return value

    return Peer({
        "hit": ("await container.aget(Db) [open container]", hit),
        "fresh": ("new Container + aget(Service)", fresh),
        "scope": ("async with Container(): aget(Session)", scope),
    })  # fmt: skip


async def _awaited(call: Callable[[], object]) -> None:
    """Call ``call`` and await the result if it is awaitable (for mixed sync/async closers)."""
    result = call()
    if isinstance(result, Awaitable):
        await result


# (distribution, import name, setup)
PEERS: list[tuple[str, str, Setup]] = [
    ("dishka", "dishka", setup_dishka),
    ("wireup", "wireup", setup_wireup),
    ("that-depends", "that_depends", setup_that_depends),
    ("dependency-injector", "dependency_injector", setup_dependency_injector),
    ("aioinject", "aioinject", setup_aioinject),
    ("svcs", "svcs", setup_svcs),
]

# -- checking, collecting, reporting -----------------------------------------------------------

# the hand-written baseline of each group, and the asyncdi case shown beside it
BASE = {"hit": "getter", "fresh": "fresh_hand", "scope": "scope_hand"}
ASYNCDI = {"hit": "cached", "fresh": "fresh", "scope": "scope"}


async def check(group: str, run: Run) -> None:
    """Raise ValueError unless ``run`` does what its group claims (two single iterations)."""
    first, second = await run(1), await run(1)
    if group == "hit":
        ok = isinstance(first, core.Db) and first is second
    elif group == "fresh":
        ok = (
            isinstance(first, Service) and isinstance(second, Service)
            and isinstance(first.repo, core.Repo) and first.repo is not second.repo
            and isinstance(first.db, core.Db) and first.db is second.db
            and first.config == core.make_config()
        )  # fmt: skip
    else:
        ok = (
            isinstance(first, core.Session) and isinstance(second, core.Session)
            and first.closed and second.closed and first is not second
        )  # fmt: skip
    if not ok:
        raise ValueError(f"check failed: got {first!r}, then {second!r}")


async def load_peers(stack: contextlib.AsyncExitStack) -> tuple[list[core.Case], list[str]]:
    """Set up and check every installed peer; return its cases and a note per peer."""
    cases: list[core.Case] = []
    notes: list[str] = []
    for dist, module_name, setup in PEERS:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            notes.append(f"{dist}: skipped, not installed ({exc})")
            continue
        name = f"{dist} {importlib.metadata.version(dist)}"
        try:
            peer = await setup(module, stack)
        # a peer that cannot be set up is reported and skipped, never fatal
        except Exception as exc:  # noqa: BLE001
            notes.append(f"{name}: skipped, setup failed: {exc!r}")
            continue
        measured = []
        for group, (label, run) in peer.runs.items():
            try:
                await check(group, run)
            except Exception as exc:  # noqa: BLE001  (as above, per operation)
                peer.skipped[group] = f"{exc!r}"
                continue
            measured.append(core.GROUPS[group])
            key = f"{dist}.{group}"
            base = BASE[group]
            cases.append(core.Case(key, f"{dist}: {label}", group, run, ((base, base),)))
        skipped = "".join(f"; skipped {core.GROUPS[g]}: {why}" for g, why in peer.skipped.items())
        notes.append(f"{name}: measured {', '.join(measured) or 'nothing'}{skipped}")
    return cases, notes


async def reference_cases() -> list[core.Case]:
    """bench.py's baselines and asyncdi cases (lifespan open), each ratio vs the baseline."""
    by_key = {case.key: case for case in await core.build_cases()}
    cases = []
    for group, base in BASE.items():
        cases.append(dataclasses.replace(by_key[base], baselines=()))
        cases.append(dataclasses.replace(by_key[ASYNCDI[group]], baselines=((base, base),)))
    return cases


def report(cases: list[core.Case], samples: dict[str, list[float]], batch: dict[str, int]) -> None:
    """Print one row per case, grouped, with its ratio to the group's hand-written baseline."""
    medians = {key: statistics.median(values) for key, values in samples.items()}
    width = max(len(case.label) for case in cases)
    print(f"{'case':<{width}}  {'median ns/op':>12}  ratio vs hand-written")
    print(f"{'-' * width}  {'-' * 12}  {'-' * 21}")
    for group, title in core.GROUPS.items():
        print(f"[{title}, batches of {batch[group]}]")
        for case in (c for c in cases if c.group == group):
            ratios = (f"{core.ratio(samples, case.key, b):.2f}x" for _, b in case.baselines)
            shown = ", ".join(ratios) or "baseline"
            print(f"{case.label:<{width}}  {medians[case.key]:>12.1f}  {shown}")


async def run(rounds: int, batch: dict[str, int]) -> None:
    """Open asyncdi's lifespan and every peer's container, measure all cases, report."""
    async with core.REGISTRY.lifespan(), contextlib.AsyncExitStack() as stack:
        cases = await reference_cases()
        peer_cases, notes = await load_peers(stack)
        print("Peers:")
        for note in notes:
            print(f"  {note}")
        print()
        cases += peer_cases
        samples = await core.measure(cases, rounds, batch)
    report(cases, samples, batch)


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the comparison, return the exit code."""
    parser = argparse.ArgumentParser(description="Peer DI libraries: median ns per operation.")
    parser.add_argument("--rounds", type=int, default=30, help="measured rounds (default 30)")
    parser.add_argument("--quick", action="store_true", help="tiny batches: a smoke test")
    args = parser.parse_args(argv)
    rounds: int = min(args.rounds, 3) if args.quick else args.rounds
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    batch = {group: max(1, n // 100) if args.quick else n for group, n in core.BATCH.items()}
    print(f"Python {platform.python_version()} ({platform.python_implementation()}) "
          f"on {platform.platform()}")  # fmt: skip
    print(f"{rounds} rounds, shuffled order each round, gc off while timing\n")
    asyncio.run(run(rounds, batch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
