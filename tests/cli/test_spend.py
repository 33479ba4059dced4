"""Crash-safe expiry end to end: a SIGKILLed ``launch --ttl`` against ``yotta-async simulate``,
then ``sweep --expired`` or the reaper; and the reaper under the simulator's fault plan.

Processes, not coroutines: a SIGKILL runs no cleanup at all, which only a real process shows.
Expiry stamps are wall-clock unix seconds, so these tests wait (in real time, polling a
condition) for a short ``--ttl`` to pass; nothing else depends on timing.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from yotta_async import EXPIRES_ENV, Backoff, Pod, PodCreateRequest, YottaClient

from .conftest import CLI, KEY, SimProcess, clean_env, run

REQ = PodCreateRequest(name="keep", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)
DEAD = {"TERMINATING", "TERMINATED", "FAILED"}
TTL = 6  # seconds: long enough for 20 creates and the kill, short enough to wait for


def start_cli_simulator(home: Path, *extra: str) -> SimProcess:
    """``yotta-async simulate`` on a free port; lifecycles at real speed (RUNNING after ~45 s)."""
    proc = subprocess.Popen(
        [*CLI, "simulate", "--port", "0", "--api-key", KEY, "--time-scale", "1", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=clean_env(home),
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return SimProcess(url, KEY, proc)


@pytest.fixture
def sim(home: Path) -> Iterator[SimProcess]:
    process = start_cli_simulator(home)
    try:
        yield process
    finally:
        process.proc.send_signal(signal.SIGINT)
        assert process.proc.wait(timeout=15) == 0
        if process.proc.stdout is not None:
            process.proc.stdout.close()


def client_for(sim: SimProcess) -> YottaClient:
    # Patient enough to read through the fault plan of the resilience test, and quick to
    # reconcile a create whose 500 hid whether it was made.
    client = YottaClient(sim.key, sim.url, max_retries=30, backoff=Backoff(initial=0.01, maximum=0.05))
    client.pods.reconcile_settle = 0.05
    return client


def pods_of(sim: SimProcess) -> dict[int, Pod]:
    async def read() -> dict[int, Pod]:
        async with client_for(sim) as client:
            return {p.id: p for p in await client.pods.list()}

    return asyncio.run(read())


def seed_keepers(sim: SimProcess, *, stamped_past: int = 0) -> tuple[list[int], list[int]]:
    """Pods no expiry sweep may touch (and, if asked, pods whose stamp passed an hour ago)."""

    async def make() -> tuple[list[int], list[int]]:
        async with client_for(sim) as client:
            keep = [(await client.pods.create(REQ)).id]  # an SDK pod without a stamp
            keep.append((await client.pods.create(REQ, client_token=False)).id)  # a stranger's
            keep.append((await client.pods.create(REQ, expires_in=3600)).id)  # stamped, not due
            async with client.pods.group(on_exit="keep", label="no-ttl") as group:
                keep += [p.id for p in await group.launch(REQ, count=2, wait=False)]
            past = str(int(time.time()) - 3600)
            expired = [(await client.pods.create(name=f"old-{i}", image="img", gpu_count=1,
                                                 gpu_type="NVIDIA_H100_80G", env={EXPIRES_ENV: past})).id
                       for i in range(stamped_past)]
            return keep, expired

    return asyncio.run(make())


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def crashed_launch(sim: SimProcess, home: Path) -> dict[int, int]:
    """Run ``launch --count 20 --ttl 6s --wait`` and SIGKILL it mid-wait: {pod id: stamp}."""
    proc = subprocess.Popen(
        [*CLI, "--api-key", sim.key, "--base-url", sim.url, "launch", "--count", "20",
         "--ttl", f"{TTL}s", "--wait", "--name", "crash", "--image", "img",
         "--gpu-type", "NVIDIA_H100_80G"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env(home),
    )
    try:
        wait_for(lambda: sum(1 for p in pods_of(sim).values() if (p.name or "").startswith("crash-")) == 20,
                 30, "the launch to create 20 pods")
    finally:
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=15) == -signal.SIGKILL
    crashed = [p for p in pods_of(sim).values() if (p.name or "").startswith("crash-")]
    # Killed before any pod expired (or ran): no cleanup ran, every pod is left billing.
    assert len(crashed) == 20 and not any(str(p.status) in DEAD for p in crashed)
    stamps = {p.id: int(p.env(EXPIRES_ENV) or 0) for p in crashed}
    assert min(stamps.values()) > time.time()
    return stamps


def assert_untouched(sim: SimProcess, ids: list[int]) -> None:
    pods = pods_of(sim)
    for pid in ids:
        assert pid in pods and str(pods[pid].status) not in DEAD, pods.get(pid)


def test_sweep_expired_reclaims_every_pod_of_a_sigkilled_launch(sim: SimProcess, home: Path) -> None:
    keep, _ = seed_keepers(sim)
    stamps = crashed_launch(sim, home)
    sweep = ["--api-key", sim.key, "--base-url", sim.url, "sweep", "--expired", "--grace", "0"]

    started = time.time()
    early = run(*sweep, "--dry-run", "-o", "json", home=home)
    assert early.code == 0, early.err
    found = {p["id"] for p in early.json()["found"]}
    assert found <= {pid for pid, at in stamps.items() if at <= time.time()}  # nothing early
    assert {pid for pid, at in stamps.items() if at < started} <= found

    wait_for(lambda: time.time() >= max(stamps.values()), TTL + 10, "the ttl to pass")
    result = run(*sweep, "-o", "json", home=home)
    assert result.code == 0, result.err
    assert sorted(result.json()["deleted"]) == sorted(stamps)
    pods = pods_of(sim)
    assert [pid for pid in stamps if pid in pods and str(pods[pid].status) not in DEAD] == []
    assert_untouched(sim, keep)


def reaper(sim: SimProcess, home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "--api-key", sim.key, "--base-url", sim.url, "sweep", "--expired", "--grace", "0",
         "--every", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(home),
    )


def stop_reaper(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert KEY not in err and "Traceback" not in err, err
    return err


def test_the_reaper_reclaims_a_sigkilled_launch_and_exits_0_on_sigterm(
    sim: SimProcess, home: Path
) -> None:
    keep, _ = seed_keepers(sim)
    stamps = crashed_launch(sim, home)
    proc = reaper(sim, home)
    try:
        def reclaimed() -> bool:
            pods = pods_of(sim)
            return all(pid not in pods or str(pods[pid].status) in DEAD for pid in stamps)

        wait_for(reclaimed, TTL + 30, "the reaper to reclaim the crashed launch")
        assert time.time() >= min(stamps.values())  # and not before the first stamp passed
    finally:
        err = stop_reaper(proc)
    for pid in stamps:  # one log line per action
        assert sum(1 for line in err.splitlines() if f"deleted pod {pid} " in line) == 1, err
    assert "reaper: stopped" in err
    assert_untouched(sim, keep)


@pytest.fixture
def faulty_sim(home: Path) -> Iterator[SimProcess]:
    process = start_cli_simulator(home, "--seed", "7", "--fault", "500=0.2", "--fault", "429=0.15",
                                  "--fault", "reset=0.15")
    try:
        yield process
    finally:
        process.proc.send_signal(signal.SIGINT)
        assert process.proc.wait(timeout=15) == 0
        if process.proc.stdout is not None:
            process.proc.stdout.close()


def test_the_reaper_reclaims_every_expired_pod_through_500s_429s_and_resets(
    faulty_sim: SimProcess, home: Path
) -> None:
    keep, expired = seed_keepers(faulty_sim, stamped_past=15)
    proc = reaper(faulty_sim, home)
    try:
        def reclaimed() -> bool:
            pods = pods_of(faulty_sim)
            return all(pid not in pods or str(pods[pid].status) in DEAD for pid in expired)

        wait_for(reclaimed, 90, "the reaper to reclaim 15 expired pods through faults")
    finally:
        err = stop_reaper(proc)
    # The faults strike before the server acts, so each pod is deleted exactly once.
    for pid in expired:
        assert sum(1 for line in err.splitlines() if f"deleted pod {pid} " in line) == 1, err
    assert_untouched(faulty_sim, keep)


# -- the flags, in-process against --simulate ------------------------------------------------
def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from yotta_async.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_pods_list_and_get_show_the_hourly_cost(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(capsys, "--simulate", "pods", "list")
    header, *rows = out.splitlines()
    assert code == 0 and "$/H" in header and rows
    assert all(row.split()[-3] == "2.4900" for row in rows)  # an H100 at 2.49 per GPU-hour
    code, out, _ = _main(capsys, "--simulate", "-o", "json", "pods", "list")
    assert code == 0 and all(p["singleCardPrice"] == 2.49 for p in json.loads(out))


def test_launch_ttl_keep_stamps_the_kept_pods_and_says_who_cleans_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = time.time()
    code, out, err = _main(capsys, "--simulate", "-o", "json", "launch", "--count", "3", "--ttl", "2h",
                           "--then", "keep", "--max-hourly-cost", "10")
    pods = json.loads(out)
    assert code == 0 and len(pods) == 3, err
    for pod in pods:
        stamp = next(int(v["value"]) for v in pod["environmentVars"] if v["key"] == EXPIRES_ENV)
        assert before + 7200 <= stamp <= time.time() + 7201
    assert "$7.4700/h" in err and "sweep --expired" in err


def test_launch_past_its_max_hourly_cost_fails_and_cleans_up(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _main(capsys, "--simulate", "launch", "--count", "5", "--concurrency", "1",
                         "--max-hourly-cost", "5")
    assert code == 1 and "over its cap of 5/h" in err and "deleted 3 of 3 pod(s)" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["sweep", "--grace", "10"],
        ["sweep", "--on-expire", "pause"],
        ["sweep", "--expired", "--every", "60", "--dry-run"],
        ["launch", "--count", "1", "--max-hourly-cost", "lots"],
        ["launch", "--count", "1", "--ttl", "0"],
        ["sweep", "--every", "0"],
        ["sweep", "--every", "60"],  # a reaper must be told what to reap
    ],
)
def test_spend_flag_misuse_is_a_usage_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, _ = _main(capsys, "--simulate", *argv)
    assert code == 2


def test_sweep_expired_under_simulate_finds_nothing_unstamped(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _main(capsys, "--simulate", "-o", "json", "sweep", "--expired", "--dry-run")
    assert code == 0 and json.loads(out)["found"] == []  # the demo orphans have no stamp
    assert "no expired pods found" in err


# -- issue 14's "Done when", literally: the group a user writes, SIGKILLed ----------------------
DONE_WHEN_SCRIPT = """
import asyncio, os, sys
from datetime import timedelta
from decimal import Decimal
from yotta_async import BudgetExceededError, PodCreateRequest, YottaClient

