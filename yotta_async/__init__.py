"""yotta-async: an asyncio-first, typed SDK for the Yotta Labs Pods API v2.

::

    from yotta_async import YottaClient, PodCreateRequest, PodStatus

    async with YottaClient() as client:
        pod = await client.pods.create(PodCreateRequest(
            name="train-0", image="nvidia/cuda:12.1.0-base-ubuntu22.04",
            gpu_type="NVIDIA_H100_80G", gpu_count=1))

``import yotta_async`` loads the models and the errors only. The client stack (asyncio,
anyio, the waiters, groups, and aiohttp on the first request) loads the first time one of
its names is used, so a program or a CLI that never talks to the API does not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._validation import PodId
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BudgetExceededError,
    CapacityError,
    CleanupError,
    ConfigurationError,
    CredentialNotFoundError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    PlacementAttempt,
    PodFailedError,
    PodNotFoundError,
    RateLimitError,
    ResourceInUseError,
    ResponseDecodeError,
    ServerError,
    ValidationError,
    VolumeFailedError,
    VolumeNotFoundError,
    WaitTimeoutError,
    YottaError,
)
from .models import (
    EnvVar,
    ExposePort,
    GpuRegion,
    GpuType,
    PersistentVolume,
    Placement,
    Pod,
    PodCreateRequest,
    PodStatus,
    RegistryCredential,
    RegistryType,
    StorageType,
    Volume,
    VolumeMount,
    VolumeStatus,
)

if TYPE_CHECKING:  # the names below load on first use (see _LAZY)
    from ._backoff import Backoff
    from ._bulk import SweepResult
    from ._client import YottaClient
    from ._expiry import DEFAULT_EXPIRY_GRACE, EXPIRES_ENV
    from ._failover import FailoverEvent
    from ._group import OnExit, PodGroup
    from ._probe import Prober
    from ._token import GROUP_ENV, TOKEN_ENV
    from .waiting import PodChange, WatchPolicy
    from .waiting.ready import READY

# Public name -> the module that defines it, imported on first attribute access (PEP 562).
# A new public name whose module imports asyncio, anyio or aiohttp belongs here, not in an
# eager import above: tests/unit/test_import_cost.py fails otherwise.
_LAZY: dict[str, str] = {
    "Backoff": "._backoff",
    "DEFAULT_EXPIRY_GRACE": "._expiry",
    "EXPIRES_ENV": "._expiry",
    "FailoverEvent": "._failover",
    "GROUP_ENV": "._token",
    "OnExit": "._group",
    "PodChange": ".waiting",
    "PodGroup": "._group",
    "Prober": "._probe",
    "READY": ".waiting",
    "SweepResult": "._bulk",
    "TOKEN_ENV": "._token",
    "WatchPolicy": ".waiting",
    "YottaClient": "._client",
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "Backoff",
    "BudgetExceededError",
    "CapacityError",
    "CleanupError",
    "ConfigurationError",
    "CredentialNotFoundError",
    "DEFAULT_EXPIRY_GRACE",
    "EXPIRES_ENV",
    "EnvVar",
    "ExposePort",
    "FailoverEvent",
    "GpuRegion",
    "GpuType",
    "GROUP_ENV",
    "InvalidRequestError",
    "InvalidStateError",
    "NotFoundError",
    "OnExit",
    "PermissionDeniedError",
    "PersistentVolume",
    "Placement",
    "PlacementAttempt",
    "Pod",
    "PodChange",
    "PodCreateRequest",
    "PodFailedError",
    "PodGroup",
    "PodId",
    "PodNotFoundError",
    "PodStatus",
    "Prober",
    "READY",
    "RateLimitError",
    "RegistryCredential",
    "RegistryType",
    "ResourceInUseError",
    "ResponseDecodeError",
    "ServerError",
    "StorageType",
    "SweepResult",
    "TOKEN_ENV",
    "ValidationError",
    "Volume",
    "VolumeFailedError",
    "VolumeMount",
    "VolumeNotFoundError",
    "VolumeStatus",
    "WaitTimeoutError",
    "WatchPolicy",
    "YottaClient",
    "YottaError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """Import a lazily loaded public name on first use, then keep it in the module."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
