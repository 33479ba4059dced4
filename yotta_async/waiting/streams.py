"""Streams over the shared watcher: settling many waits, status changes, as-completed results."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .._validation import check_timeout
from ..errors import PodNotFoundError, YottaError
from ..models import Pod, PodStatus
from .acceptors import OnChange, WaitTarget
from .tracker import PodTracker, call_on_change
from .watcher import Observation, PodWatcher, Subscription

__all__ = ["AsCompleted", "PodChange", "PodWatchStream", "Settle"]


@dataclass(frozen=True)
class PodChange:
    """One status change seen by :meth:`Pods.watch`.

    ``previous`` is ``None`` the first time a pod is seen; ``current`` is ``None`` once
    the pod no longer exists (then ``pod`` is the last snapshot, or a bare ``Pod`` with
    status TERMINATED if it was never seen).
    """

    pod: Pod
    previous: PodStatus | None
    current: PodStatus | None

    @property
    def gone(self) -> bool:
        """True when the pod no longer exists."""
        return self.current is None


class Settle:
    """Many waits served by one :class:`PodWatcher` subscription; yields as pods settle.

    Iterating gives ``(pod_id, result)`` where ``result`` is the settled ``Pod`` or, with
    ``return_exceptions=True``, the ``YottaError`` that ended that pod's wait. Without it,
    the first failure is raised and the subscription is released. When the deadline passes,
    every unsettled pod gets a ``WaitTimeoutError`` (in input order). Duplicated ids are
    waited on once.
    """

    def __init__(
        self,
        watcher: PodWatcher,
        ids: list[int],
        target: WaitTarget[PodStatus],
        *,
        timeout: float | None = None,
        return_exceptions: bool = False,
        on_change: OnChange | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sub: Subscription | None = None  # first, so __del__ works if validation fails
        self._watcher = watcher
        self._budget = check_timeout(timeout, target.default_timeout)
        self._clock = clock
        self._return_exceptions = return_exceptions
        self._on_change = on_change
        started = clock()
        self._trackers = {i: PodTracker(i, target, started) for i in dict.fromkeys(ids)}
        self._total = len(self._trackers)
        self._ready: deque[tuple[int, Pod | YottaError]] = deque()

    def __aiter__(self) -> Settle:
        return self

    async def __anext__(self) -> tuple[int, Pod | YottaError]:
        try:
            while not self._ready:
                if not self._trackers:
                    raise StopAsyncIteration
                if self._sub is None:
                    self._sub = self._watcher.subscribe(self._trackers, self._budget)
                batch = await self._sub.next()
                if batch is None:
                    self._expire()
                else:
                    await self._take(batch)
            pod_id, result = self._ready.popleft()
            if isinstance(result, YottaError) and not self._return_exceptions:
                raise result
            return pod_id, result
        except BaseException:
            await self.aclose()
            raise

    async def _take(self, batch: list[Observation]) -> None:
        now = self._clock()
        for pod_id, pod, error in batch:
            tracker = self._trackers.get(pod_id)
            if tracker is None:
                continue
            result: Pod | YottaError | None
            try:
                if pod is not None:
                    await call_on_change(self._on_change, tracker.observe(pod))
                elif isinstance(error, PodNotFoundError):
                    tracker.observe_gone(error)
                elif error is not None:
                    raise error
                result = tracker.verdict(now)
            except YottaError as exc:
                result = exc
            if result is not None:
                self._settle(pod_id, result)

    def _expire(self) -> None:
        now = self._clock()
        left = len(self._trackers)
        note = f" ({left} of {self._total} pods unsettled)" if self._total > 1 else ""
        for tracker in list(self._trackers.values()):
            self._settle(tracker.pod_id, tracker.timeout_error(now, self._budget, note))

    def _settle(self, pod_id: int, result: Pod | YottaError) -> None:
        del self._trackers[pod_id]
        if self._sub is not None:
            self._sub.drop(pod_id)
        self._ready.append((pod_id, result))

    async def aclose(self) -> None:
        """Release the subscription (and let the poller stop if nobody else waits)."""
        self._trackers.clear()
        sub, self._sub = self._sub, None
        if sub is not None:
            await self._watcher.release(sub)

    def __del__(self) -> None:
        # Abandoned mid-iteration (``break``): unsubscribe now, synchronously.
        if self._sub is not None:
            self._watcher.unsubscribe(self._sub)


class PodWatchStream:
    """The async iterator behind :meth:`Pods.watch`: yields a :class:`PodChange` per change.

    Each pod's first sighting is a change from ``None``. With ``ids`` given, the stream
    ends once every one of those pods is TERMINATED, FAILED or gone; without, it runs until
    the consumer stops (``break`` unsubscribes at once; ``aclose()`` also waits for the
    poller to stop if nobody else needs it).
    """

    def __init__(self, watcher: PodWatcher, ids: list[int] | None) -> None:
        self._watcher = watcher
        self._ids = ids
        self._sub: Subscription | None = None
        self._last: dict[int, Pod] = {}
        self._ended: set[int] = set()
        self._ready: deque[PodChange] = deque()
        self._closed = False

    def __aiter__(self) -> PodWatchStream:
        return self

    async def __anext__(self) -> PodChange:
        while not self._ready:
            if self._closed or (self._ids is not None and self._ended >= set(self._ids)):
                await self.aclose()
                raise StopAsyncIteration
            if self._sub is None:
                self._sub = self._watcher.subscribe(self._ids)
            try:
                batch = await self._sub.next()
                for pod_id, pod, error in batch or ():
                    self._take(pod_id, pod, error)
            except BaseException:
                await self.aclose()
                raise
        return self._ready.popleft()

    def _take(self, pod_id: int, pod: Pod | None, error: YottaError | None) -> None:
        last = self._last.get(pod_id)
        previous = last.status if last is not None else None
        if pod is not None:
            self._last[pod_id] = pod
            if previous != pod.status:
                self._ready.append(PodChange(pod, previous, pod.status))
            if pod.status.is_terminal:
                self._ended.add(pod_id)
            else:
                self._ended.discard(pod_id)
        elif isinstance(error, PodNotFoundError):
            self._last.pop(pod_id, None)
            self._ended.add(pod_id)
            if self._sub is not None:
                self._sub.drop(pod_id)
            snapshot = last if last is not None else Pod(id=pod_id, status=PodStatus.TERMINATED)
            self._ready.append(PodChange(snapshot, previous, None))
        elif error is not None:
            raise error

    async def aclose(self) -> None:
        """Stop watching (and let the poller stop if nobody else waits)."""
        self._closed = True
        sub, self._sub = self._sub, None
        if sub is not None:
            await self._watcher.release(sub)

    async def __aenter__(self) -> PodWatchStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # Abandoned mid-iteration (``break``): unsubscribe now, synchronously.
        if self._sub is not None:
            self._watcher.unsubscribe(self._sub)


class AsCompleted:
    """``as_completed``'s iterator: the results of a :class:`Settle`, without the ids."""

    def __init__(self, settle: Settle) -> None:
        self._settle = settle

    def __aiter__(self) -> AsCompleted:
        return self

    async def __anext__(self) -> Pod | YottaError:
        return (await self._settle.__anext__())[1]

    async def aclose(self) -> None:
        """Stop waiting (and let the poller stop if nobody else waits)."""
        await self._settle.aclose()
