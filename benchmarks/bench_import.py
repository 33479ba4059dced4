"""Benchmark 6: import time, a proxy for CLI start-up (``python -c "import X"``, fresh process).

``import yotta_async`` loads the models and the errors; the client stack (asyncio, anyio,
the waiters) loads on first use of its names. So that the table does not flatter that, a
second yotta-async row times ``from yotta_async import YottaClient``: what a program that
talks to the API pays before its first request (aiohttp itself loads on the first client).

Each run is a new interpreter, so nothing is cached in memory; the bytecode caches on disk
are warm for every package alike (one throw-away run each first). The bare interpreter's
start-up is measured too and subtracted, so the ratio compares the imports themselves.
"""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks._common import Row, child_env, have, median, missing, spread

BENCH = "6. import time"
SIZES = {"smoke": 1, "quick": 7, "full": 21}  # runs per module
MODULES = ("yotta_async", "yottaml", "openai")
CLIENT = "yotta_async.YottaClient"  # the whole client stack, reported beside ``import yotta_async``
TARGET_MS = 100.0


def _once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=child_env())
    return time.perf_counter() - start


def run(mode: str) -> list[Row]:
    """Median wall time of ``import X`` in a fresh interpreter, bare start-up subtracted."""
    runs = SIZES[mode]
    present = [m for m in MODULES if have(m)]
    codes = {"(bare interpreter)": "pass", **{m: f"import {m}" for m in present}}
    codes[CLIENT] = "from yotta_async import YottaClient"
    for code in codes.values() if mode != "smoke" else ():
        _once(code)  # warm the on-disk bytecode caches
    times: dict[str, list[float]] = {name: [] for name in codes}
    for i in range(runs):
        names = list(codes)
        for name in names[i % len(names) :] + names[: i % len(names)]:
            times[name].append(_once(codes[name]))
    bare = median(times.pop("(bare interpreter)"))
    net = {name: [max(t - bare, 1e-6) for t in ts] for name, ts in times.items()}
    sdk = median(net["yotta_async"])
    rows = []
    for name in (MODULES[0], CLIENT, *MODULES[1:]):
        if name not in net:
            rows.append(missing(BENCH, f"import {name}", name))
            continue
        value = median(net[name])
        subject = "from yotta_async import YottaClient" if name == CLIENT else f"import {name}"
        note = ""
        if name == "yotta_async":
            note = f"bare interpreter {bare * 1e3:.0f} ms; models and errors"
        elif name == CLIENT:
            note = "the client stack: asyncio, anyio, waiters (aiohttp loads on the first client)"
        target = f"<= {TARGET_MS:.0f} ms" if name == "yotta_async" else ""
        rows.append(
            Row(
                BENCH,
                subject,
                "time above bare python",
                value * 1e3,
                "ms",
                spread(net[name], 1e3),
                sdk / value,
                target=target,
                met=(value * 1e3 <= TARGET_MS) if target else None,
                note=note,
            )
        )
    return rows
