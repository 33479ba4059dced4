"""``yotta-async launch`` and ``sweep`` as subprocesses: outcomes, cleanup on error, and Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import CLI, KEY, SimProcess, clean_env, start_simulator, stop_simulator

SPEC = ["--image", "nvidia/cuda:12.1.0-base-ubuntu22.04", "--gpu-type", "NVIDIA_H100_80G"]


def _mine(sim: SimProcess, prefix: str) -> list[Any]:
    return [p for p in sim.pods() if (p.name or "").startswith(prefix + "-")]


def test_launch_wait_then_delete_json(cli: Any, sim: SimProcess) -> None:
    result = cli("-o", "json", "launch", "--count", "5", "--name", "del", *SPEC, "--wait",
                 "--then", "delete", "--concurrency", "2")
    assert result.code == 0, result.err
    pods = result.json()
    assert sorted(p["name"] for p in pods) == [f"del-{i}" for i in range(5)]
    assert {p["status"] for p in pods} == {"TERMINATED"}
    assert "--then delete: deleted 5 of 5 pod(s)" in result.err
    assert "waiting for RUNNING" in result.err  # phase lines, since stderr is not a terminal
    assert not [p for p in _mine(sim, "del") if p.status.value != "TERMINATED"]


def test_launch_keep_then_sweep_the_group(cli: Any, sim: SimProcess) -> None:
    result = cli("launch", "--count", "3", "--name", "kept", *SPEC, "--wait")
    assert result.code == 0, result.err
    assert result.out.count("RUNNING") == 3 and "kept-2" in result.out
    label = re.search(r"sweep --group (group-[0-9a-f]+)", result.err)
    assert label is not None, result.err
    assert {p.status.value for p in _mine(sim, "kept")} == {"RUNNING"}
    dry = cli("-o", "json", "sweep", "--group", label.group(1), "--dry-run")
    assert dry.code == 0 and len(dry.json()["found"]) == 3 and dry.json()["deleted"] == []
    swept = cli("sweep", "--group", label.group(1), "--wait")
    assert swept.code == 0 and "deleted 3 of 3" in swept.err and "kept-0" in swept.out
    # TERMINATED pods soon vanish from the fast simulator: none may be anything else.
    assert not [p for p in _mine(sim, "kept") if p.status.value != "TERMINATED"]


def test_launch_failure_cleans_up_and_exits_1(cli: Any, sim: SimProcess) -> None:
    result = cli("launch", "--count", "3", "--name", "doom", "--image", "yotta/always-fails",
                 "--gpu-type", "NVIDIA_H100_80G", "--wait", "--then", "keep")
    assert result.code == 1
    assert "cleanup after the error: deleted 3 of 3 pod(s)" in result.err
    assert "FAILED" in result.err.splitlines()[-1]  # the last line names the problem
    assert not [p for p in _mine(sim, "doom") if p.status.value not in ("TERMINATED",)]


def test_launch_bad_spec_sends_nothing(cli: Any, sim: SimProcess) -> None:
    before = len(sim.pods())
    result = cli("launch", "--count", "2", "--name", "x", "--image", "i", "--gpu-type", "g",
                 "--gpu-count", "3")
    assert result.code == 2 and "power of two" in result.err and result.out == ""
    assert len(sim.pods()) == before


@pytest.fixture(scope="module")
def slow_sim(home: Path) -> Iterator[SimProcess]:
    """A simulator where a pod needs ~2 s to run, so a launch can be interrupted mid-flight."""
    process = start_simulator(home, 0.05)
    try:
        yield process
    finally:
        stop_simulator(process)


def test_ctrl_c_mid_launch_deletes_everything_and_exits_130(slow_sim: SimProcess, home: Path) -> None:
    proc = subprocess.Popen(
        [*CLI, "--api-key", KEY, "--base-url", slow_sim.url, "launch", "--count", "6",
         "--name", "sigint", *SPEC, "--wait", "--then", "keep"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(home),
    )
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + 30
    for line in proc.stderr:
        seen.append(line)
        if "waiting for RUNNING" in line or time.monotonic() > deadline:
            break
    assert any("waiting for RUNNING" in line for line in seen), seen
    assert {p.status.value for p in _mine(slow_sim, "sigint")} & {"PENDING", "INITIALIZING"}
    proc.send_signal(signal.SIGINT)
    out, rest = proc.communicate(timeout=60)
    err = "".join(seen) + rest
    assert proc.returncode == 130, err
    assert "interrupted: cleaning up" in err
    assert "cleanup after Ctrl-C: deleted 6 of 6 pod(s)" in err
    assert KEY not in err and KEY not in out
    assert out.count("TERMINATED") == 6  # the one document: the pods' last snapshots
    assert not [p for p in _mine(slow_sim, "sigint") if p.status.value != "TERMINATED"]
    assert slow_sim.live() == []
