"""Volume waits against the simulator, in simulated time: deadlines, fail-fast, transient errors."""

from __future__ import annotations

import math

import pytest

from yotta_async import (
    Backoff,
    ValidationError,
    VolumeFailedError,
    VolumeNotFoundError,
    WaitTimeoutError,
)
from yotta_async.models.volume import VolumeStatus
from yotta_async.testing import FaultPlan, FaultRule, ResourceTimings

from ._waitkit import sim_client

RT = ResourceTimings(creating=30, resizing=40, deleting=5)


async def test_wait_until_active_after_create_and_resize() -> None:
    async with sim_client(resource_timings=RT) as (sim, client, clock):
        vol = await client.volumes.create(name="d", storage_type="CEPH", region="us-east-1", size_in_gb=10)
        started = clock.now()
        active = await client.volumes.wait_until_active(vol)
        assert active.status is VolumeStatus.ACTIVE
        assert RT.creating <= clock.now() - started <= RT.creating + 15.0  # within one backoff cap
        await client.volumes.resize(vol.id, 20)
        resized = await client.volumes.wait_until_active(vol.id, timeout=120)
        assert resized.size_in_gb == 20
        assert sim.request_counts["GET /v2/volumes/{id}"] >= 3


async def test_wait_until_deleted_passes_deleting_and_ends_at_the_404() -> None:
    async with sim_client(resource_timings=RT) as (sim, client, _clock):
        vid = sim.add_volume()
        await client.volumes.delete(vid)
        assert await client.volumes.wait_until_deleted(vid, timeout=60) is None
        assert sim.volumes() == []
        # Already gone: the first poll settles it.
        await client.volumes.wait_until_deleted(vid)


async def test_error_fails_fast_not_at_the_deadline() -> None:
    async with sim_client(resource_timings=RT) as (sim, client, clock):
        vol = await client.volumes.create(name="d", storage_type="CEPH", region="us-east-1", size_in_gb=10)
        sim.fail_volume(vol.id)
        with pytest.raises(VolumeFailedError) as info:
            await client.volumes.wait_until_active(vol.id, timeout=600)
        err = info.value
        assert err.volume_id == vol.id and err.volume is not None
        assert err.volume.status is VolumeStatus.ERROR and err.history[-1] is VolumeStatus.ERROR
        assert clock.now() < 60
        with pytest.raises(VolumeFailedError):
            await client.volumes.wait_until_deleted(vol.id)


async def test_timeout_carries_the_last_snapshot() -> None:
    async with sim_client(resource_timings=ResourceTimings(creating=10_000)) as (_sim, client, clock):
        vol = await client.volumes.create(name="d", storage_type="CEPH", region="us-east-1", size_in_gb=10)
        with pytest.raises(WaitTimeoutError) as info:
            await client.volumes.wait_until_active(vol.id, timeout=50)
        err = info.value
        assert err.resource_id == vol.id and err.snapshot is not None
        assert err.snapshot.status is VolumeStatus.CREATING and err.polls >= 2
        assert clock.now() == pytest.approx(50)  # the last poll happens at the deadline itself


async def test_a_vanished_volume_fails_the_wait_for_active() -> None:
    async with sim_client(resource_timings=RT) as (sim, client, _clock):
        vid = sim.add_volume()
        await client.volumes.delete(vid)  # DELETING at the first poll, then gone
        with pytest.raises(VolumeNotFoundError, match="disappeared") as info:
            await client.volumes.wait_until_active(vid)
        assert info.value.http_status == 404


async def test_a_volume_that_never_existed_is_not_found_not_disappeared() -> None:
    async with sim_client(resource_timings=RT) as (_sim, client, _clock):
        with pytest.raises(VolumeNotFoundError, match=r"was not found \(check the id\)"):
            await client.volumes.wait_until_active(424242)


async def test_transient_errors_are_retried_within_the_deadline() -> None:
    async with sim_client(resource_timings=RT) as (sim, client, _clock):
        vid = sim.add_volume()
        sim.faults = FaultPlan({"GET /v2/volumes/{id}": FaultRule(error_500=1.0, limit=3)})
        vol = await client.volumes.wait_until_active(vid, backoff=Backoff(initial=0.5, maximum=1.0))
        assert vol.is_active
        assert sim.faults.injected["500"] == 3
        assert sim.request_counts["GET /v2/volumes/{id}"] == 4  # one request per poll, no inner retries


@pytest.mark.parametrize("timeout", [0, -1, "10", True, math.nan])
async def test_bad_timeouts_are_refused(timeout: object) -> None:
    async with sim_client() as (sim, client, _clock):
        with pytest.raises(ValidationError):
            await client.volumes.wait_until_active(1, timeout=timeout)  # type: ignore[arg-type]
        assert sim.total_requests == 0
