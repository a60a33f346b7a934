"""The graph's type check: what each provider makes against what its dependants declare.

Annotations here are evaluated objects (no ``from __future__ import annotations``);
string annotations are tested on purpose, and tests/typecheck_future_module.py is a
module whose annotations are all strings.
"""

import abc
import contextlib
import dataclasses
import functools
import sys
import types
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import (
    Annotated,
    Any,
    ForwardRef,
    Generic,
    Literal,
    NewType,
    Optional,
    Protocol,
    Self,
    TypedDict,
    TypeVar,
    cast,
    runtime_checkable,
)
from unittest import mock

import pytest

from asyncdi import AsyncDIError, AsyncService, Dependency, Inject, Registry, ValidationError
from asyncdi._provider import Provider
from asyncdi._typecheck import TypeMismatchError, find_type_mismatches, made_type
from tests import typecheck_future_module as future

T = TypeVar("T")


class Database:
    """What most dependants here ask for."""


class Postgres(Database):
    """A subclass: fits wherever a Database is asked for."""


class Cache:
    """Unrelated to Database."""


class Box(Generic[T]):
    """A user generic class."""


class IntBox(Box[int]):
    """A subclass that fixes Box's argument."""


class Wrapper(Box[T]):
    """A generic subclass that passes its argument on to Box."""


class Store(abc.ABC):
    """An ABC with an explicit and a virtual subclass."""

    @abc.abstractmethod
    def get(self) -> str:
        """Read the stored text."""


class MemoryStore(Store):
    """Subclasses the ABC."""

    def get(self) -> str:
        """Read the stored text."""
        return ""


class VirtualStore:
    """Registered with Store.register, inherits nothing."""

    def get(self) -> str:
        """Read the stored text."""
        return ""


Store.register(VirtualStore)


@runtime_checkable
class Closeable(Protocol):
    """A runtime_checkable protocol with one method."""

    def close(self) -> None:
        """Release it."""


@runtime_checkable
class HasUrl(Protocol):
    """A runtime_checkable protocol with one data member."""

    url: str


class Greeter(Protocol):
    """A protocol that is not runtime_checkable: only a declared base counts."""

    def greet(self) -> str:
        """Say hello."""


class FileLike:
    """Has close(): a Closeable structurally."""

    def close(self) -> None:
        """Release it."""


class Endpoint:
    """Sets url per instance: a HasUrl structurally."""

    def __init__(self) -> None:
        self.url = "http://127.0.0.1"


class DeclaredGreeter(Greeter):
    """Names Greeter as its base."""

    def greet(self) -> str:
        """Say hello."""
        return "hello"


class DuckGreeter:
    """Greets, but does not name Greeter as its base."""

    def greet(self) -> str:
        """Say hello."""
        return "hello"


UserId = NewType("UserId", int)


class Settings(TypedDict):
    """A TypedDict: issubclass() refuses it, so nothing can be told."""

    url: str


def mismatches(reg: Registry) -> list[TypeMismatchError]:
    """What the check finds in ``reg``, as validate() will call it."""
    return find_type_mismatches({name: reg.provider(name) for name in reg.names}, reg.services)


def declared_and_made(reg: Registry) -> list[tuple[str, object, object]]:
    """Each mismatch as (dependant, declared, made)."""
    return [(e.dependant, e.declared, e.made) for e in mismatches(reg)]


def wire(reg: Registry, made: Callable[..., Any], declared: object) -> list[TypeMismatchError]:
    """Register ``made`` as 'dep' and a service asking Dependency[declared]; check."""
    reg.register("dep", made)

    class Svc(AsyncService, registry=reg):
        dep = Dependency[declared]()  # type: ignore[valid-type]

    return mismatches(reg)


def value_of(made: object) -> Callable[[], Any]:
    """A provider function annotated to return ``made``."""

    def provider() -> Any:
        raise NotImplementedError

    provider.__annotations__["return"] = made
    return provider


# -- what a provider makes -----------------------------------------------------------------


def make_db() -> str:
    """Annotated to make the wrong thing; module level so its description is stable."""
    return "not a database"


