"""The benchmark harness runs end to end and reports a table (no timing is asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = (
    "1. decode",
    "2. request overhead",
    "3. waiting on N pods",
    "4. bulk launch",
    "5. memory",
    "6. import time",
    "7. pods you can use",
)
HEADER = "| benchmark | subject | metric | median |"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=110, check=False
    )


def test_smoke_mode_runs_every_benchmark_and_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "RESULTS.md"
    done = _run("-m", "benchmarks", "--smoke", "--output", str(report))
    assert done.returncode == 0, done.stderr[-3000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert table[0].startswith(HEADER)
    for bench in BENCHES:
        assert any(line.startswith(f"| {bench} |") for line in table), f"{bench} missing from the table"
    # every row has the nine columns, and a yotta-async row leads each comparison
    assert all(line.count("|") == 10 for line in table), table
    assert any("| yotta-async" in line for line in table)
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results")
    assert "Machine: CPU" in text and "cores" in text and "Python" in text
    assert "yotta-async " in text.split("Versions:")[1].splitlines()[0]
    assert HEADER in text


def test_script_entry_point_and_selection(tmp_path: Path) -> None:
    done = _run("benchmarks/run.py", "--smoke", "--only", "decode", "--output", "-")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 1. decode |")]
    # yotta-async, pydantic (or its "not installed" row), json.loads, and the three floors
    assert len(rows) == 6
    assert sum("| floor: " in row for row in rows) == 3
    assert "wrote" not in done.stderr  # --output - writes nothing
    bad = _run("benchmarks/run.py", "--only", "nonsense")
    assert bad.returncode == 2 and "unknown benchmark" in bad.stderr
