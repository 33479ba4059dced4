"""Waiting engines: acceptors as data, wall-clock deadlines, the single-pod backoff loop."""

from __future__ import annotations

import inspect
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Literal

import anyio
import msgspec

from ._backoff import Backoff
from ._session import is_transient
from ._watcher import Observation, PodWatcher, Subscription
from .errors import (
    PodFailedError,
    PodNotFoundError,
    RateLimitError,
    ValidationError,
    WaitTimeoutError,
    YottaError,
)
from .models import Pod, PodStatus

__all__ = [
    "DEFAULT_WAIT_BACKOFF",
    "MIN_POLL_INTERVAL",
    "PAUSED",
    "RUNNING",
    "TERMINATED",
    "Acceptor",
    "OnChange",
    "PodTracker",
    "Settle",
    "WaitTarget",
    "call_on_change",
    "check_timeout",
    "target_for",
    "wait_for_pod",
]

S = PodStatus
OnChange = Callable[[PodStatus | None, PodStatus], "Awaitable[None] | None"]
"""``on_change(previous, current)``: ``previous`` is ``None`` on the first poll."""

# Full jitter draws delays anywhere in [0, cap]; mean ~7 s once the cap is reached, close
# to the provider's own 10 s polling, but the first polls come quickly.
DEFAULT_WAIT_BACKOFF = Backoff(initial=1.0, maximum=15.0, multiplier=1.5, jitter=1.0)
# Full jitter can draw ~0; this keeps a waiter from polling in a tight loop.
MIN_POLL_INTERVAL = 0.1


@dataclass(frozen=True)
class Acceptor:
    """One rule of a wait: if the pod shows one of ``statuses`` (or, with ``missing=True``,
    no longer exists), the wait ends with ``outcome``.

    >>> Acceptor("failure", frozenset({PodStatus.FAILED})).matches(PodStatus.FAILED)
    True
    """

    outcome: Literal["success", "failure"]
    statuses: frozenset[PodStatus] = frozenset()
    missing: bool = False

    def matches(self, status: PodStatus | None) -> bool:
        """Whether this rule applies to ``status`` (``None``: the pod is gone)."""
        return self.missing if status is None else status in self.statuses


@dataclass(frozen=True)
class WaitTarget:
    """What a wait waits for: the wanted status, its acceptors and its default timeout."""

    status: PodStatus
    acceptors: tuple[Acceptor, ...]
    default_timeout: float

    def outcome(self, status: PodStatus | None) -> Literal["success", "failure"] | None:
        """The first matching acceptor's outcome, or ``None`` to keep waiting."""
        for acceptor in self.acceptors:
            if acceptor.matches(status):
                return acceptor.outcome
        return None


_DOOMED = frozenset({S.FAILED, S.TERMINATING, S.TERMINATED})  # none of these can come back
RUNNING = WaitTarget(
    S.RUNNING,
    (
        Acceptor("success", frozenset({S.RUNNING})),
        Acceptor("failure", _DOOMED),
        Acceptor("failure", missing=True),
    ),
    600.0,
)
PAUSED = WaitTarget(
    S.PAUSED,
    (
        Acceptor("success", frozenset({S.PAUSED})),
        Acceptor("failure", _DOOMED),
        Acceptor("failure", missing=True),
    ),
    300.0,
)
# A FAILED pod can still be deleted, so FAILED does not end a wait for TERMINATED.
TERMINATED = WaitTarget(
    S.TERMINATED,
    (Acceptor("success", frozenset({S.TERMINATED})), Acceptor("success", missing=True)),
    300.0,
)
_TARGETS = {t.status: t for t in (RUNNING, PAUSED, TERMINATED)}


def target_for(until: PodStatus | str) -> WaitTarget:
    """The ``WaitTarget`` for ``until`` (RUNNING, PAUSED or TERMINATED, or their names)."""
    try:
        status = PodStatus(until)
    except ValueError:
        status = None
    target = _TARGETS.get(status) if status is not None else None
    if target is None:
        raise ValidationError("until", f"must be RUNNING, PAUSED or TERMINATED, got {until!r}")
    return target


def check_timeout(timeout: float | None, target: WaitTarget) -> float:
    """``timeout`` validated (``None`` means the target's default; ``math.inf`` is allowed)."""
    if timeout is None:
        return target.default_timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValidationError("timeout", f"must be a number of seconds > 0, got {timeout!r}")
    return float(timeout)


