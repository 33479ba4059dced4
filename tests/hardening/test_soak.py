"""Soak: 2,000 pods through a full lifecycle under faults; nothing lost, duplicated or leaked.

Each round drives every pod create -> RUNNING -> pause -> PAUSED -> resume -> RUNNING ->
delete -> TERMINATED with the SDK's bulk helpers and shared waiters, against the simulator
with a fault plan on (5xx, 502 pages, 429s, resets and lost replies) and a manual clock that
the client's own sleeps advance, so simulated minutes pass in real milliseconds.

A warm-up round fills caches and pools first; then tracemalloc follows a measured round, and
whatever the client side still holds afterwards is memory the SDK kept. (RSS is printed, not
asserted: allocator fragmentation and tracemalloc's own tables make it too coarse to catch a
per-pod leak of a few MiB, which tracemalloc sees exactly.)
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
import tracemalloc
from collections import Counter

import psutil  # type: ignore[import-untyped]
import pytest

from yotta_async import (
    Backoff,
    InvalidStateError,
    PodCreateRequest,
    PodStatus,
    WatchPolicy,
    YottaClient,
    YottaError,
)
from yotta_async._token import TOKEN_ENV
from yotta_async.testing import FaultPlan, FaultRule, ManualClock, Simulator

PODS = 2000
WARM_UP_PODS = 2000
CONCURRENCY = 32
# What a measured round may leave behind on the client side: far less than one small object per pod
# would cost (a leaked Pod snapshot alone is > 1 KiB; 2,000 of them would be > 2 MiB).
RETAINED_LIMIT = 1024 * 1024

# The simulator shares the process; what it keeps is not the SDK's. (aiohttp's server keeps
# each keep-alive connection's last response alive until the next request: ~1 MiB per idle
# connection for a 2,000-pod listing, bounded by the connection count.)
CLIENT_SIDE = [
    tracemalloc.Filter(False, "*/yotta_async/testing/*"),
    tracemalloc.Filter(False, "*/aiohttp/web*"),
    tracemalloc.Filter(False, tracemalloc.__file__),
]

FAULTS = FaultRule(
    error_500=0.01,
    error_502=0.01,
    rate_limit=0.005,
    retry_after=2.0,
    reset=0.005,
    lost_500=0.005,
    lost_reset=0.005,
)


def request(round_no: int, i: int) -> PodCreateRequest:
    return PodCreateRequest.build(
        name=f"soak-{round_no}-{i}",
        image="nvidia/cuda:12.1.0-base-ubuntu22.04",
        gpu_type="NVIDIA_H100_80G",
        gpu_count=1,
        env={"ROUND": str(round_no)},
        expose=[8888],
    )


async def act(
    name: str, action: object, ids: list[int], until: PodStatus, client: YottaClient
) -> Counter[str]:
    """Run a bulk action until every pod accepted it, then wait for ``until``.

    A reply lost after the server acted makes the retried action meet a pod that is
    already on its way (code 12001): that counts as accepted, and the wait confirms it.
    """
    tally: Counter[str] = Counter()
    pending = ids
    for _ in range(5):
        results = await action(pending, concurrency=CONCURRENCY)  # type: ignore[operator]
        tally.update(type(r).__name__ for r in results if r is not None)
        pending = [
            i
            for i, r in zip(pending, results, strict=True)
            if r is not None and not isinstance(r, InvalidStateError)
        ]
        if not pending:
            break
    assert not pending, f"{name}: {len(pending)} pods never accepted it"
    settled = await client.pods.wait_all(ids, until=until, timeout=36_000)
    assert [p.status for p in settled] == [until] * len(ids), f"{name}: {Counter(p.status for p in settled)}"
    return tally


async def one_round(sim: Simulator, client: YottaClient, round_no: int, n: int) -> Counter[str]:
    tally: Counter[str] = Counter()
    results = await client.pods.create_many([request(round_no, i) for i in range(n)], concurrency=CONCURRENCY)
    failures = [r for r in results if isinstance(r, YottaError)]
    assert not failures, Counter(type(f).__name__ for f in failures)
    ids = [r.id for r in results if not isinstance(r, YottaError)]
    running = await client.pods.wait_all(ids, until=PodStatus.RUNNING, timeout=36_000)
    assert all(p.status is PodStatus.RUNNING for p in running)

    # exactly once: one pod per create call, despite lost replies and reconciliation
    mine = [
        p
        for p in sim.pods()
        if dict((e["key"], e["value"]) for e in p.get("environmentVars", [])).get("ROUND") == str(round_no)
    ]
    assert len(mine) == n and {p["id"] for p in mine} == set(ids)
    tokens = {next(e["value"] for e in p["environmentVars"] if e["key"] == TOKEN_ENV) for p in mine}
    assert len(tokens) == n

    tally += await act("pause", client.pods.pause_many, ids, PodStatus.PAUSED, client)
    tally += await act("resume", client.pods.resume_many, ids, PodStatus.RUNNING, client)
    tally += await act("delete", client.pods.delete_many, ids, PodStatus.TERMINATED, client)
    statuses = [sim.status(i) for i in ids]
    assert all(s in (PodStatus.TERMINATED, None) for s in statuses)  # None: gone after retention
    assert sim.live_pods() == 0
    return tally


def forget_old_pods(sim: Simulator, clock: ManualClock) -> None:
    """Move past the simulator's retention so it drops the TERMINATED pods it still shows."""
    clock.advance(3600)
    assert len(sim.store) == 0


