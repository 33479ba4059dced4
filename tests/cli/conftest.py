"""Fixtures for the CLI suite: one simulator process per module, and a CLI subprocess runner."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from yotta_async import Pod, YottaClient

# A key that must never show up in any CLI output, --debug included.
KEY = "sk-cli-test-7f3a9c1e5b2d4e6f8a0b"
CLI = [sys.executable, "-m", "yotta_async.cli"]


@dataclass
class SimProcess:
    """A ``python -m yotta_async.testing`` process and how to reach it."""

    url: str
    key: str
    proc: subprocess.Popen[str]

    def pods(self) -> list[Pod]:
        """Every pod the simulator shows, read with the SDK (not with the CLI under test)."""

        async def read() -> list[Pod]:
            async with YottaClient(self.key, self.url) as client:
                return await client.pods.list()

        return asyncio.run(read())

    def live(self) -> list[Pod]:
        """Pods not TERMINATED or FAILED (TERMINATING ones still count, as in ``sim.live_pods()``)."""
        dead = {"TERMINATED", "FAILED"}
        return [p for p in self.pods() if p.status.value not in dead]


def start_simulator(tmp: Path, time_scale: float) -> SimProcess:
    """Start a simulator process on a free port and wait for its base URL."""
    log = (tmp / f"sim-{time_scale}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "yotta_async.testing", "--port", "0", "--api-key", KEY,
         "--time-scale", str(time_scale)],
        stdout=subprocess.PIPE, stderr=log, text=True, env=clean_env(tmp),
    )
    log.close()
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return SimProcess(url, KEY, proc)


def stop_simulator(sim: SimProcess) -> None:
    """SIGINT, as a user would; it must exit cleanly."""
    sim.proc.send_signal(signal.SIGINT)
    assert sim.proc.wait(timeout=15) == 0
    if sim.proc.stdout is not None:
        sim.proc.stdout.close()


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment without any YOTTA_* setting, with HOME pointing at ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOTTA_")}
    env["HOME"] = str(home)
    env.pop("COLUMNS", None)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty HOME, so no real ~/.yotta/config is ever read."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def sim(home: Path) -> Iterator[SimProcess]:
    """One fast simulator process (``time_scale=0.001``) shared by a test module."""
    process = start_simulator(home, 0.001)
    try:
        yield process
    finally:
        stop_simulator(process)


@dataclass
class Result:
    """A finished CLI run."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout as the one JSON document it must be."""
        import json

        return json.loads(self.out)


def run(
    *args: str, home: Path, env: dict[str, str] | None = None, stdin: str | None = None,
    timeout: float = 60,
) -> Result:
    """Run ``yotta-async ARGS`` as a subprocess and check the key never leaks."""
    proc = subprocess.run(
        [*CLI, *args], capture_output=True, text=True, input=stdin, timeout=timeout,
        env=clean_env(home, **(env or {})),
    )
    assert KEY not in proc.stdout and KEY not in proc.stderr, "the API key leaked into CLI output"
    assert "Traceback" not in proc.stderr or "--debug" in args, proc.stderr
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli(sim: SimProcess, home: Path) -> Any:
    """``cli("pods", "list", ...)`` runs against the module's simulator with the key given."""

    def call(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
        return run("--api-key", sim.key, "--base-url", sim.url, *args, home=home, env=env, stdin=stdin)

    return call
