"""``client.volumes`` against the simulator: lifecycle, paging, mounts and refusals."""

from __future__ import annotations

import pytest

from yotta_async import (
    InvalidStateError,
    NotFoundError,
    PodNotFoundError,
    PodStatus,
    ResourceInUseError,
    ValidationError,
    VolumeNotFoundError,
    YottaClient,
)
from yotta_async.models.volume import StorageType, VolumeMount, VolumeStatus
from yotta_async.testing import (
    FaultPlan,
    FaultRule,
    ManualClock,
    ResourceTimings,
    Simulator,
    Timings,
    Variants,
)

from .conftest import fast_client

T = Timings(jitter=0.0)
RT = ResourceTimings(creating=10, resizing=20, deleting=3)
H100 = "NVIDIA_H100_80G"


def manual(**kw: object) -> tuple[Simulator, ManualClock]:
    clock = ManualClock()
    return Simulator(clock=clock, timings=T, resource_timings=RT, **kw), clock  # type: ignore[arg-type]


async def test_lifecycle_create_rename_resize_delete() -> None:
    sim, clock = manual()
    async with sim, fast_client(sim) as client:
        vol = await client.volumes.create(
            name="data", storage_type="ceph", region="us-east-1", size_in_gb=100
        )
        assert (vol.status, vol.storage_type, vol.size_in_gb, vol.mount_count) == (
            VolumeStatus.CREATING, StorageType.CEPH, 100, 0
        )
        # Not active yet: resize and delete are refused as a state problem, not "in use".
        with pytest.raises(InvalidStateError) as info:
            await client.volumes.resize(vol.id, 200)
        assert not isinstance(info.value, ResourceInUseError)
        assert "creating" in str(info.value)
        clock.advance(RT.creating)
        vol = await client.volumes.get(vol.id)
        assert vol.is_active
        renamed = await client.volumes.rename(vol, "data-2")
        assert renamed.name == "data-2"
        await client.volumes.resize(vol.id, 200)
        assert (await client.volumes.get(vol.id)).status is VolumeStatus.RESIZING
        clock.advance(RT.resizing)
        vol = await client.volumes.get(vol.id)
        assert (vol.status, vol.size_in_gb) == (VolumeStatus.ACTIVE, 200)
        await client.volumes.delete(vol.id)
        assert (await client.volumes.get(vol.id)).status is VolumeStatus.DELETING
        clock.advance(RT.deleting)
        with pytest.raises(VolumeNotFoundError) as gone:
            await client.volumes.get(vol.id)
        assert isinstance(gone.value, NotFoundError) and not isinstance(gone.value, PodNotFoundError)
        assert sim.volumes() == []


async def test_status_case_and_string_id_variants() -> None:
    sim, clock = manual(variants=Variants(status_case="upper", string_ids=True))
    async with sim, fast_client(sim) as client:
        vol = await client.volumes.create(name="d", storage_type=StorageType.S3)
        assert vol.status is VolumeStatus.CREATING and vol.size_in_gb is None and vol.region is None
        clock.advance(RT.creating)
        assert (await client.volumes.get(str(vol.id))).status is VolumeStatus.ACTIVE


async def test_list_follows_pages_and_lists_every_type(sim: Simulator) -> None:
    ids = [sim.add_volume(f"c{i}", "CEPH", region="us-east-1" if i % 2 else "us-west-1") for i in range(7)]
    s3 = sim.add_volume("s", "S3", region=None, size_in_gb=None)
    async with fast_client(sim) as client:
        client.volumes.page_size = 2
        sim.reset_counters()
        ceph = await client.volumes.list(storage_type="CEPH")
        assert [v.id for v in ceph] == ids
        assert sim.request_counts["GET /v2/volumes"] == 4  # pages of 2, 2, 2, 1
        east = await client.volumes.list("CEPH", region="us-east-1")
        assert [v.id for v in east] == ids[1::2]
        sim.reset_counters()
        everything = await client.volumes.list()
        assert {v.id for v in everything} == {*ids, s3}
        assert sim.request_counts["GET /v2/volumes"] == 4 + 1 + 1 + 1  # CEPH pages, S3, VENDOR, R2
        seen = [v.id async for v in client.volumes.iter("CEPH", page_size=3)]
        assert seen == ids


