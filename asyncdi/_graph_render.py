"""Draw a registry's whole graph as Mermaid or Graphviz DOT text (``asyncdi graph``).

Built only on the public introspection: ``registry.names``, ``registry.provider(name)``
and ``registry.services``. Nodes are the providers (with their scope and kind), the
service classes (with their ``Dependency`` attributes) and every name asked for but not
registered; an edge goes from each dependant to each name it asks for.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from asyncdi._registry import Registry

__all__ = ["Edge", "Graph", "Node", "build_graph", "render_dot", "render_mermaid"]

Style = Literal["provider", "service", "missing", "unset"]


@dataclass(frozen=True)
class Node:
    """One box: its id, its title and the lines under the title."""

    id: str
    title: str
    lines: tuple[str, ...]
    style: Style


@dataclass(frozen=True)
class Edge:
    """``source`` asks for ``target``; ``label`` names the parameter or attribute if it differs."""

    source: str
    target: str
    label: str | None
    optional: bool  # the dependant has a default to fall back on


@dataclass
class Graph:
    """The nodes and edges of one registry, in a stable order."""

    name: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


def _provider_id(name: str) -> str:
    return f"p_{name}"


def build_graph(registry: Registry) -> Graph:
    """The graph of ``registry``: providers, services, absent names and every dependency."""
    graph = Graph(registry.name)
    absent: dict[str, bool] = {}  # unregistered name -> whether some dependant requires it

    def depend(source: str, target: str, via: str, optional: bool) -> None:
        if target in registry:
            target_id = _provider_id(target)
        else:
            absent[target] = absent.get(target, False) or not optional
            target_id = f"m_{target}"
        label = via if via != target else None
        graph.edges.append(Edge(source, target_id, label, optional))

    for name in registry.names:
        provider = registry.provider(name)
        lines: tuple[str, ...] = (provider.scope.name, provider.kind.value)
        graph.nodes.append(Node(_provider_id(name), name, lines, "provider"))
        for param in provider.params:
            optional = param.default is not inspect.Parameter.empty
            depend(_provider_id(name), param.dependency, param.parameter, optional)
    for index, service in enumerate(registry.services):
        service_id = f"s_{index}"
        dependencies = getattr(service, "__dependencies__", {})
        lines = tuple(f".{attr}: {dep.name!r}" for attr, dep in dependencies.items())
        graph.nodes.append(Node(service_id, service.__qualname__, lines, "service"))
        for attribute, dependency in dependencies.items():
            depend(service_id, dependency.name, attribute, optional=False)
    for name, required in sorted(absent.items()):
        if required:
            graph.nodes.append(Node(f"m_{name}", name, ("missing",), "missing"))
        else:
            graph.nodes.append(Node(f"m_{name}", name, ("not registered: default used",), "unset"))
    return graph


_MERMAID_SHAPES: dict[Style, tuple[str, str]] = {
    "provider": ('["', '"]'),
    "service": ('[["', '"]]'),
    "missing": ('{{"', '"}}'),
    "unset": ('(["', '"])'),
}
_MERMAID_CLASSES: dict[Style, str] = {
    "provider": "fill:#eef4ff,stroke:#4a6fa5",
    "service": "fill:#eefbea,stroke:#3c8d2f",
    "missing": "fill:#ffecec,stroke:#cc0000,stroke-width:2px,stroke-dasharray:5 3",
    "unset": "fill:#f6f6f6,stroke:#999999,stroke-dasharray:2 2",
}


def _mermaid_text(text: str) -> str:
    # Inside a quoted Mermaid label, these would end the label or be read as markup.
    return (
        text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def render_mermaid(registry: Registry) -> str:
    """The graph as a Mermaid flowchart; absent names get the ``missing`` class."""
    graph = build_graph(registry)
    out = ["flowchart LR", f"    %% registry {_mermaid_text(repr(graph.name))}"]
    for node in graph.nodes:
        opening, closing = _MERMAID_SHAPES[node.style]
        label = "<br/>".join(_mermaid_text(part) for part in (node.title, *node.lines))
        out.append(f"    {node.id}{opening}{label}{closing}")
    for edge in graph.edges:
        arrow = "-.->" if edge.optional else "-->"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        out.append(f"    {edge.source} {arrow}{label} {edge.target}")
    for style, css in _MERMAID_CLASSES.items():
        out.append(f"    classDef {style} {css}")
    for style in _MERMAID_CLASSES:
        members = [node.id for node in graph.nodes if node.style == style]
        if members:
            out.append(f"    class {','.join(members)} {style}")
    return "\n".join(out) + "\n"


_DOT_ATTRIBUTES: dict[Style, str] = {
    "provider": 'shape=box, style="rounded,filled", fillcolor="#eef4ff"',
    "service": 'shape=component, style=filled, fillcolor="#eefbea"',
    "missing": 'shape=octagon, style="dashed,filled", color="#cc0000", fillcolor="#ffecec"',
    "unset": 'shape=box, style="dotted", color="#999999"',
}


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_dot(registry: Registry) -> str:
    """The graph as a Graphviz digraph; absent names are dashed red octagons."""
    graph = build_graph(registry)
    out = [
        f"digraph {_dot_quote(graph.name)} {{",
        "    rankdir=LR;",
        '    node [fontname="Helvetica"];',
    ]
    for node in graph.nodes:
        label = _dot_quote("\n".join((node.title, *node.lines)))
        out.append(f"    {_dot_quote(node.id)} [label={label}, {_DOT_ATTRIBUTES[node.style]}];")
    for edge in graph.edges:
        attributes = []
        if edge.label:
            attributes.append(f"label={_dot_quote(edge.label)}")
        if edge.optional:
            attributes.append("style=dashed")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        out.append(f"    {_dot_quote(edge.source)} -> {_dot_quote(edge.target)}{suffix};")
    out.append("}")
    return "\n".join(out) + "\n"
