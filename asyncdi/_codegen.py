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

from typing import TYPE_CHECKING, Any

from asyncdi._plan_text import _Writer
from asyncdi._plan_writer import (
    DEEP,
    _failure,
    _lower,
    _write_body,
    _write_fetch,
    _write_prepare,
)
from asyncdi._provider import Kind
from asyncdi._release import Mechanism
from asyncdi._scope import Scope

if TYPE_CHECKING:
    from asyncdi._plans import Plan, View

__all__ = ["DEEP", "generate", "generate_read"]


def _begin(plan: Plan, view: View, sync: bool) -> tuple[_Writer, Any, str]:
    """A shape's start: its writer, and the plan lowered into steps (its depth recorded)."""
    writer = _Writer(sync)
    body, result = _lower(plan, view, writer)
    plan.depth = body.depth
    return writer, body, result


def _singleton(plan: Plan, view: View, sync: bool) -> Any:
    writer, body, result = _begin(plan, view, sync)
    write = writer.line
    cell = writer.const(plan.cell, "cell")
    codes = writer.const(plan.codes, "codes")
    lock = writer.const(view.registry._lock, "lock")
    root = writer.const(view.registry._root, "root")
    p = writer.const(plan.provider, "prov")
    closed = f"_RegistryClosedError({writer.const(view.registry.label, 'label')}, {p}.name)"
    name = writer.header()
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
        write(writer.orphan(lab), indent + 2)
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
    writer, body, result = _begin(plan, view, sync)
    root_step = body.steps[-1][1]
    # A request value whose own dependencies hold nothing (the usual one) hands its
    # record to the scope directly: no list per request (bench/bench.py, request scope).
    static = (Mechanism.GENERATOR, Mechanism.ASYNC_GENERATOR, Mechanism.HOOKS, Mechanism.CLOSE)
    if (
        root_step[0].mechanism in static
        and type(root_step[3]) is list  # made, not borrowed from a pool
        and not any(
            kind == "make" and step is not root_step and step[0].mechanism != Mechanism.NONE
            for kind, step in body.steps
        )
    ):
        writer.root_record = root_step
        body.may_hold = False  # nothing but the root's own record, kept in `_r`
    write = writer.line
    key = writer.const(plan.key, "key")
    codes = writer.const(plan.codes, "codes")
    p = writer.const(plan.provider, "prov")
    name = writer.header()
    # (a try costs nothing until it catches: cheaper than testing for None first)
    write("try: values = scope.values", 1)
    write(f"except AttributeError: raise _no_scope({p}) from None", 1)
    write(f"v = values.get({key}, _ABSENT)", 1)
    write("if v is not _ABSENT or scope.parent is not None:", 1)
    write("if type(v) is not _Flight: return v  # made already", 2)
    find = f"_find_request_sync(scope, {key}, {codes})"  # in flight, or an outer scope's
    write(f"v = {find if sync else 'await ' + find.replace('_sync', '')}", 2)
    write("if type(v) is not _Flight: return v", 2)
    write(f"if scope.closed: raise _ScopeClosedError(scope.label, {p}.name)", 1)
    write(f"values[{key}] = _MAKING", 1)
    _write_prepare(writer, plan, body, 1)
    if body.may_hold:
        write("held = None", 1)
    write("try:", 1)
    _write_body(writer, body, 2)
    _failure(
        writer, body, repr(plan.name), 1,
        [f"mark = _take_mark(scope, {key})", "if type(mark) is _Flight: mark.finish(_e)"],
    )  # fmt: skip
    write("if scope.closed:", 1)
    write(f"mark = _take_mark(scope, {key})", 2)
    write(f"_e = _ScopeClosedError(scope.label, {p}.name)", 2)
    if writer.root_record_used:
        write("held = (held or []) + [_r]" if body.may_hold else "held = [_r]", 2)
    if body.may_hold or writer.root_record_used:
        lab = writer.const(repr(plan.name), "label")
        write(f"if held: {writer.orphan(lab)}", 2)
    write("if type(mark) is _Flight: mark.finish(_e)", 2)
    write("raise _e", 2)
    if body.may_hold:
        write("if held: scope.held += held", 1)
    if writer.root_record_used:
        write("scope.held.append(_r)", 1)
    write(f"mark = values[{key}]", 1)
    write(f"values[{key}] = {result}", 1)
    write("if mark is not _MAKING:  # someone waits: the Flight is also in `waited`", 1)
    write(f"scope.waited.pop({key}, None)", 2)
    write("mark.finish(None)", 2)
    write(f"return {result}", 1)
    return writer.compile(name, plan.name)


