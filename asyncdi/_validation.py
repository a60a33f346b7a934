"""Whole-graph validation: every missing name, cycle and captive dependency at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from asyncdi._errors import ValidationError
from asyncdi._graph import find_problems
from asyncdi._typecheck import find_type_mismatches

if TYPE_CHECKING:
    from asyncdi._registry import Registry

__all__ = ["validate"]


def validate(registry: Registry, services: list[type], *, types: bool = True) -> None:
    """Raise :class:`ValidationError` holding every problem found, if any."""
    problems = find_problems(registry._providers, services)
    if types:
        problems += find_type_mismatches(registry._providers, services)
    if problems:
        raise ValidationError(f"{registry.label} has {len(problems)} problem(s)", problems)
