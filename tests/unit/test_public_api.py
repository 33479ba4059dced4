"""Pins the public surface: ``yotta_async.__all__`` and the error tree DESIGN.md promises."""

from __future__ import annotations

import re

import yotta_async
from yotta_async import errors

EXPECTED_ALL = [
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


def test_all_is_pinned() -> None:
    # Adding or removing a public name is an API change: update this list on purpose.
    assert sorted(yotta_async.__all__) == sorted(EXPECTED_ALL)
    assert len(yotta_async.__all__) == len(set(yotta_async.__all__))


def test_every_public_name_exists() -> None:
    for name in yotta_async.__all__:
        assert hasattr(yotta_async, name), name


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from yotta_async import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(yotta_async.__all__)


def test_version_is_a_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)?", yotta_async.__version__)


def test_every_error_is_exported() -> None:
    assert set(errors.__all__) <= set(yotta_async.__all__)
    for name in errors.__all__:
        assert getattr(yotta_async, name) is getattr(errors, name)


def test_error_tree() -> None:
    e = yotta_async
    parents = {
        e.ConfigurationError: e.YottaError,
        e.ValidationError: e.YottaError,
        e.APIError: e.YottaError,
        e.InvalidRequestError: e.APIError,
        e.AuthenticationError: e.APIError,
        e.PermissionDeniedError: e.APIError,
        e.PodNotFoundError: e.APIError,
        e.InvalidStateError: e.APIError,
        e.ResourceInUseError: e.InvalidStateError,
        e.RateLimitError: e.APIError,
        e.ServerError: e.APIError,
        e.APIConnectionError: e.YottaError,
        e.APITimeoutError: e.APIConnectionError,
        e.ResponseDecodeError: e.YottaError,
        e.WaitTimeoutError: e.YottaError,
        e.PodFailedError: e.YottaError,
        e.VolumeFailedError: e.YottaError,
        e.CleanupError: e.YottaError,
        e.BudgetExceededError: e.YottaError,
        e.CapacityError: e.YottaError,
    }
    for cls, parent in parents.items():
        assert issubclass(cls, parent), cls
    assert issubclass(e.ValidationError, ValueError)
    assert issubclass(e.APITimeoutError, TimeoutError)
    assert issubclass(e.WaitTimeoutError, TimeoutError)
    assert not issubclass(e.APIError, (ValueError, TimeoutError))


def test_models_and_client_are_the_real_ones() -> None:
    from yotta_async._client import YottaClient
    from yotta_async.models import Pod, PodCreateRequest, PodStatus

    assert yotta_async.YottaClient is YottaClient
    assert (yotta_async.Pod, yotta_async.PodCreateRequest, yotta_async.PodStatus) == (
        Pod, PodCreateRequest, PodStatus)
