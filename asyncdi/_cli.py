"""The ``asyncdi`` command: ``check`` a registry's graph, or draw it with ``graph``.

``python -m asyncdi check MODULE:ATTRIBUTE`` exits 0 (no problems), 1 (every problem
printed) or 2 (the registry could not be loaded). ``python -m asyncdi graph
MODULE:ATTRIBUTE [--format mermaid|dot]`` prints the whole graph.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from asyncdi._errors import ValidationError
from asyncdi._graph_render import render_dot, render_mermaid
from asyncdi._locate import RegistryNotFoundError, locate_registry

if TYPE_CHECKING:
    from asyncdi._registry import Registry

__all__ = ["main"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_UNUSABLE = 2

_RENDERERS = {"mermaid": render_mermaid, "dot": render_dot}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asyncdi", description="Check or draw the dependency graph of an asyncdi registry."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    target_help = "the registry, as MODULE:ATTRIBUTE (e.g. myapp.container:registry)"
    check = commands.add_parser(
        "check", help="validate the whole graph; exit 1 and print every problem if any"
    )
    check.add_argument("target", metavar="MODULE:ATTRIBUTE", help=target_help)
    graph = commands.add_parser("graph", help="print the whole graph as Mermaid or DOT")
    graph.add_argument("target", metavar="MODULE:ATTRIBUTE", help=target_help)
    graph.add_argument(
        "--format", choices=sorted(_RENDERERS), default="mermaid", help="default: mermaid"
    )
    return parser


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _check(registry: Registry) -> int:
    try:
        registry.validate()
    except ValidationError as problems:
        print(problems)
        return EXIT_PROBLEMS
    providers = _plural(len(registry.names), "provider")
    services = _plural(len(registry.services), "service")
    print(f"ok: registry {registry.name!r}: {providers}, {services}, no problems")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = _parser().parse_args(argv)
    # Like `python -m`, import the user's modules from the directory the command runs in.
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        registry = locate_registry(arguments.target)
    except RegistryNotFoundError as error:
        if error.detail:
            print(error.detail, file=sys.stderr, end="")
        print(f"asyncdi {arguments.command}: error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    if arguments.command == "check":
        return _check(registry)
    sys.stdout.write(_RENDERERS[arguments.format](registry))
    return EXIT_OK