def test_made_type_of_functions(reg: Registry) -> None:
    """A sync function makes its return annotation; an async one what awaiting gives."""

    def sync() -> Database:
        return Database()

    async def coroutine() -> Cache:
        return Cache()

    def nothing() -> None:
        return None

    reg.register("sync", sync)
    reg.register("coroutine", coroutine)
    reg.register("nothing", nothing)
    assert made_type(reg.provider("sync")) is Database
    assert made_type(reg.provider("coroutine")) is Cache
    assert made_type(reg.provider("nothing")) is type(None)


@pytest.mark.parametrize(
    "annotation",
    [Iterator[Database], Iterable[Database], Generator[Database, None, None]],
)
def test_made_type_of_generators(reg: Registry, annotation: object) -> None:
    """A generator function makes its yield type, in every spelling."""

    def gen() -> Iterator[Any]:
        yield Database()

    gen.__annotations__["return"] = annotation
    reg.register("gen", gen)
    assert made_type(reg.provider("gen")) is Database


@pytest.mark.parametrize(
    "annotation",
    [AsyncIterator[Database], AsyncIterable[Database], AsyncGenerator[Database, None]],
)
def test_made_type_of_async_generators(reg: Registry, annotation: object) -> None:
    """An async generator function makes its yield type, in every spelling."""

    async def agen() -> AsyncIterator[Any]:
        yield Database()

    agen.__annotations__["return"] = annotation
    reg.register("agen", agen)
    assert made_type(reg.provider("agen")) is Database


def test_made_type_of_classes_and_generic_aliases(reg: Registry) -> None:
    """A class makes itself; a parameterised generic alias makes that alias."""
    reg.register("db", Postgres)
    reg.register("box", Box[int])
    assert made_type(reg.provider("db")) is Postgres
    assert made_type(reg.provider("box")) == Box[int]


def test_made_type_of_values(reg: Registry) -> None:
    """A value makes its class; Mock(spec=X) makes X; a bare Mock is unknown."""
    reg.register("db", value=Postgres())
    reg.register("spec", value=mock.Mock(spec=Database))
    reg.register("bare", value=mock.Mock())
    reg.register("none", value=None)
    assert made_type(reg.provider("db")) is Postgres
    assert made_type(reg.provider("spec")) is Database
    assert made_type(reg.provider("bare")) is None
    assert made_type(reg.provider("none")) is type(None)


def test_made_type_unknown_without_annotation(reg: Registry) -> None:
    """Unannotated providers and bare generator annotations make an unknown type."""

    def plain():  # type: ignore[no-untyped-def]
        return 1

    def bare() -> Iterator:  # type: ignore[type-arg]
        yield 1

    reg.register("plain", plain)
    reg.register("bare", bare)
    reg.register("lambda", lambda: 1)
    assert made_type(reg.provider("plain")) is None
    assert made_type(reg.provider("bare")) is None
    assert made_type(reg.provider("lambda")) is None


def test_made_type_resolves_string_annotations(reg: Registry) -> None:
    """A quoted return annotation is resolved in the function's module."""

    def quoted() -> "Database":
        return Database()

    def quoted_yield() -> "Iterator[Cache]":
        yield Cache()

    reg.register("quoted", quoted)
    reg.register("quoted_yield", quoted_yield)
    assert made_type(reg.provider("quoted")) is Database
    assert made_type(reg.provider("quoted_yield")) is Cache


def test_made_type_of_unresolvable_annotation_is_unknown(reg: Registry) -> None:
    """A forward reference to a name that does not exist is unknown, never an error."""

    def ghost() -> "Ghost":  # type: ignore[name-defined]  # noqa: F821
        raise NotImplementedError

    def half(db: "Ghost", cache: Cache) -> Database:  # type: ignore[name-defined]  # noqa: F821
        raise NotImplementedError

    reg.register("ghost", ghost)
    reg.register("half", half)
    assert made_type(reg.provider("ghost")) is None
    assert made_type(reg.provider("half")) is Database  # the other annotations still count


def test_made_type_in_a_future_annotations_module() -> None:
    """Under `from __future__ import annotations` every kind of provider is resolved."""
    assert made_type(future.reg.provider("db")) is future.Database
    assert made_type(future.reg.provider("cache")) is future.Cache
    assert made_type(future.reg.provider("url")) is str
    assert made_type(future.reg.provider("repo")) is future.Repo
    assert made_type(future.reg.provider("price")) is None  # Decimal: TYPE_CHECKING only