def _instance(plan: Plan, view: View, sync: bool) -> Any:
    writer, body, result = _begin(plan, view, sync)
    write = writer.line
    p = writer.const(plan.provider, "prov")
    name = writer.header()
    _write_prepare(writer, plan, body, 1)
    if body.may_hold:
        write("held = None", 1)
    write("try:", 1)
    _write_body(writer, body, 2)
    _failure(writer, body, repr(plan.name), 1, [])
    if body.may_hold:
        write("if held:", 1)
        write(f"if owner is None: owner = {writer.const(view.registry._root, 'root')}", 2)
        write("if owner.closed:", 2)
        write(f"_e = _ScopeClosedError(owner.label, {p}.name)", 3)
        lab = writer.const(repr(plan.name), "label")
        write(writer.orphan(lab), 3)
        write("raise _e", 3)
        write("owner.held += held", 2)
    write(f"return {result}", 1)
    return writer.compile(name, plan.name)


def _value(plan: Plan, view: View, sync: bool) -> Any:
    writer = _Writer(sync)
    name = writer.header()
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


def _request_read(plan: Plan, view: View) -> Any:
    writer = _Writer(False)
    write = writer.line
    key = writer.const(plan.key, "key")
    write("async def read(instance, slot, attribute, dependency):", 0)
    write(f"scope = {writer.const(view.registry._scope_var, 'var')}.get()", 1)
    write("try:", 1)
    _write_fetch(writer, (plan, "v", ()), 2)
    write("flight = slot.value", 2)
    write("if flight is _DISOWNED:  # the instance was disposed meanwhile", 2)
    write("raise _ServiceDisposedError(type(instance).__name__, attribute)", 3)
    write("except BaseException as _e:", 1)
    write("slot.abandon(instance, attribute, _e)", 2)
    write("_prefix(_e, (dependency.label,))", 2)
    write("raise", 2)
    # kept by the scope that has it: this one, or, when nested, maybe one around it
    write(f"holder = scope if scope.parent is None else _holder_of(scope, {key}) or scope", 1)
    name = writer.const(plan.name, "name")
    # made without a call to __init__ (a Python-level call costs ~150 ns on 3.11), and
    # kept with setattr directly; _keep only if that is refused
    write("kept = _new(_ScopedValue); kept.scope = holder; kept.value = v", 1)
    write(f"kept.name = {name}", 1)
    write("try: setattr(instance, attribute, kept)", 1)
    write("except Exception: _keep(instance, attribute, kept)", 1)
    write("slot.value = v", 1)
    write("if flight is not _MISS: flight.finish(None)", 1)
    write("return v", 1)
    return writer.compile("read", f"{plan.name} (read)")


def generate_read(plan: Plan, view: View) -> Any:
    """The first read of a service attribute an INSTANCE or REQUEST plan fills:
    ``read(instance, slot, attribute, dependency)``.

    The caller (``Dependency.__get__``) has put ``slot`` in the instance already, with
    ``setattr``, which keeps CPython's compact instance values (touching ``__dict__``
    would build a dict per instance), so a second read before this one is awaited
    finds the slot. An INSTANCE value is made for the instance, owned by it, and kept
    in the slot; a REQUEST value is the scope's, and the instance keeps it in a
    ``ScopedValue``, which refuses once that scope has closed.
    """
    if plan.scope is Scope.REQUEST:
        return _request_read(plan, view)
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
    write("flight = slot.value", 2)
    write("if flight is _DISOWNED:  # the instance was disposed meanwhile", 2)
    write("raise _ServiceDisposedError(type(instance).__name__, attribute)", 3)
    if body.may_hold:
        var = writer.const(registry._scope_var, "var")
        root = writer.const(registry._root, "root")
        write(f"if held: _adopt(instance, held, scope or {var}.get(), {root})", 2)
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
    return writer.compile("read", f"{plan.name} (read)")
