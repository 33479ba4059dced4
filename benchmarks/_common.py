"""Shared benchmark plumbing: run sizes, result rows, interleaved timing, child processes."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODES = ("smoke", "quick", "full")


@dataclass(frozen=True)
class Row:
    """One line of the results table.

    ``ratio`` is always *yotta-async's figure divided by this row's figure* for the same
    metric, so below 1 means yotta-async spends less (time, requests, CPU, bytes).
    """

    bench: str
    subject: str
    metric: str
    value: float
    unit: str
    spread: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


def median(values: Sequence[float]) -> float:
    """The median, robust to the odd slow run on a shared machine."""
    return float(statistics.median(values))


def spread(values: Sequence[float], unit_scale: float = 1.0, fmt: str = "{:.3g}") -> str:
    """``min-max (n runs)`` for the table."""
    if len(values) < 2:
        return f"{len(values)} run"
    lo, hi = min(values) * unit_scale, max(values) * unit_scale
    return f"{fmt.format(lo)}-{fmt.format(hi)} ({len(values)} runs)"


def interleaved(subjects: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[float]]:
    """Time each subject once per round, rotating the order so drift hits all alike.

    The garbage collector stays on (allocation-heavy decoders pay for it, as they would in
    an application), but runs a full collection before each timed call, so no subject pays
    for the garbage another left behind.
    """
    names = list(subjects)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            start = time.perf_counter()
            subjects[name]()
            times[name].append(time.perf_counter() - start)
    return times


def ratio_row(
    bench: str,
    subject: str,
    metric: str,
    values: Sequence[float],
    sdk: float | Sequence[float],
    *,
    unit: str,
    scale: float = 1.0,
    target: str = "",
    check: Callable[[float], bool] | None = None,
    note: str = "",
) -> Row:
    """A row whose ratio compares yotta-async's figures ``sdk`` with ``values``; ``check`` judges it.

    Given one figure per round for both (same length), the ratio is the median of the
    per-round ratios: rounds run back to back, so each pair shares the machine's load of the
    moment and the pairing cancels most of a shared machine's drift. Otherwise it is
    ``sdk / median(values)``.
    """
    value = median(values)
    if isinstance(sdk, (int, float)):
        ratio = sdk / value if value else None
    elif len(sdk) == len(values) and all(values):
        ratio = median([a / b for a, b in zip(sdk, values, strict=True)])
    else:
        ratio = median(sdk) / value if value else None
    met = check(ratio) if (check is not None and ratio is not None) else None
    return Row(bench, subject, metric, value * scale, unit, spread(values, scale), ratio, target, met, note)


def have(module: str) -> bool:
    """Whether a comparison package is installed (they live in the ``bench`` extra only)."""
    return importlib.util.find_spec(module) is not None


def missing(bench: str, subject: str, module: str) -> Row:
    """The row standing in for a competitor whose package is not installed."""
    return Row(
        bench, subject, "-", float("nan"), "", note=f"{module} not installed: pip install -e '.[bench]'"
    )


def child_env() -> dict[str, str]:
    """The environment for a child process: this repository importable, nothing else changed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("YOTTA_API_KEY", None)
    env.pop("YOTTA_BASE_URL", None)
    return env


async def run_worker(
    scenario: str, ready: Callable[[], dict[str, Any]] | None = None, **params: Any
) -> dict[str, Any]:
    """Run ``benchmarks._worker <scenario>`` in a child process; return the JSON it prints.

    The child imports what it needs, prints ``ready`` and only then reads its parameters
    (one JSON line on stdin; thousands of pod ids do not fit argv well). ``ready()``, if
    given, runs at that moment and adds parameters: that is where a benchmark seeds the pods
    to wait on, so their lifecycle starts when the client can watch it, not before.

    Async on purpose: the parent's event loop keeps serving the in-process Simulator while
    the child (the client under test) talks to it, so client and server never share a loop.
    """
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks._worker", scenario,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=child_env(), cwd=ROOT,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    first = await proc.stdout.readline()
    if first.strip() == b"ready":
        if ready is not None:
            params.update(ready())
        proc.stdin.write(json.dumps(params).encode() + b"\n")
        await proc.stdin.drain()
    proc.stdin.close()
    out, err = await asyncio.gather(proc.stdout.read(), proc.stderr.read())
    await proc.wait()
    if proc.returncode != 0 or first.strip() != b"ready":
        raise RuntimeError(
            f"worker {scenario} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}"
        )
    lines = out.decode().strip().splitlines()
    if not lines:
        raise RuntimeError(f"worker {scenario} printed nothing; stderr: {err.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result