def test_made_type_of_partials_and_callable_objects(reg: Registry) -> None:
    """A partial makes what its function makes; a callable object what __call__ returns."""

    def connect(url: str) -> Database:
        return Database()

    class Factory:
        def __call__(self) -> Cache:
            return Cache()

    reg.register("db", functools.partial(connect, "sqlite://"))
    reg.register("cache", Factory())
    reg.register("store", functools.partial(MemoryStore))
    assert made_type(reg.provider("db")) is Database
    assert made_type(reg.provider("cache")) is Cache
    assert made_type(reg.provider("store")) is MemoryStore


class Pool:
    """Made by an alternative constructor typed `-> Self`."""

    @classmethod
    def open(cls) -> Self:
        return cls()

    def reopen(self) -> Self:
        return self


def test_made_type_of_a_classmethod_returning_self(reg: Registry) -> None:
    """`-> Self` on a classmethod is its class; on a plain function it is unknown."""
    reg.register("pool", Pool.open)
    reg.register("again", Pool().reopen)
    assert made_type(reg.provider("pool")) is Pool
    assert made_type(reg.provider("again")) is None


class Session:
    """A context manager whose __aenter__ returns itself."""

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def __enter__(self) -> Database:  # never used: the async protocol wins
        return Database()

    def __exit__(self, *exc: object) -> None:
        return None


class Opener:
    """A context manager whose __enter__ gives something else."""

    def __enter__(self) -> Cache:
        return Cache()

    def __exit__(self, *exc: object) -> None:
        return None


PooledT = TypeVar("PooledT", bound="Pooled")


class Pooled:
    """A context manager typed the pre-Self way: `self: T -> T`."""

    async def __aenter__(self: PooledT) -> PooledT:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class Awaiting:
    """A context manager whose __aenter__ is a plain function returning an awaitable."""

    def __aenter__(self) -> Awaitable[Cache]:
        raise NotImplementedError

    async def __aexit__(self, *exc: object) -> None:
        return None


class Unannotated:
    """A context manager whose __aenter__ says nothing."""

    async def __aenter__(self):  # type: ignore[no-untyped-def]
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def entering(factory: Callable[..., Any]) -> Provider:
    """A provider record as ``register(..., enter=True)`` will make one."""
    reg = Registry("enter")
    record = reg.register("it", factory)
    fake = types.SimpleNamespace(
        name=record.name,
        kind=record.kind,
        factory=record.factory,
        value=record.value,
        params=record.params,
        describe=record.describe,
        enter=True,
    )
    return cast(Provider, fake)


def test_made_type_of_entered_context_managers() -> None:
    """With enter=True a provider makes what entering its result gives."""

    @contextlib.asynccontextmanager
    async def transaction() -> AsyncIterator[Cache]:
        yield Cache()

    async def open_session() -> Session:
        return Session()

    assert made_type(entering(Session)) is Session
    assert made_type(entering(open_session)) is Session
    assert made_type(entering(Opener)) is Cache
    assert made_type(entering(transaction)) is Cache
    assert made_type(entering(Pooled)) is Pooled
    assert made_type(entering(Awaiting)) is Cache
    assert made_type(entering(Unannotated)) is None
    assert made_type(entering(Database)) is None  # no context manager: unknown


# -- the error -----------------------------------------------------------------------------


def test_mismatch_names_both_sides(reg: Registry) -> None:
    """The message names Class.attr, both types and the provider with where it is defined."""
    reg.register("db", make_db)

    class Checkout(AsyncService, registry=reg):
        db = Dependency[Database]()

    [error] = mismatches(reg)
    assert str(error).startswith(
        "Checkout.db is Dependency[Database] but provider 'db' "
        "(tests.test_typecheck.make_db) makes str. "
    )
    assert "validate(types=False)" in str(error)
    assert isinstance(error, TypeError)
    assert isinstance(error, AsyncDIError)
    assert error.dependant == "Checkout.db"
    assert error.declared is Database
    assert error.provider == "db"
    assert error.description == "sync function tests.test_typecheck.make_db"
    assert error.made is str
    assert error.attribute is True


