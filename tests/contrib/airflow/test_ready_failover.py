"""``until="ready"`` and capacity failover (``placements``) in the triggers, against the simulator."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from yotta_async import EnvVar, ExposePort, Placement, PodCreateRequest, PodStatus, ValidationError
from yotta_async.contrib.airflow import YottaHook, YottaLaunchTrigger, YottaPodsTrigger
from yotta_async.contrib.airflow._common import TOKEN_ENV, task_token_prefix
from yotta_async.contrib.airflow._launch import LaunchPlan, placement_of
from yotta_async.testing import ManualClock, Simulator, Timings

from .conftest import connection_json

H100 = "NVIDIA_H100_80G"
EAST1, EAST2, EAST3 = Placement(H100, "us-east-1"), Placement(H100, "us-east-2"), Placement(H100, "us-east-3")
T = Timings(jitter=0.0, port_health=5.0)
REQUEST = PodCreateRequest.build(name="w", image="img", gpu_type=H100, gpu_count=1,
                                 expose=["22/ssh", "8888/http"])
EXPOSE = [ExposePort(port=22, protocol="SSH"), ExposePort(port=8888, protocol="HTTP")]
PREFIX = task_token_prefix("dag", "launch", "run-1", -1)


async def first_event(trigger: YottaPodsTrigger) -> dict[str, Any]:
    gen = trigger.run()
    try:
        event = await gen.__anext__()
    finally:
        await gen.aclose()
    payload: dict[str, Any] = event.payload
    return payload


@pytest.fixture
def use_sim(monkeypatch: pytest.MonkeyPatch) -> Callable[[Simulator, ManualClock], None]:
    """Point ``yotta_default`` at a simulator, the clients on its ManualClock (1 s ticks)."""

    def point(sim: Simulator, clock: ManualClock) -> None:
        conn = connection_json(sim.api_key, sim.base_url, poll_floor=1.0, poll_max=1.0)
        monkeypatch.setenv("AIRFLOW_CONN_YOTTA_DEFAULT", conn)
        original = YottaHook.client_kwargs.__func__  # type: ignore[attr-defined]

        def with_clock(cls: type[YottaHook], conn: Any) -> dict[str, Any]:
            return {**original(cls, conn), "clock": clock.now, "sleep": clock.sleep}

        monkeypatch.setattr(YottaHook, "client_kwargs", classmethod(with_clock))

    return point


def running_at(sim: Simulator, pod_id: int) -> float:
    pod = sim.store.get(pod_id)
    assert pod is not None
    return next(t for t, s in pod.timeline if s is PodStatus.RUNNING)


GONE = ("TERMINATING", "TERMINATED")


def status_of(sim: Simulator, pod_id: int) -> str:
    return next(str(p["status"]) for p in sim.pods() if p["id"] == pod_id)


def plan(count: int, placements: list[Placement], try_number: int = 1) -> dict[str, Any]:
    return LaunchPlan(REQUEST, count, placements, PREFIX, try_number).to_dict()


def token(sim_pod: dict[str, Any]) -> str:
    return next(v["value"] for v in sim_pod["environmentVars"] if v["key"] == TOKEN_ENV)


# -- until="ready" -------------------------------------------------------------------------------
async def test_ready_waits_past_running_for_lagging_port_health(
    use_sim: Callable[[Simulator, ManualClock], None],
) -> None:
    clock = ManualClock()
    async with Simulator(clock=clock, timings=T, port_health={"ssh": 30.0, 8888: 90.0}) as sim:
        use_sim(sim, clock)
        pid = sim.add_pods(1, status=None, expose=EXPOSE)[0]
        running = await first_event(YottaPodsTrigger(pod_ids=[pid], until="running", timeout=600))
        assert running["pods"][0]["status"] == "RUNNING"
        assert not all(e["healthy"] for e in running["pods"][0]["expose"])  # RUNNING is not ready
        ssh = await first_event(YottaPodsTrigger(pod_ids=[pid], until="ready", ready_ports=["ssh"],
                                                 timeout=600))
        assert ssh["status"] == "success" and ssh["until"] == "ready"
        assert clock.now() >= running_at(sim, pid) + 30.0
        record = ssh["pods"][0]
        entry = next(e for e in record["expose"] if e["port"] == 22)
        assert entry["healthy"] is True
        assert record["ssh"] == {"host": entry["host"], "port": entry["proxy_port"]}  # Pod.ssh_endpoint
        every = await first_event(YottaPodsTrigger(pod_ids=[pid], until="ready", timeout=600))
        assert every["status"] == "success" and all(e["healthy"] for e in every["pods"][0]["expose"])
        assert clock.now() >= running_at(sim, pid) + 90.0


async def test_ready_that_never_comes_fails_naming_the_port(
    use_sim: Callable[[Simulator, ManualClock], None],
) -> None:
    clock = ManualClock()
    async with Simulator(clock=clock, timings=T, port_health={"http": math.inf}) as sim:
        use_sim(sim, clock)
        pid = sim.add_pods(1, status=None, expose=EXPOSE)[0]
        event = await first_event(YottaPodsTrigger(pod_ids=[pid], until="ready", timeout=300))
        assert event["status"] == "failed"
        [failure] = event["failures"]
        assert failure["error"] == "WaitTimeoutError" and failure["status"] == "RUNNING"
        assert "8888/HTTP" in failure["message"] and failure["pod_id"] == str(pid)


# -- placements ----------------------------------------------------------------------------------
@pytest.mark.parametrize("over_capacity", ["fail", "refuse"])
async def test_launch_fails_over_from_an_exhausted_first_placement(
    use_sim: Callable[[Simulator, ManualClock], None], over_capacity: str,
) -> None:
    clock = ManualClock()
    capacity = {(H100, "us-east-3"): 0, (H100, "us-east-1"): 2, (H100, "us-east-2"): 20}
    mode: Any = over_capacity
    async with Simulator(clock=clock, timings=T, capacity=capacity, over_capacity=mode) as sim:
        use_sim(sim, clock)
        trigger = YottaLaunchTrigger(plan(5, [EAST3, EAST1, EAST2]), until="ready", ready_ports=["ssh"],
                                     timeout=900)
        event = await first_event(trigger)

        assert event["status"] == "success", event["message"]
        pods = event["pods"]
        assert len(pods) == 5 and {p["status"] for p in pods} == {"RUNNING"}
        assert Counter(p["placement"]["region"] for p in pods) == {"us-east-1": 2, "us-east-2": 3}
        assert all(p["placement"]["region"] == p["region"] for p in pods)  # the record says where it is
        assert all(p["ssh"] is not None for p in pods)
        assert [p["name"] for p in pods] == [f"w-{i}" for i in range(5)]
        # us-east-3 was reported unavailable and skipped: no create was sent there
        every = sim.pods()
        assert not any(p.get("region") == "us-east-3" for p in every)
        posts = sim.request_counts["POST /v2/pods"]
        assert posts >= 5 + 3  # the three that found us-east-1 full were replaced
        live = [p for p in every if p["status"] not in ("TERMINATED", "TERMINATING")]
        assert sorted(str(p["id"]) for p in live) == sorted(p["id"] for p in pods)  # no FAILED pod left
        assert all(token(p).startswith(PREFIX) for p in every)


async def test_a_second_run_adopts_instead_of_creating(
    use_sim: Callable[[Simulator, ManualClock], None],
) -> None:
    """A triggerer restart, or a retried try: the pods already there are waited for, not re-made."""
    clock = ManualClock()
    capacity = {(H100, "us-east-1"): 1, (H100, "us-east-2"): 20}
    async with Simulator(clock=clock, timings=T, capacity=capacity) as sim:
        use_sim(sim, clock)
        first = await first_event(YottaLaunchTrigger(plan(3, [EAST1, EAST2]), timeout=900))
        assert first["status"] == "success", first["message"]
        posts = sim.request_counts["POST /v2/pods"]
        # a surplus pod carrying an index of ours (a create that landed late) must not survive
        extra = sim.add_pods(1, status=PodStatus.RUNNING,
                             regions=["us-east-2"],
                             environment_vars=[EnvVar(key=TOKEN_ENV, value=f"{PREFIX}1-t1-p1")])[0]
        again = await first_event(YottaLaunchTrigger(plan(3, [EAST1, EAST2], try_number=2), timeout=900))
        assert again["status"] == "success", again["message"]
        assert sim.request_counts["POST /v2/pods"] == posts  # nothing new was created
        where = [(p["id"], p["placement"]) for p in first["pods"]]
        assert [(p["id"], p["placement"]) for p in again["pods"]] == where
        assert status_of(sim, extra) in GONE


async def test_running_out_of_placements_fails_listing_every_attempt(
    use_sim: Callable[[Simulator, ManualClock], None],
) -> None:
    clock = ManualClock()
    capacity = {(H100, "us-east-1"): 1, (H100, "us-east-2"): 1}
    async with Simulator(clock=clock, timings=T, capacity=capacity) as sim:
        use_sim(sim, clock)
        event = await first_event(YottaLaunchTrigger(plan(3, [EAST1, EAST2]), timeout=900))
        assert event["status"] == "failed"
        assert event["message"].startswith("CapacityError: placements ran out")
        assert event["attempts"] and all(a["reason"] == "FAILED before RUNNING" for a in event["attempts"])
        assert {a["region"] for a in event["attempts"]} <= {"us-east-1", "us-east-2"}
        failed = {a["pod_id"] for a in event["attempts"]}
        # every replaced pod was deleted; the ones that landed are the operator's to clean up
        assert failed and all(status_of(sim, int(pid)) in GONE for pid in failed)


async def test_a_user_killing_the_launch_deletes_every_pod_of_the_task(
    use_sim: Callable[[Simulator, ManualClock], None],
) -> None:
    clock = ManualClock()
    async with Simulator(clock=clock, timings=T) as sim:
        use_sim(sim, clock)
        await first_event(YottaLaunchTrigger(plan(2, [EAST1]), timeout=900))
        other = sim.add_pods(1, status=PodStatus.RUNNING)[0]  # not this task's
        await YottaLaunchTrigger(plan(2, [EAST1]), on_kill_action="delete").on_kill()
        assert sim.live_pods(include_terminating=False) == 1
        assert status_of(sim, other) == "RUNNING"


# -- serialisation -------------------------------------------------------------------------------
def test_the_new_fields_round_trip_through_serialize() -> None:
    from airflow.sdk._shared.module_loading import import_string
    from airflow.sdk.serde import deserialize, serialize

    request = PodCreateRequest.build(name="w", image="img", gpu_type=H100, gpu_count=1, env={"K": "v"},
                                     expose=["22/ssh"])
    trigger = YottaLaunchTrigger(LaunchPlan(request, 4, [EAST1, EAST2], PREFIX, 3).to_dict(),
                                 until="ready", timeout=900, conn_id="gpu", on_kill_action="pause",
                                 ready_ports=["ssh", 8888], probe=True)
    classpath, kwargs = trigger.serialize()
    assert classpath == "yotta_async.contrib.airflow.triggers.YottaLaunchTrigger"
    for carried in (json.loads(json.dumps(kwargs)), deserialize(serialize(kwargs))):
        rebuilt = import_string(classpath)(**carried)
        assert rebuilt.serialize() == (classpath, kwargs)
        assert rebuilt.plan == trigger.plan and rebuilt.plan.request == request
        assert (rebuilt.until, rebuilt.ready_ports, rebuilt.probe) == ("ready", ["ssh", 8888], True)
    waits = YottaPodsTrigger(pod_ids=[2**63 - 1], until="ready", ready_ports=[22], probe=True)
    path, wkw = waits.serialize()
    assert wkw["ready_ports"] == [22] and wkw["probe"] is True
    assert import_string(path)(**json.loads(json.dumps(wkw))).serialize() == (path, wkw)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"until": "paused"}, "until"),
        ({"until": "running", "probe": True}, "probe"),
        ({"plan": "nope"}, "plan"),
        ({"plan": {**plan(1, [EAST1]), "placements": []}}, "placements"),
        ({"plan": {**plan(1, [EAST1]), "request": {"name": 5}}}, "request"),
        ({"plan": {k: v for k, v in plan(1, [EAST1]).items() if k != "count"}}, "plan.count"),
        ({"plan": {**plan(1, [EAST1]), "count": "3"}}, "count"),
        ({"plan": {**plan(1, [EAST1]), "try_number": -1}}, "try_number"),
        ({"plan": {**plan(1, [EAST1]), "prefix": ""}}, "prefix"),
        ({"plan": {**plan(1, [EAST1]), "placements": "H100@us-east-1"}}, "placements"),
    ],
)
def test_bad_launch_trigger_arguments_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        YottaLaunchTrigger(**{"plan": plan(1, [EAST1]), **kwargs})
    assert info.value.field == field


async def test_a_retry_deletes_failed_pods_resumes_paused_ones_and_keeps_their_placement(
    use_sim: Callable[[Simulator, ManualClock], None],
) -> None:
    clock = ManualClock()
    async with Simulator(clock=clock, timings=T) as sim:
        use_sim(sim, clock)

        def seed(tail: str, status: PodStatus, region: str) -> int:
            env = [EnvVar(key=TOKEN_ENV, value=f"{PREFIX}{tail}")]
            return sim.add_pods(1, status=status, environment_vars=env, regions=[region], expose=EXPOSE)[0]

        failed = seed("0-t1-p0", PodStatus.FAILED, "us-east-1")
        paused = seed("1-t1-p1", PodStatus.PAUSED, "us-east-2")
        beyond = seed("7-t1-p0", PodStatus.RUNNING, "us-east-1")  # an index past count: surplus
        event = await first_event(YottaLaunchTrigger(plan(2, [EAST1, EAST2], try_number=2), timeout=900))
        assert event["status"] == "success", event["message"]
        assert event["pods"][1]["id"] == str(paused)
        assert event["pods"][1]["placement"] == {"gpu_type": H100, "region": "us-east-2"}
        assert event["pods"][0]["id"] not in (str(failed), str(beyond))
        assert sim.request_counts["POST /v2/pods/{id}/resume"] == 1
        assert sim.request_counts["POST /v2/pods"] == 1  # only index 0 was made again
        assert status_of(sim, beyond) in GONE
        assert status_of(sim, failed) in GONE  # a FAILED pod of an earlier try is never left behind
        assert sim.request_counts["DELETE /v2/pods/{id}"] == 2  # the FAILED pod and the surplus one


async def test_a_wait_that_times_out_names_the_pod(use_sim: Callable[[Simulator, ManualClock], None]) -> None:
    clock = ManualClock()
    async with Simulator(clock=clock, timings=T, port_health={"ssh": math.inf}) as sim:
        use_sim(sim, clock)
        event = await first_event(YottaLaunchTrigger(plan(1, [EAST1]), until="ready", timeout=200))
        assert event["status"] == "failed" and event["message"].startswith("WaitTimeoutError")
        [failure] = event["failures"]
        assert failure["error"] == "WaitTimeoutError" and failure["status"] == "RUNNING"
        assert failure["pod_id"] == str(sim.pods()[0]["id"])


def test_placement_of_reads_the_token_when_the_pod_does_not_say() -> None:
    from yotta_async import Pod

    def pod(tail: str, **kw: Any) -> Pod:
        env = [EnvVar(key=TOKEN_ENV, value=PREFIX + tail)]
        return Pod(id=1, status=PodStatus.RUNNING, environment_vars=env, **kw)

    places = [EAST1, EAST2]
    assert placement_of(pod("0-t1-p1"), places, PREFIX) == EAST2
    assert placement_of(pod("0-t1-p1", gpu_type=H100, region="us-east-3"), places, PREFIX) == EAST3
    assert placement_of(pod("0-t1"), places, PREFIX) == EAST1  # no -p<k>: the first
    assert placement_of(pod("0-t1-p9"), places, PREFIX) == EAST1
