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
        "containerRegistryAuthId": 42,
        "environmentVars": [{"key": "K", "value": "V"}],
        "expose": [{"port": 8888, "protocol": "http"}, {"port": 22, "protocol": "tcp"}],
        "persistentVolumes": [{"mountPath": "/data", "volumeType": "NFS", "volumeSize": 10}],
        "persistentVolumeInGb": 10,
    }
    status, created = await call(sim, http, "POST", "/v2/pods", json=full)
    assert status == 200
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
