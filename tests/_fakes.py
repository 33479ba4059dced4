"""Test doubles shared by the unit suites."""

from __future__ import annotations

import asyncio


class FakeTime:
    """A clock that moves only when the code under test sleeps; records every sleep.

    Pass ``clock=fake.clock, sleep=fake.sleep`` to a ``YottaClient`` (or a waiter) and nothing
    really waits. Each sleep still yields once to the event loop, as a real one would.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)
