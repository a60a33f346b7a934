"""`registry.resolve` is async: using its result without `await` is caught."""

from asyncdi import Registry


async def check() -> None:
    r = Registry("typing")
    port: int = r.resolve("port")  # expect-error: assignment
    del port
