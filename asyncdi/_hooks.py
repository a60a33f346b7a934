"""Calling ``initialize()`` and ``dispose()`` hooks, which may be sync or async."""

from __future__ import annotations

import inspect
from typing import Any

from asyncdi._errors import AsyncHookError

__all__ = ["is_service", "start", "start_sync", "stop", "stop_needs_await", "stop_sync"]


def is_service(value: Any) -> bool:
    """Whether ``value`` is an ``AsyncService`` (which runs its own full lifecycle)."""
    return getattr(type(value), "__asyncdi_lifecycle__", None) == "service"


def _refuse_awaitable(result: Any, what: str) -> None:
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise AsyncHookError(what)


async def start(value: Any) -> None:
    """Run the value's ``initialize()`` after creation."""
    if is_service(value):
        await value.__asyncdi_start__(owned=True)
        return
    result = value.initialize() if hasattr(value, "initialize") else None
    if inspect.isawaitable(result):
        await result


def start_sync(value: Any) -> None:
    """Run a sync ``initialize()``; refuse an async one."""
    if is_service(value):
        value.__asyncdi_start_sync__(owned=True)
        return
    if hasattr(value, "initialize"):
        _refuse_awaitable(value.initialize(), f"{type(value).__qualname__}.initialize()")


async def stop(value: Any, exc: BaseException | None) -> None:
    """Run the value's ``dispose()`` at release."""
    if is_service(value):
        await value.__asyncdi_stop__(exc)
        return
    result = value.dispose() if hasattr(value, "dispose") else None
    if inspect.isawaitable(result):
        await result


def stop_sync(value: Any, exc: BaseException | None) -> None:
    """Run a sync ``dispose()``; refuse an async one."""
    if is_service(value):
        value.__asyncdi_stop_sync__(exc)
        return
    if hasattr(value, "dispose"):
        _refuse_awaitable(value.dispose(), f"{type(value).__qualname__}.dispose()")


def stop_needs_await(value: Any) -> bool:
    """Whether releasing ``value`` through its hooks must be awaited."""
    if is_service(value):
        return bool(value.__asyncdi_stop_needs_await__())
    return inspect.iscoroutinefunction(getattr(value, "dispose", None))
