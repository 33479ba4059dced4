"""Error messages that name their cause (issue 17, item 10), against the simulator."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from yotta_async import (
    AuthenticationError,
    ConfigurationError,
    InvalidStateError,
    PodNotFoundError,
    PodStatus,
    YottaClient,
)
from yotta_async.testing import Simulator

from ._waitkit import sim_client


async def test_invalid_state_names_the_action_and_the_last_known_status() -> None:
    async with sim_client() as (sim, client, _):
        [pid] = sim.add_pods(1, status="PAUSED")
        seen = await client.pods.get(pid)
        assert seen.status is PodStatus.PAUSED
        with pytest.raises(InvalidStateError) as info:
            await client.pods.pause(pid)
    text = str(info.value)
    assert f"cannot pause pod {pid}" in text
    assert "last known status PAUSED" in text
    assert info.value.code == 12001  # the server's own answer is kept
    assert "resource status invalid" in text.lower()


async def test_invalid_state_without_a_known_status_still_names_the_action() -> None:
    async with sim_client() as (sim, client, _):
        [pid] = sim.add_pods(1, status="RUNNING")
        with pytest.raises(InvalidStateError) as info:
            await client.pods.resume(pid)
    assert f"cannot resume pod {pid}" in str(info.value)
    assert "last known status" not in str(info.value)


@pytest.mark.parametrize("shared", [False, True], ids=["single", "shared-watcher"])
async def test_a_waited_id_that_never_existed_is_not_found_not_disappeared(shared: bool) -> None:
    async with sim_client() as (_, client, _clock):
        if shared:
            with pytest.raises(PodNotFoundError) as info:
                await client.pods.wait_all([424242], timeout=60)
        else:
            with pytest.raises(PodNotFoundError) as info:
                await client.pods.wait_until_running(424242, timeout=60)
    assert "pod 424242 was not found" in str(info.value)
    assert "disappeared" not in str(info.value)


async def test_a_pod_that_was_seen_and_then_went_away_disappeared() -> None:
    async with sim_client() as (sim, client, _):
        [pid] = sim.add_pods(1, status="RUNNING")
        polled = asyncio.Event()
        waiting = asyncio.ensure_future(
            client.pods.wait_until_paused(pid, timeout=3600, on_change=lambda *_: polled.set())
        )
        await polled.wait()
        gone = sim.store.get(pid)
        assert gone is not None
        gone.gone_at = sim.store.now()  # gone without a trace, as after retention
        with pytest.raises(PodNotFoundError) as info:
            await waiting
    assert f"pod {pid} disappeared" in str(info.value)


@pytest.mark.parametrize("suffix", ["/v2", "/v2/", "/V2"])
async def test_base_url_ending_in_v2_is_normalised(sim: Simulator, suffix: str) -> None:
    async with YottaClient(sim.api_key, sim.base_url + suffix) as client:
        assert client.base_url == sim.base_url
        assert await client.pods.list() == []


async def test_a_401_says_where_the_key_comes_from(sim: Simulator) -> None:
    async with YottaClient("wrong", sim.base_url) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.pods.list()
    text = str(info.value)
    assert "api_key" in text and "YOTTA_API_KEY" in text and "profile" in text
    assert "wrong" not in text


async def _closed_while_waiting(shared: bool) -> str:
    async with sim_client() as (sim, client, _):
        [pid] = sim.add_pods(1, status="PAUSED")
        if shared:
            waiting = asyncio.ensure_future(client.pods.wait_all([pid], timeout=3600))
        else:
            waiting = asyncio.ensure_future(client.pods.wait_until_running(pid, timeout=3600))
        with anyio.fail_after(10):
            while sim.total_requests < 2:  # noqa: ASYNC110 - polling the server's counter
                await asyncio.sleep(0)
        await client.aclose()
        with pytest.raises(ConfigurationError) as info:
            await waiting
    return str(info.value)


async def test_waiters_pending_at_close_get_one_message() -> None:
    single = await _closed_while_waiting(shared=False)
    shared = await _closed_while_waiting(shared=True)
    assert single == shared
    assert "closed" in single and "create a new YottaClient" in single
