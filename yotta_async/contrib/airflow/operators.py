"""Deferrable operators: launch pods and wait for them; delete or pause pods and wait."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

import anyio
from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

from ... import (
    InvalidStateError,
    Placement,
    Pod,
    PodCreateRequest,
    PodNotFoundError,
    PodStatus,
    ValidationError,
    YottaClient,
    YottaError,
)
from ..._failover import check_placements
from ...models.status import LEAVING
from ._common import (
    DEAD,
    ON_FAILURE,
    UNTIL,
    check_choice,
    check_readiness,
    check_timeout,
    index_of,
    pod_ids_from,
    run_sync,
    task_token_prefix,
)
from ._launch import LaunchPlan, adopt, requests_for
from .hooks import DEFAULT_CONN_ID, YottaHook
from .triggers import YottaLaunchTrigger, YottaPodsTrigger, wait_payload

__all__ = ["YottaDeletePodsOperator", "YottaLaunchPodsOperator", "YottaPausePodsOperator"]

# Airflow's own deadline on a deferral is the wait's timeout plus this: normally the trigger's
# deadline fires first and reports which pods were late.
DEFER_GRACE = 300.0
CREATE_CONCURRENCY = 16
_SPEC_FIELDS = frozenset(PodCreateRequest.__struct_fields__) | {"env", "region"}
_FAIL_METHOD = "__fail__"  # Airflow's next_method when a deferral timed out or its trigger crashed


class _YottaOperator(BaseOperator):
    """What the Yotta operators share: the connection, and waiting in the triggerer or the worker."""

    ui_color = "#ede7ff"
    ui_fgcolor = "#2d1b69"

    def __init__(
        self, *, conn_id: str = DEFAULT_CONN_ID, deferrable: bool = True, timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(conn_id, str) or not conn_id:
            raise ValidationError("conn_id", f"must be a non-empty string, got {conn_id!r}")
        self.conn_id = conn_id
        self.deferrable = bool(deferrable)
        self.timeout = check_timeout(timeout)

    def _connection(self) -> Any:
        # Looked up here, synchronously, before any event loop runs: worker code may call the
        # supervisor synchronously, but not from inside a running loop.
        return YottaHook(self.conn_id).get_connection(self.conn_id)

    def _wait_or_defer(
        self, context: Any, ids: Sequence[int], until: str, on_kill_action: str,
        ready_ports: list[int | str] | None = None, probe: bool = False,
    ) -> Any:
        """Defer to :class:`YottaPodsTrigger`, or (``deferrable=False``) run its wait here."""
        if self.deferrable:
            self._defer(YottaPodsTrigger(pod_ids=list(ids), until=until, timeout=self.timeout,
                                         conn_id=self.conn_id, on_kill_action=on_kill_action,
                                         ready_ports=ready_ports, probe=probe))
        conn = self._connection()

        async def wait() -> dict[str, Any]:
            async with YottaHook.build_client(conn) as client:
                return await wait_payload(client, list(ids), until, self.timeout,
                                          ready_ports=ready_ports, probe=probe)

        return self.execute_complete(context, run_sync(wait))

    def _defer(self, trigger: YottaPodsTrigger) -> None:
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=None if self.timeout is None else timedelta(seconds=self.timeout + DEFER_GRACE),
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:  # pragma: no cover
        raise NotImplementedError


class YottaLaunchPodsOperator(_YottaOperator):
    """Create ``count`` pods, wait in the triggerer until they are RUNNING (or ready), return them via XCom.

    ::

        launch = YottaLaunchPodsOperator(
            task_id="launch", count=8, name="train-{{ ds_nodash }}",
            image="nvidia/cuda:12.1.0-base-ubuntu22.04", gpu_type="NVIDIA_H100_80G", gpu_count=1)
        # launch.output: [{"id": "331861721092197762", "status": "RUNNING", "ssh": {...}, ...}, ...]

    The pod spec is the keywords of ``client.pods.create(...)`` (``name``, ``image``,
    ``gpu_type``, ``gpu_count``, ``env``, ``expose``, ``region``, ...; templated), or
    ``request=PodCreateRequest(...)``. With ``count > 1`` names get a ``-<i>`` suffix.

    **Exactly once, across retries.** Every create carries a client token derived from the
    task instance (dag, task, run, map index) and the pod's index, so a lost reply is
    reconciled by the SDK, and a retried try first lists the pods and *adopts* the ones an
    earlier try made (resuming paused ones) instead of creating more. Only missing indices
    are created.

    **Readiness.** ``until="ready"`` waits for RUNNING *and* the exposed ports reporting
    healthy (``yotta_async.READY``); ``ready_ports=["ssh", 8888]`` picks which ports,
    ``probe=True`` also opens a TCP connection to each ``host:proxy_port``.

    **Capacity failover.** ``placements`` is an ordered preference list of
    ``Placement(gpu_type, region)`` or ``(gpu_type, region)`` pairs (templated; stored as
    ``[gpu_type, region]`` lists). The pod spec's ``gpu_type`` and region are then taken
    from the placement (``gpu_type`` may be left out). The launch runs in the triggerer
    (:class:`YottaLaunchTrigger`; in the worker with ``deferrable=False``) on the SDK's
    failover engine, as ``group.launch(..., placements=...)`` does: placements the GPU
    catalogue reports unavailable are skipped, a create refused for capacity or a pod that
    ends FAILED before RUNNING is deleted and replaced on the next placement, and each
    XCom record's ``placement`` says where the pod landed. A retried try adopts the live
    pods of earlier tries (and fails over from their placement), deletes their FAILED
    ones, and creates only the missing indices. When the placements run out the task
    fails with every attempt in the log.

    ::

        YottaLaunchPodsOperator(
            task_id="launch", count=12, name="train", image="img", gpu_count=1,
            until="ready", ready_ports=["ssh"],
            placements=[("NVIDIA_H100_80G", "us-east-1"), ("NVIDIA_H100_80G", "us-east-2")])

    **Failure.** A pod that ends FAILED is deleted. When Airflow will retry the task, the
    other pods are kept for the retry to adopt; on the final failure, on a deferral timeout,
    and in ``on_kill``, every pod the task made is deleted (``on_failure="delete"``), paused
    (``"pause"``; pods not yet RUNNING cannot pause and are deleted) or left (``"keep"``).
    A user killing the deferred task applies the same through the trigger.

    :param count: how many pods (1-1000).
    :param until: ``"running"`` (default), ``"ready"``, ``"paused"`` or ``"terminated"``
        (with ``placements``: ``"running"`` or ``"ready"``).
    :param ready_ports: with ``until="ready"``: the ports that must be healthy (numbers or
        protocol names; ``None``: every exposed port).
    :param probe: with ``until="ready"``: also require a TCP connect to each port's proxy.
    :param timeout: seconds to wait (``None``: the SDK's default, 600 s for RUNNING); with
        ``placements``, one deadline for the whole launch.
    :param deferrable: wait in the triggerer (default) or, with ``False``, in the worker.
    :param placements: capacity failover: an ordered list of placements (see above).
    :param conn_id: the ``yotta`` connection.
    """

    template_fields: Sequence[str] = ("spec", "placements")
    template_fields_renderers: ClassVar[dict[str, str]] = {"spec": "json", "placements": "json"}

    def __init__(
        self,
        *,
        count: int = 1,
        until: str = "running",
        deferrable: bool = True,
        on_failure: str = "delete",
        placements: Sequence[Placement | tuple[str, str] | list[str]] | str | None = None,
        conn_id: str = DEFAULT_CONN_ID,
        timeout: float | None = None,
        request: PodCreateRequest | None = None,
        ready_ports: Sequence[int | str] | None = None,
        probe: bool = False,
        **kwargs: Any,
    ) -> None:
        spec = {name: kwargs.pop(name) for name in list(kwargs) if name in _SPEC_FIELDS}
        super().__init__(conn_id=conn_id, deferrable=deferrable, timeout=timeout, **kwargs)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            raise ValidationError("count", f"must be an integer from 1 to 1000, got {count!r}")
        if request is not None and spec:
            raise ValidationError("request", "give request= or the pod spec keywords, not both")
        if request is not None and not isinstance(request, PodCreateRequest):
            raise ValidationError("request", f"expected a PodCreateRequest, got {type(request).__name__}")
        if request is None and not spec:
            raise ValidationError("spec", "give the pod spec (name=, image=, gpu_type=, ...) or request=")
        self.count = count
        self.until = check_choice(until, "until", UNTIL)
        self.ready_ports, self.probe = check_readiness(self.until, ready_ports, probe)
        if placements is not None and self.until not in ("running", "ready"):
            raise ValidationError("until", f"a launch with placements waits for running or ready, "
                                           f"not {until!r}")
        # JSON-native ([gpu_type, region] lists) so the field templates and serialises; a
        # Jinja string is kept as it is and checked once rendered.
        self.placements: list[list[str]] | str | None = (
            placements if placements is None or isinstance(placements, str) else _placement_lists(placements)
        )
        self.on_failure = check_choice(on_failure, "on_failure", ON_FAILURE)
        self.request = request
        self.spec: dict[str, Any] = spec
        self._prefix: str | None = None

    # -- execute -------------------------------------------------------------------------
    def execute(self, context: Any) -> Any:
        """Create (or adopt) the pods, then defer until they reach ``until``."""
        ti = context["ti"]
        if self.placements is not None:
            return self._launch_with_placements(context, ti)
        requests = self._requests()  # validated before anything is sent
        prefix = self._prefix = task_token_prefix(ti.dag_id, ti.task_id, ti.run_id, ti.map_index)
        conn = self._connection()

        async def launch() -> tuple[list[Pod], list[tuple[int, YottaError]]]:
            async with YottaHook.build_client(conn) as client:
                return await self._launch(client, requests, prefix, ti.try_number)

        pods, errors = run_sync(launch)
        if errors:
            index, first = errors[0]
            self._after_failure(context, [])
            raise AirflowException(
                f"{len(errors)} of {self.count} creates failed (pod {index}: {type(first).__name__}: {first})"
            ) from first
        self.log.info("pods %s created or adopted; waiting until %s", [str(p.id) for p in pods], self.until)
        return self._wait_or_defer(context, [p.id for p in pods], self.until, self.on_failure,
                                   self.ready_ports, self.probe)

    def _launch_with_placements(self, context: Any, ti: Any) -> Any:
        """Hand the whole launch (adopt, create, wait, fail over) to :class:`YottaLaunchTrigger`."""
        places = [Placement(g, r) for g, r in _placement_lists(self.placements)]  # as rendered
        spec = dict(self.spec)
        if self.request is None:
            spec.setdefault("gpu_type", places[0].gpu_type)  # every create takes the placement's
        base = self.request if self.request is not None else PodCreateRequest.build(**spec)
        requests_for(base, self.count)  # validated before anything is sent
        prefix = self._prefix = task_token_prefix(ti.dag_id, ti.task_id, ti.run_id, ti.map_index)
        plan = LaunchPlan(base, self.count, places, prefix, ti.try_number)
        self.log.info("launching %d pods over placements %s; waiting until %s", self.count,
                      ", ".join(str(p) for p in places), self.until)
        if self.deferrable:
            self._defer(YottaLaunchTrigger(plan.to_dict(), self.until, self.timeout, self.conn_id,
                                           self.on_failure, self.ready_ports, self.probe))
        conn = self._connection()

        async def launch() -> dict[str, Any]:
            async with YottaHook.build_client(conn) as client:
                return await plan.run(client, self.until, self.timeout, ready_ports=self.ready_ports,
                                      probe=self.probe, logger=self.log)

        return self.execute_complete(context, run_sync(launch))

    def execute_complete(self, context: Any, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The trigger fired: return the pods (XCom) or clean up and raise."""
        if event.get("status") == "success":
            pods: list[dict[str, Any]] = event["pods"]
            for pod in pods:
                if pod.get("placement"):
                    self.log.info("pod %s landed on %s@%s", pod["id"], pod["placement"]["gpu_type"],
                                  pod["placement"]["region"])
            return pods
        for attempt in event.get("attempts", ()):
            self.log.warning("failed attempt on %s@%s (pod %s): %s", attempt["gpu_type"], attempt["region"],
                             attempt["pod_id"], attempt["reason"])
        failed = [int(f["pod_id"]) for f in event.get("failures", ())
                  if f.get("status") == "FAILED" and f.get("pod_id")]
        self._after_failure(context, failed)
        raise AirflowException(f"launch failed: {event.get('message')}")

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Any) -> Any:
        """Airflow's own deferral timeout (or a crashed trigger) also cleans up, per ``on_failure``."""
        if next_method == _FAIL_METHOD:
            self._after_failure(context, [])
        return super().resume_execution(next_method, next_kwargs, context)

    def on_kill(self) -> None:
        """The task was killed in the worker: delete or pause every pod it made, per ``on_failure``."""
        if self._prefix is not None and self.on_failure != "keep":
            self._cleanup(self._prefix, [], final=True)

    # -- helpers -------------------------------------------------------------------------
    def _requests(self) -> list[PodCreateRequest]:
        base = self.request if self.request is not None else PodCreateRequest.build(**dict(self.spec))
        return requests_for(base, self.count)

    async def _launch(
        self, client: YottaClient, requests: list[PodCreateRequest], prefix: str, try_number: int
    ) -> tuple[list[Pod], list[tuple[int, YottaError]]]:
        """Adopt the live pods an earlier try made; create the missing ones (token per index)."""
        adopted, _ = await adopt(client, prefix, self.count, resume=self.until != "paused", logger=self.log)
        results: dict[int, Pod] = dict(adopted)
        errors: list[tuple[int, YottaError]] = []
        limiter = anyio.CapacityLimiter(CREATE_CONCURRENCY)

        async def create(index: int) -> None:
            async with limiter:
                try:
                    token = f"{prefix}{index}-t{try_number}"
                    results[index] = await client.pods.create(requests[index], client_token=token)
                except YottaError as exc:
                    errors.append((index, exc))

        async with anyio.create_task_group() as tg:
            for index in range(self.count):
                if index not in adopted:
                    tg.start_soon(create, index)
        return [results[i] for i in sorted(results)], sorted(errors, key=lambda e: e[0])

    def _after_failure(self, context: Any, failed: list[int]) -> None:
        """Clean up after a failed try: FAILED pods always; the rest on the final try only."""
        ti = context["ti"]
        prefix = task_token_prefix(ti.dag_id, ti.task_id, ti.run_id, ti.map_index)
        final = not ti.try_number <= getattr(ti, "max_tries", 0)
        if not final:
            self.log.info("try %d failed and will be retried: keeping healthy pods for the retry to adopt",
                          ti.try_number)
        self._cleanup(prefix, failed, final=final)

    def _cleanup(self, prefix: str, failed: list[int], *, final: bool) -> None:
        if self.on_failure == "keep":
            return
        conn = self._connection()

        async def cleanup() -> None:
            async with YottaHook.build_client(conn) as client:
                mine = [p for p in await client.pods.list() if index_of(p, prefix) is not None]
                doomed = {p.id for p in mine if p.status == PodStatus.FAILED} | set(failed)
                live = [p for p in mine if p.status not in DEAD]
                to_pause: list[int] = []
                if final:
                    for pod in live:
                        if self.on_failure == "pause" and pod.status in (PodStatus.RUNNING, PodStatus.PAUSING,
                                                                         PodStatus.PAUSED):
                            if pod.status == PodStatus.RUNNING:
                                to_pause.append(pod.id)
                        else:
                            doomed.add(pod.id)
                errors = [e for e in await client.pods.delete_many(sorted(doomed)) if e is not None]
                errors += [e for e in await client.pods.pause_many(to_pause) if e is not None]
                self.log.info("cleanup: delete requested for %d pods, pause for %d%s", len(doomed),
                              len(to_pause), f"; {len(errors)} failed: {errors[:3]}" if errors else "")

        try:
            run_sync(cleanup)
        except YottaError as exc:  # never hide the task's own error behind a cleanup error
            self.log.error("cleanup of pods with token prefix %s failed: %s", prefix, exc)


