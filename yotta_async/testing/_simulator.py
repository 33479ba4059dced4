"""``Simulator``: the embedded, stateful fake Pods API v2, served over loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

import msgspec
from aiohttp import web

from ..models import PodCreateRequest, PodStatus
from ._app import AppState, build_app
from ._clock import Clock, ManualClock, MonotonicClock
from ._faults import FaultPlan
from ._render import EPOCH_BASE_MS
from ._state import Capacity, PodStore, Timings

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

    ``epoch_ms`` is the wall-clock instant (epoch milliseconds) that clock time zero maps
    to in ``createdAt``/``updatedAt``. By default it is the real time at construction, so
    ages computed against ``datetime.now()`` (as ``sweep(older_than=...)`` does) make
    sense; with a :class:`ManualClock` it is a fixed 2025-01-01 so runs are reproducible.
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
    ) -> None:
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
        )
        self._state = AppState(self.store, self.api_key, faults or FaultPlan(seed=seed))
        self.app = build_app(self._state)
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
        return f"Simulator({where}, pods={len(self.store)})"


def _epoch_base(epoch_ms: int | None, clock: Clock) -> int:
    if epoch_ms is not None:
        return epoch_ms
    if isinstance(clock, ManualClock):
        return EPOCH_BASE_MS
    return round(time.time() * 1000)
