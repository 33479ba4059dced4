"""Regression tests for defects found in review, against the simulator over loopback."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import anyio
import pytest

from tests.integration.conftest import fast_client
from yotta_async import (
    ConfigurationError,
    EnvVar,
    PodCreateRequest,
    PodStatus,
    ServerError,
    ValidationError,
    WaitTimeoutError,
    WatchPolicy,
    YottaClient,
    YottaError,
)
from yotta_async._token import GROUP_ENV, TOKEN_ENV
from yotta_async.testing import ManualClock, Simulator

REQ = PodCreateRequest(name="rv", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[YottaClient]:
    async with fast_client(sim, reconcile_settle=0.01) as c:
        yield c


async def test_request_queued_when_the_client_closes_raises_a_yotta_error(sim: Simulator) -> None:
    # A request waiting for its turn (here: requests_per_second pacing) when the client is
    # closed must fail as a YottaError, not as aiohttp's bare "Session is closed" RuntimeError.
    paced = anyio.Event()
    release = anyio.Event()

    async def sleep(seconds: float) -> None:
        paced.set()
        await release.wait()

    client = YottaClient(sim.api_key, sim.base_url, requests_per_second=0.5, sleep=sleep)
    await client.pods.list()  # takes the first slot; the next request must wait ~2 s
    outcome: list[BaseException] = []

    async def second() -> None:
        try:
            await client.pods.list()
        except BaseException as exc:  # the type is what this test checks
            outcome.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(second)
        await paced.wait()
        await client.aclose()
        release.set()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConfigurationError), repr(outcome[0])
    assert sim.request_counts["GET /v2/pods"] == 1


async def test_group_launch_checks_its_wait_timeout_before_creating(
    sim: Simulator, client: YottaClient
) -> None:
    async with client.pods.group() as group:
        for bad in (-1, 0, "10", math.nan):
            with pytest.raises(ValidationError) as info:
                await group.launch(REQ, count=2, wait=True, timeout=bad)  # type: ignore[arg-type]
            assert info.value.field == "timeout"
    assert sim.request_counts["POST /v2/pods"] == 0


async def test_sweep_checks_its_wait_timeout_before_deleting(sim: Simulator, client: YottaClient) -> None:
    env = [EnvVar(key=TOKEN_ENV, value="crashed-0"), EnvVar(key=GROUP_ENV, value="crashed")]
    sim.add_pods(1, environment_vars=env)  # an orphan sweep would delete, if it got that far
    for bad in (-1, 0, "10"):
        with pytest.raises(ValidationError) as info:
            await client.pods.sweep(group="crashed", wait=True, timeout=bad)  # type: ignore[arg-type]
        assert info.value.field == "timeout"
        assert sim.total_requests == 0


async def test_sweep_rejects_an_age_no_timedelta_can_hold(sim: Simulator, client: YottaClient) -> None:
    for bad in (math.inf, 1e300):
        with pytest.raises(ValidationError) as info:
            await client.pods.sweep(older_than=bad)
        assert info.value.field == "older_than"
    assert sim.total_requests == 0


async def test_group_cleanup_does_not_forget_a_pod_it_could_not_confirm(
    sim: Simulator, client: YottaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The listing lags behind the create (the pod is missing from it) and the GET that
    # should confirm the pod fails: cleanup must not declare success with the pod RUNNING.
    pods = client.pods
    real_list, real_get = pods.list, pods.get
    lagging = {"lists": 2, "gets": 1}

    async def list_lagging(**kw: object) -> list[object]:
        listed = await real_list(**kw)  # type: ignore[arg-type]
        if lagging["lists"] > 0:
            lagging["lists"] -= 1
            return []
        return listed

    async def get_failing(pid: object) -> object:
        if lagging["gets"] > 0:
            lagging["gets"] -= 1
            raise ServerError("injected", http_status=503)
        return await real_get(pid)  # type: ignore[arg-type]

    async with pods.group(cleanup_timeout=5) as group:
        await group.launch(REQ, count=1, wait=True)
        monkeypatch.setattr(pods, "list", list_lagging)
        monkeypatch.setattr(pods, "get", get_failing)
    assert [p["status"] for p in sim.pods()] == [PodStatus.TERMINATED.value]
    assert sim.live_pods() == 0


async def test_group_cleanup_reports_a_pod_it_never_could_confirm(
    sim: Simulator, client: YottaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every listing misses the pod and every GET fails: the pod's fate is unknown, so the
    # group must say so (CleanupError naming it) rather than exit quietly.
    pods = client.pods

    async def list_empty(**kw: object) -> list[object]:
        return []

    async def get_failing(pid: object) -> object:
        raise ServerError("injected", http_status=503)

    async def delete_failing(pid: object) -> None:
        raise ServerError("injected", http_status=503)

    with pytest.raises(YottaError) as info:
        async with pods.group(cleanup_timeout=0.2) as group:
            [pod] = await group.launch(REQ, count=1, wait=False)
            monkeypatch.setattr(pods, "list", list_empty)
            monkeypatch.setattr(pods, "get", get_failing)
            monkeypatch.setattr(pods, "delete", delete_failing)
    assert type(info.value).__name__ == "CleanupError"
    assert pod.id in info.value.failures  # type: ignore[attr-defined]


async def test_watch_policy_set_after_the_first_wait_takes_effect() -> None:
    # The shared watcher is built on first use; a policy assigned later must not be ignored.
    clock = ManualClock()
    async with Simulator(clock=clock) as sim:
        ids = sim.add_pods(1, status=PodStatus.PAUSED)
        async with YottaClient(sim.api_key, sim.base_url, clock=clock.now, sleep=clock.sleep) as client:
            await client.pods.wait_all(ids, until=PodStatus.PAUSED)  # builds the watcher
            client.pods.watch_policy = WatchPolicy(floor=30.0, maximum=30.0, jitter=0)
            sim.reset_counters()
            with pytest.raises(WaitTimeoutError):
                await client.pods.wait_all(ids, until=PodStatus.RUNNING, timeout=60)
    # 30 s apart over 60 s: at most a first, a middle and a last look (the default
    # policy, 1 s growing to 10 s, would make about a dozen).
    assert sim.request_counts["GET /v2/pods"] <= 4


async def test_create_many_rejects_a_reserved_env_key_before_creating_anything(
    sim: Simulator, client: YottaClient
) -> None:
    bad = PodCreateRequest(
        name="b", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1,
        environment_vars=[EnvVar(key="A", value="1"), EnvVar(key=TOKEN_ENV, value="mine")],
    )
    with pytest.raises(ValidationError) as info:
        await client.pods.create_many([REQ, bad])
    assert info.value.field == "requests[1].environment_vars[1].key"
    assert sim.total_requests == 0
