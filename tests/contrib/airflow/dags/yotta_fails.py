"""Test DAG: every pod goes FAILED; the launch fails for good and cleans up what it made."""

from __future__ import annotations

import datetime

from airflow.sdk import DAG

from yotta_async.contrib.airflow import YottaLaunchPodsOperator

with DAG("yotta_fails", schedule=None, start_date=datetime.datetime(2025, 1, 1), catchup=False) as dag:
    YottaLaunchPodsOperator(
        task_id="launch", count=2, name="doomed", image="yotta/always-fails",
        gpu_type="NVIDIA_H100_80G", gpu_count=1, timeout=120, on_failure="delete",
    )
