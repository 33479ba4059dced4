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
from ._group import OnExit, PodGroup
from ._token import GROUP_ENV, TOKEN_ENV
from ._validation import PodId
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    CleanupError,
    ConfigurationError,
    InvalidRequestError,
    InvalidStateError,
    PermissionDeniedError,
    PodFailedError,
    PodNotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    ValidationError,
    WaitTimeoutError,
    YottaError,
)
from .models import EnvVar, ExposePort, PersistentVolume, Pod, PodCreateRequest, PodStatus
from .waiting import PodChange, WatchPolicy

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "Backoff",
    "CleanupError",
    "ConfigurationError",
    "EnvVar",
    "ExposePort",
    "GROUP_ENV",
    "InvalidRequestError",
    "InvalidStateError",
    "OnExit",
    "PermissionDeniedError",
    "PersistentVolume",
    "Pod",
    "PodChange",
    "PodCreateRequest",
    "PodFailedError",
    "PodGroup",
    "PodId",
    "PodNotFoundError",
    "PodStatus",
    "RateLimitError",
    "ResponseDecodeError",
    "ServerError",
    "SweepResult",
    "TOKEN_ENV",
    "ValidationError",
    "WaitTimeoutError",
    "WatchPolicy",
    "YottaClient",
    "YottaError",
    "__version__",
]
