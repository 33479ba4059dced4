"""The six Pods API v2 endpoints, validated and typed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .._expiry import check_ttl, deadline_after, stamp_expiry
from .._protocol import ReplyDecoder
from .._session import IGNORE_DATA, RETRY_UNSENT, Session, encode
from .._token import (
    TOKEN_ENV,
    PodLister,
    annotate,
    check_token,
    is_ambiguous,
    matching,
    new_token,
    stamp,
)
from ..errors import ValidationError, YottaError
from ..models import Pod, PodCreateRequest, PodStatus
from ._ids import PodId, pod_id

if TYPE_CHECKING:
    from .._client import YottaClient

logger = logging.getLogger("yotta_async")

# Built once, at import. Non-strict so that ids sent as JSON strings decode to int.
POD_DECODER: ReplyDecoder[Pod] = ReplyDecoder(Pod)
POD_LIST_DECODER: ReplyDecoder[list[Pod] | None] = ReplyDecoder(list[Pod] | None)


class PodsCore:
    """``create``, ``list``, ``get``, ``pause``, ``resume`` and ``delete``."""

    def __init__(self, client: YottaClient) -> None:
        self._client = client
        self._session: Session = client._session

    # Seconds between the two listings that decide a lost create made no pod (see create).
    reconcile_settle: float = 2.0
    _lister: PodLister | None = None

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
        req = _request(request, fields)
        if expires_in is not None:
            req = stamp_expiry(req, deadline_after(check_ttl(expires_in, "expires_in")))
        if client_token is False:
            return await self._session.request(
                "POST", "/v2/pods", POD_DECODER, body=encode(req), retry=RETRY_UNSENT
            )
        token = new_token() if client_token is True else check_token(client_token)
        return await self._create_tokened(req, token, None)

    async def _create_tokened(self, req: PodCreateRequest, token: str, group: str | None) -> Pod:
        """Send a create carrying ``token`` (and ``group``); reconcile ambiguous failures."""
        body = encode(stamp(req, token, group))
        session = self._session
        attempt = 0
        while True:
            try:
                return await session.request(
                    "POST", "/v2/pods", POD_DECODER, body=body, retry=RETRY_UNSENT
                )
            except YottaError as exc:
                if not is_ambiguous(exc):
                    raise
                found = await self._reconcile(token, exc)
                if found is not None:
                    logger.info("create %s: reply lost, but pod %d exists; using it", token, found.id)
                    return found
                if attempt >= session.max_retries:
                    annotate(exc, f"yotta-async: no pod with {TOKEN_ENV}={token} was found after "
                                  f"{attempt + 1} attempts; it was most likely not created")
                    raise
                logger.info("create %s: %s, and no pod has the token; sending again",
                            token, type(exc).__name__)
                await session._sleep(session.backoff.delay(attempt, session._rng))
                attempt += 1

    async def _reconcile(self, token: str, failure: YottaError) -> Pod | None:
        """The pod carrying ``token``, from a listing made after ``failure``; None if absent.

        Two listings ``reconcile_settle`` seconds apart must both lack it, so a create the
        server was still processing when the first listing ran is not sent twice.
        """
        lister = self._pod_lister()
        for round_ in range(2):
            if round_:
                await self._session._sleep(self.reconcile_settle)
            try:
                pods = await lister.fresh(lister.mark())
            except YottaError as list_exc:
                annotate(failure, f"yotta-async: could not check whether the pod was created "
                                  f"({TOKEN_ENV}={token}): listing pods failed with {list_exc!r}")
                failure.__context__ = list_exc
                break
            hits = matching(pods, {token})
            if hits:
                if len(hits) > 1:
                    logger.warning("%d pods carry %s=%s; returning the oldest",
                                   len(hits), TOKEN_ENV, token)
                return min(hits, key=lambda p: (p.created_at or 0, p.id))
        else:
            return None
        raise failure

    def _pod_lister(self) -> PodLister:
        if self._lister is None:
            self._lister = PodLister(self.list)
        return self._lister

    async def list(
        self,
        *,
        regions: Iterable[str] | None = None,
        statuses: Iterable[PodStatus | str | int] | None = None,
    ) -> list[Pod]:
        """All pods of the organisation, optionally filtered by region and status.

        ``statuses`` takes ``PodStatus`` members, names (aliases such as ``"STOPPED"``
        included) or the legacy integers 0-6.
        """
        params: list[tuple[str, str]] = []
        for region in _strings(regions, "regions"):
            params.append(("regionList", region))
        for status in _statuses(statuses):
            params.append(("statusList", status.value))
        pods = await self._session.request("GET", "/v2/pods", POD_LIST_DECODER, params=params)
        return pods or []

    async def get(self, pod_id: PodId) -> Pod:
        """One pod by id. Raises ``PodNotFoundError`` if it does not exist (any more)."""
        return await self._session.request("GET", f"/v2/pods/{_pid(pod_id)}", POD_DECODER)

    async def pause(self, pod_id: PodId) -> None:
        """Ask a RUNNING pod to pause (GPU billing stops once it is PAUSED)."""
        await self._action("POST", f"/v2/pods/{_pid(pod_id)}/pause")

    async def resume(self, pod_id: PodId) -> None:
        """Ask a PAUSED pod to start again."""
        await self._action("POST", f"/v2/pods/{_pid(pod_id)}/resume")

    async def delete(self, pod_id: PodId) -> None:
        """Ask for a pod to be terminated. It passes TERMINATING, then TERMINATED."""
        await self._action("DELETE", f"/v2/pods/{_pid(pod_id)}")

    async def _action(self, method: str, path: str) -> None:
        await self._session.request(method, path, IGNORE_DATA)


def _pid(value: object) -> int:
    return pod_id(value)


def _request(request: PodCreateRequest | None, fields: dict[str, Any]) -> PodCreateRequest:
    if request is not None and fields:
        raise ValidationError("request", "pass a PodCreateRequest or keyword fields, not both")
    if request is None:
        return PodCreateRequest.build(**fields)
    if not isinstance(request, PodCreateRequest):
        raise ValidationError(
            "request", f"expected a PodCreateRequest, got {type(request).__name__}"
        )
    request.validate()  # it may have been mutated since construction
    return request


def _strings(values: Iterable[str] | None, field: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out = []
    for i, value in enumerate(_iterable(values, field)):
        if not isinstance(value, str) or not value:
            raise ValidationError(f"{field}[{i}]", f"expected a non-empty string, got {value!r}")
        out.append(value)
    return out


def _iterable(values: object, field: str) -> Iterable[Any]:
    if not isinstance(values, Iterable):  # or enumerate() raises a bare TypeError
        raise ValidationError(field, f"expected a list, got {type(values).__name__}")
    return values


def _statuses(values: Iterable[PodStatus | str | int] | None) -> list[PodStatus]:
    if values is None:
        return []
    if isinstance(values, (str, int)):
        values = [values]
    out = []
    for i, value in enumerate(_iterable(values, "statuses")):
        try:
            status = PodStatus(value)
        except ValueError:
            raise ValidationError(f"statuses[{i}]", f"not a pod status: {value!r}") from None
        if not status.is_known:
            raise ValidationError(f"statuses[{i}]", f"not a pod status: {value!r}")
        out.append(status)
    return out

