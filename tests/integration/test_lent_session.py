"""A lent ``aiohttp.ClientSession`` whose defaults would change the SDK's semantics does not."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from yotta_async import (
    AuthenticationError,
    Backoff,
    PodNotFoundError,
    RateLimitError,
    ServerError,
    YottaClient,
)
from yotta_async.testing import FaultPlan, FaultRule, Simulator

FAST = Backoff(initial=0.001, maximum=0.002)


@pytest.fixture
async def lent() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        yield session


async def test_401_is_typed_and_not_retried(sim: Simulator, lent: aiohttp.ClientSession) -> None:
    async with YottaClient("wrong-key", sim.base_url, session=lent, backoff=FAST) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.pods.list()
    assert info.value.http_status == 401
    assert sim.total_requests == 1


async def test_business_code_is_typed(sim: Simulator, lent: aiohttp.ClientSession) -> None:
    async with YottaClient(sim.api_key, sim.base_url, session=lent, backoff=FAST) as client:
        with pytest.raises(PodNotFoundError):
            await client.pods.get(987654)
    assert sim.total_requests == 1


async def test_429_keeps_retry_after(sim: Simulator, lent: aiohttp.ClientSession) -> None:
    sim.faults = FaultPlan({"GET /v2/pods": FaultRule(rate_limit=1.0, retry_after=7)})
    async with YottaClient(
        sim.api_key, sim.base_url, session=lent, backoff=FAST, max_retry_after=1
    ) as client:
        with pytest.raises(RateLimitError) as info:
            await client.pods.list()
    assert info.value.retry_after == 7
    assert sim.total_requests == 1  # 7 s is over max_retry_after: not retried


async def test_5xx_is_a_retried_server_error(sim: Simulator, lent: aiohttp.ClientSession) -> None:
    sim.faults = FaultPlan({"GET /v2/pods": FaultRule(error_500=1.0)})
    async with YottaClient(
        sim.api_key, sim.base_url, session=lent, backoff=FAST, max_retries=2
    ) as client:
        with pytest.raises(ServerError):
            await client.pods.list()
    assert sim.total_requests == 3


async def _serve(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def test_a_compressed_reply_is_inflated_even_with_auto_decompress_off() -> None:
    envelope = {"code": 10000, "message": "ok", "data": [{"id": 5, "status": "RUNNING"}]}
    body = gzip.compress(json.dumps(envelope).encode())

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Encoding": "gzip"},
                            content_type="application/json")

    runner = await _serve(handler)
    try:
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession(auto_decompress=False) as session, YottaClient(
            "key", f"http://127.0.0.1:{port}", session=session
        ) as client:
            pods = await client.pods.list()
    finally:
        await runner.cleanup()
    assert [p.id for p in pods] == [5]


async def test_session_middlewares_are_bypassed(sim: Simulator) -> None:
    seen: list[str] = []

    async def retry_everything(
        request: aiohttp.ClientRequest,
        handler: Callable[[aiohttp.ClientRequest], Awaitable[aiohttp.ClientResponse]],
    ) -> aiohttp.ClientResponse:
        seen.append(request.url.path)
        response = await handler(request)
        if response.status >= 400:  # the kind of retry that breaks exactly-once creates
            response = await handler(request)
        return response

    async with aiohttp.ClientSession(middlewares=(retry_everything,)) as session, YottaClient(
        "wrong-key", sim.base_url, session=session
    ) as client:
        with pytest.raises(AuthenticationError):
            await client.pods.list()
    assert seen == []
    assert sim.total_requests == 1
