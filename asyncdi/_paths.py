"""Resolution paths on errors, built only when an error needs one.

Nothing on the way in records where a resolution is: a plan's generated code knows, for
each of its lines, which provider that line makes (see ``_codegen``). When an error
passes through, :func:`annotate` reads the line it passed from its traceback and puts
that part of the path in front of what inner plans added, so the note a user reads
(``asyncdi: while resolving 'svc' -> 'repo' -> 'db'``) costs nothing until something
fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Final

from asyncdi._errors import AsyncDIError, CycleError, format_path

__all__ = ["NOTE_PREFIX", "annotate", "prefix_path"]

NOTE_PREFIX: Final = "asyncdi: while resolving "
_PATH_KEY: Final = "__asyncdi_path__"


def prefix_path(error: BaseException, steps: tuple[str, ...]) -> None:
    """Put ``steps`` in front of the path ``error`` has travelled so far."""
    if not steps or not isinstance(error, Exception):
        return  # cancellations and interrupts carry no path
    if isinstance(error, CycleError) and not error.complete:
        error.prefixed(steps)
        return
    if isinstance(error, AsyncDIError):
        # asyncdi's own errors carry the path of what asked, in their text
        path = getattr(error, "path", None)
        if isinstance(path, tuple):
            combined = (*steps, *path)
            if not path and combined[-1] == getattr(error, "name", None):
                combined = combined[:-1]  # the path is of what asked for the name
            error.path = combined  # type: ignore[attr-defined]
        return
    path = (*steps, *error.__dict__.get(_PATH_KEY, ()))
    error.__dict__[_PATH_KEY] = path
    note = NOTE_PREFIX + format_path(path)
    notes: list[str] | None = getattr(error, "__notes__", None)
    if notes is not None:
        for index, old in enumerate(notes):
            if isinstance(old, str) and old.startswith(NOTE_PREFIX):
                notes[index] = note
                return
    error.add_note(note)


def annotate(
    error: BaseException,
    traceback: TracebackType | None,
    paths: Mapping[int, tuple[str, ...]],
    makers: Mapping[int, Any],
) -> None:
    """Prefix the path of the line of this frame the error passed through, if known,
    and count a failure for the provider that line was making."""
    if traceback is None:
        return
    line = traceback.tb_lineno
    provider = makers.get(line)
    if provider is not None:
        provider.failures += 1
    steps = paths.get(line)
    if steps is not None:
        prefix_path(error, steps)
