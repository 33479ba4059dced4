"""The watcher's raw listing: only watched pods are decoded, and only when their JSON changed."""

from __future__ import annotations

import random
import re
from typing import Any

import msgspec
import pytest
from aioresponses import aioresponses

from yotta_async import PodStatus, ResponseDecodeError, WatchPolicy, YottaClient
from yotta_async.models import ExposePort, Pod
from yotta_async.testing import ManualClock
from yotta_async.waiting import PodListing, PodWatcher

S = PodStatus
STEADY = WatchPolicy(floor=1.0, maximum=8.0, multiplier=2.0, jitter=0.0)
_POD = msgspec.json.Decoder(Pod)


class RawAPI:
    """Lists ``pods`` as raw JSON and counts which pods get decoded."""

    def __init__(self) -> None:
        self.pods: dict[int, Pod] = {}
        self.decoded: list[int] = []

    def _decode_id(self, raw: msgspec.Raw) -> int:
        return int(msgspec.json.decode(raw)["id"])

    def _decode(self, raw: msgspec.Raw) -> Pod:
        pod = _POD.decode(raw)
        self.decoded.append(pod.id)
        return pod

    async def list(self, regions: list[str] | None) -> PodListing:
        body = msgspec.json.encode(list(self.pods.values()))
        items = msgspec.json.decode(body, type=list[msgspec.Raw])
        return PodListing(items, self._decode_id, self._decode)

    async def get(self, pod_id: int) -> Pod:
        raise AssertionError("every watched pod is listed")


async def test_unchanged_pods_are_not_decoded_again_and_unwatched_pods_never() -> None:
    clock, api = ManualClock(), RawAPI()
    for i in (1, 2, 3):
        api.pods[i] = Pod(id=i, status=S.PENDING, region="us-east-1")
    listing, calls = api.list, []

    async def list_pods(regions: list[str] | None) -> PodListing:
        calls.append(len(api.decoded))  # decodes done before this tick
        if len(calls) == 3:  # a change outside status, on the third tick
            api.pods[2] = Pod(id=2, status=S.PENDING, region="us-east-1", internal_ip="10.0.0.2")
        return await listing(regions)

    watcher = PodWatcher(list_pods, api.get, clock=clock.now, sleep=clock.sleep, policy=STEADY,
                         rng=random.Random(0))
    sub = watcher.subscribe([1, 2])
    try:
        ticks = [{i: p for i, p, _ in await sub.next() or []} for _ in range(3)]
    finally:
        await watcher.release(sub)
    first, second, third = ticks
    assert sorted(first) == [1, 2] and calls[:2] == [0, 2]  # pod 3, unwatched: never decoded
    # Same bytes: the snapshots the waiters hold are still the latest, so they are reused.
    assert second[1] is first[1] and second[2] is first[2] and calls[2] == 2
    # Any change, even outside status, brings a fresh snapshot of that pod alone.
    assert api.decoded == [1, 2, 2]
    assert third[1] is first[1] and third[2] is not first[2] and third[2].internal_ip == "10.0.0.2"


async def test_a_flip_of_a_health_flag_counts_as_a_change() -> None:
    clock, api = ManualClock(), RawAPI()
    port = ExposePort(port=22, protocol="ssh", healthy=False)
    api.pods[1] = Pod(id=1, status=S.RUNNING, expose=[port])
    flipped = Pod(id=1, status=S.RUNNING, expose=[msgspec.structs.replace(port, healthy=True)])
    calls: list[float] = []
    listing = api.list

    async def list_pods(regions: list[str] | None) -> PodListing:
        calls.append(clock.now())
        if clock.now() >= 5.0:
            api.pods[1] = flipped
        return await listing(regions)

    watcher = PodWatcher(list_pods, api.get, clock=clock.now, sleep=clock.sleep, policy=STEADY,
                         rng=random.Random(0))
    sub = watcher.subscribe([1])
    try:
        while len(calls) < 6:
            await sub.next()
    finally:
        await watcher.release(sub)
    # Quiet ticks stretch the interval (1, 2, 4); the flip seen at 7 resets it to the floor.
    assert calls[:6] == [0.0, 1.0, 3.0, 7.0, 8.0, 10.0]
    assert api.decoded == [1, 1]  # first sighting and the flip: nothing in between


def _reply(data: Any) -> dict[str, Any]:
    return {"code": 10000, "message": "success", "data": data}


async def test_a_malformed_watched_pod_ends_the_wait_with_a_decode_error(mock_api: aioresponses) -> None:
    bad = {"id": 7, "status": "PENDING", "gpuCount": "many"}
    mock_api.get(re.compile(r"https://api\.example\.com/v2/pods.*"), payload=_reply([bad]), repeat=True)
    async with YottaClient("k" * 16, "https://api.example.com") as client:
        with pytest.raises(ResponseDecodeError, match="wrong shape"):
            await client.pods.wait_all([7], timeout=30)


def test_snapshots_share_repeated_values_without_mixing_equal_values_of_other_types(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from decimal import Decimal

    from yotta_async.resources import _listing
    from yotta_async.resources._listing import listed_pod

    monkeypatch.setattr(_listing, "_shared_values", {})  # not near its cap from other tests

    def raw(pid: int, **fields: Any) -> msgspec.Raw:
        body = {"id": pid, "status": "RUNNING", "region": "us-" + "east-1", **fields}
        return msgspec.Raw(msgspec.json.encode(body))

    nested = {
        "expose": [{"port": 22, "protocol": "SSH", "host": "proxy.example"}],
        "environmentVars": [{"key": "MODE", "value": "train"}],
    }
    a = listed_pod(raw(1, orgId=1000, networkUploadMbps=1000.0, singleCardPrice=2.49, **nested))
    b = listed_pod(
        raw(2, orgId=1000, networkUploadMbps=1000, singleCardPrice="2.490", **nested)
    )
    assert a.region is b.region and a.org_id is b.org_id
    assert a.expose and b.expose and a.expose[0].host is b.expose[0].host
    assert a.environment_vars and b.environment_vars
    assert a.environment_vars[0].key is b.environment_vars[0].key
    # Equal across types or spellings, but not the same value: each keeps its own.
    assert type(a.network_upload_mbps) is float and type(b.network_upload_mbps) is float
    assert str(a.single_card_price) == "2.49" and str(b.single_card_price) == "2.490"
    assert b.single_card_price == Decimal("2.49")
