"""The failover engine on its own: fake create/wait/delete, no HTTP."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import anyio
import anyio.lowlevel
import pytest

from yotta_async import APIError, Pod, PodFailedError, PodStatus, WaitTimeoutError
from yotta_async._failover import Failover, FailoverEvent, Landing, failed_before_running
from yotta_async.errors import CapacityError, InvalidRequestError, PlacementAttempt

S = PodStatus
CODE = 24000


@dataclass(frozen=True)
class Where:
    gpu_type: str
    region: str

    def __str__(self) -> str:
        return f"{self.gpu_type}@{self.region}"


A, B, C = Where("H100", "a"), Where("H100", "b"), Where("H100", "c")


class FakeCloud:
    """Capacity per placement; ``mode`` decides refusal at create or FAILED at wait."""

    def __init__(self, capacity: dict[Where, int], mode: str = "fail") -> None:
        self.capacity = dict(capacity)
        self.mode = mode
        self.pods: dict[int, tuple[Where, bool]] = {}  # id -> (placement, has capacity)
        self.deleted: list[int] = []
        self.creates: Counter[Where] = Counter()
        self.next = 100
        self.time = 0.0

    async def create(self, slot: int, where: Where) -> Pod:
        await anyio.lowlevel.checkpoint()
        self.creates[where] += 1
        room = self.capacity.get(where, 0) > 0
        if not room and self.mode == "refuse":
            raise APIError("insufficient resources", code=CODE)
        if room:
            self.capacity[where] -= 1
        self.next += 1
        self.pods[self.next] = (where, room)
        return Pod(id=self.next, status=S.PENDING, region=where.region)

    async def wait(self, pod_id: int, remaining: float) -> Pod:
        await anyio.lowlevel.checkpoint()
        where, room = self.pods[pod_id]
        if not room:
            failed = Pod(id=pod_id, status=S.FAILED, region=where.region)
            raise PodFailedError("failed", pod=failed, history=[S.PENDING, S.FAILED])
        return Pod(id=pod_id, status=S.RUNNING, region=where.region)

    async def delete(self, pod_id: int) -> None:
        await anyio.lowlevel.checkpoint()
        self.deleted.append(pod_id)


def engine(cloud: FakeCloud, placements: list[Where], **kw: object) -> Failover[Where]:
    return Failover(
        placements,
        create=cloud.create,
        delete=cloud.delete,
        wait=kw.pop("wait", cloud.wait),  # type: ignore[arg-type]
        is_capacity_error=lambda e: isinstance(e, APIError) and e.code == CODE,
        clock=lambda: cloud.time,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("mode", ["fail", "refuse"])
async def test_fails_over_across_three_placements(mode: str) -> None:
    cloud = FakeCloud({A: 0, B: 0, C: 10}, mode)
    events: list[FailoverEvent[Where]] = []
    landings = await engine(cloud, [A, B, C], on_event=events.append).run(4)
    assert [landing.placement for landing in landings] == [C] * 4
    assert all(landing.pod.status is S.RUNNING for landing in landings)
    failed = [pid for pid, (w, room) in cloud.pods.items() if not room]
    assert sorted(cloud.deleted) == sorted(failed)  # every replaced pod was deleted
    kinds = Counter(e.kind for e in events)
    assert kinds["landed"] == 4
    assert kinds["failed" if mode == "fail" else "refused"] >= 2


async def test_adopted_slots_wait_instead_of_creating_and_fail_over_from_their_placement() -> None:
    cloud = FakeCloud({A: 0, B: 0, C: 10})
    # Pods an earlier run made: slot 0 healthy on C, slot 1 doomed on B (FAILED for capacity),
    # slot 2 on a placement outside the list (healthy). Slot 3 has none.
    cloud.pods.update({1: (C, True), 2: (B, False), 3: (Where("H100", "z"), True)})
    seeds = {
        0: Landing(Pod(id=1, status=S.PENDING), C),
        1: Landing(Pod(id=2, status=S.PENDING), B),
        2: Landing(Pod(id=3, status=S.PENDING), Where("H100", "z")),
        7: Landing(Pod(id=4, status=S.PENDING), A),  # outside range(count): ignored
    }
    events: list[FailoverEvent[Where]] = []
    landings = await engine(cloud, [A, B, C], concurrency=1, on_event=events.append).run(4, adopted=seeds)
    assert [landing.pod.id for landing in landings[:3]] == [1, landings[1].pod.id, 3]
    assert landings[0].placement == C and landings[2].placement == Where("H100", "z")
    # slot 1 went on from B to C, never back to A; slot 3 started at A (then B, C)
    assert landings[1].placement == C and landings[1].pod.id not in (1, 2, 3, 4)
    assert 2 in cloud.deleted and 4 not in cloud.deleted
    assert [e.slot for e in events if e.kind == "creating" and e.placement == A] == [3]
    assert not any(e.kind == "created" and e.pod_id in (1, 2, 3) for e in events)


async def test_slots_land_where_there_is_room_in_preference_order() -> None:
    cloud = FakeCloud({A: 5, B: 20})
    landings = await engine(cloud, [A, B], concurrency=1).run(12)
    assert Counter(landing.placement for landing in landings) == {A: 5, B: 7}
    assert len(cloud.deleted) == cloud.creates[A] - 5


async def test_learned_full_placements_are_skipped_by_later_slots() -> None:
    cloud = FakeCloud({A: 0, B: 10}, "refuse")
    await engine(cloud, [A, B], concurrency=1).run(8)
    assert cloud.creates[A] == 1  # the first refusal taught the other slots


async def test_running_out_raises_capacity_error_listing_every_attempt() -> None:
    cloud = FakeCloud({A: 1, B: 1})
    with pytest.raises(CapacityError) as info:
        await engine(cloud, [A, B], concurrency=1).run(3)
    err = info.value
    assert err.wanted == 3 and 1 <= err.landed <= 2
    assert all(isinstance(a, PlacementAttempt) for a in err.attempts)
    assert {a.placement for a in err.attempts} <= {A, B}
    assert all(a.reason == "FAILED before RUNNING" and a.pod_id in cloud.deleted for a in err.attempts)
    assert "H100@a: pod" in str(err)


async def test_skipped_placements_are_reported_and_no_placements_is_capacity_error() -> None:
    cloud = FakeCloud({B: 1})
    events: list[FailoverEvent[Where]] = []
    run = engine(cloud, [B], skipped=[A], on_event=events.append)
    assert [landing.placement for landing in await run.run(1)] == [B]
    assert run.attempts == [PlacementAttempt(A, None, "skipped: reported unavailable")]
    assert events[0].kind == "skipped"
    with pytest.raises(CapacityError) as info:
        await engine(cloud, [], skipped=[A, B]).run(2)
    assert len(info.value.attempts) == 2 and info.value.landed == 0


async def test_other_errors_are_raised_as_they_are() -> None:
    cloud = FakeCloud({A: 5})

    async def bad(slot: int, where: Where) -> Pod:
        raise InvalidRequestError("bad image", code=10001)

    with pytest.raises(InvalidRequestError):
        await Failover([A], create=bad, delete=cloud.delete, wait=None,
                       is_capacity_error=lambda e: False, clock=lambda: 0.0).run(3)

    async def ran_then_failed(pod_id: int, remaining: float) -> Pod:
        pod = Pod(id=pod_id, status=S.FAILED)
        raise PodFailedError("x", pod=pod, history=[S.RUNNING, S.FAILED])

    with pytest.raises(PodFailedError):
        await engine(cloud, [A, B], wait=ran_then_failed).run(1)
    assert cloud.deleted == []  # not a capacity failure: not replaced


async def test_without_wait_only_refusals_fail_over() -> None:
    cloud = FakeCloud({A: 0, B: 3}, "refuse")
    landings = await engine(cloud, [A, B], wait=None).run(3)
    assert [landing.placement for landing in landings] == [B, B, B]


async def test_the_timeout_is_one_deadline_for_the_whole_launch() -> None:
    cloud = FakeCloud({A: 0, B: 5})

    async def slow_fail(pod_id: int, remaining: float) -> Pod:
        cloud.time += 60
        return await cloud.wait(pod_id, remaining)

    with pytest.raises(WaitTimeoutError, match="ran out during failover"):
        await engine(cloud, [A, B], wait=slow_fail, timeout=50.0).run(1)


async def test_a_failed_pod_is_deleted_even_when_cancelled_meanwhile() -> None:
    cloud = FakeCloud({A: 0, B: 5})
    gate = anyio.Event()
    entered = anyio.Event()

    async def slow_delete(pod_id: int) -> None:
        entered.set()
        await gate.wait()
        cloud.deleted.append(pod_id)

    run = Failover([A, B], create=cloud.create, delete=slow_delete, wait=cloud.wait,
                   is_capacity_error=lambda e: False, clock=lambda: 0.0)
    inner = anyio.CancelScope()

    async def launch() -> None:
        with inner:
            await run.run(1)

    async with anyio.create_task_group() as tg:
        tg.start_soon(launch)
        await entered.wait()
        inner.cancel()
        for _ in range(10):
            await anyio.lowlevel.checkpoint()
        assert cloud.deleted == [] and not inner.cancelled_caught  # still deleting, shielded
        gate.set()
    assert len(cloud.deleted) == 1 and inner.cancelled_caught
    assert cloud.creates[B] == 0  # cancelled: no replacement was started


def test_failed_before_running() -> None:
    failed = Pod(id=1, status=S.FAILED)
    assert failed_before_running(PodFailedError("x", pod=failed, history=[S.PENDING, S.FAILED]))
    assert not failed_before_running(PodFailedError("x", pod=failed, history=[S.RUNNING, S.FAILED]))
    gone = Pod(id=1, status=S.TERMINATED)
    assert not failed_before_running(PodFailedError("x", pod=gone, history=[S.TERMINATED]))
    assert not failed_before_running(ValueError())


def test_check_placements() -> None:
    from yotta_async import Placement, ValidationError
    from yotta_async._failover import check_placements

    p = Placement("NVIDIA_H100_80G", "us-east-1")
    assert check_placements([p, ("NVIDIA_H100_80G", "us-east-2"), p]) == [
        p, Placement("NVIDIA_H100_80G", "us-east-2")]
    cases = (([], "placements"), ("us-east-1", "placements"), (p, "placements"), ([p, "x"], "placements[1]"),
             ([("t", "")], "placements[0]"), ([("t", "r", 1)], "placements[0]"))
    for bad, field in cases:
        with pytest.raises(ValidationError) as info:
            check_placements(bad)
        assert info.value.field == field


def test_split_by_availability() -> None:
    from yotta_async import GpuRegion, GpuType, Placement
    from yotta_async._failover import split_by_availability

    a, b, c, d = (Placement("H", r) for r in "abcd")
    catalogue = [GpuType(gpu_type="H", regions=[
        GpuRegion(region="a", available=False), GpuRegion(region="b", available=True),
        GpuRegion(region="c")])]
    assert split_by_availability([a, b, c, d], catalogue) == ([b, c, d], [a])
    assert split_by_availability([a, b], None) == ([a, b], [])  # unreadable: nothing skipped
