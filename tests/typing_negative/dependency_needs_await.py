"""Reading a dependency gives an awaitable, not the value: forgetting `await` is caught."""

from asyncdi import AsyncService, Dependency, Registry


async def check() -> None:
    r = Registry("typing")

    class Service(AsyncService, registry=r):
        db = Dependency[str]("db")

    name: str = Service().db  # expect-error: assignment
    del name