async def main() -> None:
    async with YottaClient(os.environ["DW_KEY"], sys.argv[1]) as client:
        async with client.pods.group(ttl=timedelta(hours=2), max_hourly_cost=Decimal("20")) as group:
            req = PodCreateRequest(name="dw", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)
            results = await asyncio.gather(*(group.create(req) for _ in range(12)),
                                           return_exceptions=True)
            refused = sum(isinstance(r, BudgetExceededError) for r in results)
            print(f"kept {len(group.pods)} refused {refused} at {group.hourly_cost}", flush=True)
            await asyncio.Event().wait()  # until SIGKILLed: no cleanup runs

asyncio.run(main())
"""


def test_done_when_a_capped_ttl_group_never_passes_20_and_is_swept_after_a_sigkill(
    sim: SimProcess, home: Path
) -> None:
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal

    keep, _ = seed_keepers(sim)
    proc = subprocess.Popen(
        [sys.executable, "-c", DONE_WHEN_SCRIPT, sim.url], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=clean_env(home, DW_KEY=sim.key),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=15)
    # 8 H100s at 2.49/h fit under $20/h; the 4 creates past the cap were deleted at once.
    assert line.strip() == "kept 8 refused 4 at 19.92", err
    made = [p for p in pods_of(sim).values() if p.name == "dw"]
    live = [p for p in made if str(p.status) not in DEAD]
    assert len(made) == 12 and len(live) == 8
    assert sum(p.hourly_cost or Decimal("inf") for p in live) <= Decimal("20")
    stamps = [int(p.env(EXPIRES_ENV) or 0) for p in live]
    assert all(time.time() + 7100 < s <= time.time() + 7201 for s in stamps)
    # Before the two hours: `sweep --expired` takes none of them.
    early = run("--api-key", sim.key, "--base-url", sim.url, "-o", "json", "sweep", "--expired",
                home=home)
    assert early.code == 0 and early.json()["found"] == [], early.err
    # Once two hours (and the default 60 s grace) have passed: every pod it made is removed.

    async def later() -> list[int]:
        async with client_for(sim) as client:
            now = datetime.now(timezone.utc) + timedelta(hours=2, seconds=61)
            return (await client.pods.sweep(expired=True, now=now)).deleted

    stamped_an_hour = keep.pop(2)  # seed_keepers' create(expires_in=3600): due by then too
    assert sorted(asyncio.run(later())) == sorted([stamped_an_hour, *(p.id for p in live)])
    assert [p for p in pods_of(sim).values() if p.name == "dw" and str(p.status) not in DEAD] == []
    assert_untouched(sim, keep)  # no stamp, no sweep


def test_string_prices_print_as_sent_in_json_and_exactly_in_the_cost_columns(home: Path) -> None:
    sim = start_cli_simulator(home, "--price-format", "string")
    try:
        async def make() -> int:
            async with client_for(sim) as client:
                return (await client.pods.create(REQ)).id

        pid = asyncio.run(make())
        base = ("--api-key", sim.key, "--base-url", sim.url)
        listed = run(*base, "-o", "json", "pods", "list", home=home)
        got = run(*base, "-o", "json", "pods", "get", str(pid), home=home)
        for pod in (*listed.json(), got.json()):
            assert pod["singleCardPrice"] == "2.49" and isinstance(pod["containerVolumePrice"], str)
        table = run(*base, "pods", "list", home=home)
        header, row = table.out.splitlines()
        assert "$/H" in header and row.split()[-3] == "2.4900"
        detail = run(*base, "pods", "get", str(pid), home=home)
        assert re.search(r"^\$/h\s+2\.4900$", detail.out, re.M), detail.out
    finally:
        sim.proc.send_signal(signal.SIGINT)
        assert sim.proc.wait(timeout=15) == 0
        if sim.proc.stdout is not None:
            sim.proc.stdout.close()
