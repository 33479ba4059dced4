"""Every kind of simulator response body validates against the OpenAPI document's schemas."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from yotta_async.models import PodStatus
from yotta_async.testing import FaultPlan, FaultRule, ManualClock, Simulator

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "pods-v2.openapi.json"
SPEC = json.loads(SPEC_PATH.read_text())
BODY = {"name": "n", "image": "img", "gpuType": "NVIDIA_H100_80G", "gpuCount": 1}


def _strict(spec: dict[str, Any]) -> dict[str, Any]:
    # The published schemas allow any extra key; closing the response objects also
    # catches a misspelt field name in the simulator.
    strict = copy.deepcopy(spec)
    schemas = strict["components"]["schemas"]
    for name in ("PodV2Response", "OpenapiPodExposePortResponse", "PersistentVolumesResponse"):
        schemas[name]["additionalProperties"] = False
    for name in ("Result", "ResultObject", "ResultVoid", "ResultPodV2Response", "ResultListPodV2Response"):
        schemas[name]["additionalProperties"] = False
        schemas[name]["required"] = ["code", "message", "data"]
    return strict


REGISTRY: Registry = Registry().with_resources(
    [
        ("urn:pods-v2", Resource.from_contents(SPEC, default_specification=DRAFT202012)),
        ("urn:pods-v2-strict", Resource.from_contents(_strict(SPEC), default_specification=DRAFT202012)),
    ]
)


def validate(body: Any, schema: str) -> None:
    for doc in ("urn:pods-v2", "urn:pods-v2-strict"):
        validator = Draft202012Validator({"$ref": f"{doc}#/components/schemas/{schema}"}, registry=REGISTRY)
        validator.validate(body)


def response_schema(path: str, method: str, key: str) -> str:
    responses = SPEC["paths"][path][method]["responses"]
    ref: str = responses[key]["content"]["*/*"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[1]


@pytest.fixture
async def env() -> AsyncIterator[tuple[Simulator, aiohttp.ClientSession, ManualClock]]:
    clock = ManualClock()
    async with Simulator(clock=clock) as sim, aiohttp.ClientSession(sim.base_url) as http:
        yield sim, http, clock


async def call(
    sim: Simulator, http: aiohttp.ClientSession, method: str, url: str, **kw: Any
) -> tuple[int, Any]:
    headers = kw.pop("headers", {"X-Api-Key": sim.api_key})
    async with http.request(method, url, headers=headers, **kw) as r:
        return r.status, await r.json()


def test_the_copied_spec_is_the_one_the_simulator_serves() -> None:
    assert set(SPEC["paths"]) == {"/v2/pods", "/v2/pods/{id}", "/v2/pods/{id}/pause", "/v2/pods/{id}/resume"}
    Draft202012Validator.check_schema(SPEC["components"]["schemas"]["PodV2Response"])


async def test_success_bodies_conform(env: tuple[Simulator, aiohttp.ClientSession, ManualClock]) -> None:
    sim, http, clock = env
    full = {
        **BODY,
        "regions": ["us-east-2"],
        "imagePublicType": "PRIVATE",
        "containerRegistryAuthId": sim.add_credential(),
        "environmentVars": [{"key": "K", "value": "V"}],
        "expose": [{"port": 8888, "protocol": "http"}, {"port": 22, "protocol": "tcp"}],
        "persistentVolumes": [{"mountPath": "/data", "volumeType": "NFS", "volumeSize": 10}],
        "persistentVolumeInGb": 10,
    }
    status, created = await call(sim, http, "POST", "/v2/pods", json=full)
    assert status == 200
    # The one field beyond PodV2Response: the credential id echoed (Variants.echo_credential_id).
    assert created["data"].pop("containerRegistryAuthId") == full["containerRegistryAuthId"]
    validate(created, response_schema("/v2/pods/{id}", "get", "10000"))
    # Every documented field is filled in for a pod that uses every feature.
    documented = set(SPEC["components"]["schemas"]["PodV2Response"]["properties"])
    assert set(created["data"]) == documented
    pid = created["data"]["id"]
    clock.advance(120)
    for path, method, key in (
        (f"/v2/pods/{pid}", "get", "10000"),
        ("/v2/pods", "get", "10000"),
        (f"/v2/pods/{pid}/pause", "post", "10000"),
    ):
        status, body = await call(sim, http, method.upper(), path)
        assert (status, body["code"]) == (200, 10000)
        for pod in body["data"] if isinstance(body["data"], list) else [body["data"]]:
            if isinstance(pod, dict):
                assert pod.pop("containerRegistryAuthId") == full["containerRegistryAuthId"]
        validate(body, response_schema(path.replace(str(pid), "{id}"), method, key))
    clock.advance(60)
    status, body = await call(sim, http, "POST", f"/v2/pods/{pid}/resume")
    validate(body, response_schema("/v2/pods/{id}/resume", "post", "10000"))
    status, body = await call(sim, http, "DELETE", f"/v2/pods/{pid}")
    validate(body, response_schema("/v2/pods/{id}", "delete", "10000"))


async def test_pods_in_every_status_conform(
    env: tuple[Simulator, aiohttp.ClientSession, ManualClock],
) -> None:
    sim, http, _ = env
    for status in PodStatus:
        sim.add_pods(1, status=status)
    status, body = await call(sim, http, "GET", "/v2/pods")
    assert {p["status"] for p in body["data"]} == {s.value for s in PodStatus}
    validate(body, "ResultListPodV2Response")


async def test_error_bodies_conform(env: tuple[Simulator, aiohttp.ClientSession, ManualClock]) -> None:
    sim, http, _ = env
    pid = sim.add_pods(1, status="PENDING")[0]
    cases = [
        ("GET", "/v2/pods/1", {}, "/v2/pods/{id}", "get", "13000"),
        ("DELETE", "/v2/pods/1", {}, "/v2/pods/{id}", "delete", "13000"),
        ("POST", "/v2/pods", {"json": {**BODY, "gpuCount": 3}}, "/v2/pods", "post", "10001"),
        ("POST", f"/v2/pods/{pid}/pause", {}, "/v2/pods/{id}/pause", "post", "200"),
        ("GET", "/v2/pods?statusList=NOPE", {}, "/v2/pods", "get", "400"),
        ("GET", "/v2/pods/abc", {}, "/v2/pods/{id}", "get", "400"),
        ("GET", "/v2/pods", {"headers": {}}, "/v2/pods", "get", "400"),
    ]
    for method, url, kw, path, op, key in cases:
        _, body = await call(sim, http, method, url, **kw)
        assert body["code"] != 10000
        validate(body, response_schema(path, op, key))
    sim.faults = FaultPlan.everywhere(error_500=1.0)
    _, body = await call(sim, http, "GET", "/v2/pods")
    validate(body, response_schema("/v2/pods", "get", "500"))
    sim.faults = FaultPlan({"*": FaultRule(rate_limit=1.0)})
    _, body = await call(sim, http, "GET", "/v2/pods")
    validate(body, "ResultObject")


# -- the resources around a launch (resources-v2.openapi.json) ------------------------------
RES_SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "resources-v2.openapi.json"
RES_SPEC = json.loads(RES_SPEC_PATH.read_text())


def _strict_resources(spec: dict[str, Any]) -> dict[str, Any]:
    # As for pods: closing the objects catches a misspelt or invented field in the simulator.
    strict = copy.deepcopy(spec)
    schemas = strict["components"]["schemas"]
    for name in ("RegionAvailability", "VmType", "RegistryAuth", "Volume", "VolumePage"):
        schemas[name]["additionalProperties"] = False
    return strict


RES_REGISTRY: Registry = Registry().with_resources(
    [
        ("urn:res-v2", Resource.from_contents(RES_SPEC, default_specification=DRAFT202012)),
        ("urn:res-v2-strict", Resource.from_contents(_strict_resources(RES_SPEC),
                                                     default_specification=DRAFT202012)),
    ]
)


def validate_resource(body: Any, path: str, method: str, http_status: int) -> None:
    """``body`` against the response schema the resources spec gives for this status."""
    responses = RES_SPEC["paths"][path][method]["responses"]
    schema = responses[str(http_status)]["content"]["application/json"]["schema"]
    for doc in ("urn:res-v2", "urn:res-v2-strict"):
        rewritten = json.loads(json.dumps(schema).replace('"#/components', f'"{doc}#/components'))
        Draft202012Validator(rewritten, registry=RES_REGISTRY).validate(body)


def test_the_resources_spec_is_the_shared_one() -> None:
    shared = Path("/work/shared/spec/resources-v2.openapi.json")
    if shared.exists():  # only inside the project's workspace; the copy is what CI uses
        assert json.loads(shared.read_text()) == RES_SPEC
    Draft202012Validator.check_schema(RES_SPEC["components"]["schemas"]["VmType"])


async def test_gpu_catalogue_conforms_in_both_region_forms(
    env: tuple[Simulator, aiohttp.ClientSession, ManualClock],
) -> None:
    from yotta_async.testing import Variants

    sim, http, _ = env
    sim.set_capacity("NVIDIA_H100_80G", "us-east-1", 0)
    status, body = await call(sim, http, "GET", "/v2/vms/types")
    assert status == 200 and body["data"]
    validate_resource(body, "/v2/vms/types", "get", 200)
    sim.variants = Variants(regions_as_strings=True)
    status, body = await call(sim, http, "GET", "/v2/vms/types")
    assert isinstance(body["data"][0]["regions"][0], str)
    validate_resource(body, "/v2/vms/types", "get", 200)
    _, body = await call(sim, http, "GET", "/v2/vms/types", headers={})
    validate_resource(body, "/v2/vms/types", "get", 401)


async def _every_resource_reply(
    sim: Simulator, http: aiohttp.ClientSession, clock: ManualClock
) -> list[tuple[str, str, int, Any]]:
    """Drive every resource route through success and refusal; (path, method, status, body)."""
    seen: list[tuple[str, str, int, Any]] = []

    async def hit(method: str, url: str, path: str, **kw: Any) -> Any:
        status, body = await call(sim, http, method, url, **kw)
        seen.append((path, method.lower(), status, body))
        return body

    creds, cred_id = "/v2/container-registry-auths", "/v2/container-registry-auths/{id}"
    vols, vol_id = "/v2/volumes", "/v2/volumes/{id}"
    cred = (await hit("POST", creds, creds, json={"name": "c", "type": "DOCKER_HUB", "username": "u",
                                                   "password": "p"}))["data"]
    await hit("GET", creds, creds)
    await hit("GET", f"{creds}/{cred['id']}", cred_id)
    await hit("PATCH", f"{creds}/{cred['id']}", cred_id, json={"name": "c2"})
    for body in ({"name": "v", "storageType": "CEPH", "region": "us-east-1", "sizeInGb": 10},
                 {"name": "s", "storageType": "S3"},
                 {"name": "x", "storageType": "VENDOR", "region": "us-east-1", "sizeInGb": 5,
                  "vendorVolumeType": "HDD"}):
        await hit("POST", vols, vols, json=body)
    vol = sim.volumes()[0]
    await hit("GET", f"{vols}/{vol['id']}", vol_id)  # creating
    await hit("DELETE", f"{vols}/{vol['id']}", vol_id)  # refused: not active
    clock.advance(60)
    await hit("GET", f"{vols}?storageType=CEPH&size=1", vols)
    await hit("GET", f"{vols}?storageType=R2", vols)
    await hit("POST", f"{vols}/{vol['id']}/name", "/v2/volumes/{id}/name", json={"name": "v2"})
    pod = {**BODY, "containerRegistryAuthId": int(cred["id"]),  # JSON integers, as the SDK sends
           "persistentVolumes": [{"volumeId": vol["id"], "id": vol["id"], "mountPath": "/d"}]}
    _, created = await call(sim, http, "POST", "/v2/pods", json=pod)
    assert created["code"] == 10000, created
    await hit("DELETE", f"{creds}/{cred['id']}", cred_id)  # refused: in use
    await hit("DELETE", f"{vols}/{vol['id']}", vol_id)  # refused: mounted
    await hit("POST", f"{vols}/{vol['id']}/resize", "/v2/volumes/{id}/resize", json={"sizeInGb": 20})
    await call(sim, http, "DELETE", f"/v2/pods/{created['data']['id']}")
    clock.advance(60)
    await hit("POST", f"{vols}/{vol['id']}/resize", "/v2/volumes/{id}/resize", json={"sizeInGb": 20})
    clock.advance(60)
    await hit("DELETE", f"{vols}/{vol['id']}", vol_id)
    await hit("DELETE", f"{creds}/{cred['id']}", cred_id)
    await hit("GET", f"{vols}/{vol['id']}", vol_id)  # gone
    await hit("GET", f"{creds}/{cred['id']}", cred_id)  # gone
    await hit("GET", vols, vols)  # storageType missing
    await hit("POST", vols, vols, json={"name": "v", "storageType": "CEPH"})  # region missing
    await hit("POST", creds, creds, json={"name": "c"})
    await hit("GET", f"{vols}/abc", vol_id)
    await hit("GET", creds, creds, headers={})
    return seen


@pytest.mark.parametrize(
    "variants",
    [{}, {"in_use": "25002"}, {"string_ids": True, "created_at": "epoch"}, {"created_at": "absent"}],
)
async def test_every_resource_reply_conforms(
    env: tuple[Simulator, aiohttp.ClientSession, ManualClock], variants: dict[str, Any]
) -> None:
    from yotta_async.testing import Variants

    sim, http, clock = env
    sim.variants = Variants(**variants)
    seen = await _every_resource_reply(sim, http, clock)
    outcomes = {(path, method, status, body["code"]) for path, method, status, body in seen}
    in_use = 25002 if variants.get("in_use") == "25002" else 40900
    assert ("/v2/volumes/{id}", "delete", 409 if in_use == 40900 else 200, in_use) in outcomes
    assert ("/v2/container-registry-auths/{id}", "delete", 200, 10000) in outcomes
    for path, method, status, body in seen:
        validate_resource(body, path, method, status)
        # The password never comes back, in any reply.
        assert "password" not in json.dumps(body)
    page = next(b for p, m, s, b in seen if p == "/v2/volumes" and m == "get" and b["code"] == 10000)
    assert (page["data"]["size"], page["data"]["total"], page["data"]["pages"]) == (1, 1, 1)


async def test_pods_using_resources_still_conform(
    env: tuple[Simulator, aiohttp.ClientSession, ManualClock],
) -> None:
    sim, http, _ = env
    cid = sim.add_credential()
    vid = sim.add_volume(storage_type="S3", region=None, size_in_gb=None)
    pod = {**BODY, "containerRegistryAuthId": cid,
           "persistentVolumes": [{"volumeId": vid, "mountPath": "/d", "needBackup": True}]}
    status, created = await call(sim, http, "POST", "/v2/pods", json=pod)
    assert status == 200 and created["code"] == 10000
    # containerRegistryAuthId is the one field beyond PodV2Response (a Variants switch).
    data = dict(created["data"])
    assert data.pop("containerRegistryAuthId") == cid
    validate({**created, "data": data}, "ResultPodV2Response")
    (shown,) = data["persistentVolumes"]
    assert (shown["id"], shown["volumeType"], shown["cloudStorageType"]) == (vid, "CloudStorage", "S3")
