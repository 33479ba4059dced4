"""Spend control and capacity failover together: a cap inside a failover launch, replaced pods
that stop counting (and stop being expired), and stamps on every replacement."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from yotta_async import (
    EXPIRES_ENV,
    READY,
    BudgetExceededError,
    CapacityError,
    FailoverEvent,
    Placement,
    PodCreateRequest,
    PodStatus,
)
from yotta_async.testing import FaultPlan, FaultRule, Timings

from ._waitkit import sim_client

S = PodStatus
H100 = "NVIDIA_H100_80G"
PRICE = Decimal("2.49")  # the simulator's H100 price per GPU-hour (50 GB of disk is free)
P1, P2 = Placement(H100, "us-east-1"), Placement(H100, "us-east-2")
T = Timings(jitter=0.1, port_health=5.0)
NO_CATALOGUE = FaultPlan({"GET /v2/vms/types": FaultRule(error_500=1.0)})
HOUR = timedelta(hours=1)


def request() -> PodCreateRequest:
    return PodCreateRequest.build(name="s", image="img", gpu_type=H100, gpu_count=1, expose=["22/ssh"])


def stamped(sim: Any, pod_id: int) -> bool:
    pod = sim.pod(pod_id)
    return pod is not None and any(v["key"] == EXPIRES_ENV for v in pod["environmentVars"])


def ever_ran(sim: Any, pod_id: int) -> bool:
    pod = sim.store.get(pod_id)
    return pod is not None and any(status is S.RUNNING for _, status in pod.timeline)


async def test_pods_replaced_by_failover_stop_counting_against_the_cap() -> None:
    # us-east-1 holds 2: of the first 5 creates, 3 go FAILED and are replaced on us-east-2.
    # The cap fits exactly 5 pods, so every replacement is admitted only if the failed pod it
    # replaces was released when failover deleted it.
    capacity = {(H100, "us-east-1"): 2, (H100, "us-east-2"): 20}
    async with sim_client(timings=T, capacity=capacity, seed=3, epoch_ms=round(time.time() * 1000)) as (
        sim, client, _,
    ):
        sim.faults = NO_CATALOGUE  # nothing skipped: us-east-1 is tried, and overflows
        events: list[FailoverEvent[Placement]] = []
        async with client.pods.group(max_hourly_cost=PRICE * 5) as group:
            pods = await group.launch(request(), count=5, placements=[P1, P2], wait=READY,
                                      on_failover=events.append)
            assert len(pods) == 5 and all(p.is_ready() for p in pods)
            assert Counter(group.landed[p.id] for p in pods) == {P1: 2, P2: 3}
            failed = [e.pod_id for e in events if e.kind == "failed"]
            assert len(failed) == 3 and set(failed) == set(group.replaced)
            assert group.hourly_cost == PRICE * 5  # the landed five, not the replaced three
            assert sorted(group.ids) == sorted(p.id for p in pods)
            assert all(sim.status(pid) in (S.TERMINATING, S.TERMINATED) for pid in failed)
        assert sim.live_pods() == 0


async def test_a_cap_refusal_inside_failover_is_raised_as_it_is_and_leaks_nothing() -> None:
    capacity = {(H100, "us-east-1"): 20, (H100, "us-east-2"): 20}
    async with sim_client(timings=T, capacity=capacity, over_capacity="refuse") as (sim, client, _):
        sim.faults = NO_CATALOGUE
        with pytest.raises(BudgetExceededError) as info:
            async with client.pods.group(max_hourly_cost=PRICE * 3, concurrency=1) as group:
                await group.launch(request(), count=5, placements=[P1, P2], wait=READY)
        err = info.value
        assert not isinstance(err, CapacityError)
        assert (err.cap, err.total, err.pod_cost) == (PRICE * 3, PRICE * 3, PRICE)
        # Not a capacity failure: no attempt recorded, nothing retried on the next placement.
        assert group.attempts == [] and group.replaced == frozenset()
        assert err.pod_id is not None and not ever_ran(sim, err.pod_id)
        assert {p["region"] for p in sim.pods()} == {"us-east-1"}
        assert sim.request_counts["POST /v2/pods"] == 4
        # on_error="delete": the three that fit, and the refused one, are all gone.
        assert sim.live_pods() == 0


async def test_a_pod_that_went_failed_in_a_plain_launch_stops_counting() -> None:
    from yotta_async import PodFailedError

    async with sim_client(timings=T, capacity={(H100, "us-east-1"): 1}, seed=5) as (sim, client, _):
        async with client.pods.group(max_hourly_cost=PRICE * 2) as group:
            with pytest.raises(PodFailedError) as info:
                await group.launch(name="s", image="img", gpu_type=H100, gpu_count=1,
                                   regions=["us-east-1"], count=2, wait=True)
            assert info.value.pod is not None and info.value.pod.status is S.FAILED
            assert group.hourly_cost == PRICE  # the one that fitted; the FAILED one bills nothing
        assert sim.live_pods() == 0
