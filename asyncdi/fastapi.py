"""FastAPI parameters filled from asyncdi: ``Provide(name)``, ``ProvideRoute`` and ``setup``.

``users: UserService = Provide("users")`` (or ``Annotated[UserService, Provide("users")]``)
resolves ``"users"`` in the current request's scope, which ``RequestScopeMiddleware``
opens. ``Provide`` is a FastAPI dependency, so it works wherever FastAPI takes one: path
operations, dependencies, websocket handlers; it never appears in the OpenAPI schema.

Speed: FastAPI's dependency solver costs about a third of a small request when every
injected parameter is a dependency of its own. ``ProvideRoute`` (which :func:`setup`
installs as the app's route class) takes an async endpoint's own ``Provide`` parameters
out of the signature FastAPI sees and resolves them itself, in one step per parameter.
Everything else (dependencies, websockets, sync endpoints) uses the dependency path; the
values are the same either way.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, get_origin, get_type_hints

from fastapi import FastAPI, params
from fastapi.routing import APIRoute

from asyncdi._errors import InvalidNameError
from asyncdi._registry import Registry
from asyncdi._registry import registry as default_registry
from asyncdi.asgi import RequestScopeMiddleware, current_registry, register_connection

__all__ = ["Provide", "ProvideMarker", "ProvideRoute", "setup"]

_resolvers: dict[str, Callable[[], Coroutine[Any, Any, Any]]] = {}


def _resolver(name: str) -> Callable[[], Coroutine[Any, Any, Any]]:
    """The FastAPI dependency that resolves ``name``: one per name, so FastAPI's per-request
    cache makes each name once per request."""
    found = _resolvers.get(name)
    if found is None:
        asker = f"Provide({name!r})"

        async def provide() -> Any:
            return await current_registry(asker).resolve(name)

        provide.__name__ = provide.__qualname__ = f"provide_{name}"
        found = _resolvers[name] = provide
    return found


class ProvideMarker(params.Depends):
    """What ``Provide(name)`` returns: a FastAPI dependency on the registered ``name``."""

    name: str

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidNameError("Provide(name)", name)
        super().__init__(dependency=_resolver(name), use_cache=True)
        object.__setattr__(self, "name", name)  # FastAPI's Depends may be a frozen dataclass

    def __repr__(self) -> str:
        return f"Provide({self.name!r})"


def Provide(name: str) -> Any:  # noqa: N802 - a marker, spelled like FastAPI's Depends
    """Fill a FastAPI parameter with ``name``, resolved in the current request's scope.

    ``users: UserService = Provide("users")`` or
    ``users: Annotated[UserService, Provide("users")]``. Needs
    :class:`~asyncdi.asgi.RequestScopeMiddleware` (see :func:`setup`); without it,
    resolving raises :class:`~asyncdi.asgi.NoConnectionError`, which says how to add it.
    Typed ``Any`` so the first form type-checks.
    """
    return ProvideMarker(name)


def _evaluated(annotation: Any, function: Callable[..., Any], parameter: str) -> Any:
    """A string annotation evaluated the way FastAPI will, or as it is if that fails."""
    if not isinstance(annotation, str):
        return annotation

    def probe() -> None: ...

    probe.__annotations__ = {parameter: annotation}
    try:
        globalns = getattr(inspect.unwrap(function), "__globals__", {})
        return get_type_hints(probe, globalns=globalns, include_extras=True)[parameter]
    except Exception:  # noqa: BLE001 - FastAPI reports annotations it cannot read
        return annotation


def provided(parameter: inspect.Parameter, function: Callable[..., Any]) -> str | None:
    """The name a parameter's ``Provide`` asks for (as its default or in ``Annotated``)."""
    if isinstance(parameter.default, ProvideMarker):
        return parameter.default.name
    annotation = _evaluated(parameter.annotation, function, parameter.name)
    if get_origin(annotation) is Annotated:
        for metadata in annotation.__metadata__:
            if isinstance(metadata, ProvideMarker):
                return metadata.name
    return None


def resolve_provided(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` with its ``Provide`` parameters resolved here, hidden from FastAPI.

    Returns ``endpoint`` itself when there is nothing to take over: no ``Provide``
    parameter, or an endpoint that is not a plain async function (FastAPI's dependency
    path then fills the parameters).
    """
    if not inspect.iscoroutinefunction(endpoint):
        return endpoint
    signature = inspect.signature(endpoint)
    kept: list[inspect.Parameter] = []
    wanted: list[tuple[str, str]] = []
    for parameter in signature.parameters.values():
        name = provided(parameter, endpoint)
        if name is None:
            kept.append(parameter)
        elif parameter.kind in (parameter.POSITIONAL_ONLY, parameter.VAR_POSITIONAL):
            return endpoint  # FastAPI passes keywords; leave this one to its solver
        else:
            wanted.append((parameter.name, name))
    if not wanted:
        return endpoint
    injected = tuple(wanted)
    asker = f"Provide({injected[0][1]!r}) in {endpoint.__qualname__}"

    @functools.wraps(endpoint)
    async def endpoint_with_provided(**arguments: Any) -> Any:
        resolve = current_registry(asker).resolve
        for parameter, name in injected:
            arguments[parameter] = await resolve(name)
        return await endpoint(**arguments)

    hidden = {parameter for parameter, _ in injected}
    endpoint_with_provided.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=kept
    )
    endpoint_with_provided.__annotations__ = {
        key: value for key, value in endpoint.__annotations__.items() if key not in hidden
    }
    return endpoint_with_provided


class ProvideRoute(APIRoute):
    """An ``APIRoute`` that resolves its async endpoint's ``Provide`` parameters itself.

    Same values as FastAPI's dependency path, without a solver step per parameter.
    ``APIRouter(route_class=ProvideRoute)``; :func:`setup` installs it on an app.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, resolve_provided(endpoint), **kwargs)


def setup(
    app: FastAPI,
    registry: Registry | None = None,
    *,
    lifespan: bool = True,
    eager: bool = False,
    failed: Callable[[int], bool] | None = None,
) -> None:
    """Serve ``app`` with asyncdi: request scopes, its lifespan, and fast ``Provide``.

    Adds :class:`~asyncdi.asgi.RequestScopeMiddleware` (the keywords are its own) and
    makes :class:`ProvideRoute` the route class of routes declared on ``app`` from now
    on; call it right after ``FastAPI()``. Routes declared earlier, or on an
    ``APIRouter`` without ``route_class=ProvideRoute``, still work, through FastAPI's
    dependency solver. Registers ``"asgi_scope"`` and ``"request"`` on the registry.
    """
    registry = default_registry if registry is None else registry
    register_connection(registry)
    app.router.route_class = ProvideRoute
    app.add_middleware(
        RequestScopeMiddleware, registry=registry, lifespan=lifespan, eager=eager, failed=failed
    )
