"""``client.gpu_types`` against the simulator: availability follows the capacity that remains."""

from __future__ import annotations

import pytest

from yotta_async import GpuRegion, Placement, PodStatus
from yotta_async.testing import ManualClock, Simulator, Timings, Variants

from .conftest import fast_client

H100 = "NVIDIA_H100_80G"
T = Timings(jitter=0.0)


async def test_default_catalogue_lists_every_type_available(sim: Simulator) -> None:
    async with fast_client(sim) as client:
        types = await client.gpu_types.list()
    by_type = {t.gpu_type: t for t in types}
    assert H100 in by_type
    regions = by_type[H100].regions
    assert [r.region for r in regions][:2] == ["us-east-1", "us-east-2"]
    assert all(r.available is True and r.region_name and r.vm_type_id for r in regions)
    assert len({r.vm_type_id for t in types for r in t.regions}) == sum(len(t.regions) for t in types)


async def test_capacity_is_consumed_by_pods_and_released_when_they_end() -> None:
    clock = ManualClock()
    catalogue = {H100: {"us-east-1": 2, "us-west-1": 4, "ap-southeast-1": 0}}
    async with Simulator(clock=clock, timings=T, catalogue=catalogue) as sim, fast_client(sim) as client:
        assert await client.gpu_types.placements(H100) == [
            Placement(H100, "us-east-1"), Placement(H100, "us-west-1"), Placement(H100, "ap-southeast-1"),
        ]
        first = await client.pods.create(name="a", image="i", gpu_type=H100, gpu_count=2,
                                         regions=["us-east-1"])
        assert first.region == "us-east-1"
        assert sim.remaining_capacity(H100, "us-east-1") == 0
        got = await client.gpu_types.placements(H100)
        assert [(p.region, p.available) for p in got] == [
            ("us-west-1", True), ("us-east-1", False), ("ap-southeast-1", False),
        ]
        # Beyond capacity: accepted, then FAILED, holding nothing.
        over = await client.pods.create(name="b", image="i", gpu_type=H100, gpu_count=1,
                                        regions=["us-east-1"])
        # Not offered at all in that region: FAILED too.
        nowhere = await client.pods.create(name="c", image="i", gpu_type=H100, gpu_count=1,
                                           regions=["us-east-3"])
        # Without regions the first region with room is chosen.
        placed = await client.pods.create(name="d", image="i", gpu_type=H100, gpu_count=4)
        assert placed.region == "us-west-1"
        clock.advance(120)
        assert (await client.pods.get(over.id)).status is PodStatus.FAILED
        assert (await client.pods.get(nowhere.id)).status is PodStatus.FAILED
        assert (await client.pods.get(first.id)).status is PodStatus.RUNNING
        assert (await client.pods.get(placed.id)).status is PodStatus.RUNNING
        assert not any(p.available for p in await client.gpu_types.placements(H100))
        # Deleting gives the GPUs back once the pod is TERMINATED.
        await client.pods.delete(first.id)
        clock.advance(T.terminating)
        got = await client.gpu_types.placements(H100)
        assert got[0] == Placement(H100, "us-east-1") and got[0].available is True


async def test_set_capacity_during_a_run_counts_pods_already_there() -> None:
    clock = ManualClock()
    async with Simulator(clock=clock, timings=T) as sim, fast_client(sim) as client:
        await client.pods.create(name="a", image="i", gpu_type=H100, gpu_count=4, regions=["us-east-2"])
        sim.set_capacity(H100, "us-east-2", 4)  # limited now; the pod already holds all 4
        assert sim.remaining_capacity(H100, "us-east-2") == 0
        (region,) = [r for t in await client.gpu_types.list() if t.gpu_type == H100
                     for r in t.regions if r.region == "us-east-2"]
        assert region.available is False
        sim.set_capacity(H100, "us-east-2", None)
        assert sim.remaining_capacity(H100, "us-east-2") is None
        sim.set_capacity("NVIDIA_NEW_1G", "mars-1", 8)  # a new type in a new region
        new = await client.gpu_types.placements("NVIDIA_NEW_1G")
        assert new == [Placement("NVIDIA_NEW_1G", "mars-1")]
        sim.remove_offer("NVIDIA_NEW_1G")
        assert await client.gpu_types.placements("NVIDIA_NEW_1G") == []
        with pytest.raises(ValueError):
            sim.set_capacity(H100, "us-east-1", -1)


async def test_string_regions_variant(sim: Simulator) -> None:
    sim.variants = Variants(regions_as_strings=True)
    async with fast_client(sim) as client:
        types = await client.gpu_types.list()
        placements = await client.gpu_types.placements(H100)
    assert types[0].regions[0] == GpuRegion(region="us-east-1")
    assert placements[0] == Placement(H100, "us-east-1") and placements[0].available is None
    with pytest.raises(TypeError):
        sim.variants = {"regions_as_strings": True}  # type: ignore[assignment]


async def test_gpu_types_route_is_counted_and_faultable(sim: Simulator) -> None:
    from yotta_async.testing import FaultPlan, FaultRule

    sim.faults = FaultPlan({"GET /v2/vms/types": FaultRule(error_500=1.0, limit=1)})
    async with fast_client(sim) as client:
        assert await client.gpu_types.list()
    assert sim.request_counts["GET /v2/vms/types"] == 2
    assert sim.faults.injected["500"] == 1
