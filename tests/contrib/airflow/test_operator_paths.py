"""Operator code paths driven directly (a stand-in task instance), against a threaded simulator.

``dag.test()`` (test_dag.py) proves the happy paths inside Airflow; here each branch is forced:
create failures on a retryable and on the final try, adoption and resumption, Airflow's own
deferral timeout, ``on_kill`` (even from inside a running event loop), already-done actions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from yotta_async import EnvVar, Placement, PodStatus
from yotta_async.contrib.airflow import (
    YottaDeletePodsOperator,
    YottaLaunchPodsOperator,
    YottaLaunchTrigger,
    YottaPausePodsOperator,
    YottaPodsTrigger,
)
from yotta_async.contrib.airflow._common import TOKEN_ENV, task_token_prefix
from yotta_async.testing import FaultPlan, FaultRule, ManualClock

from ._sim import ThreadedSimulator, threaded_simulator
from .conftest import connection_json

SPEC = {"name": "p", "image": "nvidia/cuda:12.1.0-base-ubuntu22.04", "gpu_type": "NVIDIA_H100_80G",
        "gpu_count": 1}


@dataclass
class TI:
    """The task-instance fields the operators read."""

    try_number: int = 1
    max_tries: int = 0
    dag_id: str = "d"
    task_id: str = "t"
    run_id: str = "r"
    map_index: int = -1


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedSimulator]:
    with threaded_simulator(time_scale=0.001) as srv:
        conn = connection_json(srv.sim.api_key, srv.sim.base_url, max_retries=0, poll_floor=0.01,
                               poll_max=0.05)
        monkeypatch.setenv("AIRFLOW_CONN_YOTTA_DEFAULT", conn)
        yield srv


def deferred(op: Any, ti: TI) -> YottaPodsTrigger:
    from airflow.sdk.exceptions import TaskDeferred

    with pytest.raises(TaskDeferred) as info:
        op.execute({"ti": ti})
    trigger = info.value.trigger
    assert isinstance(trigger, YottaPodsTrigger)
    assert info.value.method_name == "execute_complete"
    return trigger


def pods(server: ThreadedSimulator) -> list[dict[str, Any]]:
    sim = server.sim
    return server.call(lambda: sim.pods())


def live(server: ThreadedSimulator) -> int:
    sim = server.sim
    return server.call(lambda: sim.live_pods(include_terminating=False))


def fail_next_creates(server: ThreadedSimulator, n: int) -> None:
    """The next ``n`` creates get a 429 (with max_retries=0: a clean, unambiguous failure)."""
    plan = FaultPlan(rules={"POST /v2/pods": FaultRule(rate_limit=1.0, retry_after=0.0, limit=n)})
    sim = server.sim
    server.call(lambda: setattr(sim, "faults", plan))


def test_execute_defers_with_the_pods_and_the_cleanup_policy(server: ThreadedSimulator) -> None:
    op = YottaLaunchPodsOperator(task_id="t", count=3, on_failure="pause", timeout=50, **SPEC)
    trigger = deferred(op, TI())
    assert len(trigger.pod_ids) == 3 and trigger.until == "running"
    assert (trigger.on_kill_action, trigger.timeout) == ("pause", 50.0)
    prefix = task_token_prefix("d", "t", "r", -1)
    tokens = sorted(v["value"] for p in pods(server) for v in p["environmentVars"] if v["key"] == TOKEN_ENV)
    assert tokens == [f"{prefix}{i}-t1" for i in range(3)]


def test_a_failed_create_on_a_retryable_try_keeps_the_pods(server: ThreadedSimulator) -> None:
    from airflow.sdk.exceptions import AirflowException

    op = YottaLaunchPodsOperator(task_id="t", count=3, **SPEC)
    fail_next_creates(server, 1)
    with pytest.raises(AirflowException, match="1 of 3 creates failed"):
        op.execute({"ti": TI(try_number=1, max_tries=1)})
    assert live(server) == 2  # kept: Airflow will retry, and the retry adopts them
    trigger = deferred(op, TI(try_number=2, max_tries=1))
    assert len(trigger.pod_ids) == 3
    sim = server.sim
    assert server.call(lambda: sim.request_counts["POST /v2/pods"]) == 4  # 3 + only the missing one


def test_a_retry_adopts_live_pods_resumes_paused_ones_and_replaces_dead_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prefix = task_token_prefix("d", "t", "r", -1)
    with threaded_simulator(clock=ManualClock()) as srv:
        sim = srv.sim
        monkeypatch.setenv("AIRFLOW_CONN_YOTTA_DEFAULT", connection_json(sim.api_key, sim.base_url))

        def seed(index: int, status: PodStatus) -> int:
            env = [EnvVar(key=TOKEN_ENV, value=f"{prefix}{index}-t1")]
            return srv.call(lambda: sim.add_pods(1, status=status, environment_vars=env))[0]

        paused, running = seed(0, PodStatus.PAUSED), seed(1, PodStatus.RUNNING)
        dead = seed(2, PodStatus.FAILED)
        op = YottaLaunchPodsOperator(task_id="t", count=3, **SPEC)
        trigger = deferred(op, TI(try_number=2, max_tries=2))
        counts = srv.call(lambda: dict(sim.request_counts))
        new = [pid for pid in trigger.pod_ids if pid not in (paused, running)]
        new_token = srv.call(lambda: sim.pod(new[0]))["environmentVars"][0]["value"]
    assert trigger.pod_ids[:2] == [paused, running] and dead not in trigger.pod_ids and len(new) == 1
    assert counts["POST /v2/pods"] == 1 and counts["POST /v2/pods/{id}/resume"] == 1
    assert new_token == f"{prefix}2-t2"  # a fresh token: the dead pod's must not be reconciled to


def test_a_failed_create_on_the_final_try_deletes_what_was_made(server: ThreadedSimulator) -> None:
    from airflow.sdk.exceptions import AirflowException

    op = YottaLaunchPodsOperator(task_id="t", count=3, **SPEC)
    fail_next_creates(server, 1)
    with pytest.raises(AirflowException):
        op.execute({"ti": TI(try_number=1, max_tries=0)})
    assert live(server) == 0
    assert len(pods(server)) == 2  # the two that were made are TERMINATING


def test_airflow_deferral_timeout_cleans_up_per_on_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow's own deadline (next_method "__fail__") finds the task's pods by token and acts."""
    from airflow.sdk.exceptions import TaskDeferralTimeout

    prefix = task_token_prefix("d", "t", "r", -1)
    with threaded_simulator(clock=ManualClock()) as srv:  # frozen: statuses stay as seeded
        sim = srv.sim
        monkeypatch.setenv("AIRFLOW_CONN_YOTTA_DEFAULT", connection_json(sim.api_key, sim.base_url))

        def seed(index: int, status: PodStatus | None) -> int:
            env = [EnvVar(key=TOKEN_ENV, value=f"{prefix}{index}-t1")]
            return srv.call(lambda: sim.add_pods(1, status=status, environment_vars=env))[0]

        running, starting, failed = seed(0, PodStatus.RUNNING), seed(1, None), seed(2, PodStatus.FAILED)
        stranger = srv.call(lambda: sim.add_pods(1, status=PodStatus.RUNNING))[0]  # not this task's

        op = YottaLaunchPodsOperator(task_id="t", count=3, on_failure="pause", **SPEC)
        with pytest.raises(TaskDeferralTimeout):
            op.resume_execution("__fail__", {"error": "Trigger timeout"}, {"ti": TI()})
        status = {pid: srv.call(lambda pid=pid: sim.status(pid))
                  for pid in (running, starting, failed, stranger)}
    # "pause" pauses what runs, deletes what cannot pause yet (and the FAILED pod); others untouched
    assert status == {running: PodStatus.PAUSING, starting: PodStatus.TERMINATING,
                      failed: PodStatus.TERMINATING, stranger: PodStatus.RUNNING}


