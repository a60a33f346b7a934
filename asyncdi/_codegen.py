"""The one definition of how a value is made, written out as code per provider.

For each plan this module writes the source of small functions (``aget``, its sync
twin ``get``, and ``read`` for a service attribute) specialised to that provider: its
arguments are read from where they live (a made singleton's cell, the request scope's
dict, a constant), INSTANCE dependencies are made inline (no call, no coroutine layer,
no recursion however long the chain), and the value is released the way its provider
says. Async and sync functions come from the same template: :class:`_Writer` drops the
``await`` and refuses what cannot be made without one. ``Plan.source`` keeps the text,
so a test (or a curious user) can print and read what runs.

What each generated function does, in order:
1. Find the value (cacheable scopes): a made value is returned at once; a creation in
   flight is waited for (see ``_flight``); otherwise this call claims the creation.
2. Make what is missing, dependencies first, collecting the records of what must be
   released into a local list.
3. On failure: release what was made for it, newest first; tell the waiters; add the
   resolution path to the error (``_paths``); re-raise.
4. On success: hand the records to the owner (the registry for singletons, the scope
   for request values, the dependant for INSTANCE ones) and publish the value.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import types
from typing import TYPE_CHECKING, Any, Final

from asyncdi import _hooks as hooks
from asyncdi._errors import (
    AsyncProviderError,
    NoActiveScopeError,
    NotAContextManagerError,
    ProviderProtocolError,
    RegistryClosedError,
    ScopeClosedError,
    ServiceDisposedError,
)
from asyncdi._flight import DISOWNED, MAKING, MISS, Flight, creating_here, wait_for
from asyncdi._instance_state import STATE_KEY, InstanceState, state_of
from asyncdi._paths import annotate
from asyncdi._provider import DYNAMIC, ENTERED, Kind, Provider
from asyncdi._release import Held, Mechanism, finish_exit, release_records
from asyncdi._scope import Scope

if TYPE_CHECKING:
    from asyncdi._plans import Plan, View
    from asyncdi._pool import PoolState

__all__ = ["DEEP", "generate", "generate_read"]

DEEP: Final = 32  # a plan this many cacheable levels deep makes its dependencies first
_SKIP: Final = object()
_serial = itertools.count()


def _no_yield(provider: Provider) -> ProviderProtocolError:
    return ProviderProtocolError(
        provider.name,
        f"({provider.describe()}) finished without yielding a value; a generator provider "
        "must yield exactly once.",
    )


def _first_yield(generator: Any, provider: Provider) -> Any:
    try:
        return next(generator)
    except StopIteration:
        raise _no_yield(provider) from None


def _needs_await(provider: Provider, what: str = "") -> AsyncProviderError:
    return AsyncProviderError(provider.name, what or provider.describe(), ())


def _refuse_coroutine(result: Any, provider: Provider) -> None:
    result.close()
    raise _needs_await(provider, f"{provider.describe()} (it returned a coroutine)")


def _no_scope(provider: Provider) -> NoActiveScopeError:
    return NoActiveScopeError(provider.name, ())


async def _unwind(held: list[Held], error: BaseException, label: str) -> None:
    """Release what was made for a creation that failed; keep the failure's own error."""
    finish_exit(label, error, await release_records(held, error))


def _unwind_sync(held: list[Held], error: BaseException, label: str) -> None:
    from asyncdi._release import _release_sync

    finish_exit(label, error, _release_sync(held, error))


async def _orphan(held: list[Held], label: str) -> None:
    """Release values made for an owner that closed meanwhile."""
    finish_exit(label, None, await release_records(held, None))


async def _wait_request(scope: Any, key: Any, mark: Any, codes: Any) -> None:
    """Wait for a request value another task is making in ``scope``."""
    if creating_here(codes, scope, 3):  # skip this function and the waiting plan's own
        raise _open_cycle(key)
    if type(mark) is not Flight:
        mark = scope.flights[key] = Flight()
    await wait_for(mark)


def _open_cycle(key: Any) -> BaseException:
    from asyncdi._errors import CycleError

    name = key.name if isinstance(key, Provider) else key[0].name
    return CycleError((name,))


def _adopt(instance: Any, held: list[Held], scope: Any, root: Any) -> None:
    """Hand an instance's new values to its state, which its scope (or lifespan) knows."""
    state = state_of(instance)
    if state.phase == InstanceState.DISPOSED:
        raise ServiceDisposedError(state.label)
    state.adopt(held, scope if scope is not None and not scope.closed else root, instance)


