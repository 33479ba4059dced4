"""Benchmark 5: peak RSS of waiting on 10,000 pods, and bytes per pod.

The Simulator (this process) seeds 10,000 fresh pods with ``sim.add_pods(..., status=None)``
the moment the client process is ready; the client runs ``wait_all`` on all of them until
RUNNING (default watch policy, scaled to simulated time). The child measures its RSS after
imports, client set-up and one small request (baseline), and its peak RSS
(``VmHWM`` in ``/proc/self/status``) after the wait; the difference over N is bytes per pod.

Retained row: 10,000 RUNNING pods waited on until TERMINATED (so none settles); the Python
heap the client holds between ticks, from the third tick on, per waiting pod (tracemalloc's
lowest sample: no list body in flight).

Reference row: the same pods fetched once with raw aiohttp and kept as ``json.loads`` dicts,
as a dict-returning SDK would hold them. The SDK's peak includes the raw list body (held while
it decodes) and the watcher's bookkeeping, the reference's only one body and its dicts.
"""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks._common import Row, run_worker
from yotta_async.testing import Simulator

BENCH = "5. memory"
SIZES = {"smoke": (200, 0.005), "quick": (10_000, 0.05), "full": (10_000, 0.1)}
SUBJECTS = {"memory_sdk": "yotta-async wait_all", "memory_dicts": "json.loads dicts (one list)"}


RETAINED_GOAL = 1500  # bytes per waiting pod: "1.5 KB" read the strict way (not 1,536)
RETAINED_TICKS = 8


async def _one(
    scenario: str, n: int, scale: float, status: str | None = None, **params: Any
) -> dict[str, Any]:
    async with Simulator(time_scale=scale, seed=n) as sim:

        def seed() -> dict[str, Any]:
            return {"ids": sim.add_pods(n, status=status)}

        return await run_worker(
            scenario, seed, base_url=sim.base_url, api_key=sim.api_key, scale=scale, **params
        )


async def _run(mode: str) -> list[Row]:
    n, scale = SIZES[mode]
    got = {name: await _one(name, n, scale) for name in SUBJECTS}
    per_pod = {name: (r["peak"] - r["base"]) / n for name, r in got.items()}
    rows = []
    for name, label in SUBJECTS.items():
        r = got[name]
        rows.append(
            Row(
                BENCH,
                label,
                f"peak RSS above baseline, {n:,} pods",
                (r["peak"] - r["base"]) / 2**20,
                "MiB",
                note=f"peak {r['peak'] / 2**20:.0f} MiB, baseline {r['base'] / 2**20:.0f} MiB",
            )
        )
        ratio = per_pod["memory_sdk"] / per_pod[name] if per_pod[name] > 0 else None
        reference = name == "memory_dicts"  # the goal: no more than the dicts of one listing
        rows.append(
            Row(
                BENCH,
                label,
                "bytes per pod",
                per_pod[name],
                "B",
                ratio=ratio,
                target="<= 1.00" if reference else "",
                met=(ratio is not None and ratio <= 1.0) if reference else None,
            )
        )
    kept = await _one("memory_retained", n, scale, "RUNNING", ticks=RETAINED_TICKS)
    rows.append(
        Row(
            BENCH,
            SUBJECTS["memory_sdk"],
            f"retained bytes per waiting pod (heap, ticks 3-{kept['ticks']})",
            kept["retained"] / n,
            "B",
            target=f"<= {RETAINED_GOAL:,}",
            met=kept["retained"] / n <= RETAINED_GOAL,
            note="tracemalloc: lowest sample between ticks (RSS would count tracemalloc's tables)",
        )
    )
    return rows


def run(mode: str) -> list[Row]:
    """One run each (RSS is deterministic enough); a fresh simulator and process per run."""
    return asyncio.run(_run(mode))
