"""``Simulator``: the embedded, stateful fake Pods API v2, served over loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

import msgspec
from aiohttp import web

from ..models import PodCreateRequest, PodStatus
from ._app import AppState, build_app
from ._catalogue import GpuCatalogue
from ._clock import Clock, ManualClock, MonotonicClock
from ._faults import FaultPlan
from ._loopback import LoopbackPorts
from ._render import EPOCH_BASE_MS, PriceFormat, ProtocolCase
from ._resources import ResourceStore, ResourceTimings
from ._resources_app import ResourceState, add_routes
from ._state import Capacity, OverCapacity, PodStore, PortHealth, Timings
from ._variants import Variants

__all__ = ["Simulator"]

# No headers in the format: the access log must never show the API key.
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs'
access_logger = logging.getLogger("yotta_async.testing.access")


class Simulator:
    """A stateful fake of the Pods API v2 on ``http://host:port``.

    ``async with Simulator() as sim:`` starts it on loopback (port 0 picks a free port);
    ``sim.base_url`` and ``sim.api_key`` are what a client needs. Durations follow
    :class:`Timings` multiplied by ``time_scale``; pass a :class:`ManualClock` to move time
    by hand. See the package docstring for the behaviour decisions.

    ``catalogue`` maps each GPU type to the regions offering it and their capacity in GPUs
    (``{"NVIDIA_H100_80G": {"us-east-1": 8, "us-west-1": None}}``, ``None``: unlimited);
    by default every known type is offered, unlimited, in five regions. Change it during a
    run with :meth:`set_capacity`. ``variants`` picks how ambiguous spec points are played
    (:class:`Variants`).

    ``epoch_ms`` is the wall-clock instant (epoch milliseconds) that clock time zero maps
    to in ``createdAt``/``updatedAt``. By default it is the real time at construction, so
    ages computed against ``datetime.now()`` (as ``sweep(older_than=...)`` does) make
    sense; with a :class:`ManualClock` it is a fixed 2025-01-01 so runs are reproducible.

    Every pod carries prices (``singleCardPrice`` per GPU-hour from the GPU catalogue;
    ``containerVolumePrice``, ``persistentVolumePrice`` and ``persistentVolumes[].volumePrice``
    per GB-hour). ``price_format="string"`` sends them as decimal strings (``"2.49"``), as
    one documented reply does, instead of JSON numbers.

    Readiness and capacity knobs (each also an attribute you may change mid-run):

    * ``port_health``: ``{container port or protocol name: seconds}`` after RUNNING before
      that expose entry reports ``healthy: true`` (default ``Timings.port_health`` for every
      entry; each entry draws a seeded factor in ``[1 - jitter, 1]``). ``math.inf`` means
      never healthy.
    * ``loopback_ports=True``: every expose entry gets a real socket on ``127.0.0.1`` (its
      ``host``/``proxyPort``) that accepts connections once the entry is healthy (plus
      ``Timings.proxy_lag``), and is closed when the pod is deleted, fails or the simulator
      closes. Needs one file descriptor per exposed port: meant for small tests.
    * ``protocol_case``: ``"upper"`` or ``"lower"`` rewrites ``expose[].protocol`` in every
      reply (the real API answers in upper case); ``None`` echoes what the create sent.
    * ``over_capacity``: what a create beyond ``capacity`` gets: ``"fail"`` (accepted, the
      pod goes FAILED, as the documentation describes) or ``"refuse"`` (the create is
      refused with code :data:`CAPACITY_ERROR_CODE` and no pod is made).
    """

    def __init__(
        self,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        time_scale: float = 1.0,
        clock: Clock | None = None,
        seed: int = 0,
        failure_rate: float = 0.0,
        fail_image: str | None = "yotta/always-fails",
        timings: Timings | None = None,
        faults: FaultPlan | None = None,
        capacity: Capacity | None = None,
        epoch_ms: int | None = None,
        price_format: PriceFormat = "number",
        over_capacity: OverCapacity = "fail",
        port_health: PortHealth | None = None,
        loopback_ports: bool = False,
        protocol_case: ProtocolCase = None,
        catalogue: Mapping[str, Mapping[str, int | None]] | None = None,
        variants: Variants | None = None,
        resource_timings: ResourceTimings | None = None,
    ) -> None:
        if over_capacity not in ("fail", "refuse"):
            raise ValueError(f"over_capacity must be 'fail' or 'refuse', got {over_capacity!r}")
        if protocol_case not in (None, "upper", "lower"):
            raise ValueError(f"protocol_case must be 'upper', 'lower' or None, got {protocol_case!r}")
        self.api_key = api_key if api_key is not None else "sim-" + secrets.token_urlsafe(24)
        self.host = host
        self.port = port
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.store = PodStore(
            self.clock,
            time_scale=time_scale,
            seed=seed,
            failure_rate=failure_rate,
            fail_image=fail_image,
            timings=timings,
            capacity=capacity,
            epoch_base_ms=_epoch_base(epoch_ms, self.clock),
            price_format=price_format,
            over_capacity=over_capacity,
            port_health=port_health,
            protocol_case=protocol_case,
            loopback=LoopbackPorts() if loopback_ports else None,
            catalogue=GpuCatalogue(catalogue, capacity),
        )
        self._state = AppState(self.store, self.api_key, faults or FaultPlan(seed=seed))
        self.resources = ResourceStore(self.store, timings=resource_timings, seed=seed)
        self._resources = ResourceState(self.store, variants or Variants(), self.resources)
        self.resources.echo_credential_id = self._resources.variants.echo_credential_id
        self.app = build_app(self._state, lambda app: add_routes(app, self._resources))
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> Simulator:
        """Bind and start serving; returns ``self``."""
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        runner = web.AppRunner(
            self.app,
            access_log=access_logger,
            access_log_format=ACCESS_LOG_FORMAT,
            shutdown_timeout=0.5,
            handle_signals=False,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        host = self.host if ":" not in self.host else f"[{self.host}]"
        self._base_url = f"http://{host}:{self.port}"
        return self

    async def close(self) -> None:
        """Stop serving and release the socket (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        if self.store.loopback is not None:
            self.store.loopback.close_all()

    async def __aenter__(self) -> Simulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://host:port`` once started."""
        if self._base_url is None:
            raise RuntimeError("simulator not started: use 'async with Simulator()' or start()")
        return self._base_url

    # -- fault plan and counters ---------------------------------------------------------
    @property
    def faults(self) -> FaultPlan:
        """The fault plan in force; assign a new one at any time."""
        return self._state.faults

    @faults.setter
    def faults(self, plan: FaultPlan | None) -> None:
        self._state.faults = plan if plan is not None else FaultPlan()

    @property
    def request_counts(self) -> Counter[str]:
        """Requests seen, by route key (``"GET /v2/pods/{id}"``; ``"* unmatched"`` for others)."""
        return self._state.request_counts

    @property
    def total_requests(self) -> int:
        """Every request seen, faulted and unauthorised ones included."""
        return sum(self._state.request_counts.values())

    @property
    def max_concurrent_requests(self) -> int:
        """The most requests in flight at once since the last ``reset_counters``."""
        return self._state.max_concurrent_requests

    @property
    def in_flight(self) -> int:
        """Requests being handled right now."""
        return self._state.in_flight

    async def wait_for_requests(self, count: int = 1, route: str | None = None) -> None:
        """Return once ``count`` requests have arrived on ``route`` (``None``: any route).

        Counted as :attr:`request_counts` counts them (since the last ``reset_counters``),
        when a request *arrives*, before faults or the handler act on it. Tests synchronise
        on this instead of sleeping::

            task = asyncio.ensure_future(client.pods.create(request))
            await sim.wait_for_requests(1, "GET /v2/pods")   # the create is reconciling
            task.cancel()
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be an integer >= 1, got {count!r}")
        state = self._state
        if state.seen(route) >= count:
            return
        event = asyncio.Event()
        state.waiters.append((route, count, event))
        try:
            await event.wait()
        finally:
            if not event.is_set():
                state.waiters = [w for w in state.waiters if w[2] is not event]

    async def wait_idle(self) -> None:
        """Return once no request is being handled (at once if none is).

        A request the client gave up on (a timeout) may still be running on the server;
        this waits for it to end, instead of sleeping and hoping.
        """
        if not self._state.in_flight:
            return
        event = asyncio.Event()
        self._state.idle_waiters.append(event)
        await event.wait()

    def creates_by_token(self) -> Counter[str]:
        """How many pods were created with each client token (``YOTTA_ASYNC_TOKEN``), ever.

        Every create the store accepted counts, deleted and aged-out pods included, so a
        duplicate cannot hide by being cleaned up: exactly-once means every value is 1.
        Pods created without a token are not counted.
        """
        return Counter(self.store.creates_by_token)

    def reset_counters(self) -> None:
        """Zero the request counts and the concurrency high-water mark."""
        self._state.request_counts.clear()
        self._state.max_concurrent_requests = self._state.in_flight

    # -- readiness and capacity knobs ---------------------------------------------------
    @property
    def port_health(self) -> dict[int | str, float]:
        """Per-port health delays (see the class docstring); mutate or assign at any time."""
        return self.store.port_health

    @port_health.setter
    def port_health(self, value: PortHealth | None) -> None:
        self.store.port_health = dict(value or {})

    @property
    def over_capacity(self) -> OverCapacity:
        """``"fail"`` or ``"refuse"``: what a create beyond capacity gets; assign at any time."""
        return self.store.over_capacity

    @over_capacity.setter
    def over_capacity(self, mode: OverCapacity) -> None:
        if mode not in ("fail", "refuse"):
            raise ValueError(f"over_capacity must be 'fail' or 'refuse', got {mode!r}")
        self.store.over_capacity = mode

    @property
    def protocol_case(self) -> ProtocolCase:
        """``"upper"``, ``"lower"`` or ``None``: the case of ``expose[].protocol`` in replies."""
        return self.store.protocol_case

    @protocol_case.setter
    def protocol_case(self, case: ProtocolCase) -> None:
        if case not in (None, "upper", "lower"):
            raise ValueError(f"protocol_case must be 'upper', 'lower' or None, got {case!r}")
        self.store.protocol_case = case

    @property
    def open_ports(self) -> int:
        """With ``loopback_ports=True``: loopback sockets still open (0 after every delete)."""
        return self.store.loopback.open_sockets if self.store.loopback is not None else 0

    async def sync_ports(self) -> None:
        """Open (or close) loopback listeners as the clock says, without waiting for a request."""
        if self.store.loopback is not None:
            await self.store.loopback.sync(self.store.listener_due)
    # -- GPU catalogue and variants ------------------------------------------------------
    @property
    def variants(self) -> Variants:
        """The variants in force; assign a new :class:`Variants` at any time."""
        return self._resources.variants

    @variants.setter
    def variants(self, value: Variants) -> None:
        if not isinstance(value, Variants):
            raise TypeError(f"expected Variants, got {type(value).__name__}")
        self._resources.variants = value
        self.resources.echo_credential_id = value.echo_credential_id

    def set_capacity(self, gpu_type: str, region: str, gpus: int | None) -> None:
        """Offer ``gpu_type`` in ``region`` with ``gpus`` GPUs in all (``None``: unlimited).

        Takes effect at once: ``GET /v2/vms/types`` reports ``available`` from what
        remains, and a pod created where no GPUs remain goes FAILED after
        ``Timings.no_capacity``. ``set_capacity(t, r, 0)`` plays "sold out".
        """
        self.store.catalogue.set_capacity(gpu_type, region, gpus)

    def remove_offer(self, gpu_type: str, region: str | None = None) -> None:
        """Stop offering ``gpu_type`` in ``region`` (everywhere if ``None``)."""
        self.store.catalogue.remove(gpu_type, region)

    def remaining_capacity(self, gpu_type: str, region: str) -> int | None:
        """GPUs still free for ``gpu_type`` in ``region`` (``None``: unlimited; 0: not offered)."""
        return self.store.remaining(gpu_type, region)

    def gpu_types(self) -> list[dict[str, Any]]:
        """The GPU catalogue as ``GET /v2/vms/types`` would render it now (object regions)."""
        return self.store.catalogue.listing(self.store.holds_gpus)

    # -- credentials and volumes -----------------------------------------------------------
    def credentials(self) -> list[dict[str, Any]]:
        """Every stored registry credential as the API renders it (never a password)."""
        v = self.variants
        return [self.resources.render_credential(c, string_ids=False, created_at=v.created_at)
                for c in self.resources.credentials.values()]

    def volumes(self) -> list[dict[str, Any]]:
        """Every volume as the API renders it now (status and ``mountCount`` included)."""
        return [self.resources.render_volume(v, string_ids=False, upper=False)
                for v in self.resources.iter_volumes()]

    def add_credential(
        self, name: str = "sim-registry", type: str = "DOCKER_HUB", username: str = "sim-user",
        password: str | None = None,
    ) -> int:
        """Store a registry credential without HTTP; returns its id.

        The password (random if not given) is kept only as a salted digest; check one
        with :meth:`password_matches`.
        """
        secret = password if password is not None else secrets.token_urlsafe(16)
        return self.resources.add_credential(name, type, username, secret).id

    def password_matches(self, credential_id: int, password: str) -> bool:
        """Whether ``password`` is the stored credential's password (compared by digest)."""
        cred = self.resources.credentials.get(credential_id)
        return cred is not None and self.resources.password_matches(cred, password)

    def add_volume(
        self,
        name: str = "sim-volume",
        storage_type: str = "CEPH",
        region: str | None = "us-east-1",
        size_in_gb: int | None = 100,
        vendor_volume_type: str | None = None,
        *,
        active: bool = True,
    ) -> int:
        """Create a volume without HTTP (``active`` at once unless ``active=False``); returns its id."""
        return self.resources.add_volume(
            name, storage_type, region, size_in_gb, vendor_volume_type, active=active
        ).id

    def fail_volume(self, volume_id: int) -> None:
        """Put a volume in ``error`` now (its last operation failed), e.g. to test a waiter."""
        volume = self.resources.volume(volume_id)
        if volume is None:
            raise KeyError(volume_id)
        volume.timeline = [(self.resources.now(), "error")]
        volume.resized = None

    def mount_count(self, volume_id: int) -> int:
        """Live pods mounting the volume now."""
        return self.resources.mount_count(volume_id)

    # -- state ---------------------------------------------------------------------------
    def pods(self) -> list[dict[str, Any]]:
        """A snapshot of every visible pod as the API would render it (camelCase dicts)."""
        now = self.store.now()
        return [msgspec.json.decode(self.store.encoded(p, now)) for p in self.store.iter_pods()]

    def pod(self, pod_id: int) -> dict[str, Any] | None:
        """One pod as the API would render it, or ``None`` if it does not exist (any more)."""
        found = self.store.get(pod_id)
        return None if found is None else msgspec.json.decode(self.store.encoded(found))

    def status(self, pod_id: int) -> PodStatus | None:
        """One pod's status now, or ``None`` if it does not exist (any more)."""
        found = self.store.get(pod_id)
        return None if found is None else self.store.status(found)

    def live_pods(self, *, include_terminating: bool = True) -> int:
        """Pods not yet TERMINATED (FAILED ones are not live): the "leaked pods" figure.

        With ``include_terminating=False``, pods whose delete was accepted are not counted.
        """
        return self.store.live_count(include_terminating=include_terminating)

    def add_pods(
        self, n: int, *, status: PodStatus | str | int | None = PodStatus.RUNNING, **fields: Any
    ) -> list[int]:
        """Put ``n`` pods straight into the store, without HTTP; returns their ids.

        ``fields`` are ``PodCreateRequest`` fields (snake_case); ``name`` gets a ``-{i}``
        suffix. ``status`` seeds the phase (RUNNING pods are already healthy); ``None``
        starts each pod as a fresh create would.
        """
        wanted = None if status is None else PodStatus(status)
        name = fields.pop("name", "sim-pod")
        fields.setdefault("image", "nvidia/cuda:12.1.0-base-ubuntu22.04")
        fields.setdefault("gpu_type", "NVIDIA_H100_80G")
        fields.setdefault("gpu_count", 1)
        ids = []
        for i in range(n):
            request = PodCreateRequest(name=f"{name}-{i}", **fields)
            ids.append(self.store.create(request, status=wanted).id)
        return ids

    def now(self) -> datetime:
        """The simulator's current wall-clock time: the frame ``createdAt`` is written in.

        Pass it as ``sweep(now=sim.now())`` to age pods on simulated time.
        """
        ms = self.store.epoch_ms(self.clock.now())
        return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)

    def advance(self, seconds: float) -> float:
        """Advance a :class:`ManualClock` by ``seconds`` of *simulated* time (scaled)."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a ManualClock")
        return self.clock.advance(seconds * self.store.time_scale)

    def __repr__(self) -> str:
        where = self._base_url or "not started"
        return (f"Simulator({where}, pods={len(self.store)}, credentials={len(self.resources.credentials)}, "
                f"volumes={len(self.resources.volumes)})")


def _epoch_base(epoch_ms: int | None, clock: Clock) -> int:
    if epoch_ms is not None:
        return epoch_ms
    if isinstance(clock, ManualClock):
        return EPOCH_BASE_MS
    return round(time.time() * 1000)