_BASE_NAMESPACE: Final[dict[str, Any]] = {
    "_MISS": MISS,
    "_Flight": Flight,
    "_MAKING": MAKING,
    "_DISOWNED": DISOWNED,
    "_creating_here": creating_here,
    "_now": time.perf_counter_ns,
    "_coro": types.CoroutineType,
    "_first_yield": _first_yield,
    "_no_yield": _no_yield,
    "_needs_await": _needs_await,
    "_refuse_coroutine": _refuse_coroutine,
    "_no_scope": _no_scope,
    "_unwind": _unwind,
    "_unwind_sync": _unwind_sync,
    "_orphan": _orphan,
    "_wait_request": _wait_request,
    "_open_cycle": _open_cycle,
    "_annotate": annotate,
    "_start": hooks.start,
    "_start_sync": hooks.start_sync,
    "_TM": None,  # filled below: the per-type mechanism cache
    "_mt": None,
    "_ScopeClosedError": ScopeClosedError,
    "_RegistryClosedError": RegistryClosedError,
    "_ServiceDisposedError": ServiceDisposedError,
    "_STATE_KEY": STATE_KEY,
    "_DISPOSED": InstanceState.DISPOSED,
    "_adopt": _adopt,
    "_wait_for": wait_for,
    "_together": None,  # filled below
}


def _made(plan: Plan, scope: Any) -> bool:
    if plan.scope is Scope.SINGLETON:
        return plan.cell is not None and plan.cell.ready
    while scope is not None:
        if plan.key in scope.values:
            return True
        scope = scope.parent
    return False


