"""Regression tests for defects found in review, against the simulator over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from yotta_async import (
    Backoff,
    ConfigurationError,
    PodCreateRequest,
    YottaClient,
)
from yotta_async.resources._waiting import WatchPolicy
from yotta_async.testing import Simulator

REQ = PodCreateRequest(name="rv", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(time_scale=0.001) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[YottaClient]:
    async with YottaClient(sim.api_key, sim.base_url, backoff=Backoff(initial=0.001, maximum=0.004)) as c:
        c.pods.watch_policy = WatchPolicy(floor=0.005, maximum=0.02)
        c.pods.reconcile_settle = 0.01
        yield c


async def test_request_queued_when_the_client_closes_raises_a_yotta_error(sim: Simulator) -> None:
    # A request waiting for its turn (here: requests_per_second pacing) when the client is
    # closed must fail as a YottaError, not as aiohttp's bare "Session is closed" RuntimeError.
    paced = anyio.Event()
    release = anyio.Event()

    async def sleep(seconds: float) -> None:
        paced.set()
        await release.wait()

    client = YottaClient(sim.api_key, sim.base_url, requests_per_second=0.5, sleep=sleep)
    await client.pods.list()  # takes the first slot; the next request must wait ~2 s
    outcome: list[BaseException] = []

    async def second() -> None:
        try:
            await client.pods.list()
        except BaseException as exc:  # the type is what this test checks
            outcome.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(second)
        await paced.wait()
        await client.aclose()
        release.set()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConfigurationError), repr(outcome[0])
    assert sim.request_counts["GET /v2/pods"] == 1
