"""`await svc.db` is the declared type, so it cannot be stored as another one."""

from asyncdi import AsyncService, Dependency, Registry


async def check() -> None:
    r = Registry("typing")

    class Service(AsyncService, registry=r):
        db = Dependency[str]("db")

    count: int = await Service().db  # expect-error: assignment
    del count