async def _together(scope: Any, plans: tuple[Plan, ...]) -> None:
    """Make the values of ``plans`` that do not exist yet, concurrently (two or more).

    Each is made in a task of its own (so each keeps its single flight and its owner,
    and release order follows actual creation). If one fails, the others still being
    made are cancelled and the failure is raised as itself; a cancellation of the
    caller cancels them all.
    """
    missing = [plan for plan in plans if not _made(plan, scope)]
    if len(missing) < 2:
        return
    tasks = [
        asyncio.ensure_future(plan.aget(scope if plan.scope is Scope.REQUEST else None, None))
        for plan in missing
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        raise
    failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
    if failed:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        raise failed[0].exception()


def _namespace() -> dict[str, Any]:
    from asyncdi import _provider

    namespace = dict(_BASE_NAMESPACE)
    namespace["_TM"] = _provider._TYPE_MECHANISMS
    namespace["_mt"] = _provider.mechanism_of_type
    namespace["_together"] = _together
    return namespace


class _Writer:
    """Lines of one generated function, the constants they use, and each line's path."""

    def __init__(self, sync: bool) -> None:
        self.sync = sync
        self.lines: list[str] = []
        self.paths: dict[int, tuple[str, ...]] = {}
        self.makers: dict[int, Provider] = {}  # the provider each make line calls
        self.namespace = _namespace()
        self.names: dict[int, str] = {}
        self.temps = itertools.count()
        self.root_record: Any = None  # the step whose record the shape hands over itself
        self.timed_step: Any = None  # the plan's own step, whose creation time is sampled
        self.root_record_used = False

    def const(self, value: Any, hint: str = "k") -> str:
        """A name in the generated namespace bound to ``value``."""
        key = id(value)
        name = self.names.get(key)
        if name is None:
            name = self.names[key] = f"_{hint}{len(self.names)}"
            self.namespace[name] = value
        return name

    def temp(self, hint: str = "v") -> str:
        return f"{hint}{next(self.temps)}"

    def line(
        self,
        text: str,
        indent: int,
        path: tuple[str, ...] | None = None,
        maker: Provider | None = None,
    ) -> None:
        self.lines.append("    " * indent + text)
        if path is not None:
            self.paths[len(self.lines)] = path
        if maker is not None:
            self.makers[len(self.lines)] = maker

    def awaited(self, expression: str) -> str:
        return expression if self.sync else f"await {expression}"

    def compile(self, name: str, source_name: str) -> Any:
        source = "\n".join(self.lines) + "\n"
        self.namespace["_PATHS"] = self.paths
        self.namespace["_MAKERS"] = self.makers
        code = compile(source, f"<asyncdi plan {source_name}#{next(_serial)}>", "exec")
        exec(code, self.namespace)  # noqa: S102 - our own generated source, see module doc
        function = self.namespace[name]
        function.__asyncdi_source__ = source
        return function


# -- lowering: what a plan makes, in order --------------------------------------------------


class _Body:
    """The statements that make a plan's value: fetches of cacheable values, then makes."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Any]] = []  # ("fetch", (plan, var, path)) / ("make", ...)
        self.may_hold = False
        self.depth = 0
        self.needs_scope = False


def _lower(plan: Plan, view: View, writer: _Writer, for_pool: bool = False) -> tuple[_Body, str]:
    """Walk the INSTANCE subtree of ``plan`` iteratively, post-order, into steps.

    A pooled provider is one step, a borrow from its pool (see :func:`_borrow_of`),
    except as the root of the code its pool makes values with (``for_pool``).
    """
    body = _Body()
    fetched: dict[Any, str] = {}
    root = plan.provider
    if root.pool is not None and not for_pool:
        var = writer.temp()
        body.steps.append(("make", (root, var, (root.name,), _borrow_of(view, plan))))
        body.may_hold = True
        body.depth = 1
        return body, var
    # frame: [provider, path, next param index, [(param, expression)], param in parent]
    stack: list[list[Any]] = [[root, (root.name,), 0, [], None]]
    result = ""
    while stack:
        frame = stack[-1]
        provider, path, index, args, _ = frame
        if index == len(provider.params):
            stack.pop()
            var = writer.temp()
            body.steps.append(("make", (provider, var, path, args)))
            if provider.mechanism != Mechanism.NONE:
                body.may_hold = True
            if stack:
                stack[-1][3].append((frame[4], var))
            else:
                result = var
            continue
        param = provider.params[index]
        frame[2] = index + 1
        name = param.dependency
        dependency = view.providers.get(name)
        if dependency is None:
            args.append((param, _SKIP))
            continue
        if dependency.kind is Kind.VALUE:
            args.append((param, writer.const(dependency.value, "c")))
            continue
        if dependency.scope is Scope.INSTANCE:
            if dependency.pool is not None:
                var = writer.temp()
                borrow = _borrow_of(view, view.plan_of(name))
                body.steps.append(("make", (dependency, var, (*path, name), borrow)))
                body.may_hold = True
                args.append((param, var))
                continue
            stack.append([dependency, (*path, name), 0, [], param])
            continue
        dep_plan = view.plan_of(name)
        fetch = fetched.get(dep_plan.key)
        if fetch is None:
            fetch = fetched[dep_plan.key] = writer.temp("d")
            body.steps.append(("fetch", (dep_plan, fetch, path)))
            body.depth = max(body.depth, dep_plan.depth)
            if dep_plan.scope is Scope.REQUEST:
                body.needs_scope = True
        args.append((param, fetch))
    body.depth += 1
    return body, result


def _call(writer: _Writer, provider: Provider, args: list[tuple[Any, str]]) -> str:
    positional: list[str] = []
    keywords: list[str] = []
    skipped = False
    for param, expression in args:
        if expression is _SKIP:
            if param.positional_only:
                positional.append(writer.const(param.default, "c"))
            else:
                skipped = True
            continue
        if param.keyword_only or skipped:
            keywords.append(f"{param.parameter}={expression}")
        else:
            positional.append(expression)
    return f"{writer.const(provider.factory, 'f')}({', '.join([*positional, *keywords])})"


def _write_fetch(writer: _Writer, step: tuple[Any, str, tuple[str, ...]], indent: int) -> None:
    dep_plan, var, path = step
    target = writer.const(dep_plan, "p")
    get = "get" if writer.sync else "aget"
    if dep_plan.scope is Scope.SINGLETON:
        cell = writer.const(dep_plan.cell, "cell")
        writer.line(
            f"{var} = {cell}.value if {cell}.ready else "
            f"{writer.awaited(f'{target}.{get}(None, None)')}",
            indent,
            path,
        )
    else:
        key = writer.const(dep_plan.key, "key")
        found = f"scope.values.get({key}, _MISS) if scope is not None else _MISS"
        writer.line(f"{var} = {found}", indent)
        writer.line(f"if {var} is _MISS:", indent)
        writer.line(f"{var} = {writer.awaited(f'{target}.{get}(scope, None)')}", indent + 1, path)


class _Borrow:
    """A make step that borrows from a pool instead of calling the provider."""

    __slots__ = ("state",)

    def __init__(self, state: PoolState) -> None:
        self.state = state


def _borrow_of(view: View, plan: Plan) -> _Borrow:
    """The pool of a pooled plan (kept by the registry across plan rebuilds), its
    ``make`` (re)generated from the plan as it is now."""
    from asyncdi._pool import PoolState

    registry = view.registry
    state = registry._pools.get(plan.key)
    if state is None:
        state = registry._pools[plan.key] = PoolState(plan.provider, registry._root, registry.label)
    state.make = _pool_make(plan, plan.view)
    return _Borrow(state)


def _pool_make(plan: Plan, view: View) -> Any:
    """``make(scope, owner)`` -> ``(value, held)``: a pooled value, made as any other."""
    writer = _Writer(False)
    body, result = _lower(plan, view, writer, for_pool=True)
    if body.needs_scope:
        from asyncdi._errors import InvalidProviderError

        raise InvalidProviderError(
            plan.name,
            "it is pooled, so its values outlive request scopes, but it depends on a "
            "REQUEST-scoped value. Make that dependency a SINGLETON (or INSTANCE), or do "
            "not pool this provider.",
        )
    body.may_hold = True
    write = writer.line
    writer.line("async def make(scope, owner, deep=True):", 0)
    _write_prepare(writer, plan, body, 1)
    write("held = []", 1)
    write("try:", 1)
    _write_body(writer, body, 2)
    _failure(writer, body, repr(plan.name), 1, [])
    write(f"return {result}, held", 1)
    return writer.compile("make", f"{plan.name} (pool)")


def _write_borrow(
    writer: _Writer, provider: Provider, var: str, borrow: _Borrow, indent: int, path: Any
) -> None:
    p = writer.const(provider, "prov")
    if writer.sync:
        what = "a pooled value (borrowing may wait for one to be free)"
        writer.line(f"raise _needs_await({p}, {what!r})", indent, path, provider)
        return
    state = writer.const(borrow.state, "pool")
    lease = writer.temp("lease")
    writer.line(f"{lease} = {state}.take() or await {state}.borrow()", indent, path, provider)
    writer.line(f"{var} = {lease}.value", indent)
    writer.line("if held is None: held = []", indent)
    writer.line(f"held.append(({Mechanism.RETURN}, {var}, {lease}, None))", indent)


def _write_make(writer: _Writer, step: tuple[Any, ...], indent: int) -> None:
    provider, var, path, args = step
    if type(args) is _Borrow:
        _write_borrow(writer, provider, var, args, indent, path)
        return
    p = writer.const(provider, "prov")
    call = _call(writer, provider, args)
    kind = provider.kind
    sync = writer.sync

    def write(text: str, indent: int, path: tuple[str, ...] | None = None) -> None:
        writer.line(text, indent, path, provider if path is not None else None)

    timed = step is writer.timed_step  # creation times are sampled for a plan's own value
    if timed:
        write("if _s: _t = _now()", indent)
    handle = "None"
    made = var
    if provider.enter:  # the call makes a context manager; the value is what entering gives
        made = handle = writer.temp("cm")
    mechanism = provider.mechanism
    plain = provider.plain_type if mechanism == DYNAMIC else None
    if kind is Kind.CLASS:
        write(f"{made} = {call}", indent, path)
    elif kind is Kind.SYNC and plain is not None:
        # The annotated class, the usual result, needs neither an await nor a release:
        # one identity check stands for both lookups below (bench/scale.py, chains).
        write(f"{made} = {call}", indent, path)
        write(f"if type({made}) is not {writer.const(plain, 't')}:", indent)
        if sync:
            write(f"if type({made}) is _coro: _refuse_coroutine({made}, {p})", indent + 1, path)
        else:
            write(f"if type({made}) is _coro: {made} = await {made}", indent + 1, path)
        _write_dynamic_hold(writer, provider, var, indent + 1, path)
        mechanism = Mechanism.NONE
    elif kind is Kind.SYNC:
        write(f"{made} = {call}", indent, path)
        if sync:
            write(f"if type({made}) is _coro: _refuse_coroutine({made}, {p})", indent, path)
        else:
            write(f"if type({made}) is _coro: {made} = await {made}", indent, path)
    elif kind is Kind.GENERATOR:
        handle = writer.temp("g")
        write(f"{handle} = {call}", indent, path)
        write(f"{var} = _first_yield({handle}, {p})", indent, path)
    elif sync:  # ASYNC or ASYNC_GENERATOR, asked for without await
        write(f"raise _needs_await({p})", indent, path)
        return
    elif kind is Kind.ASYNC:
        write(f"{made} = await {call}", indent, path)
    else:
        handle = writer.temp("g")
        write(f"{handle} = {call}", indent, path)
        write("try:", indent)
        write(f"{var} = await {handle}.__anext__()", indent + 1, path)
        write("except StopAsyncIteration:", indent)
        write(f"raise _no_yield({p}) from None", indent + 1, path)
    start = f"_start_sync({var})" if sync else f"await _start({var})"
    if mechanism == ENTERED:
        _write_enter(writer, provider, var, made, indent, path)
    elif mechanism == DYNAMIC:
        if plain is not None:  # the annotated class: known to need nothing
            write(f"if type({var}) is not {writer.const(plain, 't')}:", indent)
            _write_dynamic_hold(writer, provider, var, indent + 1, path)
        else:
            _write_dynamic_hold(writer, provider, var, indent, path)
    elif mechanism != Mechanism.NONE:
        if mechanism == Mechanism.HOOKS:
            write(start, indent, path)
        if writer.root_record is not None and step is writer.root_record:
            # the plan's own value, made last: its record goes straight to the owner
            writer.line(f"_r = ({mechanism}, {var}, {handle}, {p})", indent)
            writer.root_record_used = True
        else:
            write("if held is None: held = []", indent)
            write(f"held.append(({mechanism}, {var}, {handle}, {p}))", indent)
        write(f"{p}.held += 1", indent)
    write(f"{p}.created += 1", indent)
    if timed:
        write(f"if _s: {p}.timed += 1; {p}.creation_ns += _now() - _t", indent)


def _write_dynamic_hold(
    writer: _Writer, provider: Provider, var: str, indent: int, path: tuple[str, ...]
) -> None:
    """Hold a plain function's value if its type has lifecycle hooks (a cached lookup)."""
    p = writer.const(provider, "prov")
    start = f"_start_sync({var})" if writer.sync else f"await _start({var})"
    writer.line(f"_m = _TM.get(type({var}))", indent)
    writer.line(f"if _m is None: _m = _mt(type({var}))", indent)
    writer.line("if _m:", indent)
    writer.line(f"if _m == {Mechanism.HOOKS}: {start}", indent + 1, path, provider)
    writer.line("if held is None: held = []", indent + 1)
    writer.line(f"held.append((_m, {var}, None, {p}))", indent + 1)
    writer.line(f"{p}.held += 1", indent + 1)


def _enter_how(manager: Any, provider: Provider) -> int:
    """How to enter ``manager`` (a provider's result, ``enter=True``): async protocol first."""
    cls = type(manager)
    if hasattr(cls, "__aenter__") and hasattr(cls, "__aexit__"):
        return Mechanism.ENTER_ASYNC
    if hasattr(cls, "__enter__") and hasattr(cls, "__exit__"):
        return Mechanism.ENTER_SYNC
    raise NotAContextManagerError(provider.name, provider.describe(), cls.__qualname__)


def _enter_how_sync(manager: Any, provider: Provider) -> int:
    """:func:`_enter_how` for ``get()``: a manager that can only be entered async is refused."""
    cls = type(manager)
    if hasattr(cls, "__enter__") and hasattr(cls, "__exit__"):
        return Mechanism.ENTER_SYNC
    if hasattr(cls, "__aenter__") and hasattr(cls, "__aexit__"):
        what = f"{provider.describe()} (it returned an async context manager)"
        raise _needs_await(provider, what)
    raise NotAContextManagerError(provider.name, provider.describe(), cls.__qualname__)


_BASE_NAMESPACE["_enter_how"] = _enter_how
_BASE_NAMESPACE["_enter_how_sync"] = _enter_how_sync


def _write_enter(
    writer: _Writer, provider: Provider, var: str, manager: str, indent: int, path: Any
) -> None:
    """Enter the context manager a provider made; held (for its exit) only once entered."""
    p = writer.const(provider, "prov")

    def write(text: str, indent: int, path: tuple[str, ...] | None = None) -> None:
        writer.line(text, indent, path, provider if path is not None else None)

    if writer.sync:
        write(f"_m = _enter_how_sync({manager}, {p})", indent, path)
        write(f"{var} = {manager}.__enter__()", indent, path)
    else:
        write(f"_m = _enter_how({manager}, {p})", indent, path)
        entered = f"{var} = await {manager}.__aenter__()"
        write(f"if _m == {Mechanism.ENTER_ASYNC}: {entered}", indent, path)
        write(f"else: {var} = {manager}.__enter__()", indent, path)
    write("if held is None: held = []", indent)
    write(f"held.append((_m, {var}, {manager}, {p}))", indent)
    write(f"{p}.held += 1", indent)


def _write_body(writer: _Writer, body: _Body, indent: int) -> None:
    # Creation times are sampled, one call in 16, for the plan's own value (which
    # includes making its INSTANCE dependencies): timing every value costs.
    writer.timed_step = body.steps[-1][1]
    root = writer.timed_step[0]
    writer.line(f"_s = not {writer.const(root, 'prov')}.created & 15", indent)
    steps = body.steps
    for index, (kind, step) in enumerate(steps):
        if kind == "fetch":
            if not writer.sync and (index == 0 or steps[index - 1][0] != "fetch"):
                _write_together(writer, steps, index, indent)
            _write_fetch(writer, step, indent)
        else:
            _write_make(writer, step, indent)


def _write_together(
    writer: _Writer, steps: list[tuple[str, Any]], first: int, indent: int
) -> None:
    """Before a run of two or more fetches: make the missing ones concurrently.

    When they all exist already (the common case) this costs one check each; the
    fetch lines that follow then read them as usual.
    """
    run = []
    for kind, step in steps[first:]:
        if kind != "fetch":
            break
        run.append(step)
    if len(run) < 2:
        return
    checks = []
    for dep_plan, _, _ in run:
        if dep_plan.scope is Scope.SINGLETON:
            checks.append(f"{writer.const(dep_plan.cell, 'cell')}.ready")
        else:
            key = writer.const(dep_plan.key, "key")
            checks.append(f"(scope is not None and {key} in scope.values)")
    plans = writer.const(tuple(dep_plan for dep_plan, _, _ in run), "plans")
    writer.line(f"if not ({' and '.join(checks)}):", indent)
    writer.line(f"await _together(scope, {plans})", indent + 1, run[0][2])


def _write_prepare(writer: _Writer, plan: Plan, body: _Body, indent: int) -> None:
    if body.depth > DEEP:
        prepare = writer.const(plan.prepare_sync if writer.sync else plan.prepare, "prep")
        writer.line(f"if deep: {writer.awaited(f'{prepare}(scope)')}", indent)


def _failure(writer: _Writer, body: _Body, label: str, indent: int, cleanup: list[str]) -> None:
    write = writer.line
    write("except BaseException as _e:", indent)
    for text in cleanup:
        write(text, indent + 1)
    if body.may_hold:
        lab = writer.const(label, "label")
        if writer.sync:
            write(f"if held: _unwind_sync(held, _e, {lab})", indent + 1)
        else:
            write(f"if held: await _unwind(held, _e, {lab})", indent + 1)
    write("_annotate(_e, _e.__traceback__, _PATHS, _MAKERS)", indent + 1)
    write("raise", indent + 1)


# -- the three shapes of plan ---------------------------------------------------------------


def _singleton(plan: Plan, view: View, sync: bool) -> Any:
    writer = _Writer(sync)
    body, result = _lower(plan, view, writer)
    plan.depth = body.depth
    write = writer.line
    cell = writer.const(plan.cell, "cell")
    codes = writer.const(plan.codes, "codes")
    lock = writer.const(view.registry._lock, "lock")
    root = writer.const(view.registry._root, "root")
    p = writer.const(plan.provider, "prov")
    closed = f"_RegistryClosedError({writer.const(view.registry.label, 'label')}, {p}.name)"
    name = "get" if sync else "aget"
    prefix = "def" if sync else "async def"
    write(f"{prefix} {name}(scope, owner, deep=True):", 0)
    write(f"if {cell}.ready: return {cell}.value", 1)
    if sync:
        write(f"with {lock}:", 1)
        write(f"if {cell}.ready: return {cell}.value", 2)
        write(f"flight = {cell}.flight", 2)
        write("if flight is not None:", 2)
        write(f"if _creating_here({codes}): raise _open_cycle({p})", 3)
        write(f"raise _needs_await({p}, 'a value being made asynchronously')", 3)
        write(f"if {root}.closed: raise {closed}", 2)
        write(f"flight = {cell}.flight = _Flight()", 2)
        indent = 2
    else:
        write("while True:", 1)
        write(f"with {lock}:", 2)
        write(f"if {cell}.ready: return {cell}.value", 3)
        write(f"flight = {cell}.flight", 3)
        write("if flight is None:", 3)
        write(f"if {root}.closed: raise {closed}", 4)
        write(f"flight = {cell}.flight = _Flight()", 4)
        write("break", 4)
        write(f"if _creating_here({codes}): raise _open_cycle({p})", 3)
        write("waiter = flight.waiter()", 3)
        write("outcome = await waiter", 2)
        write("if outcome is not None: raise outcome", 2)
        indent = 1
    _write_prepare(writer, plan, body, indent)
    if body.may_hold:
        write("held = None", indent)
    write("try:", indent)
    _write_body(writer, body, indent + 1)
    _failure(
        writer, body, repr(plan.name), indent,
        [f"with {lock}: {cell}.flight = None", "flight.finish(_e)"],
    )  # fmt: skip
    if body.may_hold:
        lab = writer.const(repr(plan.name), "label")
        write("if held:", indent)
        write(f"if {root}.closed:", indent + 1)
        write("_e = " + closed, indent + 2)
        if sync:
            write(f"_unwind_sync(held, _e, {lab})", indent + 2)
        else:
            write(f"await _orphan(held, {lab})", indent + 2)
        write(f"with {lock}: {cell}.flight = None", indent + 2)
        write("flight.finish(_e)", indent + 2)
        write("raise _e", indent + 2)
        write(f"{root}.held += held", indent + 1)
    write(f"with {lock}:", indent)
    write(f"{cell}.value = {result}", indent + 1)
    write(f"{cell}.ready = True", indent + 1)
    write(f"{cell}.flight = None", indent + 1)
    write("flight.finish(None)", indent)
    write(f"return {result}", indent)
    return writer.compile(name, plan.name)


def _request(plan: Plan, view: View, sync: bool) -> Any:
    writer = _Writer(sync)
    body, result = _lower(plan, view, writer)
    plan.depth = body.depth
    root_step = body.steps[-1][1]
    # A request value whose own dependencies hold nothing (the usual one) hands its
    # record to the scope directly: no list per request (bench/bench.py, request scope).
    if not any(
        kind == "make" and step is not root_step and step[0].mechanism != Mechanism.NONE
        for kind, step in body.steps
    ):
        writer.root_record = root_step
    write = writer.line
    key = writer.const(plan.key, "key")
    codes = writer.const(plan.codes, "codes")
    p = writer.const(plan.provider, "prov")
    name = "get" if sync else "aget"
    prefix = "def" if sync else "async def"
    write(f"{prefix} {name}(scope, owner, deep=True):", 0)
    write(f"if scope is None: raise _no_scope({p})", 1)
    write("s = scope", 1)
    write("while s is not None:", 1)
    write(f"v = s.values.get({key}, _MISS)", 2)
    write("if v is not _MISS: return v", 2)
    write("if s.flights:", 2)
    write(f"mark = s.flights.get({key})", 3)
    write("if mark is not None:", 3)
    if sync:
        write(f"if _creating_here({codes}, s): raise _open_cycle({key})", 4)
        write(f"raise _needs_await({p}, 'a value being made asynchronously')", 4)
    else:
        write(f"await _wait_request(s, {key}, mark, {codes})", 4)
        write("continue", 4)
    write("s = s.parent", 2)
    write(f"if scope.closed: raise _ScopeClosedError(scope.label, {p}.name)", 1)
    write("flights = scope.flights", 1)
    write("if flights is None: flights = scope.flights = {}", 1)
    write(f"flights[{key}] = _MAKING", 1)
    _write_prepare(writer, plan, body, 1)
    if body.may_hold:
        write("held = None", 1)
    write("try:", 1)
    _write_body(writer, body, 2)
    _failure(
        writer, body, repr(plan.name), 1,
        [f"mark = flights.pop({key}, None)", "if type(mark) is _Flight: mark.finish(_e)"],
    )  # fmt: skip
    write(f"mark = flights.pop({key}, None)", 1)
    write("if scope.closed:", 1)
    write(f"_e = _ScopeClosedError(scope.label, {p}.name)", 2)
    if writer.root_record_used:
        write("held = (held or []) + [_r]", 2)
    if body.may_hold:
        lab = writer.const(repr(plan.name), "label")
        orphan = f"_unwind_sync(held, _e, {lab})" if sync else f"await _orphan(held, {lab})"
        write(f"if held: {orphan}", 2)
    write("if type(mark) is _Flight: mark.finish(_e)", 2)
    write("raise _e", 2)
    if body.may_hold:
        write("if held: scope.held += held", 1)
    if writer.root_record_used:
        write("scope.held.append(_r)", 1)
    write(f"scope.values[{key}] = {result}", 1)
    write("if type(mark) is _Flight: mark.finish(None)", 1)
    write(f"return {result}", 1)
    return writer.compile(name, plan.name)


def _instance(plan: Plan, view: View, sync: bool) -> Any:
    writer = _Writer(sync)
    body, result = _lower(plan, view, writer)
    plan.depth = body.depth
    write = writer.line
    p = writer.const(plan.provider, "prov")
    name = "get" if sync else "aget"
    prefix = "def" if sync else "async def"
    write(f"{prefix} {name}(scope, owner, deep=True):", 0)
    _write_prepare(writer, plan, body, 1)
    if body.may_hold:
        write("held = None", 1)
    write("try:", 1)
    _write_body(writer, body, 2)
    _failure(writer, body, repr(plan.name), 1, [])
    if body.may_hold:
        write("if held:", 1)
        write("if owner.closed:", 2)
        write(f"_e = _ScopeClosedError(owner.label, {p}.name)", 3)
        lab = writer.const(repr(plan.name), "label")
        write(f"_unwind_sync(held, _e, {lab})" if sync else f"await _orphan(held, {lab})", 3)
        write("raise _e", 3)
        write("owner.held += held", 2)
    write(f"return {result}", 1)
    return writer.compile(name, plan.name)


def _value(plan: Plan, view: View, sync: bool) -> Any:
    writer = _Writer(sync)
    name = "get" if sync else "aget"
    prefix = "def" if sync else "async def"
    writer.line(f"{prefix} {name}(scope, owner, deep=True):", 0)
    writer.line(f"return {writer.const(plan.provider.value, 'c')}", 1)
    return writer.compile(name, plan.name)


def generate(plan: Plan, view: View) -> None:
    """Write and compile ``plan.aget`` and ``plan.get``."""
    if plan.provider.kind is Kind.VALUE:
        plan.aget = _value(plan, view, False)
        plan.get = _value(plan, view, True)
        plan.source = plan.aget.__asyncdi_source__
        return
    shape = {Scope.SINGLETON: _singleton, Scope.REQUEST: _request, Scope.INSTANCE: _instance}[
        plan.scope
    ]
    plan.aget = shape(plan, view, False)
    plan.get = shape(plan, view, True)
    plan.codes.update((plan.aget.__code__, plan.get.__code__))
    plan.source = plan.aget.__asyncdi_source__ + "\n" + plan.get.__asyncdi_source__


def generate_read(plan: Plan, view: View) -> Any:
    """The first read of a service attribute an INSTANCE plan fills: ``read(instance, attr)``.

    The caller (``Dependency.__get__``) has put ``slot`` in the instance already, with
    ``setattr``, which keeps CPython's compact instance values (touching ``__dict__``
    would build a dict per instance), so a second read before this one is awaited
    finds the slot. The value is made for the instance, owned by it.
    """
    writer = _Writer(False)
    body, result = _lower(plan, view, writer)
    write = writer.line
    registry = view.registry
    write("async def read(instance, slot, attribute, dependency):", 0)
    if body.needs_scope:
        write(f"scope = {writer.const(registry._scope_var, 'var')}.get()", 1)
    else:
        write("scope = None", 1)
    if body.depth > DEEP:
        write(f"await {writer.const(plan.prepare, 'prep')}(scope)", 1)
    if body.may_hold:
        write("held = None", 1)
    write("try:", 1)
    _write_body(writer, body, 2)
    if body.may_hold:
        var = writer.const(registry._scope_var, "var")
        root = writer.const(registry._root, "root")
        write(f"if held: _adopt(instance, held, scope or {var}.get(), {root})", 2)
    write("flight = slot.value", 2)
    write("if flight is _DISOWNED:  # the instance was disposed meanwhile", 2)
    write("raise _ServiceDisposedError(type(instance).__name__, attribute)", 3)
    write("except BaseException as _e:", 1)
    write("slot.abandon(instance, attribute, _e)", 2)
    if body.may_hold:
        write("if held: await _unwind(held, _e, dependency.label)", 2)
    write("_annotate(_e, _e.__traceback__, _PATHS, _MAKERS)", 2)
    write("_prefix(_e, (dependency.label,))", 2)
    write("raise", 2)
    write(f"slot.value = {result}", 1)
    write("if flight is not _MISS: flight.finish(None)", 1)
    write(f"return {result}", 1)
    from asyncdi._flight import Slot
    from asyncdi._paths import prefix_path

    writer.namespace["_Slot"] = Slot
    writer.namespace["_prefix"] = prefix_path
    return writer.compile("read", f"{plan.name} (read)")
