"""``YottaPodsTrigger`` on one event loop, as a triggerer runs it: sharing, events, cancellation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from yotta_async import PodStatus, ValidationError, YottaClient
from yotta_async.contrib.airflow import YottaHook, YottaPodsTrigger
from yotta_async.contrib.airflow import triggers as triggers_module
from yotta_async.contrib.airflow._shared import borrowed_clients
from yotta_async.testing import ManualClock, Simulator

from .conftest import connection_json

BIG = 2**63 - 1


async def first_event(trigger: YottaPodsTrigger) -> dict[str, Any]:
    """What the triggerer does with a single-event trigger: take one event, close the generator."""
    gen = trigger.run()
    try:
        event = await gen.__anext__()
    finally:
        await gen.aclose()
    payload: dict[str, Any] = event.payload
    return payload


@pytest.fixture
def use_sim(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Point ``yotta_default`` at a simulator (optionally on its ManualClock)."""

    def point(sim: Simulator, *, clock: ManualClock | None = None, **extra: object) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_YOTTA_DEFAULT", connection_json(sim.api_key, sim.base_url, **extra))
        if clock is not None:
            original = YottaHook.client_kwargs.__func__  # type: ignore[attr-defined]

            def with_clock(cls: type[YottaHook], conn: Any) -> dict[str, Any]:
                return {**original(cls, conn), "clock": clock.now, "sleep": clock.sleep}

            monkeypatch.setattr(YottaHook, "client_kwargs", classmethod(with_clock))

    return point


# -- serialisation -------------------------------------------------------------------------------
def test_serialize_round_trips_ids_beyond_2_53_exactly() -> None:
    from airflow.sdk.serde import deserialize, serialize

    ids = [BIG, 2**53 + 1, "9007199254740993"]
    trigger = YottaPodsTrigger(pod_ids=ids, until="PAUSED", timeout=90, conn_id="gpu", on_kill_action="pause")
    classpath, kwargs = trigger.serialize()
    assert classpath == "yotta_async.contrib.airflow.triggers.YottaPodsTrigger"
    assert kwargs["pod_ids"] == [str(BIG), str(2**53 + 1), "9007199254740993"]  # strings: JS-safe
    # through JSON and through Airflow's serde, as the DB and dag.test() carry them
    for carried in (json.loads(json.dumps(kwargs)), deserialize(serialize(kwargs))):
        from airflow.sdk._shared.module_loading import import_string

        rebuilt = import_string(classpath)(**carried)
        assert rebuilt.pod_ids == [BIG, 2**53 + 1, 9007199254740993]
        assert rebuilt.serialize() == (classpath, kwargs)
        assert (rebuilt.until, rebuilt.timeout, rebuilt.conn_id, rebuilt.on_kill_action) == (
            "paused", 90.0, "gpu", "pause")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"pod_ids": [0]}, "pod_ids[0]"),
        ({"pod_ids": [2**63]}, "pod_ids[0]"),
        ({"pod_ids": [1, True]}, "pod_ids[1]"),
        ({"pod_ids": ["12a"]}, "pod_ids[0]"),
        ({"pod_ids": [1], "until": "ready-ish"}, "until"),
        ({"pod_ids": [1], "timeout": 0}, "timeout"),
        ({"pod_ids": [1], "on_kill_action": "explode"}, "on_kill_action"),
        ({"pod_ids": [1], "conn_id": ""}, "conn_id"),
    ],
)
def test_bad_arguments_are_validation_errors_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        YottaPodsTrigger(**kwargs)
    assert info.value.field == field


# -- the shared poller ---------------------------------------------------------------------------
async def measure_waits(n: int, use_sim: Callable[..., None]) -> tuple[int, int, float, list[dict[str, Any]]]:
    """``n`` triggers, each waiting for its own fresh pod: (list requests, per-pod GETs, ticks, events)."""
    clock = ManualClock()
    async with Simulator(clock=clock, seed=n) as sim:
        use_sim(sim, clock=clock, poll_floor=1.0, poll_max=1.0)  # one tick = one second
        ids = sim.add_pods(n, status=None)  # each starts PENDING, RUNNING ~30-60 s later
        sim.reset_counters()
        triggers = [YottaPodsTrigger(pod_ids=[str(pid)], until="running", timeout=600) for pid in ids]
        events = await asyncio.gather(*(first_event(t) for t in triggers))
        assert borrowed_clients() == {}  # the last trigger out closed the shared client
        counts = sim.request_counts
        return counts["GET /v2/pods"], counts["GET /v2/pods/{id}"], clock.now(), events


