"""The six Pods API v2 endpoints, validated and typed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import msgspec

from .._session import IGNORE_DATA, RETRY_UNSENT, Session, encode
from ..errors import ValidationError
from ..models import Pod, PodCreateRequest, PodStatus
from ._ids import PodId, pod_id

if TYPE_CHECKING:
    from .._client import YottaClient

# Built once, at import. Non-strict so that ids sent as JSON strings decode to int.
POD_DECODER = msgspec.json.Decoder(Pod, strict=False)
POD_LIST_DECODER = msgspec.json.Decoder(list[Pod] | None, strict=False)


class PodsCore:
    """``create``, ``list``, ``get``, ``pause``, ``resume`` and ``delete``."""

    def __init__(self, client: YottaClient) -> None:
        self._client = client
        self._session: Session = client._session

    async def create(self, request: PodCreateRequest | None = None, /, **fields: Any) -> Pod:
        """Create a pod from a ``PodCreateRequest``, or from keyword arguments.

        ::

            pod = await client.pods.create(PodCreateRequest(name="n", image="img",
                                                            gpu_type="NVIDIA_H100_80G", gpu_count=1))
            pod = await client.pods.create(name="n", image="img", gpu_type="NVIDIA_H100_80G",
                                           gpu_count=1, env={"MODE": "x"}, expose=[8888])

        The request is validated before anything is sent. It is retried only on failures
        that prove the server never saw it.
        """
        req = _request(request, fields)
        pod = await self._session.request(
            "POST", "/v2/pods", POD_DECODER, body=encode(req), retry=RETRY_UNSENT
        )
        return pod

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
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value:
            raise ValidationError(f"{field}[{i}]", f"expected a non-empty string, got {value!r}")
        out.append(value)
    return out


def _statuses(values: Iterable[PodStatus | str | int] | None) -> list[PodStatus]:
    if values is None:
        return []
    if isinstance(values, (str, int)):
        values = [values]
    out = []
    for i, value in enumerate(values):
        try:
            status = PodStatus(value)
        except ValueError:
            raise ValidationError(f"statuses[{i}]", f"not a pod status: {value!r}") from None
        if not status.is_known:
            raise ValidationError(f"statuses[{i}]", f"not a pod status: {value!r}")
        out.append(status)
    return out

