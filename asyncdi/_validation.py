"""Whole-graph validation: every missing name, cycle and captive dependency at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from asyncdi._errors import (
    CaptiveDependencyError,
    CycleError,
    MissingProviderError,
    ValidationError,
)
from asyncdi._provider import NO_DEFAULT
from asyncdi._scope import Scope

if TYPE_CHECKING:
    from asyncdi._engine import Engine

__all__ = ["find_problems", "validate"]


def find_problems(engine: Engine, services: list[type]) -> list[Exception]:
    """Every problem in the graph of ``engine`` and the ``services`` bound to it."""
    providers = engine._providers
    problems: list[Exception] = []
    for service in sorted(services, key=lambda cls: cls.__qualname__):
        for dependency in getattr(service, "__dependencies__", {}).values():
            if dependency.name not in providers:
                label = f"{service.__qualname__}.{dependency.attribute}"
                problems.append(MissingProviderError(dependency.name, (label,), providers))
    for provider in providers.values():
        for param in provider.params:
            if param.dependency not in providers and param.default is NO_DEFAULT:
                problems.append(MissingProviderError(param.dependency, (provider.name,), providers))
    problems += _cycles(engine)
    problems += _captives(engine)
    return problems


def validate(engine: Engine, services: list[type]) -> None:
    """Raise :class:`ValidationError` holding every problem found, if any."""
    problems = find_problems(engine, services)
    if problems:
        raise ValidationError(f"registry {engine.name!r} has {len(problems)} problem(s)", problems)


def _cycles(engine: Engine) -> list[Exception]:
    providers = engine._providers
    found: list[Exception] = []
    seen_cycles: set[frozenset[str]] = set()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            key = frozenset(cycle)
            if key not in seen_cycles:
                seen_cycles.add(key)
                found.append(CycleError(cycle))
            return
        if name in done or name not in providers:
            return
        path.append(name)
        for dependency in providers[name].dependencies:
            visit(dependency, path)
        path.pop()
        done.add(name)

    for name in providers:
        visit(name, [])
    return found


def _captives(engine: Engine) -> list[Exception]:
    """A SINGLETON reaching a REQUEST value through INSTANCE-scoped providers."""
    providers = engine._providers
    found: list[Exception] = []
    for holder in providers.values():
        if holder.scope is not Scope.SINGLETON:
            continue
        stack: list[tuple[str, tuple[str, ...]]] = [
            (d, (holder.name,)) for d in holder.dependencies
        ]
        seen: set[str] = set()
        while stack:
            name, path = stack.pop()
            provider = providers.get(name)
            if provider is None or name in seen:
                continue
            seen.add(name)
            if provider.scope is Scope.REQUEST:
                found.append(CaptiveDependencyError((*path, name), holder.name, name))
            elif provider.scope is Scope.INSTANCE:
                stack += [(d, (*path, name)) for d in provider.dependencies]
    return found
