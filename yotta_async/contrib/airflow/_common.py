"""What the trigger and the operators share: wait targets, pod ids, XCom records, tokens, events."""

from __future__ import annotations

import ast
import asyncio
import hashlib
import re
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from ... import READY, TOKEN_ENV, Placement, Pod, PodNotFoundError, PodStatus, ValidationError, YottaError
from ..._validation import check_id, check_number
from ...models import WaitUntil
from ...models.status import ENDING
from ...waiting import Readiness

__all__ = [
    "DEAD",
    "ON_FAILURE",
    "TOKEN_ENV",
    "UNTIL",
    "check_choice",
    "check_readiness",
    "check_timeout",
    "failure_record",
    "index_of",
    "pod_ids_from",
    "pod_record",
    "run_sync",
    "task_token_prefix",
    "wait_target",
]

T = TypeVar("T")

# until= value -> what the SDK's waiters take ("ready": RUNNING and the exposed ports healthy).
UNTIL: dict[str, WaitUntil | Readiness] = {
    "running": PodStatus.RUNNING,
    "ready": READY,
    "paused": PodStatus.PAUSED,
    "terminated": PodStatus.TERMINATED,
}

ON_FAILURE = ("delete", "pause", "keep")

# Pods that are gone or going: a retry never adopts them.
DEAD = ENDING


def check_choice(value: object, field: str, choices: Iterable[str]) -> str:
    """``value`` lower-cased if it is one of ``choices``; ``ValidationError`` otherwise."""
    options = tuple(choices)
    if isinstance(value, PodStatus):
        value = value.value
    if not isinstance(value, str) or value.lower() not in options:
        raise ValidationError(field, f"must be one of {', '.join(options)}; got {value!r}")
    return value.lower()


def check_timeout(value: object, field: str = "timeout") -> float | None:
    """Seconds > 0 (``None`` for the SDK's default); ``ValidationError`` otherwise."""
    if value is None:
        return None
    return check_number(value, field, allow_inf=True)


def check_readiness(until: str, ready_ports: object, probe: object) -> tuple[list[int | str] | None, bool]:
    """``ready_ports`` (ports or protocol names, JSON-safe) and ``probe``, checked.

    Both refine ``until="ready"`` only; ``ValidationError`` names the field otherwise, or
    when a port is neither a port number nor a protocol name.
    """
    if ready_ports is not None and until != "ready":
        raise ValidationError("ready_ports", f"applies to until='ready' only, not {until!r}")
    if probe is not False and until != "ready":
        raise ValidationError("probe", f"applies to until='ready' only, not {until!r}")
    try:
        target = READY(ports=ready_ports, probe=probe)  # type: ignore[arg-type]  # checked by READY
    except ValidationError as exc:
        field = f"ready_{exc.field}" if exc.field.startswith("ports") else exc.field
        raise ValidationError(field, exc.message) from None
    return (None if target.ports is None else list(target.ports)), target.probe


def wait_target(
    until: str, ready_ports: Iterable[int | str] | None = None, probe: bool = False
) -> WaitUntil | Readiness:
    """What the SDK waits for: ``UNTIL[until]``, narrowed to ``ready_ports`` / ``probe`` for ready."""
    target = UNTIL[until]
    if isinstance(target, Readiness) and (ready_ports is not None or probe):
        return target(ports=ready_ports, probe=probe)
    return target


