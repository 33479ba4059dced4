"""Shared helpers for the waiter integration tests: a simulator on a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from yotta_async import PodStatus, YottaClient
from yotta_async.testing import ManualClock, Simulator


@asynccontextmanager
async def sim_client(**sim_kw: Any) -> AsyncIterator[tuple[Simulator, YottaClient, ManualClock]]:
    """A simulator and a client sharing one ManualClock: waits run in simulated time."""
    clock = ManualClock()
    async with (
        Simulator(clock=clock, **sim_kw) as sim,
        YottaClient(sim.api_key, sim.base_url, sleep=clock.sleep, clock=clock.now) as client,
    ):
        yield sim, client, clock


def changed_at(sim: Simulator, pod_id: int, status: PodStatus) -> float:
    """When the simulated pod entered ``status`` (clock seconds)."""
    pod = sim.store.get(pod_id)
    assert pod is not None
    return next(t for t, s in pod.timeline if s is status)


def sdk_tasks() -> list[asyncio.Task[Any]]:
    """Tasks other than the test itself and the simulator's connection handlers."""
    current = asyncio.current_task()
    return [
        t
        for t in asyncio.all_tasks()
        if t is not current and not t.get_coro().__qualname__.startswith("RequestHandler")  # type: ignore[union-attr]
    ]
