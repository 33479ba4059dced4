"""Test DAG: the launch's first try dies after its creates; the retry must adopt, not duplicate."""

from __future__ import annotations

import datetime
from typing import Any

from airflow.sdk import DAG

from yotta_async.contrib.airflow import YottaDeletePodsOperator, YottaLaunchPodsOperator


class LaunchThatDiesOnce(YottaLaunchPodsOperator):
    """Fails its first try after creating the pods, before deferring (a worker lost mid-task)."""

    def execute(self, context: Any) -> Any:
        self._try_number = context["ti"].try_number
        return super().execute(context)

    def defer(self, **kwargs: Any) -> Any:
        if self._try_number == 1:
            raise RuntimeError("worker lost after the creates")
        return super().defer(**kwargs)


with DAG("yotta_retry", schedule=None, start_date=datetime.datetime(2025, 1, 1), catchup=False) as dag:
    launch = LaunchThatDiesOnce(
        task_id="launch", count=4, name="retry", image="nvidia/cuda:12.1.0-base-ubuntu22.04",
        gpu_type="NVIDIA_H100_80G", gpu_count=1, retries=1, retry_delay=datetime.timedelta(0), timeout=120,
    )
    YottaDeletePodsOperator(task_id="delete", pod_ids=launch.output, timeout=120)