def test_execute_complete_returns_pods_or_raises(server: ThreadedSimulator) -> None:
    from airflow.sdk.exceptions import AirflowException

    op = YottaLaunchPodsOperator(task_id="t", **SPEC)
    pods_ = [{"id": "1", "status": "RUNNING"}]
    assert op.execute_complete({"ti": TI()}, {"status": "success", "pods": pods_}) == pods_
    with pytest.raises(AirflowException, match="pod 9 PodFailedError"):
        op.execute_complete({"ti": TI()}, {"status": "failed", "message": "pod 9 PodFailedError (FAILED)",
                                           "failures": [{"pod_id": "9", "status": "FAILED"}]})


async def test_on_kill_from_inside_a_running_loop_cleans_up(server: ThreadedSimulator) -> None:
    """The task runner calls on_kill() from a SIGTERM handler, possibly inside execute's loop."""
    op = YottaLaunchPodsOperator(task_id="t", count=2, deferrable=False, **SPEC)
    await asyncio.to_thread(lambda: deferred_or_started(op))
    assert live(server) == 2
    op.on_kill()  # this test's loop is running: the cleanup must use a thread of its own
    assert live(server) == 0


def deferred_or_started(op: YottaLaunchPodsOperator) -> None:
    """Create the pods (what execute does before it waits), as a killed task would have."""
    op.deferrable = True
    deferred(op, TI())


