"""Credentials and volumes against aioresponses: request shapes and how each refusal maps."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aioresponses import aioresponses

from yotta_async import (
    CredentialNotFoundError,
    InvalidRequestError,
    InvalidStateError,
    ResourceInUseError,
    YottaClient,
)

BASE = "https://api.yottalabs.ai"
CRED = {"id": "384410568058921807", "name": "hub", "type": "DOCKER_HUB"}
VOL = {"id": 123, "name": "v", "storageType": "CEPH", "status": "active", "mountCount": 0}


def ok(data: object) -> dict[str, Any]:
    return {"code": 10000, "message": "success", "data": data}


def calls(mock: aioresponses) -> list[tuple[str, str, dict[str, Any]]]:
    return [(k[0], str(k[1]), c.kwargs) for k, cs in mock.requests.items() for c in cs]


async def test_credential_bodies(mock_api: aioresponses) -> None:
    mock_api.post(f"{BASE}/v2/container-registry-auths", payload=ok(CRED))
    mock_api.patch(f"{BASE}/v2/container-registry-auths/384410568058921807", payload=ok(CRED))
    mock_api.delete(f"{BASE}/v2/container-registry-auths/384410568058921807", payload=ok(None))
    async with YottaClient("k") as client:
        cred = await client.credentials.create(name="hub", type="ecr", username="u", password="pw")
        await client.credentials.update(cred, username="u2", password="pw2")
        await client.credentials.delete(cred)
    (_, _, create), (_, _, patch), (_, _, delete) = calls(mock_api)
    assert json.loads(create["data"]) == {"name": "hub", "type": "ECR", "username": "u", "password": "pw"}
    assert json.loads(patch["data"]) == {"username": "u2", "password": "pw2"}
    assert delete.get("data") is None


async def test_a_new_registry_type_name_is_sent_as_given(mock_api: aioresponses) -> None:
    mock_api.post(f"{BASE}/v2/container-registry-auths", payload=ok({**CRED, "type": "QUAY"}))
    async with YottaClient("k") as client:
        cred = await client.credentials.create(name="q", type="quay", username="u", password="pw")
    assert not cred.type.is_known
    ((_, _, kwargs),) = calls(mock_api)
    assert json.loads(kwargs["data"])["type"] == "QUAY"


async def test_get_from_the_guides_array_form(mock_api: aioresponses) -> None:
    url = f"{BASE}/v2/container-registry-auths/384410568058921807"
    mock_api.get(url, payload=ok([{**CRED, "id": 1}, CRED]))
    mock_api.get(url, payload=ok([{**CRED, "id": 1}]))
    async with YottaClient("k") as client:
        assert (await client.credentials.get(384410568058921807)).id == 384410568058921807
        with pytest.raises(CredentialNotFoundError, match="none with that id") as info:
            await client.credentials.get(384410568058921807)
        assert info.value.path == "/v2/container-registry-auths/384410568058921807"


async def test_credential_delete_409_is_in_use(mock_api: aioresponses) -> None:
    mock_api.delete(f"{BASE}/v2/container-registry-auths/5", status=409, body="Conflict")
    async with YottaClient("k") as client:
        with pytest.raises(ResourceInUseError) as info:
            await client.credentials.delete(5)
    assert (info.value.http_status, info.value.resource_id, info.value.pod_ids) == (409, 5, [])


async def test_volume_create_and_list_shapes(mock_api: aioresponses) -> None:
    mock_api.post(f"{BASE}/v2/volumes", payload=ok(VOL))
    page = {"items": [VOL], "page": 1, "size": 100, "total": 1, "pages": 1}
    mock_api.get(f"{BASE}/v2/volumes?storageType=CEPH&page=1&size=100&region=us-east-1", payload=ok(page))
    async with YottaClient("k") as client:
        await client.volumes.create(name="v", storage_type="VENDOR", region="us-east-1", size_in_gb=10,
                                    vendor_volume_type="hdd")
        assert [v.id for v in await client.volumes.list("CEPH", region="us-east-1")] == [123]
    (_, _, create), (_, _, listing) = calls(mock_api)
    assert json.loads(create["data"]) == {"name": "v", "storageType": "VENDOR", "region": "us-east-1",
                                          "sizeInGb": 10, "vendorVolumeType": "HDD"}
    assert listing["params"] == [("storageType", "CEPH"), ("page", "1"), ("size", "100"),
                                 ("region", "us-east-1")]


async def test_list_all_tolerates_r2_being_refused_but_not_others(mock_api: aioresponses) -> None:
    empty = ok({"items": [], "page": 1, "size": 100, "total": 0, "pages": 0})
    for kind in ("S3", "CEPH", "VENDOR"):
        mock_api.get(f"{BASE}/v2/volumes?storageType={kind}&page=1&size=100", payload=empty)
    mock_api.get(f"{BASE}/v2/volumes?storageType=R2&page=1&size=100",
                 payload={"code": 10001, "message": "storageType: invalid"})
    mock_api.get(f"{BASE}/v2/volumes?storageType=R2&page=1&size=100",
                 payload={"code": 10001, "message": "storageType: invalid"})
    async with YottaClient("k") as client:
        assert await client.volumes.list() == []
        with pytest.raises(InvalidRequestError):
            await client.volumes.list("R2")


async def test_paging_stops_on_an_empty_or_last_page(mock_api: aioresponses) -> None:
    # The server says 9 pages but the second is empty: stop there, do not spin.
    mock_api.get(f"{BASE}/v2/volumes?storageType=S3&page=1&size=100",
                 payload=ok({"items": [VOL], "page": 1, "size": 100, "total": 900, "pages": 9}))
    mock_api.get(f"{BASE}/v2/volumes?storageType=S3&page=2&size=100",
                 payload=ok({"items": [], "page": 2, "size": 100, "total": 900, "pages": 9}))
    async with YottaClient("k") as client:
        assert [v.id for v in await client.volumes.list("S3")] == [123]
    assert len(calls(mock_api)) == 2


async def test_volume_409_without_mounts_stays_a_state_error(mock_api: aioresponses) -> None:
    refused = {"code": 40900, "message": "not active"}
    mock_api.post(f"{BASE}/v2/volumes/123/resize", status=409, payload=refused)
    mock_api.get(f"{BASE}/v2/volumes/123", payload=ok({**VOL, "status": "resizing"}))
    async with YottaClient("k") as client:
        with pytest.raises(InvalidStateError) as info:
            await client.volumes.resize(123, 200)
    assert type(info.value) is InvalidStateError
    assert "resizing" in str(info.value)
