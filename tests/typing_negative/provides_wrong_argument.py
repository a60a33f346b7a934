"""`@provides` keeps the function's signature: wrong argument types are caught."""

from collections.abc import AsyncIterator

from asyncdi import Registry, Scope, provides


async def check() -> None:
    r = Registry("typing")

    @provides("port", registry=r)
    def make_port(base: int) -> int:
        return base + 1

    @provides("db", scope=Scope.SINGLETON, registry=r)
    async def make_db(url: str) -> str:
        return url

    make_port("8000")  # expect-error: arg-type
    await make_db(url=5432)  # expect-error: arg-type

    @r.provides
    async def session(db: str) -> AsyncIterator[str]:
        yield db

    session(db="x", timeout=3)  # expect-error: call-arg
