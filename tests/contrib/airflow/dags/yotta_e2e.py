"""Test DAG: launch 3 pods (deferred), use their XCom, delete them (deferred)."""

from __future__ import annotations

import datetime

from airflow.sdk import DAG, task

from yotta_async.contrib.airflow import YottaDeletePodsOperator, YottaLaunchPodsOperator

with DAG("yotta_e2e", schedule=None, start_date=datetime.datetime(2025, 1, 1), catchup=False) as dag:
    launch = YottaLaunchPodsOperator(
        task_id="launch", count=3, name="e2e", image="nvidia/cuda:12.1.0-base-ubuntu22.04",
        gpu_type="NVIDIA_H100_80G", gpu_count=1, env={"RUN": "{{ run_id }}"}, timeout=120,
    )

    @task
    def work(pods: list[dict[str, object]]) -> dict[str, object]:
        return {"ids": [p["id"] for p in pods], "statuses": sorted({str(p["status"]) for p in pods}),
                "id_types": sorted({type(p["id"]).__name__ for p in pods})}

    done = work(launch.output)
    delete = YottaDeletePodsOperator(task_id="delete", pod_ids=launch.output, timeout=120)
    done >> delete
