"""Writing a plan's code: its lowering into steps, and the lines of each step.

:func:`_lower` walks what a plan makes (its INSTANCE subtree inline, iteratively)
into fetches of cacheable values and makes; the ``_write_*`` functions turn each step
into lines for async or sync code alike (``_plan_text._Writer`` drops the ``await``).
The shapes around them (singleton, request, instance, read) are in ``_codegen``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from asyncdi._plan_text import _Writer
from asyncdi._provider import DYNAMIC, ENTERED, Kind, Provider
from asyncdi._release import Mechanism
from asyncdi._scope import Scope

if TYPE_CHECKING:
    from asyncdi._plans import Plan, View
    from asyncdi._pool import PoolState

__all__ = ["DEEP"]

DEEP: Final = 32  # a plan this many cacheable levels deep makes its dependencies first


_SKIP: Final = object()


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
        found = f"scope.values.get({key}, _ABSENT) if scope is not None else _ABSENT"
        writer.line(f"{var} = {found}", indent)
        writer.line(f"if type({var}) is _Flight:", indent)
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
    """The lines that make one value: the call, its record if it must be released, and
    the provider's counters."""
    provider, var, path, args = step
    if type(args) is _Borrow:
        _write_borrow(writer, provider, var, args, indent, path)
        return
    p = writer.const(provider, "prov")
    timed = step is writer.timed_step  # creation times are sampled for a plan's own value
    if timed:
        writer.line("if _s: _t = _now()", indent)
    made = _write_call(writer, provider, var, args, indent, path)
    if made is None:
        return  # the sync twin refuses an async provider
    handle, mechanism = made
    if mechanism == ENTERED:
        _write_enter(writer, provider, var, handle, indent, path)
    elif mechanism == DYNAMIC:
        plain = provider.plain_type
        if plain is not None:  # the annotated class: known to need nothing
            writer.line(f"if type({var}) is not {writer.const(plain, 't')}:", indent)
            _write_dynamic_hold(writer, provider, var, indent + 1, path)
        else:
            _write_dynamic_hold(writer, provider, var, indent, path)
    elif mechanism != Mechanism.NONE:
        if mechanism == Mechanism.HOOKS:
            start = f"_start_sync({var})" if writer.sync else f"await _start({var})"
            writer.line(start, indent, path, provider)
        if writer.root_record is not None and step is writer.root_record:
            # the plan's own value, made last: its record goes straight to the owner
            writer.line(f"_r = ({mechanism}, {var}, {handle}, {p})", indent)
            writer.root_record_used = True
        else:
            writer.line("if held is None: held = []", indent)
            writer.line(f"held.append(({mechanism}, {var}, {handle}, {p}))", indent)
    writer.line(f"{p}.created += 1", indent)
    if timed:
        writer.line(f"if _s: {p}.timed += 1; {p}.creation_ns += _now() - _t", indent)


def _write_call(
    writer: _Writer,
    provider: Provider,
    var: str,
    args: list[tuple[Any, str]],
    indent: int,
    path: tuple[str, ...],
) -> tuple[str, int] | None:
    """Call the provider into ``var``; ``(handle, mechanism)`` for the lines that hold it.

    The handle is what releasing needs besides the value (a generator, an entered
    context manager); the mechanism may be narrower than the provider's, when the lines
    written here already decided it. None if the sync twin must refuse instead.
    """
    p = writer.const(provider, "prov")
    call = _call(writer, provider, args)
    kind = provider.kind
    sync = writer.sync

    def write(text: str, indent: int, path: tuple[str, ...] | None = None) -> None:
        writer.line(text, indent, path, provider if path is not None else None)

    handle = "None"
    made = var
    if provider.enter:  # the call makes a context manager; the value is what entering gives
        made = handle = writer.temp("cm")
    mechanism = provider.mechanism
    plain = provider.plain_type if mechanism == DYNAMIC else None
    await_coroutine = f"_refuse_coroutine({made}, {p})" if sync else f"{made} = await {made}"
    if kind is Kind.CLASS:
        write(f"{made} = {call}", indent, path)
    elif kind is Kind.SYNC and plain is not None:
        # The annotated class, the usual result, needs neither an await nor a release:
        # one identity check stands for both lookups (bench/scale.py, chains).
        write(f"{made} = {call}", indent, path)
        write(f"if type({made}) is not {writer.const(plain, 't')}:", indent)
        write(f"if type({made}) is _coro: {await_coroutine}", indent + 1, path)
        _write_dynamic_hold(writer, provider, var, indent + 1, path)
        mechanism = Mechanism.NONE
    elif kind is Kind.SYNC:
        write(f"{made} = {call}", indent, path)
        write(f"if type({made}) is _coro: {await_coroutine}", indent, path)
    elif kind is Kind.GENERATOR:
        handle = writer.temp("g")
        write(f"{handle} = {call}", indent, path)
        write(f"{var} = _first_yield({handle}, {p})", indent, path)
    elif sync:  # ASYNC or ASYNC_GENERATOR, asked for without await
        write(f"raise _needs_await({p})", indent, path)
        return None
    elif kind is Kind.ASYNC:
        write(f"{made} = await {call}", indent, path)
    else:
        handle = writer.temp("g")
        write(f"{handle} = {call}", indent, path)
        write("try:", indent)
        write(f"{var} = await {handle}.__anext__()", indent + 1, path)
        write("except StopAsyncIteration:", indent)
        write(f"raise _no_yield({p}) from None", indent + 1, path)
    return handle, mechanism


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


def _write_together(writer: _Writer, steps: list[tuple[str, Any]], first: int, indent: int) -> None:
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
            made = f"type(scope.values.get({key}, _ABSENT)) is not _Flight"
            checks.append(f"(scope is not None and {made})")
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
