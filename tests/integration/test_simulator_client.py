"""``YottaClient`` against the simulator over loopback: the SDK and the fake agree."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from yotta_async import (
    AuthenticationError,
    InvalidStateError,
    Pod,
    PodCreateRequest,
    PodNotFoundError,
    PodStatus,
    YottaClient,
)
from yotta_async.testing import FaultPlan, FaultRule, ManualClock, Simulator, Timings

T = Timings(jitter=0.0)


def request(**kw: object) -> PodCreateRequest:
    fields: dict[str, object] = {
        "name": "n",
        "image": "nvidia/cuda:12.1.0-base-ubuntu22.04",
        "gpu_type": "NVIDIA_H100_80G",
        "gpu_count": 1,
    }
    fields.update(kw)
    return PodCreateRequest.build(**fields)


async def poll_until(
    client: YottaClient, pod_id: int, want: PodStatus, sleep: Callable[[float], Awaitable[None]]
) -> Pod:
    """A minimal poller (the SDK's waiters have their own tests): get, sleep 5 s, repeat."""
    for _ in range(200):
        pod = await client.pods.get(pod_id)
        if pod.status is want or pod.status.is_terminal:
            return pod
        await sleep(5.0)
    raise AssertionError(f"pod {pod_id} never reached {want}")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[Simulator]:
    async with Simulator(clock=clock, timings=T) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator, clock: ManualClock) -> AsyncIterator[YottaClient]:
    # The client sleeps on the simulator's clock: waiters and backoff never really sleep.
    async with YottaClient(sim.api_key, sim.base_url, sleep=clock.sleep, clock=clock.now) as c:
        yield c


async def test_whole_lifecycle_with_no_real_sleep(
    sim: Simulator, client: YottaClient, clock: ManualClock
) -> None:
    started = time.perf_counter()
    pod = await client.pods.create(request(env={"MODE": "train"}, expose=[8888]))
    assert pod.status is PodStatus.PENDING and pod.id > 2**53
    pod = await poll_until(client, pod.id, PodStatus.RUNNING, clock.sleep)
    assert pod.status is PodStatus.RUNNING and pod.env("MODE") == "train"
    await clock.sleep(T.port_health)
    assert (await client.pods.get(pod.id)).expose[0].healthy is True  # type: ignore[index]
    await client.pods.pause(pod.id)
    pod = await poll_until(client, pod.id, PodStatus.PAUSED, clock.sleep)
    assert pod.status is PodStatus.PAUSED and pod.desired_state == "PAUSED"
    await client.pods.resume(pod.id)
    await poll_until(client, pod.id, PodStatus.RUNNING, clock.sleep)
    await client.pods.delete(pod.id)
    pod = await poll_until(client, pod.id, PodStatus.TERMINATED, clock.sleep)
    assert pod.status is PodStatus.TERMINATED
    assert sim.live_pods() == 0
    clock.advance(T.retention)
    with pytest.raises(PodNotFoundError):
        await client.pods.get(pod.id)
    # Over two minutes of pod life went by on the manual clock; a real sleep anywhere would
    # make the wall clock follow. (A loose bound: a loaded machine must not fail this.)
    assert clock.now() >= 120
    assert time.perf_counter() - started < clock.now() / 4


async def test_endpoints_and_error_mapping(sim: Simulator, client: YottaClient, clock: ManualClock) -> None:
    pod = await client.pods.create(request(region="us-east-2"))
    assert (await client.pods.get(pod.id)).id == pod.id
    assert (await client.pods.get(str(pod.id))).id == pod.id
    with pytest.raises(InvalidStateError) as state_err:
        await client.pods.pause(pod.id)
    assert state_err.value.code == 12001
    with pytest.raises(PodNotFoundError) as missing:
        await client.pods.get(pod.id + 1)
    assert missing.value.code == 13000
    clock.advance(60)
    assert [p.id for p in await client.pods.list(statuses=[PodStatus.RUNNING])] == [pod.id]
    assert [p.id for p in await client.pods.list(statuses=["RUNNING", 3])] == [pod.id]
    assert await client.pods.list(regions=["us-west-1"]) == []
    assert [p.region for p in await client.pods.list(regions=["us-east-2"])] == ["us-east-2"]


async def test_wrong_key_is_an_authentication_error(sim: Simulator) -> None:
    async with YottaClient("wrong", sim.base_url, max_retries=0) as bad:
        with pytest.raises(AuthenticationError) as err:
            await bad.pods.list()
    assert "wrong" not in str(err.value) and sim.api_key not in str(err.value)


async def test_retries_through_500_502_and_429(sim: Simulator, client: YottaClient) -> None:
    for rule in (
        FaultRule(error_500=1.0, limit=2),
        FaultRule(error_502=1.0, limit=2),
        FaultRule(rate_limit=1.0, retry_after=2, limit=2),
        FaultRule(reset=1.0, limit=1),
    ):
        sim.faults = FaultPlan({"GET /v2/pods": rule})
        sim.reset_counters()
        assert await client.pods.list() == []
        assert sim.request_counts["GET /v2/pods"] == rule.limit + 1  # type: ignore[operator]


@pytest.mark.parametrize("mode", ["lost_reset", "lost_500"])
async def test_created_but_reply_lost_yields_exactly_one_pod(
    sim: Simulator, client: YottaClient, mode: str
) -> None:
    sim.faults = FaultPlan({"POST /v2/pods": FaultRule(**{mode: 1.0}, limit=1)})  # type: ignore[arg-type]
    pod = await client.pods.create(request())
    assert [p["id"] for p in sim.pods()] == [pod.id]
    assert sim.faults.injected[mode] == 1


async def test_fail_image_pods_reach_failed(sim: Simulator, client: YottaClient, clock: ManualClock) -> None:
    pod = await client.pods.create(request(image="yotta/always-fails"))
    pod = await poll_until(client, pod.id, PodStatus.RUNNING, clock.sleep)
    assert pod.status is PodStatus.FAILED
    assert sim.live_pods() == 0


async def test_plugin_fixtures(yotta_simulator: Simulator, yotta_client: YottaClient) -> None:
    pod = await yotta_client.pods.create(request())
    # The fixtures share a ManualClock: sleeping on it moves the simulated pod along.
    pod = await poll_until(yotta_client, pod.id, PodStatus.RUNNING, yotta_simulator.clock.sleep)
    assert pod.status is PodStatus.RUNNING
    assert yotta_simulator.live_pods() == 1
    assert yotta_simulator.request_counts["POST /v2/pods"] == 1
