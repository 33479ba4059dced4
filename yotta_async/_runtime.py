"""The runtime every component shares: a clock, a sleep and a random source, fakeable in tests."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

__all__ = ["Clock", "Runtime", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Runtime:
    """What a component needs from the outside world to wait and to draw jitter.

    One instance per client, built from ``YottaClient(sleep=, clock=, rng=)`` and handed to
    the session, every resource, the waiters and pod groups through their constructors, so a
    test's ``ManualClock`` drives all of them at once.
    """

    clock: Clock = time.monotonic
    sleep: Sleep = anyio.sleep
    rng: random.Random = field(default_factory=random.Random)
