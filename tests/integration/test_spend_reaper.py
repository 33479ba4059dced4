"""The reaper's loop in-process: every failure it sees is logged and retried; a stop is graceful.

The client here has ``max_retries=0``, so each fault of the plan reaches the reaper itself
(the subprocess tests in ``tests/cli/test_spend.py`` run it with the CLI's normal retries).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from yotta_async import EXPIRES_ENV, EnvVar, PodStatus, YottaClient
from yotta_async.cli._reaper import Reaper
from yotta_async.testing import FaultPlan, ManualClock, Simulator

S = PodStatus
GONE = (S.TERMINATING, S.TERMINATED, None)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(clock=ManualClock()) as simulator:
        yield simulator


def expired_pods(sim: Simulator, n: int) -> list[int]:
    past = str(int(time.time()) - 3600)
    return sim.add_pods(n, name="old", environment_vars=[EnvVar(key=EXPIRES_ENV, value=past)])


def make_reaper(
    sim: Simulator, client: YottaClient, lines: list[str], stop: asyncio.Event, **kw: object
) -> Reaper:
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    return Reaper(client.pods, every=60, criteria={"expired": True, "grace": 0},
                  say=lines.append, stop=stop, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


async def test_the_reaper_outlasts_500s_429s_and_resets_and_reclaims_every_expired_pod(
    sim: Simulator,
) -> None:
    expired = expired_pods(sim, 12)
    keep = sim.add_pods(3, name="keep")  # no stamp: never touched
    sim.faults = FaultPlan.everywhere(error_500=0.3, rate_limit=0.2, reset=0.2, retry_after=0, seed=11)
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    lines: list[str] = []
    stop = asyncio.Event()

    async def sleep(seconds: float) -> None:  # between rounds: stop once all are reclaimed
        if all(sim.status(pid) in GONE for pid in expired):
            stop.set()
        await clock.sleep(seconds)

    async with YottaClient(sim.api_key, sim.base_url, max_retries=0, sleep=clock.sleep,
                           clock=clock.now) as client:
        reaper = make_reaper(sim, client, lines, stop)
        reaper.sleep = sleep
        stats = await asyncio.wait_for(reaper.run(), timeout=60)
    assert sorted(stats.deleted) == sorted(expired)
    assert stats.failures > 0 and stats.rounds > 1  # it really met failures and kept going
    assert any("listing failed" in line for line in lines)
    assert any("could not delete" in line for line in lines)
    for pid in expired:
        assert sum(1 for line in lines if f"deleted pod {pid} " in line) == 1
    assert [sim.status(pid) for pid in keep] == [S.RUNNING] * 3


async def test_a_stop_lets_the_current_action_finish_and_starts_no_new_one(sim: Simulator) -> None:
    expired = expired_pods(sim, 5)
    lines: list[str] = []
    stop = asyncio.Event()

    def say(line: str) -> None:
        lines.append(line)
        if "deleted pod" in line:
            stop.set()  # as SIGTERM would, right after the first action

    async with YottaClient(sim.api_key, sim.base_url) as client:
        reaper = make_reaper(sim, client, lines, stop, concurrency=1)
        reaper.say = say
        stats = await asyncio.wait_for(reaper.run(), timeout=30)
    assert len(stats.deleted) == 1 and stats.rounds == 1
    assert sum(1 for pid in expired if sim.status(pid) is S.TERMINATING) == 1
    assert sim.request_counts["DELETE /v2/pods/{id}"] == 1
