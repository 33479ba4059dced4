"""A second Ctrl-C during ``launch`` says, even under ``-q``, how to find what was left."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import CLI, KEY, SimProcess, clean_env, start_simulator, stop_simulator

SPEC = ["--image", "nvidia/cuda:12.1.0-base-ubuntu22.04", "--gpu-type", "NVIDIA_H100_80G"]


@pytest.fixture(scope="module")
def real_time_sim(home: Path) -> Iterator[SimProcess]:
    """Real-time pods: a cleanup waits ~5 s for TERMINATED, long enough to interrupt."""
    process = start_simulator(home, 1.0)
    try:
        yield process
    finally:
        stop_simulator(process)


def _until(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # a subprocess under test: polling its effects is the only signal
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_second_ctrl_c_prints_the_sweep_command_even_when_quiet(
    real_time_sim: SimProcess, home: Path
) -> None:
    sim = real_time_sim
    proc = subprocess.Popen(
        [*CLI, "-q", "--api-key", KEY, "--base-url", sim.url, "launch", "--count", "2",
         "--name", "abandon", *SPEC, "--wait"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(home),
    )

    def mine(status: str | None = None) -> list[str]:
        return [p.status.value for p in sim.pods()
                if (p.name or "").startswith("abandon-") and status in (None, p.status.value)]

    try:
        _until(lambda: len(mine()) == 2, "the two creates")
        proc.send_signal(signal.SIGINT)  # first: cleanup starts (deletes, then waits)
        _until(lambda: len(mine("TERMINATING")) >= 1, "the cleanup's deletes")
        proc.send_signal(signal.SIGINT)  # second: cleanup abandoned
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert KEY not in out and KEY not in err
    [line] = [x for x in err.splitlines() if "cleanup abandoned" in x]
    label = line.split("sweep --group ")[1].split()[0]
    assert label.startswith("group-")
    base = f"yotta-async --base-url {sim.url} sweep --group {label}"
    assert f"list them with: {base} --dry-run" in line
    assert f"delete them with: {base}" in line
