"""yotta-async: an asyncio-first, typed SDK for the Yotta Labs Pods API v2.

::

    from yotta_async import YottaClient, PodCreateRequest, PodStatus

    async with YottaClient() as client:
        pod = await client.pods.create(PodCreateRequest(
            name="train-0", image="nvidia/cuda:12.1.0-base-ubuntu22.04",
            gpu_type="NVIDIA_H100_80G", gpu_count=1))
"""

from ._backoff import Backoff
from ._bulk import SweepResult
from ._client import YottaClient
from ._expiry import DEFAULT_EXPIRY_GRACE, EXPIRES_ENV
from ._failover import FailoverEvent
from ._group import OnExit, PodGroup
from ._probe import Prober
from ._token import GROUP_ENV, TOKEN_ENV
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
    InvalidRequestError,
    InvalidStateError,
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
from .waiting import READY, PodChange, WatchPolicy

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
    "VolumeStatus",
    "WaitTimeoutError",
    "WatchPolicy",
    "YottaClient",
    "YottaError",
    "__version__",
]
