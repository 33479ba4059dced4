"""Volume waits: acceptors for "active" and "deleted", and the single-resource poll loop they run on."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

import anyio

from .._backoff import Backoff
from .._runtime import Runtime
from .._session import is_transient
from ..errors import (
    PodNotFoundError,
    RateLimitError,
    ValidationError,
    VolumeFailedError,
    WaitTimeoutError,
    YottaError,
)
from ..models.volume import Volume, VolumeStatus
from ..waiter import DEFAULT_WAIT_BACKOFF, MIN_POLL_INTERVAL

__all__ = ["ACTIVE", "DELETED", "VolumeTarget", "VolumeTracker", "poll_volume"]

V = VolumeStatus
Outcome = Literal["success", "failure"]


@dataclass(frozen=True)
class VolumeTarget:
    """What a volume wait waits for, as data: success and failure statuses, and what "gone" means."""

    name: str
    success: frozenset[VolumeStatus]
    failure: frozenset[VolumeStatus]
    gone: Outcome
    default_timeout: float

    def outcome(self, status: VolumeStatus | None) -> Outcome | None:
        """``"success"``, ``"failure"`` or ``None`` (keep waiting); ``status=None``: the volume is gone."""
        if status is None:
            return self.gone
        if status in self.success:
            return "success"
        if status in self.failure:
            return "failure"
        return None


# ``error`` ends both waits at once: the volume's last operation failed and will not recover.
ACTIVE = VolumeTarget("active", frozenset({V.ACTIVE}), frozenset({V.ERROR}), "failure", 600.0)
DELETED = VolumeTarget("deleted", frozenset(), frozenset({V.ERROR}), "success", 300.0)


class VolumeTracker:
    """One wait's view of one volume: last snapshot, status history, polls, verdict."""

    def __init__(self, volume_id: int, target: VolumeTarget, started: float) -> None:
        self.volume_id = volume_id
        self.target = target
        self.started = started
        self.last: Volume | None = None
        self.history: list[VolumeStatus] = []
        self.polls = 0
        self.gone: PodNotFoundError | None = None
        self.last_error: BaseException | None = None

    def observe(self, volume: Volume) -> None:
        """Record a snapshot."""
        self.polls += 1
        self.last_error = None
        if not self.history or self.history[-1] != volume.status:
            self.history.append(volume.status)
        self.last = volume

    def observe_gone(self, error: PodNotFoundError) -> None:
        """Record that the API says the volume does not exist (HTTP 404)."""
        self.polls += 1
        self.last_error = None
        self.gone = error

    def verdict(self, now: float) -> tuple[Volume | None] | None:
        """``(volume,)`` if the wait succeeded (``(None,)`` when gone), ``None`` to keep waiting."""
        if self.gone is None and self.last is None:
            return None
        status = None if self.gone is not None else self.last.status if self.last else None
        outcome = self.target.outcome(status)
        if outcome == "success":
            return (None if self.gone is not None else self.last,)
        if outcome == "failure":
            raise self._failure(now)
        return None

    def _failure(self, now: float) -> YottaError:
        elapsed = now - self.started
        if self.gone is not None:
            gone = self.gone
            return PodNotFoundError(
                f"volume {self.volume_id} disappeared while waiting for it to be {self.target.name} "
                f"(after {elapsed:.1f}s, {self.polls} polls): {gone.message}",
                code=gone.code, http_status=gone.http_status, method=gone.method, path=gone.path,
                request_id=gone.request_id,
            )
        return VolumeFailedError(
            f"volume {self.volume_id} reached {self.last.status if self.last else '?'} while waiting "
            f"for it to be {self.target.name} (after {elapsed:.1f}s; history {self._path()})",
            volume=self.last, volume_id=self.volume_id, elapsed=elapsed, polls=self.polls,
            history=self.history,
        )

    def timeout_error(self, now: float, timeout: float) -> WaitTimeoutError:
        """The error for a deadline that passed, carrying the last snapshot."""
        seen = str(self.last.status) if self.last is not None else "no successful poll"
        text = (
            f"volume {self.volume_id} was not {self.target.name} within {timeout:g}s "
            f"(last status: {seen}; {self.polls} polls; history {self._path()})"
        )
        if self.last_error is not None:
            text += f"; last error: {self.last_error}"
        err = WaitTimeoutError(text, elapsed=now - self.started, polls=self.polls)
        err.resource_id, err.snapshot = self.volume_id, self.last
        history: list[Any] = list(self.history)  # statuses of a volume, not a pod
        err.history = history
        return err

    def _path(self) -> str:
        return " -> ".join(str(s) for s in self.history) or "empty"


def check_timeout(timeout: object, default: float) -> float:
    """Seconds for a deadline: ``None`` means ``default``; ``math.inf`` means no deadline."""
    if timeout is None:
        return default
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValidationError("timeout", f"must be a number of seconds > 0, got {timeout!r}")
    return float(timeout)


async def poll_volume(
    fetch: Callable[[], Awaitable[Volume]],
    tracker: VolumeTracker,
    *,
    timeout: float,  # noqa: ASYNC109 - a deadline on the injected clock
    runtime: Runtime,
    backoff: Backoff | None = None,
) -> Volume | None:
    """Poll ``fetch()`` until ``tracker``'s target decides; the final volume (``None``: gone).

    The single-resource loop of the waiting engine: one GET per poll on jittered backoff,
    transient failures (connection errors, 5xx, 429 with its ``Retry-After``) retried
    within a wall-clock deadline, no sleep past the deadline, and the last poll at the
    deadline itself.
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
        snapshot: Volume | None = None
        try:
            with bound:
                snapshot = await fetch()
        except PodNotFoundError as exc:
            tracker.observe_gone(exc)
        except YottaError as exc:
            if not is_transient(exc):
                raise
            tracker.last_error = exc
            if isinstance(exc, RateLimitError) and exc.retry_after:
                hint = exc.retry_after
        if snapshot is not None:
            tracker.observe(snapshot)
        result = tracker.verdict(clock())
        if result is not None:
            return result[0]
        now = clock()
        remaining = deadline - now
        if remaining <= 0:
            raise tracker.timeout_error(now, timeout)
        delay = max(MIN_POLL_INTERVAL, policy.delay(attempt, runtime.rng), hint)
        await runtime.sleep(min(delay, remaining))
        attempt += 1
