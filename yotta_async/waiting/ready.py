"""Readiness as a wait target: RUNNING *and* the exposed ports healthy (and, optionally, answering).

``READY`` stands wherever a status does (``until=READY``, ``wait=READY``); call it to pick
ports or ask for TCP probes: ``READY(ports=["ssh"], probe=True)``. The shared watcher
serves it like any status (requests stay flat in the number of pods); the only per-pod
traffic is the TCP probes, run under the client's :class:`~yotta_async.Prober` cap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .._probe import Prober
from .._validation import check_items
from ..errors import ValidationError, WaitTimeoutError
from ..models import Pod, PodStatus, PortSelector
from .acceptors import RUNNING, WaitTarget, target_for
from .tracker import PodTracker

__all__ = [
    "READY", "Readiness", "ReadyTracker", "Target", "launch_target", "probe_ready", "resolve_until",
    "wait_until_of",
]


@dataclass(frozen=True)
class Readiness:
    """The ``READY`` wait target: RUNNING, then every selected ``expose`` port healthy.

    ``ports`` selects entries by container port or protocol name in any case (``None``:
    every exposed port); with ``probe``, each selected ``host:proxy_port`` must also accept
    a TCP connection (the flag can lag, and so can the proxy behind it). FAILED and
    TERMINATED still fail the wait at once, as for RUNNING.

    ::

        await client.pods.wait_all(ids, until=READY)
        await client.pods.wait_all(ids, until=READY(ports=["ssh"], probe=True))
    """

    ports: tuple[PortSelector, ...] | None = None
    probe: bool = False
    base: WaitTarget[PodStatus] = field(default=RUNNING, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Checked (and ``ports`` made a tuple) however it is built: READY(...) or Readiness(...).
        object.__setattr__(self, "ports", _check_ports(self.ports))
        _check_probe(self.probe)

    def __call__(self, *, ports: Iterable[PortSelector] | None = None, probe: bool = False) -> Readiness:
        """A READY target for ``ports`` (``None``: all), probing them if ``probe``."""
        return Readiness(ports, probe)  # type: ignore[arg-type]  # __post_init__ makes it a tuple

    @property
    def default_timeout(self) -> float:
        """Seconds a ready wait takes by default (as RUNNING: 600)."""
        return self.base.default_timeout

    def tracker(self, pod_id: int, started: float) -> ReadyTracker:
        """A fresh tracker judging one pod against this target."""
        return ReadyTracker(pod_id, self, started)

    def __str__(self) -> str:
        parts = []
        if self.ports is not None:
            parts.append("ports " + ", ".join(str(p) for p in self.ports))
        if self.probe:
            parts.append("probed")
        return "READY" + (f" ({'; '.join(parts)})" if parts else "")




def _check_ports(ports: object) -> tuple[PortSelector, ...] | None:
    if ports is None:
        return None
    items = check_items(ports, "ports")
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise ValidationError(f"ports[{i}]", f"expected a port number or a protocol name, got {item!r}")
        if isinstance(item, int) and not 0 <= item <= 65535:
            raise ValidationError(f"ports[{i}]", f"must be a port number 0-65535, got {item}")
        if isinstance(item, str) and not item.strip():
            raise ValidationError(f"ports[{i}]", "a protocol name must not be empty")
    return tuple(items)


def _check_probe(probe: object) -> bool:
    if not isinstance(probe, bool):
        raise ValidationError("probe", f"expected True or False, got {probe!r}")
    return probe


READY = Readiness()
"""The readiness target: RUNNING and every exposed port healthy. Call it to narrow it,
``READY(ports=["ssh"], probe=True)``; use it as ``until=`` / ``wait=``."""

Target = WaitTarget[PodStatus] | Readiness
"""What a pod wait waits for: a status target (RUNNING, PAUSED, TERMINATED) or readiness."""


def resolve_until(until: object) -> Target:
    """``until`` as a wait target: ``READY`` (or ``"ready"``) or a status for ``target_for``."""
    if isinstance(until, Readiness):
        return until
    if isinstance(until, str) and until.strip().upper() == "READY":
        return READY
    try:
        return target_for(until)  # type: ignore[arg-type]
    except ValidationError:
        raise ValidationError(
            "until", f"must be RUNNING, READY, PAUSED or TERMINATED, got {until!r}"
        ) from None


def launch_target(wait: object) -> Target | None:
    """``launch``'s ``wait`` as a target: RUNNING, READY, or ``None`` for no wait."""
    if wait is True:
        return RUNNING
    if wait is False or wait is None:
        return None
    try:
        target = resolve_until(wait)
    except ValidationError:
        target = None
    if target is None or not (isinstance(target, Readiness) or target is RUNNING):
        raise ValidationError("wait", f"must be True, False, RUNNING or READY, got {wait!r}")
    return target


def wait_until_of(target: Target) -> PodStatus | Readiness:
    """What ``wait_all(until=...)`` takes for ``target``: the readiness, or the status."""
    return target if isinstance(target, Readiness) else target.status


class ReadyTracker(PodTracker):
    """A :class:`PodTracker` whose success also needs the selected ports ready.

    It fails exactly as a RUNNING wait does; it succeeds only once the pod is RUNNING and
    :meth:`Pod.is_ready` holds. Probe results are recorded by the stream or loop that
    runs the probes (``unreachable``), so a timeout can name every port still not ready.
    """

    __slots__ = ("readiness", "unreachable")

    def __init__(self, pod_id: int, readiness: Readiness, started: float) -> None:
        super().__init__(pod_id, readiness.base, started)
        self.readiness = readiness
        self.unreachable: list[str] = []

    def verdict(self, now: float) -> Pod | None:
        pod = super().verdict(now)
        if pod is None or not pod.is_ready(self.readiness.ports):
            return None
        return pod

    def not_ready(self) -> list[str]:
        """The selected ports not ready on the last snapshot (flag, address or probe)."""
        if self.last is None:
            ports = self.readiness.ports
            return ["every exposed port"] if ports is None else [str(p) for p in ports]
        flagged = self.last.unready_ports(self.readiness.ports)
        return flagged + [p for p in self.unreachable if p not in flagged]

    def timeout_error(self, now: float, timeout: float, note: str = "") -> WaitTimeoutError:
        seen = self.last.status.value if self.last is not None else "no successful poll"
        ports = self.not_ready()
        if self.last is not None and self.last.status is not PodStatus.RUNNING:
            why = f"it is still {seen}"
        else:
            refused = f" ({', '.join(self.unreachable)} refused a TCP connection)" if self.unreachable else ""
            why = f"ports not ready: {', '.join(ports) or 'none'}{refused}"
        text = (
            f"pod {self.key} was not {self.readiness} within {timeout:g}s: {why} "
            f"(last status: {seen}; {self.polls} polls; history {self.path()})"
        )
        if self.last_error is not None:
            text += f"; last error: {self.last_error}"
        return WaitTimeoutError(
            text + note, pod_id=self.key, pod=self.last, elapsed=now - self.started,
            polls=self.polls, history=self.history, ports=ports,
        )


async def probe_ready(prober: Prober, tracker: ReadyTracker, pod: Pod) -> bool:
    """Probe ``pod``'s selected ports if its target asks for it; True when all answer."""
    if not tracker.readiness.probe:
        return True
    tracker.unreachable = await prober.unreachable(pod, tracker.readiness.ports)
    return not tracker.unreachable
