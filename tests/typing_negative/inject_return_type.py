"""`@inject` keeps the function's own types: its return type and its parameters' types."""

from asyncdi import Inject, Registry, inject


class Users:
    pass


def check() -> None:
    r = Registry("typing")

    @inject(registry=r)
    def show(uid: int, users: Users = Inject()) -> str:
        return str(uid)

    @inject
    async def handle(uid: int, users: Users = Inject()) -> str:
        return str(uid)

    count: int = show(1)  # expect-error: assignment
    show("1")  # expect-error: arg-type
    awaited: str = handle(1)  # expect-error: assignment
    del count, awaited
