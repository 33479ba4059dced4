"""Run the benchmarks, print a markdown table, and write it to ``benchmarks/RESULTS.md``.

::

    python -m benchmarks            # full run (< 15 min on 2 cores)
    python -m benchmarks --quick    # < 2 min
    python benchmarks/run.py --only decode,import --output -
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, Row

BENCHES = {
    "decode": "benchmarks.bench_decode",
    "requests": "benchmarks.bench_requests",
    "waiting": "benchmarks.bench_waiting",
    "bulk": "benchmarks.bench_bulk",
    "memory": "benchmarks.bench_memory",
    "import": "benchmarks.bench_import",
    "ready": "benchmarks.bench_ready",
}
PACKAGES = (
    "yotta-async",
    "aiohttp",
    "msgspec",
    "anyio",
    "pydantic",
    "pydantic-core",
    "httpx",
    "httpcore",
    "yottaml",
    "requests",
    "openai",
    "psutil",
)
DEFAULT_OUTPUT = ROOT / "benchmarks" / "RESULTS.md"


def cpu_model() -> str:
    """The CPU model name, from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    return [
        ("CPU", cpu_model()),
        ("cores", str(os.cpu_count())),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("OS", platform.platform()),
        ("load average at the end (1/5/15 min)", _load()),
    ]


def _load() -> str:
    """The machine's load average: other work on a shared machine skews every timing row."""
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def versions() -> list[tuple[str, str]]:
    """Installed versions of the SDK and of every comparison package."""
    out = []
    for name in PACKAGES:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return out


def _fmt(value: float) -> str:
    if value != value:  # NaN: a competitor that is not installed
        return "-"
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(rows: Sequence[Row]) -> str:
    """The markdown table. ``ratio`` = yotta-async / this row, so < 1 favours yotta-async."""
    head = (
        "| benchmark | subject | metric | median | spread (min-max) | yotta-async / this "
        "| target | met? | note |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.3g}"
        met = "" if r.met is None else ("yes" if r.met else "**NO**")
        lines.append(
            f"| {r.bench} | {r.subject} | {r.metric} | {_fmt(r.value)} {r.unit}".rstrip() + f" | {r.spread} "
            f"| {ratio} | {r.target} | {met} | {r.note} |"
        )
    return "\n".join(lines)


def report(rows: Sequence[Row], mode: str, seconds: float, command: str) -> str:
    """The whole RESULTS.md text: how it was run, on what, the table and how to read it."""
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    kv = lambda pairs: ", ".join(f"{k} {v}" for k, v in pairs)  # noqa: E731
    missed = [r for r in rows if r.met is False]
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"`{command}` ({mode} mode), {when}, {seconds:.0f} s.",
            "",
            f"- Machine: {kv(machine())}",
            f"- Versions: {kv(versions())}",
            "",
            "Medians over repeated runs; the ratio column is **yotta-async's figure divided by the "
            "row's** for the same metric (time, requests, CPU, bytes), so below 1 favours "
            "yotta-async. Where both sides ran once per round (decode, request overhead, bulk) the "
            "ratio is the median of the per-round ratios, which cancels most of a shared "
            "machine's drift. Shared machines are noisy: read the ratios, not the absolute times.",
            "",
            table(rows),
            "",
            f"Targets missed: {len(missed)}"
            + ("" if not missed else " (" + "; ".join(f"{r.bench} vs {r.subject}" for r in missed) + ")"),
            "",
            "How each benchmark works is described in the docstring of `benchmarks/bench_*.py`.",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, run the chosen benchmarks, print the table, write the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        action="store_const",
        dest="mode",
        const="quick",
        help="smaller sizes, fewer repeats (< 2 minutes)",
    )
    size.add_argument(
        "--smoke",
        action="store_const",
        dest="mode",
        const="smoke",
        help="tiny sizes that only prove every benchmark runs (for the test suite)",
    )
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHES)}")
    parser.add_argument(
        "--output",
        default=None,
        help="where to write the report ('-' for nowhere; default benchmarks/RESULTS.md, "
        "or nowhere in --smoke mode)",
    )
    args = parser.parse_args(argv)
    mode = args.mode or "full"
    chosen = [b.strip() for b in args.only.split(",") if b.strip()] or list(BENCHES)
    unknown = [b for b in chosen if b not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    started = time.perf_counter()
    rows: list[Row] = []
    for name in chosen:
        t0 = time.perf_counter()
        print(f"running {name} ({mode}) ...", file=sys.stderr, flush=True)
        rows.extend(importlib.import_module(BENCHES[name]).run(mode))
        print(f"  {name} took {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    print(table(rows))
    output = args.output if args.output is not None else ("-" if mode == "smoke" else str(DEFAULT_OUTPUT))
    if output != "-":
        command = "python -m benchmarks" + {"full": "", "quick": " --quick", "smoke": " --smoke"}[mode]
        if args.only:
            command += f" --only {args.only}"
        Path(output).write_text(report(rows, mode, seconds, command), encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
