"""The error hierarchy: everything yotta-async raises is a ``YottaError``.

::

    YottaError
    ├── ConfigurationError            missing API key, refused base URL, bad client settings
    ├── ValidationError (ValueError)  bad input, caught before any request is sent
    ├── APIError                      the server answered with an error
    │   ├── InvalidRequestError       code 10001
    │   ├── AuthenticationError       HTTP 401
    │   ├── PermissionDeniedError     codes 10004, 11002
    │   ├── NotFoundError             HTTP 404, codes 13000, 12000, 10007, 11000
    │   │   ├── PodNotFoundError          ... on a pod's path (/v2/pods)
    │   │   ├── CredentialNotFoundError   ... on a registry credential's path
    │   │   └── VolumeNotFoundError       ... on a volume's path
    │   ├── InvalidStateError         codes 12001, 11001, HTTP 409
    │   │   └── ResourceInUseError    a credential or volume still in use (HTTP 409, code 25002)
    │   ├── RateLimitError            HTTP 429 (``retry_after``)
    │   └── ServerError               HTTP 5xx (envelope or not, e.g. a proxy's HTML 502), code 10002
    ├── APIConnectionError            the request did not get an answer
    │   └── APITimeoutError (TimeoutError)
    ├── ResponseDecodeError           a success (2xx) or other 4xx reply that is not the API's JSON
    │                                 or has the wrong shape
    ├── WaitTimeoutError (TimeoutError)  a waiter's deadline passed
    ├── PodFailedError                the pod reached FAILED (or TERMINATED when not expected)
    ├── CapacityError                 failover ran out of placements (``attempts`` lists each try)
    ├── VolumeFailedError             a volume went to ``error`` while a waiter watched it
    ├── CleanupError                  a pod group could not clean up everything
    └── BudgetExceededError           a create would push a group past its max_hourly_cost

No message or ``repr`` of these errors contains the API key: the session never puts
request headers into an error.

The HTTP status decides where the envelope cannot: a reply whose body is not the API's
envelope is an ``AuthenticationError`` on 401, a ``RateLimitError`` on 429 and a
``ServerError`` on any 5xx (each keeping the first 200 bytes in ``body_snippet``); only the
rest (a 2xx, a redirect or another 4xx) is a ``ResponseDecodeError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Pod, PodStatus

__all__ = [
    "APIConnectionError",
    "BudgetExceededError",
    "PlacementAttempt",
    "CapacityError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "CleanupError",
    "ConfigurationError",
    "CredentialNotFoundError",
    "InvalidRequestError",
    "InvalidStateError",
    "NotFoundError",
    "PermissionDeniedError",
    "PodFailedError",
    "PodNotFoundError",
    "RateLimitError",
    "ResourceInUseError",
    "ResponseDecodeError",
    "ServerError",
    "ValidationError",
    "VolumeFailedError",
    "VolumeNotFoundError",
    "WaitTimeoutError",
    "YottaError",
]


# The one message for a closed client, whether the call started after the close or was
# waiting (on a poll or the shared watcher) when it happened.
CLIENT_CLOSED = "the client is closed; create a new YottaClient"


class YottaError(Exception):
    """Base class of every exception raised by yotta-async."""


class ConfigurationError(YottaError):
    """The client is not configured well enough to make a request (for example, no API key)."""


class ValidationError(YottaError, ValueError):
    """Bad input, caught before any request was sent. ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class APIError(YottaError):
    """The API answered with an error envelope or an error HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
        body: bytes = b"",
    ) -> None:
        self.message = message
        self.body_snippet = body[:200]  # the start of the body, as ResponseDecodeError keeps it
        self.code = code
        self.http_status = http_status
        self.method = method
        self.path = path
        self.request_id = request_id
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.method} {self.path}" if self.method and self.path else "request"
        parts = [f"{where} failed"]
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.code is not None:
            parts.append(f"code {self.code}")
        detail = ", ".join(parts)
        text = f"{detail}: {self.message}" if self.message else detail
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


class InvalidRequestError(APIError):
    """The server rejected the request parameters (code 10001)."""


class AuthenticationError(APIError):
    """The API key is missing or wrong (HTTP 401)."""


class PermissionDeniedError(APIError):
    """The key may not do this (codes 10004 and 11002)."""


class NotFoundError(APIError):
    """What the request names does not exist, or no longer does.

    HTTP 404, or one of the not-found result codes (13000 pod not found, 12000 pod does not
    exist, 10007 record does not exist, 11000 VM not found). The code alone does not say which
    kind of resource is missing (10007 is generic), so the request's path decides the
    subclass: :class:`PodNotFoundError`, :class:`CredentialNotFoundError` or
    :class:`VolumeNotFoundError`. Catch ``NotFoundError`` for any of them::

        try:
            await client.volumes.delete(volume_id)
        except NotFoundError:
            pass  # already gone
    """


class CredentialNotFoundError(NotFoundError):
    """The registry credential does not exist, or no longer does (a ``NotFoundError`` on
    ``/v2/container-registry-auths``). The API documents no code for it; HTTP 404 is read so."""


class VolumeNotFoundError(NotFoundError):
    """The volume does not exist, or no longer does (a ``NotFoundError`` on ``/v2/volumes``).

    Also raised by a volume waiter when the volume disappears while it waits for it to be
    active (a wait for deletion takes "gone" as success).
    """


class PodNotFoundError(NotFoundError):
    """The pod does not exist, or no longer does (a ``NotFoundError`` on ``/v2/pods``).

    Raised by a waiter, it also carries ``pod`` (the last snapshot seen, if any),
    ``elapsed``, ``polls`` and ``history`` like :class:`WaitTimeoutError`.
    """

    pod: Pod | None = None
    pod_id: int | None = None
    elapsed: float | None = None
    polls: int = 0
    history: Sequence[PodStatus] = ()


class InvalidStateError(APIError):
    """The action is not allowed in the resource's current state (codes 12001, 11001; HTTP 409)."""


