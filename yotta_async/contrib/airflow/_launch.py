"""Launching a task's pods: adopt what earlier tries made, create the rest, fail over across placements.

Shared by :class:`~yotta_async.contrib.airflow.YottaLaunchPodsOperator` (in the worker) and
:class:`~yotta_async.contrib.airflow.YottaLaunchTrigger` (in the triggerer). Everything here
is idempotent for one task instance: every pod carries a token ``<prefix><index>-t<try>[-p<k>]``
(see :func:`task_token_prefix`), and every run starts by listing the pods and adopting the
live ones by index, so running it again (a retried try, a trigger moved to another
triggerer) waits for those instead of creating more.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from ... import (
    APIError,
    CapacityError,
    Placement,
    Pod,
    PodCreateRequest,
    PodStatus,
    ValidationError,
    YottaClient,
    YottaError,
)
from ..._failover import Failover, Landing, check_placements, split_by_availability
from ...waiting import resolve_until
from ._common import DEAD, TOKEN_ENV, failure_record, index_of, pod_record, wait_target

__all__ = ["LaunchPlan", "Log", "adopt", "placement_of", "requests_for"]

log = logging.getLogger(__name__)


class Log(Protocol):
    """What the launch logs through: a ``logging.Logger``, or an operator's ``self.log``."""

    def info(self, msg: str, /, *args: Any) -> Any: ...
    def warning(self, msg: str, /, *args: Any) -> Any: ...

_PAUSED = (PodStatus.PAUSING, PodStatus.PAUSED)


def requests_for(base: PodCreateRequest, count: int) -> list[PodCreateRequest]:
    """``count`` validated requests; with ``count > 1`` names get a ``-<i>`` suffix."""
    base.validate()
    if count == 1:
        return [base]
    return [msgspec.structs.replace(base, name=f"{base.name}-{i}") for i in range(count)]


async def adopt(
    client: YottaClient, prefix: str, count: int, *, resume: bool, logger: Log = log
) -> tuple[dict[int, Pod], list[Pod]]:
    """The live pods earlier tries made, by index, and this task's FAILED pods.

    With ``resume``, adopted pods that are pausing or paused are resumed (a retry that waits
    for RUNNING or readiness needs them back). Two live pods holding one index (a create
    that landed after an earlier listing) keep the first; the other is reported surplus
    when the launch ends.
    """
    adopted: dict[int, Pod] = {}
    failed: list[Pod] = []
    for pod in await client.pods.list():
        index = index_of(pod, prefix)
        if index is None or index >= count:
            continue
        if pod.status is PodStatus.FAILED:
            failed.append(pod)
        if pod.status in DEAD:
            continue
        if index in adopted:
            logger.warning("pods %s and %s both hold index %d; adopting the first",
                           adopted[index].id, pod.id, index)
            continue
        adopted[index] = pod
    if adopted:
        logger.info("adopting %d pods from an earlier try: %s", len(adopted),
                    {i: str(p.id) for i, p in sorted(adopted.items())})
    if resume:
        paused = [p.id for p in adopted.values() if p.status in _PAUSED]
        if paused:
            errors = [e for e in await client.pods.resume_many(paused) if e is not None]
            if errors:  # the wait then reports these pods as not running
                logger.warning("could not resume %d adopted pods: %s", len(errors), errors[:3])
    return adopted, failed


def placement_of(pod: Pod, placements: Sequence[Placement], prefix: str) -> Placement:
    """Where an existing pod is: its own GPU type and region, else the ``-p<k>`` of its token.

    Falls back to the first placement when the pod says neither (the engine then waits for
    it and fails over from the start of the list).
    """
    if pod.gpu_type and pod.region:
        return Placement(pod.gpu_type, pod.region)
    token = pod.env(TOKEN_ENV) or ""
    tail = token[len(prefix):].rpartition("-p")[2] if token.startswith(prefix) else ""
    if tail.isdigit() and int(tail) < len(placements):
        return placements[int(tail)]
    return placements[0]