async def test_a_mounted_volume_counts_refuses_and_frees(sim: Simulator) -> None:
    sim, clock = manual()
    async with sim, fast_client(sim) as client:
        vol = await client.volumes.create(name="d", storage_type="CEPH", region="us-east-1", size_in_gb=10)
        # A pod cannot mount a volume that is not active yet, nor one that does not exist.
        with pytest.raises(InvalidStateError, match="creating"):
            await client.pods.create(name="p", image="i", gpu_type=H100, gpu_count=1,
                                     volumes=[VolumeMount(vol, "/mnt/data")])
        with pytest.raises(Exception, match="does not exist"):
            await client.pods.create(name="p", image="i", gpu_type=H100, gpu_count=1,
                                     volumes=[VolumeMount(999, "/mnt/data")])
        clock.advance(RT.creating)
        pods = [
            await client.pods.create(name=f"p{i}", image="i", gpu_type=H100, gpu_count=1,
                                     volumes=[VolumeMount(vol.id, "/mnt/data")])
            for i in range(2)
        ]
        assert pods[0].volume_ids == [vol.id]
        assert pods[0].persistent_volumes and pods[0].persistent_volumes[0].mount_path == "/mnt/data"
        assert (await client.volumes.get(vol.id)).mount_count == 2
        for op in (client.volumes.delete(vol.id), client.volumes.resize(vol.id, 20)):
            with pytest.raises(ResourceInUseError) as info:
                await op
            assert info.value.mount_count == 2 and info.value.resource_id == vol.id
        await client.pods.delete(pods[0].id)
        clock.advance(T.terminating)
        assert (await client.volumes.get(vol.id)).mount_count == 1
        await client.pods.delete(pods[1].id)
        clock.advance(T.terminating)
        assert sim.mount_count(vol.id) == 0
        await client.volumes.delete(vol.id)


async def test_a_failed_pod_does_not_hold_its_volume() -> None:
    sim, clock = manual(catalogue={H100: {"us-east-1": 0}})
    async with sim, fast_client(sim) as client:
        vid = sim.add_volume()
        pod = await client.pods.create(name="p", image="i", gpu_type=H100, gpu_count=1,
                                       volumes=[VolumeMount(vid, "/d")])
        assert sim.mount_count(vid) == 1
        clock.advance(60)
        assert (await client.pods.get(pod.id)).status is PodStatus.FAILED
        assert sim.mount_count(vid) == 0


async def test_refusals_in_the_business_code_form() -> None:
    sim, _ = manual(variants=Variants(in_use="25002"))
    async with sim, fast_client(sim) as client:
        vid = sim.add_volume()
        pod = await client.pods.create(name="p", image="i", gpu_type=H100, gpu_count=1,
                                       volumes=[VolumeMount(vid, "/d")])
        with pytest.raises(ResourceInUseError) as info:
            await client.volumes.delete(vid)
        assert (info.value.code, info.value.mount_count, info.value.pod_ids) == (25002, 1, [pod.id])
        creating = await client.volumes.create(
            name="n", storage_type="CEPH", region="us-east-1", size_in_gb=5
        )
        with pytest.raises(InvalidStateError) as state_info:
            await client.volumes.delete(creating.id)
        assert state_info.value.code == 12001 and not isinstance(state_info.value, ResourceInUseError)


