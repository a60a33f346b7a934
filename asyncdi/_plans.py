"""Plans, and the views of the graph they are built in.

A :class:`View` is one way of mapping names to providers: the registry's own, or the
registry's with an override's records on top. Each view builds a :class:`Plan` per
name the first time it is needed, and again after the registry's graph changes
(registration, a lifespan opening or closing: ``Registry._graph_epoch``). Building a
plan checks the graph facts once (missing names, cycles, captive scopes; see
``_graph``), picks where the value is kept (a singleton's :class:`Cell`, a request
scope's dict key), and writes its code (``_codegen``). Under an override, a name whose
plan does not touch an overridden name shares the registry's own plan, and so its
values: only what depends on an override is made again, and kept apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from asyncdi import _codegen
from asyncdi._errors import CaptiveDependencyError
from asyncdi._flight import Cell
from asyncdi._graph import captive_path, creation_order, needed
from asyncdi._provider import Kind, Provider
from asyncdi._scope import Scope

if TYPE_CHECKING:
    from asyncdi._overrides import Overrides
    from asyncdi._registry import Registry

__all__ = ["Plan", "View"]


class Plan:
    """How the value of one name is made in one view: compiled functions and facts."""

    __slots__ = (
        "_read",
        "aget",
        "cell",
        "codes",
        "depth",
        "generated",
        "get",
        "key",
        "name",
        "provider",
        "scope",
        "source",
        "view",
    )

    def __init__(self, view: View, provider: Provider, key: Any, cell: Cell | None) -> None:
        self.view = view
        self.provider = provider
        self.name = provider.name
        self.scope = provider.scope
        self.key = key  # what a request scope keys the value by
        self.cell = cell  # where a singleton is kept
        self.depth = 1
        self.codes: set[Any] = set()  # the code of aget and get, to find a creation in a stack
        self.generated = False
        self.source = ""
        self.aget: Any = None
        self.get: Any = None
        self._read: Any = None

    @property
    def read(self) -> Any:
        """``read(instance, slot, attribute, dependency)``: a service attribute's first read
        (INSTANCE and REQUEST plans; see ``_codegen.generate_read``)."""
        read = self._read
        if read is None:
            read = self._read = _codegen.generate_read(self, self.view)
        return read

    def _prerequisites(self) -> list[Plan]:
        view = self.view
        order = creation_order(view.providers, self.name)[:-1]
        plans = [view.plan_of(name) for name in order]
        return [plan for plan in plans if plan.scope is not Scope.INSTANCE]

    async def prepare(self, scope: Any) -> None:
        """Make what a deep plan needs, deepest first, so no call nests deeply."""
        for plan in self._prerequisites():
            await plan.aget(scope, None, False)

    def prepare_sync(self, scope: Any) -> None:
        """:meth:`prepare` for synchronous resolution."""
        for plan in self._prerequisites():
            plan.get(scope, None, False)

    def __repr__(self) -> str:
        return f"<Plan {self.name!r} {self.scope.name}, depth {self.depth}>"


class View:
    """Names mapped to providers, with the plans built for them."""

    __slots__ = ("epoch", "overrides", "plans", "providers", "registry")

    def __init__(
        self,
        registry: Registry,
        providers: Mapping[str, Provider],
        overrides: Overrides | None = None,
    ) -> None:
        self.registry = registry
        self.providers = providers
        self.overrides = overrides
        self.plans: dict[str, Plan] = {}
        self.epoch = registry._graph_epoch

    def plan(self, name: str) -> Plan:
        """The plan of ``name``, built (and its code generated) if need be."""
        if self.epoch is not self.registry._graph_epoch:
            self.plans = {}
            self.epoch = self.registry._graph_epoch
        plan = self.plans.get(name)
        if plan is None:
            with self.registry._lock:  # two threads building one singleton's plan share a cell
                for step in creation_order(self.providers, name):  # raises missing or cycle
                    if step not in self.plans:
                        self.plans[step] = self._build(step)
                plan = self.plans[name]
        if not plan.generated:
            with self.registry._lock:
                if not plan.generated:
                    _codegen.generate(plan, plan.view)
                    plan.generated = True
        return plan

    def plan_of(self, name: str) -> Plan:
        """The plan of a dependency of a plan being built (its own order is done)."""
        plan = self.plans.get(name)
        if plan is None:
            return self.plan(name)
        if not plan.generated and plan.scope is not Scope.INSTANCE:
            return self.plan(name)
        return plan

    def _build(self, name: str) -> Plan:
        provider = self.providers[name]
        overrides = self.overrides
        if overrides is not None and not self._affected(name, provider):
            return self.registry._base.plan_meta(name)
        path = captive_path(self.providers, provider)
        if path is not None:
            raise CaptiveDependencyError(path, name, path[-1])
        cell = None
        key: Any = provider
        if overrides is not None:
            key = (provider, overrides)
        if provider.scope is Scope.SINGLETON and provider.kind is not Kind.VALUE:
            storage = self.registry._singletons if overrides is None else overrides.singletons
            cell = storage.get(provider)
            if cell is None:
                cell = storage[provider] = Cell()
        plan = Plan(self, provider, key, cell)
        if provider.scope is not Scope.INSTANCE:
            _codegen.generate(plan, self)
            plan.generated = True
        return plan

    def plan_meta(self, name: str) -> Plan:
        """The plan of ``name`` here, code generated only where dependants need it."""
        plan = self.plans.get(name)
        if plan is not None and self.epoch is self.registry._graph_epoch:
            return plan
        self.plan(name)
        return self.plans[name]

    def _affected(self, name: str, provider: Provider) -> bool:
        overrides = self.overrides
        assert overrides is not None
        if name in overrides.names:
            return True
        for dependency in needed(provider, self.providers):
            plan = self.plans[dependency]
            if plan.view is self:
                return True
        return False
