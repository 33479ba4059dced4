"""The pytest fixtures: one shared clock by default, configured by markers or the factory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from yotta_async import PodCreateRequest, PodFailedError, PodStatus, ServerError, YottaClient
from yotta_async.testing import FaultPlan, FaultRule, ManualClock, MonotonicClock, Simulator
from yotta_async.testing.pytest_plugin import YottaFactory

REQ = PodCreateRequest(name="p", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)


async def test_default_fixtures_share_a_manual_clock(
    yotta_client: YottaClient, yotta_simulator: Simulator, yotta_clock: ManualClock
) -> None:
    assert isinstance(yotta_clock, ManualClock) and yotta_simulator.clock is yotta_clock
    pod = await yotta_client.pods.create(REQ)
    pod = await yotta_client.pods.wait_until_running(pod.id)
    # ~45 simulated seconds passed on the shared clock while the client waited
    assert pod.status is PodStatus.RUNNING and yotta_clock.now() >= 30
    await yotta_client.pods.delete(pod.id)
    await yotta_client.pods.wait_until_terminated(pod.id)
    assert yotta_simulator.live_pods() == 0


@pytest.mark.yotta_simulator(seed=5, capacity={"NVIDIA_H100_80G": 1})
async def test_the_marker_sets_capacity(yotta_client: YottaClient) -> None:
    first = await yotta_client.pods.create(REQ)
    second = await yotta_client.pods.create(REQ)
    assert (await yotta_client.pods.wait_until_running(first.id)).status is PodStatus.RUNNING
    with pytest.raises(PodFailedError):
        await yotta_client.pods.wait_until_running(second.id)


@pytest.mark.yotta_simulator(faults=FaultPlan({"GET /v2/pods": FaultRule(error_500=1.0)}))
@pytest.mark.yotta_client(max_retries=0)
async def test_markers_set_faults_and_client_options(
    yotta_client: YottaClient, yotta_simulator: Simulator
) -> None:
    with pytest.raises(ServerError):
        await yotta_client.pods.list()
    assert yotta_simulator.request_counts["GET /v2/pods"] == 1  # max_retries=0: no retry


@pytest.mark.yotta_simulator(faults=FaultPlan.everywhere(rate_limit=0.3, error_502=0.2, seed=2))
async def test_a_group_launch_under_faults_runs_in_simulated_time(
    yotta_client: YottaClient, yotta_simulator: Simulator
) -> None:
    async with yotta_client.pods.group() as group:
        pods = await group.launch(REQ, count=3, wait=True)
        assert len(pods) == 3
    assert yotta_simulator.live_pods() == 0
    assert yotta_simulator.faults.injected  # the plan did fire


@pytest.mark.yotta_simulator(clock="real")
async def test_clock_real_gives_a_fast_wall_clock_simulator(
    yotta_client: YottaClient, yotta_simulator: Simulator
) -> None:
    assert isinstance(yotta_simulator.clock, MonotonicClock)
    assert yotta_simulator.store.time_scale == 0.001
    pod = await yotta_client.pods.create(REQ)
    assert (await yotta_client.pods.wait_until_running(pod.id)).status is PodStatus.RUNNING


async def test_the_factory_builds_more(yotta_factory: YottaFactory) -> None:
    a = await yotta_factory.simulator(seed=1)
    b = await yotta_factory.simulator(clock=ManualClock(start=100.0))
    client_a = await yotta_factory.client(a)
    client_b = await yotta_factory.client(b, max_retries=1)
    await client_a.pods.create(REQ)
    assert a.live_pods() == 1 and b.live_pods() == 0
    assert await client_b.pods.list() == []
    with pytest.raises(TypeError):
        await yotta_factory.simulator(clock="sundial")  # type: ignore[arg-type]


USER_TEST = '''
import pytest
from yotta_async.testing import FaultPlan

@pytest.mark.yotta_simulator(seed=1, faults=FaultPlan.everywhere(error_502=0.2, seed=1))
@pytest.mark.yotta_client(max_retries=6)
@pytest.mark.asyncio
async def test_lifecycle(yotta_client, yotta_simulator):
    pod = await yotta_client.pods.create(
        name="user-test", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)
    await yotta_client.pods.wait_until_running(pod.id)
    await yotta_client.pods.delete(pod.id)
    await yotta_client.pods.wait_until_terminated(pod.id)
    assert yotta_simulator.live_pods() == 0
'''


def test_markers_are_registered_for_strict_projects(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TEST)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "COV_CORE_SOURCE")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers",
         "-o", "asyncio_mode=strict", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_readme_testing_example_passes(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Testing with the pytest fixtures", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "test_readme_example.py").write_text(example)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "COV_CORE_SOURCE")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers",
         "-o", "asyncio_mode=auto", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