class PodTracker:
    """What one wait has seen of one pod: the last snapshot, the status history, the polls.

    Both the single-pod loop and the shared watcher feed observations in and ask for a
    verdict, so the two paths cannot disagree about what success or failure means.
    """

    def __init__(self, pod_id: int, target: WaitTarget, started: float) -> None:
        self.pod_id = pod_id
        self.target = target
        self.started = started
        self.last: Pod | None = None
        self.history: list[PodStatus] = []
        self.polls = 0
        self.gone: PodNotFoundError | None = None
        self.last_error: BaseException | None = None

    def observe(self, pod: Pod) -> tuple[PodStatus | None, PodStatus] | None:
        """Record a snapshot; returns ``(previous, current)`` if the status changed."""
        self.polls += 1
        self.last_error = None
        previous = self.last.status if self.last is not None else None
        self.last = pod
        if previous == pod.status:
            return None
        self.history.append(pod.status)
        return previous, pod.status

    def observe_gone(self, error: PodNotFoundError) -> None:
        """Record that the API says the pod does not exist."""
        self.polls += 1
        self.last_error = None
        self.gone = error

    def verdict(self, now: float) -> Pod | None:
        """The pod if the wait succeeded, ``None`` to keep waiting; raises if it failed."""
        status = None if self.gone is not None else (self.last.status if self.last else None)
        if status is None and self.gone is None:
            return None
        outcome = self.target.outcome(status)
        if outcome == "success":
            if status is None:  # gone counts as TERMINATED
                base = self.last or Pod(id=self.pod_id, status=S.TERMINATED)
                return msgspec.structs.replace(base, status=S.TERMINATED)
            assert self.last is not None
            return self.last
        if outcome == "failure":
            raise self._failure(now)
        return None

    def _failure(self, now: float) -> YottaError:
        want = self.target.status.value
        elapsed = now - self.started
        if self.gone is not None:
            # Never seen at all: most likely a wrong id, not a pod that went away.
            what = "disappeared" if self.last is not None else "was not found (check the id)"
            err = PodNotFoundError(
                f"pod {self.pod_id} {what} while waiting for {want} "
                f"(after {elapsed:.1f}s, {self.polls} polls): {self.gone.message}",
                code=self.gone.code,
                http_status=self.gone.http_status,
                method=self.gone.method,
                path=self.gone.path,
                request_id=self.gone.request_id,
            )
            err.pod, err.pod_id, err.elapsed = self.last, self.pod_id, elapsed
            err.polls, err.history = self.polls, list(self.history)
            return err
        assert self.last is not None
        return PodFailedError(
            f"pod {self.pod_id} reached {self.last.status.value} while waiting for {want} "
            f"(after {elapsed:.1f}s; history {_path(self.history)})",
            pod=self.last,
            pod_id=self.pod_id,
            elapsed=elapsed,
            polls=self.polls,
            history=self.history,
        )

    def timeout_error(self, now: float, timeout: float, note: str = "") -> WaitTimeoutError:
        """The error for a deadline that passed, carrying what was seen."""
        seen = self.last.status.value if self.last is not None else "no successful poll"
        text = (
            f"pod {self.pod_id} did not reach {self.target.status.value} within {timeout:g}s "
            f"(last status: {seen}; {self.polls} polls; history {_path(self.history)})"
        )
        if self.last_error is not None:
            text += f"; last error: {self.last_error}"
        return WaitTimeoutError(
            text + note,
            pod_id=self.pod_id,
            pod=self.last,
            elapsed=now - self.started,
            polls=self.polls,
            history=self.history,
        )


def _path(history: list[PodStatus]) -> str:
    return " -> ".join(s.value for s in history) or "empty"


async def call_on_change(
    on_change: OnChange | None, change: tuple[PodStatus | None, PodStatus] | None
) -> None:
    """Call a sync or async ``on_change`` callback if there is a change to report."""
    if on_change is None or change is None:
        return
    result = on_change(*change)
    if inspect.isawaitable(result):
        await result


async def wait_for_pod(
    fetch: Callable[[], Awaitable[Pod]],
    pod_id: int,
    target: WaitTarget,
    *,
    timeout: float | None = None,  # noqa: ASYNC109 - a deadline on the injected clock
    backoff: Backoff | None = None,
    on_change: OnChange | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    rng: random.Random | None = None,
) -> Pod:
    """Poll ``fetch()`` until ``target``'s acceptors end the wait; return the final pod.

    ``fetch`` makes exactly one request (no retries of its own): transient failures
    (connection errors, 5xx, 429) are retried here, on ``backoff`` (full jitter), within
    the deadline, honouring a 429's ``Retry-After``. No sleep goes past the deadline; the
    last poll happens at the deadline itself. With the real clock, a request in flight is
    also cut off shortly after the deadline.

    ::

        pod = await wait_for_pod(lambda: client.pods.get(pid), pid, RUNNING, timeout=60,
                                 on_change=lambda old, new: print(old, "->", new))

    Raises ``PodFailedError``, ``PodNotFoundError`` (both carrying the last snapshot),
    ``WaitTimeoutError``, or the first non-transient error from ``fetch``.
    """
    budget = check_timeout(timeout, target)
    policy = backoff or DEFAULT_WAIT_BACKOFF
    started = clock()
    deadline = started + budget
    tracker = PodTracker(pod_id, target, started)
    real_time = clock is time.monotonic
    attempt = 0
    while True:
        hint = 0.0
        remaining = deadline - clock()
        bound: AbstractContextManager[object] = (
            anyio.move_on_after(max(remaining, 1.0))
            if real_time and not math.isinf(remaining)
            else nullcontext()
        )
        pod: Pod | None = None
        try:
            with bound:
                pod = await fetch()
        except PodNotFoundError as exc:
            tracker.observe_gone(exc)
        except YottaError as exc:
            if not is_transient(exc):
                raise
            tracker.last_error = exc
            if isinstance(exc, RateLimitError) and exc.retry_after:
                hint = exc.retry_after
        if pod is not None:
            await call_on_change(on_change, tracker.observe(pod))
        result = tracker.verdict(clock())
        if result is not None:
            return result
        now = clock()
        remaining = deadline - now
        if remaining <= 0:
            raise tracker.timeout_error(now, budget)
        delay = max(MIN_POLL_INTERVAL, policy.delay(attempt, rng), hint)
        await sleep(min(delay, remaining))
        attempt += 1


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
        target: WaitTarget,
        *,
        timeout: float | None = None,
        return_exceptions: bool = False,
        on_change: OnChange | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sub: Subscription | None = None  # first, so __del__ works if validation fails
        self._watcher = watcher
        self._budget = check_timeout(timeout, target)
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
