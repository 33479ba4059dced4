"""An Airflow DAG: launch 8 GPU pods, wait in the triggerer until they run, work, delete them.

Put this file in your DAG folder, install ``yotta-async[airflow]`` and create the connection::

    AIRFLOW_CONN_YOTTA_DEFAULT='{"conn_type": "yotta", "password": "<API key>"}'

While the pods start, the launch task holds no worker slot: it is deferred to the triggerer,
where every Yotta wait of every DAG shares one poller (about one ``GET /v2/pods`` per tick).
"""

from __future__ import annotations

import datetime
from typing import Any

from airflow.sdk import DAG, task

from yotta_async.contrib.airflow import YottaDeletePodsOperator, YottaLaunchPodsOperator

with DAG(
    "yotta_gpu_fanout",
    schedule=None,
    start_date=datetime.datetime(2025, 1, 1),
    catchup=False,
    tags=["yotta", "gpu"],
) as dag:
    launch = YottaLaunchPodsOperator(
        task_id="launch",
        count=8,
        name="train-{{ ds_nodash }}",
        image="nvidia/cuda:12.1.0-base-ubuntu22.04",
        gpu_type="NVIDIA_H100_80G",
        gpu_count=1,
        env={"RUN_ID": "{{ run_id }}"},
        expose=["22/ssh"],
        timeout=900,               # seconds until the pods must be RUNNING
        on_failure="delete",       # the final failed try deletes what it made
        retries=2,                 # a retry adopts the pods an earlier try made
    )

    @task
    def work(pods: list[dict[str, Any]]) -> list[str]:
        """Stand-in for the real job: each pod record has its id (a string), status and ssh endpoint."""
        return [f"{pod['id']} {pod['status']} ssh={pod['ssh']}" for pod in pods]

    done = work(launch.output)
    # all_done: the pods are deleted even if the work failed.
    delete = YottaDeletePodsOperator(task_id="delete", pod_ids=launch.output, trigger_rule="all_done")
    done >> delete