def test_parameter_mismatch_names_the_parameter_and_its_provider(reg: Registry) -> None:
    """A provider parameter is named with the provider that declares it."""

    def make_repo(db: Database) -> Cache:
        return Cache()

    reg.register("db", make_db)
    reg.register("repo", make_repo)
    [error] = mismatches(reg)
    where = "tests.test_typecheck.test_parameter_mismatch_names_the_parameter_and_its_provider"
    assert error.dependant == f"parameter 'db' of provider 'repo' ({where}.<locals>.make_repo)"
    assert str(error).startswith(
        f"{error.dependant} is annotated Database but provider 'db' "
        "(tests.test_typecheck.make_db) makes str. "
    )
    assert error.attribute is False


def test_renamed_parameter_is_checked_against_the_name_it_asks_for(reg: Registry) -> None:
    """Inject("name") and Dependency("name") defaults point the check at that provider."""

    renamed: Any = Dependency("db")

    def make_repo(conn: Database = Inject("db"), other: Cache = renamed) -> Cache:
        return Cache()

    reg.register("db", make_db)
    reg.register("repo", make_repo)
    assert sorted((e.dependant.split(" of ")[0], e.provider) for e in mismatches(reg)) == [
        ("parameter 'conn'", "db"),
        ("parameter 'other'", "db"),
    ]


def test_class_provider_parameters_are_checked(reg: Registry) -> None:
    """A class provider's __init__ annotations (also a dataclass's) are checked."""

    class Repo:
        def __init__(self, db: Database, cache: Cache) -> None:
            self.db = db

    @dataclasses.dataclass
    class Report:
        db: Cache

    reg.register("db", Postgres)
    reg.register("cache", Cache)
    reg.register("repo", Repo)
    reg.register("report", Report)
    assert [(e.dependant.split(" (")[0], e.made) for e in mismatches(reg)] == [
        ("parameter 'db' of provider 'report'", Postgres),
    ]


def test_message_spells_types_as_written() -> None:
    """Callables, forward references, Annotated and Any read as in source code."""
    error = TypeMismatchError(
        "Svc.handler",
        Callable[..., Annotated[Database, "meta"]],
        "handler",
        "value <function handler>",
        Callable[[int, Any], ForwardRef("Cache")],
    )
    assert str(error).startswith(
        "Svc.handler is Dependency[Callable[..., Database]] but provider 'handler' "
        "(value <function handler>) makes Callable[[int, Any], Cache]. "
    )


def test_unknown_provider_kinds_make_an_unknown_type(reg: Registry) -> None:
    """A kind this check does not know (added later) is unknown, not a guess."""
    record = reg.register("db", make_db)
    fake = types.SimpleNamespace(kind=types.SimpleNamespace(value="pooled"), factory=make_db)
    assert made_type(cast(Provider, fake)) is None
    assert made_type(record) is str


# -- the relation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("made", "declared"),
    [
        (Postgres, Database),
        (bool, int),
        (int, float),
        (int, complex),
        (Database, object),
        (MemoryStore, Store),
        (VirtualStore, Store),
        (FileLike, Closeable),
        (Endpoint, HasUrl),
        (DeclaredGreeter, Greeter),
        (type(None), Optional[Database]),  # noqa: UP045 - both spellings are tested
        (Postgres, Database | None),
        (Cache, Database | Cache),
        (Postgres | Database, Database),
        (list[int], list[int]),
        (list, list[int]),
        (list[bool], list[int]),
        (list[int], Sequence[int]),
        (dict[str, int], Mapping[str, int]),
        (dict[str, int], Iterable[str]),
        (Box[int], Box[int]),
        (IntBox, Box[int]),
        (Wrapper[int], Box[int]),
        (Wrapper, Box[int]),
        (tuple[int, int], tuple[int, ...]),
        (tuple[int, ...], tuple[int, int]),
        (tuple[bool, str], tuple[int, str]),
        (Callable[[str], Postgres], Callable[..., Database]),
        (type[Postgres], type[Database]),
        (Annotated[Postgres, "meta"], Database),
        (UserId, int),
        (int, UserId),
    ],
)
def test_fitting_types_are_not_reported(reg: Registry, made: object, declared: object) -> None:
    """Subclasses, ABCs, protocols, unions and generics that fit are accepted."""
    assert wire(reg, value_of(made), declared) == []


