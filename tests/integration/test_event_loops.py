"""A client used across event loops (module level, several ``asyncio.run``) rebinds or says why."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from collections.abc import Iterator

import aiohttp
import pytest

from yotta_async import ConfigurationError, PodStatus, YottaClient
from yotta_async.testing import Simulator


class ThreadedSim:
    """A simulator serving from its own event loop in a thread, so it outlives each asyncio.run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sim = Simulator(time_scale=0.001)
        self.call(self.sim.start())

    def call(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)  # type: ignore[arg-type]

    def close(self) -> None:
        self.call(self.sim.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def threaded() -> Iterator[ThreadedSim]:
    server = ThreadedSim()
    try:
        yield server
    finally:
        server.close()


async def _use(client: YottaClient, sim: Simulator) -> PodStatus:
    pod = await client.pods.create(name="loop", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)
    pod = await client.pods.wait_until_running(pod.id, timeout=60)
    [pod] = await client.pods.wait_all([pod.id], timeout=60)  # the shared watcher, too
    await client.pods.delete(pod.id)
    return pod.status


def _run_twice_then_close(client: YottaClient, sim: Simulator) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert asyncio.run(_use(client, sim)) is PodStatus.RUNNING
        assert asyncio.run(_use(client, sim)) is PodStatus.RUNNING
        asyncio.run(client.aclose())
        gc.collect()
    return [w for w in seen if issubclass(w.category, ResourceWarning)]


def test_a_module_level_client_works_in_two_asyncio_runs(threaded: ThreadedSim) -> None:
    sim = threaded.sim
    client = YottaClient(sim.api_key, sim.base_url)  # no event loop exists yet
    assert _run_twice_then_close(client, sim) == []


def test_a_client_made_in_one_asyncio_run_works_in_the_next(threaded: ThreadedSim) -> None:
    sim = threaded.sim

    async def make() -> YottaClient:
        client = YottaClient(sim.api_key, sim.base_url)
        assert await client.pods.list() == []
        return client

    client = asyncio.run(make())
    assert _run_twice_then_close(client, sim) == []


def test_a_client_whose_first_loop_still_runs_refuses_another(threaded: ThreadedSim) -> None:
    sim = threaded.sim
    client = YottaClient(sim.api_key, sim.base_url)
    threaded.call(client.pods.list())  # bound to the simulator's loop, which keeps running

    async def elsewhere() -> None:
        with pytest.raises(ConfigurationError) as info:
            await client.pods.list()
        assert "event loop" in str(info.value) and "YottaClient" in str(info.value)

    asyncio.run(elsewhere())
    threaded.call(client.aclose())


def test_a_lent_session_used_on_another_loop_is_a_configuration_error(threaded: ThreadedSim) -> None:
    sim = threaded.sim

    async def first() -> tuple[aiohttp.ClientSession, YottaClient]:
        session = aiohttp.ClientSession()
        client = YottaClient(sim.api_key, sim.base_url, session=session)
        await client.pods.list()
        return session, client

    session, client = threaded.call(first())  # type: ignore[misc]

    async def elsewhere() -> None:
        with pytest.raises(ConfigurationError) as info:
            await client.pods.list()
        assert "session=" in str(info.value) and "event loop" in str(info.value)

    asyncio.run(elsewhere())
    threaded.call(client.aclose())
    threaded.call(session.close())
