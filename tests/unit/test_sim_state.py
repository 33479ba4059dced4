"""The simulator's pod store, clocks and fault plan, without HTTP."""

from __future__ import annotations

import pytest

from yotta_async.models import PodCreateRequest, PodStatus
from yotta_async.testing import FaultPlan, FaultRule, ManualClock, Timings
from yotta_async.testing._state import PodStore

S = PodStatus
FIXED = Timings(jitter=0.0)


def request(**kw: object) -> PodCreateRequest:
    fields: dict[str, object] = {"name": "p", "image": "img", "gpu_type": "NVIDIA_H100_80G", "gpu_count": 1}
    fields.update(kw)
    return PodCreateRequest(**fields)  # type: ignore[arg-type]


def store(clock: ManualClock, **kw: object) -> PodStore:
    kw.setdefault("timings", FIXED)
    return PodStore(clock, **kw)  # type: ignore[arg-type]


async def test_manual_clock_advances_and_sleep_yields() -> None:
    clock = ManualClock(5)
    assert clock.advance(2.5) == 7.5
    await clock.sleep(10)
    assert clock.now() == 17.5
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_create_walks_pending_initializing_running_with_time_only() -> None:
    clock = ManualClock()
    s = store(clock)
    pod = s.create(request())
    assert s.status(pod) is S.PENDING
    assert s.status(pod) is S.PENDING  # reading never moves time
    clock.advance(FIXED.pending)
    assert s.status(pod) is S.INITIALIZING
    clock.advance(FIXED.initializing)
    assert s.status(pod) is S.RUNNING


def test_pause_resume_delete_and_retention() -> None:
    clock = ManualClock()
    s = store(clock)
    pod = s.create(request())
    assert s.pause(pod) is not None  # not RUNNING yet
    clock.advance(60)
    assert s.pause(pod) is None
    assert s.status(pod) is S.PAUSING
    assert s.pause(pod) is not None
    clock.advance(FIXED.pausing)
    assert s.status(pod) is S.PAUSED
    assert s.resume(pod) is None
    assert s.status(pod) is S.INITIALIZING
    clock.advance(FIXED.resume)
    assert s.status(pod) is S.RUNNING
    assert s.delete(pod) is None
    assert s.status(pod) is S.TERMINATING
    assert s.delete(pod) is not None
    clock.advance(FIXED.terminating)
    assert s.status(pod) is S.TERMINATED
    assert s.get(pod.id) is pod
    clock.advance(FIXED.retention)
    assert s.get(pod.id) is None


def test_time_scale_shrinks_every_phase() -> None:
    clock = ManualClock()
    s = store(clock, time_scale=0.001)
    pod = s.create(request())
    clock.advance((FIXED.pending + FIXED.initializing) * 0.001)
    assert s.status(pod) is S.RUNNING


def test_default_timings_are_realistic_and_jittered() -> None:
    clock = ManualClock()
    s = PodStore(clock, seed=3)
    pods = [s.create(request()) for _ in range(50)]
    starts = {p.timeline[-1][0] for p in pods}
    assert len(starts) > 40  # not in lock-step
    assert all(30 <= t <= 60 for t in starts)


def test_fail_image_and_failure_rate() -> None:
    clock = ManualClock()
    s = store(clock, failure_rate=0.5, seed=7)
    doomed = s.create(request(image="yotta/always-fails"))
    pods = [s.create(request()) for _ in range(200)]
    clock.advance(1000)
    assert s.status(doomed) is S.FAILED
    failed = sum(s.status(p) is S.FAILED for p in pods)
    assert 70 < failed < 130
    again = store(ManualClock(), failure_rate=0.5, seed=7)
    again.create(request(image="yotta/always-fails"))
    replay = [again.create(request()) for _ in range(200)]
    again.clock.advance(1000)  # type: ignore[attr-defined]
    assert [again.status(p) for p in replay] == [s.status(p) for p in pods]


