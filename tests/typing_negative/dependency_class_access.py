"""On the class, a dependency is the descriptor itself, which is not awaitable."""

from asyncdi import AsyncService, Dependency, Registry


async def check() -> None:
    r = Registry("typing")

    class Service(AsyncService, registry=r):
        db = Dependency[str]("db")

    await Service.db  # expect-error: misc
