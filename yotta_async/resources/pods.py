"""``client.pods``: the six Pods API v2 endpoints, composed with the pod waits and bulk helpers."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, overload

import msgspec

from .._bulk import PodBulk
from .._expiry import check_ttl, deadline_after, stamp_expiry
from .._ops import GroupRegistry
from .._probe import Prober
from .._protocol import DEFAULT_CAPACITY_ERROR_CODES, RETRY_NEVER, RETRY_UNSENT, ReplyDecoder
from .._runtime import Runtime
from .._session import IGNORE_DATA, Session, encode
from .._token import TOKEN_ENV, PodLister, annotate, matching, new_token, stamp
from .._validation import (
    PodId,
    check_id,
    check_instance,
    check_number,
    check_strings,
    check_token,
)
from ..errors import InvalidStateError, YottaError
from ..models import GpuType, Pod, PodCreateFields, PodCreateRequest, PodStatus, StatusLike
from ..models.request import check_create_request
from ..models.status import check_statuses
from ..waiting import PodListing, WatchPolicy
from ._listing import POD_DECODER, listed_pod, listed_pod_id
from ._pod_waits import PodWaits

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack is 3.11+; annotations only

__all__ = ["DEFAULT_RECONCILE_SETTLE", "POD_DECODER", "POD_LIST_DECODER", "Pods", "PodsSettings"]

logger = logging.getLogger("yotta_async")

# Built once, at import. Non-strict so that ids sent as JSON strings decode to int.
POD_LIST_DECODER: ReplyDecoder[list[Pod] | None] = ReplyDecoder(list[Pod] | None)
# The API's own view of a pod, every field it sent (for tools that pass pods on unchanged).
RAW_POD_DECODER: ReplyDecoder[dict[str, Any]] = ReplyDecoder(dict[str, Any])
RawPods = list[dict[str, Any]]  # an alias: inside Pods, ``list`` is the method
RAW_POD_LIST_DECODER: ReplyDecoder[RawPods | None] = ReplyDecoder(RawPods | None)
# The watcher's listing: each pod kept as raw JSON, decoded only if watched and changed.
RAW_ITEMS_DECODER: ReplyDecoder[list[msgspec.Raw] | None] = ReplyDecoder(list[msgspec.Raw] | None)


# How many pods' last seen status are remembered, to explain a refused action (code 12001).
SEEN_STATUSES = 4096

DEFAULT_RECONCILE_SETTLE = 2.0


@dataclass(frozen=True)
class PodsSettings:
    """The pods resource's tunables, validated on construction.

    ``watch_policy`` tunes the shared watcher; ``reconcile_settle`` is the seconds between
    the two listings that decide a create whose reply was lost made no pod (see
    :meth:`Pods.create`); ``capacity_error_codes`` are the create result codes that
    failover reads as "no capacity there" (``YottaClient(capacity_error_codes=...)``).
    """

    watch_policy: WatchPolicy = field(default_factory=WatchPolicy)
    reconcile_settle: float = DEFAULT_RECONCILE_SETTLE
    capacity_error_codes: frozenset[int] = DEFAULT_CAPACITY_ERROR_CODES

    def __post_init__(self) -> None:
        check_instance(self.watch_policy, WatchPolicy, "watch_policy")
        check_number(self.reconcile_settle, "reconcile_settle", inclusive=True)


class Pods:
    """The pods resource (``client.pods``).

    Endpoints: ``create``, ``list``, ``get``, ``pause``, ``resume``, ``delete``.
    Waiters (from :attr:`waits`): ``wait_until_running``, ``wait_until_ready``, ``wait_until_paused``,
    ``wait_until_terminated``, ``wait_all``, ``as_completed``, ``watch``.
    Bulk (from :attr:`bulk`): ``create_many``, ``pause_many``, ``resume_many``,
    ``delete_many``, ``group``, ``sweep``.

    Composed, not inherited: it receives the transport, the client's runtime and its
    settings, and hands itself (as :class:`~yotta_async._ops.PodOps`) to the bulk helpers.
    """

    def __init__(
        self,
        transport: Session,
        runtime: Runtime,
        settings: PodsSettings | None = None,
        *,
        catalogue: Callable[[], Awaitable[list[GpuType]]] | None = None,
    ) -> None:
        self._transport = transport
        self._catalogue = catalogue
        self._settings = settings or PodsSettings()
        self.runtime = runtime
        self.groups = GroupRegistry()
        self._lister = PodLister(self.list)
        self._seen: dict[int, PodStatus] = {}
        self.waits = PodWaits(self._list_once, self._get_once, runtime, self._settings.watch_policy)
        self.bulk = PodBulk(self)
        # The collaborators' methods, re-exposed as client.pods.<name>.
        self.wait_until_running = self.waits.wait_until_running
        self.wait_until_ready = self.waits.wait_until_ready
        self.wait_until_paused = self.waits.wait_until_paused
        self.wait_until_terminated = self.waits.wait_until_terminated
        self.wait_all = self.waits.wait_all
        self.as_completed = self.waits.as_completed
        self.watch = self.waits.watch
        self.create_many = self.bulk.create_many
        self.pause_many = self.bulk.pause_many
        self.resume_many = self.bulk.resume_many
        self.delete_many = self.bulk.delete_many
        self.group = self.bulk.group
        self.sweep = self.bulk.sweep

    # -- settings ----------------------------------------------------------------------------
    @property
    def settings(self) -> PodsSettings:
        """The current settings (read-only; assign :attr:`watch_policy` or
        :attr:`reconcile_settle` to change one)."""
        return self._settings

    @property
    def watch_policy(self) -> WatchPolicy:
        """How often the shared watcher lists pods; a new policy applies at its next tick."""
        return self._settings.watch_policy

    @watch_policy.setter
    def watch_policy(self, policy: WatchPolicy) -> None:
        self._settings = dataclasses.replace(self._settings, watch_policy=policy)
        self.waits.watch_policy = policy

    @property
    def capacity_error_codes(self) -> frozenset[int]:
        """Create result codes that failover treats as "no capacity on that placement"."""
        return self._settings.capacity_error_codes

    async def catalogue(self) -> list[GpuType] | None:
        """The GPU catalogue (``client.gpu_types.list()``), or ``None`` if it cannot be read.

        Failover uses it to skip placements reported unavailable; when it cannot be read
        (an error, or no catalogue wired in), nothing is skipped.
        """
        if self._catalogue is None:
            return None
        try:
            return await self._catalogue()
        except YottaError as exc:
            logger.debug("GPU catalogue unreadable, no placement skipped: %r", exc)
            return None

    @property
    def prober(self) -> Prober:
        """The TCP prober of ``READY(probe=True)`` waits (connect timeout, concurrency cap)."""
        return self.waits.prober

    @prober.setter
    def prober(self, prober: Prober) -> None:
        self.waits.prober = check_instance(prober, Prober, "prober")

    @property
    def reconcile_settle(self) -> float:
        """Seconds between the two listings that decide a lost create made no pod."""
        return self._settings.reconcile_settle

    @reconcile_settle.setter
    def reconcile_settle(self, seconds: float) -> None:
        self._settings = dataclasses.replace(self._settings, reconcile_settle=seconds)

    # -- endpoints ---------------------------------------------------------------------------
    def _saw(self, pod: Pod) -> Pod:
        """Remember ``pod``'s status (the newest :data:`SEEN_STATUSES` pods) for error messages."""
        seen = self._seen
        seen.pop(pod.id, None)
        seen[pod.id] = pod.status
        if len(seen) > SEEN_STATUSES:
            del seen[next(iter(seen))]
        return pod

    @overload
    async def create(self, request: PodCreateRequest, /, *, client_token: str | bool = True) -> Pod: ...
    @overload
    async def create(
        self, request: None = None, /, *, client_token: str | bool = True,
        **fields: Unpack[PodCreateFields],
    ) -> Pod: ...
    async def create(
        self,
        request: PodCreateRequest | None = None,
        /,
        *,
        client_token: str | bool = True,
        expires_in: float | timedelta | None = None,
        **fields: Any,
    ) -> Pod:
        """Create a pod from a ``PodCreateRequest``, or from keyword arguments; exactly once.

        ::

            pod = await client.pods.create(PodCreateRequest(name="n", image="img",
                                                            gpu_type="NVIDIA_H100_80G", gpu_count=1))
            pod = await client.pods.create(name="n", image="img", gpu_type="NVIDIA_H100_80G",
                                           gpu_count=1, env={"MODE": "x"}, expose=[8888])

        The request is validated before anything is sent. Failures that prove the server
        never saw it (connection refused, 429) are retried. An *ambiguous* failure (timeout or
        dropped connection after sending, 5xx) is reconciled instead of blindly retried: the
        request carries a client token (env var ``YOTTA_ASYNC_TOKEN``), the pod list is searched
        for it, and the pod found is returned; only if two listings ``reconcile_settle``
        seconds apart both lack it is the create sent again (with the same token). Pass
        ``client_token="..."`` to choose the token, or ``client_token=False`` to send the
        request untouched, in which case an ambiguous failure is raised as it is.

        ``expires_in`` (seconds or a ``timedelta``) writes an absolute deadline on the pod
        (``YOTTA_ASYNC_EXPIRES=<unix seconds>``): once it has passed,
        ``client.pods.sweep(expired=True)`` or the ``yotta-async sweep --expired --every 60``
        reaper deletes the pod, even if this process is long gone. Nothing in this process
        acts on it by itself.
        """
        req = check_create_request(request, fields)
        if expires_in is not None:
            req = stamp_expiry(req, deadline_after(check_ttl(expires_in, "expires_in")))
        if client_token is False:
            return self._saw(await self._transport.request(
                "POST", "/v2/pods", POD_DECODER, body=encode(req), retry=RETRY_UNSENT
            ))
        token = new_token() if client_token is True else check_token(client_token)
        return self._saw(await self.create_with_token(req, token))

    async def create_with_token(
        self, request: PodCreateRequest, token: str, *, group: str | None = None
    ) -> Pod:
        """Create a pod carrying ``token`` (and the ``group`` label); exactly once.

        The building block of :meth:`create` and of pod groups: the token is known before
        the request is sent, so a caller can register it first. Ambiguous failures are
        reconciled by the token (see :meth:`create`); the session's retry loop decides,
        with its usual backoff and ``max_retries``, whether to send again.
        """
        check_token(token)
        body = encode(stamp(check_instance(request, PodCreateRequest, "request"), token, group))
        absent: list[YottaError] = []  # ambiguous failures that reconciliation found no pod for

        async def reconcile(failure: YottaError) -> Pod | None:
            found = await self._reconcile(token, failure)
            if found is None:
                absent.append(failure)
                logger.info("create %s: %s, and no pod has the token", token, type(failure).__name__)
            else:
                logger.info("create %s: reply lost, but pod %d exists; using it", token, found.id)
            return found

        try:
            return await self._transport.request(
                "POST", "/v2/pods", POD_DECODER, body=body, retry=RETRY_UNSENT, reconcile=reconcile
            )
        except YottaError as exc:
            if absent and exc is absent[-1]:
                annotate(exc, f"yotta-async: no pod with {TOKEN_ENV}={token} was found after "
                              f"{len(absent)} attempts; it was most likely not created")
            raise

    async def _reconcile(self, token: str, failure: YottaError) -> Pod | None:
        """The pod carrying ``token``, from a listing made after ``failure``; None if absent.

        Two listings ``reconcile_settle`` seconds apart must both lack it, so a create the
        server was still processing when the first listing ran is not sent twice.
        """
        lister = self._lister
        for round_ in range(2):
            if round_:
                await self.runtime.sleep(self.reconcile_settle)
            try:
                pods = await lister.fresh(lister.mark())
            except YottaError as list_exc:
                annotate(failure, f"yotta-async: could not check whether the pod was created "
                                  f"({TOKEN_ENV}={token}): listing pods failed with {list_exc!r}")
                raise failure  # noqa: B904  # the listing's error stays attached as context
            hits = matching(pods, {token})
            if hits:
                if len(hits) > 1:
                    logger.warning("%d pods carry %s=%s; returning the oldest",
                                   len(hits), TOKEN_ENV, token)
                return min(hits, key=lambda p: (p.created_at or 0, p.id))
        return None

    async def get(self, pod_id: PodId) -> Pod:
        """One pod by id. Raises ``PodNotFoundError`` if it does not exist (any more)."""
        pid = check_id(pod_id, "pod_id")
        return self._saw(await self._transport.request("GET", f"/v2/pods/{pid}", POD_DECODER))

    async def get_raw(self, pod_id: PodId) -> dict[str, Any]:
        """Like :meth:`get`, but the pod exactly as the API sent it (see :meth:`list_raw`)."""
        pid = check_id(pod_id, "pod_id")
        return await self._transport.request("GET", f"/v2/pods/{pid}", RAW_POD_DECODER)

    async def pause(self, pod_id: PodId) -> None:
        """Ask a RUNNING pod to pause (GPU billing stops once it is PAUSED)."""
        pid = check_id(pod_id, "pod_id")
        await self._action("pause", pid, "POST", f"/v2/pods/{pid}/pause")

    async def resume(self, pod_id: PodId) -> None:
        """Ask a PAUSED pod to start again."""
        pid = check_id(pod_id, "pod_id")
        await self._action("resume", pid, "POST", f"/v2/pods/{pid}/resume")

    async def delete(self, pod_id: PodId) -> None:
        """Ask for a pod to be terminated. It passes TERMINATING, then TERMINATED."""
        pid = check_id(pod_id, "pod_id")
        await self._action("delete", pid, "DELETE", f"/v2/pods/{pid}")

    async def _action(self, verb: str, pid: int, method: str, path: str) -> None:
        try:
            await self._transport.request(method, path, IGNORE_DATA)
        except InvalidStateError as exc:
            if type(exc) is not InvalidStateError:
                raise  # a subclass (e.g. ResourceInUseError) already says what and why
            # The API only says "Resource status invalid": name the action and what we know.
            status = self._seen.get(pid)
            known = f" (last known status {status.value})" if status is not None else ""
            raise InvalidStateError(
                f"cannot {verb} pod {pid} in its current state{known}: {exc.message}",
                code=exc.code, http_status=exc.http_status, method=exc.method, path=exc.path,
                request_id=exc.request_id, body=exc.body_snippet,
            ) from None

    # -- single requests for the waiters (they retry on their own schedule) ------------------
    async def _list_once(self, regions: list[str] | None) -> PodListing:
        params = [("regionList", r) for r in regions or ()]
        items = await self._transport.request(
            "GET", "/v2/pods", RAW_ITEMS_DECODER, params=params, retry=RETRY_NEVER
        )
        return PodListing(items or [], listed_pod_id, listed_pod)

    async def _get_once(self, pid: int) -> Pod:
        pod = await self._transport.request("GET", f"/v2/pods/{pid}", POD_DECODER, retry=RETRY_NEVER)
        return self._saw(pod)

    async def aclose(self) -> None:
        """Stop any background poller this resource started."""
        await self.waits.aclose()

    # Last: inside the class body, ``list`` would shadow the builtin in later annotations.
    async def list(
        self,
        *,
        regions: Iterable[str] | None = None,
        statuses: Iterable[StatusLike] | None = None,
    ) -> list[Pod]:
        """All pods of the organisation, optionally filtered by region and status.

        ``statuses`` takes ``PodStatus`` members, names (aliases such as ``"STOPPED"``
        included) or the legacy integers 0-6.
        """
        params = _list_params(regions, statuses)
        pods = await self._transport.request("GET", "/v2/pods", POD_LIST_DECODER, params=params)
        return pods or []

    async def list_raw(
        self,
        *,
        regions: Iterable[str] | None = None,
        statuses: Iterable[StatusLike] | None = None,
    ) -> RawPods:
        """Like :meth:`list`, but each pod exactly as the API sent it: a dict with the API's
        camelCase keys, fields this SDK version does not model included.

        For tools that pass pods on (the CLI's ``--output json`` uses it)::

            for pod in await client.pods.list_raw():
                print(pod["id"], pod.get("someNewField"))
        """
        params = _list_params(regions, statuses)
        pods = await self._transport.request("GET", "/v2/pods", RAW_POD_LIST_DECODER, params=params)
        return pods or []


def _list_params(
    regions: Iterable[str] | None, statuses: Iterable[StatusLike] | None
) -> list[tuple[str, str]]:
    params = [("regionList", region) for region in check_strings(regions, "regions")]
    params += [("statusList", status.value) for status in check_statuses(statuses)]
    return params
