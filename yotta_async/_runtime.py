"""The runtime every component shares: a clock, a sleep and a random source, fakeable in tests."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

__all__ = ["Clock", "IdleUntil", "Runtime", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
IdleUntil = Callable[[float], Awaitable[None]]
"""``idle_until(deadline)``: return once ``clock()`` reads ``deadline``, without moving it."""


@dataclass(frozen=True)
class Runtime:
    """What a component needs from the outside world to wait and to draw jitter.

    One instance per client, built from ``YottaClient(sleep=, clock=, rng=)`` and handed to
    the session, every resource, the waiters and pod groups through their constructors, so a
    test's ``ManualClock`` drives all of them at once.

    ``sleep`` is what a caller that *waits* uses: on a manual clock it moves time forward.
    A background timer that only watches the time (a group's expiry watcher) must not drive
    a manual clock forward by itself, so it uses :meth:`sleep_until`, which goes through
    ``idle_until`` when one is given (a manual clock's passive wait) and is ``sleep`` otherwise.
    """

    clock: Clock = time.monotonic
    sleep: Sleep = anyio.sleep
    rng: random.Random = field(default_factory=random.Random)
    idle_until: IdleUntil | None = None

    async def sleep_until(self, deadline: float) -> None:
        """Return once ``clock()`` has reached ``deadline``, without driving a fake clock."""
        if self.idle_until is not None:
            await self.idle_until(deadline)
        else:
            await self.sleep(max(0.0, deadline - self.clock()))
