"""A graph written with ``from __future__ import annotations``: every annotation a string.

Used by tests/test_typecheck.py. Three mismatches are planted (``Checkout.url``, the
``url`` parameter of ``repo``, the ``cache`` parameter of ``report``); ``Decimal`` is
imported only for type checkers, so annotations naming it cannot be resolved and are
never reported.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asyncdi import AsyncService, Dependency, Registry

if TYPE_CHECKING:
    from decimal import Decimal

reg = Registry("future")


class Database:
    """A stand-in connection."""


class Cache:
    """A stand-in cache."""


@reg.provides("db")
async def make_db() -> AsyncIterator[Database]:
    """An async generator provider: makes its yield type."""
    yield Database()


@reg.provides("cache")
def make_cache() -> Iterator[Cache]:
    """A generator provider."""
    yield Cache()


@reg.provides("url")
def make_url() -> str:
    """A plain function provider."""
    return "sqlite://"


@reg.provides("price")
def make_price() -> Decimal:
    """Its return annotation names a class that does not exist at runtime."""
    raise NotImplementedError


@reg.provides("repo")
@dataclass
class Repo:
    """A class provider whose ``url`` parameter is annotated wrongly."""

    db: Database
    url: Cache


@reg.provides("report")
def make_report(db: Database, cache: Database, price: Decimal) -> str:
    """``cache`` is annotated wrongly; ``price`` cannot be resolved."""
    return f"{db} {cache} {price}"


class Checkout(AsyncService, registry=reg):
    """Dependencies declared in every spelling, under string annotations."""

    db: Dependency[Database] = Dependency()
    cache = Dependency[Cache]()
    url: Dependency[int] = Dependency()
    price: Dependency[Decimal] = Dependency()
    repo = Dependency["Repo"]()
