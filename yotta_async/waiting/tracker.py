"""What one wait has seen of one resource, and the verdict its acceptors give on it."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

import msgspec

from ..errors import APIError, PodFailedError, PodNotFoundError, WaitTimeoutError, YottaError
from ..models import Pod, PodStatus
from .acceptors import OnChange, WaitTarget

__all__ = ["PodTracker", "Tracker", "call_on_change"]

T = TypeVar("T")
E = TypeVar("E", bound=APIError)
Change = tuple[Any, Any]


class Tracker(Generic[T]):
    """One wait's view of one resource: last snapshot, status history, polls, verdict.

    Generic over the snapshot type: ``status_of`` reads a snapshot's status and the
    target's acceptors judge it. The single-resource loop and the shared watcher both feed
    observations in and ask for a verdict, so the two cannot disagree about what success
    or failure means. Subclasses name their resource in errors (:class:`PodTracker`).
    """

    noun = "resource"
    # One tracker per waiting pod: slots keep each one small.
    __slots__ = ("gone", "history", "key", "last", "last_error", "polls", "started", "status_of", "target")

    def __init__(
        self, key: int, target: WaitTarget[Any], started: float, status_of: Callable[[T], Hashable]
    ) -> None:
        self.key = key
        self.target = target
        self.started = started
        self.status_of = status_of
        self.last: T | None = None
        self.history: list[Any] = []
        self.polls = 0
        self.gone: APIError | None = None
        self.last_error: BaseException | None = None

    def observe(self, snapshot: T) -> Change | None:
        """Record a snapshot; returns ``(previous, current)`` if the status changed."""
        self.polls += 1
        self.last_error = None
        previous = self.status_of(self.last) if self.last is not None else None
        self.last = snapshot
        current = self.status_of(snapshot)
        if previous == current:
            return None
        self.history.append(current)
        return previous, current

    def observe_gone(self, error: APIError) -> None:
        """Record that the API says the resource does not exist."""
        self.polls += 1
        self.last_error = None
        self.gone = error

    def verdict(self, now: float) -> T | None:
        """The snapshot if the wait succeeded, ``None`` to keep waiting; raises if it failed."""
        if self.gone is None and self.last is None:
            return None
        status = None if self.gone is not None else self.status_of(self.last)  # type: ignore[arg-type]
        outcome = self.target.outcome(status)
        if outcome == "success":
            return self.gone_result() if status is None else self.last
        if outcome == "failure":
            raise self.failure_error(now)
        return None

    # -- what subclasses describe ------------------------------------------------------------
    def gone_result(self) -> T:
        """The result of a wait whose target accepts "gone" as success."""
        raise NotImplementedError(f"a {self.noun} that is gone cannot be a wait's result")

    def failure_error(self, now: float) -> YottaError:
        """The error for a failure acceptor that matched."""
        seen = "gone" if self.gone is not None else str(self.status_of(self.last))  # type: ignore[arg-type]
        return YottaError(
            f"{self.noun} {self.key} is {seen} while waiting for {self.target.status} "
            f"(after {now - self.started:.1f}s; history {self.path()})"
        )

    def timeout_error(self, now: float, timeout: float, note: str = "") -> YottaError:
        """The error for a deadline that passed, carrying what was seen."""
        return WaitTimeoutError(
            self.timeout_text(timeout) + note,
            pod_id=self.key, elapsed=now - self.started, polls=self.polls, history=self.history,
        )

    def gone_error(self, cls: type[E], wanted: str, now: float) -> E:
        """The not-found error ``cls`` for a resource the API says is gone, keeping the reply's
        code, status, method, path and request id.

        Never seen at all, it says "was not found (check the id)": most likely a wrong id,
        not a resource that went away.
        """
        gone = self.gone
        assert gone is not None
        what = "disappeared" if self.last is not None else "was not found (check the id)"
        return cls(
            f"{self.noun} {self.key} {what} while waiting for {wanted} "
            f"(after {now - self.started:.1f}s, {self.polls} polls): {gone.message}",
            code=gone.code, http_status=gone.http_status, method=gone.method,
            path=gone.path, request_id=gone.request_id,
        )

    def timeout_text(self, timeout: float, wanted: str | None = None) -> str:
        """The words of a timeout error: what was wanted, what was seen, the last error.

        ``wanted`` words the goal as "was not <wanted>"; by default it is "did not reach"
        the target's status.
        """
        seen = str(self.status_of(self.last)) if self.last is not None else "no successful poll"
        goal = f"was not {wanted}" if wanted is not None else f"did not reach {self.target.status}"
        text = (
            f"{self.noun} {self.key} {goal} within {timeout:g}s "
            f"(last status: {seen}; {self.polls} polls; history {self.path()})"
        )
        if self.last_error is not None:
            text += f"; last error: {self.last_error}"
        return text

    def path(self) -> str:
        """The statuses seen, in order, as ``A -> B -> C``."""
        return " -> ".join(str(s) for s in self.history) or "empty"


def _pod_status(pod: Pod) -> PodStatus:
    return pod.status


class PodTracker(Tracker[Pod]):
    """A :class:`Tracker` of one pod: errors are ``PodFailedError``, ``PodNotFoundError``
    and ``WaitTimeoutError`` carrying the last snapshot; a pod that is gone counts as
    TERMINATED where the target accepts that."""

    noun = "pod"
    __slots__ = ()

    def __init__(self, pod_id: int, target: WaitTarget[PodStatus], started: float) -> None:
        super().__init__(pod_id, target, started, _pod_status)

    @property
    def pod_id(self) -> int:
        """The pod being waited on."""
        return self.key

    def gone_result(self) -> Pod:
        base = self.last or Pod(id=self.key, status=PodStatus.TERMINATED)
        return msgspec.structs.replace(base, status=PodStatus.TERMINATED)

    def failure_error(self, now: float) -> YottaError:
        want = self.target.status.value
        elapsed = now - self.started
        if self.gone is not None:
            err = self.gone_error(PodNotFoundError, want, now)
            err.pod, err.pod_id, err.elapsed = self.last, self.key, elapsed
            err.polls, err.history = self.polls, list(self.history)
            return err
        assert self.last is not None
        return PodFailedError(
            f"pod {self.key} reached {self.last.status.value} while waiting for {want} "
            f"(after {elapsed:.1f}s; history {self.path()})",
            pod=self.last, pod_id=self.key, elapsed=elapsed, polls=self.polls,
            history=self.history,
        )

    def timeout_error(self, now: float, timeout: float, note: str = "") -> WaitTimeoutError:
        return WaitTimeoutError(
            self.timeout_text(timeout) + note,
            pod_id=self.key, pod=self.last, elapsed=now - self.started, polls=self.polls,
            history=self.history,
        )


async def call_on_change(on_change: OnChange | None, change: Change | None) -> None:
    """Call a sync or async ``on_change`` callback if there is a change to report."""
    if on_change is None or change is None:
        return
    result = on_change(*change)
    if inspect.isawaitable(result):
        await result
