"""Users get the simulator fixtures just by installing yotta-async (the pytest11 entry point)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

USER_TEST = '''
import pytest

@pytest.mark.asyncio
async def test_lifecycle(yotta_simulator, yotta_client):
    pod = await yotta_client.pods.create(
        name="user-test", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)
    assert (await yotta_client.pods.get(pod.id)).id == pod.id
    assert yotta_simulator.live_pods() == 1
'''


def test_entry_point_is_registered() -> None:
    names = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert names.get("yotta_async") == "yotta_async.testing.pytest_plugin"


def test_fixtures_work_in_a_users_project(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TEST)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "COV_CORE_SOURCE")}
    # A user's project: its own rootdir, strict asyncio mode, no conftest of ours.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "asyncio_mode=strict",
         str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
