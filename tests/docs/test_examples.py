"""The code in README.md and docs/ runs: every Python block, and every ``--simulate`` CLI command.

Each Python block runs in a worker thread against a fresh :class:`Simulator` (fast clock),
with ``YOTTA_API_KEY`` / ``YOTTA_BASE_URL`` pointing at it, so ``YottaClient()`` with no
arguments reaches the simulator exactly as it would reach the real API. A block may use
top-level ``await`` / ``async with``, or call ``asyncio.run`` itself. Names a block may use
without defining them, as README's fragments do:

* every name of ``yotta_async.__all__``, and ``asyncio`` (a fragment continues the page's
  first example, which imports them);
* ``request``: a valid ``PodCreateRequest``; ``requests``: three of them;
* ``ids``: the ids of three pods created (not yet RUNNING) before the block runs;
* ``client``: an open ``YottaClient`` (top-level-await blocks only).

Blocks that cannot run here (a real account, an install) carry ``<!-- no-run: REASON -->``
just above their fence; ``test_exclusions_are_exactly_the_expected_ones`` lists them, so a
new exclusion is a deliberate edit of ``EXCLUDED`` below, never a silent one. New blocks
anywhere in README.md or docs/ are picked up automatically.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.docs._markdown import PYTHON, SHELL, Block, blocks
from yotta_async import PodCreateRequest, YottaClient
from yotta_async.testing import Simulator

ROOT = Path(__file__).resolve().parents[2]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
ALL = [b for f in FILES if f.exists() for b in blocks(f, ROOT)]
RUNNABLE_PY = [b for b in ALL if b.lang in PYTHON and b.no_run is None]
RUNNABLE_SH = [(b, c) for b in ALL if b.lang in SHELL and b.no_run is None for c in b.commands]

# (file, heading) -> why the block does not run. Exactly these, no more, no fewer.
EXCLUDED = {
    ("README.md", "Development"): "development commands: .ci/run runs each of them itself",
    ("docs/guide/testing.md", "As a process, for any HTTP client"):
        "starts a server that runs until it is stopped",
    ("README.md", "Apache Airflow"):
        "needs the airflow extra; run by tests/contrib/airflow (examples/airflow_dag.py)",
    ("README.md", "Ready pods and capacity failover from a DAG"):
        "needs the airflow extra; the same launch runs under dag.test() in tests/contrib/airflow "
        "(dags/yotta_failover.py)",
    ("docs/guide/orchestration.md", "Apache Airflow"):
        "needs the airflow extra; run by tests/contrib/airflow (examples/airflow_dag.py)",
}
BLOCK_TIMEOUT = 90.0  # seconds of real time for one block (the simulator's clock is 1000x fast)


def test_exclusions_are_exactly_the_expected_ones() -> None:
    excluded = {(b.path, b.heading): b.no_run for b in ALL if b.no_run is not None}
    for (path, heading), reason in sorted(excluded.items()):
        print(f"not run: {path} / {heading}: {reason}")  # the list, in the test's output
    assert excluded == EXCLUDED


def test_examples_were_found() -> None:
    # A parser regression that found nothing would make every other test here vacuous.
    assert len(RUNNABLE_PY) >= 4, [b.id for b in ALL]
    assert RUNNABLE_SH, [b.id for b in ALL]
    assert any(b.path == "README.md" for b in RUNNABLE_PY)


def test_every_shell_block_runs_something_or_says_why() -> None:
    silent = [b.id for b in ALL if b.lang in SHELL and b.no_run is None and not b.commands]
    assert not silent, f"shell blocks with no --simulate command and no <!-- no-run: reason -->: {silent}"


@pytest.mark.parametrize("block", RUNNABLE_PY, ids=[b.id for b in RUNNABLE_PY])
async def test_python_block_runs(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    async with Simulator(time_scale=0.001) as sim:
        monkeypatch.setenv("YOTTA_API_KEY", sim.api_key)
        monkeypatch.setenv("YOTTA_BASE_URL", sim.base_url)
        # The simulator keeps serving on this loop while the block runs on its own.
        await asyncio.to_thread(_run_python, block)


@pytest.mark.parametrize(
    ("block", "args"), RUNNABLE_SH, ids=[f"{b.id}:{' '.join(c)[:60]}" for b, c in RUNNABLE_SH]
)
def test_cli_command_runs(block: Block, args: tuple[str, ...], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOTTA_")}
    env["HOME"] = str(tmp_path)  # no ~/.yotta/config of the machine's
    proc = subprocess.run(
        [sys.executable, "-m", "yotta_async.cli", *args],
        env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"{block.id}: yotta-async {' '.join(args)}\n{proc.stdout}\n{proc.stderr}"


def _run_python(block: Block) -> None:
    code = compile(block.code, f"{block.path}:{block.line}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, Any] = {"__name__": "__example__", "asyncio": asyncio}
    exec("from yotta_async import *", namespace)
    asyncio.run(_given(namespace))
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(asyncio.wait_for(_run_async(code, namespace), BLOCK_TIMEOUT))
    else:
        exec(code, namespace)  # the block may call asyncio.run itself: no loop is running here


async def _given(namespace: dict[str, Any]) -> None:
    request = PodCreateRequest(
        name="example", image="nvidia/cuda:12.1.0-base-ubuntu22.04", gpu_type="NVIDIA_H100_80G", gpu_count=1
    )
    async with YottaClient() as client:
        pods = [await client.pods.create(request) for _ in range(3)]
    namespace.update(request=request, requests=[request] * 3, ids=[p.id for p in pods])


async def _run_async(code: Any, namespace: dict[str, Any]) -> None:
    async with YottaClient() as client:
        namespace["client"] = client
        await eval(code, namespace)
