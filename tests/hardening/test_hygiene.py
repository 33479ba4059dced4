"""Resource hygiene: no task outlives its client, nothing pending at loop close, leaks are errors."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.hardening._util import VALID_FIELDS
from yotta_async import ConfigurationError, PodCreateRequest, PodStatus, WatchPolicy, YottaClient
from yotta_async.testing import ManualClock, Simulator

ROOT = Path(__file__).resolve().parents[2]


async def settle_loop() -> None:
    """Let cancelled tasks and closing transports finish (a few loop turns, no real waiting)."""
    for _ in range(20):
        await asyncio.sleep(0)


def other_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


@contextlib.asynccontextmanager
async def rig() -> AsyncIterator[tuple[Simulator, YottaClient, list[int]]]:
    """A simulator with three PAUSED pods (they never run by themselves) and a fast client.

    On exit, after the client and the simulator are closed, not one task may be left.
    """
    assert not other_tasks()
    clock = ManualClock()
    async with Simulator(clock=clock) as sim:
        ids = sim.add_pods(3, status=PodStatus.PAUSED)
        async with YottaClient(sim.api_key, sim.base_url, clock=clock.now, sleep=clock.sleep) as client:
            client.pods.watch_policy = WatchPolicy(floor=1.0, maximum=5.0)
            yield sim, client, ids
    await settle_loop()
    assert not other_tasks(), other_tasks()


def poller_running(client: YottaClient) -> bool:
    return client.pods.waits.watcher.running


async def test_breaking_out_of_watch_stops_the_poller() -> None:
    async with rig() as (_, client, ids):
        async for _change in client.pods.watch(ids):
            assert poller_running(client)
            break
        await settle_loop()
        assert not poller_running(client)


async def test_abandoned_as_completed_stops_the_poller_by_client_close() -> None:
    async with rig() as (sim, client, ids):
        first = sim.store.get(ids[0])
        assert first is not None
        sim.store.resume(first)  # one pod will run; the others stay PAUSED
        iterator = client.pods.as_completed(ids, timeout=10**6)
        async for pod in iterator:
            assert pod.id == ids[0]
            break
        assert poller_running(client)  # two pods still awaited: the poller stays...
    # ...until the client closes (checked by rig)


async def test_cancelled_waits_stop_the_poller() -> None:
    async with rig() as (_, client, ids):
        waits: list[Callable[[], Awaitable[object]]] = [
            lambda: client.pods.wait_all(ids, timeout=10**6),
            lambda: client.pods.wait_until_running(ids[0], timeout=10**6),
            lambda: asyncio.gather(*(client.pods.wait_until_running(i, timeout=10**6) for i in ids)),
        ]
        for wait in waits:
            task = asyncio.ensure_future(wait())
            await asyncio.sleep(0.02)  # real time: the waits poll on the manual clock meanwhile
            assert not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await settle_loop()
            assert not poller_running(client)


async def test_closing_the_client_ends_waits_with_a_typed_error() -> None:
    async with rig() as (_, client, ids):
        task = asyncio.ensure_future(client.pods.wait_all(ids, timeout=10**6))
        await asyncio.sleep(0.02)
        await client.aclose()
        with pytest.raises(ConfigurationError):
            await task
        assert not poller_running(client)


async def test_a_cancelled_group_cleans_up_and_leaves_no_task() -> None:
    async with rig() as (sim, client, _):

        async def launch() -> None:
            async with client.pods.group(on_exit="delete") as group:
                await group.launch(PodCreateRequest(**VALID_FIELDS), count=4, wait=True)
                await asyncio.Event().wait()

        task = asyncio.ensure_future(launch())
        for _ in range(200):
            await asyncio.sleep(0.005)
            if sim.live_pods(include_terminating=False) >= 3 + 4:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert sim.live_pods(include_terminating=False) == 3  # the group's 4 pods were deleted


# --- at loop close: run real programs under asyncio.run and read what they print ------------

CLEAN_PROGRAM = """
import asyncio, contextlib
from yotta_async import PodCreateRequest, PodStatus, YottaClient
from yotta_async.testing import ManualClock, Simulator