def settled_rss(sim: Simulator, clock: ManualClock, process: psutil.Process) -> int:
    forget_old_pods(sim, clock)
    gc.collect()
    return int(process.memory_info().rss)


def other_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


@pytest.mark.soak
@pytest.mark.timeout(300)
async def test_soak_two_thousand_pods_under_faults() -> None:
    started = time.monotonic()
    process = psutil.Process(os.getpid())
    clock = ManualClock()
    faults = FaultPlan({"*": FAULTS}, seed=11)
    async with Simulator(clock=clock, faults=faults, seed=5) as sim:
        client = YottaClient(
            sim.api_key,
            sim.base_url,
            clock=clock.now,
            sleep=clock.sleep,
            backoff=Backoff(0.5, 8.0),
            max_retries=6,
            max_retry_after=5.0,
        )
        async with client:
            client.pods.watch_policy = WatchPolicy(floor=2.0, maximum=10.0)
            tally = await one_round(sim, client, 0, WARM_UP_PODS)
            rss_before = settled_rss(sim, clock, process)

            tracemalloc.start()
            tally += await one_round(sim, client, 1, PODS)
            forget_old_pods(sim, clock)
            gc.collect()
            _, peak = tracemalloc.get_traced_memory()
            snapshot = tracemalloc.take_snapshot().filter_traces(CLIENT_SIDE)
            tracemalloc.stop()
            retained = sum(stat.size for stat in snapshot.statistics("filename"))
            rss_after = settled_rss(sim, clock, process)
            assert not client.pods.waits.watcher.running  # no waiter left: the poller stopped
    for _ in range(20):
        await asyncio.sleep(0)
    assert not other_tasks(), other_tasks()

    top = "\n".join(str(s) for s in snapshot.statistics("lineno")[:15])
    assert retained < RETAINED_LIMIT, f"{retained} bytes retained after a {PODS}-pod round:\n{top}"
    injected = sum(faults.injected.values())
    assert injected > 100, faults.injected  # the fault plan really was on
    print(
        f"\nsoak: {PODS} pods/round, {time.monotonic() - started:.1f}s, faults {dict(faults.injected)}, "
        f"errors absorbed {dict(tally)}, retained {retained} B (peak {peak / 2**20:.1f} MiB), "
        f"rss {rss_before / 2**20:.0f} -> {rss_after / 2**20:.0f} MiB (tracemalloc's own tables included)"
    )
