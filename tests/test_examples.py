"""The examples run, so they cannot rot (the Airflow DAG's test is in tests/contrib/airflow)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_asyncio_fanout_launches_reports_and_cleans_up() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "asyncio_fanout.py"), "--simulate", "--count", "6"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 6 and all(": ssh root@" in line for line in lines)
    assert "[6/6] pod" in proc.stderr  # progress, one line per pod as it runs
    assert "simulator: 0 pods still live" in proc.stderr  # the group deleted every pod
    assert "GET /v2/pods" not in proc.stderr  # no request log noise
