"""Benchmark 7: pods you can use: requests to bring N pods to READY, and a launch that fails over.

Both run the client and a Simulator in *this* process (what is measured is requests, which
the simulator counts, and simulated seconds, not CPU). Time is simulated: the simulator's
``time_scale`` shrinks every phase and the client's watch policy shrinks by the same factor,
so request counts are what they would be in real time and "sim s" is what a user would wait.

* **READY, flat in N.** N pods (each exposing 22/ssh, healthy a seeded 3.75-5 s after
  RUNNING) are seeded the moment the wait starts; ``client.pods.wait_all(ids, until=READY)``
  waits for all. One shared watcher lists the pods per tick, so the requests at N=1,000
  should be about those at N=100. (No TCP probes here: ``READY(probe=True)`` adds one
  connect per port, the only per-pod traffic, capped by the client's ``Prober``.)
* **Failover.** ``group.launch(request, count=100, placements=[us-east-1, us-east-2],
  wait=RUNNING)`` where us-east-1 has room for only 30 pods: in the simulator's two
  over-capacity modes (pods go FAILED, the documented behaviour; or the create is refused
  with a capacity code), against the same launch with room for all 100 as the reference.
  Every FAILED pod is deleted and replaced; requests are split by kind in the note.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from benchmarks._common import Row
from yotta_async import READY, ExposePort, Placement, PodCreateRequest, WatchPolicy, YottaClient
from yotta_async.testing import Simulator

BENCH = "7. pods you can use"
# (sizes for READY, scale, launch count)
SIZES = {"smoke": ((5, 15), 0.005, 10), "quick": ((100, 1000), 0.05, 100), "full": ((100, 1000), 0.1, 100)}
H100 = "NVIDIA_H100_80G"
FIRST, SECOND = Placement(H100, "us-east-1"), Placement(H100, "us-east-2")


def _client(sim: Simulator, scale: float) -> YottaClient:
    """A client whose watcher keeps the default policy's proportions in simulated time."""
    client = YottaClient(sim.api_key, sim.base_url)
    policy = WatchPolicy()
    client.pods.watch_policy = dataclasses.replace(
        policy, floor=policy.floor * scale, maximum=policy.maximum * scale
    )
    return client


async def _ready(n: int, scale: float) -> dict[str, Any]:
    async with Simulator(time_scale=scale, seed=n) as sim, _client(sim, scale) as client:
        ids = sim.add_pods(n, status=None, expose=[ExposePort(port=22, protocol="SSH")])
        sim.reset_counters()
        started = time.perf_counter()
        pods = await client.pods.wait_all(ids, until=READY, timeout=600 * scale)
        wall = time.perf_counter() - started
        assert all(p.is_ready() for p in pods)
        return {"requests": sim.total_requests, "counts": dict(sim.request_counts), "sim_s": wall / scale}


async def _launch(count: int, scale: float, first_room: int, mode: str) -> dict[str, Any]:
    capacity = {(H100, "us-east-1"): first_room, (H100, "us-east-2"): 2 * count}
    async with Simulator(time_scale=scale, seed=count, capacity=capacity, over_capacity=mode) as sim, \
            _client(sim, scale) as client:
        request = PodCreateRequest.build(name="fo", image="img", gpu_type=H100, gpu_count=1)
        sim.reset_counters()
        started = time.perf_counter()
        async with client.pods.group(on_exit="keep") as group:
            pods = await group.launch(request, count=count, placements=[FIRST, SECOND],
                                      timeout=900 * scale)
        wall = time.perf_counter() - started
        where = [group.landed[p.id] for p in pods]
        assert where.count(FIRST) == min(first_room, count) and len(pods) == count
        return {"requests": sim.total_requests, "counts": dict(sim.request_counts), "sim_s": wall / scale,
                "failed": len(group.attempts)}


def _split(counts: dict[str, int]) -> str:
    short = {"POST /v2/pods": "creates", "DELETE /v2/pods/{id}": "deletes", "GET /v2/pods": "lists",
             "GET /v2/pods/{id}": "gets", "GET /v2/vms/types": "catalogue"}
    return ", ".join(f"{n} {short.get(k, k)}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))


async def _run(mode: str) -> list[Row]:
    sizes, scale, count = SIZES[mode]
    rows: list[Row] = []
    ready = {n: await _ready(n, scale) for n in sizes}
    small, large = sizes
    for n in sizes:
        got = ready[n]
        rows.append(Row(BENCH, "yotta-async wait_all(until=READY)", f"HTTP requests, N={n:,}",
                        got["requests"], "", note=f"{_split(got['counts'])}; {got['sim_s']:.0f} sim s"))
    growth = ready[large]["requests"] / ready[small]["requests"]
    rows.append(Row(BENCH, "yotta-async wait_all(until=READY)", f"requests N={large:,} / N={small:,}",
                    growth, "x", target="<= 1.5 (flat in N)", met=growth <= 1.5,
                    note=f"N grew {large // small}x"))
    room = max(1, count * 3 // 10)
    reference = await _launch(count, scale, count, "fail")
    subjects = {
        "reference": ("group.launch, room for all on the first placement", reference),
        "fail": (f"group.launch failover, {room} fit first, pods go FAILED", None),
        "refuse": (f"group.launch failover, {room} fit first, creates refused", None),
    }
    for key in ("fail", "refuse"):
        subjects[key] = (subjects[key][0], await _launch(count, scale, room, key))
    for label, got in subjects.values():
        assert got is not None
        failed = f"; {got['failed']} replaced" if got.get("failed") else ""
        rows.append(Row(BENCH, f"yotta-async {label}", f"HTTP requests, {count} pods",
                        got["requests"], "", ratio=reference["requests"] / got["requests"],
                        note=_split(got["counts"]) + failed))
        rows.append(Row(BENCH, f"yotta-async {label}", f"sim s to {count} RUNNING", got["sim_s"], "s",
                        ratio=reference["sim_s"] / got["sim_s"]))
    return rows


def run(mode: str) -> list[Row]:
    """One run per size and subject (request counts are near-deterministic)."""
    return asyncio.run(_run(mode))
