"""Benchmark 4: bulk launch end to end: 200 pods created, waited to RUNNING, deleted.

Each run gets a fresh Simulator (this process, fixed ``time_scale``); the client runs in a
child process. "Deleted" means confirmed TERMINATED for both subjects, since that is what
ends the billing.

* yotta-async: ``async with client.pods.group(on_exit="delete", concurrency=16)`` and
  ``group.launch(..., count=200, wait=True)``; leaving the block deletes every pod and waits
  until they are TERMINATED. Default watch policy (scaled to simulated time).
* the official sync SDK ``yottaml``: a ``ThreadPoolExecutor`` of the same width (16) maps each
  phase over the pods (``new_pod``; ``get_pod`` every 10 s until RUNNING, as the provider's
  lifecycle script polls; ``delete_pod``; ``get_pod`` every 10 s until TERMINATED or gone).
  One ``PodApi`` per thread (see ``_worker.bulk_yottaml``). No handicaps.

Wall time is reported in simulated seconds (real seconds / ``time_scale``), i.e. what a user
would wait against the real API.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from typing import Any

from benchmarks._common import Row, have, missing, ratio_row, run_worker
from yotta_async.testing import Simulator

BENCH = "4. bulk launch"
SIZES = {"smoke": (10, 0.005, 1), "quick": (200, 0.05, 1), "full": (200, 0.1, 3)}  # pods, scale, rounds
WIDTH = 16
SUBJECTS = {"bulk_sdk": "yotta-async group.launch + delete", "bulk_yottaml": "yottaml + 16 threads"}


async def _one(scenario: str, n: int, scale: float) -> tuple[dict[str, Any], Counter[str]]:
    async with Simulator(time_scale=scale, seed=n) as sim:

        def ready() -> dict[str, Any]:
            sim.reset_counters()
            return {}

        result = await run_worker(
            scenario, ready, base_url=sim.base_url, api_key=sim.api_key, scale=scale, count=n, width=WIDTH
        )
        assert sim.live_pods() == 0, f"{scenario} left {sim.live_pods()} pods alive"
        return result, Counter(sim.request_counts)


def _breakdown(counts: Counter[str]) -> str:
    short = {
        "POST /v2/pods": "create",
        "GET /v2/pods": "list",
        "GET /v2/pods/{id}": "get",
        "DELETE /v2/pods/{id}": "delete",
    }
    return ", ".join(f"{short.get(k, k)} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


async def _run(mode: str) -> list[Row]:
    n, scale, rounds = SIZES[mode]
    names = [s for s in SUBJECTS if s != "bulk_yottaml" or have("yottaml")]
    walls: dict[str, list[float]] = {s: [] for s in names}
    cpus: dict[str, list[float]] = {s: [] for s in names}
    reqs: dict[str, list[float]] = {s: [] for s in names}
    counts: dict[str, Counter[str]] = {}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            result, counts[name] = await _one(name, n, scale)
            walls[name].append(result["wall"] / scale)
            cpus[name].append(result["cpu"])
            reqs[name].append(sum(counts[name].values()))
    rows: list[Row] = []
    sdk = "bulk_sdk"
    for metric, data, unit in (
        ("wall, simulated", walls, "s"),
        ("HTTP requests", reqs, ""),
        ("client CPU", cpus, "s"),
    ):
        for name, label in SUBJECTS.items():
            if name not in data:
                rows.append(missing(BENCH, label, "yottaml"))
                continue
            note = _breakdown(counts[name]) if metric == "HTTP requests" else ""
            rows.append(
                ratio_row(
                    BENCH, label, f"{metric}, {n} pods", data[name], data[sdk], unit=unit, note=note
                )
            )
    rows[0] = dataclasses.replace(rows[0], note=f"simulator time_scale {scale}")
    return rows


def run(mode: str) -> list[Row]:
    """Rounds alternate the subjects' order; medians and ratios against yotta-async."""
    return asyncio.run(_run(mode))
