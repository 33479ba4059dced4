"""Bulk calls against the simulator: order, per-item results, limits and 429 adaptation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.conftest import fast_client
from yotta_async import (
    InvalidStateError,
    PodCreateRequest,
    PodNotFoundError,
    PodStatus,
    ServerError,
    ValidationError,
    YottaClient,
    YottaError,
)
from yotta_async._token import TOKEN_ENV
from yotta_async.testing import FaultPlan, FaultRule, Simulator
from yotta_async.testing._faults import Fault

POST = "POST /v2/pods"


def req(i: int, **kw: object) -> PodCreateRequest:
    return PodCreateRequest.build(name=f"bulk-{i}", image="img", gpu_type="NVIDIA_H100_80G",
                                  gpu_count=1, **kw)


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[YottaClient]:
    async with fast_client(sim) as c:
        yield c


async def test_create_many_keeps_input_order_with_one_result_per_item(
    sim: Simulator, client: YottaClient
) -> None:
    results = await client.pods.create_many([req(i) for i in range(40)], concurrency=8)
    names = [r.name for r in results if not isinstance(r, YottaError)]
    assert names == [f"bulk-{i}" for i in range(40)]
    assert len({r.id for r in results if not isinstance(r, YottaError)}) == 40
    assert len(sim.pods()) == 40
    assert sim.request_counts[POST] == 40


async def test_create_many_puts_each_failure_in_its_place(sim: Simulator, client: YottaClient) -> None:
    # Every third create fails for good (500 every time): its error takes its slot.
    sim.faults = FaultPlan({POST: FaultRule(error_500=1.0)})
    client._session.max_retries = 0
    results = await client.pods.create_many([req(i) for i in range(6)], concurrency=3)
    assert all(isinstance(r, ServerError) for r in results)
    sim.faults = FaultPlan()
    mixed = await client.pods.create_many([req(0), req(1)])
    assert [getattr(r, "name", None) for r in mixed] == ["bulk-0", "bulk-1"]


async def test_create_many_without_return_exceptions_stops_starting_and_raises(
    sim: Simulator, client: YottaClient
) -> None:
    sim.faults = FaultPlan({POST: FaultRule(error_500=1.0)})
    client._session.max_retries = 0
    with pytest.raises(ServerError):
        await client.pods.create_many([req(i) for i in range(30)], concurrency=2,
                                      return_exceptions=False)
    assert sim.request_counts[POST] <= 2  # the two workers' first creates, nothing after


async def test_create_many_names_created_pods_when_it_raises(sim: Simulator, client: YottaClient) -> None:
    sim.faults = FaultPlan({POST: FaultRule(error_500=1.0, limit=1)})
    client._session.max_retries = 0
    client.pods.reconcile_settle = 0
    bad_first = [req(0), req(1)]
    # concurrency 1: the first create fails after reconciliation gives up, nothing else starts
    with pytest.raises(ServerError) as info:
        await client.pods.create_many(bad_first, concurrency=1, return_exceptions=False)
    assert sim.pods() == []
    assert not any("were created" in n for n in getattr(info.value, "__notes__", []))


async def test_create_many_validates_every_request_before_sending(
    sim: Simulator, client: YottaClient
) -> None:
    bad = req(1)
    bad.gpu_count = 3
    with pytest.raises(ValidationError) as info:
        await client.pods.create_many([req(0), bad, req(2)])
    assert info.value.field == "requests[1].gpu_count"
    with pytest.raises(ValidationError) as info:
        await client.pods.create_many([req(0), "nope"])  # type: ignore[list-item]
    assert info.value.field == "requests[1]"
    with pytest.raises(ValidationError) as info:
        await client.pods.create_many([req(0)], concurrency=0)
    assert info.value.field == "concurrency"
    assert sim.total_requests == 0


async def test_each_create_in_a_batch_carries_its_own_token(sim: Simulator, client: YottaClient) -> None:
    results = await client.pods.create_many([req(i) for i in range(10)])
    tokens = {r.env(TOKEN_ENV) for r in results if not isinstance(r, YottaError)}
    assert len(tokens) == 10 and None not in tokens


async def test_delete_pause_resume_many_return_none_or_the_error_per_id(
    sim: Simulator, client: YottaClient
) -> None:
    running = sim.add_pods(4)
    paused = sim.add_pods(2, status=PodStatus.PAUSED)
    missing = 4242
    assert await client.pods.pause_many(running[:2]) == [None, None]
    results = await client.pods.resume_many([paused[0], running[2], paused[1]])
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], InvalidStateError)
    deleted = await client.pods.delete_many([running[3], missing, paused[0]], concurrency=2)
    assert deleted[0] is None and deleted[2] is None
    assert isinstance(deleted[1], PodNotFoundError)
    # deleted: TERMINATING, or already TERMINATED on a loaded machine (a 1,000x real-time sim)
    assert sim.status(running[3]) in (PodStatus.TERMINATING, PodStatus.TERMINATED)
    with pytest.raises(PodNotFoundError):
        await client.pods.delete_many([missing], return_exceptions=False)
    with pytest.raises(ValidationError) as info:
        await client.pods.delete_many([running[0], "x"])
    assert info.value.field == "ids[1]"
    with pytest.raises(ValidationError):
        await client.pods.delete_many(running[0])  # type: ignore[arg-type]


@pytest.mark.parametrize(("client_cap", "bulk_cap"), [(5, 64), (64, 3)])
async def test_concurrency_limit_is_respected(sim: Simulator, client_cap: int, bulk_cap: int) -> None:
    # 2 ms of server latency per create makes the requests overlap.
    sim.faults = FaultPlan({POST: FaultRule(latency=1.0, latency_seconds=0.002)})
    async with fast_client(sim, max_concurrency=client_cap) as client:
        results = await client.pods.create_many([req(i) for i in range(60)], concurrency=bulk_cap)
    assert not [r for r in results if isinstance(r, YottaError)]
    assert sim.max_concurrent_requests == min(client_cap, bulk_cap)


class OverloadPlan(FaultPlan):
    """A server that answers 429 whenever more than ``capacity`` requests are in flight."""

    def __init__(self, sim: Simulator, capacity: int, retry_after: float) -> None:
        super().__init__({"*": FaultRule(retry_after=retry_after)})
        self.sim = sim
        self.capacity = capacity

    def before(self, route: str) -> tuple[Fault | None, float]:
        if self.sim.in_flight > self.capacity:
            self.injected["429"] += 1
            return "429", 0.0
        return None, 0.002


async def test_429s_shrink_the_in_flight_cap_instead_of_stampeding(sim: Simulator) -> None:
    plan = OverloadPlan(sim, capacity=4, retry_after=0.01)
    sim.faults = plan
    async with fast_client(sim, max_concurrency=32, max_retries=50) as client:
        results = await client.pods.create_many([req(i) for i in range(150)], concurrency=150)
        window = client._session._capacity().total_tokens
    assert not [r for r in results if isinstance(r, YottaError)]
    assert len(sim.pods()) == 150  # 429s never create, so nothing was duplicated
    assert window < 32
    # Without adaptation each cooldown ends with ~28 of 32 requests refused again; with it,
    # the refusals are a small fraction of the work.
    assert plan.injected["429"] < 150
