"""A deleting ``sweep`` must be told which orphans: ``group``, ``older_than``, ``expired`` or ``all=True``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from yotta_async import PodStatus, ValidationError, YottaClient
from yotta_async.models import EnvVar
from yotta_async.testing import ManualClock, Simulator

TOKEN, GROUP = "YOTTA_ASYNC_TOKEN", "YOTTA_ASYNC_GROUP"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(clock=ManualClock()) as simulator:
        for i, label in enumerate(["kept-on-purpose", "running-elsewhere"]):
            env = [EnvVar(key=TOKEN, value=f"token-{i}"), EnvVar(key=GROUP, value=label)]
            simulator.add_pods(1, name=label, environment_vars=env)
        yield simulator


async def test_a_sweep_with_no_criterion_is_refused_before_any_request(sim: Simulator) -> None:
    async with YottaClient(sim.api_key, sim.base_url) as client:
        for kw in ({}, {"include_ungrouped": True}, {"wait": True}, {"all": False}):
            with pytest.raises(ValidationError) as info:
                await client.pods.sweep(**kw)  # type: ignore[arg-type]
            text = str(info.value)
            for choice in ("group=", "older_than=", "expired=True", "all=True", "dry_run=True"):
                assert choice in text
    assert sim.total_requests == 0
    assert sim.live_pods() == 2


async def test_a_dry_run_needs_no_criterion(sim: Simulator) -> None:
    async with YottaClient(sim.api_key, sim.base_url) as client:
        result = await client.pods.sweep(dry_run=True)
    assert len(result.found) == 2 and result.deleted == []
    assert sim.live_pods() == 2


async def test_all_true_is_the_explicit_sweep_everything(sim: Simulator) -> None:
    async with YottaClient(sim.api_key, sim.base_url) as client:
        result = await client.pods.sweep(all=True)
    assert len(result.deleted) == 2
    assert all(sim.status(p.id) is not PodStatus.RUNNING for p in result.found)


async def test_all_must_be_a_bool(sim: Simulator) -> None:
    async with YottaClient(sim.api_key, sim.base_url) as client:
        with pytest.raises(ValidationError) as info:
            await client.pods.sweep(all="yes")  # type: ignore[arg-type]
    assert info.value.field == "all"


async def test_expired_alone_is_a_criterion_and_takes_only_stamped_pods(sim: Simulator) -> None:
    async with YottaClient(sim.api_key, sim.base_url) as client:
        result = await client.pods.sweep(expired=True)
    assert result.found == [] and result.deleted == []  # neither seeded pod carries a stamp
    assert sim.live_pods() == 2
