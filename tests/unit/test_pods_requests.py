"""The six pod endpoints against aioresponses: request shapes, and bad input caught before sending."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aioresponses import aioresponses

from yotta_async import (
    EnvVar,
    ExposePort,
    PersistentVolume,
    Pod,
    PodCreateRequest,
    PodStatus,
    ValidationError,
    YottaClient,
)

BASE = "https://api.yottalabs.ai"
KEY = "sk-test"
BIG_ID = 331864222263676929
POD = {"id": str(BIG_ID), "status": "PENDING", "name": "train-0"}
OK_POD = {"code": 10000, "message": "ok", "data": POD}
OK_NONE = {"code": 10000, "message": "ok", "data": None}


def only_call(mock: aioresponses) -> tuple[str, str, dict[str, Any]]:
    [(key, calls)] = list(mock.requests.items())
    [call] = calls
    return key[0], str(key[1]), call.kwargs


def body_of(kwargs: dict[str, Any]) -> Any:
    return json.loads(kwargs["data"])


# -- request shapes ------------------------------------------------------------------
async def test_create_sends_camel_case_json(mock_api: aioresponses) -> None:
    mock_api.post(f"{BASE}/v2/pods", payload=OK_POD)
    req = PodCreateRequest(
        name="train-0", image="nvidia/cuda:12.1.0-base-ubuntu22.04", gpu_type="NVIDIA_H100_80G",
        gpu_count=2, regions=["us-east-1"], container_registry_auth_id=BIG_ID, shm_in_gb=16,
        min_single_card_vram_in_gb=80, environment_vars=[EnvVar(key="MODE", value="train")],
        expose=[ExposePort(port=8888, protocol="http")],
        persistent_volumes=[PersistentVolume(mount_path="/data", volume_type="NFS", volume_size=100)],
    )
    async with YottaClient(KEY) as client:
        pod = await client.pods.create(req, client_token=False)
    assert isinstance(pod, Pod) and pod.id == BIG_ID and pod.status is PodStatus.PENDING
    method, url, kwargs = only_call(mock_api)
    assert (method, url) == ("POST", f"{BASE}/v2/pods")
    assert kwargs["headers"]["Content-Type"] == "application/json"
    assert kwargs["data"].startswith(b"{")
    assert body_of(kwargs) == {
        "name": "train-0",
        "image": "nvidia/cuda:12.1.0-base-ubuntu22.04",
        "gpuType": "NVIDIA_H100_80G",
        "gpuCount": 2,
        "regions": ["us-east-1"],
        "containerRegistryAuthId": BIG_ID,
        "shmInGb": 16,
        "minSingleCardVramInGb": 80,
        "environmentVars": [{"key": "MODE", "value": "train"}],
        "expose": [{"port": 8888, "protocol": "http"}],
        "persistentVolumes": [{"mountPath": "/data", "volumeType": "NFS", "volumeSize": 100}],
    }
    assert f'"containerRegistryAuthId":{BIG_ID}'.encode() in kwargs["data"]  # exact, not a float


async def test_create_from_keywords(mock_api: aioresponses) -> None:
    mock_api.post(f"{BASE}/v2/pods", payload=OK_POD)
    async with YottaClient(KEY) as client:
        await client.pods.create(name="n", image="img", gpu_type="g", gpu_count=1,
                                 env={"A": "1"}, expose=[22], client_token=False)
    _, _, kwargs = only_call(mock_api)
    assert body_of(kwargs) == {"name": "n", "image": "img", "gpuType": "g", "gpuCount": 1,
                               "environmentVars": [{"key": "A", "value": "1"}], "expose": [{"port": 22}]}


async def test_list_sends_repeated_filters(mock_api: aioresponses) -> None:
    mock_api.get(f"{BASE}/v2/pods?regionList=us-east-1&regionList=us-west-1&statusList=RUNNING"
                 f"&statusList=PAUSED&statusList=INITIALIZING",
                 payload={"code": 10000, "data": [POD, {"id": 7, "status": "STOPPED"}]})
    async with YottaClient(KEY) as client:
        pods = await client.pods.list(regions=["us-east-1", "us-west-1"],
                                      statuses=[PodStatus.RUNNING, "stopped", 0])
    assert [p.id for p in pods] == [BIG_ID, 7]
    assert pods[1].status is PodStatus.PAUSED
    method, _, kwargs = only_call(mock_api)
    assert method == "GET"
    assert kwargs["params"] == [
        ("regionList", "us-east-1"), ("regionList", "us-west-1"),
        ("statusList", "RUNNING"), ("statusList", "PAUSED"), ("statusList", "INITIALIZING"),
    ]
    assert kwargs["data"] is None


async def test_list_without_filters_and_single_values(mock_api: aioresponses) -> None:
    mock_api.get(f"{BASE}/v2/pods", payload={"code": 10000, "data": []})
    mock_api.get(f"{BASE}/v2/pods?regionList=ap-southeast-1&statusList=FAILED",
                 payload={"code": 10000, "data": []})
    async with YottaClient(KEY) as client:
        assert await client.pods.list() == []
        assert await client.pods.list(regions="ap-southeast-1", statuses=PodStatus.FAILED) == []
    params = [c.kwargs["params"] for calls in mock_api.requests.values() for c in calls]
    assert params == [[], [("regionList", "ap-southeast-1"), ("statusList", "FAILED")]]


@pytest.mark.parametrize("pod_id", [BIG_ID, str(BIG_ID), f" {BIG_ID} "])
@pytest.mark.parametrize(
    ("action", "method", "suffix"),
    [("get", "GET", ""), ("pause", "POST", "/pause"), ("resume", "POST", "/resume"),
     ("delete", "DELETE", "")],
)
async def test_pod_actions_hit_their_paths(
    mock_api: aioresponses, pod_id: int | str, action: str, method: str, suffix: str
) -> None:
    mock_api.add(f"{BASE}/v2/pods/{BIG_ID}{suffix}", method, payload=OK_POD if action == "get" else OK_NONE)
    async with YottaClient(KEY) as client:
        result = await getattr(client.pods, action)(pod_id)
    if action == "get":
        assert isinstance(result, Pod) and result.id == BIG_ID
    else:
        assert result is None
    sent_method, url, kwargs = only_call(mock_api)
    assert (sent_method, url) == (method, f"{BASE}/v2/pods/{BIG_ID}{suffix}")
    assert kwargs["data"] is None
    assert "Content-Type" not in kwargs["headers"]


# -- bad input never reaches the network ---------------------------------------------
# "\u00b2" is a superscript two and "\uff11\uff12" fullwidth "12": str.isdigit() accepts both.
BAD_IDS: list[Any] = [0, -1, True, False, "abc", "", "-5", "1.5", 2**63, 2**64, 1.0, None,
                      "\u00b2", "\uff11\uff12"]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
@pytest.mark.parametrize("action", ["get", "pause", "resume", "delete"])
async def test_bad_pod_ids_are_refused_before_sending(mock_api: aioresponses, action: str, bad: Any) -> None:
    async with YottaClient(KEY) as client:
        with pytest.raises(ValidationError) as info:
            await getattr(client.pods, action)(bad)
    assert info.value.field == "pod_id"
    assert mock_api.requests == {}


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"statuses": ["BOGUS"]}, "statuses[0]"),
        ({"statuses": ["RUNNING", 7]}, "statuses[1]"),
        ({"statuses": [True]}, "statuses[0]"),
        ({"statuses": [None]}, "statuses[0]"),
        ({"statuses": [1.0]}, "statuses[0]"),
        ({"statuses": 99}, "statuses[0]"),
        ({"statuses": 3.5}, "statuses"),
        ({"regions": [""]}, "regions[0]"),
        ({"regions": ["a", 5]}, "regions[1]"),
        ({"regions": 5}, "regions"),
    ],
)
async def test_bad_list_filters_are_refused_before_sending(
    mock_api: aioresponses, kw: dict[str, Any], field: str
) -> None:
    async with YottaClient(KEY) as client:
        with pytest.raises(ValidationError) as info:
            await client.pods.list(**kw)
    assert info.value.field == field
    assert mock_api.requests == {}


@pytest.mark.parametrize(
    ("args", "kw", "field"),
    [
        ((), {"name": "n", "image": "img", "gpu_type": "g", "gpu_count": 3}, "gpu_count"),
        ((), {"name": "n", "image": "img", "gpu_type": "g"}, "gpu_count"),
        ((), {"name": "", "image": "img", "gpu_type": "g", "gpu_count": 1}, "name"),
        ((), {"name": "n", "image": "img", "gpu_type": "g", "gpu_count": 1, "expose": [70000]},
         "expose[0].port"),
        (("not a request",), {}, "request"),
        ((PodCreateRequest(name="n", image="i", gpu_type="g", gpu_count=1),), {"name": "m"}, "request"),
    ],
)
async def test_bad_creates_are_refused_before_sending(
    mock_api: aioresponses, args: tuple[Any, ...], kw: dict[str, Any], field: str
) -> None:
    async with YottaClient(KEY) as client:
        with pytest.raises(ValidationError) as info:
            await client.pods.create(*args, **kw)
    assert info.value.field == field
    assert mock_api.requests == {}


async def test_a_request_mutated_after_construction_is_revalidated(mock_api: aioresponses) -> None:
    req = PodCreateRequest(name="n", image="i", gpu_type="g", gpu_count=1)
    req.gpu_count = 6
    async with YottaClient(KEY) as client:
        with pytest.raises(ValidationError, match="gpu_count"):
            await client.pods.create(req)
    assert mock_api.requests == {}
