"""The issue's "Done when", through the CLI: 12 pods ready across two regions of scarce H100s.

Against a simulator process where H100 in us-east-1 has room for 5 pods and us-east-2 for
20, ``launch --count 12 --gpu-type NVIDIA_H100_80G --region us-east-1 --region us-east-2
--wait ready`` must end with 12 pods ready, 5 in us-east-1 and 7 in us-east-2, no FAILED pod
left live, the output saying where each pod landed, and no per-pod polling while waiting.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from .conftest import KEY, SimProcess, clean_env, run

H100 = "NVIDIA_H100_80G"


def start(tmp: Path, name: str, *extra: str) -> tuple[SimProcess, Path]:
    log = tmp / f"{name}.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "yotta_async.testing", "--port", "0", "--api-key", KEY,
             "--time-scale", "0.002", "--report-requests", *extra],
            stdout=subprocess.PIPE, stderr=err, text=True, env=clean_env(tmp),
        )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return SimProcess(url, KEY, proc), log


def stop(sim: SimProcess, log: Path) -> dict[str, int]:
    """SIGINT the simulator; the request counts it reports on exit."""
    sim.proc.send_signal(signal.SIGINT)
    assert sim.proc.wait(timeout=15) == 0
    if sim.proc.stdout is not None:
        sim.proc.stdout.close()
    line = next(x for x in log.read_text().splitlines() if x.startswith("requests: "))
    counts: dict[str, int] = json.loads(line.removeprefix("requests: "))
    return counts


def launch(sim: SimProcess, home: Path, count: int, *extra: str) -> Any:
    return run("--api-key", sim.key, "--base-url", sim.url, "launch", "--count", str(count),
               "--name", "dw", "--image", "nvidia/cuda:12.1.0-base-ubuntu22.04",
               "--gpu-type", H100, "--region", "us-east-1", "--region", "us-east-2",
               "--expose", "22/ssh", "--wait", "ready", "--timeout", "120", *extra,
               home=home, timeout=120)


def rows(table: str) -> list[list[str]]:
    lines = [line.split() for line in table.splitlines() if line.strip()]
    assert lines[0][:3] == ["ID", "NAME", "STATUS"] and lines[0][-1] == "PLACEMENT", lines[0]
    return lines[1:]


def test_done_when_12_ready_pods_land_5_and_7(tmp_path: Path) -> None:
    sim, log = start(tmp_path, "done", "--capacity", f"{H100}@us-east-1=5",
                     "--capacity", f"{H100}@us-east-2=20")
    try:
        result = launch(sim, tmp_path, 12)
        assert result.code == 0, result.err
        table = rows(result.out)
        assert len(table) == 12 and {r[2] for r in table} == {"RUNNING"}
        landed = [r[-1] for r in table]
        assert landed.count(f"{H100}@us-east-1") == 5 and landed.count(f"{H100}@us-east-2") == 7
        assert f"landed: 5 on {H100}@us-east-1, 7 on {H100}@us-east-2" in result.err
        assert "went FAILED on" in result.err and "trying the next placement" in result.err  # failovers
        pods = [p for p in sim.pods() if (p.name or "").startswith("dw-")]
        live = [p for p in pods if p.status.value not in ("TERMINATING", "TERMINATED")]
        assert len(live) == 12 and all(p.is_ready() for p in live)
        assert sorted(p.region for p in live).count("us-east-1") == 5
        assert not [p for p in pods if p.status.value == "FAILED"]  # every failed one was deleted
    finally:
        small = stop(sim, log)
    # Requests while waiting do not grow with the pods: the same launch at twice the size
    # (and twice the room) polls about as often, and never pod by pod.
    sim, log = start(tmp_path, "double", "--capacity", f"{H100}@us-east-1=10",
                     "--capacity", f"{H100}@us-east-2=40")
    try:
        result = launch(sim, tmp_path, 24, "-o", "json")
        assert result.code == 0, result.err
        assert sorted(p["region"] for p in result.json()).count("us-east-1") == 10
    finally:
        large = stop(sim, log)
    for counts in (small, large):
        # No pod-by-pod polling: the only GETs confirm, once each, that a deleted (replaced)
        # pod is gone when it drops out of the listing.
        assert counts.get("GET /v2/pods/{id}", 0) <= counts["DELETE /v2/pods/{id}"]
    assert large["GET /v2/pods"] <= 1.5 * small["GET /v2/pods"] + 5, (small, large)
    assert large["POST /v2/pods"] == 2 * small["POST /v2/pods"] == 2 * (12 + 7)


def test_pods_wait_until_ready_and_bare_wait_means_running(tmp_path: Path) -> None:
    sim, log = start(tmp_path, "wait", "--port-health", "8888=never")
    try:
        base = ["--api-key", sim.key, "--base-url", sim.url]
        created = run(*base, "-o", "json", "pods", "create", "--name", "w", "--image", "img",
                      "--gpu-type", H100, "--expose", "22/ssh", "--expose", "8888/http", "--wait",
                      home=tmp_path)
        assert created.code == 0 and created.json()["status"] == "RUNNING", created.err
        pid = str(created.json()["id"])
        ssh = run(*base, "-o", "json", "pods", "wait", pid, "--until", "ready", "--port", "ssh",
                  home=tmp_path)
        assert ssh.code == 0 and ssh.json()[0]["expose"][0]["healthy"] is True, ssh.err
        never = run(*base, "pods", "wait", pid, "--until", "ready", "--timeout", "2", home=tmp_path)
        assert never.code == 1 and "8888/http" in never.err, never.err
    finally:
        stop(sim, log)


def test_running_out_of_placements_exits_1_listing_every_attempt_and_cleans_up(tmp_path: Path) -> None:
    sim, log = start(tmp_path, "out", "--capacity", f"{H100}@us-east-1=1",
                     "--capacity", f"{H100}@us-east-2=1", "--over-capacity", "refuse")
    try:
        result = launch(sim, tmp_path, 3)
        assert result.code == 1, result.err
        assert "placements ran out" in result.err
        assert f"{H100}@us-east-1: no pod: create refused" in result.err  # the attempts, listed
        assert "create refused on" in result.err  # the failovers, as they happened
        assert "cleanup after the error: deleted" in result.err
        pods = [p for p in sim.pods() if (p.name or "").startswith("dw-")]
        assert not [p for p in pods if p.status.value not in ("TERMINATING", "TERMINATED")]
    finally:
        counts = stop(sim, log)
    assert counts.get("POST /v2/pods", 0) >= 3