class ResourceInUseError(InvalidStateError):
    """A registry credential or a volume is still in use, so it cannot be deleted or resized.

    The API refuses in one of two forms, and both raise this: HTTP 409, or HTTP 200 with
    code 25002 (whose ``data`` may list the users). Attributes:

    * ``pod_ids``: the pods using the resource, as far as the reply names them (ints);
    * ``pod_list`` / ``elastic_list``: ``data.podList`` / ``data.elasticList`` exactly as
      sent (their element shapes are not documented), or ``None`` when not sent;
    * ``mount_count``: a volume's ``mountCount`` when known, else ``None``;
    * ``resource_id``: the credential or volume id, when the SDK knows it.
    """

    pod_ids: list[int]
    pod_list: list[Any] | None = None
    elastic_list: list[Any] | None = None
    mount_count: int | None = None
    resource_id: int | None = None

    def __init__(
        self,
        message: str,
        *,
        pod_ids: Sequence[int] = (),
        pod_list: list[Any] | None = None,
        elastic_list: list[Any] | None = None,
        mount_count: int | None = None,
        resource_id: int | None = None,
        **kw: Any,
    ) -> None:
        self.pod_ids = list(pod_ids)
        self.pod_list = pod_list
        self.elastic_list = elastic_list
        self.mount_count = mount_count
        self.resource_id = resource_id
        super().__init__(message, **kw)


class RateLimitError(APIError):
    """Too many requests (HTTP 429). ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class ServerError(APIError):
    """The server failed (HTTP 5xx or code 10002)."""


class APIConnectionError(YottaError):
    """The request could not be sent or its answer could not be read.

    ``request_sent`` is False only where the failure proves the request never left
    (the connection could not be opened), which makes even a create safe to retry.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        request_sent: bool = True,
    ) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.request_sent = request_sent
        where = f"{method} {path}: " if method and path else ""
        super().__init__(f"{where}{message}")


class APITimeoutError(APIConnectionError, TimeoutError):
    """The request timed out."""