def _placement_lists(value: object) -> list[list[str]]:
    """Placements as ``[gpu_type, region]`` lists (``ValidationError`` names the bad item)."""
    if isinstance(value, str):  # a rendered template: JSON, or a Python literal
        import ast

        text = value.strip()
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise ValidationError("placements", f"could not read placements from {text[:80]!r}") from None
    items = value if isinstance(value, (list, tuple)) else [value]
    pairs = [tuple(p) if isinstance(p, list) else p for p in items]
    return [[p.gpu_type, p.region] for p in check_placements(pairs)]


class _PodActionOperator(_YottaOperator):
    """Request an action on ``pod_ids``, then wait (deferred) until they reach its end state."""

    template_fields: Sequence[str] = ("pod_ids",)
    action: ClassVar[str]
    until: ClassVar[str]
    done: ClassVar[frozenset[PodStatus]]

    def __init__(
        self, *, pod_ids: Any, conn_id: str = DEFAULT_CONN_ID, deferrable: bool = True,
        timeout: float | None = None, wait: bool = True, **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, deferrable=deferrable, timeout=timeout, **kwargs)
        self.pod_ids = pod_ids
        self.wait = bool(wait)

    def execute(self, context: Any) -> Any:
        """Send the action for every pod (already-done pods are fine), then wait or defer."""
        ids = pod_ids_from(self.pod_ids)
        if not ids:
            return []
        conn = self._connection()

        async def act() -> list[str]:
            async with YottaHook.build_client(conn) as client:
                many = client.pods.delete_many if self.action == "delete" else client.pods.pause_many
                problems = []
                for pid, err in zip(ids, await many(ids), strict=True):
                    if err is not None and not await self._already_done(client, pid, err):
                        problems.append(f"{pid}: {type(err).__name__}: {err}")
                return problems

        problems = run_sync(act)
        if problems:
            detail = "; ".join(problems[:5])
            raise AirflowException(f"{self.action} failed for {len(problems)} pods: {detail}")
        if not self.wait:
            return [str(pid) for pid in ids]
        return self._wait_or_defer(context, ids, self.until, "keep")

    async def _already_done(self, client: YottaClient, pod_id: int, err: YottaError) -> bool:
        if isinstance(err, PodNotFoundError):
            return self.action == "delete"
        if not isinstance(err, InvalidStateError):
            return False
        try:
            return (await client.pods.get(pod_id)).status in self.done
        except PodNotFoundError:
            return self.action == "delete"
        except YottaError:
            return False

    def execute_complete(self, context: Any, event: dict[str, Any]) -> list[str]:
        """The trigger fired: the pod ids (strings) on success; raise otherwise."""
        if event.get("status") != "success":
            raise AirflowException(f"{self.action} failed: {event.get('message')}")
        return [pod["id"] for pod in event["pods"]]


class YottaDeletePodsOperator(_PodActionOperator):
    """Delete pods and wait (deferred) until they are TERMINATED.

    ::

        YottaDeletePodsOperator(task_id="delete", pod_ids=launch.output)
        YottaDeletePodsOperator(task_id="delete", pod_ids="{{ ti.xcom_pull('launch') }}")

    ``pod_ids`` (templated) takes ids (ints or strings), the launch operator's XCom (pod
    records), or a rendered template of either. Pods already terminating or gone count as
    deleted. ``wait=False`` returns once every delete is accepted.
    """

    ui_color = "#ffe3e3"
    action = "delete"
    until = "terminated"
    done = LEAVING


class YottaPausePodsOperator(_PodActionOperator):
    """Pause RUNNING pods and wait (deferred) until they are PAUSED (``pod_ids`` as for delete).

    Pods already pausing or paused count as paused; a pod in any other state that cannot pause
    fails the task.
    """

    ui_color = "#fff4d6"
    action = "pause"
    until = "paused"
    done = frozenset({PodStatus.PAUSING, PodStatus.PAUSED})
