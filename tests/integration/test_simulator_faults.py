"""Each kind of injected fault, over raw loopback HTTP; faults never corrupt state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import msgspec
import pytest

from yotta_async.testing import FaultPlan, FaultRule, ManualClock, Simulator

BODY = {"name": "n", "image": "img", "gpuType": "NVIDIA_H100_80G", "gpuCount": 1}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(clock=ManualClock()) as simulator:
        yield simulator


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[aiohttp.ClientSession]:
    # A fresh connection per request, so aiohttp's own retry of a reset keep-alive
    # connection does not blur the counts.
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(
        sim.base_url, headers={"X-Api-Key": sim.api_key}, connector=connector
    ) as session:
        yield session


async def test_500_has_an_envelope_with_10002(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.faults = FaultPlan({"GET /v2/pods": FaultRule(error_500=1.0)})
    async with http.get("/v2/pods") as r:
        assert r.status == 500
        assert msgspec.json.decode(await r.read()) == {
            "code": 10002,
            "message": "system error",
            "data": None,
        }
    async with http.post("/v2/pods", json=BODY) as r:  # other routes are untouched
        assert r.status == 200
    assert sim.faults.injected == {"500": 1}


async def test_502_is_an_html_page(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.faults = FaultPlan.everywhere(error_502=1.0)
    async with http.get("/v2/pods") as r:
        assert r.status == 502
        assert r.content_type == "text/html"
        assert b"502 Bad Gateway" in await r.read()


async def test_429_carries_retry_after(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.faults = FaultPlan.everywhere(rate_limit=1.0, retry_after=7)
    async with http.get("/v2/pods/1") as r:
        assert r.status == 429
        assert r.headers["Retry-After"] == "7"
        body = msgspec.json.decode(await r.read())
        assert body["code"] != 10000 and body["data"] is None


async def test_last_limited_429_keeps_its_retry_after(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    sim.faults = FaultPlan({"*": FaultRule(rate_limit=1.0, retry_after=7, limit=1)})
    async with http.get("/v2/pods/1") as r:
        assert r.status == 429
        assert r.headers["Retry-After"] == "7"


async def test_reset_drops_the_connection_and_creates_nothing(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    sim.faults = FaultPlan({"POST /v2/pods": FaultRule(reset=1.0)})
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.post("/v2/pods", json=BODY) as r:
            await r.read()
    assert sim.pods() == []
    assert sim.request_counts["POST /v2/pods"] == 1


async def test_latency_delays_the_reply_past_a_client_timeout(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    sim.faults = FaultPlan.everywhere(latency=1.0, latency_seconds=0.3)
    with pytest.raises(asyncio.TimeoutError):
        async with http.get("/v2/pods", timeout=aiohttp.ClientTimeout(total=0.05)) as r:
            await r.read()
    sim.faults.rules["*"].latency_seconds = 0.01
    async with http.get("/v2/pods") as r:
        assert r.status == 200


async def test_created_but_reply_lost_by_reset(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.faults = FaultPlan({"POST /v2/pods": FaultRule(lost_reset=1.0)})
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.post("/v2/pods", json=BODY) as r:
            await r.read()
    assert len(sim.pods()) == 1 and sim.live_pods() == 1


async def test_created_but_reply_lost_as_500(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.faults = FaultPlan({"POST /v2/pods": FaultRule(lost_500=1.0)})
    async with http.post("/v2/pods", json=BODY) as r:
        assert r.status == 500
        assert (await r.json())["code"] == 10002
    assert len(sim.pods()) == 1
    # A rejected create is not "created": its reply is never lost.
    async with http.post("/v2/pods", json={**BODY, "gpuCount": 3}) as r:
        assert (r.status, (await r.json())["code"]) == (200, 10001)
    assert len(sim.pods()) == 1


async def test_limit_makes_fail_then_succeed_exact(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.faults = FaultPlan({"*": FaultRule(error_500=1.0, limit=2)})
    statuses = []
    for _ in range(3):
        async with http.get("/v2/pods") as r:
            statuses.append(r.status)
    assert statuses == [500, 500, 200]


async def test_exempt_routes_and_seeded_probabilities(http: aiohttp.ClientSession) -> None:
    async def run(seed: int) -> list[int]:
        plan = FaultPlan.everywhere(seed=seed, error_500=0.5, exempt={"GET /v2/pods/{id}"})
        async with Simulator(faults=plan) as sim:
            out = []
            async with aiohttp.ClientSession(headers={"X-Api-Key": sim.api_key}) as s:
                for _ in range(30):
                    async with s.get(sim.base_url + "/v2/pods") as r:
                        out.append(r.status)
                for _ in range(10):
                    async with s.get(sim.base_url + "/v2/pods/1") as r:
                        assert r.status == 200
            return out

    first = await run(5)
    assert first == await run(5)
    assert 5 < first.count(500) < 25
