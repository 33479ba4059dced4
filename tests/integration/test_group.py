"""Pod groups against the simulator: exit policies, error reporting, in-flight and lost creates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from tests.integration.conftest import fast_client
from yotta_async import (
    AuthenticationError,
    CleanupError,
    PodCreateRequest,
    PodFailedError,
    PodStatus,
    ServerError,
    ValidationError,
    YottaClient,
)
from yotta_async._token import GROUP_ENV, TOKEN_ENV
from yotta_async.testing import FaultPlan, FaultRule, ManualClock, Simulator
from yotta_async.testing._state import SimPod

REQ = PodCreateRequest(name="g", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)
POST = "POST /v2/pods"
DELETE = "DELETE /v2/pods/{id}"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """The simulator on a ManualClock the client shares: pods age only when the client sleeps,
    so no step races the wall clock (a TERMINATED pod stays listed until the client waits on)."""
    async with Simulator(time_scale=0.001, clock=ManualClock()) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[YottaClient]:
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    async with fast_client(sim, reconcile_settle=0.01, clock=clock.now, sleep=clock.sleep) as c:
        yield c


def statuses(sim: Simulator) -> list[str]:
    return sorted(p["status"] for p in sim.pods())


async def test_launch_waits_until_running_and_normal_exit_deletes(
    sim: Simulator, client: YottaClient
) -> None:
    async with client.pods.group(label="batch-1") as group:
        pods = await group.launch(REQ, count=5)
        assert [p.status for p in pods] == [PodStatus.RUNNING] * 5
        assert [p.name for p in pods] == [f"g-{i}" for i in range(5)]
        assert group.ids == [p.id for p in pods]
        assert all(p.env(GROUP_ENV) == "batch-1" for p in pods)
        assert len({p.env(TOKEN_ENV) for p in pods}) == 5
        assert sim.live_pods() == 5
    assert sim.live_pods() == 0  # waited until TERMINATED, not just asked
    assert statuses(sim) == ["TERMINATED"] * 5
    assert [p.status for p in group.pods] == [PodStatus.TERMINATED] * 5


async def test_on_exit_pause_waits_for_starting_pods_then_pauses_them(
    sim: Simulator, client: YottaClient
) -> None:
    async with client.pods.group(on_exit="pause") as group:
        await group.launch(REQ, count=3, wait=False)  # still PENDING when the block ends
        one = await group.create(REQ)
    assert statuses(sim) == ["PAUSED"] * 4
    assert one.id in group.ids


async def test_on_exit_keep_leaves_pods_but_errors_still_delete(sim: Simulator, client: YottaClient) -> None:
    async with client.pods.group(on_exit="keep") as group:
        await group.launch(REQ, count=2)
    assert sim.live_pods() == 2
    with pytest.raises(KeyError):
        async with client.pods.group(on_exit="keep") as group:
            await group.launch(REQ, count=3, wait=False)
            raise KeyError("boom")
    assert sim.live_pods() == 2  # the 3 from the failed block are gone; the kept 2 remain


async def test_an_exception_inside_the_block_propagates_unchanged_after_cleanup(
    sim: Simulator, client: YottaClient
) -> None:
    with pytest.raises(KeyError, match="boom"):
        async with client.pods.group() as group:
            await group.launch(REQ, count=4, wait=False)
            raise KeyError("boom")
    assert sim.live_pods() == 0


async def test_a_failing_pod_raises_pod_failed_and_everything_is_deleted(
    sim: Simulator, client: YottaClient
) -> None:
    doomed = PodCreateRequest(name="bad", image="yotta/always-fails", gpu_type="NVIDIA_H100_80G",
                              gpu_count=1)
    with pytest.raises(PodFailedError):
        async with client.pods.group() as group:
            await group.launch(REQ, count=3)
            await group.launch(doomed)
    assert sim.live_pods() == 0
    assert statuses(sim) == ["TERMINATED"] * 4  # the FAILED pod was deleted too


async def test_a_create_whose_reply_was_lost_inside_the_group_is_found_and_deleted(
    sim: Simulator, client: YottaClient
) -> None:
    sim.faults = FaultPlan({POST: FaultRule(lost_reset=1.0)})
    async with client.pods.group() as group:
        pods = await group.launch(REQ, count=3, wait=False)
    assert len(pods) == 3 and sim.request_counts[POST] == 3
    assert sim.live_pods() == 0


async def test_a_create_is_registered_before_it_is_sent_and_cancelled_mid_flight_is_cleaned(
    sim: Simulator, client: YottaClient
) -> None:
    # The create's reply is lost, and the task is cancelled as soon as the listing that would
    # reconcile it reaches the server: the group does not know the pod's id, only its token.
    sim.faults = FaultPlan({POST: FaultRule(lost_500=1.0)})
    group_ref = []

    async def body() -> None:
        async with client.pods.group() as group:
            group_ref.append(group)
            await group.create(REQ)

    task = asyncio.ensure_future(body())
    await sim.wait_for_requests(1, "GET /v2/pods")
    assert not task.done()
    group = group_ref[0]
    assert len(group.tokens) == 1 and group.pods == []
    assert len(sim.pods()) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sim.live_pods() == 0
    assert statuses(sim) == ["TERMINATED"]


async def test_a_second_native_cancel_during_cleanup_does_not_stop_it(
    sim: Simulator, client: YottaClient
) -> None:
    started = anyio.Event()

    async def body() -> None:
        async with client.pods.group() as group:
            await group.launch(REQ, count=6, wait=False)
            started.set()
            await anyio.sleep_forever()

    task = asyncio.ensure_future(body())
    await started.wait()
    assert sim.request_counts["GET /v2/pods"] == 0
    task.cancel()
    await sim.wait_for_requests(1, "GET /v2/pods")  # cleanup is under way: its first listing
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sim.live_pods() == 0


async def test_cleanup_failure_is_raised_from_the_original_error(sim: Simulator, client: YottaClient) -> None:
    sim.faults = FaultPlan({DELETE: FaultRule(error_500=1.0)})
    with pytest.raises(CleanupError) as info:
        # The deletes' retries end (in 500s) long before 5 s; a 0.2 s deadline could cut them
        # short on a loaded machine and report a timeout instead.
        async with client.pods.group(cleanup_timeout=5.0) as group:
            await group.launch(REQ, count=2, wait=False)
            raise KeyError("original")
    error = info.value
    assert isinstance(error.original, KeyError) and error.__cause__ is error.original
    assert sorted(k for k in error.failures if k is not None) == sorted(group.ids)
    assert all(isinstance(e, ServerError) for e in error.failures.values())
    assert "could not delete" in str(error) and "sweep" in str(error)
    assert sim.live_pods() == 2  # honestly reported, not hidden


async def test_cleanup_failure_after_a_normal_exit_is_raised(sim: Simulator, client: YottaClient) -> None:
    sim.faults = FaultPlan({DELETE: FaultRule(error_500=1.0)})
    with pytest.raises(CleanupError) as info:
        async with client.pods.group(cleanup_timeout=0.2) as group:
            await group.create(REQ)
    assert info.value.original is None
    assert list(info.value.failures) == group.ids


async def test_cleanup_failure_after_a_cancellation_keeps_the_cancellation(
    sim: Simulator, client: YottaClient, caplog: pytest.LogCaptureFixture
) -> None:
    sim.faults = FaultPlan({DELETE: FaultRule(error_500=1.0)})
    with anyio.CancelScope() as scope:
        async with client.pods.group(cleanup_timeout=0.2) as group:
            await group.create(REQ)
            scope.cancel()
            await anyio.sleep_forever()
    assert scope.cancelled_caught
    assert sim.request_counts[DELETE] > 0  # cleanup did try
    assert len(group.ids) == 1
    assert any("could not delete" in r.getMessage() for r in caplog.records)


async def test_group_misuse_is_a_validation_error(sim: Simulator, client: YottaClient) -> None:
    group = client.pods.group()
    with pytest.raises(ValidationError) as info:
        await group.create(REQ)
    assert info.value.field == "group"
    async with group:
        with pytest.raises(ValidationError) as info:
            await group.launch(REQ, count=0)
        assert info.value.field == "count"
    with pytest.raises(ValidationError):
        async with group:
            pass
    for kwargs, field in [({"on_exit": "explode"}, "on_exit"), ({"on_error": "x"}, "on_error"),
                          ({"cleanup_timeout": 0}, "cleanup_timeout"), ({"label": "a b"}, "label"),
                          ({"concurrency": 0}, "concurrency")]:
        with pytest.raises(ValidationError) as info:
            client.pods.group(**kwargs)  # type: ignore[arg-type]
        assert info.value.field == field
    assert sim.total_requests == 0


async def test_a_group_with_no_creates_exits_without_requests(sim: Simulator, client: YottaClient) -> None:
    async with client.pods.group():
        pass
    assert sim.total_requests == 0


async def test_pods_a_lagging_listing_does_not_show_yet_are_still_deleted(
    sim: Simulator, client: YottaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An eventually consistent listing that omits pods for 50 ms: the group knows their ids,
    # asks for each one directly, and deletes them anyway.
    visible = sim.store.iter_pods
    created: dict[int, float] = {}

    def lagging() -> Iterator[SimPod]:
        now = sim.store.now()
        for pod in visible():
            if now - created.setdefault(pod.id, now) >= 0.05:
                yield pod

    monkeypatch.setattr(sim.store, "iter_pods", lagging)
    async with client.pods.group() as group:
        await group.launch(REQ, count=3, wait=False)
    assert sim.request_counts["GET /v2/pods/{id}"] >= 3
    monkeypatch.undo()
    assert sim.live_pods() == 0


async def test_a_listing_that_keeps_failing_is_reported_as_the_unresolved_reason(
    sim: Simulator, client: YottaClient
) -> None:
    # The create's reply is lost and every listing fails: the group cannot know whether the
    # pod exists, and says so instead of claiming success.
    sim.faults = FaultPlan({POST: FaultRule(lost_500=1.0), "GET /v2/pods": FaultRule(error_500=1.0)})
    client._session.max_retries = 0
    with pytest.raises(CleanupError) as info:
        async with client.pods.group(cleanup_timeout=0.1) as group:
            await group.create(REQ)
    assert isinstance(info.value.original, ServerError)  # the create's own failure
    assert isinstance(info.value.failures[None], ServerError)
    assert info.value.failures[None].path == "/v2/pods"
    assert "unresolved creates" in str(info.value)
    assert group.pods == [] and len(group.tokens) == 1


async def test_a_listing_that_fails_for_a_while_only_delays_cleanup(
    sim: Simulator, client: YottaClient
) -> None:
    async with client.pods.group() as group:
        await group.launch(REQ, count=3, wait=False)
        sim.faults = FaultPlan({"GET /v2/pods": FaultRule(error_500=1.0, limit=12)})
    assert sim.faults.injected["500"] == 12
    assert sim.live_pods() == 0


async def test_cleanup_gives_up_at_once_on_an_error_no_retry_can_cure(
    sim: Simulator, client: YottaClient
) -> None:
    # The key is revoked mid-block: every listing gets 401. Cleanup must report that at
    # once rather than poll a hopeless API until cleanup_timeout.
    with pytest.raises(CleanupError) as info:
        async with client.pods.group(cleanup_timeout=2) as group:
            await group.create(REQ)
            sim._state.api_key = "revoked"
            sim.reset_counters()
            raise KeyError("original")
    assert isinstance(info.value.original, KeyError)
    assert any(isinstance(e, AuthenticationError) for e in info.value.failures.values())
    assert sim.request_counts["GET /v2/pods"] == 1
    assert len(group.ids) == 1
