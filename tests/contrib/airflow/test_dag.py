"""End to end through a real Airflow: ``dag.test()`` runs launch -> defer -> trigger -> XCom -> delete."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from yotta_async.testing import Timings

from ._dags import DAG_SOURCES, load_dag
from ._sim import ThreadedSimulator, threaded_simulator
from .conftest import connection_json

FAST = {"poll_floor": 0.05, "poll_max": 0.2}
# TERMINATED pods stay listed, so a test can count every pod a run made however long the run
# took on a loaded machine (the default 60 s of retention is 0.6 s at time_scale=0.01).
KEEP = Timings(retention=1e6)


@pytest.fixture
def server(airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedSimulator]:
    """A simulator 100x faster than real time, and ``yotta_default`` pointing at it."""
    with threaded_simulator(time_scale=0.01, timings=KEEP) as srv:
        conn = connection_json(srv.sim.api_key, srv.sim.base_url, **FAST)
        monkeypatch.setenv("AIRFLOW_CONN_YOTTA_DEFAULT", conn)
        yield srv


def task_states(run: Any) -> dict[str, tuple[str, int]]:
    return {ti.task_id: (str(ti.state), ti.try_number) for ti in run.get_task_instances()}


def xcom(run: Any, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.query(XComModel).filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id=task_id,
                                                 key="return_value").one()
        return XComModel.deserialize_value(row)


@pytest.fixture
def trigger_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The kwargs of every YottaPodsTrigger that ran (proof that the tasks really deferred)."""
    from yotta_async.contrib.airflow import YottaPodsTrigger

    runs: list[dict[str, Any]] = []
    original = YottaPodsTrigger.run

    def spy(self: YottaPodsTrigger) -> Any:
        runs.append(self.serialize()[1])
        return original(self)

    monkeypatch.setattr(YottaPodsTrigger, "run", spy)
    return runs


def test_launch_defer_xcom_delete(
    server: ThreadedSimulator, airflow_db: Path, trigger_runs: list[dict[str, Any]]
) -> None:
    dag = load_dag(DAG_SOURCES / "yotta_e2e.py", airflow_db)
    run = dag.test()

    assert str(run.state) == "success", task_states(run)
    states = task_states(run)
    assert states == {"launch": ("success", 1), "work": ("success", 1), "delete": ("success", 1)}
    pods = xcom(run, "launch")
    assert len(pods) == 3
    assert all(isinstance(p["id"], str) and int(p["id"]) > 2**53 for p in pods)  # exact, as strings
    assert {p["status"] for p in pods} == {"RUNNING"}
    assert all(p["ssh"] is None or {"host", "port"} <= set(p["ssh"]) for p in pods)
    summary = xcom(run, "work")
    assert summary["id_types"] == ["str"] and summary["statuses"] == ["RUNNING"]
    assert sorted(xcom(run, "delete")) == sorted(p["id"] for p in pods)
    # both waits ran in a trigger, rebuilt from its serialised kwargs
    assert [(r["until"], sorted(r["pod_ids"])) for r in trigger_runs] == [
        ("running", sorted(p["id"] for p in pods)), ("terminated", sorted(p["id"] for p in pods))]

    sim = server.sim
    assert server.call(lambda: sim.live_pods()) == 0
    counts = server.call(lambda: dict(sim.request_counts))
    assert counts["POST /v2/pods"] == 3
    # templated env reached the pods: the spec was rendered before the creates
    envs = server.call(lambda: [p.get("environmentVars") for p in sim.pods()])
    assert all(any(v["key"] == "RUN" and v["value"] == run.run_id for v in env) for env in envs)


def test_retried_launch_adopts_the_pods_its_failed_try_made(
    server: ThreadedSimulator, airflow_db: Path
) -> None:
    dag = load_dag(DAG_SOURCES / "yotta_retry.py", airflow_db)
    run = dag.test()

    assert str(run.state) == "success", task_states(run)
    assert task_states(run)["launch"] == ("success", 2)  # the first try really failed
    sim = server.sim
    counts = server.call(lambda: dict(sim.request_counts))
    assert counts["POST /v2/pods"] == 4  # try 2 created nothing: it adopted try 1's four pods
    all_pods = server.call(lambda: sim.pods())
    assert len(all_pods) == 4
    tokens = {v["value"] for p in all_pods for v in p["environmentVars"] if v["key"] == "YOTTA_ASYNC_TOKEN"}
    assert len(tokens) == 4 and all(t.endswith("-t1") for t in tokens)
    assert sorted(p["id"] for p in xcom(run, "launch")) == sorted(str(p["id"]) for p in all_pods)
    assert server.call(lambda: sim.live_pods()) == 0


