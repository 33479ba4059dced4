"""The simulator's resource routes over raw HTTP: every refusal it plays, each one conforming."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from yotta_async.testing import ManualClock, Simulator

from .test_simulator_conformance import validate_resource

CREDS, VOLS = "/v2/container-registry-auths", "/v2/volumes"


@pytest.fixture
async def raw() -> AsyncIterator[tuple[Simulator, Any]]:
    clock = ManualClock()
    async with Simulator(clock=clock) as sim, aiohttp.ClientSession(sim.base_url) as http:

        async def call(method: str, url: str, path: str, *, status: int = 200, code: int, **kw: Any) -> Any:
            async with http.request(method, url, headers={"X-Api-Key": sim.api_key}, **kw) as r:
                body = await r.json()
            assert (r.status, body["code"]) == (status, code), body
            validate_resource(body, path, method.lower(), r.status)
            return body

        yield sim, call


async def test_credential_refusals(raw: tuple[Simulator, Any]) -> None:
    sim, call = raw
    cid = sim.add_credential(password="pw-sim-SECRET-1")
    item = f"{CREDS}/{{id}}"
    for body, field in (
        ({"name": "n", "type": "GCR", "username": "u"}, "password"),
        ({"name": "n", "type": "NOPE", "username": "u", "password": "p"}, "type"),
        ({"name": " ", "type": "GCR", "username": "u", "password": "p"}, "name"),
        ({"name": "n", "type": "GCR", "username": "u", "password": 5}, "password"),
    ):
        reply = await call("POST", CREDS, CREDS, code=10001, json=body)
        assert field in reply["message"] and "pw-sim" not in reply["message"]
    await call("POST", CREDS, CREDS, code=10001, data=b"{not json")
    await call("POST", CREDS, CREDS, code=10001, json=[1])
    await call("PATCH", f"{CREDS}/{cid}", item, code=10001, json={})
    await call("PATCH", f"{CREDS}/{cid}", item, code=10001, json={"type": "GCR", "name": "x"})
    await call("PATCH", f"{CREDS}/{cid}", item, code=10001, json={"password": ""})
    await call("PATCH", f"{CREDS}/1", item, status=404, code=40400, json={"name": "x"})
    await call("GET", f"{CREDS}/0", item, code=10001)
    await call("GET", f"{CREDS}/99999999999999999999", item, code=10001)
    await call("DELETE", f"{CREDS}/1", item, status=404, code=40400)
    assert sim.password_matches(cid, "pw-sim-SECRET-1") and not sim.password_matches(1, "x")


async def test_volume_refusals(raw: tuple[Simulator, Any]) -> None:
    sim, call = raw
    item = f"{VOLS}/{{id}}"
    for body, field in (
        ({"storageType": "CEPH", "region": "r", "sizeInGb": 5}, "name"),
        ({"name": "n", "storageType": "NFS"}, "storageType"),
        ({"name": "n", "storageType": "CEPH", "region": "r"}, "sizeInGb"),
        ({"name": "n", "storageType": "CEPH", "region": "r", "sizeInGb": 10241}, "sizeInGb"),
        ({"name": "n", "storageType": "CEPH", "region": "r", "sizeInGb": True}, "sizeInGb"),
        ({"name": "n", "storageType": "VENDOR", "region": "r", "sizeInGb": 5}, "vendorVolumeType"),
        ({"name": "n", "storageType": "S3", "sizeInGb": 0}, "sizeInGb"),
    ):
        reply = await call("POST", VOLS, VOLS, code=10001, json=body)
        assert field in reply["message"]
    for query, field in (("", "storageType"), ("?storageType=NFS", "storageType"),
                         ("?storageType=CEPH&page=0", "page"), ("?storageType=CEPH&size=x", "size")):
        reply = await call("GET", VOLS + query, VOLS, code=10001)
        assert field in reply["message"]
    s3 = sim.add_volume("s", "S3", None, None)
    ceph = sim.add_volume("c", "CEPH", "us-east-1", 50)
    await call("POST", f"{VOLS}/{s3}/resize", "/v2/volumes/{id}/resize", code=10001, json={"sizeInGb": 5})
    shrink = await call("POST", f"{VOLS}/{ceph}/resize", "/v2/volumes/{id}/resize", code=10001,
                        json={"sizeInGb": 10})
    assert "shrink" in shrink["message"]
    await call("POST", f"{VOLS}/{ceph}/resize", "/v2/volumes/{id}/resize", code=10001, data=b"[")
    await call("POST", f"{VOLS}/{ceph}/name", "/v2/volumes/{id}/name", code=10001, json={"name": ""})
    await call("POST", f"{VOLS}/1/name", "/v2/volumes/{id}/name", status=404, code=40400, json={"name": "x"})
    await call("DELETE", f"{VOLS}/1", item, status=404, code=40400)
    sim.fail_volume(ceph)  # an error volume can always be deleted
    await call("DELETE", f"{VOLS}/{ceph}", item, code=10000)
    with pytest.raises(KeyError):
        sim.fail_volume(ceph + 1000)
    page = await call("GET", f"{VOLS}?storageType=S3&size=1000", VOLS, code=10000)
    assert page["data"]["size"] == 100 and page["data"]["total"] == 1
