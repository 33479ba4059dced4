"""Capacity failover against the simulator: placements tried in order, FAILED pods and refused
creates replaced, running out, cancellation mid-failover, and where each pod landed."""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio
import pytest

from yotta_async import (
    READY,
    CapacityError,
    FailoverEvent,
    Placement,
    PodCreateRequest,
    PodStatus,
    ValidationError,
)
from yotta_async.testing import FaultPlan, FaultRule, Timings

from ._waitkit import sim_client

H100 = "NVIDIA_H100_80G"
P1, P2, P3 = (Placement(H100, r) for r in ("us-east-1", "us-east-2", "us-west-1"))
T = Timings(jitter=0.1, port_health=5.0)
NO_CATALOGUE = FaultPlan({"GET /v2/vms/types": FaultRule(error_500=1.0)})


def request(**kw: Any) -> PodCreateRequest:
    fields: dict[str, Any] = {"name": "f", "image": "img", "gpu_type": H100, "gpu_count": 1,
                              "expose": ["22/ssh"]}
    fields.update(kw)
    return PodCreateRequest.build(**fields)


def failed_but_live(sim: Any) -> list[dict[str, Any]]:
    """FAILED pods nobody deleted (a delete turns them TERMINATING, then TERMINATED)."""
    return [p for p in sim.pods() if p["status"] == "FAILED"]


@pytest.mark.parametrize("mode", ["fail", "refuse"])
async def test_fails_over_past_two_exhausted_placements(mode: str) -> None:
    capacity = {(H100, "us-east-1"): 2, (H100, "us-east-2"): 2, (H100, "us-west-1"): 20}
    async with sim_client(timings=T, capacity=capacity, over_capacity=mode, seed=1) as (sim, client, _):
        sim.faults = NO_CATALOGUE  # availability unreadable: nothing skipped, every placement tried
        events: list[FailoverEvent[Placement]] = []
        async with client.pods.group(on_exit="keep") as group:
            pods = await group.launch(request(), count=8, placements=[P1, P2, P3], wait=READY,
                                      on_failover=events.append)
        assert len(pods) == 8 and all(p.is_ready() for p in pods)
        assert Counter(group.landed[p.id] for p in pods) == {P1: 2, P2: 2, P3: 4}
        assert all(p.region == group.landed[p.id].region for p in pods)  # the API agrees
        kind = "failed" if mode == "fail" else "refused"
        assert sum(e.kind == kind for e in events) >= 4
        assert {a.placement for a in group.attempts} <= {P1, P2}
        if mode == "fail":
            assert all(a.pod_id is not None and "FAILED before RUNNING" in a.reason for a in group.attempts)
        else:
            assert all(a.pod_id is None and "create refused" in a.reason for a in group.attempts)
        assert sorted(group.ids) == sorted(p.id for p in pods)  # replaced pods are not the group's
        assert failed_but_live(sim) == []
        assert sim.live_pods(include_terminating=False) == 8


async def test_the_done_when_split_five_and_seven() -> None:
    capacity = {(H100, "us-east-1"): 5, (H100, "us-east-2"): 20}
    async with sim_client(timings=T, capacity=capacity, seed=2) as (sim, client, _):
        sim.faults = NO_CATALOGUE
        async with client.pods.group(on_exit="keep") as group:
            pods = await group.launch(request(), count=12, placements=[P1, P2], wait=READY)
        assert Counter(p.region for p in pods) == {"us-east-1": 5, "us-east-2": 7}
        assert failed_but_live(sim) == []


async def test_placements_reported_unavailable_are_skipped() -> None:
    capacity = {(H100, "us-east-1"): 0, (H100, "us-east-2"): 3}
    async with sim_client(timings=T, capacity=capacity) as (sim, client, _):
        async with client.pods.group(on_exit="keep") as group:
            pods = await group.launch(request(), count=3, placements=[P1, P2])
        assert {p.region for p in pods} == {"us-east-2"}
        assert [(a.placement, a.pod_id) for a in group.attempts] == [(P1, None)]
        assert "reported unavailable" in group.attempts[0].reason
        assert sim.request_counts["POST /v2/pods"] == 3  # nothing was sent to us-east-1