async def main():
    clock = ManualClock()
    async with Simulator(clock=clock) as sim:
        ids = sim.add_pods(2, status=PodStatus.PAUSED)
        async with YottaClient(sim.api_key, sim.base_url, clock=clock.now, sleep=clock.sleep) as client:
            pod = await client.pods.create(name="n", image="i", gpu_type="NVIDIA_H100_80G", gpu_count=1)
            await client.pods.wait_until_running(pod.id)
            async for change in client.pods.watch(ids):
                break
            stuck = asyncio.ensure_future(client.pods.wait_all(ids, timeout=10**6))
            await asyncio.sleep(0.02)
            stuck.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stuck
            pending = asyncio.ensure_future(client.pods.wait_all(ids, timeout=10**6))
            await asyncio.sleep(0.02)
        # the client closed under a running wait: it must end with a typed error, not linger
        with contextlib.suppress(Exception):
            await pending
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    print("done", leftover)

# Not asyncio.run(): it would cancel leftover tasks quietly. A plain close lets them show.
loop = asyncio.new_event_loop()
loop.set_debug(True)
loop.run_until_complete(main())
loop.close()
del loop
import gc; gc.collect()
"""

LEAKY_PROGRAM = """
import asyncio, aiohttp

async def main():
    session = aiohttp.ClientSession()
    asyncio.ensure_future(asyncio.sleep(3600))
    print("done")

loop = asyncio.new_event_loop()
loop.run_until_complete(main())
loop.close()
del loop
import gc; gc.collect()
"""

SYMPTOMS = (
    "Task was destroyed but it is pending",
    "was never awaited",
    "Task exception was never retrieved",
    "Unclosed client session",
    "Unclosed connector",
    "ResourceWarning",
    "Traceback",
)


def run_program(source: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "program.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-X", "dev", "-W", "always::ResourceWarning", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_the_symptom_check_sees_a_leaky_program(tmp_path: Path) -> None:
    """Positive control: a program that leaks a session and a task is caught."""
    result = run_program(LEAKY_PROGRAM, tmp_path)
    assert "done" in result.stdout
    assert "Unclosed client session" in result.stderr
    assert "Task was destroyed but it is pending" in result.stderr


def test_no_pending_task_or_unclosed_resource_at_loop_close(tmp_path: Path) -> None:
    result = run_program(CLEAN_PROGRAM, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done []"
    found = [s for s in SYMPTOMS if s in result.stderr]
    assert not found, result.stderr


# --- the suite's warning filters really turn leaks into failures ------------------------------

LEAK_TESTS = """
import gc
import aiohttp
from aiohttp import web

async def test_leaks_a_session():
    session = aiohttp.ClientSession()
    del session
    gc.collect()

async def test_leaks_a_live_connection():
    app = web.Application()
    app.router.add_get("/", lambda request: web.Response(text="ok"))
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    session = aiohttp.ClientSession()
    async with session.get(f"http://127.0.0.1:{runner.addresses[0][1]}/") as response:
        await response.read()
    del session, response
    gc.collect()
    await runner.cleanup()

async def test_closes_its_session():
    async with aiohttp.ClientSession():
        pass
"""


def _without_outer_pytest_options() -> dict[str, str]:
    # CI passes --cov through PYTEST_ADDOPTS; the inner run has coverage off and must not see it.
    return {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS" and not k.startswith("COV_CORE")}


def test_suite_filterwarnings_turn_leaks_into_failures(tmp_path: Path) -> None:
    (tmp_path / "test_leaks.py").write_text(textwrap.dedent(LEAK_TESTS))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-p",
            "no:cacheprovider",
            "-p",
            "no:cov",
            "-q",
            "-rA",
            str(tmp_path / "test_leaks.py"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=_without_outer_pytest_options(),
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "FAILED" in out and "test_leaks_a_session" in out.split("short test summary")[-1], out
    summary = out.split("short test summary")[-1]
    assert "PASSED" in summary and "test_closes_its_session" in summary
    assert "FAILED test_leaks.py::test_leaks_a_session" in summary
    assert "FAILED test_leaks.py::test_leaks_a_live_connection" in summary
    assert "Unclosed client session" in out
