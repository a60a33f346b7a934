"""The text of one generated function: its lines, the constants they name, and paths.

A :class:`_Writer` collects the lines of one plan function (``aget``, ``get``, a read,
a pool's ``make``) for async or sync code alike, binds each constant the lines use to a
name in the function's namespace, remembers which line makes which provider's value
(``_paths`` turns a failing line back into a resolution path), and compiles the text.
"""

from __future__ import annotations

import itertools
from typing import Any

from asyncdi._plan_runtime import _namespace
from asyncdi._provider import Provider

__all__ = ["_Writer"]

_serial = itertools.count()


class _Writer:
    """Lines of one generated function, the constants they use, and each line's path."""

    def __init__(self, sync: bool) -> None:
        self.sync = sync
        self.lines: list[str] = []
        self.paths: dict[int, tuple[str, ...]] = {}
        self.makers: dict[int, Provider] = {}  # the provider each make line calls
        self.namespace = _namespace()
        self.names: dict[int, str] = {}
        self.temps = itertools.count()
        self.root_record: Any = None  # the step whose record the shape hands over itself
        self.timed_step: Any = None  # the plan's own step, whose creation time is sampled
        self.root_record_used = False

    def const(self, value: Any, hint: str = "k") -> str:
        """A name in the generated namespace bound to ``value``."""
        key = id(value)
        name = self.names.get(key)
        if name is None:
            name = self.names[key] = f"_{hint}{len(self.names)}"
            self.namespace[name] = value
        return name

    def temp(self, hint: str = "v") -> str:
        return f"{hint}{next(self.temps)}"

    def line(
        self,
        text: str,
        indent: int,
        path: tuple[str, ...] | None = None,
        maker: Provider | None = None,
    ) -> None:
        self.lines.append("    " * indent + text)
        if path is not None:
            self.paths[len(self.lines)] = path
        if maker is not None:
            self.makers[len(self.lines)] = maker

    def header(self) -> str:
        """Write the ``def`` line of a plan function (``aget``, or ``get`` when sync)."""
        name = "get" if self.sync else "aget"
        prefix = "def" if self.sync else "async def"
        self.line(f"{prefix} {name}(scope, owner, deep=True):", 0)
        return name

    def orphan(self, label: str) -> str:
        """The statement that releases ``held`` made for an owner that closed meanwhile."""
        if self.sync:
            return f"_unwind_sync(held, _e, {label})"
        return f"await _orphan(held, {label})"

    def awaited(self, expression: str) -> str:
        return expression if self.sync else f"await {expression}"

    def compile(self, name: str, source_name: str) -> Any:
        source = "\n".join(self.lines) + "\n"
        self.namespace["_PATHS"] = self.paths
        self.namespace["_MAKERS"] = self.makers
        code = compile(source, f"<asyncdi plan {source_name}#{next(_serial)}>", "exec")
        exec(code, self.namespace)  # noqa: S102 - our own generated source, see module doc
        function = self.namespace[name]
        function.__asyncdi_source__ = source
        return function
