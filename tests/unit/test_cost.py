"""``Pod.hourly_cost``: exact Decimal prices from numbers or strings, ``None`` when unknown."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from yotta_async import Pod
from yotta_async.resources.pods import POD_DECODER, POD_LIST_DECODER


def decode(**fields: Any) -> Pod:
    return POD_DECODER.decode(json.dumps({"id": 1, "status": "RUNNING", **fields}).encode())


def decode_raw(data: str) -> Pod:
    return POD_DECODER.decode(data.encode())


@pytest.mark.parametrize(
    "raw", ['0.65', '"0.65"', '0.650', '"0.650"', '6.5e-1', '"6.5E-1"'],
    ids=["number", "string", "number-trailing-zero", "string-trailing-zero", "exp", "string-exp"],
)
def test_a_price_decodes_exactly_from_a_number_or_a_string(raw: str) -> None:
    pod = decode_raw('{"id":1,"status":"RUNNING","gpuCount":2,"singleCardPrice":' + raw + "}")
    assert isinstance(pod.single_card_price, Decimal)
    assert pod.single_card_price == Decimal("0.65")
    assert pod.hourly_cost == Decimal("1.30")


def test_a_number_is_read_from_its_digits_never_through_float() -> None:
    # 0.1 + 0.2 in binary floating point is 0.30000000000000004.
    pod = decode_raw('{"id":1,"status":"RUNNING","gpuCount":1,"singleCardPrice":0.1,'
                     '"containerVolumeInGb":1,"containerVolumePrice":0.2}')
    assert pod.hourly_cost == Decimal("0.3")
    digits = "12345678901234567.123456789"  # far beyond a double's 15-17 digits
    pod = decode_raw('{"id":1,"status":"RUNNING","gpuCount":1,"singleCardPrice":' + digits + "}")
    assert pod.hourly_cost == Decimal(digits)


def test_the_documented_formula_counts_gpus_disk_legacy_volume_and_every_volume() -> None:
    pod = decode(
        gpuCount=4, singleCardPrice="2.49",
        containerVolumeInGb=300, containerVolumePrice=0.00005,
        persistentVolumeInGb=100, persistentVolumePrice="0.00007",
        persistentVolumes=[
            {"mountPath": "/a", "volumeType": "NFS", "volumeSize": 200, "volumePrice": 0.00007},
            {"mountPath": "/b", "volumeType": "NFS", "volumeSize": 1000, "volumePrice": "0.0001"},
        ],
    )
    expected = (Decimal("2.49") * 4 + Decimal("0.00005") * 300 + Decimal("0.00007") * 100
                + Decimal("0.00007") * 200 + Decimal("0.0001") * 1000)
    assert pod.hourly_cost == expected == Decimal("10.096")


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"gpuCount": 1}, "no GPU price"),
        ({"singleCardPrice": "1.5"}, "no GPU count"),
        ({"gpuCount": 1, "singleCardPrice": None}, "a null GPU price"),
        ({"gpuCount": 1, "singleCardPrice": "1.5", "containerVolumeInGb": 50}, "disk size, no disk price"),
        ({"gpuCount": 1, "singleCardPrice": "1.5", "containerVolumePrice": "0.1"}, "disk price, no size"),
        ({"gpuCount": 1, "singleCardPrice": "1.5", "persistentVolumeInGb": 10}, "legacy volume, no price"),
        ({"gpuCount": 1, "singleCardPrice": "1.5",
          "persistentVolumes": [{"mountPath": "/a", "volumeType": "NFS", "volumeSize": 10}]},
         "a mounted volume without a price"),
        ({"gpuCount": 1, "singleCardPrice": "1.5",
          "persistentVolumes": [{"mountPath": "/a", "volumeType": "NFS", "volumePrice": 0.1}]},
         "a mounted volume without a size"),
        ({"gpuCount": 1, "singleCardPrice": "NaN"}, "a NaN price"),
        ({"gpuCount": 1, "singleCardPrice": "-1"}, "a negative price"),
        ({"gpuCount": 1, "singleCardPrice": "Infinity"}, "an infinite price"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_missing_or_unusable_price_makes_the_cost_unknown_never_a_guess(
    fields: dict[str, Any], why: str
) -> None:
    assert decode(**fields).hourly_cost is None, why


def test_what_is_absent_costs_nothing() -> None:
    assert decode(gpuCount=1, singleCardPrice="1.5").hourly_cost == Decimal("1.5")
    # No GPUs: no GPU price needed. A zero-size disk: no disk price needed.
    assert decode(gpuCount=0, containerVolumeInGb=0).hourly_cost == Decimal(0)
    assert decode(gpuCount=2, singleCardPrice="1", persistentVolumes=[]).hourly_cost == Decimal(2)


def test_a_sum_over_a_thousand_pods_has_no_float_drift() -> None:
    pod = '{"id":%d,"status":"RUNNING","gpuCount":1,"singleCardPrice":0.1,' \
          '"containerVolumeInGb":3,"containerVolumePrice":"0.00001"}'
    body = "[" + ",".join(pod % i for i in range(1, 1001)) + "]"
    pods = POD_LIST_DECODER.decode(body.encode())
    assert pods is not None
    total = sum((p.hourly_cost for p in pods if p.hourly_cost is not None), Decimal(0))
    assert total == Decimal("100.03")
    # What a float running total would have given. (Not sum(): since 3.12 it compensates.)
    running = 0.0
    for _ in pods:
        running += 0.1 + 3 * 0.00001
    assert running != 100.03


def test_a_pod_built_in_python_with_float_prices_still_costs_exactly() -> None:
    pod = Pod(id=1, status="RUNNING", gpu_count=3, single_card_price=0.1)  # type: ignore[arg-type]
    assert pod.hourly_cost == Decimal("0.3")


def test_a_volume_built_in_python_with_a_float_price_costs_exactly_and_encodes_as_written() -> None:
    from yotta_async._session import encode
    from yotta_async.models import PersistentVolume

    vol = PersistentVolume(mount_path="/d", volume_size=3, volume_price=0.1)  # type: ignore[arg-type]
    pod = Pod(id=1, status="RUNNING", gpu_count=0, persistent_volumes=[vol])
    assert pod.hourly_cost == Decimal("0.3")  # not 0.30000000000000004
    assert vol.volume_price == Decimal("0.1")  # kept as written, so a request round-trips
    assert b'"volumePrice":0.1' in encode(vol)