@pytest.mark.parametrize(
    ("made", "declared"),
    [
        (str, Database),
        (Database, Postgres),
        (type(None), Database),
        (float, int),
        (object, Database),
        (Cache, Store),
        (Cache, Closeable),
        (Cache, HasUrl),
        (DuckGreeter, Greeter),
        (str, Database | Cache),
        (str, Optional[Database]),  # noqa: UP045 - both spellings are tested
        (Database | None, Database),
        (Database | str, Database | Cache),
        (list[int], list[str]),
        (list[int], Sequence[str]),
        (dict[str, int], Mapping[str, str]),
        (dict[int, str], Iterable[str]),
        (set[int], list[int]),
        (Box[str], Box[int]),
        (IntBox, Box[str]),
        (Wrapper[str], Box[int]),
        (tuple[int, str], tuple[int, ...]),
        (tuple[int, int], tuple[int, int, int]),
        (Callable[[], Cache], Callable[[], Database]),
        (type[Cache], type[Database]),
        (Annotated[Cache, "meta"], Database),
        (list[list[int]], list[list[str]]),
        (Optional[Any], Database),  # noqa: UP045 - None may come, whatever else does
    ],
)
def test_mismatching_types_are_reported(reg: Registry, made: object, declared: object) -> None:
    """Every provable mismatch is reported, once, with both types."""
    [error] = wire(reg, value_of(made), declared)
    assert (error.made, error.declared) == (made, declared)


@pytest.mark.parametrize(
    ("made", "declared"),
    [
        (Any, Database),
        (str, Any),
        (T, Database),
        (str, T),
        (list[Any], list[int]),
        (list[int], list[T]),  # type: ignore[valid-type]
        (Box[T], Box[int]),  # type: ignore[valid-type]
        (Wrapper[T], Box[int]),  # type: ignore[valid-type]
        (Database, Annotated[Any, "meta"]),
        (dict, Settings),
        (str, Literal["sqlite://"]),
    ],
)
def test_any_and_type_variables_are_never_reported(
    reg: Registry, made: object, declared: object
) -> None:
    """Any and type variables on either side, however nested, fit anything."""
    assert wire(reg, value_of(made), declared) == []


@pytest.mark.skipif(sys.version_info < (3, 12), reason="`type` statements are Python 3.12+")
def test_type_alias_statements_are_understood() -> None:
    """`type X = ...` aliases are compared by what they stand for, recursive ones too."""
    namespace: dict[str, Any] = {}
    exec("type Json = dict[str, Json] | list[Json] | str\ntype Name = str", namespace)
    json, name = namespace["Json"], namespace["Name"]
    assert [e.made for e in wire(Registry("a"), value_of(name), int)] == [name]
    assert wire(Registry("b"), value_of(json), json) == []
    assert wire(Registry("c"), value_of(dict[str, json]), json) == []  # type: ignore[valid-type]
    assert wire(Registry("d"), value_of(list[json]), json) == []  # type: ignore[valid-type]
    assert [e.declared for e in wire(Registry("e"), value_of(int), json)] == [json]


def test_minus_none_is_a_mismatch_for_a_dependency(reg: Registry) -> None:
    """A provider annotated `-> None` does not make a Database."""

    def setup() -> None:
        return None

    [error] = wire(reg, setup, Database)
    assert "Dependency[Database] but provider 'dep'" in str(error)
    assert "makes None." in str(error)


def test_generic_mismatch_message_spells_the_arguments(reg: Registry) -> None:
    """list[int] against list[str] is shown as written."""
    [error] = wire(reg, value_of(list[int]), list[str])
    assert "Svc.dep is Dependency[list[str]] but provider 'dep'" in str(error)
    assert "makes list[int]." in str(error)


def test_union_message_spells_the_union(reg: Registry) -> None:
    """A union is shown with `|`, None as None."""
    [error] = wire(reg, value_of(Database | None), Database)
    assert "makes Database | None." in str(error)


