"""Single-pod waiters against the simulator, in simulated time."""

from __future__ import annotations

import asyncio

import pytest

from yotta_async import (
    PodFailedError,
    PodNotFoundError,
    PodStatus,
    ValidationError,
    WaitTimeoutError,
)
from yotta_async.testing import FaultPlan
from yotta_async.waiting import DEFAULT_WAIT_BACKOFF

from ._waitkit import changed_at, sdk_tasks, sim_client

S = PodStatus
FAILS = "yotta/always-fails"


async def test_wait_until_running_reports_each_change_in_order() -> None:
    async with sim_client(seed=3) as (sim, client, clock):
        [pid] = sim.add_pods(1, status=None)
        seen: list[tuple[S | None, S, float]] = []

        async def hook(previous: S | None, current: S) -> None:
            seen.append((previous, current, clock.now()))

        pod = await client.pods.wait_until_running(pid, on_change=hook)
        assert pod.id == pid and pod.status is S.RUNNING
        assert [(a, b) for a, b, _ in seen] == [
            (None, S.PENDING),
            (S.PENDING, S.INITIALIZING),
            (S.INITIALIZING, S.RUNNING),
        ]
        ready = changed_at(sim, pid, S.RUNNING)
        assert ready <= seen[-1][2] <= ready + DEFAULT_WAIT_BACKOFF.maximum
        assert sim.request_counts["GET /v2/pods/{id}"] >= 3


async def test_failed_pod_is_heard_at_the_next_poll_not_at_the_timeout() -> None:
    async with sim_client(seed=4) as (sim, client, clock):
        [pid] = sim.add_pods(1, status=None, image=FAILS)
        with pytest.raises(PodFailedError) as info:
            await client.pods.wait_until_running(pid, timeout=600)
        err = info.value
        assert err.pod is not None and err.pod.status is S.FAILED and err.pod_id == pid
        assert err.history[-1] is S.FAILED and err.polls >= 2
        failed = changed_at(sim, pid, S.FAILED)
        assert failed <= clock.now() <= failed + DEFAULT_WAIT_BACKOFF.maximum
        assert err.elapsed is not None and err.elapsed < 100  # far from the 600 s timeout


async def test_timeout_carries_the_last_snapshot() -> None:
    async with sim_client(seed=5) as (sim, client, clock):
        [pid] = sim.add_pods(1, status=None)
        with pytest.raises(WaitTimeoutError) as info:
            await client.pods.wait_until_running(pid, timeout=12)
        err = info.value
        assert isinstance(err, TimeoutError)
        assert err.pod is not None and err.pod.id == pid
        assert err.pod.status in (S.PENDING, S.INITIALIZING)
        assert err.elapsed == pytest.approx(12) and clock.now() == pytest.approx(12)
        assert err.polls >= 2 and err.history[0] is S.PENDING
        assert sim.status(pid) is not S.RUNNING


async def test_pod_deleted_mid_wait_fails_fast() -> None:
    async with sim_client(seed=6) as (sim, client, _):
        [pid] = sim.add_pods(1, status=None)

        async def delete_when_initializing(previous: S | None, current: S) -> None:
            if current is S.INITIALIZING:
                await client.pods.delete(pid)

        with pytest.raises(PodFailedError) as info:
            await client.pods.wait_until_running(pid, on_change=delete_when_initializing)
        history = info.value.history
        assert history[:2] == [S.PENDING, S.INITIALIZING] and len(history) == 3
        assert history[2] in (S.TERMINATING, S.TERMINATED)  # the next poll, whichever it saw
        terminated = await client.pods.wait_until_terminated(pid)
        assert terminated.status is S.TERMINATED and terminated.id == pid


async def test_missing_pods_raise_not_found_and_count_as_terminated() -> None:
    async with sim_client(seed=7) as (sim, client, clock):
        with pytest.raises(PodNotFoundError) as info:
            await client.pods.wait_until_running(424242)
        assert info.value.pod is None and info.value.polls == 1 and info.value.code == 13000
        [pid] = sim.add_pods(1, status=S.TERMINATED)
        clock.advance(3600)  # past the retention: the pod is gone
        pod = await client.pods.wait_until_terminated(pid)
        assert pod.id == pid and pod.status is S.TERMINATED


async def test_pause_and_resume_round_trip() -> None:
    async with sim_client(seed=8) as (sim, client, _):
        [pid] = sim.add_pods(1, status=S.RUNNING)
        await client.pods.pause(pid)
        assert (await client.pods.wait_until_paused(pid)).status is S.PAUSED
        await client.pods.resume(pid)
        assert (await client.pods.wait_until_running(pid)).status is S.RUNNING


async def test_transient_faults_while_polling_do_not_end_the_wait() -> None:
    plan = FaultPlan.everywhere(error_500=0.2, error_502=0.1, rate_limit=0.1, reset=0.1, seed=11)
    async with sim_client(seed=9, faults=plan) as (sim, client, _):
        [pid] = sim.add_pods(1, status=None)
        pod = await client.pods.wait_until_running(pid, timeout=600)
        assert pod.status is S.RUNNING
        assert sum(plan.injected.values()) >= 3  # faults were really injected


async def test_cancellation_propagates_and_leaves_nothing_running() -> None:
    async with sim_client(seed=10) as (sim, client, _):
        ids = sim.add_pods(3, status=None)
        started = asyncio.Event()

        def hook(previous: S | None, current: S) -> None:
            started.set()

        tasks = [asyncio.create_task(client.pods.wait_until_running(i, on_change=hook)) for i in ids]
        await started.wait()
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        assert sdk_tasks() == [] and not client.pods.waits.watcher.running


async def test_concurrent_single_waits_share_the_watcher() -> None:
    async with sim_client(seed=12) as (sim, client, _):
        ids = sim.add_pods(200, status=None)
        pods = await asyncio.gather(*(client.pods.wait_until_running(i) for i in ids))
        assert [p.id for p in pods] == ids and {p.status for p in pods} == {S.RUNNING}
        # One waiter polls on its own; the other 199 ride on the shared list.
        assert sim.request_counts["GET /v2/pods/{id}"] < 40
        assert sim.request_counts["GET /v2/pods"] < 100
        assert not client.pods.waits.watcher.running


async def test_bad_arguments_are_rejected_before_any_request() -> None:
    async with sim_client() as (sim, client, _):
        for call in (
            client.pods.wait_until_running("nope"),
            client.pods.wait_until_running(1, timeout=0),
            client.pods.wait_until_paused(1, backoff=3),  # type: ignore[arg-type]
            client.pods.wait_all([1], until="INITIALIZING"),
            client.pods.wait_all(7),  # type: ignore[call-overload]
        ):
            with pytest.raises(ValidationError):
                await call
        assert sim.total_requests == 0
