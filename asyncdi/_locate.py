"""Find a registry named by ``"package.module:attribute"`` (the CLI and the pytest plugin)."""

from __future__ import annotations

import importlib
import traceback
from typing import TYPE_CHECKING

from asyncdi._errors import AsyncDIError

if TYPE_CHECKING:
    from asyncdi._registry import Registry

__all__ = ["RegistryNotFoundError", "locate_registry"]


class RegistryNotFoundError(LookupError, AsyncDIError):
    """A ``MODULE:ATTRIBUTE`` target that does not name an importable ``Registry``."""

    def __init__(self, target: str, problem: str, detail: str = "") -> None:
        self.target = target
        self.problem = problem
        self.detail = detail  # the traceback of an import that failed, if any
        super().__init__(problem)

    def __str__(self) -> str:
        return f"cannot load the registry {self.target!r}: {self.problem}"


def locate_registry(target: str) -> Registry:
    """Import ``module`` and return its ``attribute`` (dots allowed), which must be a Registry."""
    from asyncdi._registry import Registry

    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise RegistryNotFoundError(
            target,
            "expected MODULE:ATTRIBUTE, such as 'myapp.container:registry'.",
        )
    try:
        found: object = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name
        if missing is not None and (
            missing == module_name or module_name.startswith(f"{missing}.")
        ):
            raise RegistryNotFoundError(
                target,
                f"no module named {error.name!r}. Run from the directory that contains it, "
                "or install its package.",
            ) from error
        raise _import_failed(target, module_name, error) from error
    except Exception as error:
        raise _import_failed(target, module_name, error) from error
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise RegistryNotFoundError(
                target, f"{module_name!r} has no attribute {attribute!r}."
            ) from None
    if not isinstance(found, Registry):
        raise RegistryNotFoundError(
            target,
            f"{attribute!r} is an object of type {type(found).__name__}, not an asyncdi Registry.",
        )
    return found


def _import_failed(target: str, module: str, error: BaseException) -> RegistryNotFoundError:
    detail = "".join(traceback.format_exception(error))
    return RegistryNotFoundError(
        target,
        f"importing {module!r} raised {type(error).__name__}: {error}",
        detail,
    )
