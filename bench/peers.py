"""Peer DI libraries on bench.py's operations, against the same hand-written code.

Run ``pip install -r bench/requirements-peers.txt`` then ``python bench/peers.py``. The
method is bench.py's, reused from it: one process, one event loop, every case once per
round in a freshly shuffled order, gc off while timing, a warm-up round first; a figure is
the median over rounds of ns/op, a ratio the median over rounds of the within-round ratio
to the hand-written baseline. asyncdi's own rows come from the same run, for reference.

Each peer is set up the way its documentation shows, from the same application (bench.py's
``Db``, ``Repo``, ``Session``, ``make_repo``, ``make_session``), and checked once before
timing (a lookup returns the same ``Db``; a fresh service has a new repo and the shared
db; a scope yields a new session, closed on exit). A peer that is not installed, fails to
set up, or fails a check is skipped with the reason printed; nothing is hard-coded.
``--check`` exits 1 if asyncdi misses a target against wireup (skipped without wireup).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
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
from asyncdi import AsyncService, Dependency

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


def repeat_read_twice(call: Callable[[Any], Awaitable[Any]], arg: Any) -> Run:
    """Like :func:`repeat` for a ``Service``, then read each of its three values twice.

    The like-for-like of asyncdi's "every dep read twice": a peer's service holds plain
    attributes, so its second read is an attribute read.
    """

    async def run(n: int) -> object:
        service = None
        for _ in range(n):
            service = await call(arg)
            for _ in range(2):
                _ = (service.config, service.db, service.repo)
        return service

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


# the types of the ten request values, in bench.REQUEST_NAMES's order
REQUEST_TYPES: tuple[type, ...] = (core.Session, *core.SCOPED_TYPES)


@dataclass
class RequestService:
    """The peers' request service: built by the container around the request's session."""

    session: core.Session


@dataclass
class Peer:
    """One library's operations: group -> (label, run); group -> why skipped, if it is."""

    runs: dict[str, tuple[str, Run]]
    skipped: dict[str, str] = field(default_factory=dict)


# -- one adapter per library -----------------------------------------------------------------
# Each setup builds the container, registers its closing on ``stack``, and returns one loop per
# operation. Loops read from locals, like bench.py's.