async def test_refusal_survives_a_failing_follow_up_read() -> None:
    sim, _ = manual()
    async with sim, fast_client(sim, max_retries=0) as client:
        vid = sim.add_volume()
        await client.pods.create(
            name="p", image="i", gpu_type=H100, gpu_count=1, volumes=[VolumeMount(vid, "/d")]
        )
        sim.faults = FaultPlan({"GET /v2/volumes/{id}": FaultRule(error_500=1.0)})
        with pytest.raises(ResourceInUseError) as info:
            await client.volumes.delete(vid)
        assert info.value.mount_count is None and info.value.http_status == 409


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "n", "storage_type": "CEPH", "size_in_gb": 10}, "region"),
        ({"name": "n", "storage_type": "CEPH", "region": "r"}, "size_in_gb"),
        ({"name": "n", "storage_type": "CEPH", "region": "r", "size_in_gb": 0}, "size_in_gb"),
        ({"name": "n", "storage_type": "CEPH", "region": "r", "size_in_gb": 10241}, "size_in_gb"),
        ({"name": "n", "storage_type": "CEPH", "region": "r", "size_in_gb": True}, "size_in_gb"),
        ({"name": "n", "storage_type": "VENDOR", "region": "r", "size_in_gb": 1}, "vendor_volume_type"),
        ({"name": "n", "storage_type": "CEPH", "region": "r", "size_in_gb": 1, "vendor_volume_type": "HDD"},
         "vendor_volume_type"),
        ({"name": "n", "storage_type": "S3", "size_in_gb": 1}, "size_in_gb"),
        ({"name": "n", "storage_type": "S3", "region": "r"}, "region"),
        ({"name": "", "storage_type": "S3"}, "name"),
        ({"name": "n", "storage_type": ""}, "storage_type"),
        ({"name": "n", "storage_type": "VENDOR", "region": "r", "size_in_gb": 1, "vendor_volume_type": "SSD"},
         "vendor_volume_type"),
    ],
)
async def test_create_is_validated_per_type_before_sending(
    sim: Simulator, kwargs: dict[str, object], field: str
) -> None:
    async with fast_client(sim) as client:
        with pytest.raises(ValidationError) as info:
            await client.volumes.create(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert sim.total_requests == 0


async def test_vendor_and_r2_volumes(sim: Simulator) -> None:
    async with fast_client(sim) as client:
        vendor = await client.volumes.create(name="v", storage_type="VENDOR", region="us-east-1",
                                             size_in_gb=50, vendor_volume_type="nvme")
        assert vendor.vendor_volume_type is not None and vendor.vendor_volume_type.value == "NVMe"
        r2 = await client.volumes.create(name="r", storage_type="R2", region="us-east-1")
        assert r2.storage_type is StorageType.R2
        with pytest.raises(ValidationError):
            await client.volumes.resize(vendor.id, 0)


async def test_fault_plan_and_counters_cover_the_new_routes(sim: Simulator) -> None:
    from yotta_async import ServerError

    sim.faults = FaultPlan({
        "POST /v2/volumes": FaultRule(lost_500=1.0, limit=1),
        "GET /v2/container-registry-auths": FaultRule(error_502=1.0, limit=2),
    })
    async with fast_client(sim) as client:
        # The reply is lost after the volume was made: a create is not sent again blindly.
        with pytest.raises(ServerError):
            await client.volumes.create(name="once", storage_type="S3")
        assert [v["name"] for v in sim.volumes()] == ["once"]
        # A plain read is retried through two 502s.
        assert await client.credentials.list() == []
    assert sim.faults.injected == {"lost_500": 1, "502": 2}
    assert sim.request_counts["POST /v2/volumes"] == 1
    assert sim.request_counts["GET /v2/container-registry-auths"] == 3


@pytest.mark.parametrize("bad", [0, 1001, "10", True, 2.0])
def test_page_size_is_checked_when_set(bad: object) -> None:
    # Like watch_policy and reconcile_settle: a bad setting fails at once, not at the next list.
    client = YottaClient("k")
    with pytest.raises(ValidationError, match="page_size"):
        client.volumes.page_size = bad  # type: ignore[assignment]
    assert client.volumes.page_size == 100


@pytest.mark.parametrize("bad", ["0", "9X", "NFS!", "a b"])
async def test_an_unknown_storage_type_follows_the_new_enum_name_rule(bad: str) -> None:
    # The rule a credential type follows: an upper-case NAME is sent, anything else refused
    # before any request (the fuzz drew "0", which was sent as storageType "0").
    async with YottaClient("k", "http://127.0.0.1:9") as client:
        with pytest.raises(ValidationError, match="storage_type"):
            await client.volumes.create(name="v", storage_type=bad, region="us-east-1", size_in_gb=10)


def test_new_enum_names_are_upper_cased() -> None:
    from yotta_async._validation import check_new_enum_name

    assert check_new_enum_name(" nfs_2 ", "storage_type", ["CEPH"]) == "NFS_2"