@dataclass(frozen=True)
class LaunchPlan:
    """One task instance's launch with placements: JSON-safe via :meth:`to_dict` / :meth:`from_dict`.

    ``request`` is the base request (the pod spec); each placement overrides its
    ``gpu_type`` and ``regions``. ``prefix`` and ``try_number`` make the tokens.
    """

    request: PodCreateRequest
    count: int
    placements: list[Placement]
    prefix: str
    try_number: int

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-safe values (what a trigger serialises)."""
        return {
            "request": msgspec.to_builtins(self.request),
            "count": self.count,
            "placements": [[p.gpu_type, p.region] for p in self.placements],
            "prefix": self.prefix,
            "try_number": self.try_number,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LaunchPlan:
        """Rebuild a plan from :meth:`to_dict`'s output (placements checked again)."""
        missing = sorted({"request", "count", "placements", "prefix", "try_number"} - set(data))
        if missing:
            raise ValidationError(f"plan.{missing[0]}", "is missing")
        try:
            request = msgspec.convert(data["request"], PodCreateRequest)
        except msgspec.ValidationError as exc:
            raise ValidationError("request", f"could not rebuild the pod spec: {exc}") from None
        raw = data["placements"]
        pairs = [tuple(p) if isinstance(p, list) else p for p in raw] if isinstance(raw, list) else raw
        places = check_placements(pairs)
        count, try_number, prefix = data["count"], data["try_number"], data["prefix"]
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            raise ValidationError("count", f"must be an integer from 1 to 1000, got {count!r}")
        if isinstance(try_number, bool) or not isinstance(try_number, int) or try_number < 0:
            raise ValidationError("try_number", f"must be a non-negative integer, got {try_number!r}")
        if not isinstance(prefix, str) or not prefix:
            raise ValidationError("prefix", f"must be a non-empty token prefix, got {prefix!r}")
        return cls(request, count, places, prefix, try_number)

    async def run(
        self,
        client: YottaClient,
        until: str,
        timeout: float | None,  # the whole launch's deadline
        *,
        ready_ports: Sequence[int | str] | None = None,
        probe: bool = False,
        logger: Log = log,
    ) -> dict[str, Any]:
        """Adopt, create and wait with failover; the trigger event's payload (JSON-safe).

        ``{"status": "success", "pods": [...]}`` (each record with its ``placement``), or
        ``"status": "failed"`` with ``failures`` (which pod, error, status) and, when the
        placements ran out, ``attempts`` (every failed try: placement, pod id, reason).
        """
        goal = wait_target(until, ready_ports, probe)
        budget = resolve_until(goal).default_timeout if timeout is None else timeout
        label = until
        requests = requests_for(self.request, self.count)
        adopted, failed = await adopt(client, self.prefix, self.count, resume=True, logger=logger)
        if failed:  # capacity failures (or crashes) of earlier tries: never left behind
            await client.pods.delete_many([p.id for p in failed])
        usable, skipped = split_by_availability(self.placements, await client.pods.catalogue())
        codes = client.pods.capacity_error_codes
        places = self.placements

        async def create(slot: int, place: Placement) -> Pod:
            req = msgspec.structs.replace(requests[slot], gpu_type=place.gpu_type, regions=[place.region])
            req.validate()
            token = f"{self.prefix}{slot}-t{self.try_number}-p{places.index(place)}"
            return await client.pods.create(req, client_token=token)

        async def wait(pod_id: int, remaining: float) -> Pod:
            return (await client.pods.wait_all([pod_id], until=goal, timeout=remaining))[0]

        async def delete(pod_id: int) -> None:
            await client.pods.delete(pod_id)

        engine = Failover(
            usable, create=create, delete=delete, wait=wait,
            is_capacity_error=lambda exc: isinstance(exc, APIError) and exc.code in codes,
            clock=client.pods.runtime.clock, timeout=budget,
            on_event=lambda event: logger.info("failover: %s", event), skipped=skipped,
        )
        seeds = {i: Landing(p, placement_of(p, places, self.prefix)) for i, p in adopted.items()}
        try:
            landings = await engine.run(self.count, adopted=seeds)
        except CapacityError as exc:
            attempts = [{"gpu_type": a.placement.gpu_type, "region": a.placement.region,
                         "pod_id": None if a.pod_id is None else str(a.pod_id), "reason": a.reason}
                        for a in exc.attempts]
            return {"status": "failed", "until": label, "pods": [], "failures": [], "attempts": attempts,
                    "message": f"CapacityError: {exc}"}
        except YottaError as exc:
            pid = getattr(exc, "pod_id", None)
            failures = [failure_record(pid, exc)] if isinstance(pid, int) else []
            return {"status": "failed", "until": label, "pods": [], "failures": failures,
                    "attempts": [], "message": f"{type(exc).__name__}: {exc}"}
        await self._drop_surplus(client, {landing.pod.id for landing in landings}, logger)
        where = ", ".join(f"{landing.pod.id}@{landing.placement}" for landing in landings)
        return {"status": "success", "until": label,
                "pods": [pod_record(landing.pod, landing.placement) for landing in landings],
                "failures": [], "attempts": [], "message": f"{self.count} pods reached {label}: {where}"}

    async def _drop_surplus(self, client: YottaClient, landed: set[int], logger: Log) -> None:
        """Delete this task's pods that did not land (duplicates of an index, late creates)."""
        surplus = [p.id for p in await client.pods.list()
                   if index_of(p, self.prefix) is not None and p.id not in landed
                   and p.status not in (PodStatus.TERMINATING, PodStatus.TERMINATED)]
        if surplus:
            logger.warning("deleting %d surplus pods of this task: %s", len(surplus), surplus)
            await client.pods.delete_many(surplus)