async def setup_dishka(dishka: Any, stack: contextlib.AsyncExitStack) -> Peer:
    """dishka: APP-scope singletons, ``cache=False`` transients, REQUEST-scope values."""
    app, request = dishka.Scope.APP, dishka.Scope.REQUEST
    provider = dishka.Provider()
    provider.provide(make_peer_config, scope=app)
    provider.provide(make_peer_db, scope=app)
    provider.provide(core.make_repo, scope=app, cache=False)
    provider.provide(Service, scope=app, cache=False)
    provider.provide(core.make_session, scope=request)
    provider.provide(RequestService, scope=request)
    for scoped_type in core.SCOPED_TYPES:
        provider.provide(scoped_type, scope=request)
    container = dishka.make_async_container(provider)
    stack.push_async_callback(container.close)

    async def scope(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            async with c() as request_container:
                value = await request_container.get(core.Session)
        return value

    async def scope_service(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            async with c() as request_container:
                value = (await request_container.get(RequestService)).session
        return value

    async def scope10(n: int) -> object:
        c, wanted, value = container, REQUEST_TYPES, None
        for _ in range(n):
            async with c() as request_container:
                for t in wanted:
                    value = await request_container.get(t)
        return value

    return Peer({
        "lookup": ("await container.get(Db)", repeat(container.get, core.Db)),
        "fresh": ("await container.get(Service)", repeat(container.get, Service)),
        "twice": ("get(Service), read each value twice",
                  repeat_read_twice(container.get, Service)),
        "scope": ("async with container(): get(Session)", scope),
        "scope_svc": ("async with container(): get(RequestService)", scope_service),
        "scope10": ("async with container(): get 10 values", scope10),
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
        wireup.injectable(RequestService, lifetime="scoped"),
        *(wireup.injectable(t, lifetime="scoped") for t in core.SCOPED_TYPES),
    ])  # fmt: skip
    stack.push_async_callback(container.close)
    scoped = await stack.enter_async_context(container.enter_scope())

    async def scope(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            async with c.enter_scope() as request_scope:
                value = await request_scope.get(core.Session)
        return value

    async def scope_service(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            async with c.enter_scope() as request_scope:
                value = (await request_scope.get(RequestService)).session
        return value

    async def scope10(n: int) -> object:
        c, wanted, value = container, REQUEST_TYPES, None
        for _ in range(n):
            async with c.enter_scope() as request_scope:
                for t in wanted:
                    value = await request_scope.get(t)
        return value

    return Peer({
        "lookup": ("await container.get(Db)", repeat(container.get, core.Db)),
        "fresh": ("await scope.get(Service) [open scope]", repeat(scoped.get, Service)),
        "twice": ("same, read each value twice [open scope]",
                  repeat_read_twice(scoped.get, Service)),
        "scope": ("async with enter_scope(): get(Session)", scope),
        "scope_svc": ("async with enter_scope(): get(RequestService)", scope_service),
        "scope10": ("async with enter_scope(): get 10 values", scope10),
    })  # fmt: skip


async def setup_that_depends(td: Any, stack: contextlib.AsyncExitStack) -> Peer:
    """that-depends: a BaseContainer of providers; a REQUEST-scope ContextResource."""
    providers, request = td.providers, td.ContextScopes.REQUEST
    config = providers.Singleton(make_peer_config)
    db = providers.AsyncSingleton(make_peer_db, config)
    repo = providers.AsyncFactory(core.make_repo, db)
    session = providers.ContextResource(core.make_session, db).with_config(scope=request)
    attributes = {
        "config": config,
        "db": db,
        "repo": repo,
        "service": providers.Factory(Service, config=config, db=db, repo=repo),
        "session": session,
        "request_service": providers.Factory(RequestService, session=session),
    }
    # `class PeerContainer(BaseContainer): ...`, built at run time: the import is optional
    container: Any = types.new_class(
        "PeerContainer", (td.BaseContainer,), exec_body=lambda ns: ns.update(attributes)
    )
    stack.push_async_callback(container.tear_down)
    container_context = td.container_context

    # Each loop looks the provider up on the container every time, as users write it.
    async def lookup(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            value = await c.db.resolve()
        return value

    async def fresh(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            value = await c.service.resolve()
        return value

    async def twice(n: int) -> object:
        c, service = container, None
        for _ in range(n):
            service = await c.service.resolve()
            for _ in range(2):
                _ = (service.config, service.db, service.repo)
        return service

    async def scope(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            async with container_context(scope=request):
                value = await c.session.resolve()
        return value

    async def scope_service(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            async with container_context(scope=request):
                value = (await c.request_service.resolve()).session
        return value

    return Peer({
        "lookup": ("await Container.db.resolve()", lookup),
        "fresh": ("await Container.service.resolve()", fresh),
        "twice": ("same, read each value twice", twice),
        "scope": ("container_context(REQUEST) + resolve()", scope),
        "scope_svc": ("container_context(REQUEST) + request_service", scope_service),
    })  # fmt: skip


async def setup_dependency_injector(di: Any, stack: contextlib.AsyncExitStack) -> Peer:
    """dependency-injector: a DeclarativeContainer in async mode; a ContextLocalResource."""
    providers = importlib.import_module("dependency_injector.providers")
    containers = importlib.import_module("dependency_injector.containers")
    config = providers.Singleton(make_peer_config)
    db = providers.Singleton(make_peer_db, config)  # async factory: the provider awaits
    repo = providers.Factory(core.make_repo, db)
    session = providers.ContextLocalResource(core.make_session, db)
    attributes = {
        "config": config,
        "db": db,
        "repo": repo,
        "service": providers.Factory(Service, config=config, db=db, repo=repo),
        "session": session,
        "request_service": providers.Factory(RequestService, session=session),
    }
    container_class = types.new_class(
        "PeerContainer", (containers.DeclarativeContainer,),
        exec_body=lambda ns: ns.update(attributes),
    )  # fmt: skip
    container = container_class()
    stack.push_async_callback(_awaited, container.shutdown_resources)

    # Each loop looks the provider up on the container every time, as users write it.
    async def lookup(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            value = await c.db()
        return value

    async def fresh(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            value = await c.service()
        return value

    async def twice(n: int) -> object:
        c, service = container, None
        for _ in range(n):
            service = await c.service()
            for _ in range(2):
                _ = (service.config, service.db, service.repo)
        return service

    # What @inject with Closing[Provide[...]] does around a call, without wiring a module.
    async def scope(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            value = await c.session()
            await c.session.shutdown()
        return value

    async def scope_service(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            value = (await c.request_service()).session
            await c.session.shutdown()
        return value

    return Peer({
        "lookup": ("await container.db()", lookup),
        "fresh": ("await container.service()", fresh),
        "twice": ("same, read each value twice", twice),
        "scope": ("await session(); await session.shutdown()", scope),
        "scope_svc": ("await request_service(); session.shutdown()", scope_service),
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
        aioinject.Scoped(RequestService),
    )
    await stack.enter_async_context(container)
    context = await stack.enter_async_context(container.context())

    async def scope(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            async with c.context() as request_context:
                value = await request_context.resolve(core.Session)
        return value

    async def scope_service(n: int) -> object:
        c, value = container, None
        for _ in range(n):
            async with c.context() as request_context:
                value = (await request_context.resolve(RequestService)).session
        return value

    return Peer({
        "lookup": ("await ctx.resolve(Db) [open context]", repeat(context.resolve, core.Db)),
        "fresh": ("await ctx.resolve(Service) [open context]",
                  repeat(context.resolve, Service)),
        "twice": ("same, read each value twice [open context]",
                  repeat_read_twice(context.resolve, Service)),
        "scope": ("async with context(): resolve(Session)", scope),
        "scope_svc": ("async with context(): resolve(RequestService)", scope_service),
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
    registry.register_factory(RequestService, svcs.aautowire(RequestService))
    stack.push_async_callback(registry.aclose)
    long_lived = await stack.enter_async_context(svcs.Container(registry))
    container_type = svcs.Container

    # A container keeps every service it made: a new service needs a new container.
    async def fresh(n: int) -> object:
        r, value = registry, None
        for _ in range(n):
            async with container_type(r) as c:
                value = await c.aget(Service)
        return value

    async def twice(n: int) -> object:
        r, service = registry, None
        for _ in range(n):
            async with container_type(r) as c:
                service = await c.aget(Service)
                for _ in range(2):
                    _ = (service.config, service.db, service.repo)
        return service

    async def scope(n: int) -> object:
        r, value = registry, None
        for _ in range(n):
            async with container_type(r) as c:
                value = await c.aget(core.Session)
        return value

    async def scope_service(n: int) -> object:
        r, value = registry, None
        for _ in range(n):
            async with container_type(r) as c:
                value = (await c.aget(RequestService)).session
        return value

    return Peer({
        "lookup": ("await container.aget(Db) [open container]",
                   repeat(long_lived.aget, core.Db)),
        "fresh": ("new Container + aget(Service)", fresh),
        "twice": ("same, read each value twice", twice),
        "scope": ("async with Container(): aget(Session)", scope),
        "scope_svc": ("async with Container(): aget(RequestService)", scope_service),
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

# -- asyncdi and hand-written rows that bench.py does not have --------------------------------


class RequestSvc(AsyncService, registry=core.REGISTRY):
    """The asyncdi request service: reads the request's session through a descriptor."""

    session = Dependency[core.Session]("session")


class HandRequestService:
    """Hand-written request service: an awaited getter of the session it was given."""

    def __init__(self, session: core.Session) -> None:
        self._session = session

    async def session(self) -> core.Session:
        """The request's session."""
        return self._session


async def extra_cases() -> list[core.Case]:
    """Container lookup and a request value read through a service, asyncdi and by hand."""
    registry = core.REGISTRY

    async def shared_getter(n: int) -> object:
        get, value = core.get_shared_db, None
        for _ in range(n):
            value = await get()
        return value

    async def lookup(n: int) -> object:
        resolve, value = registry.resolve, None
        for _ in range(n):
            value = await resolve("db")
        return value

    async def scope_service(n: int) -> object:
        r, service, value = registry, RequestSvc, None
        for _ in range(n):
            async with r.scope():
                value = await service().session
        return value

    async def scope_service_hand(n: int) -> object:
        service, value = HandRequestService, None
        for _ in range(n):
            async with core.hand_session() as session:
                value = await service(session).session()
        return value

    return [
        core.Case("shared_getter", "plain: await get_shared_db()", "lookup", shared_getter),
        core.Case("lookup", 'asyncdi: await reg.resolve("db")', "lookup", lookup),
        core.Case("scope_svc_hand", "hand-written: session + service getter", "scope_svc",
                  scope_service_hand),
        core.Case("scope_svc", "asyncdi: scope() + await RequestSvc().session", "scope_svc",
                  scope_service),
    ]  # fmt: skip


# -- checking, collecting, reporting -----------------------------------------------------------

GROUPS = {
    "hit": "cached hit (no peer caches per instance: see the container lookup)",
    "lookup": "container lookup of a made singleton",
    "fresh": "fresh service",
    "twice": "fresh service, every value read twice",
    "scope": "request scope cycle",
    "scope_svc": "request value read through a service",
    "scope10": "request scope with 10 request values",
}
BATCH = {
    **core.BATCH,
    "lookup": core.BATCH["hit"],
    "twice": core.BATCH["fresh"],
    "scope_svc": core.BATCH["scope"],
}
# services kept for the memory rows (dependency-injector makes one in about 50 us)
MEMORY_INSTANCES = 5000
# the hand-written baseline of each group, and the asyncdi case shown beside it
BASE = {
    "hit": "getter",
    "lookup": "shared_getter",
    "fresh": "fresh_hand",
    "twice": "fresh_twice_hand",
    "scope": "scope_hand",
    "scope_svc": "scope_svc_hand",
    "scope10": "scope10_hand",
}
ASYNCDI = {
    "hit": "cached",
    "lookup": "lookup",
    "fresh": "fresh",
    "twice": "fresh_twice",
    "scope": "scope",
    "scope_svc": "scope_svc",
    "scope10": "scope10",
}
# (asyncdi case, peer case, ceiling on asyncdi / peer in a round, whether strictly below)
TARGETS: list[tuple[str, str, float, bool]] = [
    ("lookup", "wireup.lookup", 1.0, False),  # no slower than wireup's container get
    ("fresh", "wireup.fresh", 1.0, True),  # a ratio to hand-written below wireup's
    ("scope10", "wireup.scope10", 1.0, False),  # no slower than wireup
]


def same_db(first: object, second: object) -> bool:
    """Both lookups returned the one ``Db``."""
    return isinstance(first, core.Db) and first is second


def fresh_services(first: object, second: object) -> bool:
    """Two services, each with a new repo, sharing db and config."""
    return (
        isinstance(first, Service) and isinstance(second, Service)
        and isinstance(first.repo, core.Repo) and first.repo is not second.repo
        and isinstance(first.db, core.Db) and first.db is second.db
        and first.config == core.make_config()
    )  # fmt: skip


def closed_sessions(first: object, second: object) -> bool:
    """Two distinct sessions, each closed when its scope ended."""
    return (
        isinstance(first, core.Session) and isinstance(second, core.Session)
        and first.closed and second.closed and first is not second
    )  # fmt: skip


def closed_scoped(first: object, second: object) -> bool:
    """The last of the ten values, per scope: distinct, over a session closed on exit."""
    last = core.SCOPED_TYPES[-1]
    return (
        isinstance(first, last) and isinstance(second, last) and first is not second
        and closed_sessions(first.session, second.session)
    )  # fmt: skip


CHECKS: dict[str, Callable[[object, object], bool]] = {
    "lookup": same_db,
    "fresh": fresh_services,
    "twice": fresh_services,
    "scope": closed_sessions,
    "scope_svc": closed_sessions,
    "scope10": closed_scoped,
}


async def check(group: str, run: Run) -> None:
    """Raise ValueError unless ``run`` does what its group claims (two single iterations)."""
    first, second = await run(1), await run(1)
    if not CHECKS[group](first, second):
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
            measured.append(group)
            base = BASE[group]
            cases.append(core.Case(f"{dist}.{group}", f"{dist}: {label}", group, run,
                                   ((base, base),)))  # fmt: skip
        skipped = "".join(f"; skipped {group}: {why}" for group, why in peer.skipped.items())
        notes.append(f"{name}: measured {', '.join(measured) or 'nothing'}{skipped}")
    return cases, notes


async def reference_cases() -> list[core.Case]:
    """The hand-written and asyncdi case of every group (lifespan open), ratio vs baseline."""
    by_key = {case.key: case for case in await core.build_cases() + await extra_cases()}
    cases = []
    for group, base in BASE.items():
        cases.append(dataclasses.replace(by_key[base], group=group, baselines=()))
        asyncdi = by_key[ASYNCDI[group]]
        cases.append(dataclasses.replace(asyncdi, group=group, baselines=((base, base),)))
    return cases


def report(cases: list[core.Case], samples: dict[str, list[float]], batch: dict[str, int]) -> None:
    """Print one row per case, grouped, with its ratio to the group's hand-written baseline."""
    medians = {key: statistics.median(values) for key, values in samples.items()}
    width = max(len(case.label) for case in cases)
    print(f"{'case':<{width}}  {'median ns/op':>12}  ratio vs hand-written")
    print(f"{'-' * width}  {'-' * 12}  {'-' * 21}")
    for group, title in GROUPS.items():
        print(f"[{title}, batches of {batch[group]}]")
        for case in (c for c in cases if c.group == group):
            ratios = (f"{core.ratio(samples, case.key, b):.2f}x" for _, b in case.baselines)
            shown = ", ".join(ratios) or "baseline"
            print(f"{case.label:<{width}}  {medians[case.key]:>12.1f}  {shown}")


def report_targets(cases: list[core.Case], samples: dict[str, list[float]]) -> bool:
    """Print asyncdi's targets against wireup; return whether none failed (skips pass)."""
    by_key = {case.key: case for case in cases}
    print("\nTargets (asyncdi / peer: median over rounds of the ratio within each round)")
    passed = True
    for key, peer, limit, strict in TARGETS:
        case = by_key[key]
        if peer not in by_key:
            print(f"  {case.label} / {peer}: SKIP (no {peer} row: not installed or skipped)")
            continue
        measured = core.ratio(samples, key, peer)
        ok = measured < limit if strict else measured <= limit
        passed = passed and ok
        base = BASE[case.group]
        bound = f"{'<' if strict else '<='} {limit}"
        print(f"  {case.label} / {by_key[peer].label}: {measured:.2f} ({bound}) "
              f"{'PASS' if ok else 'FAIL'}")  # fmt: skip
        print(f"    vs hand-written: asyncdi {core.ratio(samples, key, base):.2f}x, "
              f"{peer.split('.')[0]} {core.ratio(samples, peer, base):.2f}x")  # fmt: skip
    return passed


async def measure_memory(peer_cases: list[core.Case], count: int) -> list[tuple[str, float]]:
    """Bytes per service with its three values, kept ``count`` times: by hand, asyncdi, peers.

    A peer's service is what its fresh-service run returns (that run, for one iteration).
    """
    rows: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("hand-written: new service, 3 getters", core.made_hand_service),
        ("asyncdi: new Svc, every dep read twice", core.made_service),
    ]
    rows += [(c.label, functools.partial(c.run, 1)) for c in peer_cases if c.group == "fresh"]
    return [(label, await core.bytes_per_object(make, count)) for label, make in rows]


async def run(rounds: int, batch: dict[str, int], instances: int) -> bool:
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
        memory = await measure_memory(peer_cases, instances)
    report(cases, samples, batch)
    width = max(len(label) for label, _ in memory)
    print(f"\nMemory per service with 3 values ({instances} kept, tracemalloc)")
    for label, size in memory:
        print(f"  {label:<{width}}  {size:7.1f} B")
    return report_targets(cases, samples)


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the comparison, return the exit code."""
    parser = argparse.ArgumentParser(description="Peer DI libraries: median ns per operation.")
    parser.add_argument("--rounds", type=int, default=30, help="measured rounds (default 30)")
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
