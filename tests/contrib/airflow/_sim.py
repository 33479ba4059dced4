"""A ``Simulator`` served from a background thread, for code that runs its own event loops.

``dag.test()`` is synchronous and runs every task and trigger in a fresh ``asyncio.run``, so
the simulator cannot share their loop: it gets a thread and a loop of its own.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from yotta_async.testing import Simulator

T = TypeVar("T")


class ThreadedSimulator:
    """Run ``Simulator(**kwargs)`` on its own loop in a daemon thread; ``call`` reaches into it."""

    def __init__(self, **kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.sim = Simulator(**kwargs)
        self._thread = threading.Thread(target=self.loop.run_forever, name="simulator", daemon=True)

    def start(self) -> ThreadedSimulator:
        self._thread.start()
        self.run(self.sim.start())
        return self

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the simulator's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def call(self, fn: Callable[[], T]) -> T:
        """Call ``fn`` on the simulator's loop (its state is not thread-safe)."""

        async def wrapper() -> T:
            return fn()

        return self.run(wrapper())

    def close(self) -> None:
        self.run(self.sim.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()


@contextmanager
def threaded_simulator(**kwargs: Any) -> Iterator[ThreadedSimulator]:
    """A started :class:`ThreadedSimulator`, closed on exit."""
    server = ThreadedSimulator(**kwargs).start()
    try:
        yield server
    finally:
        server.close()
