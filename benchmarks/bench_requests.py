"""Benchmark 2: request overhead, 5,000 ``pods.get`` at concurrency 32, and the simulator's ceiling.

Set-up, and why: the Simulator runs in *this* process and each client runs in a fresh child
process (``benchmarks._worker``). Sharing one event loop would make every client pay for the
server's work and the server for the client's; with two processes each gets its own loop
and, on a 2-core machine, its own core. The client's CPU time is measured in the child; the
server's in this process, which does nothing else meanwhile, so ``requests / server CPU
seconds`` is the simulator's own ceiling in requests per second.

All three clients are driven the same way: 32 coroutines share one iterator of pod ids, and
each client's connection pool is 32 wide. The competitors are written as their docs
recommend (one long-lived session/client, no handicaps): raw aiohttp returns
``json.loads`` dicts, httpx returns ``response.json()`` dicts, yotta-async returns typed
``Pod`` Structs after checking the envelope.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks._common import Row, have, median, missing, ratio_row, run_worker, spread
from yotta_async.testing import Simulator

BENCH = "2. request overhead"
SIM = "simulator (server side)"
# gets per run, rounds, list calls for the list-throughput row
SIZES = {"smoke": (200, 1, 20), "quick": (1000, 3, 50), "full": (5000, 7, 200)}
WIDTH = 32
CLIENTS = {
    "get_sdk": "yotta-async pods.get",
    "get_aiohttp": "raw aiohttp + json.loads",
    "get_httpx": "httpx AsyncClient + .json()",
}


async def _measure(sim: Simulator, scenario: str, **params: Any) -> tuple[dict[str, Any], float, int]:
    """Run one child; also return the server's CPU seconds and requests served meanwhile."""
    sim.reset_counters()
    cpu = time.process_time()
    result = await run_worker(scenario, base_url=sim.base_url, api_key=sim.api_key, **params)
    return result, time.process_time() - cpu, sim.total_requests


async def _run(mode: str) -> list[Row]:
    n, rounds, list_calls = SIZES[mode]
    async with Simulator(seed=7) as sim:
        ids = sim.add_pods(min(n, 1000))
        order = (ids * (n // len(ids) + 1))[:n]
        warm = ids[: WIDTH * 4]
        names = [k for k in CLIENTS if k != "get_httpx" or have("httpx")]
        walls: dict[str, list[float]] = {k: [] for k in names}
        cpus: dict[str, list[float]] = {k: [] for k in names}
        ceilings: list[float] = []
        for r in range(rounds):
            shift = r % len(names)
            for name in names[shift:] + names[:shift]:
                result, server_cpu, served = await _measure(sim, name, ids=order, warm=warm, width=WIDTH)
                walls[name].append(result["wall"])
                cpus[name].append(result["cpu"])
                ceilings.append(served / server_cpu)
        # list throughput: 1,000 pods per body, 4 requests in flight
        sim.add_pods(1000 - len(ids)) if len(ids) < 1000 else None
        listing, list_cpu, listed = await _measure(sim, "list_aiohttp", count=list_calls, width=4)

    sdk_wall, sdk_cpu = walls["get_sdk"], [c / n for c in cpus["get_sdk"]]  # paired per round
    rows = []
    targets = {
        "get_aiohttp": ("<= 1.15", lambda x: x <= 1.15),
        "get_httpx": ("< 1.00 (faster)", lambda x: x < 1.0),
    }
    for name, label in CLIENTS.items():
        if name not in walls:
            rows.append(missing(BENCH, label, "httpx"))
            continue
        target, check = targets.get(name, ("", None))
        rows.append(
            ratio_row(
                BENCH,
                label,
                f"wall, {n:,} gets",
                walls[name],
                sdk_wall,
                unit="s",
                target=target,
                check=check,
                note=f"{n / median(walls[name]):,.0f} req/s" if name == "get_sdk" else "",
            )
        )
    for name in names:
        label = CLIENTS[name]
        rows.append(
            ratio_row(
                BENCH,
                label,
                "client CPU per get",
                [c / n for c in cpus[name]],
                sdk_cpu,
                unit="us",
                scale=1e6,
            )
        )
    rows.append(
        Row(
            BENCH,
            SIM,
            "get ceiling (requests / server CPU s)",
            median(ceilings),
            "req/s",
            spread(ceilings, 1, "{:,.0f}"),
        )
    )
    rows.append(
        Row(
            BENCH,
            SIM,
            "list 1,000 pods, 4 in flight",
            list_calls / listing["wall"],
            "req/s",
            note=f"server-CPU ceiling {listed / list_cpu:,.0f} req/s",
        )
    )
    return rows


def run(mode: str) -> list[Row]:
    """Interleaved rounds of the three clients; ratios of medians against yotta-async."""
    return asyncio.run(_run(mode))
