"""What generated plan code calls while it runs, and the namespace it runs in.

Small helpers kept out of the generated text: raising the right error, releasing what
a failed creation made, waiting for a value another task is making, making missing
arguments together. ``_codegen`` writes calls to them by the names in
``_BASE_NAMESPACE``.
"""

from __future__ import annotations

import asyncio
import time
import types
from typing import TYPE_CHECKING, Any, Final

from asyncdi import _hooks as hooks
from asyncdi._dependency import _keep
from asyncdi._errors import (
    AsyncProviderError,
    NoActiveScopeError,
    NotAContextManagerError,
    ProviderProtocolError,
    RegistryClosedError,
    ScopeClosedError,
    ServiceDisposedError,
)
from asyncdi._flight import (
    ABSENT,
    DISOWNED,
    MAKING,
    MISS,
    Flight,
    creating_here,
    find_request,
    find_request_sync,
    holder_of,
    open_cycle,
    take_mark,
)
from asyncdi._instance_state import state_of
from asyncdi._paths import annotate, prefix_path
from asyncdi._provider import _TYPE_MECHANISMS, Provider, mechanism_of_type
from asyncdi._release import Held, Mechanism, finish_exit, release_records
from asyncdi._scope import Scope
from asyncdi._scoped_value import ScopedValue

if TYPE_CHECKING:
    from asyncdi._plans import Plan

__all__: list[str] = []  # used by _plan_writer, which takes its private names


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


def _adopt(instance: Any, held: list[Held], scope: Any, root: Any) -> None:
    """Hand an instance's new values to its state, which its scope (or lifespan) knows.

    (A disposed instance never gets here: its read found the slot's disposal mark.)
    """
    fallback = scope if scope is not None and not scope.closed else root
    state_of(instance).adopt(held, fallback, instance)


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
    "_find_request": find_request,
    "_find_request_sync": find_request_sync,
    "_take_mark": take_mark,
    "_ABSENT": ABSENT,
    "_open_cycle": open_cycle,
    "_annotate": annotate,
    "_start": hooks.start,
    "_start_sync": hooks.start_sync,
    "_TM": _TYPE_MECHANISMS,  # the per-type mechanism cache
    "_mt": mechanism_of_type,
    "_ScopeClosedError": ScopeClosedError,
    "_RegistryClosedError": RegistryClosedError,
    "_ServiceDisposedError": ServiceDisposedError,
    "_adopt": _adopt,
    # the first reads of service attributes (see _codegen.generate_read)
    "_prefix": prefix_path,
    "_holder_of": holder_of,
    "_ScopedValue": ScopedValue,
    "_keep": _keep,
    "_new": object.__new__,
}


def _made(plan: Plan, scope: Any) -> bool:
    if plan.scope is Scope.SINGLETON:
        return plan.cell is not None and plan.cell.ready
    return holder_of(scope, plan.key) is not None


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


_BASE_NAMESPACE.update(_together=_together, _enter_how=_enter_how, _enter_how_sync=_enter_how_sync)


def _namespace() -> dict[str, Any]:
    """A fresh namespace for one generated function: the helpers, then its constants."""
    return dict(_BASE_NAMESPACE)
