"""Fuzzing the resources around a launch: inputs are refused before sending or sent in a valid
shape; any reply gives a typed result or a ``YottaError``."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tests.hardening._util import RequestSpy, serve
from yotta_async import PodCreateRequest, ValidationError, YottaClient, YottaError
from yotta_async import _protocol as proto
from yotta_async.models.volume import VolumeMount
from yotta_async.resources.credentials import CREDENTIAL_LIST_DECODER, CREDENTIAL_OR_LIST_DECODER
from yotta_async.resources.gpu_types import GPU_TYPES_DECODER
from yotta_async.resources.volumes import PAGE_DECODER, VOLUME_DECODER

SPEC = json.loads((Path(__file__).resolve().parents[1] / "data" / "resources-v2.openapi.json").read_text())
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def schema(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]})


# A storage type this SDK does not know is sent upper-cased, by the same rule as a credential
# type (the API may add one): the fuzz checks that rule instead of the closed enum.
_loose = dict(SPEC["components"]["schemas"]["VolumeCreate"], components=SPEC["components"])
_new_name = {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"}
_loose["properties"] = {**_loose["properties"], "storageType": _new_name}
LOOSE_VOLUME_CREATE = Draft202012Validator(_loose)
CREDENTIAL_CREATE = schema("RegistryAuthCreate")

any_value = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(), st.text(max_size=12),
    st.binary(max_size=3), st.lists(st.integers(), max_size=2),
)


class Recorder:
    """A loopback server that records request bodies and answers a fixed body."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.reply = b'{"code":10000,"message":"ok","data":{"id":1,"name":"n","type":"GCR"}}'
        self.status = 200

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.read())
        return web.Response(body=self.reply, status=self.status, content_type="application/json")


@pytest.fixture
async def rig() -> AsyncIterator[tuple[YottaClient, Recorder, RequestSpy]]:
    recorder = Recorder()
    spy = RequestSpy()
    async with serve(recorder.handle) as url, spy.session() as http, \
            YottaClient("k-fuzz", url, session=http, max_retries=0) as client:
        yield client, recorder, spy


async def _refused_or_valid(
    call: Awaitable[Any], spy: RequestSpy, recorder: Recorder, fields: set[str], check: Draft202012Validator
) -> None:
    before, sent = spy.count, len(recorder.bodies)
    try:
        await call
    except ValidationError as exc:
        assert exc.field.split("[")[0] in fields, exc.field
        assert spy.count == before, "a refused input must not reach the network"
        return
    except YottaError:
        pass  # the canned reply may not fit this endpoint: what matters is what was sent
    assert len(recorder.bodies) == sent + 1
    check.validate(json.loads(recorder.bodies[-1]))


volume_kwargs = st.fixed_dictionaries(
    {
        "name": st.one_of(st.text(max_size=6), any_value),
        "storage_type": st.one_of(
            st.sampled_from(["CEPH", "ceph", "S3", "R2", "VENDOR", "", "NFS!"]), any_value
        ),
    },
    optional={
        "region": st.one_of(st.sampled_from(["us-east-1", ""]), any_value),
        "size_in_gb": st.one_of(st.integers(-5, 10250), any_value),
        "vendor_volume_type": st.one_of(st.sampled_from(["NVMe", "hdd", "SSD"]), any_value),
    },
)


@FUZZ
@given(kwargs=volume_kwargs)
@example(kwargs={"name": "0", "storage_type": "0", "region": "us-east-1", "size_in_gb": 1})
async def test_volume_create_is_refused_or_sent_in_the_documented_shape(
    rig: tuple[YottaClient, Recorder, RequestSpy], kwargs: dict[str, Any]
) -> None:
    client, recorder, spy = rig
    fields = {"name", "storage_type", "region", "size_in_gb", "vendor_volume_type"}
    await _refused_or_valid(client.volumes.create(**kwargs), spy, recorder, fields, LOOSE_VOLUME_CREATE)


credential_kwargs = st.fixed_dictionaries(
    {
        "name": st.one_of(st.text(max_size=6), any_value),
        "type": st.one_of(st.sampled_from(["DOCKER_HUB", "gcr", "Ecr", "QUAY", "not a type", ""]), any_value),
        "username": st.one_of(st.text(max_size=6), any_value),
        "password": st.one_of(st.text(max_size=12), any_value),
    }
)


@FUZZ
@given(kwargs=credential_kwargs)
async def test_credential_create_is_refused_or_sent_in_the_documented_shape(
    rig: tuple[YottaClient, Recorder, RequestSpy], kwargs: dict[str, Any]
) -> None:
    client, recorder, spy = rig
    # A type this SDK does not know is sent upper-cased (the API may add one): loosen the enum.
    loose = dict(SPEC["components"]["schemas"]["RegistryAuthCreate"], components=SPEC["components"])
    loose["properties"] = {**loose["properties"], "type": {"type": "string", "pattern": "^[A-Z]"}}
    before = spy.count
    try:
        await client.credentials.create(**kwargs)
    except ValidationError as exc:
        assert exc.field in {"name", "type", "username", "password"}
        assert spy.count == before
        password = kwargs["password"]
        # Never echoed (unless another input, echoed on its own right, happens to hold it).
        others = [str(v) for k, v in kwargs.items() if k != "password"]
        if isinstance(password, str) and len(password) >= 4 and not any(password in o for o in others):
            assert password not in str(exc)
        return
    sent = json.loads(recorder.bodies[-1])
    Draft202012Validator(loose).validate(sent)
    assert sent["password"] == kwargs["password"]


