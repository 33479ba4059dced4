"""GPU catalogue decoding (every documented variant) and the ``placements`` ordering rules."""

from __future__ import annotations

import msgspec
import pytest
from aioresponses import aioresponses

from yotta_async import GpuRegion, GpuType, Placement, ResponseDecodeError, ValidationError, YottaClient
from yotta_async.resources.gpu_types import GPU_TYPES_DECODER

URL = "https://api.example.test"


def envelope(data: object) -> dict[str, object]:
    return {"code": 10000, "message": "success", "data": data}


def test_object_regions_decode_every_field() -> None:
    raw = b"""[{"gpuType": "NVIDIA_RTX_4090_24G", "regions": [
        {"region": "us-east-1", "regionName": "US East", "available": true, "vmTypeId": 1},
        {"region": "us-west-1", "regionName": "US West", "available": false, "vmTypeId": 2}]}]"""
    (t,) = GPU_TYPES_DECODER.decode(raw)
    assert t.gpu_type == "NVIDIA_RTX_4090_24G"
    assert t.regions == [
        GpuRegion(region="us-east-1", region_name="US East", available=True, vm_type_id=1),
        GpuRegion(region="us-west-1", region_name="US West", available=False, vm_type_id=2),
    ]


def test_plain_string_regions_mean_offered_availability_unknown() -> None:
    (t,) = GPU_TYPES_DECODER.decode(b'[{"gpuType": "RTX_4090_24G", "regions": ["us-east-1"]}]')
    assert t.gpu_type == "RTX_4090_24G"  # the vendor prefix is not invented
    assert t.regions == [GpuRegion(region="us-east-1")]
    assert t.regions[0].available is None and t.regions[0].vm_type_id is None


def test_mixed_regions_string_vm_type_id_and_unknown_fields() -> None:
    raw = b"""[{"gpuType": "A", "extra": 1, "regions": ["r1",
        {"region": "r2", "vmTypeId": "7", "available": true, "newField": [1]}]}]"""
    (t,) = GPU_TYPES_DECODER.decode(raw)
    assert [r.region for r in t.regions] == ["r1", "r2"]
    assert t.regions[1].vm_type_id == 7 and t.regions[1].region_name is None


def test_missing_regions_is_an_empty_list() -> None:
    assert GPU_TYPES_DECODER.decode(b'[{"gpuType": "A"}]') == [GpuType(gpu_type="A")]


@pytest.mark.parametrize(
    "raw",
    [b'[{"regions": []}]', b'[{"gpuType": "A", "regions": [5]}]', b'{"gpuType": "A"}',
     b'[{"gpuType": "A", "regions": [{"regionName": "x"}]}]'],
)
def test_wrong_shapes_fail_to_decode(raw: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        GPU_TYPES_DECODER.decode(raw)


def test_placement_is_a_hashable_value_ignoring_available() -> None:
    a = Placement("NVIDIA_H100_80G", "us-east-1")
    b = Placement("NVIDIA_H100_80G", "us-east-1", available=False)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Placement("NVIDIA_H100_80G", "us-west-1")
    assert str(a) == "NVIDIA_H100_80G@us-east-1"
    with pytest.raises(AttributeError):
        a.region = "x"  # type: ignore[misc]


CATALOGUE = [
    {"gpuType": "NVIDIA_H100_80G", "regions": [
        {"region": "us-east-1", "regionName": "E1", "available": False, "vmTypeId": 1},
        {"region": "us-east-2", "regionName": "E2", "available": True, "vmTypeId": 2},
        "ap-southeast-1",
        {"region": "us-west-1", "regionName": "W1", "available": True, "vmTypeId": 3},
        {"region": "us-east-2", "regionName": "E2 again", "available": False, "vmTypeId": 9},
    ]},
    {"gpuType": "RTX_4090_24G", "regions": ["us-east-1"]},
]


@pytest.fixture
async def client() -> YottaClient:
    return YottaClient("k", URL)


async def test_placements_available_first_then_unknown_then_unavailable(
    mock_api: aioresponses, client: YottaClient
) -> None:
    mock_api.get(f"{URL}/v2/vms/types", payload=envelope(CATALOGUE), repeat=True)
    async with client:
        got = await client.gpu_types.placements("NVIDIA_H100_80G")
        assert [(p.region, p.available) for p in got] == [
            ("us-east-2", True), ("us-west-1", True), ("ap-southeast-1", None), ("us-east-1", False),
        ]
        # The caller's region order decides within each group; other regions are dropped.
        got = await client.gpu_types.placements(
            "NVIDIA_H100_80G", regions=["us-west-1", "us-east-1", "us-east-2", "nowhere"]
        )
        assert [p.region for p in got] == ["us-west-1", "us-east-2", "us-east-1"]
        # Every type when none is named; a prefix-less spelling still matches.
        everything = await client.gpu_types.placements()
        assert Placement("RTX_4090_24G", "us-east-1") in everything
        assert await client.gpu_types.placements("NVIDIA_RTX_4090_24G") == [
            Placement("RTX_4090_24G", "us-east-1")
        ]
        assert await client.gpu_types.placements("NVIDIA_B200_180G") == []
        assert await client.gpu_types.placements(regions="us-east-1") == [
            Placement("RTX_4090_24G", "us-east-1"), Placement("NVIDIA_H100_80G", "us-east-1"),
        ]


async def test_list_reads_null_data_as_empty(mock_api: aioresponses, client: YottaClient) -> None:
    mock_api.get(f"{URL}/v2/vms/types", payload=envelope(None))
    async with client:
        assert await client.gpu_types.list() == []


async def test_malformed_catalogue_is_a_decode_error(mock_api: aioresponses, client: YottaClient) -> None:
    mock_api.get(f"{URL}/v2/vms/types", payload=envelope([{"gpuType": 5, "regions": {}}]))
    async with client:
        with pytest.raises(ResponseDecodeError):
            await client.gpu_types.list()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"gpu_type": ""}, "gpu_type"), ({"gpu_type": 5}, "gpu_type"), ({"regions": [""]}, "regions[0]"),
     ({"regions": 5}, "regions"), ({"regions": b"us"}, "regions"), ({"gpu_type": "\ud800"}, "gpu_type")],
)
async def test_bad_input_is_refused_before_sending(
    mock_api: aioresponses, client: YottaClient, kwargs: dict[str, object], field: str
) -> None:
    async with client:
        with pytest.raises(ValidationError) as info:
            await client.gpu_types.placements(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert not mock_api.requests