def test_worker_wait_pause_and_templated_delete(server: ThreadedSimulator, airflow_db: Path) -> None:
    dag = load_dag(DAG_SOURCES / "yotta_modes.py", airflow_db)
    run = dag.test()

    assert str(run.state) == "success", task_states(run)
    pods = xcom(run, "launch")
    assert [p["status"] for p in pods] == ["RUNNING", "RUNNING"]
    assert sorted(xcom(run, "pause")) == sorted(p["id"] for p in pods)
    assert sorted(xcom(run, "delete")) == sorted(p["id"] for p in pods)
    sim = server.sim
    counts = server.call(lambda: dict(sim.request_counts))
    assert counts["POST /v2/pods/{id}/pause"] == 2 and counts["DELETE /v2/pods/{id}"] == 2
    assert server.call(lambda: sim.live_pods()) == 0


def test_a_launch_whose_pods_fail_cleans_up_and_fails(server: ThreadedSimulator, airflow_db: Path) -> None:
    dag = load_dag(DAG_SOURCES / "yotta_fails.py", airflow_db)
    run = dag.test()

    assert str(run.state) == "failed"
    assert task_states(run)["launch"] == ("failed", 1)
    sim = server.sim
    counts = server.call(lambda: dict(sim.request_counts))
    assert counts["POST /v2/pods"] == 2 and counts["DELETE /v2/pods/{id}"] == 2  # FAILED pods deleted
    assert server.call(lambda: sim.live_pods(include_terminating=False)) == 0


def test_ready_launch_over_placements_fails_over_and_its_retry_adopts(
    airflow_db: Path, monkeypatch: pytest.MonkeyPatch, trigger_runs: list[dict[str, Any]]
) -> None:
    capacity = {("NVIDIA_H100_80G", "us-east-1"): 1, ("NVIDIA_H100_80G", "us-east-2"): 10}
    with threaded_simulator(time_scale=0.01, capacity=capacity, port_health={"ssh": 20.0},
                            timings=KEEP) as srv:
        conn = connection_json(srv.sim.api_key, srv.sim.base_url, **FAST)
        monkeypatch.setenv("AIRFLOW_CONN_YOTTA_DEFAULT", conn)
        dag = load_dag(DAG_SOURCES / "yotta_failover.py", airflow_db)
        run = dag.test()

        assert str(run.state) == "success", task_states(run)
        assert task_states(run)["launch"] == ("success", 2)  # the first try really died
        pods = xcom(run, "launch")
        assert [p["name"] for p in pods] == ["fo-0", "fo-1", "fo-2"]
        assert xcom(run, "work") == {"where": ["us-east-1", "us-east-2", "us-east-2"], "ssh": [True] * 3}
        assert all(next(e for e in p["expose"] if e["port"] == 22)["healthy"] for p in pods)  # ready
        # both tries ran the launch in the triggerer, the fallback region rendered from params
        launches = [r for r in trigger_runs if "plan" in r]
        assert len(launches) == 2
        assert launches[0]["plan"]["placements"] == [["NVIDIA_H100_80G", "us-east-1"],
                                                     ["NVIDIA_H100_80G", "us-east-2"]]
        assert (launches[0]["until"], launches[0]["ready_ports"]) == ("ready", ["ssh"])

        sim = srv.sim
        every = srv.call(lambda: sim.pods())
        tokens = [v["value"] for p in every for v in p["environmentVars"] if v["key"] == "YOTTA_ASYNC_TOKEN"]
        # 3 landed + 2 that found us-east-1 full (FAILED, deleted, replaced), all by try 1: the
        # retry created nothing, it adopted
        assert srv.call(lambda: sim.request_counts["POST /v2/pods"]) == 5
        assert len(every) == 5 and {p["id"] for p in pods} <= {str(p["id"]) for p in every}
        assert not any("-t2" in t for t in tokens)
        assert srv.call(lambda: sim.live_pods()) == 0
