"""A group's ``max_hourly_cost``: concurrent creates never race past it, refused pods never run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from yotta_async import BudgetExceededError, Pod, PodCreateRequest, PodStatus, ValidationError, YottaClient
from yotta_async._budget import BudgetLedger
from yotta_async.testing import FaultPlan, FaultRule, ManualClock, Simulator

S = PodStatus
H100 = Decimal("2.49")  # the simulator's H100 price per GPU-hour; 50 GB of disk is free
REQ = PodCreateRequest(name="b", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    # A manual clock: no simulated time passes between a create and its refusal, so the
    # simulator can tell exactly whether a refused pod ever reached RUNNING.
    async with Simulator(clock=ManualClock()) as simulator:
        yield simulator


def make_client(sim: Simulator) -> YottaClient:
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    return YottaClient(sim.api_key, sim.base_url, sleep=clock.sleep, clock=clock.now)


def ever_ran(sim: Simulator, pod_id: int) -> bool:
    pod = sim.store.get(pod_id)
    return pod is not None and any(status is S.RUNNING for _, status in pod.timeline)


async def test_fifty_concurrent_creates_under_a_cap_that_fits_ten(sim: Simulator) -> None:
    cap = H100 * 10  # exactly ten pods fit: the total may reach the cap, never pass it
    # Each create is held 50 ms in the server, so all fifty are in flight at once and their
    # replies arrive together: the check-and-commit must hold under interleaving.
    sim.faults = FaultPlan({"POST /v2/pods": FaultRule(latency=1.0, latency_seconds=0.05)})
    async with make_client(sim) as client:
        async with client.pods.group(max_hourly_cost=cap) as group:
            results = await asyncio.gather(*(group.create(REQ) for _ in range(50)),
                                           return_exceptions=True)
            survivors = [r for r in results if isinstance(r, Pod)]
            refused = [r for r in results if isinstance(r, BudgetExceededError)]
            assert len(survivors) == 10 and len(refused) == 40, results
            assert sim.max_concurrent_requests >= 40  # the creates really were concurrent
            assert group.hourly_cost == cap
            assert sorted(p.id for p in group.pods) == sorted(p.id for p in survivors)
            for err in refused:
                assert (err.cap, err.pod_cost) == (cap, H100)
                assert err.total + err.pod_cost > cap >= err.total
                assert err.pod_id is not None and err.delete_error is None
                # Deleted at once, before it could run (no simulated time has passed).
                assert sim.status(err.pod_id) is S.TERMINATING
            for pod in survivors:
                assert sim.status(pod.id) is S.PENDING
            sim.advance(120)  # the survivors start; the refused ones finish terminating
            assert [sim.status(p.id) for p in survivors] == [S.RUNNING] * 10
            assert not any(ever_ran(sim, err.pod_id) for err in refused if err.pod_id)
            assert sim.live_pods() == 10
        assert sim.live_pods() == 0  # none leak: the block deleted the ten


async def test_a_launch_past_the_cap_fails_and_its_block_cleans_up(sim: Simulator) -> None:
    async with make_client(sim) as client:
        with pytest.raises(BudgetExceededError) as info:
            async with client.pods.group(max_hourly_cost="5", concurrency=1) as group:
                await group.launch(REQ, count=3, wait=False)
        assert info.value.cap == Decimal(5) and info.value.total == H100 * 2
        assert len(group.pods) == 2
    assert sim.live_pods() == 0 and sim.request_counts["POST /v2/pods"] == 3


async def test_room_freed_by_an_expiry_pause_admits_a_new_pod() -> None:
    ledger = BudgetLedger(Decimal("3"))
    a = Pod(id=1, status="PENDING", gpu_count=1, single_card_price=Decimal("2.5"))
    b = Pod(id=2, status="PENDING", gpu_count=1, single_card_price=Decimal("1"))
    assert ledger.admit(a) is None
    assert isinstance(ledger.admit(b), BudgetExceededError) and ledger.total == Decimal("2.5")
    ledger.update(1, Decimal("0.5"))  # paused: storage only
    assert ledger.admit(Pod(id=3, status="PENDING", gpu_count=1, single_card_price=Decimal("1"))) is None
    assert ledger.total == Decimal("1.5")
    ledger.release(1)
    ledger.release(1)  # twice is harmless
    assert ledger.total == Decimal("1")


def test_a_pod_of_unknown_cost_is_refused_under_a_cap_unless_allowed() -> None:
    unknown = Pod(id=7, status="PENDING", gpu_count=1)  # no singleCardPrice
    err = BudgetLedger(Decimal("100")).admit(unknown)
    assert isinstance(err, BudgetExceededError) and err.pod_cost is None and "unknown" in str(err)
    allowed = BudgetLedger(Decimal("100"), allow_unknown_cost=True)
    assert allowed.admit(unknown) is None and allowed.unknown == 1 and allowed.total == 0
    assert BudgetLedger(None).admit(unknown) is None  # no cap: just a tally


def test_admitting_the_same_pod_twice_counts_it_once() -> None:
    ledger = BudgetLedger(Decimal("3"))
    pod = Pod(id=1, status="PENDING", gpu_count=1, single_card_price=Decimal("2"))
    assert ledger.admit(pod) is None and ledger.admit(pod) is None
    assert ledger.total == Decimal("2")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_hourly_cost": 20.5}, "max_hourly_cost"),
        ({"max_hourly_cost": "lots"}, "max_hourly_cost"),
        ({"max_hourly_cost": Decimal("-1")}, "max_hourly_cost"),
        ({"max_hourly_cost": Decimal("NaN")}, "max_hourly_cost"),
        ({"max_hourly_cost": True}, "max_hourly_cost"),
        ({"allow_unknown_cost": "yes"}, "allow_unknown_cost"),
        ({"ttl": 0}, "ttl"),
        ({"ttl": -5.0}, "ttl"),
        ({"ttl": float("inf")}, "ttl"),
        ({"ttl": "2h"}, "ttl"),
        ({"on_expire": "keep"}, "on_expire"),
    ],
)
async def test_bad_spend_settings_are_refused_before_anything_is_sent(
    sim: Simulator, kwargs: dict[str, object], field: str
) -> None:
    async with make_client(sim) as client:
        with pytest.raises(ValidationError) as info:
            client.pods.group(**kwargs)  # type: ignore[arg-type]
        assert info.value.field == field
    assert sim.total_requests == 0


@pytest.mark.parametrize("price_format", ["number", "string"])
async def test_simulated_pods_carry_prices_in_either_format(price_format: str) -> None:
    async with Simulator(price_format=price_format) as sim:  # type: ignore[arg-type]
        async with YottaClient(sim.api_key, sim.base_url) as client:
            pod = await client.pods.create(name="p", image="img", gpu_type="NVIDIA_H100_80G",
                                           gpu_count=2, persistent_volume_in_gb=100)
        raw = sim.pod(pod.id)
    assert raw is not None
    assert isinstance(raw["singleCardPrice"], str if price_format == "string" else float)
    # H100 at 2.49 per GPU-hour, x2; the 100 GB legacy volume at 0.00007 per GB-hour.
    assert pod.hourly_cost == Decimal("2.49") * 2 + Decimal("0.00007") * 100
