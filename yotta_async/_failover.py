"""Capacity failover: bring N pods up across an ordered list of placements, replacing failures.

The engine is given its I/O as callables (create on a placement, wait for the target,
delete), so it sits in the groups layer on top of the pod resource's public methods and is
testable on its own. :meth:`PodGroup.launch` wires it to the group, so every pod it
creates is registered for cleanup before its request is sent.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

import anyio
import msgspec

from ._validation import check_items
from .errors import (
    APIError,
    CapacityError,
    InvalidStateError,
    PlacementAttempt,
    PodFailedError,
    PodNotFoundError,
    ValidationError,
    WaitTimeoutError,
    YottaError,
)
from .models import GpuType, Placement, Pod, PodCreateRequest, PodStatus

__all__ = [
    "Failover",
    "FailoverEvent",
    "Landing",
    "OnFailover",
    "check_placements",
    "failed_before_running",
    "placed",
    "split_by_availability",
]


def check_placements(placements: object) -> list[Placement]:
    """``placements`` as a list of :class:`Placement` (``(gpu_type, region)`` pairs accepted).

    Raises ``ValidationError`` naming ``placements[i]`` for anything else, and for an
    empty list. Duplicates keep their first position.
    """
    if isinstance(placements, Placement):
        raise ValidationError("placements", "expected a list of Placements, got one Placement")
    items = check_items(placements, "placements")
    if not items:
        raise ValidationError("placements", "needs at least one Placement(gpu_type, region)")
    out: list[Placement] = []
    for i, item in enumerate(items):
        if isinstance(item, tuple) and not isinstance(item, Placement) and len(item) == 2:
            item = Placement(*item)
        if not isinstance(item, Placement) or not all(
            isinstance(v, str) and v.strip() for v in (item.gpu_type, item.region)
        ):
            raise ValidationError(
                f"placements[{i}]", f"expected Placement(gpu_type, region), got {item!r}"
            )
        if item not in out:
            out.append(item)
    return out


def split_by_availability(
    placements: Sequence[Placement], catalogue: Sequence[GpuType] | None
) -> tuple[list[Placement], list[Placement]]:
    """``(usable, skipped)``: placements the catalogue reports unavailable are skipped.

    Only an explicit ``available: false`` skips one. A placement the catalogue does not
    list, a region listed as a plain string (availability unknown), or no catalogue at all
    (``None``: it could not be read) skips nothing: the create itself will tell.
    """
    if catalogue is None:
        return list(placements), []
    unavailable = {
        (t.gpu_type, r.region) for t in catalogue for r in t.regions if r.available is False
    }
    usable = [p for p in placements if (p.gpu_type, p.region) not in unavailable]
    skipped = [p for p in placements if (p.gpu_type, p.region) in unavailable]
    return usable, skipped


class _Where(Protocol):
    """What the engine needs of a placement: a GPU type and a region (``Placement``)."""

    @property
    def gpu_type(self) -> str: ...
    @property
    def region(self) -> str: ...


W = TypeVar("W", bound=_Where)

EventKind = Literal["skipped", "creating", "created", "refused", "failed", "landed", "exhausted"]


@dataclass(frozen=True)
class FailoverEvent(Generic[W]):
    """One step of a launch with placements, for progress displays.

    ``kind`` is ``"skipped"`` (the catalogue reports the placement unavailable; ``slot``
    is -1), ``"creating"`` (a create is about to be sent for ``slot``), ``"created"``
    (``pod_id`` now exists on ``placement``), ``"refused"`` (the
    create was refused for capacity), ``"failed"`` (``pod_id`` went FAILED before RUNNING;
    it is being deleted and replaced), ``"landed"`` (``pod_id`` reached the target) or
    ``"exhausted"`` (``slot`` has no placement left).
    """

    kind: EventKind
    slot: int
    placement: W | None
    pod_id: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        pod = f" pod {self.pod_id}" if self.pod_id is not None else ""
        why = f": {self.reason}" if self.reason else ""
        where = f" on {self.placement}" if self.placement is not None else ""
        return f"#{self.slot}{pod} {self.kind}{where}{why}"


OnFailover = Callable[[FailoverEvent[W]], None]


@dataclass(frozen=True)
class Landing(Generic[W]):
    """Where one pod of a launch landed: its final snapshot and its placement."""

    pod: Pod
    placement: W


def failed_before_running(exc: BaseException) -> bool:
    """Whether a wait error means "the pod went FAILED without ever RUNNING" (no capacity).

    That is the one documented capacity signal (resources-v2.md §6). A pod that ran and
    then failed, or that was TERMINATED by someone, is not a capacity failure.
    """
    if not isinstance(exc, PodFailedError) or exc.pod is None:
        return False
    return exc.pod.status is PodStatus.FAILED and PodStatus.RUNNING not in exc.history


class _Exhausted(Exception):
    """A slot ran out of placements (internal: becomes one CapacityError)."""


class Failover(Generic[W]):
    """Bring ``count`` pods to the target over ``placements`` (an ordered preference list).

    Each pod ("slot") starts on the first usable placement. A create refused with a
    capacity code (``is_capacity_error``), or a pod that ends FAILED before RUNNING
    (deleted at once, in a shielded scope), moves that slot to the next placement. A
    placement that refused or failed a slot is also skipped by slots that have not sent
    their first create yet: capacity is shared, so it is full for them too. Any other error
    is raised as it is. When a slot runs out of placements, the other slots are cancelled
    and :class:`CapacityError` lists every attempt. Creates run at most ``concurrency`` at
    a time; ``wait`` is ``None`` for "do not wait" (then only create refusals fail over).
    """

    def __init__(
        self,
        placements: Sequence[W],
        *,
        create: Callable[[int, W], Awaitable[Pod]],
        delete: Callable[[int], Awaitable[object]],
        wait: Callable[[int, float], Awaitable[Pod]] | None,
        is_capacity_error: Callable[[BaseException], bool],
        clock: Callable[[], float],
        timeout: float = math.inf,
        concurrency: int = 16,
        on_event: OnFailover[W] | None = None,
        skipped: Sequence[W] = (),
    ) -> None:
        self.placements = list(placements)
        self._create = create
        self._delete = delete
        self._wait = wait
        self._is_capacity = is_capacity_error
        self._clock = clock
        self._deadline = clock() + timeout
        self._timeout = timeout
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._on_event = on_event
        self._full: set[int] = set()  # placements known to be out of capacity
        self.attempts = [PlacementAttempt(p, None, "skipped: reported unavailable") for p in skipped]
        self.landings: dict[int, Landing[W]] = {}
        for placement in skipped:
            self._emit(FailoverEvent("skipped", -1, placement, reason="reported unavailable"))

    def _emit(self, event: FailoverEvent[W]) -> None:
        if self._on_event is not None:
            self._on_event(event)

    async def run(self, count: int, *, adopted: Mapping[int, Landing[W]] | None = None) -> list[Landing[W]]:
        """Launch ``count`` pods; their landings in slot order, or raise ``CapacityError``.

        ``adopted`` maps a slot to a pod that already exists for it (made by an earlier
        run, say a retried task, that was interrupted) and the placement it is on: that slot
        sends no create but waits for the pod, and if it fails for capacity, is deleted and
        replaced on the placements after that one (or the first placement not known full,
        when it is on none of them). Slots outside ``range(count)`` are ignored.

        ::

            engine = Failover(places, create=..., delete=..., wait=..., is_capacity_error=...,
                              clock=time.monotonic)
            landings = await engine.run(4, adopted={2: Landing(pod, places[1])})
        """
        exhausted: list[int] = []
        errors: list[YottaError] = []
        seeds = dict(adopted or {})

        async def guarded(slot: int, scope: anyio.CancelScope) -> None:
            try:
                await self._slot(slot, seeds.get(slot))
            except _Exhausted:
                exhausted.append(slot)
                scope.cancel()  # the launch cannot succeed: stop the other slots
            except YottaError as exc:
                errors.append(exc)  # raised as it is, not wrapped in an exception group
                scope.cancel()

        if not self.placements:
            exhausted.append(0)
        else:
            async with anyio.create_task_group() as tg:
                for slot in range(count):
                    tg.start_soon(guarded, slot, tg.cancel_scope)
        if errors:
            raise errors[0]
        if exhausted:
            landed = len(self.landings)
            raise CapacityError(
                f"placements ran out: {landed} of {count} pod(s) reached the target "
                f"after {len(self.attempts)} failed attempt(s)",
                attempts=self.attempts,
                wanted=count,
                landed=landed,
            )
        return [self.landings[slot] for slot in range(count)]

    async def _slot(self, slot: int, seed: Landing[W] | None = None) -> None:
        index: int | None = None  # chosen once the first create may go, to use what others learned
        pod: Pod | None = None
        if seed is not None:  # an existing pod: wait for it, failing over from where it is
            pod, placement = seed.pod, seed.placement
            index = self.placements.index(placement) if placement in self.placements else None
        while True:
            if pod is None:
                async with self._limiter:
                    if index is None:
                        index = next((i for i in range(len(self.placements)) if i not in self._full),
                                     len(self.placements))
                    if index >= len(self.placements):
                        self._emit(FailoverEvent("exhausted", slot, None, reason="no placement left"))
                        raise _Exhausted
                    placement = self.placements[index]
                    pod = await self._try_create(slot, placement)
                if pod is None:
                    self._full.add(index)
                    index += 1
                    continue
                self._emit(FailoverEvent("created", slot, placement, pod.id))
            if self._wait is not None:
                try:
                    pod = await self._wait(pod.id, self._remaining(pod))
                except YottaError as exc:
                    if not failed_before_running(exc):
                        raise
                    if index is not None:
                        self._full.add(index)
                    await self._replace(slot, placement, pod.id, "FAILED before RUNNING")
                    index = None if index is None else index + 1
                    pod = None
                    continue
            self.landings[slot] = Landing(pod, placement)
            self._emit(FailoverEvent("landed", slot, placement, pod.id))
            return

    async def _try_create(self, slot: int, placement: W) -> Pod | None:
        """The new pod, or ``None`` if the create was refused for capacity."""
        self._emit(FailoverEvent("creating", slot, placement))
        try:
            return await self._create(slot, placement)
        except YottaError as exc:
            if not self._is_capacity(exc):
                raise
            reason = f"create refused: {exc.message if isinstance(exc, APIError) else exc}"
            self.attempts.append(PlacementAttempt(placement, None, reason))
            self._emit(FailoverEvent("refused", slot, placement, reason=reason))
            return None

    async def _replace(self, slot: int, placement: W, pod_id: int, reason: str) -> None:
        """Delete a pod that failed for capacity, whatever cancels us meanwhile."""
        self._emit(FailoverEvent("failed", slot, placement, pod_id, reason))
        with anyio.CancelScope(shield=True):
            try:
                await self._delete(pod_id)
            except (PodNotFoundError, InvalidStateError):
                pass  # already gone, or already on its way out
            except YottaError as exc:
                # Still registered with the group, whose cleanup deletes it in the end.
                reason += f"; delete failed ({exc}); the group's cleanup will retry"
        self.attempts.append(PlacementAttempt(placement, pod_id, reason))

    def _remaining(self, pod: Pod) -> float:
        left = self._deadline - self._clock()
        if left <= 0:
            raise WaitTimeoutError(
                f"pod {pod.id} was not waited for: the launch's timeout ({self._timeout:g}s) "
                "ran out during failover",
                pod_id=pod.id,
                pod=pod,
                elapsed=self._timeout,
            )
        return left


def placed(request: PodCreateRequest, place: Placement) -> PodCreateRequest:
    """``request`` aimed at ``place`` (its GPU type and only region), validated again."""
    copy = msgspec.structs.replace(request, gpu_type=place.gpu_type, regions=[place.region])
    copy.validate()
    return copy
