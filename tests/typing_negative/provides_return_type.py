"""`@registry.provides` keeps the return type: a generator's items are not its yield type."""

from collections.abc import Iterator

from asyncdi import Registry


def check() -> None:
    r = Registry("typing")

    @r.provides("numbers")
    def numbers() -> Iterator[int]:
        yield 1

    first: str = next(numbers())  # expect-error: assignment
    del first