def test_delete_and_pause_accept_pods_already_there(server: ThreadedSimulator) -> None:
    sim = server.sim
    ids = server.call(lambda: sim.add_pods(3, status=PodStatus.RUNNING))
    _, paused, terminating = ids
    gone = 2**62 + 12345  # never existed: deleting it is a no-op, not an error
    server.call(lambda: sim.store.pause(sim.store.get(paused)))
    server.call(lambda: sim.store.delete(sim.store.get(terminating)))

    pause = YottaPausePodsOperator(task_id="pause", pod_ids=[paused], deferrable=False, timeout=60)
    assert pause.execute({"ti": TI()}) == [str(paused)]
    every = [*ids, gone]
    delete = YottaDeletePodsOperator(task_id="delete", pod_ids=[str(i) for i in every], wait=False)
    assert delete.execute({"ti": TI()}) == [str(i) for i in every]
    assert YottaDeletePodsOperator(task_id="none", pod_ids=[]).execute({"ti": TI()}) == []


def test_pausing_a_pod_that_cannot_pause_fails_the_task(server: ThreadedSimulator) -> None:
    from airflow.sdk.exceptions import AirflowException

    sim = server.sim
    [pid] = server.call(lambda: sim.add_pods(1, status=PodStatus.TERMINATED))
    with pytest.raises(AirflowException, match="pause failed for 1 pods"):
        YottaPausePodsOperator(task_id="pause", pod_ids=[pid]).execute({"ti": TI()})


PLACES = [("NVIDIA_H100_80G", "us-east-1"), ("NVIDIA_H100_80G", "us-east-2")]
NO_GPU = {k: v for k, v in SPEC.items() if k != "gpu_type"}  # the placements say which GPU


def test_with_placements_the_whole_launch_defers_to_the_launch_trigger(server: ThreadedSimulator) -> None:
    op = YottaLaunchPodsOperator(task_id="t", count=2, until="ready", ready_ports=[22], probe=True,
                                 placements=PLACES, timeout=60, on_failure="pause", **NO_GPU)
    trigger = deferred(op, TI(try_number=3))
    assert isinstance(trigger, YottaLaunchTrigger)
    assert (trigger.until, trigger.ready_ports, trigger.probe) == ("ready", [22], True)
    assert (trigger.on_kill_action, trigger.timeout) == ("pause", 60.0)
    assert trigger.plan.placements == [Placement(*p) for p in PLACES]
    assert (trigger.plan.count, trigger.plan.try_number) == (2, 3)
    assert trigger.plan.prefix == task_token_prefix("d", "t", "r", -1)
    assert trigger.plan.request.gpu_type == "NVIDIA_H100_80G"  # filled in from the first placement
    sim = server.sim
    assert server.call(lambda: sim.request_counts["POST /v2/pods"]) == 0  # the trigger creates


def test_a_worker_launch_over_placements_reports_where_each_pod_landed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    capacity = {("NVIDIA_H100_80G", "us-east-1"): 1, ("NVIDIA_H100_80G", "us-east-2"): 10}
    with threaded_simulator(time_scale=0.001, capacity=capacity, over_capacity="refuse") as srv:
        conn = connection_json(srv.sim.api_key, srv.sim.base_url, poll_floor=0.01, poll_max=0.05)
        monkeypatch.setenv("AIRFLOW_CONN_YOTTA_DEFAULT", conn)
        op = YottaLaunchPodsOperator(task_id="t", count=3, deferrable=False, placements=PLACES, timeout=60,
                                     **NO_GPU)
        records = op.execute({"ti": TI()})
        sim = srv.sim
        counts = srv.call(lambda: dict(sim.request_counts))
    assert [r["placement"]["region"] for r in records].count("us-east-1") == 1
    assert [r["placement"]["region"] for r in records].count("us-east-2") == 2
    assert counts["POST /v2/pods"] >= 4  # at least one create was refused on us-east-1


def test_placements_running_out_on_the_final_try_fail_the_task_and_clean_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.sdk.exceptions import AirflowException

    capacity = {("NVIDIA_H100_80G", "us-east-1"): 1, ("NVIDIA_H100_80G", "us-east-2"): 1}
    with threaded_simulator(time_scale=0.001, capacity=capacity) as srv:
        conn = connection_json(srv.sim.api_key, srv.sim.base_url, poll_floor=0.01, poll_max=0.05)
        monkeypatch.setenv("AIRFLOW_CONN_YOTTA_DEFAULT", conn)
        op = YottaLaunchPodsOperator(task_id="t", count=3, deferrable=False, placements=PLACES, timeout=60,
                                     **NO_GPU)
        with pytest.raises(AirflowException, match="CapacityError: placements ran out") as info:
            op.execute({"ti": TI(try_number=1, max_tries=0)})
        assert live(srv) == 0  # the final try deleted the pods that did land, too
    assert "NVIDIA_H100_80G@us-east-2: pod" in str(info.value)  # every attempt is listed
