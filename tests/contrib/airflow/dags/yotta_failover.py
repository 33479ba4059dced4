"""Test DAG: launch 3 pods until *ready* over two placements (the first holds one), retried once.

The first try dies after its pods landed (before returning them), so the retry must adopt
them (and their placements) rather than launch again.
"""

from __future__ import annotations

import datetime
from typing import Any

from airflow.sdk import DAG, task

from yotta_async import Placement
from yotta_async.contrib.airflow import YottaDeletePodsOperator, YottaLaunchPodsOperator


class LaunchThatDiesOnce(YottaLaunchPodsOperator):
    """Fails its first try once the trigger reported the pods ready (a worker lost then)."""

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        if context["ti"].try_number == 1:
            raise RuntimeError("worker lost after the pods were ready")
        return super().execute_complete(context, event)


with DAG("yotta_failover", schedule=None, start_date=datetime.datetime(2025, 1, 1), catchup=False) as dag:
    launch = LaunchThatDiesOnce(
        task_id="launch", count=3, name="fo", image="nvidia/cuda:12.1.0-base-ubuntu22.04", gpu_count=1,
        expose=["22/ssh", "8888/http"], until="ready", ready_ports=["ssh"], timeout=300,
        placements=[Placement("NVIDIA_H100_80G", "us-east-1"), ("NVIDIA_H100_80G", "{{ params.fallback }}")],
        params={"fallback": "us-east-2"}, retries=1, retry_delay=datetime.timedelta(0),
    )

    @task
    def work(pods: list[dict[str, Any]]) -> dict[str, Any]:
        return {"where": sorted(p["placement"]["region"] for p in pods),
                "ssh": [p["ssh"] is not None for p in pods]}

    done = work(launch.output)
    delete = YottaDeletePodsOperator(task_id="delete", pod_ids=launch.output, timeout=120)
    done >> delete
