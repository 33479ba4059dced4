"""A pod group's spend control: its budget cap, its expiry stamps, and expiry while it is open.

:class:`GroupSpend` is what ``PodGroup`` delegates to; it reaches the pods only through the
public ``get``/``delete``/``pause`` methods (:class:`PodActions`), and time only through the
client's :class:`~yotta_async._runtime.Runtime`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

import anyio

from ._backoff import Backoff
from ._budget import BudgetLedger, check_cap
from ._expiry import OnExpire, check_on_expire, check_ttl, deadline_after, stamp_expiry
from ._ops import map_concurrently
from ._runtime import Runtime
from .errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidStateError,
    PermissionDeniedError,
    PodFailedError,
    PodNotFoundError,
    ValidationError,
    YottaError,
)
from .models import Pod, PodCreateRequest, PodStatus
from .models._cost import storage_cost

__all__ = ["GroupSpend", "PodActions"]

logger = logging.getLogger("yotta_async")

S = PodStatus
# Under "pause": a pod in one of these needs nothing more.
_PAUSE_DONE = frozenset({S.PAUSING, S.PAUSED, S.FAILED, S.TERMINATING, S.TERMINATED})
_RETRY = Backoff(initial=1.0, maximum=30.0)
# Errors no retry can cure: the watcher stops (and says so) instead of retrying forever.
_HOPELESS = (AuthenticationError, PermissionDeniedError, ConfigurationError, ValidationError)


class PodActions(Protocol):
    """The part of ``client.pods`` that spend control uses."""

    def get(self, pod_id: int, /) -> Awaitable[Pod]: ...
    def delete(self, pod_id: int, /) -> Awaitable[None]: ...
    def pause(self, pod_id: int, /) -> Awaitable[None]: ...


@dataclass(eq=False)
class _Tracked:
    deadline: float  # on the runtime clock
    pod: Pod | None = None
    done: bool = False
    failures: int = 0
    not_before: float = 0.0  # after a failure: no new attempt before this


class GroupSpend:
    """A group's cap and ttl: stamps each create, admits each reply, expires pods on time.

    ``max_hourly_cost=None`` and ``ttl=None`` make it a plain tally of the group's
    ``hourly_cost`` that never refuses or expires anything.
    """

    def __init__(
        self,
        *,
        label: str,
        max_hourly_cost: object = None,
        allow_unknown_cost: bool = False,
        ttl: object = None,
        on_expire: object = "delete",
    ) -> None:
        cap = None if max_hourly_cost is None else check_cap(max_hourly_cost)
        self.ledger = BudgetLedger(cap, allow_unknown_cost=allow_unknown_cost)
        self.ttl: timedelta | None = None if ttl is None else check_ttl(ttl)
        self.on_expire: OnExpire = check_on_expire(on_expire)
        self.label = label
        self.expired: list[int] = []  # pods on_expire was applied to, in order
        self._expired_gone: set[int] = set()  # of those, the ones deleted (or found gone)
        self._tracked: dict[str, _Tracked] = {}
        self._wake: anyio.Event | None = None  # made in start(): an Event needs a running loop
        self._task: asyncio.Task[None] | None = None
        self._pods: PodActions | None = None
        self._runtime = Runtime()
        self._concurrency = 16

    # -- totals ----------------------------------------------------------------------------
    @property
    def hourly_cost(self) -> Decimal:
        """The summed hourly cost of the group's pods; a pod of unknown cost counts as zero
        (``ledger.unknown`` says how many there are)."""
        return self.ledger.total

    # -- creates ---------------------------------------------------------------------------
    def prepare(self, request: PodCreateRequest, token: str) -> PodCreateRequest:
        """Before sending: stamp the expiry on the request and start its countdown."""
        if self.ttl is None:
            return request
        stamped = stamp_expiry(request, deadline_after(self.ttl), self.on_expire, "ttl")
        deadline = self._runtime.clock() + self.ttl.total_seconds()
        self._tracked[token] = _Tracked(deadline)
        return stamped

    def forget(self, token: str) -> None:
        """The create failed: nothing to expire."""
        self._tracked.pop(token, None)

    async def admit(self, token: str, pod: Pod) -> None:
        """After the reply: count the pod, or delete it at once and raise ``BudgetExceededError``."""
        refusal = self.ledger.admit(pod)
        if refusal is None:
            tracked = self._tracked.get(token)
            if tracked is not None:
                tracked.pod = pod
                if self._wake is not None:
                    self._wake.set()
            return
        self.forget(token)
        if self._pods is None:  # pragma: no cover - the group always starts us first
            raise refusal
        try:
            await self._pods.delete(pod.id)
        except (PodNotFoundError, InvalidStateError):
            pass  # already on its way out
        except YottaError as exc:
            refusal.delete_error = exc
            logger.error("group %s: could not delete over-budget pod %d: %r", self.label, pod.id, exc)
        else:
            logger.info("group %s: deleted pod %d before it could run: %s", self.label, pod.id, refusal)
        raise refusal

    def dropped(self, pod_id: int) -> bool:
        """Whether the group itself deleted ``pod_id``: refused by the cap, or expired with
        ``on_expire="delete"`` (or found gone when it came to expire it)."""
        return pod_id in self.ledger.refused or pod_id in self._expired_gone

    def release(self, pod_id: int) -> None:
        """A pod the group deleted on purpose (failover replaced it) stops counting at once,
        and is not expired later (it is already gone)."""
        self.ledger.release(pod_id)
        self._settle(pod_id)

    def observe(self, pods: list[Pod]) -> None:
        """Newer snapshots: a pod that ended stops counting towards the total (a FAILED pod
        never bills); one TERMINATED needs no expiry either."""
        for pod in pods:
            if pod.status in (S.TERMINATED, S.FAILED):
                self.ledger.release(pod.id)
            if pod.status is S.TERMINATED:
                self._settle(pod.id)

    def explain(self, exc: PodFailedError) -> PodFailedError:
        """``exc`` again, saying so if its pod ended because the group's ttl expired it."""
        if exc.pod_id is None or exc.pod_id not in self.expired:
            due = [t for t in self._tracked.values()
                   if t.pod is not None and t.pod.id == exc.pod_id and t.deadline <= self._runtime.clock()]
            if not due:
                return exc
        verb = "deleted" if self.on_expire == "delete" else "paused"
        return PodFailedError(
            f"{exc} (its ttl of {self.ttl} ran out first: the group {verb} it on expiry)",
            pod=exc.pod, pod_id=exc.pod_id, elapsed=exc.elapsed, polls=exc.polls, history=exc.history,
        )

    def _settle(self, pod_id: int) -> None:
        for tracked in self._tracked.values():
            if tracked.pod is not None and tracked.pod.id == pod_id:
                tracked.done = True

    # -- expiry while the block is open ----------------------------------------------------
    def start(self, pods: PodActions, runtime: Runtime, concurrency: int = 16) -> None:
        """Begin watching deadlines (only if the group has a ttl); ``concurrency`` actions at once."""
        self._pods = pods
        self._runtime = runtime
        self._concurrency = concurrency
        if self.ttl is not None and self._task is None:
            self._wake = anyio.Event()
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop watching; an action in flight is abandoned (the block's cleanup follows)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        try:
            while True:
                await self._round()
        except asyncio.CancelledError:
            raise
        except _HOPELESS as exc:  # a revoked key or a closed client will not mend by waiting
            logger.error("group %s: expiry watcher stopped: %r", self.label, exc)
        except Exception:  # a bug must not take the user's block down with it
            logger.exception("group %s: expiry watcher stopped", self.label)

    async def _round(self) -> None:
        now = self._runtime.clock()
        waiting = [t for t in self._tracked.values() if not t.done and t.pod is not None]
        due = [t for t in waiting if t.deadline <= now and t.not_before <= now]
        if due:
            for outcome in await map_concurrently(self._expire, due, self._concurrency):
                if isinstance(outcome, YottaError):
                    raise outcome  # only the hopeless get out of _expire
        if due:
            return
        times = [max(t.deadline, t.not_before) for t in waiting]
        self._wake = anyio.Event()
        await self._nap(min(times) - now if times else None)

    async def _nap(self, seconds: float | None) -> None:
        """Sleep ``seconds`` on the runtime (``None``: forever), or until a new pod arrives."""
        wake = self._wake
        assert wake is not None
        async with anyio.create_task_group() as tg:

            async def sleeper() -> None:
                # Passive: on a manual clock the expiry watcher must not move time itself.
                await self._runtime.sleep_until(self._runtime.clock() + max(0.0, seconds or 0.0))
                tg.cancel_scope.cancel()

            async def waker() -> None:
                await wake.wait()
                tg.cancel_scope.cancel()

            if seconds is not None:
                tg.start_soon(sleeper)
            tg.start_soon(waker)

    async def _expire(self, tracked: _Tracked) -> None:
        pods, pod = self._pods, tracked.pod
        assert pods is not None and pod is not None
        try:
            if self.on_expire == "delete":
                with contextlib.suppress(PodNotFoundError, InvalidStateError):  # gone or going
                    await pods.delete(pod.id)
                self.ledger.release(pod.id)
                self._expired_gone.add(pod.id)
                verb = "deleted"
            else:
                current = await pods.get(pod.id)
                if current.status not in _PAUSE_DONE:
                    if current.status is not S.RUNNING:
                        self._later(tracked, f"pod {pod.id} is {current.status}, not yet RUNNING")
                        return
                    await pods.pause(pod.id)
                self.ledger.update(pod.id, storage_cost(current))
                verb = "paused"
        except PodNotFoundError:
            self.ledger.release(pod.id)
            self._expired_gone.add(pod.id)
            verb = "found gone"
        except _HOPELESS:
            raise
        except YottaError as exc:
            self._later(tracked, repr(exc))
            return
        tracked.done = True
        self.expired.append(pod.id)
        logger.info("group %s: pod %d expired (ttl %s); %s", self.label, pod.id, self.ttl, verb)

    def _later(self, tracked: _Tracked, why: str) -> None:
        delay = _RETRY.delay(tracked.failures, self._runtime.rng)
        tracked.failures += 1
        tracked.not_before = self._runtime.clock() + delay
        logger.warning("group %s: expiry not applied yet (%s); trying again in %.1fs",
                       self.label, why, delay)

