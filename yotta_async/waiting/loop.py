"""The single-resource wait: poll one GET on jittered backoff until the acceptors decide."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TypeVar

import anyio

from .._backoff import Backoff
from .._protocol import is_transient
from .._runtime import Runtime
from .._validation import check_timeout
from ..errors import APIError, NotFoundError, RateLimitError, YottaError
from ..models import Pod, PodStatus
from .acceptors import OnChange, WaitTarget
from .tracker import PodTracker, Tracker, call_on_change

__all__ = ["DEFAULT_WAIT_BACKOFF", "MIN_POLL_INTERVAL", "poll_until", "wait_for_pod"]

T = TypeVar("T")

# Full jitter draws delays anywhere in [0, cap]; mean ~7 s once the cap is reached, close
# to the provider's own 10 s polling, but the first polls come quickly.
DEFAULT_WAIT_BACKOFF = Backoff(initial=1.0, maximum=15.0, multiplier=1.5, jitter=1.0)
# Full jitter can draw ~0; this keeps a waiter from polling in a tight loop.
MIN_POLL_INTERVAL = 0.1


async def poll_until(
    fetch: Callable[[], Awaitable[T]],
    tracker: Tracker[T],
    *,
    timeout: float,  # noqa: ASYNC109 - a deadline on the injected clock
    runtime: Runtime,
    backoff: Backoff | None = None,
    on_change: OnChange | None = None,
    not_found: type[APIError] = NotFoundError,
) -> T:
    """Poll ``fetch()`` until ``tracker``'s acceptors end the wait; return the final snapshot.

    Generic over the snapshot type: ``tracker`` carries the status-of function and the
    target's acceptors (a pod's, a volume's). ``fetch`` makes exactly one request (no
    retries of its own): transient failures (connection errors, 5xx, 429) are retried
    here, on ``backoff`` (full jitter), within the deadline, honouring a 429's
    ``Retry-After``. A ``not_found`` error means the resource is gone. No sleep goes past
    the deadline; the last poll happens at the deadline itself. With the real clock, a
    request in flight is also cut off shortly after the deadline.
    """
    policy = backoff or DEFAULT_WAIT_BACKOFF
    clock = runtime.clock
    deadline = tracker.started + timeout
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
        snapshot: T | None = None
        try:
            with bound:
                snapshot = await fetch()
        except not_found as exc:
            tracker.observe_gone(exc)
        except YottaError as exc:
            if not is_transient(exc):
                raise
            tracker.last_error = exc
            if isinstance(exc, RateLimitError) and exc.retry_after:
                hint = exc.retry_after
        if snapshot is not None:
            await call_on_change(on_change, tracker.observe(snapshot))
        result = tracker.verdict(clock())
        if result is not None:
            return result
        now = clock()
        remaining = deadline - now
        if remaining <= 0:
            raise tracker.timeout_error(now, timeout)
        delay = max(MIN_POLL_INTERVAL, policy.delay(attempt, runtime.rng), hint)
        await runtime.sleep(min(delay, remaining))
        attempt += 1


async def wait_for_pod(
    fetch: Callable[[], Awaitable[Pod]],
    pod_id: int,
    target: WaitTarget[PodStatus],
    *,
    timeout: float | None = None,  # noqa: ASYNC109 - a deadline on the injected clock
    backoff: Backoff | None = None,
    on_change: OnChange | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    rng: random.Random | None = None,
) -> Pod:
    """:func:`poll_until` for one pod.

    ::

        pod = await wait_for_pod(lambda: client.pods.get(pid), pid, RUNNING, timeout=60,
                                 on_change=lambda old, new: print(old, "->", new))

    Raises ``PodFailedError``, ``PodNotFoundError`` (both carrying the last snapshot),
    ``WaitTimeoutError``, or the first non-transient error from ``fetch``.
    """
    budget = check_timeout(timeout, target.default_timeout)
    runtime = Runtime(clock=clock, sleep=sleep, rng=rng or random.Random())
    tracker = PodTracker(pod_id, target, clock())
    return await poll_until(
        fetch, tracker, timeout=budget, runtime=runtime, backoff=backoff, on_change=on_change
    )
