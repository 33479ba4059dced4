"""Clocks for the simulator: the real monotonic clock and a manual one for deterministic tests."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "MonotonicClock"]


@runtime_checkable
class Clock(Protocol):
    """What the simulator needs from a clock: seconds since an arbitrary start, and a sleep."""

    def now(self) -> float:
        """Seconds since the clock's start."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock."""
        ...


class MonotonicClock:
    """Real time, from ``time.monotonic``, starting at zero when the clock is made."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def now(self) -> float:
        """Seconds since this clock was made."""
        return time.monotonic() - self._start

    async def sleep(self, seconds: float) -> None:
        """Really sleep."""
        await asyncio.sleep(max(0.0, seconds))

    async def wait_until(self, when: float) -> None:
        """Really sleep until ``now()`` reads ``when``."""
        await asyncio.sleep(max(0.0, when - self.now()))

    def __repr__(self) -> str:
        return f"MonotonicClock(now={self.now():.3f})"


class ManualClock:
    """A clock that moves only when told to, so lifecycle tests never sleep for real.

    ``sleep`` advances the clock by the requested amount and then yields to the event loop
    once, so an SDK waiter given ``sleep=clock.sleep`` polls through a whole lifecycle
    instantly while other tasks still get to run between its polls.

    >>> clock = ManualClock()
    >>> clock.advance(30)
    30.0
    >>> clock.now()
    30.0
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._idle: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        """The current manual time."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError(f"cannot move a clock backwards (advance({seconds}))")
        self._now += seconds
        if self._idle:
            due = [fut for when, fut in self._idle if when <= self._now]
            self._idle = [(when, fut) for when, fut in self._idle if when > self._now]
            for fut in due:
                if not fut.done():
                    fut.set_result(None)
        return self._now

    def set(self, when: float) -> float:
        """Jump to the absolute time ``when`` (not earlier than now) and return it."""
        return self.advance(when - self._now)

    async def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` instantly, then yield once to the event loop."""
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    async def wait_until(self, when: float) -> None:
        """Wait, without moving the clock, until someone else's ``sleep``/``advance`` reaches ``when``.

        For background timers (a group's expiry watcher): were they to ``sleep``, they would
        push the clock to their own deadline at once.
        """
        if when <= self._now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._idle.append((when, fut))
        try:
            await fut
        finally:
            if not fut.done():
                fut.cancel()
                self._idle = [(w, f) for w, f in self._idle if f is not fut]

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now!r})"
