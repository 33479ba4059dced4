"""``yotta-async sweep --expired --every 60``: the reaper, a long-lived sweep that never gives up.

Each round lists the pods (``client.pods.sweep(..., dry_run=True)``), then deletes or pauses
each match, writing one line per action. A failed round or action is logged and retried on
the next round. SIGINT or SIGTERM sets ``stop``: the actions already started finish, no new
one starts, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from ..models import Pod
    from ..resources.pods import Pods

__all__ = ["Reaper", "ReaperStats"]

log = logging.getLogger("yotta_async.cli")


@dataclass
class ReaperStats:
    """What a reaper did so far (for tests and the final summary)."""

    rounds: int = 0
    deleted: list[int] = field(default_factory=list)
    paused: list[int] = field(default_factory=list)
    failures: int = 0


class Reaper:
    """Sweeps every ``every`` seconds until ``stop`` is set.

    ``criteria`` are ``client.pods.sweep`` keyword arguments (``expired``, ``group``,
    ``older_than``, ``include_ungrouped``, ``grace``, ``on_expire``); ``say`` gets one line
    per action and per failure; ``sleep`` waits (the client's runtime sleep in tests).
    """

    def __init__(
        self,
        pods: Pods,
        *,
        every: float,
        criteria: dict[str, Any],
        say: Callable[[str], None],
        stop: asyncio.Event,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        now: Callable[[], datetime] | None = None,
        concurrency: int = 8,
    ) -> None:
        self.pods = pods
        self.every = every
        self.criteria = criteria
        self.say = say
        self.stop = stop
        self.sleep = sleep
        self.now = now
        self.concurrency = concurrency
        self.stats = ReaperStats()

    async def run(self) -> ReaperStats:
        """Sweep until ``stop``; returns what was done."""
        while not self.stop.is_set():
            await self.round()
            if not self.stop.is_set():
                await self._nap(self.every)
        return self.stats

    async def round(self) -> None:
        """One sweep: find, then act on each pod found (unless stopped meanwhile)."""
        from ..errors import (
            AuthenticationError,
            ConfigurationError,
            PermissionDeniedError,
            ValidationError,
            YottaError,
        )

        self.stats.rounds += 1
        try:
            now = self.now() if self.now is not None else None
            found = await self.pods.sweep(dry_run=True, now=now, **self.criteria)
        except (ValidationError, ConfigurationError, AuthenticationError, PermissionDeniedError):
            raise  # bad flags or a revoked key: no later round can succeed, so exit non-zero
        except YottaError as exc:
            self.stats.failures += 1
            self.say(f"{_stamp()} listing failed: {_why(exc)}; trying again in {self.every:g}s")
            return
        limit = anyio.Semaphore(self.concurrency)
        async with anyio.create_task_group() as tg:
            for pod in found.found:
                if self.stop.is_set():
                    break
                await limit.acquire()  # waits here, so a stop stops the next action from starting
                if self.stop.is_set():
                    limit.release()
                    break
                tg.start_soon(self._act, pod, limit)

    async def _act(self, pod: Pod, limit: anyio.Semaphore) -> None:
        from .._expiry import expires_at, sweep_action
        from ..errors import InvalidStateError, PodNotFoundError, YottaError

        try:
            action = "delete"
            if self.criteria.get("expired"):
                action = sweep_action(pod, self.criteria.get("on_expire")) or "delete"
            at = expires_at(pod)
            why = f"expired {at:%Y-%m-%dT%H:%M:%SZ}" if at is not None else "matched"
            what = f"pod {pod.id} ({pod.name or 'unnamed'}, {why})"
            try:
                if action == "pause":
                    await self.pods.pause(pod.id)
                else:
                    await self.pods.delete(pod.id)
            except (PodNotFoundError, InvalidStateError) as exc:
                self.say(f"{_stamp()} skipped {what}: {_why(exc)}")
            except YottaError as exc:
                self.stats.failures += 1
                self.say(f"{_stamp()} could not {action} {what}: {_why(exc)}; trying again next round")
            else:
                (self.stats.paused if action == "pause" else self.stats.deleted).append(pod.id)
                self.say(f"{_stamp()} {'paused' if action == 'pause' else 'deleted'} {what}")
        finally:
            limit.release()

    async def _nap(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
        async with anyio.create_task_group() as tg:

            async def sleeper() -> None:
                await self.sleep(seconds)
                tg.cancel_scope.cancel()

            async def stopper() -> None:
                await self.stop.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(sleeper)
            tg.start_soon(stopper)


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text
