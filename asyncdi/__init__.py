"""asyncdi: async-first dependency injection.

Declare what a service needs (``db = Dependency[Database]("db")``), register how each
need is made (``@provides("db", scope=Scope.SINGLETON)``), and ``await self.db``.
"""

__all__ = [
    "AsyncDIError",
    "AsyncHookError",
    "AsyncProviderError",
    "AsyncReleaseError",
    "AsyncService",
    "AsyncServiceMeta",
    "CaptiveDependencyError",
    "CycleError",
    "Dependency",
    "DuplicateProviderError",
    "HealthReport",
    "HealthResult",
    "Inject",
    "InjectNeedsAwaitError",
    "InvalidArgumentError",
    "InvalidNameError",
    "InvalidProviderError",
    "Lifespan",
    "MissingProviderError",
    "NoActiveScopeError",
    "NotAContextManagerError",
    "NotAServiceError",
    "NotInjectableError",
    "Overrides",
    "Pool",
    "PoolStats",
    "PoolTimeoutError",
    "Provider",
    "ProviderProtocolError",
    "ProviderStats",
    "Registry",
    "RegistryClosedError",
    "RegistryNotFoundError",
    "ReleaseError",
    "RequestScope",
    "ReuseError",
    "Scope",
    "ScopeClosedError",
    "ServiceDisposedError",
    "TypeMismatchError",
    "ValidationError",
    "inject",
    "provides",
    "registry",
    "resource",
]

from asyncdi._decorators import provides, resource
from asyncdi._dependency import Dependency
from asyncdi._errors import (
    AsyncDIError,
    AsyncHookError,
    AsyncProviderError,
    AsyncReleaseError,
    CaptiveDependencyError,
    CycleError,
    DuplicateProviderError,
    InvalidArgumentError,
    InvalidNameError,
    InvalidProviderError,
    MissingProviderError,
    NoActiveScopeError,
    NotAContextManagerError,
    NotAServiceError,
    PoolTimeoutError,
    ProviderProtocolError,
    RegistryClosedError,
    ReleaseError,
    ReuseError,
    ScopeClosedError,
    ServiceDisposedError,
    ValidationError,
)
from asyncdi._inject import InjectNeedsAwaitError, NotInjectableError, inject
from asyncdi._lifespan import Lifespan
from asyncdi._locate import RegistryNotFoundError
from asyncdi._markers import Inject
from asyncdi._monitoring import HealthReport, HealthResult, ProviderStats
from asyncdi._overrides import Overrides
from asyncdi._pool import Pool, PoolStats
from asyncdi._provider import Provider
from asyncdi._registry import Registry, registry
from asyncdi._request_scope import RequestScope
from asyncdi._scope import Scope
from asyncdi._service import AsyncService, AsyncServiceMeta
from asyncdi._typecheck import TypeMismatchError