def test_ids_are_big_unique_and_seeded() -> None:
    a = [store(ManualClock(), seed=1).create(request()).id for _ in range(1)]
    s = store(ManualClock(), seed=1)
    ids = [s.create(request()).id for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(2**53 < i < 2**63 for i in ids)
    assert ids[0] == a[0]


def test_capacity_per_gpu_type_and_region() -> None:
    clock = ManualClock()
    s = store(clock, capacity={"NVIDIA_H100_80G": 4, ("NVIDIA_A100_80G", "us-east-2"): 2})
    big = s.create(request(gpu_count=4))
    over = s.create(request(gpu_count=1))
    a100 = s.create(request(gpu_type="NVIDIA_A100_80G", gpu_count=2))  # finds us-east-2
    a100_over = s.create(request(gpu_type="NVIDIA_A100_80G", gpu_count=1, regions=["us-east-2"]))
    other = s.create(request(gpu_type="NVIDIA_RTX_4090_24G", gpu_count=8))  # unlimited
    wrong_region = s.create(request(gpu_type="NVIDIA_A100_80G", gpu_count=1, regions=["us-west-1"]))
    clock.advance(100)
    assert s.status(big) is S.RUNNING
    assert s.status(over) is S.FAILED
    assert a100.region == "us-east-2" and s.status(a100) is S.RUNNING
    assert s.status(a100_over) is S.FAILED
    assert s.status(other) is S.RUNNING
    assert s.status(wrong_region) is S.FAILED
    assert s.delete(big) is None
    after = s.create(request())
    assert s.status(after) is S.PENDING
    clock.advance(FIXED.terminating)
    late = s.create(request(gpu_count=4))  # the deleted pod gave its GPUs back
    clock.advance(100)
    assert s.status(after) is S.FAILED  # created while the GPUs were still held
    assert s.status(late) is S.RUNNING


def test_seeded_statuses_and_live_count() -> None:
    clock = ManualClock()
    s = store(clock)
    for status in (S.RUNNING, S.PAUSED, S.FAILED, S.TERMINATED, S.TERMINATING, S.PENDING):
        s.create(request(), status=status)
    assert s.live_count() == 4
    assert s.live_count(include_terminating=False) == 3
    clock.advance(FIXED.retention)
    assert len(s) == 5  # the seeded TERMINATED pod is gone


def test_encoded_json_is_cached_until_status_or_health_changes() -> None:
    clock = ManualClock()
    s = store(clock)
    pod = s.create(request(expose=[]))
    first = s.encoded(pod)
    assert s.encoded(pod) is first
    clock.advance(FIXED.pending)
    assert s.encoded(pod) is not first


def test_fault_plan_is_deterministic_and_limited() -> None:
    def draws(seed: int) -> list[object]:
        plan = FaultPlan.everywhere(seed=seed, error_500=0.3, rate_limit=0.3)
        return [plan.before("GET /v2/pods")[0] for _ in range(100)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)
    plan = FaultPlan({"GET /v2/pods": FaultRule(error_500=1.0, limit=2)}, exempt={"GET /v2/pods/{id}"})
    assert [plan.before("GET /v2/pods")[0] for _ in range(3)] == ["500", "500", None]
    assert plan.before("GET /v2/pods/{id}") == (None, 0.0)
    assert plan.injected["500"] == 2


def test_fault_rule_rejects_bad_probabilities() -> None:
    with pytest.raises(ValueError):
        FaultRule(error_500=1.5)
    with pytest.raises(ValueError):
        FaultRule(error_500=0.6, reset=0.6)


def test_simulator_introspection_without_starting() -> None:
    from yotta_async.testing import Simulator

    clock = ManualClock()
    sim = Simulator(clock=clock, time_scale=0.01, timings=FIXED)
    [pid] = sim.add_pods(1, status=None, name="job", environment_vars=[])
    assert sim.status(pid) is S.PENDING
    sim.advance(FIXED.pending + FIXED.initializing)  # simulated seconds, scaled onto the clock
    assert clock.now() == pytest.approx((FIXED.pending + FIXED.initializing) * 0.01)
    assert sim.status(pid) is S.RUNNING
    pod = sim.pod(pid)
    assert pod is not None and pod["name"] == "job-0" and pod["status"] == "RUNNING"
    assert sim.pod(pid + 1) is None and sim.status(pid + 1) is None
    assert [p["id"] for p in sim.pods()] == [pid] and sim.live_pods() == 1
    with pytest.raises(RuntimeError):
        _ = sim.base_url
    assert "not started" in repr(sim) and sim.api_key not in repr(sim)
