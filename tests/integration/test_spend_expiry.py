"""Expiry: stamps on the pods, expiry inside a live group, and ``sweep(expired=True)``."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest

from yotta_async import (
    DEFAULT_EXPIRY_GRACE,
    EXPIRES_ENV,
    EnvVar,
    PodCreateRequest,
    PodStatus,
    ValidationError,
    YottaClient,
)
from yotta_async._expiry import ON_EXPIRE_ENV, expires_at
from yotta_async._token import GROUP_ENV, TOKEN_ENV
from yotta_async.testing import ManualClock, Simulator

S = PodStatus
REQ = PodCreateRequest(name="x", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)
HOUR = timedelta(hours=1)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    # createdAt in the real wall-clock frame, the frame expiry stamps are written in.
    async with Simulator(clock=ManualClock(), epoch_ms=round(time.time() * 1000)) as simulator:
        yield simulator


def make_client(sim: Simulator) -> YottaClient:
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    # Every wait advances the simulator's manual clock: the client's runtime is that clock.
    return YottaClient(sim.api_key, sim.base_url, sleep=clock.sleep, clock=clock.now)


def stamp_of(sim: Simulator, pod_id: int) -> int:
    pod = sim.pod(pod_id)
    assert pod is not None
    values = [v["value"] for v in pod["environmentVars"] if v["key"] == EXPIRES_ENV]
    assert len(values) == 1
    return int(values[0])


def seed(sim: Simulator, name: str, *env: tuple[str, str], status: str = "RUNNING") -> int:
    return sim.add_pods(1, name=name, status=status,
                        environment_vars=[EnvVar(key=k, value=v) for k, v in env] or None)[0]


# -- stamps ----------------------------------------------------------------------------------
async def test_create_expires_in_writes_an_absolute_unix_deadline(sim: Simulator) -> None:
    async with make_client(sim) as client:
        before = time.time()
        pod = await client.pods.create(REQ, expires_in=timedelta(hours=2))
        after = time.time()
        plain = await client.pods.create(REQ)
        with pytest.raises(ValidationError) as info:
            await client.pods.create(REQ, expires_in=0)
        assert info.value.field == "expires_in"
        stamped = PodCreateRequest(name="x", image="img", gpu_type="g", gpu_count=1,
                                   environment_vars=[EnvVar(key=EXPIRES_ENV, value="1")])
        with pytest.raises(ValidationError, match=EXPIRES_ENV):
            await client.pods.create(stamped, expires_in=60)
    assert math.ceil(before + 7200) <= stamp_of(sim, pod.id) <= math.ceil(after + 7200)
    assert expires_at(pod) == datetime.fromtimestamp(stamp_of(sim, pod.id), tz=timezone.utc)
    assert expires_at(plain) is None
    assert sim.request_counts["POST /v2/pods"] == 2  # the bad ones were never sent


# -- expiry in a live group ------------------------------------------------------------------
async def test_pods_expire_and_are_deleted_while_the_block_is_still_open(sim: Simulator) -> None:
    async with make_client(sim) as client, client.pods.group(ttl=HOUR, label="ttl-run") as group:
        before = time.time()
        pods = await group.launch(REQ, count=3, wait=False)
        ids = [p.id for p in pods]
        for pid in ids:
            assert math.ceil(before + 3600) <= stamp_of(sim, pid) <= math.ceil(time.time() + 3600)
        # Waiting advances the manual clock; the group's watcher deletes on its own.
        done = await client.pods.wait_all(ids, until=S.TERMINATED, timeout=7200)
        assert [p.status for p in done] == [S.TERMINATED] * 3
        assert sorted(group.expired) == sorted(ids)
        assert group.hourly_cost == 0  # deleted pods stop counting
        assert group.pods == []  # nor are they listed as the group's, with a stale snapshot
        for pid in ids:  # not early: the delete came an hour after the create
            pod = sim.pod(pid)
            assert pod is not None and pod["updatedAt"] - pod["createdAt"] >= 3600 * 1000
        # The group is still open and still works: a new pod gets its own full hour.
        late = await group.create(REQ)
        assert sim.status(late.id) is S.PENDING
        assert [p.id for p in group.pods] == [late.id]
    assert sim.live_pods() == 0


async def test_on_expire_pause_waits_for_running_then_pauses(sim: Simulator) -> None:
    client = make_client(sim)
    group = client.pods.group(ttl=20, on_expire="pause", on_exit="keep")
    async with client, group:
        pod = await group.create(REQ)  # RUNNING only after 34-56 s: the 20 s ttl finds it starting
        env = {v.key: v.value for v in pod.environment_vars or []}
        assert env[ON_EXPIRE_ENV] == "pause"
        paused = await client.pods.wait_all([pod.id], until=S.PAUSED, timeout=3600)
        assert paused[0].status is S.PAUSED and group.expired == [pod.id]
        assert [p.id for p in group.pods] == [pod.id]  # paused, not deleted: still the group's
        # A paused pod still pays for its storage, no longer for its GPU.
        assert group.hourly_cost < (pod.hourly_cost or 0)
    assert sim.status(pod.id) is S.PAUSED  # on_exit="keep"


async def test_a_group_without_ttl_stamps_nothing_and_expires_nothing(sim: Simulator) -> None:
    async with make_client(sim) as client, client.pods.group() as group:
        pod = await group.create(REQ)
        await client.pods.wait_until_running(pod.id)
        sim.advance(10 * 86400)
        assert (await client.pods.get(pod.id)).status is S.RUNNING
        assert group.expired == [] and expires_at(pod) is None


# -- sweep(expired=True) ---------------------------------------------------------------------
async def test_sweep_expired_takes_exactly_the_pods_whose_stamp_passed(sim: Simulator) -> None:
    now = datetime.now(timezone.utc)
    past = str(int(now.timestamp()) - 3600)
    recent = str(int(now.timestamp()) - 30)  # passed, but within the default 60 s grace
    future = str(int(now.timestamp()) + 3600)
    expired_any = seed(sim, "stranger-expired", (EXPIRES_ENV, past))  # no token: still ours to reap
    expired_group = seed(sim, "g-expired", (TOKEN_ENV, "t1"), (GROUP_ENV, "nightly"), (EXPIRES_ENV, past))
    expired_other = seed(sim, "o-expired", (TOKEN_ENV, "t2"), (GROUP_ENV, "other"), (EXPIRES_ENV, past))
    expired_pause = seed(sim, "p-expired", (EXPIRES_ENV, past), (ON_EXPIRE_ENV, "pause"))
    starting_pause = seed(sim, "p-starting", (EXPIRES_ENV, past), (ON_EXPIRE_ENV, "pause"),
                          status="PENDING")
    in_grace = seed(sim, "in-grace", (EXPIRES_ENV, recent))
    not_yet = seed(sim, "not-yet", (EXPIRES_ENV, future))
    unstamped = seed(sim, "orphan", (TOKEN_ENV, "t3"), (GROUP_ENV, "nightly"))
    garbled = seed(sim, "garbled", (EXPIRES_ENV, "soon"))
    stranger = seed(sim, "stranger")

    async with make_client(sim) as client:
        async def found(**kw: object) -> list[int]:
            result = await client.pods.sweep(expired=True, dry_run=True, now=now, **kw)  # type: ignore[arg-type]
            return sorted(p.id for p in result.found)

        everything = sorted([expired_any, expired_group, expired_other, expired_pause])
        assert await found() == everything
        assert await found(grace=0) == sorted([*everything, in_grace])
        assert await found(grace=timedelta(hours=2)) == []
        assert await found(group="nightly") == [expired_group]
        assert await found(older_than=3600) == []  # none was created an hour before `now`
        assert await found(older_than=0, group="other") == [expired_other]
        assert await found(on_expire="delete") == sorted([*everything, starting_pause])
        assert timedelta(seconds=60) >= DEFAULT_EXPIRY_GRACE

        result = await client.pods.sweep(expired=True, now=now, wait=True)
        assert sorted(p.id for p in result.found) == everything
        assert sorted(result.deleted) == sorted([expired_any, expired_group, expired_other])
        assert result.paused == [expired_pause] and result.errors == {}
    assert sim.status(expired_pause) is S.PAUSED
    for pid in (expired_any, expired_group, expired_other):
        assert sim.status(pid) in (S.TERMINATED, None)
    for pid in (starting_pause, in_grace, not_yet, unstamped, garbled, stranger):
        assert sim.status(pid) in (S.RUNNING, S.PENDING, S.INITIALIZING), pid
    assert sim.request_counts["DELETE /v2/pods/{id}"] == 3


async def test_a_crashed_groups_pods_are_reclaimed_by_the_next_sweep(sim: Simulator) -> None:
    async with make_client(sim) as client:
        group = client.pods.group(ttl=HOUR, label="crashed")
        await group.__aenter__()
        pods = await group.launch(REQ, count=4, wait=False)
        # The process dies here: no __aexit__, no watcher. Only the stamps remain.
        await group.spend.stop()
    stamps = [stamp_of(sim, p.id) for p in pods]
    async with make_client(sim) as client:
        before = datetime.fromtimestamp(min(stamps) - 1, tz=timezone.utc)
        assert (await client.pods.sweep(expired=True, grace=0, now=before)).found == []
        after = datetime.fromtimestamp(max(stamps), tz=timezone.utc)
        result = await client.pods.sweep(expired=True, grace=0, now=after, wait=True)
    assert sorted(result.deleted) == sorted(p.id for p in pods)
    assert sim.live_pods() == 0


async def test_sweep_expired_rejects_bad_input_before_sending(sim: Simulator) -> None:
    async with make_client(sim) as client:
        for kwargs, field in (
            ({"expired": True, "grace": -1}, "grace"),
            ({"expired": True, "on_expire": "keep"}, "on_expire"),
            ({"on_expire": "pause"}, "on_expire"),
            ({"expired": "yes"}, "expired"),
        ):
            with pytest.raises(ValidationError) as info:
                await client.pods.sweep(**kwargs)  # type: ignore[arg-type]
            assert info.value.field == field
    assert sim.total_requests == 0


async def test_the_watcher_of_an_abandoned_group_stops_once_its_client_is_closed(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(sim)
    group = client.pods.group(ttl=HOUR)
    await group.__aenter__()
    await group.create(REQ)
    await client.aclose()  # the block is never exited; the watcher must not retry forever
    task = group.spend._task
    assert task is not None
    await asyncio.wait_for(task, timeout=10)
    assert "expiry watcher stopped" in caplog.text


def test_a_group_with_a_ttl_can_be_made_outside_a_running_loop() -> None:
    client = YottaClient("k", "http://127.0.0.1:9")
    group = client.pods.group(ttl=60, max_hourly_cost=10)
    assert group.spend.ttl == timedelta(seconds=60) and group.hourly_cost == 0
