"""Pod groups under chaos: faults on every route, cancellations and errors at random points.

Time is a :class:`ManualClock` shared by the simulator and the client, so no step waits on
the wall clock, and each cancellation trial is triggered by an *event*: the k-th request the
simulator receives (k drawn from the trial's seed), or the launch finishing. Duplicates are
counted on the simulator's side, per client token, over every create it ever accepted, so a
duplicate cannot hide by being cleaned up or aging out of the listing.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import anyio
import pytest

from yotta_async import Backoff, PodCreateRequest, PodGroup, WatchPolicy, YottaClient
from yotta_async._token import GROUP_ENV, TOKEN_ENV
from yotta_async.testing import FaultPlan, ManualClock, Simulator

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
    async with Simulator(time_scale=0.001, seed=7, clock=ManualClock()) as simulator:
        yield simulator


def make_client(sim: Simulator) -> YottaClient:
    # max_retries=8: at a 19% fault rate, 9 failures in a row (p ~ 3e-7) are what it takes
    # for a single call to give up.
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    return YottaClient(sim.api_key, sim.base_url, max_retries=8,
                       backoff=Backoff(initial=0.001, maximum=0.004),
                       watch_policy=WatchPolicy(floor=0.005, maximum=0.02), reconcile_settle=0.01,
                       clock=clock.now, sleep=clock.sleep, rng=random.Random(0))


def envs(sim: Simulator) -> list[dict[str, str]]:
    return [{v["key"]: v["value"] for v in p.get("environmentVars") or []} for p in sim.pods()]


def assert_one_pod_per_token(sim: Simulator, tokens: Iterable[str]) -> None:
    """Every token the group sent made at most one pod, and the pods made carry only those."""
    made = sim.creates_by_token()
    twice = {t: n for t, n in made.items() if n > 1}
    assert not twice, f"duplicate create: {len(twice)} token(s) made more than one pod: {twice}"
    assert set(made) <= set(tokens), "a pod carries a token the group never sent"


async def run_chaos_launch(sim: Simulator, count: int, *, duplicate_one: bool = False) -> None:
    """Launch ``count`` pods in a group under the chaos plan; check exactly-once, then cleanup.

    ``duplicate_one`` re-sends one create with a token that already made a pod (as a
    client bug would): the exactly-once check must then fail.
    """
    async with make_client(sim) as client:
        async with client.pods.group(label="chaos") as group:
            pods = await group.launch(REQ, count=count, wait=True)
            if duplicate_one:
                token = pods[0].env(TOKEN_ENV)
                assert token is not None
                await client.pods.create(REQ, client_token=token)
            assert len(pods) == count and len({p.id for p in pods}) == count
            # Before cleanup, on the simulator's own count: one pod per token, all ours.
            assert_one_pod_per_token(sim, group.tokens)
            assert sorted(sim.creates_by_token().values()) == [1] * count
            assert len(sim.pods()) == count, "a create was duplicated or lost"
            assert all(e.get(GROUP_ENV) == "chaos" for e in envs(sim))
            assert sim.live_pods() == count
        assert sim.live_pods() == 0
    assert_one_pod_per_token(sim, group.tokens)  # cleanup created nothing either


async def test_chaos_launch_of_200_pods_makes_exactly_200_and_leaves_none(sim: Simulator) -> None:
    sim.faults = chaos_plan(seed=2024)
    await run_chaos_launch(sim, 200)
    injected = sim.faults.injected
    # The plan really did fire every kind, on creates among others.
    assert injected["500"] > 0 and injected["429"] > 0 and injected["reset"] > 0
    assert injected["lost_500"] + injected["lost_reset"] > 0


async def test_the_exactly_once_check_fails_when_one_create_is_duplicated(sim: Simulator) -> None:
    """The check above can fail: one create re-sent with an existing token is caught."""
    sim.faults = chaos_plan(seed=2024)
    with pytest.raises(AssertionError, match="duplicate create: 1 token"):
        await run_chaos_launch(sim, 20, duplicate_one=True)
    # The duplicate is caught before cleanup deletes it, and the count survives the deletion.
    assert sorted(sim.creates_by_token().values()) == [1] * 19 + [2]


async def _first_of(*waits: Callable[[], Awaitable[object]]) -> None:
    """Return as soon as any of ``waits`` (zero-argument async callables) finishes."""
    async with anyio.create_task_group() as tg:

        async def one(wait: Callable[[], Awaitable[object]]) -> None:
            await wait()
            tg.cancel_scope.cancel()

        for wait in waits:
            tg.start_soon(one, wait)


@pytest.mark.parametrize("trial", range(24))
async def test_cancellation_or_error_at_a_random_point_leaves_no_live_pod(
    sim: Simulator, trial: int
) -> None:
    rng = random.Random(trial)
    sim.faults = chaos_plan(seed=trial)
    how = ("cancel-task", "cancel-scope", "raise")[trial % 3]
    count = rng.randint(5, 40)
    # The k-th request the simulator receives: among the creates, the wait, or (when k is
    # never reached) right after the launch returns.
    k = rng.randint(1, 3 * count)
    groups: list[PodGroup] = []
    launched = anyio.Event()
    at_trigger: dict[str, int] = {}

    async def trigger() -> None:
        await _first_of(lambda: sim.wait_for_requests(k), launched.wait)
        at_trigger.update(sim.creates_by_token())  # before cleanup starts

    async with make_client(sim) as client:

        async def launch(group: PodGroup) -> None:
            try:
                await group.launch(REQ, count)
            finally:  # a launch that fails must not leave the trigger waiting forever
                launched.set()

        async def body() -> None:
            async with client.pods.group() as group:
                groups.append(group)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(launch, group)
                    tg.start_soon(group.create, REQ)
                    if how == "raise":
                        await trigger()
                        raise RuntimeError("boom")
                await anyio.sleep_forever()

        if how == "cancel-task":
            task = asyncio.ensure_future(body())
            await trigger()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        elif how == "cancel-scope":
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as outer:
                    outer.start_soon(body)
                    await trigger()
                    scope.cancel()
            assert scope.cancel_called
        else:
            with pytest.raises(BaseExceptionGroup) as info:
                await body()
            assert info.group_contains(RuntimeError)
    where = f"trial {trial} ({how} at request {k} of ~{count + 1} creates)"
    assert at_trigger, f"{where}: the trigger never fired"
    assert set(at_trigger.values()) <= {1}, f"{where}: duplicate create before cleanup"
    assert sim.live_pods() == 0, f"{where} leaked pods"
    [group] = groups
    assert_one_pod_per_token(sim, group.tokens)
