"""A group's expiry watcher waits for time on the fixtures' ManualClock instead of moving it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from yotta_async import PodCreateRequest, PodStatus, YottaClient
from yotta_async.testing import ManualClock, Simulator

REQ = PodCreateRequest(name="ttl", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)


async def _until(condition: object, clock: ManualClock, step: float) -> None:
    for _ in range(200):  # bounded: each round moves simulated time, never real time
        if condition():  # type: ignore[operator]
            return
        clock.advance(step)
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


async def test_a_ttl_group_does_not_drive_the_manual_clock(
    yotta_client: YottaClient, yotta_simulator: Simulator, yotta_clock: ManualClock
) -> None:
    async with yotta_client.pods.group(ttl=timedelta(hours=2)) as group:
        pods = await group.launch(REQ, count=2, wait=True)
        assert [p.status for p in pods] == [PodStatus.RUNNING] * 2
        # The launch took about a minute of simulated time, not the two-hour ttl: before the
        # fix the watcher slept its own deadline on the shared clock and expired the pods here.
        assert yotta_clock.now() < 600 * yotta_simulator.store.time_scale
        for _ in range(20):
            await asyncio.sleep(0)
        assert group.expired == [] and yotta_simulator.live_pods() == 2
        # Once someone moves time past the ttl, the watcher wakes and deletes both.
        yotta_simulator.advance(2 * 3600 + 1)
        await _until(lambda: len(group.expired) == 2, yotta_clock, 0.0)
        assert sorted(group.expired) == sorted(p.id for p in pods)
    assert yotta_simulator.live_pods() == 0


async def test_manual_clock_wait_until_is_passive() -> None:
    clock = ManualClock()
    woke = asyncio.Event()

    async def idler() -> None:
        await clock.wait_until(10.0)
        woke.set()

    task = asyncio.create_task(idler())
    for _ in range(5):
        await asyncio.sleep(0)
    assert clock.now() == 0.0 and not woke.is_set()  # waiting did not move time
    clock.advance(9.0)
    await asyncio.sleep(0)
    assert not woke.is_set()
    await clock.sleep(1.0)  # another task's sleep reaches the deadline
    await asyncio.wait_for(woke.wait(), timeout=5)
    await task
    await clock.wait_until(3.0)  # already past: returns at once
    assert clock.now() == 10.0