def test_registered_values_are_checked(reg: Registry) -> None:
    """A register(value=...) value is checked by its class; a protocol on the value itself."""
    endpoint = types.SimpleNamespace(url="http://127.0.0.1")
    reg.register("url", value="sqlite://")
    reg.register("endpoint", value=endpoint)
    reg.register("empty", value=types.SimpleNamespace())
    reg.register("spec", value=mock.Mock(spec=Postgres))
    reg.register("bare", value=mock.Mock())

    class Svc(AsyncService, registry=reg):
        url = Dependency[Database]()
        endpoint = Dependency[HasUrl]()
        empty = Dependency[HasUrl]()
        spec = Dependency[Database]()
        bare = Dependency[Database]()

    assert [e.dependant for e in mismatches(reg)] == ["Svc.url", "Svc.empty"]


def test_runtime_checkable_protocol_needs_its_methods_on_the_class(reg: Registry) -> None:
    """A class without the protocol's method is reported; with it, it fits."""
    reg.register("good", FileLike)
    reg.register("bad", Endpoint)

    class Svc(AsyncService, registry=reg):
        good = Dependency[Closeable]()
        bad = Dependency[Closeable]()

    assert declared_and_made(reg) == [("Svc.bad", Closeable, Endpoint)]


def test_protocol_members_made_on_demand_are_not_reported(reg: Registry) -> None:
    """A class with __getattr__ may have any member: it cannot be told, so it fits."""

    class Dynamic:
        def __getattr__(self, name: str) -> Any:
            return lambda: None

    reg.register("dynamic", Dynamic)

    class Svc(AsyncService, registry=reg):
        dynamic = Dependency[Closeable]()

    assert mismatches(reg) == []


# -- where declarations come from -----------------------------------------------------------


def test_class_level_annotation_declares_the_type(reg: Registry) -> None:
    """`db: Dependency[Database] = Dependency()` is checked like Dependency[Database]()."""
    reg.register("db", make_db)
    reg.register("cache", Cache)

    class Svc(AsyncService, registry=reg):
        db: Dependency[Database] = Dependency()
        cache: Dependency[Cache] = Dependency()

    assert declared_and_made(reg) == [("Svc.db", Database, str)]


def test_string_type_arguments_are_resolved(reg: Registry) -> None:
    """Dependency["Database"]() and a quoted class annotation resolve in the module."""
    reg.register("db", make_db)
    reg.register("other", make_db)

    class Svc(AsyncService, registry=reg):
        db = Dependency["Database"]()
        other: "Dependency[Database]" = Dependency()

    assert declared_and_made(reg) == [("Svc.db", Database, str), ("Svc.other", Database, str)]


def test_unresolvable_declarations_are_never_reported(reg: Registry) -> None:
    """A forward reference that names nothing is unknown: no report, no error."""

    def make_repo(db: "Ghost") -> Cache:  # type: ignore[name-defined]  # noqa: F821
        return Cache()

    reg.register("db", make_db)
    reg.register("repo", make_repo)

    class Svc(AsyncService, registry=reg):
        db = Dependency["Ghost"]()  # type: ignore[name-defined]
        other: "Dependency[Ghost]" = Dependency("db")  # type: ignore[name-defined]  # noqa: F821

    assert mismatches(reg) == []


def test_unannotated_sides_are_never_reported(reg: Registry) -> None:
    """No type on the dependant, or none on the provider: nothing to compare."""

    def make_repo(db, cache: Database) -> Cache:  # type: ignore[no-untyped-def]
        return Cache()

    reg.register("db", make_db)
    reg.register("cache", lambda: "x")
    reg.register("repo", make_repo)

    class Svc(AsyncService, registry=reg):
        db = Dependency()  # type: ignore[var-annotated]
        cache = Dependency[Database]()

    assert mismatches(reg) == []


def test_future_annotations_module() -> None:
    """Under `from __future__ import annotations` the planted mismatches, and only they."""
    found = [(e.dependant.split(" (")[0], e.declared, e.made) for e in mismatches(future.reg)]
    assert found == [
        ("Checkout.url", int, str),
        ("parameter 'url' of provider 'repo'", future.Cache, str),
        ("parameter 'cache' of provider 'report'", future.Database, future.Cache),
    ]


# -- each problem once -----------------------------------------------------------------------


def test_inherited_dependency_is_reported_once(reg: Registry) -> None:
    """A base class's Dependency is reported under the base, not again per subclass."""
    reg.register("db", make_db)

    class Base(AsyncService, registry=reg):
        db = Dependency[Database]()

    class Child(Base):
        pass

    class GrandChild(Child):
        pass

    assert [e.dependant for e in mismatches(reg)] == ["Base.db"]


