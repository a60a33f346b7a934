"""What a service instance keeps for a REQUEST dependency it has read.

A request value must never outlive its scope: an instance that read one (say, a
background task's service started in a request) gets :class:`ScopeClosedError` from
``await instance.attr`` once the scope has ended, instead of a released value.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from asyncdi._errors import ScopeClosedError

if TYPE_CHECKING:
    from asyncdi._request_scope import RequestScope

__all__ = ["ScopedValue"]


class ScopedValue:
    """An awaitable of a request value that refuses once the scope has closed.

    Made only by a REQUEST plan's generated read (``_codegen``), which sets its three
    fields itself: a service instance's first read of a request value makes one.
    """

    __slots__ = ("name", "scope", "value")

    scope: RequestScope  # the scope that made the value
    value: Any
    name: str  # the provider's, for the error once the scope has closed

    def __await__(self) -> Generator[Any, None, Any]:
        if self.scope.closed:
            raise ScopeClosedError(self.scope.label, self.name)
        return self.value
        yield  # type: ignore[unreachable]  # pragma: no cover - makes this a generator

    def __repr__(self) -> str:
        state = "closed" if self.scope.closed else "open"
        return f"<request value {self.name!r}, scope {state}>"
