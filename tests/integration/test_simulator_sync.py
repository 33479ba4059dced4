"""The simulator's hooks for tests: request arrival events, idleness, creates per token."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from yotta_async import TOKEN_ENV, YottaClient
from yotta_async.models import EnvVar
from yotta_async.testing import FaultPlan, FaultRule, Simulator

REQ = {"name": "n", "image": "img", "gpu_type": "NVIDIA_H100_80G", "gpu_count": 1}


async def test_wait_for_requests_wakes_on_the_counted_arrival() -> None:
    async with Simulator() as sim, YottaClient(sim.api_key, sim.base_url) as client:
        lists = asyncio.ensure_future(sim.wait_for_requests(2, "GET /v2/pods"))
        anything = asyncio.ensure_future(sim.wait_for_requests(1))
        await client.pods.list()
        await anything  # any route: the first list did it
        assert not lists.done()
        await client.pods.create(**REQ)
        await asyncio.sleep(0)
        assert not lists.done()  # a create is not a list
        await client.pods.list()
        await lists
        assert sim.request_counts["GET /v2/pods"] == 2
        await sim.wait_for_requests(3)  # already reached: returns at once


async def test_an_abandoned_wait_for_requests_unregisters() -> None:
    async with Simulator() as sim:
        waiting = asyncio.ensure_future(sim.wait_for_requests(5))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert sim._state.waiters == []


@pytest.mark.parametrize("count", [0, -1, 1.5, True])
async def test_wait_for_requests_refuses_a_bad_count(count: object) -> None:
    async with Simulator() as sim:
        with pytest.raises(ValueError, match="count"):
            await sim.wait_for_requests(count)  # type: ignore[arg-type]


async def test_wait_idle_returns_when_the_last_request_ends() -> None:
    plan = FaultPlan({"GET /v2/pods": FaultRule(latency=1.0, latency_seconds=0.05, limit=1)})
    async with Simulator(faults=plan) as sim, aiohttp.ClientSession() as http:
        await sim.wait_idle()  # nothing in flight: at once
        call = asyncio.ensure_future(
            http.get(sim.base_url + "/v2/pods", headers={"X-Api-Key": sim.api_key})
        )
        await sim.wait_for_requests(1)
        assert sim.in_flight == 1
        await sim.wait_idle()
        assert sim.in_flight == 0
        async with await call as response:
            assert response.status == 200


async def test_creates_by_token_counts_every_create_ever() -> None:
    async with Simulator(time_scale=0.001) as sim, YottaClient(sim.api_key, sim.base_url) as client:
        pod = await client.pods.create(**REQ, client_token="tok-1")
        await client.pods.create(**REQ, client_token=False)  # no token: not counted
        sim.add_pods(1, environment_vars=[EnvVar(key=TOKEN_ENV, value="tok-1")])  # a duplicate
        await client.pods.delete(pod.id)
        assert sim.creates_by_token() == {"tok-1": 2}
        counts = sim.creates_by_token()
        counts["tok-1"] = 0  # a copy: the simulator's own count is untouched
        assert sim.creates_by_token() == {"tok-1": 2}
