"""Test doubles shared by the unit suites."""

from __future__ import annotations

import asyncio
import mmap
from types import SimpleNamespace

import pytest


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


class SteppedTime:
    """A clock that moves only when the *test* calls :meth:`advance`; sleeps wait for it.

    Unlike :class:`FakeTime`, a sleep does not move the clock, so several tasks can be caught
    mid-sleep and the test decides when each wakes. ``await sleeping(n)`` returns once ``n``
    sleeps are pending: synchronisation on an event, not on real time.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._pending: list[tuple[float, asyncio.Future[None]]] = []
        self._watchers: list[tuple[int, asyncio.Event]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        entry = (self.now + seconds, asyncio.get_running_loop().create_future())
        self._pending.append(entry)
        self._notify()
        try:
            await entry[1]
        finally:
            if entry in self._pending:
                self._pending.remove(entry)

    @property
    def pending(self) -> int:
        """Sleeps not yet woken."""
        return sum(1 for _, fut in self._pending if not fut.done())

    async def sleeping(self, n: int) -> None:
        """Return once at least ``n`` sleeps are pending."""
        if self.pending >= n:
            return
        event = asyncio.Event()
        self._watchers.append((n, event))
        await event.wait()

    def advance(self, seconds: float) -> None:
        """Move the clock; wake every sleep whose end has come."""
        self.now += seconds
        for end, fut in self._pending:
            if end <= self.now + 1e-9 and not fut.done():
                fut.set_result(None)

    def _notify(self) -> None:
        pending = self.pending
        for _n, event in [w for w in self._watchers if w[0] <= pending]:
            event.set()
        self._watchers = [w for w in self._watchers if not w[1].is_set()]


class RecordedMap(mmap.mmap):
    """A memory map the session made while :func:`record_maps` was on; ``length`` stays
    readable after ``close()`` (``len()`` of a closed map raises)."""

    length: int

    def __new__(cls, fileno: int, length: int) -> RecordedMap:
        made = super().__new__(cls, fileno, length)
        made.length = length
        return made


def record_maps(monkeypatch: pytest.MonkeyPatch) -> list[RecordedMap]:
    """Every memory map ``yotta_async._session`` makes from now on, in order.

    The session checks ``isinstance(raw, mmap.mmap)``, which a ``RecordedMap`` passes.
    """
    from yotta_async import _session

    made: list[RecordedMap] = []

    class Recording(RecordedMap):
        def __new__(cls, fileno: int, length: int) -> RecordedMap:
            made.append(super().__new__(cls, fileno, length))
            return made[-1]

    monkeypatch.setattr(_session, "mmap", SimpleNamespace(mmap=Recording))
    return made
