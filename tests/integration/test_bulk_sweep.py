"""``sweep`` finds exactly the orphans a crashed run left behind, by label and age."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from yotta_async import PodCreateRequest, PodStatus, ValidationError, YottaClient
from yotta_async.testing import ManualClock, Simulator

REQ = PodCreateRequest(name="sw", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(clock=ManualClock()) as simulator:
        yield simulator


def make_client(sim: Simulator) -> YottaClient:
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    # Waits advance the simulator's manual clock, so pods move through their lifecycle.
    return YottaClient(sim.api_key, sim.base_url, sleep=clock.sleep, clock=clock.now)


async def crashed_run(sim: Simulator, label: str, count: int) -> list[int]:
    """A run that launched ``count`` pods in a group and died before the group could exit."""
    async with make_client(sim) as client:
        group = client.pods.group(label=label)
        await group.__aenter__()
        pods = await group.launch(REQ, count=count, wait=False)
        # the process is killed here: __aexit__ never runs
    return [p.id for p in pods]


def sim_now(sim: Simulator) -> datetime:
    return sim.now()


def ids(pods: list[object]) -> list[int]:
    return sorted(p.id for p in pods)  # type: ignore[attr-defined]


async def test_sweep_finds_exactly_the_orphans_of_a_crashed_run(sim: Simulator) -> None:
    old_nightly = await crashed_run(sim, "nightly", 4)
    other = await crashed_run(sim, "other", 2)
    strangers = sim.add_pods(2)  # made by someone else: no token, never touched
    async with make_client(sim) as client:
        plain = (await client.pods.create(REQ)).id  # ours, but not from a group
        await client.pods.delete(old_nightly[3])  # already on its way out
    sim.advance(3600)
    new_nightly = await crashed_run(sim, "nightly", 2)

    async with make_client(sim) as client, client.pods.group(label="nightly") as live:
        live_pod = (await live.create(REQ)).id  # same label, but its group is still open

        async def found(**kw: object) -> list[int]:
            result = await client.pods.sweep(dry_run=True, **kw)  # type: ignore[arg-type]
            assert result.dry_run and result.deleted == [] and result.errors == {}
            return ids(result.found)

        assert await found(group="nightly") == sorted(old_nightly[:3] + new_nightly)
        assert await found(group="nightly", older_than=1800, now=sim_now(sim)) == sorted(old_nightly[:3])
        assert await found(older_than=timedelta(hours=2), now=sim_now(sim)) == []
        assert await found() == sorted(old_nightly[:3] + new_nightly + other)
        assert await found(include_ungrouped=True) == sorted(old_nightly[:3] + new_nightly + other + [plain])
        assert sim.request_counts["DELETE /v2/pods/{id}"] == 1  # dry runs deleted nothing

        result = await client.pods.sweep(group="nightly", older_than=1800, now=sim_now(sim), wait=True)
        assert ids(result.found) == sorted(old_nightly[:3])
        assert sorted(result.deleted) == sorted(old_nightly[:3]) and result.errors == {}
        assert all(sim.status(i) in (PodStatus.TERMINATED, None) for i in old_nightly)

        rest = await client.pods.sweep(all=True)
        assert sorted(rest.deleted) == sorted(new_nightly + other)
        assert sim.status(live_pod) is not None and not sim.status(live_pod).is_terminal
        for pid in [plain, *strangers]:
            assert sim.status(pid) is PodStatus.RUNNING
    assert sim.status(live_pod) in (PodStatus.TERMINATED, None)  # the open group cleaned up


async def test_sweep_checks_its_arguments_before_any_request(sim: Simulator) -> None:
    async with make_client(sim) as client:
        for kw, field in [({"group": "a b"}, "group"), ({"older_than": -1}, "older_than"),
                          ({"older_than": "1h"}, "older_than"), ({"concurrency": 0}, "concurrency"),
                          ({"now": datetime(2025, 1, 1)}, "now")]:
            with pytest.raises(ValidationError) as info:
                await client.pods.sweep(**kw)  # type: ignore[arg-type]
            assert info.value.field == field
    assert sim.total_requests == 0


async def test_sweep_with_nothing_to_do_lists_once(sim: Simulator) -> None:
    sim.add_pods(3)
    async with make_client(sim) as client:
        result = await client.pods.sweep(include_ungrouped=True, all=True)
    assert result.found == [] and result.deleted == []
    assert sim.total_requests == 1
