"""The pods resource's waits: one pod, many pods, and status-change streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Literal, overload

from .._backoff import Backoff
from .._probe import Prober
from .._runtime import Runtime
from .._validation import PodId, check_callable, check_id, check_ids, check_instance, check_timeout
from ..errors import YottaError
from ..models import Pod, PodStatus, PortSelector, WaitUntil
from ..waiting import (
    DEFAULT_WAIT_BACKOFF,
    MIN_POLL_INTERVAL,
    PAUSED,
    READY,
    RUNNING,
    TERMINATED,
    AsCompleted,
    OnChange,
    PodListing,
    PodTracker,
    PodWatcher,
    PodWatchStream,
    Readiness,
    Settle,
    Target,
    WatchPolicy,
    poll_until,
    probe_ready,
    resolve_until,
)

__all__ = ["PodWaits"]

Until = WaitUntil | Literal["READY", "ready"] | Readiness
"""A wait target as callers name it: a status (or its name), or ``READY``."""
ListOnce = Callable[[list[str] | None], Awaitable[Sequence[Pod] | PodListing]]
GetOnce = Callable[[int], Awaitable[Pod]]


class PodWaits:
    """``wait_until_*``, ``wait_all``, ``as_completed`` and ``watch``.

    A single-pod wait polls its pod with GET on its own jittered backoff. While another
    wait is already running on the same client it joins the shared watcher instead (unless
    you pass ``backoff=``), so a thousand concurrent ``wait_until_running`` calls cost about
    one list request per tick rather than a thousand GETs. ``wait_all``, ``as_completed``
    and ``watch`` always use the shared watcher, tuned by ``watch_policy``.

    ``prober`` runs the TCP probes of ``READY(probe=True)`` waits: one per client, so its
    cap (and short connect timeout) holds across every wait; assign a new
    :class:`~yotta_async._probe.Prober` to tune them.
    """

    def __init__(
        self, list_once: ListOnce, get_once: GetOnce, runtime: Runtime, policy: WatchPolicy
    ) -> None:
        # ``list_once``/``get_once`` make exactly one request each: both engines retry on
        # their own schedule, within their deadline.
        self._get_once = get_once
        self._runtime = runtime
        self._single_waits = 0
        self.prober = Prober()
        self.watcher = PodWatcher(
            list_once, get_once, clock=runtime.clock, sleep=runtime.sleep, policy=policy,
            rng=runtime.rng,
        )

    @property
    def watch_policy(self) -> WatchPolicy:
        """The shared watcher's policy; a new one applies from the watcher's next tick."""
        return self.watcher.policy

    @watch_policy.setter
    def watch_policy(self, policy: WatchPolicy) -> None:
        self.watcher.policy = check_instance(policy, WatchPolicy, "watch_policy")

    # -- one pod -----------------------------------------------------------------------------
    async def wait_until_running(
        self,
        pod_id: PodId,
        *,
        timeout: float = 600,
        backoff: Backoff | None = None,
        on_change: OnChange | None = None,
    ) -> Pod:
        """Wait until the pod is RUNNING and return it.

        ::

            pod = await client.pods.wait_until_running(pod.id, timeout=600,
                                                       on_change=lambda old, new: print(new))

        Fails fast: ``PodFailedError`` as soon as a poll shows FAILED, TERMINATING or
        TERMINATED, ``PodNotFoundError`` if the pod disappears; both carry the last
        snapshot. ``WaitTimeoutError`` (a ``TimeoutError``) after ``timeout`` seconds of
        wall-clock time. Transient errors (connection, 5xx, 429) are retried within the
        deadline. ``on_change(previous, current)`` (sync or async) hears every status
        change, starting with ``(None, first_status)``.
        """
        return await self._wait_one(pod_id, RUNNING, timeout, backoff, on_change)

    async def wait_until_paused(
        self,
        pod_id: PodId,
        *,
        timeout: float = 300,
        backoff: Backoff | None = None,
        on_change: OnChange | None = None,
    ) -> Pod:
        """Wait until the pod is PAUSED and return it (see :meth:`wait_until_running`)."""
        return await self._wait_one(pod_id, PAUSED, timeout, backoff, on_change)

    async def wait_until_terminated(
        self,
        pod_id: PodId,
        *,
        timeout: float = 300,
        backoff: Backoff | None = None,
        on_change: OnChange | None = None,
    ) -> Pod:
        """Wait until the pod is TERMINATED; a pod that no longer exists counts as terminated.

        Returns the last snapshot with status TERMINATED (a bare ``Pod(id, TERMINATED)``
        if the pod was already gone at the first poll).
        """
        return await self._wait_one(pod_id, TERMINATED, timeout, backoff, on_change)

    async def wait_until_ready(
        self,
        pod_id: PodId,
        *,
        ports: Iterable[PortSelector] | None = None,
        probe: bool = False,
        timeout: float = 600,
        backoff: Backoff | None = None,
        on_change: OnChange | None = None,
    ) -> Pod:
        """Wait until the pod is usable: RUNNING, and then its exposed ports healthy.

        ::

            pod = await client.pods.wait_until_ready(pod.id, ports=["ssh"], probe=True)
            host, port = pod.ssh_endpoint

        ``ports`` picks ``expose`` entries by container port or protocol name in any case
        (``None``: every exposed port); each must report ``healthy`` with a ``host`` and
        ``proxy_port``. With ``probe=True`` a TCP connection to each ``host:proxy_port``
        must also open (short connect timeout; a refusal or timeout keeps waiting: the flag
        can lag, and so can the proxy). FAILED and TERMINATED fail fast as for
        :meth:`wait_until_running`; ``WaitTimeoutError`` names the ports still not ready
        (also in its ``ports``).
        """
        target = READY(ports=ports, probe=probe)
        return await self._wait_one(pod_id, target, timeout, backoff, on_change)

    async def _wait_one(
        self,
        raw_id: PodId,
        target: Target,
        timeout: float,
        backoff: Backoff | None,
        on_change: OnChange | None,
    ) -> Pod:
        pid = check_id(raw_id, "pod_id")
        budget = check_timeout(timeout, target.default_timeout)
        if backoff is not None:
            check_instance(backoff, Backoff, "backoff")
        if on_change is not None:
            check_callable(on_change, "on_change")
        runtime = self._runtime
        shared = backoff is None and (self._single_waits > 0 or self.watcher.running)
        self._single_waits += 1
        try:
            if shared:
                settle = Settle(
                    self.watcher, [pid], target, timeout=budget, on_change=on_change,
                    clock=runtime.clock, prober=self.prober,
                )
                try:
                    _, result = await settle.__anext__()
                finally:
                    await settle.aclose()
                assert isinstance(result, Pod)  # failures are raised, not returned
                return result
            if isinstance(target, Readiness):
                return await self._poll_ready(pid, target, budget, backoff, on_change)
            tracker = PodTracker(pid, target, runtime.clock())
            return await poll_until(
                lambda: self._get_once(pid), tracker, timeout=budget, runtime=runtime,
                backoff=backoff, on_change=on_change,
            )
        finally:
            self._single_waits -= 1

    async def _poll_ready(
        self,
        pid: int,
        target: Readiness,
        budget: float,
        backoff: Backoff | None,
        on_change: OnChange | None,
    ) -> Pod:
        """The single-pod loop for READY: poll until flagged ready, then probe (if asked)."""
        runtime = self._runtime
        tracker = target.tracker(pid, runtime.clock())
        policy = backoff or DEFAULT_WAIT_BACKOFF
        attempt = 0
        while True:
            # The same tracker (and so the same deadline) across rounds.
            pod = await poll_until(
                lambda: self._get_once(pid), tracker, timeout=budget, runtime=runtime,
                backoff=backoff, on_change=on_change,
            )
            if await probe_ready(self.prober, tracker, pod):
                return pod
            now = runtime.clock()
            remaining = tracker.started + budget - now
            if remaining <= 0:
                raise tracker.timeout_error(now, budget)
            await runtime.sleep(min(max(MIN_POLL_INTERVAL, policy.delay(attempt, runtime.rng)), remaining))
            attempt += 1

    # -- many pods -------------------------------------------------------------------------
    @overload
    async def wait_all(
        self,
        ids: Iterable[PodId],
        *,
        until: Until = ...,
        timeout: float | None = ...,
        return_exceptions: Literal[False] = ...,
    ) -> list[Pod]: ...
    @overload
    async def wait_all(
        self,
        ids: Iterable[PodId],
        *,
        until: Until = ...,
        timeout: float | None = ...,
        return_exceptions: Literal[True],
    ) -> list[Pod | YottaError]: ...
    async def wait_all(
        self,
        ids: Iterable[PodId],
        *,
        until: Until = PodStatus.RUNNING,
        timeout: float | None = None,
        return_exceptions: bool = False,
    ) -> list[Pod] | list[Pod | YottaError]:
        """Wait until every pod reaches ``until``; return them in input order.

        ::

            pods = await client.pods.wait_all([p.id for p in created], timeout=900)
            outcome = await client.pods.wait_all(ids, return_exceptions=True)
            failed = [r for r in outcome if isinstance(r, YottaError)]

        ``until`` is RUNNING (default timeout 600 s), ``READY`` (RUNNING with the exposed
        ports healthy; ``READY(ports=..., probe=True)`` to choose ports and TCP-probe them;
        600 s), PAUSED or TERMINATED (300 s). One shared poller serves all the pods.
        Without ``return_exceptions`` the first failure (``PodFailedError``,
        ``PodNotFoundError``, ``WaitTimeoutError``) stops the wait and is raised; with it,
        each pod's error takes its place in the list.
        """
        pids = check_ids(ids)
        settle = self._settle(pids, until, timeout, return_exceptions)
        results: dict[int, Pod | YottaError] = {}
        async for pid, result in settle:
            results[pid] = result
        return [results[pid] for pid in pids]

    @overload
    def as_completed(
        self,
        ids: Iterable[PodId],
        *,
        until: Until = ...,
        timeout: float | None = ...,
        return_exceptions: Literal[False] = ...,
    ) -> AsyncIterator[Pod]: ...
    @overload
    def as_completed(
        self,
        ids: Iterable[PodId],
        *,
        until: Until = ...,
        timeout: float | None = ...,
        return_exceptions: Literal[True],
    ) -> AsyncIterator[Pod | YottaError]: ...
    def as_completed(
        self,
        ids: Iterable[PodId],
        *,
        until: Until = PodStatus.RUNNING,
        timeout: float | None = None,
        return_exceptions: bool = False,
    ) -> AsyncIterator[Pod] | AsyncIterator[Pod | YottaError]:
        """Yield each pod as soon as it reaches ``until`` (arguments as in :meth:`wait_all`).

        ::

            async for pod in client.pods.as_completed(ids):
                print(pod.id, "is running")

        With ``return_exceptions=True`` a failed pod's error is yielded in its place (its
        ``pod_id`` says which); otherwise it is raised and the iteration ends.
        """
        return AsCompleted(self._settle(check_ids(ids), until, timeout, return_exceptions))

    def watch(self, ids: Iterable[PodId] | None = None) -> PodWatchStream:
        """Stream status changes of ``ids`` (or of every pod) as :class:`PodChange` objects.

        ::

            async for change in client.pods.watch(ids):
                print(change.pod.id, change.previous, "->", change.current)

        The first sighting of a pod is a change from ``None``; ``current is None`` means
        the pod no longer exists. With ``ids`` the stream ends when all of them are
        TERMINATED, FAILED or gone; without, it runs until you ``break``.
        """
        return PodWatchStream(self.watcher, None if ids is None else check_ids(ids))

    def _settle(
        self, pids: list[int], until: Until, timeout: float | None, return_exceptions: bool
    ) -> Settle:
        target = resolve_until(until)
        return Settle(
            self.watcher,
            pids,
            target,
            timeout=check_timeout(timeout, target.default_timeout),
            return_exceptions=return_exceptions,
            clock=self._runtime.clock,
            prober=self.prober,
        )

    async def aclose(self) -> None:
        """Stop the background poller, if it runs; remaining waiters get ``ConfigurationError``."""
        await self.watcher.aclose()