mounts = st.one_of(
    st.builds(VolumeMount, volume=st.one_of(st.integers(-3, 2**64), st.text(max_size=4), any_value),
              mount_path=st.one_of(st.text(max_size=5), any_value),
              need_backup=st.one_of(st.none(), st.booleans(), any_value)),
    any_value,
)


@settings(max_examples=300, deadline=None)
@given(volumes=st.one_of(st.lists(mounts, max_size=3), any_value),
       credential=st.one_of(st.none(), st.integers(-3, 2**64), st.text(max_size=20), any_value))
def test_pod_references_are_refused_naming_the_field_or_encoded_exactly(
    volumes: Any, credential: Any
) -> None:
    try:
        req = PodCreateRequest(name="n", image="i", gpu_type="g", gpu_count=1, volumes=volumes,
                               container_registry_auth_id=credential)
    except ValidationError as exc:
        assert exc.field.split("[")[0].split(".")[0] in {"volumes", "container_registry_auth_id"}, exc.field
        return
    wire = json.loads(msgspec.json.encode(req))
    assert "volumes" not in wire
    for entry in wire.get("persistentVolumes", []):
        assert entry["volumeId"] == entry["id"] and 0 < entry["id"] < 2**63 and entry["mountPath"]
    if credential is not None:
        sent = wire["containerRegistryAuthId"]
        assert isinstance(sent, int) and 0 < sent < 2**63


# --- replies -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12)),
    lambda kids: st.one_of(
        st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=8), kids, max_size=3)
    ),
    max_leaves=10,
)
region_like = st.one_of(st.text(max_size=6), st.fixed_dictionaries(
    {}, optional={"region": json_values, "regionName": json_values, "available": json_values,
                  "vmTypeId": json_values}))
gpu_like = st.fixed_dictionaries(
    {},
    optional={"gpuType": json_values, "regions": st.one_of(st.lists(region_like, max_size=3), json_values)},
)
credential_like = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.integers(-(2**65), 2**65), st.text(max_size=22), json_values),
    "name": json_values, "type": st.one_of(st.sampled_from(["GCR", "gcr", "QUAY"]), json_values),
    "createdAt": st.one_of(st.text(max_size=25), st.integers(-(2**64), 2**64), json_values)})
volume_like = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.integers(-(2**65), 2**65), st.text(max_size=22), json_values),
    "name": json_values, "storageType": st.one_of(st.sampled_from(["CEPH", "s3", "NFS"]), json_values),
    "status": st.one_of(st.sampled_from(["active", "ACTIVE", "gone"]), json_values),
    "sizeInGb": json_values, "mountCount": json_values, "cost": st.one_of(st.text(max_size=6), json_values),
    "vendorVolumeType": json_values, "createdAt": json_values})
page_like = st.fixed_dictionaries({}, optional={
    "items": st.one_of(st.lists(volume_like, max_size=2), json_values),
    "page": json_values, "pages": json_values, "total": json_values})

DECODERS: list[tuple[proto.ReplyDecoder[Any], st.SearchStrategy[Any]]] = [
    (GPU_TYPES_DECODER, st.one_of(st.lists(gpu_like, max_size=3), json_values)),
    (CREDENTIAL_LIST_DECODER, st.one_of(st.lists(credential_like, max_size=3), json_values)),
    (CREDENTIAL_OR_LIST_DECODER,
     st.one_of(credential_like, st.lists(credential_like, max_size=2), json_values)),
    (VOLUME_DECODER, st.one_of(volume_like, json_values)),
    (PAGE_DECODER, st.one_of(page_like, json_values)),
]


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_resource_decoders_raise_only_decode_errors(data: st.DataObject) -> None:
    decoder, strategy = data.draw(st.sampled_from(DECODERS))
    value = data.draw(strategy)
    body = json.dumps({"code": 10000, "message": "ok", "data": value}).encode()
    envelope = proto.decode_envelope(body, 200)
    try:
        decoded = proto.decode_data(decoder, envelope, 200)
    except YottaError as exc:
        assert "wrong shape" in str(exc)
        return
    msgspec.json.encode(decoded)  # whatever decoded can be encoded again
    for item in decoded if isinstance(decoded, list) else [decoded]:
        if item is not None and hasattr(item, "id"):
            assert isinstance(item.id, int) and -(2**63) <= item.id < 2**63


Call = Callable[[YottaClient], Awaitable[Any]]
CALLS: list[Call] = [
    lambda c: c.gpu_types.placements("NVIDIA_H100_80G"),
    lambda c: c.credentials.list(),
    lambda c: c.credentials.get(5),
    lambda c: c.credentials.delete(5),
    lambda c: c.volumes.get(5),
    lambda c: c.volumes.list("CEPH"),
    lambda c: c.volumes.delete(5),
    lambda c: c.volumes.resize(5, 10),
]
in_use_like = st.fixed_dictionaries(
    {}, optional={"podList": json_values, "elasticList": json_values, "mountCount": json_values}
)
bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "code": st.one_of(st.sampled_from([10000, 10001, 12001, 25002, 40900]), json_values),
        "message": json_values,
        "data": st.one_of(gpu_like, credential_like, volume_like, page_like, json_values, in_use_like)}).map(
        lambda d: json.dumps(d).encode()),
    st.binary(max_size=100),
)


@FUZZ
@given(call=st.sampled_from(CALLS), body=bodies, status=st.sampled_from([200, 200, 400, 404, 409, 500, 502]))
async def test_random_replies_give_results_or_yotta_errors(
    rig: tuple[YottaClient, Recorder, RequestSpy], call: Call, body: bytes, status: int
) -> None:
    client, recorder, _ = rig
    recorder.reply, recorder.status = body, status
    with contextlib.suppress(YottaError):  # anything else (KeyError, TypeError, ...) fails the test
        await call(client)
