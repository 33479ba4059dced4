"""The seams new resources build on: the generic wait loop, and groups over a PodOps protocol."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import msgspec
import pytest

from tests._fakes import FakeTime
from yotta_async import (
    APIError,
    EnvVar,
    Pod,
    PodCreateRequest,
    PodGroup,
    PodStatus,
    ServerError,
    WaitTimeoutError,
    WatchPolicy,
    YottaError,
)
from yotta_async._ops import GroupRegistry, PodOps, map_concurrently
from yotta_async._runtime import Runtime
from yotta_async._token import TOKEN_ENV
from yotta_async.waiting import Acceptor, Tracker, WaitTarget, poll_until

Volume = dict[str, str]
ACTIVE: WaitTarget[str] = WaitTarget(
    "ACTIVE",
    (Acceptor("success", frozenset({"ACTIVE"})), Acceptor("failure", frozenset({"ERROR"}))),
    60.0,
)


class VolumeGone(APIError):
    """A stand-in for a resource's own not-found error."""


def volume_fetch(*steps: str | BaseException) -> Any:
    items = list(steps)

    async def fetch() -> Volume:
        step = items.pop(0) if len(items) > 1 else items[0]
        if isinstance(step, BaseException):
            raise step
        return {"id": "7", "status": step}

    return fetch


def runtime(t: FakeTime) -> Runtime:
    return Runtime(clock=t.clock, sleep=t.sleep, rng=random.Random(3))


async def test_the_loop_waits_on_any_snapshot_type() -> None:
    t = FakeTime()
    seen: list[tuple[object, object]] = []
    tracker: Tracker[Volume] = Tracker(7, ACTIVE, t.clock(), lambda v: v["status"])
    fetch = volume_fetch("CREATING", ServerError("blip", http_status=503), "CREATING", "ACTIVE")
    result = await poll_until(
        fetch, tracker, timeout=60, runtime=runtime(t), on_change=lambda a, b: seen.append((a, b))
    )
    assert result == {"id": "7", "status": "ACTIVE"}
    assert seen == [(None, "CREATING"), ("CREATING", "ACTIVE")]
    assert tracker.polls == 3 and t.now > 0  # the 503 was retried after a backoff


async def test_the_loop_reports_failure_gone_and_timeout_generically() -> None:
    t = FakeTime()
    tracker: Tracker[Volume] = Tracker(7, ACTIVE, t.clock(), lambda v: v["status"])
    with pytest.raises(YottaError, match=r"resource 7 is ERROR while waiting for ACTIVE"):
        await poll_until(volume_fetch("CREATING", "ERROR"), tracker, timeout=60, runtime=runtime(t))

    must_exist = WaitTarget("ACTIVE", (*ACTIVE.acceptors, Acceptor("failure", missing=True)), 60.0)
    gone = Tracker[Volume](7, must_exist, t.clock(), lambda v: v["status"])
    with pytest.raises(YottaError, match="is gone"):
        await poll_until(
            volume_fetch(VolumeGone("no such volume", code=25001)), gone, timeout=60,
            runtime=runtime(t), not_found=VolumeGone,
        )

    slow = Tracker[Volume](7, ACTIVE, t.clock(), lambda v: v["status"])
    with pytest.raises(WaitTimeoutError, match="did not reach ACTIVE within 5s") as info:
        await poll_until(volume_fetch("CREATING"), slow, timeout=5, runtime=runtime(t))
    assert info.value.history == ["CREATING"] and info.value.polls >= 2


class MemoryPods:
    """Just enough pod operations for a group: PodGroup needs nothing else."""

    def __init__(self, t: FakeTime) -> None:
        self.runtime = runtime(t)
        self.watch_policy = WatchPolicy(floor=0.5, maximum=1.0, jitter=0)
        self.reconcile_settle = 0.0
        self.groups = GroupRegistry()
        self.pods: dict[int, Pod] = {}
        self.deleted: list[int] = []

    async def create_with_token(
        self, request: PodCreateRequest, token: str, *, group: str | None = None
    ) -> Pod:
        env = [EnvVar(key=TOKEN_ENV, value=token)]
        pod = Pod(id=len(self.pods) + 1, status=PodStatus.RUNNING, environment_vars=env)
        self.pods[pod.id] = pod
        return pod

    async def list(self, *, regions: Iterable[str] | None = None,
                   statuses: Iterable[Any] | None = None) -> list[Pod]:
        return list(self.pods.values())

    async def get(self, pod_id: int | str) -> Pod:
        return self.pods[int(pod_id)]

    async def delete(self, pod_id: int | str) -> None:
        self.deleted.append(int(pod_id))
        self.pods[int(pod_id)] = msgspec.structs.replace(
            self.pods[int(pod_id)], status=PodStatus.TERMINATED
        )

    async def pause(self, pod_id: int | str) -> None:
        raise AssertionError("not under on_exit='delete'")

    async def resume(self, pod_id: int | str) -> None:
        raise AssertionError("never resumed")

    async def wait_all(self, ids: Iterable[int | str], **kw: Any) -> list[Pod]:
        return [self.pods[int(i)] for i in ids]


async def test_a_group_runs_on_any_pod_ops_and_cleans_up() -> None:
    t = FakeTime()
    ops = MemoryPods(t)
    typed: PodOps = ops  # the protocol is all a group needs
    request = PodCreateRequest(name="w", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)
    async with PodGroup(typed, label="mem") as group:
        pods = await group.launch(request, count=3, wait=True)
        assert [p.id for p in pods] == [1, 2, 3]
        assert ops.groups.active_tokens() == set(group.tokens)  # sweep would spare these
    assert sorted(ops.deleted) == [1, 2, 3]
    assert {p.status for p in group.pods} == {PodStatus.TERMINATED}
    assert ops.groups.active_tokens() == set()


async def test_map_concurrently_keeps_order_and_stops_after_a_failure() -> None:
    started: list[int] = []

    async def work(n: int) -> int:
        started.append(n)
        if n == 2:
            raise ServerError("boom", http_status=500)
        return n * 10

    results = await map_concurrently(work, [1, 2, 3, 4], 1)
    assert results[0] == 10 and isinstance(results[1], ServerError) and results[2:] == [30, 40]
    started.clear()
    stopped = await map_concurrently(work, [1, 2, 3, 4], 1, return_exceptions=False)
    assert started == [1, 2] and stopped[2:] == [None, None]
