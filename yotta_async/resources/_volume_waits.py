"""Volume waits: their targets as acceptors, and a tracker that names a volume in its errors."""

from __future__ import annotations

from typing import Any

from .._backoff import Backoff
from .._runtime import Runtime
from ..errors import VolumeFailedError, VolumeNotFoundError, WaitTimeoutError, YottaError
from ..models.volume import StorageType, Volume, VolumeStatus
from ..waiting import Acceptor, Tracker, WaitTarget, poll_until

__all__ = ["ACTIVE", "DELETED", "VolumeTracker", "wait_for_volume"]

V = VolumeStatus

# ``error`` ends both waits at once: the volume's last operation failed and will not mend.
ACTIVE: WaitTarget[VolumeStatus] = WaitTarget(
    V.ACTIVE,
    (
        Acceptor("success", frozenset({V.ACTIVE})),
        Acceptor("failure", frozenset({V.ERROR})),
        Acceptor("failure", missing=True),
    ),
    600.0,
)
DELETED: WaitTarget[VolumeStatus] = WaitTarget(
    V.DELETING,  # what is shown in messages; success is the volume being gone
    (Acceptor("success", missing=True), Acceptor("failure", frozenset({V.ERROR}))),
    300.0,
)


def _status(volume: Volume) -> VolumeStatus:
    return volume.status


class VolumeTracker(Tracker[Volume]):
    """A :class:`~yotta_async.waiting.Tracker` of one volume.

    Errors: :class:`~yotta_async.VolumeFailedError` on ``error``;
    :class:`~yotta_async.VolumeNotFoundError` (the API's HTTP 404) if the volume vanishes
    while a wait wants it active; and
    :class:`~yotta_async.WaitTimeoutError` with ``resource_id`` and ``snapshot`` set.
    """

    noun = "volume"

    def __init__(self, volume_id: int, target: WaitTarget[VolumeStatus], started: float) -> None:
        super().__init__(volume_id, target, started, _status)

    def gone_result(self) -> Volume:
        """The result when "gone" is success (a wait for deletion)."""
        # Only a wait for deletion accepts "gone"; its caller gets None, so any snapshot does.
        return self.last or Volume(id=self.key, name="", storage_type=StorageType.CEPH, status=V.DELETING)

    def failure_error(self, now: float) -> YottaError:
        """``VolumeFailedError`` for ``error``; ``VolumeNotFoundError`` (HTTP 404) if it vanished."""
        if self.gone is not None:
            return self.gone_error(VolumeNotFoundError, "it to be active", now)
        elapsed = now - self.started
        return VolumeFailedError(
            f"volume {self.key} reached {self.last.status if self.last else '?'} "
            f"(after {elapsed:.1f}s; history {self.path()})",
            volume=self.last, volume_id=self.key, elapsed=elapsed, polls=self.polls,
            history=self.history,
        )

    def timeout_error(self, now: float, timeout: float, note: str = "") -> WaitTimeoutError:
        """``WaitTimeoutError`` with ``resource_id`` and ``snapshot`` (the last volume) set."""
        text = self.timeout_text(timeout, "gone" if self.target is DELETED else "active")
        history: list[Any] = list(self.history)
        err = WaitTimeoutError(text + note, elapsed=now - self.started, polls=self.polls, history=history)
        err.resource_id, err.snapshot = self.key, self.last
        return err


async def wait_for_volume(
    fetch: Any,
    volume_id: int,
    target: WaitTarget[VolumeStatus],
    *,
    timeout: float,
    runtime: Runtime,
    backoff: Backoff | None = None,
) -> Volume:
    """The generic single-resource loop (:func:`~yotta_async.waiting.poll_until`) on one volume."""
    tracker = VolumeTracker(volume_id, target, runtime.clock())
    return await poll_until(fetch, tracker, timeout=timeout, runtime=runtime, backoff=backoff)
