"""``examples/airflow_dag.py`` runs end to end under ``dag.test()`` against the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._dags import load_dag
from ._sim import threaded_simulator
from .conftest import connection_json

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "airflow_dag.py"


def test_example_dag_launches_8_pods_works_and_deletes_them(
    airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with threaded_simulator(time_scale=0.01) as server:
        sim = server.sim
        monkeypatch.setenv("AIRFLOW_CONN_YOTTA_DEFAULT",
                           connection_json(sim.api_key, sim.base_url, poll_floor=0.05, poll_max=0.2))
        dag = load_dag(EXAMPLE, airflow_db)
        run = dag.test()

        states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        assert states == {"launch": "success", "work": "success", "delete": "success"}
        counts = server.call(lambda: dict(sim.request_counts))
        assert counts["POST /v2/pods"] == 8 and counts["DELETE /v2/pods/{id}"] == 8
        assert server.call(lambda: sim.live_pods()) == 0
