"""The simulator's pod store and lifecycle: status is a pure function of the clock."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .._token import TOKEN_ENV
from ..models import PodCreateRequest, PodStatus
from ..models.status import TERMINAL
from ._catalogue import GpuCatalogue
from ._clock import Clock
from ._loopback import HOST as LOOPBACK_HOST
from ._loopback import LoopbackPorts
from ._render import (
    DEFAULT_REGION,
    EPOCH_BASE_MS,
    PRICE_FORMATS,
    PriceFormat,
    ProtocolCase,
    render,
    static_fields,
)

__all__ = ["Capacity", "NoCapacity", "OverCapacity", "PodStore", "PortHealth", "SimPod", "Timings"]

S = PodStatus
# The statuses whose pods are "leaked" if a script dies: they still exist and may bill.
_NOT_LIVE = TERMINAL
Capacity = Mapping[Any, int]  # {gpu_type: n} or {(gpu_type, region): n}
OverCapacity = Literal["fail", "refuse"]
PortHealth = Mapping[int | str, float]  # {container port or protocol name: seconds}; inf: never


class NoCapacity(Exception):
    """A create the store refuses because no GPUs are free (``over_capacity="refuse"``)."""


@dataclass(frozen=True)
class Timings:
    """How long each phase lasts, in simulated seconds (``time_scale`` multiplies them all).

    Every pod draws one jitter factor in ``1 ± jitter`` (seeded) that stretches its phases,
    so a batch of pods does not turn RUNNING in lock-step. A phase of 0 seconds is skipped
    (``preparing`` is 0 by default, so PREPARING appears only if you ask for it).
    """

    pending: float = 8.0
    preparing: float = 0.0
    initializing: float = 37.0  # with pending: ~45 s (30-60 s jittered) to RUNNING
    resume: float = 20.0  # INITIALIZING again after a resume
    fail_after: float = 15.0  # INITIALIZING time before a doomed pod goes FAILED
    no_capacity: float = 3.0  # PENDING time before a pod that got no GPUs goes FAILED
    pausing: float = 5.0
    terminating: float = 5.0
    retention: float = 60.0  # TERMINATED pods stay visible this long, then get says 13000
    port_health: float = 5.0  # exposed ports turn healthy this long after RUNNING (inf: never)
    proxy_lag: float = 0.0  # with loopback ports: the listener opens this long after healthy
    jitter: float = 0.25


@dataclass(eq=False)
class SimPod:
    """One pod: static wire fields plus a timeline of (start time, status) segments."""

    id: int
    base: dict[str, Any]
    expose: list[dict[str, Any]]
    timeline: list[tuple[float, PodStatus]]
    stretch: float
    gpu_keys: tuple[Any, ...] = ()
    gpus: int = 0
    desired: str = "RUNNING"
    gone_at: float | None = None
    version: int = 0
    cache_key: tuple[Any, ...] | None = None
    cache: bytes = b""
    region: str = field(default=DEFAULT_REGION)
    health_jitter: tuple[float, ...] = ()  # one seeded factor per expose entry

    def phase(self, now: float) -> tuple[int, float, PodStatus]:
        """(segment index, segment start, status) at time ``now``."""
        timeline = self.timeline
        for i in range(len(timeline) - 1, -1, -1):
            start, status = timeline[i]
            if start <= now:
                return i, start, status
        start, status = timeline[0]
        return 0, start, status


class PodStore:
    """Every simulated pod, keyed by id in creation order, with lazy status and cached JSON."""

    def __init__(
        self,
        clock: Clock,
        *,
        time_scale: float = 1.0,
        seed: int = 0,
        failure_rate: float = 0.0,
        fail_image: str | None = "yotta/always-fails",
        timings: Timings | None = None,
        capacity: Capacity | None = None,
        epoch_base_ms: int = EPOCH_BASE_MS,
        price_format: PriceFormat = "number",
        over_capacity: OverCapacity = "fail",
        port_health: PortHealth | None = None,
        protocol_case: ProtocolCase = None,
        loopback: LoopbackPorts | None = None,
        catalogue: GpuCatalogue | None = None,
    ) -> None:
        if price_format not in PRICE_FORMATS:
            raise ValueError(f"price_format must be one of {PRICE_FORMATS}, got {price_format!r}")
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        self.clock = clock
        self.time_scale = time_scale
        self.failure_rate = failure_rate
        self.fail_image = fail_image
        self.timings = timings or Timings()
        self.capacity = dict(capacity or {})
        self.catalogue = catalogue if catalogue is not None else GpuCatalogue(capacity=self.capacity)
        self.epoch_base_ms = epoch_base_ms
        self.price_format: PriceFormat = price_format
        self.over_capacity: OverCapacity = over_capacity
        # Per-port health delays, looked up on every render, so a test may change them mid-run.
        self.port_health: dict[int | str, float] = dict(port_health or {})
        self.protocol_case: ProtocolCase = protocol_case
        self.loopback = loopback
        self._rng = random.Random(seed)
        self._health_rng = random.Random(seed + 1)  # its own stream: ids and timelines stay as they were
        self._seed_bits = seed % 1024
        self._pods: dict[int, SimPod] = {}
        self._next = 0
        # Hooks for the resource routes: checks a create must pass ((code, message) to
        # refuse it), and what to record about each new pod.
        self.admission: list[Callable[[PodCreateRequest], tuple[int, str] | None]] = []
        self.on_create: list[Callable[[SimPod, PodCreateRequest], None]] = []
        # Every create ever accepted, by client token: deletion and retention never lower it.
        self.creates_by_token: Counter[str] = Counter()

    # -- time ---------------------------------------------------------------------------
    def now(self) -> float:
        """The clock's time in real (scaled) seconds."""
        return self.clock.now()

    def epoch_ms(self, t: float) -> int:
        """A clock time as epoch milliseconds of simulated time."""
        sim_seconds = t / self.time_scale if self.time_scale > 0 else t
        return self.epoch_base_ms + round(sim_seconds * 1000)

    def _path(
        self, pod: SimPod, start: float, phases: Iterable[tuple[PodStatus, float]], final: PodStatus
    ) -> list[tuple[float, PodStatus]]:
        out = []
        t = start
        for status, seconds in phases:
            if seconds > 0:
                out.append((t, status))
                t += seconds * pod.stretch * self.time_scale
        out.append((t, final))
        return out

    # -- reads --------------------------------------------------------------------------
    def get(self, pod_id: int) -> SimPod | None:
        """The pod, or None if it never existed or is gone after retention."""
        pod = self._pods.get(pod_id)
        if pod is not None and pod.gone_at is not None and self.now() >= pod.gone_at:
            del self._pods[pod_id]
            return None
        return pod

    def status(self, pod: SimPod, now: float | None = None) -> PodStatus:
        """The pod's status now."""
        return pod.phase(self.now() if now is None else now)[2]

    def health_delay(self, pod: SimPod, index: int) -> float:
        """Clock seconds after RUNNING before ``pod``'s expose entry ``index`` turns healthy.

        ``port_health`` overrides (by container port, then by protocol name in any case)
        beat ``Timings.port_health``. A seeded per-entry factor in ``[1 - jitter, 1]``
        spreads the delays, so by the configured delay every entry is healthy.
        ``math.inf``: never.
        """
        entry = pod.expose[index]
        base = self.timings.port_health
        if self.port_health:
            proto = str(entry.get("protocol") or "").casefold()
            by_name = {str(k).casefold(): v for k, v in self.port_health.items() if isinstance(k, str)}
            base = self.port_health.get(entry["port"], by_name.get(proto, base))
        if math.isinf(base):
            return math.inf
        factor = pod.health_jitter[index] if index < len(pod.health_jitter) else 1.0
        return base * factor * self.time_scale

    def healthy(self, pod: SimPod, now: float | None = None) -> tuple[bool, ...]:
        """Each expose entry's ``healthy`` flag at ``now``."""
        now = self.now() if now is None else now
        _, start, status = pod.phase(now)
        if status is not S.RUNNING:
            return (False,) * len(pod.expose)
        return tuple(now >= start + self.health_delay(pod, i) for i in range(len(pod.expose)))

    def listener_due(self, pod_id: int, index: int) -> bool | None:
        """For loopback ports: should entry ``index`` accept connections now (None: pod over)?

        Due ``Timings.proxy_lag`` after the entry turned healthy; a pod that is deleted,
        FAILED or gone is over. A paused pod keeps its listeners.
        """
        pod = self.get(pod_id)
        if pod is None:
            return None
        now = self.now()
        _, start, status = pod.phase(now)
        if status in (S.FAILED, S.TERMINATING, S.TERMINATED):
            return None
        if status is not S.RUNNING:
            return False
        lag = self.timings.proxy_lag * self.time_scale
        return now >= start + self.health_delay(pod, index) + lag

    def encoded(self, pod: SimPod, now: float | None = None) -> bytes:
        """The pod's JSON, re-encoded only when its status or port health changed."""
        now = self.now() if now is None else now
        index, start, status = pod.phase(now)
        healthy = self.healthy(pod, now) if pod.expose else ()
        key = (pod.version, index, healthy, self.protocol_case)
        if key != pod.cache_key:
            pod.cache = render(
                pod.base,
                pod.expose,
                status=status.value,
                updated_ms=self.epoch_ms(start),
                desired=pod.desired,
                healthy=healthy,
                protocol_case=self.protocol_case,
            )
            pod.cache_key = key
        return pod.cache

    def iter_pods(self) -> Iterator[SimPod]:
        """Every pod still visible, dropping those past retention as it goes."""
        now = self.now()
        gone = []
        for pod in self._pods.values():
            if pod.gone_at is not None and now >= pod.gone_at:
                gone.append(pod.id)
            else:
                yield pod
        for pod_id in gone:
            self._pods.pop(pod_id, None)

    def live_count(self, *, include_terminating: bool = True) -> int:
        """Pods not yet TERMINATED (FAILED pods are not live); optionally not TERMINATING."""
        now = self.now()
        dead = _NOT_LIVE if include_terminating else _NOT_LIVE | {S.TERMINATING}
        return sum(1 for pod in self.iter_pods() if pod.phase(now)[2] not in dead)

    def __len__(self) -> int:
        return sum(1 for _ in self.iter_pods())

    # -- create -------------------------------------------------------------------------
    def _new_id(self) -> int:
        # Snowflake-shaped: milliseconds since 2015 << 22 | worker << 12 | sequence. The
        # millisecond part starts ~2.5 years in, so every id is far above 2**53.
        self._next += 1
        millis = 79_122_000_000 + self._next
        return (millis << 22) | (self._seed_bits << 12) | self._rng.getrandbits(12)

    def _place(self, req: PodCreateRequest) -> tuple[str, tuple[Any, ...], bool]:
        """(region, capacity keys to hold, whether GPUs were available)."""
        return self.catalogue.place(req.gpu_type, req.gpu_count, req.regions or (), self.holds_gpus)

    def refusal(self, req: PodCreateRequest) -> tuple[int, str] | None:
        """Why ``POST /v2/pods`` must refuse ``req`` (result code, message), if it must."""
        for check in self.admission:
            refused = check(req)
            if refused is not None:
                return refused
        return None

    def holds_gpus(self, pod: Any) -> bool:
        """Whether ``pod`` still holds its GPUs: it exists and is not TERMINATED or FAILED."""
        found = self._pods.get(pod.id)
        return found is pod and found.phase(self.now())[2] not in _NOT_LIVE

    def remaining(self, gpu_type: str, region: str) -> int | None:
        """GPUs still free for ``gpu_type`` in ``region`` (``None``: unlimited)."""
        return self.catalogue.remaining(gpu_type, region, self.holds_gpus)

    def create(self, req: PodCreateRequest, *, status: PodStatus | None = None) -> SimPod:
        """Add a pod as ``POST /v2/pods`` would; ``status`` starts it in that phase instead.

        Beyond capacity, under ``over_capacity="refuse"``, raises :class:`NoCapacity` and
        adds nothing.
        """
        now = self.now()
        region, keys, placed = self._place(req)
        if not placed and self.over_capacity == "refuse" and status is None:
            wanted = ", ".join(req.regions or ()) or region
            raise NoCapacity(f"insufficient resources: no {req.gpu_type} x{req.gpu_count} free in {wanted}")
        pod_id = self._new_id()
        t = self.timings
        stretch = 1.0 + self._rng.uniform(-t.jitter, t.jitter)
        doomed = self._rng.random() < self.failure_rate or req.image == self.fail_image
        base, expose = static_fields(pod_id, req, region, self.epoch_ms(now), self.price_format)
        pod = SimPod(pod_id, base, expose, [], stretch, keys, req.gpu_count, region=region)
        pod.health_jitter = tuple(1.0 - self._health_rng.uniform(0.0, t.jitter) for _ in expose)
        if self.loopback is not None and expose:
            self._bind(pod)
        if status is None:
            if not placed:
                pod.timeline = self._path(pod, now, [(S.PENDING, t.no_capacity)], S.FAILED)
            elif doomed:
                phases = [(S.PENDING, t.pending), (S.PREPARING, t.preparing)]
                phases.append((S.INITIALIZING, t.fail_after))
                pod.timeline = self._path(pod, now, phases, S.FAILED)
            else:
                pod.timeline = self._start_path(pod, now)
        else:
            self._seed_status(pod, now, status)
        self._pods[pod_id] = pod
        for hook in self.on_create:
            hook(pod, req)
        for var in req.environment_vars or ():
            if var.key == TOKEN_ENV:
                self.creates_by_token[var.value] += 1
        if keys:
            self.catalogue.hold(pod, keys, self.holds_gpus)
        return pod

    def _bind(self, pod: SimPod) -> None:
        """Give each expose entry a real loopback port (see :class:`LoopbackPorts`)."""
        assert self.loopback is not None
        ports = self.loopback.reserve(pod.id, len(pod.expose))
        for entry, port in zip(pod.expose, ports, strict=True):
            entry["host"], entry["proxyPort"] = LOOPBACK_HOST, port
        ssh = [e for e in pod.expose if str(e.get("protocol") or "").casefold() == "ssh"]
        if ssh:
            pod.base["sshCmd"] = f"ssh root@{LOOPBACK_HOST} -p {ssh[0]['proxyPort']}"

    def _start_path(self, pod: SimPod, now: float) -> list[tuple[float, PodStatus]]:
        t = self.timings
        phases = [(S.PENDING, t.pending), (S.PREPARING, t.preparing), (S.INITIALIZING, t.initializing)]
        return self._path(pod, now, phases, S.RUNNING)

    def _seed_status(self, pod: SimPod, now: float, status: PodStatus) -> None:
        t = self.timings
        if status in (S.PENDING, S.PREPARING, S.INITIALIZING):
            phases = [(S.PENDING, t.pending), (S.PREPARING, t.preparing), (S.INITIALIZING, t.initializing)]
            keep = [(s, d if s is not status or d > 0 else t.pending) for s, d in phases]
            keep = keep[[s for s, _ in keep].index(status) :]
            pod.timeline = self._path(pod, now, keep, S.RUNNING)
        elif status is S.RUNNING:
            # Already healthy: seeded pods model a fleet that has been up for a while.
            delays = [self.health_delay(pod, i) for i in range(len(pod.expose))]
            up = max([d for d in delays if not math.isinf(d)], default=0.0)
            default = 0.0 if math.isinf(t.port_health) else t.port_health * self.time_scale
            pod.timeline = [(now - max(up, default), S.RUNNING)]
        elif status is S.PAUSING:
            pod.timeline = self._path(pod, now, [(S.PAUSING, t.pausing or t.pending)], S.PAUSED)
            pod.desired = "PAUSED"
        elif status is S.PAUSED:
            pod.timeline = [(now, S.PAUSED)]
            pod.desired = "PAUSED"
        elif status in (S.TERMINATING, S.TERMINATED):
            phases = [(S.TERMINATING, t.terminating if status is S.TERMINATING else 0.0)]
            pod.timeline = self._path(pod, now, phases, S.TERMINATED)
            pod.gone_at = pod.timeline[-1][0] + t.retention * self.time_scale
        elif status is S.FAILED:
            pod.timeline = [(now, S.FAILED)]
        else:
            raise ValueError(f"cannot seed a pod in status {status!r}")

    # -- actions: each returns None on success, or the result code of the error ---------
    def _rewrite(self, pod: SimPod, now: float, path: list[tuple[float, PodStatus]]) -> None:
        current = pod.phase(now)
        pod.timeline = [(current[1], current[2]), *path]
        pod.version += 1

    def pause(self, pod: SimPod) -> str | None:
        """RUNNING -> PAUSING -> PAUSED; otherwise the reason it is refused."""
        now = self.now()
        status = self.status(pod, now)
        if status is not S.RUNNING:
            return f"pod {pod.id} is {status.value}; only a RUNNING pod can be paused"
        self._rewrite(pod, now, self._path(pod, now, [(S.PAUSING, self.timings.pausing)], S.PAUSED))
        pod.desired = "PAUSED"
        return None

    def resume(self, pod: SimPod) -> str | None:
        """PAUSED -> INITIALIZING -> RUNNING; otherwise the reason it is refused."""
        now = self.now()
        status = self.status(pod, now)
        if status is not S.PAUSED:
            return f"pod {pod.id} is {status.value}; only a PAUSED pod can be resumed"
        phases = [(S.INITIALIZING, self.timings.resume)]
        self._rewrite(pod, now, self._path(pod, now, phases, S.RUNNING))
        pod.desired = "RUNNING"
        return None

    def delete(self, pod: SimPod) -> str | None:
        """Any state but TERMINATING/TERMINATED (FAILED included) -> TERMINATING -> TERMINATED."""
        now = self.now()
        status = self.status(pod, now)
        if status in (S.TERMINATING, S.TERMINATED):
            return f"pod {pod.id} is already {status.value}"
        path = self._path(pod, now, [(S.TERMINATING, self.timings.terminating)], S.TERMINATED)
        self._rewrite(pod, now, path)
        pod.gone_at = path[-1][0] + self.timings.retention * self.time_scale
        if self.loopback is not None:
            self.loopback.close(pod.id)  # its ports refuse connections from now on
        return None