def test_every_mismatch_is_reported_in_one_pass(reg: Registry) -> None:
    """Attributes of several services and parameters of several providers, all at once."""

    def make_repo(db: Database) -> Cache:
        return Cache()

    def make_report(cache: Database, db: Database) -> None:
        return None

    reg.register("db", make_db)
    reg.register("cache", Cache)
    reg.register("repo", make_repo)
    reg.register("report", make_report)

    class A(AsyncService, registry=reg):
        db = Dependency[Database]()
        cache = Dependency[Cache]()

    class B(AsyncService, registry=reg):
        repo = Dependency[Database]()
        report = Dependency[Database]()

    assert [e.dependant.split(" (")[0] for e in mismatches(reg)] == [
        "A.db",
        "B.repo",
        "B.report",
        "parameter 'db' of provider 'repo'",
        "parameter 'cache' of provider 'report'",
        "parameter 'db' of provider 'report'",
    ]


def test_missing_names_are_left_to_the_name_check(reg: Registry) -> None:
    """A dependant whose provider is not registered is not a type problem."""

    def make_repo(db: Database) -> Cache:
        return Cache()

    reg.register("repo", make_repo)

    class Svc(AsyncService, registry=reg):
        db = Dependency[Database]()

    assert mismatches(reg) == []


# -- through Registry.validate() and lifespan() ---------------------------------------------


def test_validate_raises_type_mismatch_beside_other_problems(reg: Registry) -> None:
    """validate() groups a TypeMismatchError with the missing names and cycles it finds."""
    reg.register("db", make_db)
    reg.register("a", lambda b: b)
    reg.register("b", lambda a: a)

    class Checkout(AsyncService, registry=reg):
        db = Dependency[Database]()
        clock = Dependency[str]()

    with pytest.raises(ValidationError) as info:
        reg.validate()
    kinds = sorted(type(e).__name__ for e in info.value.exceptions)
    assert kinds == ["CycleError", "MissingProviderError", "TypeMismatchError"]
    text = str(info.value)
    assert "Checkout.db is Dependency[Database] but provider 'db'" in text
    assert "Checkout.clock -> 'clock' ???" in text


def test_validate_reports_a_type_mismatch_alone(reg: Registry) -> None:
    """A graph whose only problem is a type fails validation."""
    reg.register("db", make_db)

    class Checkout(AsyncService, registry=reg):
        db = Dependency[Database]()

    with pytest.raises(ValidationError) as info:
        reg.validate()
    [error] = info.value.exceptions
    assert isinstance(error, TypeMismatchError)
    assert error.dependant == "Checkout.db"


def test_validate_types_false_skips_the_type_check(reg: Registry) -> None:
    """validate(types=False) checks names, cycles and scopes, not types."""
    reg.register("db", make_db)

    class Checkout(AsyncService, registry=reg):
        db = Dependency[Database]()
        clock = Dependency[str]()

    with pytest.raises(ValidationError) as info:
        reg.validate(types=False)
    assert [type(e).__name__ for e in info.value.exceptions] == ["MissingProviderError"]
    reg.register("clock", value="12:00")
    reg.validate(types=False)


async def test_lifespan_runs_the_type_check(reg: Registry) -> None:
    """Entering a lifespan validates types too, before anything is made."""
    made: list[str] = []

    def make_url() -> str:
        made.append("url")
        return "sqlite://"

    reg.register("db", make_url)

    class Checkout(AsyncService, registry=reg):
        db = Dependency[Database]()

    with pytest.raises(ValidationError) as info:
        async with reg.lifespan(eager=True):
            pass  # pragma: no cover
    assert [type(e) for e in info.value.exceptions] == [TypeMismatchError]
    assert made == []


def test_validate_passes_a_well_typed_graph(reg: Registry) -> None:
    """A graph whose types fit validates silently, also with types=True said outright."""

    async def make_cache(db: Database) -> AsyncIterator[Cache]:
        yield Cache()

    reg.register("db", Postgres)
    reg.register("cache", make_cache)

    class Checkout(AsyncService, registry=reg):
        db = Dependency[Database]()
        cache = Dependency[Cache | None]()

    reg.validate(types=True)
