"""Reading a dependency gives an awaitable that may be a done Future, not a coroutine.

So coroutine-only uses (`asyncio.create_task`, `.send()`, `.close()`) are rejected;
`asyncio.ensure_future(svc.db)` or `await svc.db` work with every read.
"""

import asyncio

from asyncdi import AsyncService, Dependency, Registry


async def check() -> None:
    r = Registry("typing")

    class Service(AsyncService, registry=r):
        db = Dependency[str]("db")

    svc = Service()
    await svc.db
    await asyncio.ensure_future(svc.db)
    await asyncio.create_task(svc.db)  # expect-error: arg-type
