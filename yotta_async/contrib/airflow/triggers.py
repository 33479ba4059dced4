"""``YottaPodsTrigger``: waits in the triggerer for pods to reach a status, on one shared poller."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio
from airflow.triggers.base import BaseTrigger, TriggerEvent

from ... import ValidationError, YottaClient, YottaError
from ._common import (
    ON_FAILURE,
    UNTIL,
    check_choice,
    check_readiness,
    check_timeout,
    failure_record,
    index_of,
    pod_ids_from,
    pod_record,
    wait_target,
)
from ._launch import LaunchPlan
from ._shared import shared_client
from .hooks import DEFAULT_CONN_ID, YottaHook

__all__ = ["YottaLaunchTrigger", "YottaPodsTrigger", "wait_payload"]

log = logging.getLogger(__name__)

# Airflow 3.3 and later call BaseTrigger.on_kill() when a *user* acts on the deferred task
# (mark failed, clear, mark success), and only then. Before 3.3 a trigger learns of that only
# as a CancelledError, which a triggerer restart raises too: there the trigger asks the task
# instance's state first (safe_to_cancel), as Airflow's Databricks and Google providers do.
TRIGGERER_CALLS_ON_KILL = "on_kill" in vars(BaseTrigger)

# Bound on the cleanup a killed trigger does (the triggerer gives on_kill 30 s by default).
KILL_TIMEOUT = 25.0


async def wait_payload(
    client: YottaClient,
    pod_ids: Sequence[int],
    until: str,
    timeout: float | None,  # noqa: ASYNC109  # passed on to wait_all's deadline
    *,
    ready_ports: Sequence[int | str] | None = None,
    probe: bool = False,
) -> dict[str, Any]:
    """Wait for ``pod_ids`` to reach ``until``; the trigger event's payload (JSON-safe).

    ``until="ready"`` waits for RUNNING and healthy exposed ports (``ready_ports``: which
    ones, by port or protocol; ``None``: all), answering a TCP connect too with ``probe``.

    ``{"status": "success", "until", "pods": [...], "failures": [], "message"}`` when every pod
    got there; ``"status": "failed"`` with one ``failures`` entry per pod that did not (which
    pod, the error class, its last status, the message). The deferrable operators and their
    ``deferrable=False`` mode both use this, so the two paths agree.
    """
    goal = wait_target(until, ready_ports, probe)
    outcome = await client.pods.wait_all(pod_ids, until=goal, timeout=timeout, return_exceptions=True)
    pods: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for pid, result in zip(pod_ids, outcome, strict=True):
        if isinstance(result, YottaError):
            failures.append(failure_record(pid, result))
        else:
            pods.append(pod_record(result))
    if failures:
        first = failures[0]
        message = (f"{len(failures)} of {len(pod_ids)} pods did not reach {until}: pod {first['pod_id']} "
                   f"{first['error']} ({first['status']}): {first['message']}")
    else:
        message = f"{len(pod_ids)} pods reached {until}"
    return {"status": "failed" if failures else "success", "until": until, "pods": pods,
            "failures": failures, "message": message}


class YottaPodsTrigger(BaseTrigger):
    """Wait until every pod in ``pod_ids`` is RUNNING, ready, PAUSED or TERMINATED (``until``).

    ::

        self.defer(trigger=YottaPodsTrigger(pod_ids=["331861721092197762"], until="running",
                                            timeout=900, conn_id="yotta_default"),
                   method_name="execute_complete")

    Every Yotta trigger in a triggerer process borrows one ``YottaClient`` per (event loop,
    connection), so they share one background poller: a thousand deferred waits cost about one
    ``GET /v2/pods`` per tick. The trigger fires one ``TriggerEvent`` whose payload is
    :func:`wait_payload`'s: the pods' snapshots, or which pods failed and how.

    Cancellation never kills pods a retry or another triggerer still needs: a triggerer restart
    or redistribution leaves them alone. Only when a user acts on the deferred task (Airflow
    3.3+ calls :meth:`on_kill`; earlier versions are detected with :meth:`safe_to_cancel`) are
    the pods deleted or paused, per ``on_kill_action`` (``"keep"``, the default, does neither).

    :param pod_ids: pod ids; ints or decimal strings (they travel as strings: they exceed 2**53).
    :param until: ``"running"``, ``"ready"`` (RUNNING and the exposed ports healthy:
        ``yotta_async.READY``), ``"paused"`` or ``"terminated"``.
    :param timeout: seconds before the wait fails (``None``: the SDK's default for ``until``).
    :param conn_id: the ``yotta`` connection.
    :param on_kill_action: ``"delete"``, ``"pause"`` or ``"keep"`` the pods when a user kills
        the deferred task.
    :param ready_ports: with ``until="ready"``, the ports that must be healthy (numbers or
        protocol names such as ``"ssh"``; ``None``: every exposed port).
    :param probe: with ``until="ready"``, also require a TCP connect to each ``host:proxy_port``.
    """

    def __init__(
        self,
        pod_ids: Sequence[int | str],
        until: str = "running",
        timeout: float | None = None,
        conn_id: str = DEFAULT_CONN_ID,
        on_kill_action: str = "keep",
        ready_ports: Sequence[int | str] | None = None,
        probe: bool = False,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.pod_ids = pod_ids_from(pod_ids)
        self.until = check_choice(until, "until", UNTIL)
        self.ready_ports, self.probe = check_readiness(self.until, ready_ports, probe)
        self.timeout = check_timeout(timeout)
        if not isinstance(conn_id, str) or not conn_id:
            raise ValidationError("conn_id", f"must be a non-empty string, got {conn_id!r}")
        self.conn_id = conn_id
        self.on_kill_action = check_choice(on_kill_action, "on_kill_action", ON_FAILURE)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The class path and keywords that rebuild this trigger; ids as strings."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "pod_ids": [str(pid) for pid in self.pod_ids],
                "until": self.until,
                "timeout": self.timeout,
                "conn_id": self.conn_id,
                "on_kill_action": self.on_kill_action,
                "ready_ports": self.ready_ports,
                "probe": self.probe,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Wait on the shared client, then yield one event (see the class docstring)."""
        try:
            payload = await self._wait()
        except asyncio.CancelledError:
            if not TRIGGERER_CALLS_ON_KILL:
                await self._cancelled()
            raise
        yield TriggerEvent(payload)  # type: ignore[no-untyped-call]

    async def _wait(self) -> dict[str, Any]:
        try:
            async with shared_client(self.conn_id, YottaHook(self.conn_id).aget_client) as client:
                return await self._payload(client)
        except YottaError as exc:  # no key, revoked key, API down for good: fail the task, clearly
            return {"status": "failed", "until": self.until, "pods": [], "failures": [],
                    "message": f"{type(exc).__name__}: {exc}"}

    async def _payload(self, client: YottaClient) -> dict[str, Any]:
        return await wait_payload(client, self.pod_ids, self.until, self.timeout,
                                  ready_ports=self.ready_ports, probe=self.probe)

    async def _targets(self, client: YottaClient) -> list[int]:
        """The pods a kill acts on."""
        return self.pod_ids

    async def on_kill(self) -> None:
        """A user killed the deferred task (Airflow 3.3+): act on the pods per ``on_kill_action``."""
        await self._act()

    async def _cancelled(self) -> None:
        """Airflow before 3.3: clean up only if the task is really over, not on a triggerer restart."""
        if self.on_kill_action == "keep":
            return
        with anyio.CancelScope(shield=True):
            if await self.safe_to_cancel():
                await self._act()

    async def safe_to_cancel(self) -> bool:
        """Whether the task instance has left DEFERRED (so a cancellation means the task is over).

        ``False`` when the state cannot be read: leaving a pod running is recoverable (the
        launch operator's retry adopts it; ``client.pods.sweep`` finds it), killing a pod that a
        live task still waits for is not.
        """
        from airflow.utils.state import TaskInstanceState

        state = await self.task_state()
        return state is not None and state != TaskInstanceState.DEFERRED

    async def task_state(self) -> str | None:
        """The current state of the task instance that deferred to this trigger, or ``None``."""
        ti = self.task_instance
        if ti is None:
            return None
        try:
            from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
            from asgiref.sync import sync_to_async

            states = await sync_to_async(RuntimeTaskInstance.get_task_states)(
                dag_id=ti.dag_id, task_ids=[ti.task_id], run_ids=[ti.run_id], map_index=ti.map_index
            )
            state = states.get(ti.run_id, {}).get(ti.task_id)
        except Exception:
            log.warning("could not read the state of task %s; leaving its pods alone", ti.task_id,
                        exc_info=True)
            return None
        return None if state is None else str(getattr(state, "value", state))

    async def _act(self) -> None:
        action = self.on_kill_action
        if action == "keep":
            return
        with anyio.move_on_after(KILL_TIMEOUT):
            try:
                async with shared_client(self.conn_id, YottaHook(self.conn_id).aget_client) as client:
                    many = client.pods.delete_many if action == "delete" else client.pods.pause_many
                    targets = await self._targets(client)
                    errors = await many(targets)
            except YottaError as exc:
                log.warning("could not %s pods %s: %s", action, self.pod_ids, exc)
                return
            pairs = zip(targets, errors, strict=True)
            failed = {str(pid): repr(err) for pid, err in pairs if err is not None}
            log.info("task killed: %s requested for %d pods%s", action, len(targets) - len(failed),
                     f"; failed for {failed}" if failed else "")


class YottaLaunchTrigger(YottaPodsTrigger):
    """Launch a task's pods across ``placements`` in the triggerer: create, wait, fail over.

    :class:`YottaLaunchPodsOperator` defers to it when given ``placements``. Its ``run()``
    lists the pods, adopts the live ones the task instance already made (by the index in
    their token), creates the missing ones on the first usable placement, and waits for
    ``until`` (``"running"`` or ``"ready"``) through the shared client. A create refused
    for capacity, or a pod that ends FAILED before RUNNING, is deleted and replaced on the
    next placement, by the SDK's :class:`~yotta_async._failover.Failover` engine (as
    ``group.launch(..., placements=...)`` does). Running it again (a triggerer restart)
    adopts instead of creating, so the launch stays exactly-once per index.

    The event is :meth:`LaunchPlan.run`'s payload: pod records with their ``placement``, or
    a failure (``attempts`` lists every failed placement when they ran out). A user killing
    the deferred task deletes or pauses every pod carrying the task's token prefix.

    :param plan: :meth:`LaunchPlan.to_dict` output (request, count, placements, token prefix, try).
    :param until: ``"running"`` or ``"ready"``.
    :param timeout: one deadline for the whole launch, failovers included.
    """

    def __init__(
        self,
        plan: dict[str, Any],
        until: str = "running",
        timeout: float | None = None,
        conn_id: str = DEFAULT_CONN_ID,
        on_kill_action: str = "keep",
        ready_ports: Sequence[int | str] | None = None,
        probe: bool = False,
    ) -> None:
        super().__init__([], until, timeout, conn_id, on_kill_action, ready_ports, probe)
        if self.until not in ("running", "ready"):
            raise ValidationError("until", f"a launch with placements waits for running or ready, "
                                           f"not {until!r}")
        if not isinstance(plan, dict):
            raise ValidationError("plan", f"expected LaunchPlan.to_dict() output, "
                                          f"got {type(plan).__name__}")
        self.plan = LaunchPlan.from_dict(plan)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The class path and keywords that rebuild this trigger (the plan as JSON-safe values)."""
        path, kwargs = super().serialize()
        del kwargs["pod_ids"]
        return path, {"plan": self.plan.to_dict(), **kwargs}

    async def _payload(self, client: YottaClient) -> dict[str, Any]:
        return await self.plan.run(client, self.until, self.timeout, ready_ports=self.ready_ports,
                                   probe=self.probe, logger=log)

    async def _targets(self, client: YottaClient) -> list[int]:
        return [p.id for p in await client.pods.list() if index_of(p, self.plan.prefix) is not None]