async def test_200_deferred_waits_share_one_poller(use_sim: Callable[..., None]) -> None:
    one_lists, one_gets, one_ticks, _ = await measure_waits(1, use_sim)
    lists, gets, ticks, events = await measure_waits(200, use_sim)

    assert all(e["status"] == "success" and e["pods"][0]["status"] == "RUNNING" for e in events)
    assert gets == 0 and one_gets == 0
    assert lists <= ticks + 2  # about one listing per tick, for all 200 triggers together
    assert lists / ticks <= one_lists / one_ticks + 0.1  # flat in N: per tick, 200 waits cost what 1 costs
    # The figure quoted in README ("Orchestration"): printed with -s.
    print(f"\n200 triggers: {lists} list requests, {gets} per-pod GETs over {ticks:.0f} ticks; "
          f"1 trigger: {one_lists} lists over {one_ticks:.0f} ticks")


async def test_one_client_per_loop_and_connection(
    use_sim: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[YottaClient] = []
    original = YottaHook.aget_client

    async def counting(self: YottaHook) -> YottaClient:
        client = await original(self)
        made.append(client)
        return client

    monkeypatch.setattr(YottaHook, "aget_client", counting)
    async with Simulator(time_scale=0.001) as sim:
        use_sim(sim, poll_floor=0.005, poll_max=0.02)
        ids = sim.add_pods(20, status=PodStatus.RUNNING)
        events = await asyncio.gather(*(first_event(YottaPodsTrigger(pod_ids=[pid])) for pid in ids))
        assert [e["status"] for e in events] == ["success"] * 20
        assert len(made) == 1  # twenty concurrent triggers, one connection lookup, one client
        # a later trigger on a new loop gets its own client: sessions never cross loops
        await asyncio.to_thread(asyncio.run, first_event(YottaPodsTrigger(pod_ids=ids[:1])))
        assert len(made) == 2
    assert borrowed_clients() == {}


# -- events ------------------------------------------------------------------------------------
async def test_failure_event_names_the_pod_and_its_status(use_sim: Callable[..., None]) -> None:
    async with Simulator(time_scale=0.001) as sim:
        use_sim(sim, poll_floor=0.005, poll_max=0.02)
        good = sim.add_pods(1, status=PodStatus.RUNNING)[0]
        bad = sim.add_pods(1, status=PodStatus.FAILED)[0]
        event = await first_event(YottaPodsTrigger(pod_ids=[good, bad], until="running", timeout=30))
    assert event["status"] == "failed"
    assert [p["id"] for p in event["pods"]] == [str(good)]
    [failure] = event["failures"]
    assert failure["pod_id"] == str(bad) and failure["error"] == "PodFailedError"
    assert failure["status"] == "FAILED"
    assert str(bad) in event["message"]
    json.dumps(event)  # a TriggerEvent payload must be JSON-safe


async def test_timeout_event(use_sim: Callable[..., None]) -> None:
    clock = ManualClock()
    async with Simulator(clock=clock) as sim:
        use_sim(sim, clock=clock)
        pid = sim.add_pods(1, status=PodStatus.PAUSED)[0]  # never runs by itself
        event = await first_event(YottaPodsTrigger(pod_ids=[pid], until="running", timeout=30))
    assert event["status"] == "failed"
    assert event["failures"][0]["error"] == "WaitTimeoutError"
    assert event["failures"][0]["status"] == "PAUSED"


async def test_a_bad_key_fails_the_event_without_leaking_it(use_sim: Callable[..., None],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    async with Simulator(time_scale=0.001) as sim:
        pid = sim.add_pods(1)[0]
        monkeypatch.setenv("AIRFLOW_CONN_YOTTA_DEFAULT", connection_json("wrong-key-123456", sim.base_url))
        event = await first_event(YottaPodsTrigger(pod_ids=[pid], timeout=30))
    assert event["status"] == "failed"
    assert "wrong-key-123456" not in json.dumps(event)
    assert borrowed_clients() == {}


# -- cancellation: the safe_to_cancel lesson ------------------------------------------------------
@pytest.fixture
async def waiting(use_sim: Callable[..., None]) -> AsyncIterator[tuple[Simulator, list[int], Any]]:
    """Three PAUSED pods (they never run by themselves) and a real Airflow TriggerRunner."""
    from airflow.jobs.triggerer_job_runner import TriggerRunner

    async with Simulator() as sim:
        use_sim(sim)
        ids = sim.add_pods(3, status=PodStatus.PAUSED)
        yield sim, ids, TriggerRunner()


async def start(runner: Any, sim: Simulator, trigger: YottaPodsTrigger) -> asyncio.Task[None]:
    """Run ``trigger`` through the triggerer's own ``run_trigger``; return once it is polling."""
    runner.triggers[1] = {"name": "yotta-test", "events": 0, "is_watcher": False}
    task = asyncio.create_task(runner.run_trigger(1, trigger))
    runner.triggers[1]["task"] = task
    for _ in range(2000):  # bounded: the first listing goes out on the trigger's first turns
        if sim.request_counts["GET /v2/pods"]:
            return task
        await asyncio.sleep(0.005)
    raise AssertionError("the trigger never polled")


async def test_triggerer_restart_with_the_task_still_deferred_deletes_nothing(
    waiting: tuple[Simulator, list[int], Any],
) -> None:
    sim, ids, runner = waiting
    task = await start(runner, sim, YottaPodsTrigger(pod_ids=ids, on_kill_action="delete"))
    task.cancel()  # a triggerer stopping or handing the trigger to another one: no user action
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sim.request_counts["DELETE /v2/pods/{id}"] == 0
    assert [sim.status(pid) for pid in ids] == [PodStatus.PAUSED] * 3
    assert borrowed_clients() == {}


async def test_a_user_killing_the_deferred_task_deletes_its_pods(
    waiting: tuple[Simulator, list[int], Any],
) -> None:
    sim, ids, runner = waiting
    task = await start(runner, sim, YottaPodsTrigger(pod_ids=ids, on_kill_action="delete"))
    runner.to_cancel.append(1)
    await runner.cancel_triggers()  # mark-failed / clear: the triggerer calls on_kill()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sim.request_counts["DELETE /v2/pods/{id}"] == 3
    assert all(sim.status(pid) in (PodStatus.TERMINATING, PodStatus.TERMINATED) for pid in ids)
    assert borrowed_clients() == {}


async def test_on_kill_keep_leaves_pods(waiting: tuple[Simulator, list[int], Any]) -> None:
    sim, ids, runner = waiting
    task = await start(runner, sim, YottaPodsTrigger(pod_ids=ids))  # on_kill_action="keep"
    runner.to_cancel.append(1)
    await runner.cancel_triggers()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sim.request_counts["DELETE /v2/pods/{id}"] == 0


@pytest.mark.parametrize(("state", "deleted"), [("deferred", 0), ("failed", 3), (None, 0)])
async def test_before_airflow_3_3_a_cancel_asks_the_task_state_first(
    waiting: tuple[Simulator, list[int], Any],
    monkeypatch: pytest.MonkeyPatch,
    state: str | None,
    deleted: int,
) -> None:
    """Without on_kill() (Airflow < 3.3), a CancelledError deletes only if the task left DEFERRED."""
    sim, ids, _ = waiting
    monkeypatch.setattr(triggers_module, "TRIGGERER_CALLS_ON_KILL", False)

    async def task_state(self: YottaPodsTrigger) -> str | None:
        return state

    monkeypatch.setattr(YottaPodsTrigger, "task_state", task_state)
    trigger = YottaPodsTrigger(pod_ids=ids, on_kill_action="delete")
    task = asyncio.create_task(first_event(trigger))
    for _ in range(2000):
        if sim.request_counts["GET /v2/pods"]:
            break
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sim.request_counts["DELETE /v2/pods/{id}"] == deleted
    assert borrowed_clients() == {}


class _TI:
    dag_id, task_id, run_id, map_index = "d", "t", "r", -1


async def test_task_state_asks_the_task_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
    from airflow.utils.state import TaskInstanceState

    asked: list[dict[str, Any]] = []

    def get_task_states(**kwargs: Any) -> dict[str, dict[str, Any]]:
        asked.append(kwargs)
        return {"r": {"t": TaskInstanceState.DEFERRED}}

    monkeypatch.setattr(RuntimeTaskInstance, "get_task_states", staticmethod(get_task_states))
    trigger = YottaPodsTrigger(pod_ids=[1], on_kill_action="delete")
    assert await trigger.task_state() is None and not await trigger.safe_to_cancel()  # no task instance
    trigger.task_instance = _TI()  # type: ignore[assignment]
    assert await trigger.task_state() == "deferred"
    assert not await trigger.safe_to_cancel()
    assert asked[0] == {"dag_id": "d", "task_ids": ["t"], "run_ids": ["r"], "map_index": -1}


async def test_an_unreadable_task_state_is_never_safe_to_cancel() -> None:
    trigger = YottaPodsTrigger(pod_ids=[1], on_kill_action="delete")
    trigger.task_instance = _TI()  # type: ignore[assignment]
    # outside a triggerer there is no supervisor to ask: the lookup fails, and we keep the pods
    assert await trigger.task_state() is None
    assert not await trigger.safe_to_cancel()
