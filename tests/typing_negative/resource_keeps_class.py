"""`@resource` keeps the class: its constructor and attributes are still checked."""

from asyncdi import Registry, Scope, resource


def check() -> None:
    r = Registry("typing")

    @resource("pool", scope=Scope.SINGLETON, registry=r)
    class Pool:
        def __init__(self, size: int) -> None:
            self.size = size

    Pool("ten")  # expect-error: arg-type
    Pool(3).capacity  # expect-error: attr-defined