@pytest.mark.parametrize("mode", ["fail", "refuse"])
async def test_running_out_raises_capacity_error_and_cleanup_takes_the_rest(mode: str) -> None:
    capacity = {(H100, "us-east-1"): 1, (H100, "us-east-2"): 1}
    async with sim_client(timings=T, capacity=capacity, over_capacity=mode) as (sim, client, _):
        sim.faults = NO_CATALOGUE
        with pytest.raises(CapacityError) as info:
            async with client.pods.group(on_exit="keep") as group:
                await group.launch(request(), count=4, placements=[P1, P2])
        err = info.value
        assert err.wanted == 4 and err.landed <= 2
        assert err.attempts and {a.placement for a in err.attempts} <= {P1, P2}
        assert all(str(a.placement) in str(err) for a in err.attempts)
        # on_error="delete" (the default) removed every pod the group made, failed or not
        assert sim.live_pods(include_terminating=False) == 0
        assert failed_but_live(sim) == []


async def test_cancelled_mid_failover_leaves_zero_live_pods() -> None:
    capacity = {(H100, "us-east-1"): 2, (H100, "us-east-2"): 10}
    async with sim_client(timings=T, capacity=capacity) as (sim, client, _):
        sim.faults = NO_CATALOGUE
        failing_over = anyio.Event()

        def on_failover(event: FailoverEvent[Placement]) -> None:
            if event.kind == "failed":
                failing_over.set()

        async def launch() -> None:
            async with client.pods.group() as group:
                await group.launch(request(), count=6, placements=[P1, P2], on_failover=on_failover)

        async with anyio.create_task_group() as tg:
            tg.start_soon(launch)
            await failing_over.wait()
            tg.cancel_scope.cancel()
        assert sim.live_pods(include_terminating=False) == 0
        assert failed_but_live(sim) == []


async def test_refusals_fail_over_without_waiting() -> None:
    capacity = {(H100, "us-east-1"): 1, (H100, "us-east-2"): 5}
    async with sim_client(timings=T, capacity=capacity, over_capacity="refuse") as (sim, client, _):
        sim.faults = NO_CATALOGUE
        async with client.pods.group(on_exit="keep") as group:
            pods = await group.launch(request(), count=3, placements=[P1, P2], wait=False)
        assert Counter(p.region for p in pods) == {"us-east-1": 1, "us-east-2": 2}
        assert all(p.status is PodStatus.PENDING for p in pods)


async def test_other_create_errors_are_raised_as_they_are() -> None:
    from yotta_async import APIError, YottaClient

    async with sim_client(timings=T, capacity={(H100, "us-east-1"): 0}, over_capacity="refuse") as (
        sim, _, clock,
    ):
        sim.faults = NO_CATALOGUE
        async with YottaClient(sim.api_key, sim.base_url, sleep=clock.sleep, clock=clock.now,
                               capacity_error_codes=[1]) as client:
            with pytest.raises(APIError) as info:
                async with client.pods.group() as group:
                    await group.launch(request(), count=1, placements=[P1, P2])
        assert info.value.code == 24000 and not isinstance(info.value, CapacityError)
        assert sim.request_counts["POST /v2/pods"] == 1  # not retried elsewhere


@pytest.mark.parametrize(("kw", "field"), [
    ({"placements": []}, "placements"), ({"placements": ["us-east-1"]}, "placements[0]"),
    ({"wait": "PAUSED"}, "wait"), ({"on_failover": 3}, "on_failover"),
    ({"wait": READY, "timeout": -1}, "timeout"),
])
async def test_launch_arguments_are_checked_before_anything_is_sent(kw: dict[str, Any], field: str) -> None:
    async with sim_client(timings=T) as (sim, client, _):
        kw.setdefault("placements", [P1])
        with pytest.raises(ValidationError) as info:
            async with client.pods.group() as group:
                await group.launch(request(), count=2, **kw)
        assert info.value.field == field
        assert sim.total_requests == 0