def pod_ids_from(value: object, field: str = "pod_ids") -> list[int]:
    """Pod ids from what a DAG hands over: ids (int or decimal string) or the launch's XCom.

    Accepts a list of ids, a list of pod records (dicts with an ``"id"``, as
    :class:`YottaLaunchPodsOperator` returns), one id, or a rendered template string holding
    any of those (``"[...]"``, or ids separated by commas or spaces).
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise ValidationError(field, f"could not read pod ids from {text[:80]!r}") from None
        else:
            value = [part for part in re.split(r"[,\s]+", text) if part]
    elif isinstance(value, (int, dict)):
        value = [value]
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, list, tuple)):
        value = list(value)
    if not isinstance(value, (list, tuple)):
        raise ValidationError(field, f"expected a list of pod ids, got {type(value).__name__}")
    ids = []
    for i, item in enumerate(value):
        raw = item.get("id") if isinstance(item, dict) else item
        ids.append(check_id(raw, f"{field}[{i}]"))
    return ids


def pod_record(pod: Pod, placement: Placement | None = None) -> dict[str, Any]:
    """A JSON-safe summary of a pod for XCom and trigger events; ids travel as strings.

    Keys: ``id``, ``name``, ``status``, ``image``, ``gpu_type``, ``gpu_count``, ``region``,
    ``placement`` (``{"gpu_type", "region"}``: where a launch with placements landed it;
    otherwise the pod's own GPU type and region, or ``None`` when it reports neither),
    ``ssh_cmd``, ``ssh`` (``{"host", "port"}`` from :attr:`Pod.ssh_endpoint`, or ``None``),
    ``expose`` and ``created_at`` (epoch ms).
    """
    ssh = pod.ssh_endpoint
    if placement is None and pod.gpu_type and pod.region:
        placement = Placement(pod.gpu_type, pod.region)
    return {
        "id": str(pod.id),
        "name": pod.name,
        "status": pod.status.value,
        "image": pod.image,
        "gpu_type": pod.gpu_type,
        "gpu_count": pod.gpu_count,
        "region": pod.region,
        "placement": None if placement is None else {"gpu_type": placement.gpu_type,
                                                       "region": placement.region},
        "ssh_cmd": pod.ssh_cmd,
        "ssh": None if ssh is None else {"host": ssh[0], "port": ssh[1]},
        "expose": [
            {"port": e.port, "protocol": e.protocol, "host": e.host, "proxy_port": e.proxy_port,
             "healthy": e.healthy}
            for e in pod.expose or ()
        ],
        "created_at": pod.created_at,
    }


def failure_record(pod_id: int, exc: BaseException) -> dict[str, Any]:
    """Which pod failed and why, for a trigger event: id (string), error class, status, message."""
    snapshot = getattr(exc, "pod", None)
    status = snapshot.status.value if isinstance(snapshot, Pod) else None
    if isinstance(exc, PodNotFoundError) and status is None:
        status = "GONE"
    message = str(exc) if isinstance(exc, YottaError) else repr(exc)
    return {"pod_id": str(pod_id), "error": type(exc).__name__, "status": status, "message": message}


def task_token_prefix(dag_id: str, task_id: str, run_id: str, map_index: int) -> str:
    """The token prefix of every pod one task instance creates: ``af-<24 hex>-``.

    Derived from (dag, task, run, map index) only, so every try of the task instance finds
    the pods an earlier try made. A token is ``<prefix><pod index>-t<try>``: 1-128 characters
    of the alphabet the SDK allows, whatever the DAG and run ids contain.
    """
    key = "\x1f".join((dag_id, task_id, run_id, str(map_index)))
    return f"af-{hashlib.sha256(key.encode()).hexdigest()[:24]}-"


def index_of(pod: Pod, prefix: str) -> int | None:
    """The pod index encoded in a pod's token, if the token starts with ``prefix``."""
    token = pod.env(TOKEN_ENV) or ""
    if not token.startswith(prefix):
        return None
    head = token[len(prefix):].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def run_sync(fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine function to completion from synchronous (worker) code.

    Uses a fresh event loop; if this thread already runs one (``on_kill`` can be called from
    a signal handler while ``execute`` is inside ``asyncio.run``), it runs in a helper thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_call(fn))
    box: list[Any] = []

    def target() -> None:
        try:
            box.append((True, asyncio.run(_call(fn))))
        except BaseException as exc:
            box.append((False, exc))

    thread = threading.Thread(target=target, name="yotta-airflow-sync", daemon=True)
    thread.start()
    thread.join()
    ok, result = box[0]
    if not ok:
        raise result
    return result  # type: ignore[no-any-return]


async def _call(fn: Callable[[], Awaitable[T]]) -> T:
    return await fn()
