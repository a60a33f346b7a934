# pyright: strict
"""Static checks of ``@inject`` and ``Inject()``: read by mypy --strict (and pyright), never run.

Every statement touching asyncdi sits inside a function that nothing calls, so importing
this module registers nothing; ``tests/test_typing.py`` type-checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, assert_type

from asyncdi import Inject, Registry, inject


class Users:
    def find(self, uid: int) -> str:
        return str(uid)


def check_bare_inject_keeps_sync_type() -> None:
    @inject
    def show(uid: int, users: Users = Inject()) -> str:
        return users.find(uid)

    assert_type(show(1), str)
    assert_type(show(1, users=Users()), str)
    # The injected parameter keeps its default: callers may leave it out.
    just_uid: Callable[[int], str] = show
    del just_uid


async def check_configured_inject_keeps_async_type() -> None:
    r = Registry("typing")

    @inject(registry=r, scope=True)
    async def handle(job: int, *, users: Users = Inject("people")) -> list[str]:
        return [users.find(job)]

    pending: Coroutine[Any, Any, list[str]] = handle(1)
    assert_type(await pending, list[str])
    assert_type(await handle(1), list[str])
    assert_type(await handle(2, users=Users()), list[str])


async def check_inject_on_methods() -> None:
    r = Registry("typing")

    class Handler:
        @inject(registry=r)
        def sync(self, uid: int, users: Users = Inject()) -> str:
            return users.find(uid)

        @inject(registry=r)
        async def run(self, uid: int, users: Users = Inject()) -> int:
            return len(users.find(uid))

    handler = Handler()
    assert_type(handler.sync(1), str)
    assert_type(await handler.run(1), int)


def check_inject_default_is_any() -> None:
    marker = Inject()
    assert_type(marker, Any)
    users: Users = Inject("users")
    del users
