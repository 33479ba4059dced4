"""Benchmark 3: HTTP requests and client CPU to see N pods (100 and 1,000) through to RUNNING.

Every run gets a fresh Simulator (in this process) whose pods are created the moment the
client (a child process) is ready, so each subject watches the same seeded lifecycle
(~34-56 simulated seconds to RUNNING). Time is simulated: the simulator's ``time_scale``
shrinks every phase and each client's poll interval shrinks by the same factor, so request
counts are what they would be in real time. Requests are counted by the simulator; CPU is the
client process's own.

Subjects, all polling every 10 simulated seconds (the provider's own lifecycle script's
interval, so the comparison is at the same interval):

* yotta-async ``wait_all`` with a fixed 10 s ``WatchPolicy``: one shared watcher, one
  ``GET /v2/pods`` per tick whatever N is;
* naive per-pod polling: one coroutine per pod, ``client.pods.get`` then ``asyncio.sleep``;
* the official sync SDK as documented: ``yottaml`` ``PodApi.get_pod`` for each pending pod,
  every 10 s (a sequential sweep, as a sync script does it).

Plus yotta-async's *default* policy (adaptive, 1 s after a change stretching to 10 s), to
show what its faster reaction costs. "sim s to all RUNNING" is when the client saw the last
pod RUNNING, in simulated seconds: lower means it noticed sooner.
"""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks._common import Row, have, missing, run_worker
from yotta_async.testing import Simulator

BENCH = "3. waiting on N pods"
SIZES = {"smoke": ((5, 15), 0.005), "quick": ((100, 1000), 0.05), "full": ((100, 1000), 0.2)}
INTERVAL = 10.0
SUBJECTS = {
    "sdk": ("yotta-async wait_all (10 s)", "wait_sdk", {"interval": INTERVAL}),
    "default": ("yotta-async wait_all (default 1-10 s)", "wait_sdk", {}),
    "naive": ("naive per-pod pods.get every 10 s", "wait_naive", {"interval": INTERVAL}),
    "yottaml": ("yottaml get_pod per pod every 10 s", "wait_yottaml", {}),
}


async def _one(scenario: str, n: int, scale: float, extra: dict[str, Any]) -> dict[str, Any]:
    async with Simulator(time_scale=scale, seed=n) as sim:

        def seed() -> dict[str, Any]:
            sim.reset_counters()
            return {"ids": sim.add_pods(n, status=None)}

        result = await run_worker(
            scenario, seed, base_url=sim.base_url, api_key=sim.api_key, scale=scale, **extra
        )
        result["requests"] = sim.total_requests
        result["sim_seconds"] = result["wall"] / scale
        return result


async def _run(mode: str) -> list[Row]:
    sizes, scale = SIZES[mode]
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for n in sizes:
        for key, (_, scenario, extra) in SUBJECTS.items():
            if key == "yottaml" and not have("yottaml"):
                continue
            results[key, n] = await _one(scenario, n, scale, extra)

    rows: list[Row] = []
    for n in sizes:
        ref = results["sdk", n]
        for key, (label, _, _) in SUBJECTS.items():
            if (key, n) not in results:
                rows.append(missing(BENCH, label, "yottaml"))
                continue
            got = results[key, n]
            rows.append(
                Row(
                    BENCH,
                    label,
                    f"HTTP requests, N={n:,}",
                    got["requests"],
                    "",
                    ratio=ref["requests"] / got["requests"],
                    note=f"{got['sim_seconds']:.0f} sim s to all RUNNING",
                )
            )
            rows.append(
                Row(
                    BENCH,
                    label,
                    f"client CPU, N={n:,}",
                    got["cpu"],
                    "s",
                    ratio=ref["cpu"] / got["cpu"] if got["cpu"] else None,
                )
            )
    small, large = sizes
    for key in ("sdk", "default"):
        growth = results[key, large]["requests"] / results[key, small]["requests"]
        rows.append(
            Row(
                BENCH,
                SUBJECTS[key][0],
                f"requests N={large:,} / N={small:,}",
                growth,
                "x",
                target="<= 1.5 (flat in N)",
                met=growth <= 1.5,
                note=f"N grew {large // small}x",
            )
        )
    return rows


def run(mode: str) -> list[Row]:
    """One run per subject and N (request counts are near-deterministic; CPU is noisier)."""
    return asyncio.run(_run(mode))
