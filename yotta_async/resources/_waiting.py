"""Waiter methods on ``client.pods``: one pod, many pods, and status-change streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from functools import cached_property
from typing import Literal, overload

from .._backoff import Backoff
from .._session import RETRY_NEVER
from .._watcher import PodChange, PodWatcher, PodWatchStream, WatchPolicy
from ..errors import ValidationError, YottaError
from ..models import Pod, PodStatus, WaitUntil
from ..waiter import (
    PAUSED,
    RUNNING,
    TERMINATED,
    OnChange,
    Settle,
    WaitTarget,
    check_timeout,
    target_for,
    wait_for_pod,
)
from ._core import POD_DECODER, POD_LIST_DECODER, PodsCore
from ._ids import PodId, pod_id

__all__ = ["PodChange", "PodsWaiting", "WatchPolicy"]


class PodsWaiting(PodsCore):
    """``wait_until_*``, ``wait_all``, ``as_completed`` and ``watch``.

    A single-pod wait polls its pod with GET on its own jittered backoff. While another
    wait is already running on the same client it joins the shared watcher instead (unless
    you pass ``backoff=``), so a thousand concurrent ``wait_until_running`` calls cost about
    one list request per tick rather than a thousand GETs. ``wait_all``, ``as_completed``
    and ``watch`` always use the shared watcher, tuned by ``watch_policy``.
    """

    watch_policy: WatchPolicy = WatchPolicy()
    _single_waits: int = 0

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        watcher = self.__dict__.get("_watcher")
        if name == "watch_policy" and watcher is not None:
            # Built on first use; it reads .policy every tick, so a new policy applies at once.
            watcher.policy = value

    @cached_property
    def _watcher(self) -> PodWatcher:
        session = self._session
        return PodWatcher(
            self._list_once,
            self._get_once,
            clock=session._clock,
            sleep=session._sleep,
            policy=self.watch_policy,
            rng=session._rng,
        )

    async def _list_once(self, regions: list[str] | None) -> list[Pod]:
        params = [("regionList", r) for r in regions or ()]
        pods = await self._session.request(
            "GET", "/v2/pods", POD_LIST_DECODER, params=params, retry=RETRY_NEVER
        )
        return pods or []

    async def _get_once(self, pid: int) -> Pod:
        pod = await self._session.request("GET", f"/v2/pods/{pid}", POD_DECODER, retry=RETRY_NEVER)
        return self._saw(pod)

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

    async def _wait_one(
        self,
        raw_id: PodId,
        target: WaitTarget,
        timeout: float,
        backoff: Backoff | None,
        on_change: OnChange | None,
    ) -> Pod:
        pid = pod_id(raw_id)
        budget = check_timeout(timeout, target)
        if backoff is not None and not isinstance(backoff, Backoff):
            raise ValidationError("backoff", f"expected a Backoff, got {type(backoff).__name__}")
        if on_change is not None and not callable(on_change):
            raise ValidationError("on_change", f"expected a callable, got {type(on_change).__name__}")
        session = self._session
        shared = backoff is None and (self._single_waits > 0 or self._watcher.running)
        self._single_waits += 1
        try:
            if shared:
                settle = Settle(
                    self._watcher, [pid], target, timeout=budget, on_change=on_change, clock=session._clock
                )
                try:
                    _, result = await settle.__anext__()
                finally:
                    await settle.aclose()
                assert isinstance(result, Pod)  # failures are raised, not returned
                return result
            return await wait_for_pod(
                lambda: self._get_once(pid),
                pid,
                target,
                timeout=budget,
                backoff=backoff,
                on_change=on_change,
                clock=session._clock,
                sleep=session._sleep,
                rng=session._rng,
            )
        finally:
            self._single_waits -= 1

    # -- many pods -------------------------------------------------------------------------
    @overload
    async def wait_all(
        self,
        ids: Iterable[PodId],
        *,
        until: WaitUntil = ...,
        timeout: float | None = ...,
        return_exceptions: Literal[False] = ...,
    ) -> list[Pod]: ...
    @overload
    async def wait_all(
        self,
        ids: Iterable[PodId],
        *,
        until: WaitUntil = ...,
        timeout: float | None = ...,
        return_exceptions: Literal[True],
    ) -> list[Pod | YottaError]: ...
    async def wait_all(
        self,
        ids: Iterable[PodId],
        *,
        until: WaitUntil = PodStatus.RUNNING,
        timeout: float | None = None,
        return_exceptions: bool = False,
    ) -> list[Pod] | list[Pod | YottaError]:
        """Wait until every pod reaches ``until``; return them in input order.

        ::

            pods = await client.pods.wait_all([p.id for p in created], timeout=900)
            outcome = await client.pods.wait_all(ids, return_exceptions=True)
            failed = [r for r in outcome if isinstance(r, YottaError)]

        ``until`` is RUNNING (default timeout 600 s), PAUSED or TERMINATED (300 s). One
        shared poller serves all the pods. Without ``return_exceptions`` the first failure
        (``PodFailedError``, ``PodNotFoundError``, ``WaitTimeoutError``) stops the wait and
        is raised; with it, each pod's error takes its place in the list.
        """
        pids = _ids(ids)
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
        until: WaitUntil = ...,
        timeout: float | None = ...,
        return_exceptions: Literal[False] = ...,
    ) -> AsyncIterator[Pod]: ...
    @overload
    def as_completed(
        self,
        ids: Iterable[PodId],
        *,
        until: WaitUntil = ...,
        timeout: float | None = ...,
        return_exceptions: Literal[True],
    ) -> AsyncIterator[Pod | YottaError]: ...
    def as_completed(
        self,
        ids: Iterable[PodId],
        *,
        until: WaitUntil = PodStatus.RUNNING,
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
        return _Results(self._settle(_ids(ids), until, timeout, return_exceptions))

    def watch(self, ids: Iterable[PodId] | None = None) -> PodWatchStream:
        """Stream status changes of ``ids`` (or of every pod) as :class:`PodChange` objects.

        ::

            async for change in client.pods.watch(ids):
                print(change.pod.id, change.previous, "->", change.current)

        The first sighting of a pod is a change from ``None``; ``current is None`` means
        the pod no longer exists. With ``ids`` the stream ends when all of them are
        TERMINATED, FAILED or gone; without, it runs until you ``break``.
        """
        return PodWatchStream(self._watcher, None if ids is None else _ids(ids))

    def _settle(
        self, pids: list[int], until: WaitUntil, timeout: float | None, return_exceptions: bool
    ) -> Settle:
        target = target_for(until)
        return Settle(
            self._watcher,
            pids,
            target,
            timeout=check_timeout(timeout, target),
            return_exceptions=return_exceptions,
            clock=self._session._clock,
        )

    async def _aclose(self) -> None:
        """Stop any background poller this resource started."""
        watcher = self.__dict__.get("_watcher")
        if watcher is not None:
            await watcher.aclose()


class _Results:
    """``as_completed``'s iterator: the results of a :class:`Settle`, without the ids."""

    def __init__(self, settle: Settle) -> None:
        self._settle = settle

    def __aiter__(self) -> _Results:
        return self

    async def __anext__(self) -> Pod | YottaError:
        return (await self._settle.__anext__())[1]

    async def aclose(self) -> None:
        """Stop waiting (and let the poller stop if nobody else waits)."""
        await self._settle.aclose()


def _ids(ids: Iterable[PodId]) -> list[int]:
    if isinstance(ids, (str, int)) or not isinstance(ids, Iterable):
        raise ValidationError("ids", f"expected an iterable of pod ids, got {type(ids).__name__}")
    return [pod_id(value, f"ids[{i}]") for i, value in enumerate(ids)]
