"""Test DAG: launch waiting in the worker, pause (deferred), delete from a rendered template string."""

from __future__ import annotations

import datetime

from airflow.sdk import DAG

from yotta_async import PodCreateRequest
from yotta_async.contrib.airflow import (
    YottaDeletePodsOperator,
    YottaLaunchPodsOperator,
    YottaPausePodsOperator,
)

with DAG("yotta_modes", schedule=None, start_date=datetime.datetime(2025, 1, 1), catchup=False) as dag:
    launch = YottaLaunchPodsOperator(
        task_id="launch", count=2, deferrable=False, timeout=120,
        request=PodCreateRequest(name="modes", image="nvidia/cuda:12.1.0-base-ubuntu22.04",
                                 gpu_type="NVIDIA_H100_80G", gpu_count=1),
    )
    pause = YottaPausePodsOperator(task_id="pause", pod_ids=launch.output, timeout=120)
    delete = YottaDeletePodsOperator(
        task_id="delete", pod_ids="{{ ti.xcom_pull(task_ids='launch') }}", deferrable=False, timeout=120,
    )
    pause >> delete
