"""Decoding every documented variant of credentials and volumes, and the in-use error's details."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import msgspec
import pytest

from yotta_async import InvalidStateError, PodCreateRequest, ResourceInUseError, ValidationError
from yotta_async._protocol import ReplyDecoder, in_use_details, parse_reply
from yotta_async.models import Pod
from yotta_async.models.credential import RegistryCredential, RegistryType
from yotta_async.models.volume import (
    StorageType,
    VendorVolumeType,
    VolumeMount,
    VolumePage,
    VolumeStatus,
)
from yotta_async.resources.credentials import CREDENTIAL_LIST_DECODER, CREDENTIAL_OR_LIST_DECODER
from yotta_async.resources.volumes import PAGE_DECODER, VOLUME_DECODER

BIG = 384410568058921807


# -- credentials -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw_id", "created", "when"),
    [
        (123, '"2024-01-15T10:30:00Z"', datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)),
        (f'"{BIG}"', "1705314600000", datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)),
        (f'"{BIG}"', '"1705314600000"', datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)),
        (BIG, '"2024-01-15T10:30:00"', datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)),
        (BIG, '"2024-01-15T12:30:00+02:00"', datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)),
        (BIG, "null", None),
        (BIG, '"yesterday"', None),
    ],
)
def test_credential_ids_and_every_created_at_form(
    raw_id: object, created: str, when: datetime | None
) -> None:
    body = f'[{{"id": {raw_id}, "name": "n", "type": "DOCKER_HUB", "createdAt": {created}}}]'.encode()
    (cred,) = CREDENTIAL_LIST_DECODER.decode(body)
    assert cred.id == (123 if raw_id == 123 else BIG)  # exact: never through a float
    assert cred.created == when


def test_credential_without_created_at_and_unknown_type() -> None:
    (cred,) = CREDENTIAL_LIST_DECODER.decode(b'[{"id": "361530338086227968", "name": "n", "type": "QUAY"}]')
    assert cred.created_at is None and cred.created is None
    assert cred.type.value == "QUAY" and not cred.type.is_known
    assert repr(cred.type) == "RegistryType('QUAY')"
    assert RegistryType("docker_hub") is RegistryType.DOCKER_HUB


def test_credential_get_reads_one_object_or_the_guides_array() -> None:
    one = CREDENTIAL_OR_LIST_DECODER.decode(b'{"id": 1, "name": "n", "type": "GCR"}')
    many = CREDENTIAL_OR_LIST_DECODER.decode(b'[{"id": 1, "name": "n", "type": "GCR"}]')
    assert isinstance(one, RegistryCredential) and isinstance(many, list) and many[0] == one


def test_a_credential_never_holds_a_password() -> None:
    fields = {f.name for f in msgspec.structs.fields(RegistryCredential)}
    assert "password" not in fields
    (cred,) = CREDENTIAL_LIST_DECODER.decode(b'[{"id": 1, "name": "n", "type": "GCR", "password": "leak"}]')
    assert "leak" not in repr(cred) and "leak" not in str(msgspec.json.encode(cred))


@pytest.mark.parametrize(
    "body", [b'[{"name": "n", "type": "GCR"}]', b'[{"id": 1.5, "name": "n", "type": "GCR"}]',
             b'[{"id": 1, "type": "GCR"}]', b'[{"id": 1, "name": "n", "type": 5}]'],
)
def test_malformed_credentials_fail_to_decode(body: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        CREDENTIAL_LIST_DECODER.decode(body)


# -- volumes -----------------------------------------------------------------------------
DOC_VOLUME = {"id": 123, "name": "my-ceph-volume", "sizeInGb": 100, "region": "us-west-1",
              "storageType": "CEPH", "status": "creating", "vendorVolumeType": None, "mountCount": 0,
              "cost": 0.00, "createdAt": 1705306200000}


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({}, lambda v: v.status is VolumeStatus.CREATING and v.cost == Decimal("0")),
        ({"status": "ACTIVE"}, lambda v: v.status is VolumeStatus.ACTIVE and v.is_active),
        ({"status": "Resizing"}, lambda v: v.status is VolumeStatus.RESIZING and v.status.is_transitional),
        ({"status": "archived"}, lambda v: v.status.value == "archived" and not v.status.is_known),
        ({"id": "123"}, lambda v: v.id == 123),
        ({"cost": "5.00"}, lambda v: v.cost == Decimal("5.00")),
        ({"cost": 5.0}, lambda v: v.cost == Decimal("5.0")),
        ({"sizeInGb": None, "region": None, "storageType": "S3"},
         lambda v: v.size_in_gb is None and v.region is None and v.storage_type is StorageType.S3),
        ({"storageType": "r2"}, lambda v: v.storage_type is StorageType.R2),
        ({"storageType": "NFS"}, lambda v: v.storage_type.value == "NFS" and not v.storage_type.is_known),
        ({"storageType": "VENDOR", "vendorVolumeType": "NVMe"},
         lambda v: v.vendor_volume_type is VendorVolumeType.NVME),
        ({"vendorVolumeType": "nvme"}, lambda v: v.vendor_volume_type is VendorVolumeType.NVME),
        ({"createdAt": 1705306200000},
         lambda v: v.created == datetime(2024, 1, 15, 8, 10, tzinfo=timezone.utc)),
    ],
)
def test_volume_variants_decode(changes: dict[str, object], check: object) -> None:
    volume = VOLUME_DECODER.decode(json.dumps({**DOC_VOLUME, **changes}).encode())
    assert check(volume)  # type: ignore[operator]


def test_volume_status_decodes_without_regard_to_case() -> None:
    for text in ("active", "ACTIVE", "Active", " active "):
        assert VolumeStatus(text) is VolumeStatus.ACTIVE
    assert VolumeStatus("weird") == VolumeStatus("weird")


def test_minimal_volume_and_the_page_shape() -> None:
    minimal = VOLUME_DECODER.decode(b'{"id": 1, "name": "n", "storageType": "S3", "status": "active"}')
    assert (minimal.mount_count, minimal.cost, minimal.created) == (0, None, None)
    page = PAGE_DECODER.decode(
        json.dumps({"items": [DOC_VOLUME], "page": 1, "size": 10, "total": 42, "pages": 5}).encode()
    )
    assert isinstance(page, VolumePage) and page.total == 42 and page.items[0].id == 123
    assert PAGE_DECODER.decode(b"null") is None


@pytest.mark.parametrize(
    "changes", [{"id": None}, {"status": 3}, {"mountCount": "x"}, {"cost": "cheap"}, {"name": None}],
)
def test_malformed_volumes_fail_to_decode(changes: dict[str, object]) -> None:
    with pytest.raises(msgspec.ValidationError):
        VOLUME_DECODER.decode(json.dumps({**DOC_VOLUME, **changes}).encode())


# -- pods that use them -----------------------------------------------------------------
def test_volume_mount_sends_the_id_under_both_names() -> None:
    volume = VOLUME_DECODER.decode(json.dumps(DOC_VOLUME).encode())
    cred = RegistryCredential(id=BIG, name="n", type=RegistryType.GCR)
    req = PodCreateRequest(
        name="n", image="me/private:1", gpu_type="G", gpu_count=1, container_registry_auth_id=cred,
        volumes=[VolumeMount(volume, "/mnt/data"), VolumeMount("456", "/mnt/b", need_backup=True,
                                                               volume_type="NFS")],
    )
    wire = json.loads(msgspec.json.encode(req))
    assert wire["containerRegistryAuthId"] == BIG and "volumes" not in wire
    assert wire["persistentVolumes"] == [
        {"mountPath": "/mnt/data", "volumeId": 123, "id": 123},
        {"mountPath": "/mnt/b", "volumeType": "NFS", "volumeId": 456, "needBackup": True, "id": 456},
    ]
    req.validate()  # idempotent: validating again does not mount twice
    assert len(req.persistent_volumes or []) == 2
    built = PodCreateRequest.build(name="n", image="i", gpu_type="G", gpu_count=1,
                                   container_registry_auth_id=str(BIG), volumes=[VolumeMount(1, "/d")])
    assert built.container_registry_auth_id == BIG and built.persistent_volumes is not None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"container_registry_auth_id": "12x"}, "container_registry_auth_id"),
        ({"container_registry_auth_id": 0}, "container_registry_auth_id"),
        ({"container_registry_auth_id": 1.0}, "container_registry_auth_id"),
        ({"volumes": [VolumeMount(0, "/d")]}, "volumes[0].volume"),
        ({"volumes": [VolumeMount(None, "/d")]}, "volumes[0].volume"),  # type: ignore[arg-type]
        ({"volumes": [VolumeMount(1, "")]}, "volumes[0].mount_path"),
        ({"volumes": [VolumeMount(1, "/d", need_backup="yes")]}, "volumes[0].need_backup"),  # type: ignore[arg-type]
        ({"volumes": [VolumeMount(1, "/d", volume_type="")]}, "volumes[0].volume_type"),
        ({"volumes": ["1:/d"]}, "volumes[0]"),
        ({"volumes": VolumeMount(1, "/d")}, "volumes"),
    ],
)
def test_bad_references_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        PodCreateRequest(name="n", image="i", gpu_type="G", gpu_count=1, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_pod_shows_its_volumes_and_credential() -> None:
    body = {"id": 1, "status": "RUNNING", "containerRegistryAuthId": str(BIG),
            "persistentVolumes": [{"id": 7, "volumeType": "Ceph", "mountPath": "/d"},
                                  {"volumeId": 8, "mountPath": "/e"}, {"mountPath": "/f"}]}
    pod = msgspec.json.decode(json.dumps(body).encode(), type=Pod, strict=False)
    assert pod.credential_id == BIG and pod.volume_ids == [7, 8]
    assert msgspec.json.decode(b'{"id": 1, "status": "RUNNING"}', type=Pod).volume_ids == []


# -- the in-use refusal ------------------------------------------------------------------
def _raise(body: bytes, status: int = 200) -> BaseException:
    with pytest.raises(Exception) as info:
        parse_reply(body, status, {}, ReplyDecoder(bool), "DELETE", "/v2/x/1")
    return info.value


def test_code_25002_carries_the_users() -> None:
    body = json.dumps({"code": 25002, "message": "Credential is in use and cannot be deleted.",
                       "data": {"podList": [{"id": str(BIG)}, 5, "6", {"podId": 7}, {"x": 1}, True, 5],
                                "elasticList": [{"id": "e1"}]}}).encode()
    err = _raise(body)
    assert isinstance(err, ResourceInUseError) and isinstance(err, InvalidStateError)
    assert err.pod_ids == [BIG, 5, 6, 7]
    assert err.elastic_list == [{"id": "e1"}] and err.pod_list is not None and len(err.pod_list) == 7


@pytest.mark.parametrize("data", ["null", '"x"', '{"podList": null}', '{"podList": "x"}', "[1]"])
def test_code_25002_without_usable_data(data: str) -> None:
    err = _raise(b'{"code": 25002, "message": "in use", "data": ' + data.encode() + b"}")
    assert isinstance(err, ResourceInUseError)
    assert (err.pod_ids, err.pod_list, err.elastic_list, err.mount_count) == ([], None, None, None)


def test_409_is_a_state_error_even_without_a_json_body() -> None:
    assert type(_raise(b"<html>409 Conflict</html>", 409)) is InvalidStateError
    assert type(_raise(b'{"code": 40900, "message": "conflict"}', 409)) is InvalidStateError
    assert in_use_details(b"not json") == {}


def test_a_password_echoed_in_an_error_body_is_blanked() -> None:
    body = b'{"code": 10001, "message": "bad password p\\"w-SECRET", "data": "p\\"w-SECRET"}'
    with pytest.raises(Exception) as info:
        parse_reply(body, 200, {}, ReplyDecoder(bool), "POST", "/v2/x", b"", [b'p"w-SECRET'])
    assert "SECRET" not in str(info.value) and "SECRET" not in repr(info.value)
    assert "[redacted]" in str(info.value)


def test_a_pod_with_string_prices_and_ids_as_in_the_tutorial() -> None:
    # resources-v2.md section 4.3: singleCardPrice "0.65" and the pod id as a string [d:mcp].
    from yotta_async.resources.pods import POD_DECODER

    pod = POD_DECODER.decode(
        b'{"id": "420522713875330018", "status": "RUNNING", "singleCardPrice": "0.65",'
        b' "containerVolumePrice": 0, "persistentVolumes": [{"id": "7", "mountPath": "/d",'
        b' "volumePrice": "0.007", "volumeType": "Ceph"}]}'
    )
    assert pod.id == 420522713875330018 and pod.single_card_price == Decimal("0.65")
    assert pod.volume_ids == [7] and pod.persistent_volumes is not None
    assert pod.persistent_volumes[0].volume_price == Decimal("0.007")
