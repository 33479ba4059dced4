"""``PodGroup``: pods created through it are deleted (or paused) when its block ends, however it ends."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

import anyio

from ._cleanup import Cleanup, Entry, describe_failures, run_to_end
from ._expiry import OnExpire
from ._failover import Failover, OnFailover, check_placements, placed, split_by_availability
from ._ops import PodOps, map_concurrently
from ._protocol import is_ambiguous
from ._spend import GroupSpend
from ._token import annotate, new_token, token_of
from ._validation import check_callable, check_int, check_label, check_number, check_timeout
from .errors import APIError, CleanupError, PlacementAttempt, PodFailedError, ValidationError, YottaError
from .models import Placement, Pod, PodCreateFields, PodCreateRequest, PodStatus
from .models.request import check_create_request
from .waiting import Readiness, Target, launch_target, wait_until_of

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["LaunchWait", "OnExit", "PodGroup"]

logger = logging.getLogger("yotta_async")

OnExit = Literal["delete", "pause", "keep"]
"""What a group does with its pods when its block ends: delete them, pause them, or keep them."""
LaunchWait = bool | PodStatus | str | Readiness
"""What ``launch`` waits for: ``True`` (RUNNING), ``False`` (nothing), RUNNING or ``READY``."""
_POLICIES = ("delete", "pause", "keep")
S = PodStatus


class PodGroup:
    """A set of pods with guaranteed cleanup. Make one with ``client.pods.group(...)``.

    ::

        async with client.pods.group(on_exit="delete", label="sweep-42") as group:
            pods = await group.launch(request, count=8, wait=True)   # 8 RUNNING pods
            extra = await group.create(other_request)
            ...                                                      # use group.pods

    Every create made through the group is registered *before* its request is sent, with a
    client token (``YOTTA_ASYNC_TOKEN``) and the group label (``YOTTA_ASYNC_GROUP``) on the
    pod. When the block ends with an exception or a cancellation, cleanup runs in a
    shielded cancel scope with its own deadline (``cleanup_timeout``): it lists the pods,
    finds every one carrying the group's tokens (creates still in flight and creates whose
    reply was lost included, after waiting ``client.pods.reconcile_settle`` seconds for
    late ones), deletes them (or pauses them, under ``on_error="pause"``), and polls until
    each is really TERMINATED (or PAUSED). A normal exit applies ``on_exit`` the same way.

    Whatever cleanup could not finish is reported as :class:`~yotta_async.CleanupError`
    (``failures`` maps pod id, or ``None`` for a create whose pod never showed up, to the
    reason). After a normal exit it is raised; after an exception it is raised *from* that
    exception (kept as ``original``); after a cancellation or ``KeyboardInterrupt`` the
    cancellation is re-raised, with the cleanup error attached as a note and logged.

    Limits: a process killed outright (SIGKILL, power loss) runs no cleanup, and a create
    that lands later than the cleanup's last listing is missed. Both leave pods carrying
    the group label, which :meth:`Pods.sweep` finds and deletes.

    Spend control (``max_hourly_cost``, ``allow_unknown_cost``, ``ttl``, ``on_expire``; see
    ``client.pods.group``) lives in :class:`~yotta_async._spend.GroupSpend`: the group asks
    it to stamp each request, to admit each reply (``hourly_cost``), and, while the block
    is open, to expire pods on time (``expired``). A group with a ``ttl`` survives even a
    SIGKILL that way: its pods carry their deadline, which ``sweep(expired=True)`` honours.
    """

    def __init__(
        self,
        pods: PodOps,
        *,
        on_exit: OnExit = "delete",
        on_error: OnExit | None = None,
        cleanup_timeout: float = 600.0,
        label: str | None = None,
        concurrency: int = 16,
        max_hourly_cost: Decimal | int | str | None = None,
        allow_unknown_cost: bool = False,
        ttl: timedelta | float | None = None,
        on_expire: OnExpire = "delete",
    ) -> None:
        if on_exit not in _POLICIES:
            raise ValidationError("on_exit", f"must be one of {', '.join(_POLICIES)}, got {on_exit!r}")
        if on_error is None:
            on_error = "pause" if on_exit == "pause" else "delete"
        elif on_error not in _POLICIES:
            raise ValidationError("on_error", f"must be one of {', '.join(_POLICIES)}, got {on_error!r}")
        timeout = check_number(cleanup_timeout, "cleanup_timeout")
        self.label = check_label(label) if label is not None else f"group-{new_token()[:12]}"
        self.on_exit: OnExit = on_exit
        self.on_error: OnExit = on_error
        self.cleanup_timeout = timeout
        self.concurrency = check_int(concurrency, "concurrency", minimum=1)
        self.spend = GroupSpend(
            label=self.label, max_hourly_cost=max_hourly_cost,
            allow_unknown_cost=allow_unknown_cost, ttl=ttl, on_expire=on_expire,
        )
        self._pods = pods
        self._entries: list[Entry] = []
        self._state: Literal["new", "open", "closing", "closed"] = "new"
        self._replaced: set[int] = set()
        self._landed: dict[int, Placement] = {}
        self._attempts: list[PlacementAttempt] = []

    # -- what the group holds ----------------------------------------------------------------
    @property
    def pods(self) -> list[Pod]:
        """The latest snapshot of each pod created through the group, in creation order.

        Pods the group deleted itself are left out: those refused by ``max_hourly_cost``,
        those failover replaced (after a capacity failure), and those its ``ttl`` expired
        with ``on_expire="delete"`` or found already gone (their ids stay in :attr:`expired`).
        """
        return [
            e.pod for e in self._entries
            if e.pod is not None and not self.spend.dropped(e.pod.id) and e.pod.id not in self._replaced
        ]

    @property
    def hourly_cost(self) -> Decimal:
        """The exact hourly cost of the group's pods (those with a known price; see
        :attr:`Pod.hourly_cost`). Pods deleted on expiry stop counting; paused ones count
        their storage only."""
        return self.spend.hourly_cost

    @property
    def expired(self) -> list[int]:
        """The ids of the pods ``on_expire`` was applied to while the block was open."""
        return list(self.spend.expired)

    @property
    def replaced(self) -> frozenset[int]:
        """Ids of the pods failover deleted and replaced (they no longer count as the group's)."""
        return frozenset(self._replaced)

    @property
    def landed(self) -> dict[int, Placement]:
        """Where each pod of a launch with ``placements`` landed, by pod id."""
        return dict(self._landed)

    @property
    def attempts(self) -> list[PlacementAttempt]:
        """Every failed try of the launches with ``placements`` (placement, pod id, reason)."""
        return list(self._attempts)

    @property
    def ids(self) -> list[int]:
        """The ids of :attr:`pods`."""
        return [p.id for p in self.pods]

    @property
    def tokens(self) -> frozenset[str]:
        """The client tokens of every create the group has sent (or is sending)."""
        return frozenset(e.token for e in self._entries)

    # -- creating ----------------------------------------------------------------------------
    @overload
    async def create(self, request: PodCreateRequest, /) -> Pod: ...
    @overload
    async def create(self, request: None = None, /, **fields: Unpack[PodCreateFields]) -> Pod: ...
    async def create(self, request: PodCreateRequest | None = None, /, **fields: Any) -> Pod:
        """Create one pod in the group (arguments as in ``client.pods.create``); exactly once."""
        self._check_open()
        req = check_create_request(request, fields)
        entry = Entry(new_token())
        req = self.spend.prepare(req, entry.token)  # the expiry stamp, if the group has a ttl
        self._entries.append(entry)  # registered before anything is sent
        try:
            pod = await self._pods.create_with_token(req, entry.token, group=self.label)
        except YottaError as exc:
            entry.state = "unknown" if is_ambiguous(exc) else "failed"
            raise
        except BaseException:
            entry.state = "unknown"  # cancelled mid-request: the server may have acted
            raise
        entry.state, entry.pod = "created", pod
        await self.spend.admit(entry.token, pod)  # over the cap: deleted, BudgetExceededError
        return pod

    @overload
    async def launch(
        self, request: PodCreateRequest, /, count: int = 1, *, wait: LaunchWait = True,
        timeout: float | None = None,  # noqa: ASYNC109
        placements: Sequence[Placement | tuple[str, str]] | None = None,
        on_failover: OnFailover[Placement] | None = None,
    ) -> list[Pod]: ...
    @overload
    async def launch(
        self, request: None = None, /, count: int = 1, *, wait: LaunchWait = True,
        timeout: float | None = None,  # noqa: ASYNC109
        placements: Sequence[Placement | tuple[str, str]] | None = None,
        on_failover: OnFailover[Placement] | None = None,
        **fields: Unpack[PodCreateFields],
    ) -> list[Pod]: ...
    async def launch(
        self,
        request: PodCreateRequest | None = None,
        /,
        count: int = 1,
        *,
        wait: LaunchWait = True,
        timeout: float | None = None,  # noqa: ASYNC109  # passed on to wait_all's deadline
        placements: Sequence[Placement | tuple[str, str]] | None = None,
        on_failover: OnFailover[Placement] | None = None,
        **fields: Any,
    ) -> list[Pod]:
        """Create ``count`` pods from one request; with ``wait``, return them once all are there.

        ::

            pods = await group.launch(request, count=8)            # names: name-0 .. name-7
            pods = await group.launch(request, count=8, wait=READY) # RUNNING + ports healthy
            pods = await group.launch(name="w", image="img", gpu_type="NVIDIA_H100_80G",
                                      gpu_count=1, count=2, wait=False)
            pods = await group.launch(request, count=12, wait=READY, placements=[
                Placement("NVIDIA_H100_80G", "us-east-1"),
                Placement("NVIDIA_H100_80G", "us-east-2")])
            group.landed[pods[0].id]                               # where it landed

        With ``count > 1`` each pod's name gets a ``-<i>`` suffix. Creates run at most
        ``concurrency`` at a time; the first failure stops new ones and is raised (the
        pods already made stay in the group, so the block's cleanup removes them).
        ``wait`` is ``True`` (RUNNING), ``False`` (return once created), ``RUNNING`` or
        ``READY`` (see :meth:`Pods.wait_all`; ``timeout`` is the wait's deadline); a pod
        that FAILS raises ``PodFailedError``.

        ``placements`` is an ordered preference list of ``(gpu_type, region)``: capacity
        failover. Placements the GPU catalogue reports unavailable are skipped (none if it
        cannot be read). Each pod starts on the first usable placement; a create refused
        with one of the client's ``capacity_error_codes``, or a pod that ends FAILED before
        RUNNING, is deleted and replaced on the next placement, until ``count`` pods reach
        the ``wait`` target (with ``wait=False`` only refusals fail over). ``timeout`` is
        then one deadline for the whole launch. When the placements run out,
        :class:`~yotta_async.CapacityError` lists every attempt; pods that made it stay
        in the group (its cleanup policy handles them), and no replaced pod is left
        behind. :attr:`landed` says where each pod landed, :attr:`attempts` what failed,
        and ``on_failover(event)`` hears each step (a :class:`FailoverEvent`).
        """
        self._check_open()
        req = check_create_request(request, fields)
        check_int(count, "count", minimum=1)
        target = launch_target(wait)
        budget = None
        if target is not None:  # checked now, not by wait_all after the pods exist
            budget = check_timeout(timeout, target.default_timeout)
        places = check_placements(placements) if placements is not None else None
        if on_failover is not None:
            check_callable(on_failover, "on_failover")
        reqs = [req] if count == 1 else [req.renamed(f"{req.name}-{i}") for i in range(count)]
        if places is not None:
            return await self._fail_over(reqs, places, target, budget, on_failover)
        results = await map_concurrently(self.create, reqs, self.concurrency, False)
        for result in results:
            if isinstance(result, YottaError):
                raise result
        pods = [r for r in results if isinstance(r, Pod)]
        if target is not None:
            pods = await self._wait([p.id for p in pods], target, budget)
            self._refresh(pods)
        return pods

    async def _wait(self, ids: list[int], target: Target, budget: float | None) -> list[Pod]:
        """``wait_all`` for a launch; a wait that a pod's ``ttl`` ended says so."""
        try:
            return await self._pods.wait_all(ids, until=wait_until_of(target), timeout=budget)
        except PodFailedError as exc:
            if exc.pod is not None:  # a FAILED pod bills nothing: it stops counting
                self._refresh([exc.pod])
            explained = self.spend.explain(exc)
            if explained is exc:
                raise
            raise explained from exc

    async def _fail_over(
        self,
        reqs: list[PodCreateRequest],
        places: list[Placement],
        target: Target | None,
        budget: float | None,
        on_failover: OnFailover[Placement] | None,
    ) -> list[Pod]:
        """``launch`` with placements: the :class:`~yotta_async._failover.Failover` engine,
        wired to this group (every create registered first, every replaced pod deleted)."""
        usable, skipped = split_by_availability(places, await self._pods.catalogue())
        codes = self._pods.capacity_error_codes

        def is_capacity(exc: BaseException) -> bool:
            return isinstance(exc, APIError) and exc.code in codes

        async def create(slot: int, place: Placement) -> Pod:
            return await self.create(placed(reqs[slot], place))

        async def wait_for(pod_id: int, remaining: float) -> Pod:
            assert target is not None
            return (await self._wait([pod_id], target, remaining))[0]

        async def delete(pod_id: int) -> None:
            self._replaced.add(pod_id)
            self.spend.release(pod_id)  # a replaced pod no longer counts against max_hourly_cost
            await self._pods.delete(pod_id)

        engine = Failover(
            usable, create=create, delete=delete, wait=wait_for if target is not None else None,
            is_capacity_error=is_capacity, clock=self._pods.runtime.clock,
            timeout=budget if budget is not None else math.inf, concurrency=self.concurrency,
            on_event=on_failover, skipped=skipped,
        )
        try:
            landings = await engine.run(len(reqs))
        finally:
            self._attempts.extend(engine.attempts)
            for landing in engine.landings.values():
                self._landed[landing.pod.id] = landing.placement
        pods = [landing.pod for landing in landings]
        self._refresh(pods)
        return pods

    def _check_open(self) -> None:
        if self._state != "open":
            raise ValidationError(
                "group", f"is {self._state}; create pods inside 'async with client.pods.group()'"
            )

    def _refresh(self, pods: list[Pod]) -> None:
        self.spend.observe(pods)
        by_token = {token_of(p): p for p in pods}
        for entry in self._entries:
            pod = by_token.get(entry.token)
            if pod is not None and (entry.pod is None or entry.pod.id == pod.id):
                entry.pod = pod

    # -- the block ---------------------------------------------------------------------------
    async def __aenter__(self) -> PodGroup:
        if self._state != "new":
            raise ValidationError("group", "a PodGroup can be entered only once")
        self._state = "open"
        self._pods.groups.add(self)
        self.spend.start(self._pods, self._pods.runtime, self.concurrency)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._state = "closing"
        policy = self.on_exit if exc is None else self.on_error
        try:
            with anyio.CancelScope(shield=True):
                await self.spend.stop()
            failures, interrupted = await self._shielded(policy)
        finally:
            self._state = "closed"
            self._pods.groups.discard(self)
        if failures:
            message = describe_failures(failures, policy, self.label)
            error = CleanupError(message, failures=failures, original=exc)
            carrier = interrupted if interrupted is not None else exc
            if carrier is None or (carrier is exc and isinstance(exc, Exception)):
                raise error from exc
            # A cancellation (or KeyboardInterrupt) must stay what propagates.
            annotate(carrier, f"yotta-async: {error}")
            logger.error("%s (while handling %s)", error, type(carrier).__name__)
        if interrupted is not None:
            raise interrupted  # a cancellation that arrived during cleanup, held until now

    async def _shielded(
        self, policy: OnExit
    ) -> tuple[dict[int | None, BaseException], BaseException | None]:
        """Run cleanup to the end (or its deadline), whatever cancels this task meanwhile."""
        if policy == "keep" or not self._entries:
            return {}, None
        return await run_to_end(Cleanup(
            self._pods, list(self._entries), policy, self.concurrency, self.cleanup_timeout,
            self._refresh,
        ))

