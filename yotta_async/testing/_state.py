"""The simulator's pod store and lifecycle: status is a pure function of the clock."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models import PodCreateRequest, PodStatus
from ..models.status import TERMINAL
from ._clock import Clock
from ._render import DEFAULT_REGION, EPOCH_BASE_MS, render, static_fields

__all__ = ["Capacity", "PodStore", "SimPod", "Timings"]

S = PodStatus
# The statuses whose pods are "leaked" if a script dies: they still exist and may bill.
_NOT_LIVE = TERMINAL
Capacity = Mapping[Any, int]  # {gpu_type: n} or {(gpu_type, region): n}


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
    port_health: float = 5.0  # exposed ports turn healthy this long after RUNNING
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
    cache_key: tuple[int, int, bool] | None = None
    cache: bytes = b""
    region: str = field(default=DEFAULT_REGION)

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
    ) -> None:
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
        self.epoch_base_ms = epoch_base_ms
        self._rng = random.Random(seed)
        self._seed_bits = seed % 1024
        self._pods: dict[int, SimPod] = {}
        self._reserved: dict[int, SimPod] = {}  # pods holding GPUs against a capacity limit
        self._next = 0

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

    def encoded(self, pod: SimPod, now: float | None = None) -> bytes:
        """The pod's JSON, re-encoded only when its status or port health changed."""
        now = self.now() if now is None else now
        index, start, status = pod.phase(now)
        healthy = status is S.RUNNING and now >= start + self.timings.port_health * self.time_scale
        key = (pod.version, index, healthy)
        if key != pod.cache_key:
            pod.cache = render(
                pod.base,
                pod.expose,
                status=status.value,
                updated_ms=self.epoch_ms(start),
                desired=pod.desired,
                healthy=healthy,
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
        """(region, capacity keys to reserve, whether GPUs were available)."""
        gpu = req.gpu_type
        # A type with per-region entries exists only in those regions.
        regional = {k[1] for k in self.capacity if isinstance(k, tuple) and k[0] == gpu}
        regions = list(req.regions or ())
        if not regions:
            regions = [DEFAULT_REGION, *sorted(regional - {DEFAULT_REGION})]
        if not self.capacity:
            return regions[0], (), True
        now = self.now()
        for region in regions:
            if regional and region not in regional:
                continue
            keys = tuple(k for k in ((gpu, region), gpu) if k in self.capacity)
            if all(self._used(k, now) + req.gpu_count <= self.capacity[k] for k in keys):
                return region, keys, True
        return regions[0], (), False

    def _used(self, key: Any, now: float) -> int:
        used = 0
        for pod in list(self._reserved.values()):
            if pod.phase(now)[2] in _NOT_LIVE or self._pods.get(pod.id) is not pod:
                del self._reserved[pod.id]  # TERMINATED/FAILED pods give their GPUs back
            elif key in pod.gpu_keys:
                used += pod.gpus
        return used

    def create(self, req: PodCreateRequest, *, status: PodStatus | None = None) -> SimPod:
        """Add a pod as ``POST /v2/pods`` would; ``status`` starts it in that phase instead."""
        now = self.now()
        pod_id = self._new_id()
        t = self.timings
        stretch = 1.0 + self._rng.uniform(-t.jitter, t.jitter)
        doomed = self._rng.random() < self.failure_rate or req.image == self.fail_image
        region, keys, placed = self._place(req)
        base, expose = static_fields(pod_id, req, region, self.epoch_ms(now))
        pod = SimPod(pod_id, base, expose, [], stretch, keys, req.gpu_count, region=region)
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
        if keys:
            self._reserved[pod_id] = pod
        return pod

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
            pod.timeline = [(now - t.port_health * self.time_scale, S.RUNNING)]
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
        return None
