"""Graph facts: what a name needs, in what order, and what is wrong with it.

Every walk here is iterative, so a chain of any length is checked without recursion.
Plans use :func:`creation_order` and :func:`captive_path` when they are built; the
whole-graph :func:`find_problems` serves ``validate()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from asyncdi._errors import CaptiveDependencyError, CycleError, MissingProviderError
from asyncdi._provider import Provider
from asyncdi._scope import Scope

__all__ = ["captive_path", "creation_order", "find_problems", "needed"]


def needed(provider: Provider, providers: Mapping[str, object]) -> list[str]:
    """The names a provider's parameters take from ``providers`` (optional ones if there)."""
    return [p.dependency for p in provider.params if p.required or p.dependency in providers]


def creation_order(providers: Mapping[str, Provider], root: str) -> list[str]:
    """Every name ``root`` needs to be made, dependencies first, ``root`` last.

    Raises the first :class:`MissingProviderError` or :class:`CycleError` on the way,
    with the path from ``root``.
    """
    if root not in providers:
        raise MissingProviderError(root, (), providers)
    return _depth_first(providers, root, set(), None)


def _depth_first(
    providers: Mapping[str, Provider],
    root: str,
    done: set[str],
    cycles: list[tuple[str, ...]] | None,
) -> list[str]:
    """The names ``root`` needs and is, not yet ``done``, post-order, walked iteratively.

    With ``cycles=None`` a cycle or a missing name raises; otherwise each cycle met is
    appended to ``cycles`` and missing names are passed over (``validate()`` reports
    them on its own). Every name finished is added to ``done``.
    """
    order: list[str] = []
    on_path: dict[str, int] = {root: 0}
    path = [root]
    stack = [iter(needed(providers[root], providers))]
    while stack:
        name = next(stack[-1], None)
        if name is None:
            stack.pop()
            finished = path.pop()
            del on_path[finished]
            done.add(finished)
            order.append(finished)
            continue
        if name in done:
            continue
        if name in on_path:
            start = on_path[name]
            if cycles is None:
                raise CycleError((*path[start:], name), tuple(path[:start]))
            cycles.append((*path[start:], name))
            continue
        provider = providers.get(name)
        if provider is None:
            if cycles is None:
                raise MissingProviderError(name, tuple(path), providers)
            continue
        on_path[name] = len(path)
        path.append(name)
        stack.append(iter(needed(provider, providers)))
    return order


def _edges(provider: Provider, providers: Mapping[str, Provider]) -> list[tuple[str, str]]:
    """(step label, name) of what a value needs now (parameters) or later (attributes)."""
    edges = [(name, name) for name in needed(provider, providers)]
    edges += list(provider.service_dependencies)
    return edges


def captive_path(providers: Mapping[str, Provider], holder: Provider) -> tuple[str, ...] | None:
    """The path by which a SINGLETON reaches a REQUEST value, if it does.

    Through parameters and service-class attributes, and through the INSTANCE
    providers in between (their values live as long as the singleton that holds them).
    """
    if holder.scope is not Scope.SINGLETON:
        return None
    stack: list[tuple[Provider, tuple[str, ...]]] = [(holder, (holder.name,))]
    seen: set[str] = {holder.name}
    while stack:
        provider, path = stack.pop()
        for label, name in _edges(provider, providers):
            dependency = providers.get(name)
            if dependency is None or name in seen:
                continue
            steps = (*path, name) if label == name else (*path, label, name)
            if dependency.scope is Scope.REQUEST:
                return steps
            if dependency.scope is Scope.INSTANCE:
                seen.add(name)
                stack.append((dependency, steps))
    return None


def find_problems(
    providers: Mapping[str, Provider], services: Iterable[type], known: Iterable[str] = ()
) -> list[Exception]:
    """Every missing name, cycle and captive dependency of the graph, each once."""
    known_names = set(known)
    problems: list[Exception] = []
    for service in sorted(services, key=lambda cls: cls.__qualname__):
        for dependency in getattr(service, "__dependencies__", {}).values():
            if dependency.name not in providers and dependency.name not in known_names:
                problems.append(
                    MissingProviderError(dependency.name, (dependency.label,), providers)
                )
    for provider in providers.values():
        for param in provider.params:
            name = param.dependency
            if param.required and name not in providers and name not in known_names:
                problems.append(MissingProviderError(name, (provider.name,), providers))
    problems += _cycles(providers)
    for provider in providers.values():
        path = captive_path(providers, provider)
        if path is not None:
            problems.append(CaptiveDependencyError(path, provider.name, path[-1]))
    return problems


def _cycles(providers: Mapping[str, Provider]) -> list[Exception]:
    """Each cycle among the providers' parameters, once (iteratively, any length)."""
    found: list[tuple[str, ...]] = []
    done: set[str] = set()
    for root in providers:
        if root not in done:
            _depth_first(providers, root, done, found)
    unique: dict[frozenset[str], tuple[str, ...]] = {}
    for cycle in found:
        unique.setdefault(frozenset(cycle), cycle)
    return [CycleError(cycle) for cycle in unique.values()]
