"""A dependency typed with a Protocol offers that Protocol's members and no others."""

from typing import Protocol

from asyncdi import AsyncService, Dependency, Registry


class Closeable(Protocol):
    def close(self) -> None: ...


async def check() -> None:
    r = Registry("typing")

    class Service(AsyncService, registry=r):
        closer = Dependency[Closeable]("closer")

    (await Service().closer).open()  # expect-error: attr-defined