class ResponseDecodeError(YottaError):
    """The body is not JSON, or not the shape the API documents.

    Keeps the HTTP status and the first 200 bytes of the body in ``body_snippet``.
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        body: bytes = b"",
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.http_status = http_status
        self.body_snippet = body[:200]
        self.method = method
        self.path = path
        where = f"{method} {path}" if method and path else "response"
        status = f" (HTTP {http_status})" if http_status is not None else ""
        super().__init__(f"{where}{status}: {message}; body starts {self.body_snippet!r}")


class WaitTimeoutError(YottaError, TimeoutError):
    """A waiter's deadline passed before the pod reached the wanted state.

    Carries ``pod`` (the last snapshot, or ``None`` if no poll succeeded), ``elapsed``
    seconds, ``polls`` and ``history`` (the statuses seen, in order). A wait for READY
    also names the ports still not ready in ``ports`` (e.g. ``["22/SSH"]``). A wait on
    another resource (a volume) sets ``resource_id`` and ``snapshot`` (its last snapshot)
    instead of ``pod_id`` and ``pod``.
    """

    resource_id: int | None = None
    snapshot: Any = None

    def __init__(
        self,
        message: str,
        *,
        pod_id: int | None = None,
        pod: Pod | None = None,
        elapsed: float = 0.0,
        polls: int = 0,
        history: Sequence[PodStatus] = (),
        ports: Sequence[str] = (),
    ) -> None:
        self.pod_id = pod_id
        self.pod = pod
        self.elapsed = elapsed
        self.polls = polls
        self.history = list(history)
        self.ports = list(ports)
        super().__init__(message)


class PodFailedError(YottaError):
    """The pod reached FAILED, or TERMINATED while the wait expected it to run or pause.

    ``pod`` is the last snapshot; a waiter also sets ``elapsed`` seconds, ``polls`` and
    ``history`` (the statuses seen, in order).
    """

    def __init__(
        self,
        message: str,
        *,
        pod: Pod | None = None,
        pod_id: int | None = None,
        elapsed: float | None = None,
        polls: int = 0,
        history: Sequence[PodStatus] = (),
    ):
        self.pod = pod
        self.pod_id = pod_id if pod_id is not None else (pod.id if pod is not None else None)
        self.elapsed = elapsed
        self.polls = polls
        self.history = list(history)
        super().__init__(message)


@dataclass(frozen=True)
class PlacementAttempt:
    """One try of a failover: where (``placement``, shown as ``gpu_type@region``), which pod
    (``pod_id``; ``None`` when the create itself was refused) and why it did not count
    (``reason``).
    """

    placement: Any
    pod_id: int | None
    reason: str

    def __str__(self) -> str:
        pod = f"pod {self.pod_id}" if self.pod_id is not None else "no pod"
        return f"{self.placement}: {pod}: {self.reason}"


class CapacityError(YottaError):
    """A launch with ``placements`` ran out of them before enough pods reached the target.

    ``attempts`` lists every try in order (:class:`PlacementAttempt`: placement, pod id, reason),
    skipped placements included; ``wanted`` is how many pods were asked for and
    ``landed`` how many reached the target. The pods that did stay in their group, so its
    cleanup policy handles them; every replaced pod was deleted.
    """

    def __init__(
        self,
        message: str,
        *,
        attempts: Sequence[PlacementAttempt] = (),
        wanted: int = 0,
        landed: int = 0,
    ) -> None:
        self.attempts = list(attempts)
        self.wanted = wanted
        self.landed = landed
        lines = [message, *(f"  {a}" for a in self.attempts[:50])]
        if len(self.attempts) > 50:
            lines.append(f"  ... and {len(self.attempts) - 50} more attempts")
        super().__init__("\n".join(lines))


class VolumeFailedError(YottaError):
    """A volume reached ``error`` (its last operation failed) while a waiter watched it.

    Carries ``volume`` (the last snapshot), ``volume_id``, ``elapsed``, ``polls`` and
    ``history`` (the statuses seen, in order).
    """

    def __init__(
        self,
        message: str,
        *,
        volume: Any = None,
        volume_id: int | None = None,
        elapsed: float | None = None,
        polls: int = 0,
        history: Sequence[Any] = (),
    ) -> None:
        self.volume = volume
        self.volume_id = volume_id
        self.elapsed = elapsed
        self.polls = polls
        self.history = list(history)
        super().__init__(message)


class CleanupError(YottaError):
    """A pod group could not clean up every pod it created.

    ``failures`` maps each pod id (or ``None`` for a create whose pod was never found) to
    the exception that stopped its cleanup; ``original`` is the error that triggered the
    cleanup, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        failures: dict[int | None, BaseException] | None = None,
        original: BaseException | None = None,
    ) -> None:
        self.failures = dict(failures or {})
        self.original = original
        super().__init__(message)


class BudgetExceededError(YottaError):
    """A pod group refused a pod: it would push the group's hourly cost past its cap.

    The pod was deleted as soon as its create reply arrived, before it could reach RUNNING
    (when billing starts). ``cap`` is the group's ``max_hourly_cost``; ``total`` the hourly
    cost of the group's pods when the reply arrived; ``pod_cost`` the refused pod's hourly
    cost, or ``None`` when a price was missing (refused unless ``allow_unknown_cost=True``).
    ``pod_id`` names the refused pod; ``delete_error`` is set if deleting it failed (the
    group's cleanup then tries again when its block ends).
    """

    def __init__(
        self,
        message: str,
        *,
        cap: Decimal,
        total: Decimal,
        pod_cost: Decimal | None,
        pod_id: int | None = None,
        delete_error: BaseException | None = None,
    ) -> None:
        self.cap = cap
        self.total = total
        self.pod_cost = pod_cost
        self.pod_id = pod_id
        self.delete_error = delete_error
        super().__init__(message)
