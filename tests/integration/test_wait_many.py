"""``wait_all`` and ``as_completed`` over many pods, and what they cost in requests."""

from __future__ import annotations

import asyncio

import pytest

from yotta_async import PodFailedError, PodStatus, WaitTimeoutError, WatchPolicy, YottaError
from yotta_async.models import Pod

from ._waitkit import changed_at, sdk_tasks, sim_client

S = PodStatus
FAILS = "yotta/always-fails"
MAX_INTERVAL = WatchPolicy().maximum


async def test_wait_all_over_1000_pods_with_mixed_outcomes() -> None:
    async with sim_client(seed=21, failure_rate=0.05) as (sim, client, _clock):
        ids = sim.add_pods(950, status=None) + sim.add_pods(50, status=None, image=FAILS)
        results = await client.pods.wait_all(ids, return_exceptions=True, timeout=900)
        assert len(results) == 1000
        failed = {i for i in ids if sim.status(i) is S.FAILED}
        assert len(failed) >= 50
        for pid, result in zip(ids, results, strict=True):  # input order
            if pid in failed:
                assert isinstance(result, PodFailedError) and result.pod_id == pid
                assert result.pod is not None and result.pod.status is S.FAILED
            else:
                assert isinstance(result, Pod) and result.id == pid and result.status is S.RUNNING
        assert sim.request_counts["GET /v2/pods/{id}"] == 0
        assert not client.pods.waits.watcher.running and sdk_tasks() == []


async def test_without_return_exceptions_the_first_failure_is_raised_at_once() -> None:
    async with sim_client(seed=22) as (sim, client, clock):
        ids = sim.add_pods(300, status=None)
        [doomed] = sim.add_pods(1, status=None, image=FAILS)
        with pytest.raises(PodFailedError) as info:
            await client.pods.wait_all([*ids, doomed], timeout=900)
        assert info.value.pod_id == doomed
        failed = changed_at(sim, doomed, S.FAILED)
        assert failed <= clock.now() <= failed + MAX_INTERVAL  # the next tick, not the timeout
        assert not client.pods.waits.watcher.running and sdk_tasks() == []


async def test_wait_all_timeout_names_an_unsettled_pod() -> None:
    async with sim_client(seed=23) as (sim, client, clock):
        ids = sim.add_pods(20, status=None)
        with pytest.raises(WaitTimeoutError) as info:
            await client.pods.wait_all(ids, timeout=20)
        err = info.value
        assert err.pod_id in ids and err.pod is not None and "of 20 pods unsettled" in str(err)
        assert clock.now() == pytest.approx(20, abs=1e-6)
        paused = await client.pods.wait_all(sim.add_pods(3, status=S.PAUSED), until="PAUSED")
        assert {p.status for p in paused} == {S.PAUSED}


async def test_as_completed_yields_each_pod_as_it_becomes_ready() -> None:
    async with sim_client(seed=24, failure_rate=0.1) as (sim, client, clock):
        ids = sim.add_pods(1000, status=None)
        order: list[tuple[int, float]] = []
        errors: list[YottaError] = []
        async for result in client.pods.as_completed(ids, return_exceptions=True, timeout=900):
            if isinstance(result, YottaError):
                errors.append(result)
            else:
                assert result.status is S.RUNNING
                order.append((result.id, clock.now()))
        assert len(order) + len(errors) == 1000
        assert {e.pod_id for e in errors if isinstance(e, PodFailedError)} == {
            i for i in ids if sim.status(i) is S.FAILED
        }
        for pid, heard in order:  # each heard within one interval of becoming RUNNING
            ready = changed_at(sim, pid, S.RUNNING)
            assert ready <= heard <= ready + MAX_INTERVAL
        assert order[0][1] < order[-1][1]  # delivered over time, not all at the end


async def test_as_completed_raises_the_first_failure_and_stops() -> None:
    async with sim_client(seed=25) as (sim, client, _clock):
        ids = sim.add_pods(10, status=None) + sim.add_pods(1, status=None, image=FAILS)
        got = []
        with pytest.raises(PodFailedError):
            async for pod in client.pods.as_completed(ids):
                got.append(pod)
        assert all(p.status is S.RUNNING for p in got)
        assert not client.pods.waits.watcher.running and sdk_tasks() == []


async def test_cancelling_wait_all_leaves_nothing_running() -> None:
    async with sim_client(seed=26) as (sim, client, _clock):
        ids = sim.add_pods(100, status=None)
        watcher = client.pods.waits.watcher
        task = asyncio.create_task(client.pods.wait_all(ids))
        while watcher.ticks < 2:  # noqa: ASYNC110 - waiting for the poller, not an event
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not watcher.running and sdk_tasks() == []
        pods = await client.pods.wait_all(ids)  # the client is still usable
        assert {p.status for p in pods} == {S.RUNNING}


async def test_requests_grow_with_ticks_not_with_pods() -> None:
    lists: dict[int, int] = {}
    gets: dict[int, int] = {}
    for n in (1, 100, 1000):
        async with sim_client(seed=27) as (sim, client, clock):
            ids = sim.add_pods(n, status=None)
            await client.pods.wait_all(ids, timeout=900)
            lists[n] = sim.request_counts["GET /v2/pods"]
            gets[n] = sim.request_counts["GET /v2/pods/{id}"]
            assert sim.total_requests == lists[n] + gets[n]
            assert lists[n] <= clock.now() / WatchPolicy().floor + 1
    assert lists[1000] <= 3 * lists[1]  # a small constant factor for 1000x the pods
    assert lists[100] <= 3 * lists[1]
    assert gets == {1: 0, 100: 0, 1000: 0}
    assert (lists[1000] + gets[1000]) / 1000 < 0.1  # requests per pod: near zero


async def test_empty_and_duplicate_ids() -> None:
    async with sim_client(seed=28) as (sim, client, _):
        assert await client.pods.wait_all([]) == []
        assert sim.total_requests == 0
        [pid] = sim.add_pods(1, status=None)
        pods = await client.pods.wait_all([pid, str(pid), pid])
        assert [p.id for p in pods] == [pid] * 3 and pods[0] is pods[1]


async def test_breaking_out_of_as_completed_stops_the_poller() -> None:
    async with sim_client(seed=29) as (sim, client, _):
        ids = sim.add_pods(50, status=None)
        async for pod in client.pods.as_completed(ids):
            assert pod.status is S.RUNNING
            break
        assert not client.pods.waits.watcher.running
        await client.pods.waits.watcher.wait_stopped()
        assert sdk_tasks() == []
