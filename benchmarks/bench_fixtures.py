"""How long a user's fixture-based tests take: the ``yotta_simulator`` / ``yotta_client`` fixtures.

Runs one user-style test file (below) with pytest in a fresh process, as a user's project
would (the plugin loaded through its entry point), and prints each test's setup + call +
teardown time and the whole run's wall time::

    python -m benchmarks.bench_fixtures            # 3 runs, medians
    python -m benchmarks.bench_fixtures --runs 1

The file uses only what the fixtures offered before they shared a clock with the client,
so the same file measures both versions.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

USER_TESTS = '''
from yotta_async import PodCreateRequest, PodStatus
from yotta_async.testing import FaultPlan, FaultRule

REQ = PodCreateRequest(name="t", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)


async def test_create_wait_delete(yotta_client, yotta_simulator):
    pod = await yotta_client.pods.create(REQ)
    pod = await yotta_client.pods.wait_until_running(pod.id)
    assert pod.status is PodStatus.RUNNING
    await yotta_client.pods.delete(pod.id)
    await yotta_client.pods.wait_until_terminated(pod.id)
    assert yotta_simulator.live_pods() == 0


async def test_wait_all_three(yotta_client):
    pods = [await yotta_client.pods.create(REQ) for _ in range(3)]
    ready = await yotta_client.pods.wait_all([p.id for p in pods])
    assert {p.status for p in ready} == {PodStatus.RUNNING}


async def test_group_launch_under_faults(yotta_client, yotta_simulator):
    yotta_simulator.faults = FaultPlan(
        {"POST /v2/pods": FaultRule(lost_500=0.3), "*": FaultRule(error_502=0.1, rate_limit=0.1)},
        seed=7,
    )
    async with yotta_client.pods.group() as group:
        pods = await group.launch(REQ, count=4, wait=True)
        assert len(pods) == 4
    assert yotta_simulator.live_pods() == 0
'''

_DURATION = re.compile(r"^\s*([0-9.]+)s (setup|call|teardown)\s+\S+::(\w+)")


def run_once(directory: Path) -> tuple[float, dict[str, float]]:
    """One pytest run: its wall time, and each test's setup + call + teardown seconds."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "COV_CORE_SOURCE")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "asyncio_mode=auto",
         "--durations=0", "--durations-min=0", str(directory)],
        cwd=directory, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the user tests failed:\n{done.stdout}\n{done.stderr}")
    per_test: dict[str, float] = defaultdict(float)
    for line in done.stdout.splitlines():
        match = _DURATION.match(line)
        if match:
            per_test[match.group(3)] += float(match.group(1))
    return wall, dict(per_test)


def main() -> None:
    """Run the user tests ``--runs`` times and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    walls: list[float] = []
    tests: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "test_user_fixtures.py").write_text(USER_TESTS)
        for _ in range(args.runs):
            wall, per_test = run_once(directory)
            walls.append(wall)
            for name, seconds in per_test.items():
                tests[name].append(seconds)
    print(f"pytest run (wall, incl. start-up), median of {args.runs}: {statistics.median(walls):.2f} s")
    for name, seconds in sorted(tests.items()):
        print(f"  {name}: {statistics.median(seconds) * 1000:.0f} ms (setup + call + teardown)")


if __name__ == "__main__":
    main()
