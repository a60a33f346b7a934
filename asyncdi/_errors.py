"""Every error asyncdi raises: one base class, each also a fitting built-in.

Errors keep the facts as fields and build their text in ``__str__``: what happened,
where, and what to do about it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = [
    "AsyncDIError",
    "AsyncHookError",
    "AsyncProviderError",
    "AsyncReleaseError",
    "CaptiveDependencyError",
    "CycleError",
    "DuplicateProviderError",
    "InvalidArgumentError",
    "InvalidNameError",
    "InvalidProviderError",
    "MissingProviderError",
    "NoActiveScopeError",
    "NotAContextManagerError",
    "NotAServiceError",
    "PoolTimeoutError",
    "ProviderProtocolError",
    "RegistryClosedError",
    "ReleaseError",
    "ReuseError",
    "ScopeClosedError",
    "ServiceDisposedError",
    "ValidationError",
    "format_path",
]


def format_path(path: Iterable[str]) -> str:
    """Draw a resolution path the way users read it: ``Svc.repo -> 'repo' -> 'db'``.

    Provider names are quoted; a ``Class.attribute`` label is shown as it is.
    """
    return " -> ".join(repr(step) if step.isidentifier() else step for step in path)


def _asked_by(path: Sequence[str]) -> str:
    return f" (asked for by {format_path(path)})" if path else ""


class AsyncDIError(Exception):
    """Base class of every error raised by asyncdi."""


class MissingProviderError(LookupError, AsyncDIError):
    """No provider is registered under the name a dependant asked for."""

    def __init__(self, name: str, path: Sequence[str], registered: Iterable[str]) -> None:
        self.name = name
        self.path = tuple(path)
        self.registered = tuple(sorted(registered))
        matches = difflib.get_close_matches(name, self.registered, n=1)
        self.closest: str | None = matches[0] if matches else None
        super().__init__(name)

    def __str__(self) -> str:
        where = f"{format_path((*self.path, self.name))} ???"
        known = ", ".join(repr(n) for n in self.registered) or "none"
        register = f"@provides({self.name!r}) or registry.register({self.name!r}, ...)"
        if self.closest:
            advice = f"Did you mean {self.closest!r}? If not, register one with {register}."
        else:
            advice = f"Register one with {register}."
        return f"No provider named {self.name!r}: {where}. Registered: {known}. {advice}"


class CycleError(RecursionError, AsyncDIError):
    """Providers depend on each other in a circle, so none of them can be made.

    A cycle found while running (a provider's body resolving what is being made) is
    built up as the error travels out through the creations: ``cycle`` is complete
    once it reaches the creation it started from; the steps before it go to ``path``.
    """

    def __init__(self, cycle: Sequence[str], path: Sequence[str] = ()) -> None:
        self.cycle = tuple(cycle)
        self.path = tuple(path)
        super().__init__(format_path(self.cycle))

    @property
    def complete(self) -> bool:
        """Whether the cycle has come back to where it started."""
        return len(self.cycle) > 1 and self.cycle[0] == self.cycle[-1]

    def prefixed(self, steps: Sequence[str]) -> None:
        """Steps that lead here, outermost first: they close the cycle, then form the path."""
        for step in reversed(steps):
            if self.complete:
                self.path = (step, *self.path)
            else:
                self.cycle = (step, *self.cycle)
        self.args = (format_path(self.cycle),)

    def __str__(self) -> str:
        cycle = format_path(self.cycle)
        return (
            f"Dependency cycle: {cycle}{_asked_by(self.path)}. Break it by letting one "
            "provider take its dependency later (resolve it inside a method, not as a parameter)."
        )


class DuplicateProviderError(ValueError, AsyncDIError):
    """A name is registered twice without asking to replace the first provider."""

    def __init__(self, name: str, existing: str, new: str) -> None:
        self.name = name
        self.existing = existing
        self.new = new
        super().__init__(name)

    def __str__(self) -> str:
        return (
            f"A provider named {self.name!r} is already registered ({self.existing}); "
            f"refusing to replace it with {self.new}. Pass replace=True to replace it on "
            "purpose, or registry.override() to swap it for a test."
        )


class InvalidArgumentError(ValueError, AsyncDIError):
    """An argument to an asyncdi call has a value that cannot work."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(problem)

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


class ReuseError(RuntimeError, AsyncDIError):
    """A scope, lifespan, override or service was entered again, or nested wrongly."""

    def __init__(self, what: str, advice: str) -> None:
        self.what = what
        self.advice = advice
        super().__init__(what)

    def __str__(self) -> str:
        return f"{self.what}; {self.advice}"


class ProviderProtocolError(RuntimeError, AsyncDIError):
    """A provider broke its contract: a generator that never yields, or yields twice."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(problem)

    def __str__(self) -> str:
        return f"provider {self.name!r} {self.problem}"


class InvalidProviderError(TypeError, AsyncDIError):
    """Something was registered that cannot make a value."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(problem)

    def __str__(self) -> str:
        return f"Cannot register provider {self.name!r}: {self.problem}"


class InvalidNameError(InvalidProviderError):
    """A provider name that is not a non-empty Python identifier string."""

    def __init__(self, where: str, name: object) -> None:
        self.where = where
        TypeError.__init__(self, where)
        self.name = name  # type: ignore[assignment]

    def __str__(self) -> str:
        try:
            shown = repr(self.name)
        except Exception:  # noqa: BLE001 - a broken __repr__ must not break the message
            shown = f"<{type(self.name).__name__} object>"
        return (
            f"{self.where} takes a provider name, a non-empty Python identifier string such "
            f"as 'db'; got {shown} ({type(self.name).__name__})."
        )


class AsyncProviderError(TypeError, AsyncDIError):
    """The synchronous ``get`` met a provider or hook that must be awaited."""

    def __init__(self, name: str, what: str, path: Sequence[str]) -> None:
        self.name = name
        self.what = what
        self.path = tuple(path)
        super().__init__(name)

    def __str__(self) -> str:
        return (
            f"registry.get({self.name!r}) cannot make {self.what} synchronously"
            f"{_asked_by(self.path)}. Use `await registry.resolve({self.name!r})` instead."
        )


class AsyncHookError(TypeError, AsyncDIError):
    """Synchronous code met an ``initialize()`` or ``dispose()`` hook that is async."""

    def __init__(self, hook: str) -> None:
        self.hook = hook
        super().__init__(hook)

    def __str__(self) -> str:
        return (
            f"{self.hook} is async, so it cannot run from synchronous code. Use the async "
            "API (`await registry.resolve(...)`, `async with`) instead."
        )


class NotAContextManagerError(TypeError, AsyncDIError):
    """A provider registered with ``enter=True`` returned something that cannot be entered."""

    def __init__(self, name: str, provider: str, value_type: str) -> None:
        self.name = name
        self.provider = provider
        self.value_type = value_type
        super().__init__(name)

    def __str__(self) -> str:
        return (
            f"provider {self.name!r} ({self.provider}) is registered with enter=True but "
            f"returned a {self.value_type}, which is not a context manager (it has neither "
            "__aenter__/__aexit__ nor __enter__/__exit__). Return a context manager, or "
            "register it without enter=True."
        )


class PoolTimeoutError(TimeoutError, AsyncDIError):
    """No pooled value became free within the pool's timeout."""

    def __init__(self, name: str, size: int, timeout: float) -> None:
        self.name = name
        self.size = size
        self.timeout = timeout
        super().__init__(name)

    def __str__(self) -> str:
        return (
            f"the pool of provider {self.name!r} (size {self.size}) had no free value within "
            f"{self.timeout:g} s: all {self.size} are borrowed. Give values back sooner (end "
            "request scopes, dispose services), or raise Pool(size=...) or Pool(timeout=...)."
        )


class NotAServiceError(TypeError, AsyncDIError):
    """A ``Dependency`` was read on a class that is not an ``AsyncService``."""

    def __init__(self, owner: str, attribute: str | None) -> None:
        self.owner = owner
        self.attribute = attribute
        super().__init__(owner)

    def __str__(self) -> str:
        if self.attribute is None:
            return (
                f"A Dependency on {self.owner} has no attribute name: it was attached after "
                "the class was created. Declare it in the class body instead."
            )
        return (
            f"{self.owner}.{self.attribute} is a Dependency, but {self.owner} is not an "
            "AsyncService, so nothing can resolve it. Most likely a forgotten base class: "
            f"declare `class {self.owner}(AsyncService): ...`."
        )


class NoActiveScopeError(LookupError, AsyncDIError):
    """A ``REQUEST`` value was asked for outside any request scope."""

    def __init__(self, name: str, path: Sequence[str]) -> None:
        self.name = name
        self.path = tuple(path)
        super().__init__(name)

    def __str__(self) -> str:
        return (
            f"{self.name!r} is REQUEST-scoped, but no request scope is active"
            f"{_asked_by(self.path)}. Resolve it inside `async with registry.scope():`."
        )


class ScopeClosedError(RuntimeError, AsyncDIError):
    """A request scope, or the owner of a value, was used after it closed."""

    def __init__(self, what: str, name: str | None = None) -> None:
        self.what = what
        self.name = name
        super().__init__(what)

    def __str__(self) -> str:
        wanted = f"Cannot resolve {self.name!r}: " if self.name else ""
        return (
            f"{wanted}{self.what} has already closed and released its values. "
            "Resolve inside the `async with registry.scope():` block, and await tasks "
            "that use it before the block ends."
        )


class CaptiveDependencyError(RuntimeError, AsyncDIError):
    """A longer-lived value would hold on to a shorter-lived one."""

    def __init__(self, path: Sequence[str], holder: str, held: str) -> None:
        self.path = tuple(path)
        self.holder = holder
        self.held = held
        super().__init__(held)

    def __str__(self) -> str:
        steps = [repr(step) if step.isidentifier() else step for step in self.path]
        if steps:
            steps[0] += " (SINGLETON)"
            steps[-1] += " (REQUEST)"
        return (
            f"SINGLETON {self.holder!r} depends on REQUEST-scoped {self.held!r} "
            f"({' -> '.join(steps)}): the singleton would keep one request's value "
            f"forever. Make {self.holder!r} REQUEST-scoped, or {self.held!r} longer-lived."
        )


class RegistryClosedError(RuntimeError, AsyncDIError):
    """The registry's lifespan has ended; it releases, it no longer makes."""

    def __init__(self, registry: str, name: str) -> None:
        self.registry = registry
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return (
            f"Cannot resolve {self.name!r}: the lifespan of {self.registry} has closed "
            "and released its singletons. Resolve inside `async with registry.lifespan():`, "
            "or open a new lifespan."
        )


class AsyncReleaseError(RuntimeError, AsyncDIError):
    """Synchronous code was asked to release values whose release must be awaited."""

    def __init__(self, owner: str, names: Sequence[str]) -> None:
        self.owner = owner
        self.names = tuple(names)
        super().__init__(owner)

    def __str__(self) -> str:
        names = ", ".join(repr(name) for name in self.names)
        return (
            f"{self.owner} holds values whose release must be awaited ({names}), so it "
            "cannot be closed from synchronous code; nothing was released. Use "
            "`async with` instead of `with`."
        )


class ServiceDisposedError(RuntimeError, AsyncDIError):
    """A service instance was used after it was disposed."""

    def __init__(self, service: str, attribute: str | None = None) -> None:
        self.service = service
        self.attribute = attribute
        super().__init__(service)

    def __str__(self) -> str:
        what = f"{self.service}.{self.attribute}" if self.attribute else self.service
        return (
            f"Cannot use {what}: the {self.service} instance has been disposed and released "
            "its values. Create a new instance."
        )


class ValidationError(ExceptionGroup, AsyncDIError):
    """``registry.validate()`` found problems; every one of them is in the group."""

    def __new__(cls, message: str, errors: Sequence[Exception]) -> ValidationError:
        return super().__new__(cls, message, errors)

    def derive(self, excs: Sequence[Exception]) -> ValidationError:  # type: ignore[override]
        return ValidationError(self.message, excs)

    def __str__(self) -> str:
        lines = [f"{self.message}:"]
        lines += [f"  - {exc}" for exc in self.exceptions]
        return "\n".join(lines)


class ReleaseError(ExceptionGroup, AsyncDIError):
    """One or more release steps failed; every step still ran. Holds every failure."""

    def __new__(cls, message: str, errors: Sequence[Exception]) -> ReleaseError:
        return super().__new__(cls, message, errors)

    def derive(self, excs: Sequence[Exception]) -> ReleaseError:  # type: ignore[override]
        return ReleaseError(self.message, excs)
