"""Pod groups under chaos: faults on every route, cancellations and errors at random points."""

from __future__ import annotations

import asyncio
import random
import sys
from collections import Counter
from collections.abc import AsyncIterator

import anyio
import pytest

from yotta_async import Backoff, PodCreateRequest, WatchPolicy, YottaClient
from yotta_async._token import GROUP_ENV, TOKEN_ENV
from yotta_async.testing import FaultPlan, Simulator

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

REQ = PodCreateRequest(name="chaos", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)


def chaos_plan(seed: int) -> FaultPlan:
    """10% 500s, 5% 429s, 2% resets and 2% created-but-reply-lost, on every route."""
    return FaultPlan.everywhere(
        seed=seed, error_500=0.10, rate_limit=0.05, retry_after=0.005, reset=0.02,
        lost_500=0.01, lost_reset=0.01,
    )


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(time_scale=0.001, seed=7) as simulator:
        yield simulator


def make_client(sim: Simulator) -> YottaClient:
    # max_retries=8: at a 19% fault rate, 9 failures in a row (p ~ 3e-7) are what it takes
    # for a single call to give up.
    client = YottaClient(sim.api_key, sim.base_url, max_retries=8,
                         backoff=Backoff(initial=0.001, maximum=0.004))
    client.pods.watch_policy = WatchPolicy(floor=0.005, maximum=0.02)
    client.pods.reconcile_settle = 0.01
    return client


def envs(sim: Simulator) -> list[dict[str, str]]:
    return [{v["key"]: v["value"] for v in p.get("environmentVars") or []} for p in sim.pods()]


async def test_chaos_launch_of_200_pods_makes_exactly_200_and_leaves_none(sim: Simulator) -> None:
    sim.faults = chaos_plan(seed=2024)
    async with make_client(sim) as client:
        async with client.pods.group(label="chaos") as group:
            pods = await group.launch(REQ, count=200, wait=True)
            assert len(pods) == 200 and len({p.id for p in pods}) == 200
            tokens = Counter(e.get(TOKEN_ENV) for e in envs(sim))
            assert len(sim.pods()) == 200, "a create was duplicated or lost"
            assert set(tokens.values()) == {1} and None not in tokens
            assert all(e.get(GROUP_ENV) == "chaos" for e in envs(sim))
            assert sim.live_pods() == 200
        assert sim.live_pods() == 0
    injected = sim.faults.injected
    # The plan really did fire every kind, on creates among others.
    assert injected["500"] > 0 and injected["429"] > 0 and injected["reset"] > 0
    assert injected["lost_500"] + injected["lost_reset"] > 0


@pytest.mark.parametrize("trial", range(24))
async def test_cancellation_or_error_at_a_random_point_leaves_no_live_pod(
    sim: Simulator, trial: int
) -> None:
    rng = random.Random(trial)
    sim.faults = chaos_plan(seed=trial)
    how = ("cancel-task", "cancel-scope", "raise")[trial % 3]
    count = rng.randint(5, 40)
    delay = rng.uniform(0.0, 0.06)  # somewhere in the creates, the wait, or after
    async with make_client(sim) as client:

        async def body() -> None:
            async with client.pods.group() as group:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(group.launch, REQ, count)
                    tg.start_soon(group.create, REQ)
                    if how == "raise":
                        await anyio.sleep(delay)
                        raise RuntimeError("boom")
                await anyio.sleep(10)

        if how == "cancel-task":
            task = asyncio.ensure_future(body())
            await asyncio.sleep(delay)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        elif how == "cancel-scope":
            with anyio.move_on_after(delay):
                await body()
        else:
            with pytest.raises(BaseExceptionGroup) as info:
                await body()
            assert info.group_contains(RuntimeError)
    assert sim.live_pods() == 0, f"trial {trial} ({how} after {delay:.3f}s) leaked pods"
    # One snapshot for both counts: a TERMINATED pod may age out of the store between two.
    pods = sim.pods()
    tokens = {v["value"] for p in pods for v in p.get("environmentVars") or [] if v["key"] == TOKEN_ENV}
    assert len(tokens) == len(pods), "duplicate create"
