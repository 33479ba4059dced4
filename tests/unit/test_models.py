"""The msgspec models: wire names from the OpenAPI spec, round trips, ids, statuses, validation."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest

from yotta_async import EnvVar, ExposePort, PersistentVolume, Pod, PodCreateRequest, PodStatus
from yotta_async._session import encode
from yotta_async.errors import ValidationError, YottaError
from yotta_async.models import from_epoch_ms
from yotta_async.resources.pods import POD_DECODER, POD_LIST_DECODER

SPEC = json.loads((Path(__file__).parent.parent / "data" / "pods-v2.openapi.json").read_text())
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]
BIG_ID = 331864222263676928  # > 2**53: a float would round it


def props(*names: str) -> set[str]:
    out: set[str] = set()
    for name in names:
        out |= set(SCHEMAS[name]["properties"])
    return out


def wire_names(cls: type[msgspec.Struct]) -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(cls)}


def sample(schema: dict[str, Any], name: str = "") -> Any:
    """A value for ``schema``, different per field so a swapped field would show."""
    if "$ref" in schema:
        return sample_object(schema["$ref"].rsplit("/", 1)[1])
    if "enum" in schema:
        return schema["enum"][-1]
    kind = schema.get("type")
    if kind == "string":
        return f"s-{name}"
    if kind == "integer":
        return 1000 + len(name) if schema.get("format") == "int64" else 8
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "array":
        return [sample(schema["items"], name)]
    raise AssertionError(f"no sample for {schema}")


def sample_object(schema_name: str) -> dict[str, Any]:
    return {k: sample(v, k) for k, v in SCHEMAS[schema_name]["properties"].items()}


# -- wire names ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "schemas"),
    [
        (PodCreateRequest, ("PodV2CreateRequest",)),
        (Pod, ("PodV2Response",)),
        (EnvVar, ("KeyValuePairDTO",)),
        (ExposePort, ("OpenapiPodExposePortRequest", "OpenapiPodExposePortResponse")),
        (PersistentVolume, ("PersistentVolumesRequest", "PersistentVolumesResponse")),
    ],
)
def test_every_spec_field_has_a_camel_case_wire_name(
    cls: type[msgspec.Struct], schemas: tuple[str, ...]
) -> None:
    assert wire_names(cls) == props(*schemas) | BEYOND_PODS_SPEC.get(cls, set())


# Fields from resources-v2.md section 4, beyond the generated pods schema: the guides'
# volume shape {volumeId, mountPath, needBackup}; the credential id echoed on a pod (decoded
# if sent); and ``volumes``, which validation folds into persistentVolumes (never sent).
BEYOND_PODS_SPEC: dict[type, set[str]] = {
    PersistentVolume: {"volumeId", "needBackup"},
    Pod: {"containerRegistryAuthId"},
    PodCreateRequest: {"volumes"},
}


def test_python_names_are_snake_case() -> None:
    for cls in (PodCreateRequest, Pod, EnvVar, ExposePort, PersistentVolume):
        for field in msgspec.structs.fields(cls):
            assert field.name == field.name.lower(), field.name


def test_required_request_fields_match_the_spec() -> None:
    required = {f.encode_name for f in msgspec.structs.fields(PodCreateRequest) if f.required}
    assert required == set(SCHEMAS["PodV2CreateRequest"]["required"])


# -- round trips ---------------------------------------------------------------------
def test_pod_with_every_field_round_trips() -> None:
    wire = sample_object("PodV2Response")
    wire["id"] = BIG_ID
    wire["status"] = "RUNNING"
    wire["containerRegistryAuthId"] = BIG_ID + 1  # beyond the spec; decoded when sent
    pod = POD_DECODER.decode(json.dumps(wire).encode())
    # Every field was recognised: none was left at its default.
    assert all(value is not None for value in msgspec.structs.asdict(pod).values())
    assert pod.credential_id == BIG_ID + 1
    assert pod.id == BIG_ID
    assert pod.gpu_type == "s-gpuType"
    assert pod.environment_vars == [EnvVar(key="s-key", value="s-value")]
    assert pod.expose is not None and pod.expose[0].ingress_url == "s-ingressUrl"
    assert pod.persistent_volumes is not None
    assert pod.persistent_volumes[0].mount_path == "s-mountPath"
    # Prices are Decimal; an encoder with decimal_format="number" gives the wire's numbers back.
    number_encoder = msgspec.json.Encoder(decimal_format="number")
    assert json.loads(number_encoder.encode(pod)) == wire


def test_create_request_with_every_field_round_trips() -> None:
    wire = sample_object("PodV2CreateRequest")
    wire["gpuCount"] = 4
    wire["imagePublicType"] = "PUBLIC"
    wire["resourceType"] = "GPU"
    req = msgspec.json.decode(json.dumps(wire).encode(), type=PodCreateRequest)
    fields = msgspec.structs.asdict(req)
    assert fields.pop("volumes") is None  # folded into persistent_volumes, never sent
    assert all(value is not None for value in fields.values())
    assert req.min_single_card_vram_in_gb == 8
    assert json.loads(encode(req)) == wire  # the session's encoder: volumePrice as a number
    assert msgspec.json.decode(msgspec.json.encode(req), type=PodCreateRequest) == req


def test_create_request_omits_unset_fields() -> None:
    req = PodCreateRequest(name="n", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)
    assert json.loads(msgspec.json.encode(req)) == {
        "name": "n", "image": "img", "gpuType": "NVIDIA_H100_80G", "gpuCount": 1,
    }


def test_unknown_fields_are_tolerated() -> None:
    body = b'{"id": 1, "status": "RUNNING", "brandNewField": {"x": [1]}, ' \
           b'"expose": [{"port": 22, "extra": 1}]}'
    pod = POD_DECODER.decode(body)
    assert pod.id == 1
    assert pod.expose == [ExposePort(port=22)]


def test_minimal_pod_has_none_for_absent_fields() -> None:
    pod = POD_DECODER.decode(b'{"id": 1, "status": "PENDING"}')
    assert pod.name is None and pod.expose is None and pod.created is None and pod.updated is None


def test_pod_list_decodes() -> None:
    pods = POD_LIST_DECODER.decode(b'[{"id": "5", "status": "RUNNING"}, {"id": 6, "status": "PAUSED"}]')
    assert pods is not None
    assert [p.id for p in pods] == [5, 6]


def test_pod_env_lookup() -> None:
    body = b'{"id": 1, "status": "RUNNING", "environmentVars": [{"key": "A", "value": "1"}]}'
    pod = POD_DECODER.decode(body)
    assert pod.env("A") == "1"
    assert pod.env("B") is None


# -- ids -----------------------------------------------------------------------------
ODD_ID = 331864222263676929  # odd and > 2**53: not representable as a float


@pytest.mark.parametrize("quote", [b"", b'"'])
@pytest.mark.parametrize("value", [BIG_ID, ODD_ID, 2**53 + 1, 2**63 - 1])
def test_big_ids_decode_exactly_from_number_or_string(value: int, quote: bytes) -> None:
    raw = quote + str(value).encode() + quote
    pod = POD_DECODER.decode(b'{"id": ' + raw + b', "status": "RUNNING"}')
    assert type(pod.id) is int
    assert pod.id == value


def test_the_odd_id_would_not_survive_a_float() -> None:
    assert int(float(ODD_ID)) != ODD_ID  # so the test above would catch a float round trip


def test_big_ids_encode_as_exact_integers() -> None:
    pod = Pod(id=2**63 - 1, status=PodStatus.RUNNING)
    assert msgspec.json.encode(pod) == b'{"id":9223372036854775807,"status":"RUNNING"}'


def test_big_nested_ids_decode_exactly() -> None:
    body = b'{"id": 1, "status": "RUNNING", "orgId": "9007199254740993", "persistentVolumes": [' \
           b'{"id": "9007199254740993", "mountPath": "/d", "volumeType": "NFS"}]}'
    pod = POD_DECODER.decode(body)
    assert pod.org_id == 2**53 + 1
    assert pod.persistent_volumes is not None and pod.persistent_volumes[0].id == 2**53 + 1


@pytest.mark.parametrize("raw", [b'"abc"', b"1.5", b"null", b"true", b'""'])
def test_bad_ids_fail_to_decode(raw: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        POD_DECODER.decode(b'{"id": ' + raw + b', "status": "RUNNING"}')


# -- statuses ------------------------------------------------------------------------
def decode_status(raw: str) -> PodStatus:
    return POD_DECODER.decode(b'{"id": 1, "status": ' + raw.encode() + b"}").status


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('"RUNNING"', PodStatus.RUNNING),
        ('"running"', PodStatus.RUNNING),
        ('" Paused "', PodStatus.PAUSED),
        ('"STOPPED"', PodStatus.PAUSED),
        ('"stopped"', PodStatus.PAUSED),
        ('"STOPPING"', PodStatus.PAUSING),
        ('"INITIALIZE"', PodStatus.INITIALIZING),
        ('"Initialize"', PodStatus.INITIALIZING),
        ("0", PodStatus.INITIALIZING),
        ("1", PodStatus.RUNNING),
        ("2", PodStatus.PAUSING),
        ("3", PodStatus.PAUSED),
        ("4", PodStatus.TERMINATING),
        ("5", PodStatus.TERMINATED),
        ("6", PodStatus.FAILED),
        ('"3"', PodStatus.PAUSED),
    ],
)
def test_aliases_and_legacy_ints_decode_to_canonical_members(raw: str, expected: PodStatus) -> None:
    assert decode_status(raw) is expected


def test_every_documented_status_is_a_member() -> None:
    documented = SCHEMAS["PodV2Response"]["properties"]["status"]["enum"]
    assert {s.value for s in PodStatus} == set(documented)
    for name in documented:
        assert decode_status(f'"{name}"') is PodStatus[name]
        assert PodStatus[name].is_known


@pytest.mark.parametrize("raw", ['"HIBERNATING"', '"migrating"', '"99"', "99", "-1", '""'])
def test_unknown_statuses_decode_and_stay_readable(raw: str) -> None:
    status = decode_status(raw)
    text = json.loads(raw)
    assert isinstance(status, PodStatus)
    assert status.value == str(text)
    assert str(status) == str(text)
    assert status == str(text)
    assert not status.is_known
    assert not status.is_terminal and not status.is_transitional
    assert repr(status) == f"PodStatus({str(text)!r})"
    assert status not in list(PodStatus)


def test_unknown_status_members_are_cached() -> None:
    assert decode_status('"HIBERNATING"') is decode_status('"HIBERNATING"')
    assert PodStatus("HIBERNATING") is decode_status('"HIBERNATING"')


def test_unknown_status_re_encodes_unchanged() -> None:
    pod = POD_DECODER.decode(b'{"id": 1, "status": "HIBERNATING"}')
    assert msgspec.json.encode(pod) == b'{"id":1,"status":"HIBERNATING"}'


def test_pod_constructed_with_a_name_or_legacy_int_gets_a_member() -> None:
    assert Pod(id=1, status="STOPPED").status is PodStatus.PAUSED  # type: ignore[arg-type]
    assert Pod(id=1, status=1).status is PodStatus.RUNNING  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["null", "true", "1.5", "[]"])
def test_non_status_values_fail_to_decode(raw: str) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_status(raw)


def test_status_properties() -> None:
    assert PodStatus.TERMINATED.is_terminal and PodStatus.FAILED.is_terminal
    assert not PodStatus.RUNNING.is_terminal
    transitional = {s for s in PodStatus if s.is_transitional}
    assert transitional == {PodStatus.PENDING, PodStatus.PREPARING, PodStatus.INITIALIZING,
                            PodStatus.PAUSING, PodStatus.TERMINATING}
    assert str(PodStatus.RUNNING) == "RUNNING"
    assert repr(PodStatus.RUNNING) == "PodStatus.RUNNING"


@pytest.mark.parametrize("value", [7, -1, True, None, 1.0])
def test_podstatus_call_rejects_non_statuses(value: object) -> None:
    with pytest.raises(ValueError):
        PodStatus(value)


# -- timestamps ----------------------------------------------------------------------
def test_epoch_ms_become_aware_datetimes_exactly() -> None:
    pod = POD_DECODER.decode(
        b'{"id": 1, "status": "RUNNING", "createdAt": 1700000000123, "updatedAt": "1700000000999"}'
    )
    assert pod.created == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=timezone.utc)
    assert pod.updated == datetime(2023, 11, 14, 22, 13, 20, 999000, tzinfo=timezone.utc)
    assert pod.created_at == 1700000000123


@pytest.mark.parametrize("ms", [0, 1, 999, 1_000_000_000_001, 253402300799999])
def test_from_epoch_ms_is_exact(ms: int) -> None:
    value = from_epoch_ms(ms)
    assert value is not None
    delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000 == ms


@pytest.mark.parametrize("ms", [None, 10**17, -(10**17)])
def test_from_epoch_ms_out_of_range_is_none(ms: int | None) -> None:
    assert from_epoch_ms(ms) is None


# -- PodCreateRequest validation -----------------------------------------------------
BASE: dict[str, Any] = {"name": "n", "image": "img", "gpu_type": "NVIDIA_H100_80G", "gpu_count": 1}


def make(**changes: Any) -> PodCreateRequest:
    return PodCreateRequest(**{**BASE, **changes})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        ({"image": ""}, "image"),
        ({"image": "i" * 256}, "image"),
        ({"image": b"img"}, "image"),
        ({"gpu_type": ""}, "gpu_type"),
        ({"gpu_type": None}, "gpu_type"),
        ({"gpu_count": 0}, "gpu_count"),
        ({"gpu_count": -2}, "gpu_count"),
        ({"gpu_count": 3}, "gpu_count"),
        ({"gpu_count": 6}, "gpu_count"),
        ({"gpu_count": 2**31}, "gpu_count"),
        ({"gpu_count": None}, "gpu_count"),
        ({"gpu_count": "1"}, "gpu_count"),
        ({"gpu_count": 1.0}, "gpu_count"),
        ({"gpu_count": True}, "gpu_count"),
        ({"regions": ["us-east-1", "us-east-1"]}, "regions"),
        ({"regions": "us-east-1"}, "regions"),
        ({"regions": [""]}, "regions[0]"),
        ({"regions": ["a", 1]}, "regions[1]"),
        ({"expose": [ExposePort(port=65536)]}, "expose[0].port"),
        ({"expose": [ExposePort(port=22), ExposePort(port=-1)]}, "expose[1].port"),
        ({"expose": [ExposePort(port="22")]}, "expose[0].port"),  # type: ignore[arg-type]
        ({"expose": [ExposePort(port=22, protocol="")]}, "expose[0].protocol"),
        ({"expose": [22]}, "expose[0]"),
        ({"expose": ExposePort(port=22)}, "expose"),
        ({"environment_vars": [EnvVar(key="", value="v")]}, "environment_vars[0].key"),
        ({"environment_vars": [EnvVar(key="k", value="")]}, "environment_vars[0].value"),
        ({"environment_vars": [EnvVar(key="k", value=1)]}, "environment_vars[0].value"),  # type: ignore[arg-type]
        ({"environment_vars": [("k", "v")]}, "environment_vars[0]"),
        ({"environment_vars": {"k": "v"}}, "environment_vars"),
        ({"persistent_volumes": [PersistentVolume(mount_path="", volume_type="NFS")]},
         "persistent_volumes[0].mount_path"),
        ({"persistent_volumes": [PersistentVolume(mount_path="/d", volume_type="")]},
         "persistent_volumes[0].volume_type"),
        ({"persistent_volumes": [PersistentVolume(mount_path=None, volume_type="NFS")]},  # type: ignore[arg-type]
         "persistent_volumes[0].mount_path"),
        ({"persistent_volumes": [PersistentVolume(mount_path="/d", volume_type=None)]},  # type: ignore[arg-type]
         "persistent_volumes[0].volume_type"),
        ({"persistent_volumes": [PersistentVolume(mount_path="/d", volume_type="NFS", volume_size=-1)]},
         "persistent_volumes[0].volume_size"),
        ({"persistent_volumes": [{"mountPath": "/d"}]}, "persistent_volumes[0]"),
        ({"image_public_type": "public"}, "image_public_type"),
        ({"resource_type": "TPU"}, "resource_type"),
        ({"shm_in_gb": -1}, "shm_in_gb"),
        ({"container_volume_in_gb": 2**31}, "container_volume_in_gb"),
        ({"min_single_card_vcpu": "4"}, "min_single_card_vcpu"),
        ({"container_registry_auth_id": 2**63}, "container_registry_auth_id"),
        ({"image_registry": "r" * 256}, "image_registry"),
        ({"initialization_command": 5}, "initialization_command"),
    ],
)
def test_create_request_validation_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        make(**changes)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert isinstance(info.value, ValueError) and isinstance(info.value, YottaError)


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "x" * 255, "image": "i" * 255},
        {"gpu_count": 2},
        {"gpu_count": 8},
        {"gpu_count": 2**30},
        {"expose": [ExposePort(port=0), ExposePort(port=65535, protocol="tcp")]},
        {"regions": ["us-east-1", "us-east-2"]},
        {"regions": []},
        {"image_registry": ""},
        {"initialization_command": ""},
        {"image_public_type": "PRIVATE", "resource_type": "CPU", "container_registry_auth_id": 2**63 - 1},
        {"persistent_volumes": [PersistentVolume(mount_path="/d", volume_type="NFS", volume_size=10)]},
        {"environment_vars": [EnvVar(key="K", value="V")]},
    ],
)
def test_create_request_accepts_edges(changes: dict[str, Any]) -> None:
    req = make(**changes)
    for key, value in changes.items():
        assert getattr(req, key) == value


def test_validate_catches_mutation_after_construction() -> None:
    req = make()
    req.gpu_count = 3
    with pytest.raises(ValidationError, match="gpu_count"):
        req.validate()


def test_decoding_an_invalid_request_fails() -> None:
    with pytest.raises(msgspec.ValidationError, match="gpu_count"):
        msgspec.json.decode(b'{"name":"n","image":"i","gpuType":"g","gpuCount":3}', type=PodCreateRequest)


# -- PodCreateRequest.build ----------------------------------------------------------
def test_build_accepts_friendly_shapes() -> None:
    req = PodCreateRequest.build(**BASE, env={"MODE": "train", "X": "1"},
                                 expose=[8888, "22/tcp", " 80 / http ", ExposePort(port=9000)],
                                 region="us-east-1")
    assert req.environment_vars == [EnvVar(key="MODE", value="train"), EnvVar(key="X", value="1")]
    assert req.expose == [
        ExposePort(port=8888), ExposePort(port=22, protocol="tcp"),
        ExposePort(port=80, protocol="http"), ExposePort(port=9000),
    ]
    assert req.regions == ["us-east-1"]


def test_build_equals_the_plain_constructor() -> None:
    assert PodCreateRequest.build(**BASE, regions=["a"]) == make(regions=["a"])


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "n", "image": "img", "gpu_type": "g"}, "gpu_count"),
        ({"image": "img", "gpu_type": "g", "gpu_count": 1}, "name"),
        ({**BASE, "env": {}, "environment_vars": []}, "env"),
        ({**BASE, "region": "a", "regions": ["b"]}, "region"),
        ({**BASE, "gpus": 2}, "gpus"),
        ({**BASE, "expose": [True]}, "expose[0]"),
        ({**BASE, "expose": ["http"]}, "expose[0]"),
        ({**BASE, "expose": [70000]}, "expose[0].port"),
        ({**BASE, "expose": "8888"}, "expose"),
        ({**BASE, "env": {"": "v"}}, "environment_vars[0].key"),
        ({**BASE, "env": {"K": ""}}, "environment_vars[0].value"),
        ({**BASE, "gpu_count": 12}, "gpu_count"),
    ],
)
def test_build_errors_name_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        PodCreateRequest.build(**fields)
    assert info.value.field == field


def test_pod_fields_follow_the_api_order_and_nested_collections_stay_lists() -> None:
    # msgspec finds the next field fastest when the wire sends fields in declaration order
    # (benchmarks/bench_decode.py); the API sends PodV2Response's properties in spec order.
    wire = list(SPEC["components"]["schemas"]["PodV2Response"]["properties"])
    # The documented fields first, in spec order; fields a server may add (undocumented,
    # such as containerRegistryAuthId) come after them.
    fields = list(Pod.__struct_encode_fields__)
    assert fields[: len(wire)] == wire
    assert set(fields[len(wire):]) == {"containerRegistryAuthId"}
    body = {"id": 1, "status": "RUNNING", "environmentVars": [{"key": "k", "value": "v"}],
            "expose": [{"port": 22}], "persistentVolumes": [{"mountPath": "/d", "volumeType": "NFS"}]}
    pod = POD_DECODER.decode(json.dumps(body).encode())
    # Lists, as in 0.1.0: the tuple variant saved ~5% of decode time, not worth a breaking change.
    assert type(pod.environment_vars) is list and type(pod.expose) is list
    assert type(pod.persistent_volumes) is list
    assert pod.persistent_volumes[0].mount_path == "/d"


def test_request_ids_follow_the_one_id_rule() -> None:
    # models.request checks ids with _validation.check_id: same acceptance, same message.
    from yotta_async import PodCreateRequest, ValidationError, VolumeMount
    from yotta_async._validation import check_id

    base = dict(name="n", image="i", gpu_type="NVIDIA_H100_80G", gpu_count=1)
    for good in (" 12 ", 12, "9223372036854775807"):
        req = PodCreateRequest(**base, container_registry_auth_id=good)  # type: ignore[arg-type]
        assert req.container_registry_auth_id == check_id(good)
    for bad in ("²", "1.0", 0, True, 2**63, "\uff11\uff12"):
        with pytest.raises(ValidationError) as got:
            PodCreateRequest(**base, volumes=[VolumeMount(bad, "/mnt")])  # type: ignore[arg-type]
        with pytest.raises(ValidationError) as expected:
            check_id(bad, "volumes[0].volume")
        assert str(got.value) == str(expected.value)
