"""The shared pod watcher: one background poller per client lists pods for every subscriber."""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import anyio
import msgspec

from .._backoff import Backoff
from .._protocol import is_transient
from .._validation import check_int, check_number
from ..errors import (
    CLIENT_CLOSED,
    ConfigurationError,
    PodNotFoundError,
    RateLimitError,
    ValidationError,
    YottaError,
)
from ..models import Pod

__all__ = [
    "GetPod", "ListPods", "Observation", "PodListing", "PodWatcher", "Subscription", "WatchPolicy",
]


class PodListing:
    """One list reply whose pods are still raw JSON, each decoded only if it is needed.

    The watcher reads every pod's id (``decode_id``), but decodes a whole :class:`Pod`
    (``decode``) only for the pods someone watches, and only when the pod's bytes changed
    since the last tick; the rest stay slices of the body, which is freed with the listing.
    Both callables raise a ``YottaError`` (``ResponseDecodeError``) for a malformed pod.
    """

    __slots__ = ("_decode", "_decode_id", "_items")

    def __init__(
        self,
        items: list[msgspec.Raw],
        decode_id: Callable[[msgspec.Raw], int],
        decode: Callable[[msgspec.Raw], Pod],
    ) -> None:
        self._items = items
        self._decode_id = decode_id
        self._decode = decode

    def __len__(self) -> int:
        return len(self._items)

    def entries(self) -> Iterator[tuple[int, msgspec.Raw]]:
        """``(pod id, raw JSON)`` for each pod of the reply, in order."""
        for raw in self._items:
            yield self._decode_id(raw), raw

    def decode(self, raw: msgspec.Raw) -> Pod:
        """The :class:`Pod` that ``raw`` (one of :meth:`entries`) describes."""
        return self._decode(raw)


ListPods = Callable[[list[str] | None], Awaitable[Sequence[Pod] | PodListing]]
GetPod = Callable[[int], Awaitable[Pod]]

# (pod id, snapshot or None, error): a snapshot; or None with PodNotFoundError (gone) or
# with another non-transient error that ends the wait for that pod.
Observation = tuple[int, Pod | None, YottaError | None]


def _health(pod: Pod) -> tuple[bool | None, ...]:
    """The ``healthy`` flags of a pod's exposed ports: a flip is a change worth polling for."""
    return tuple(e.healthy for e in pod.expose or ())


@dataclass(frozen=True)
class WatchPolicy:
    """How often the shared watcher lists pods.

    After a tick in which any watched pod changed (or someone new started waiting) the next
    list comes ``floor`` seconds later; every quiet tick stretches the interval by
    ``multiplier``, up to ``maximum``, with a little jitter so that many processes do not
    poll in step. No two lists are ever closer than ``floor``, and a 429's ``Retry-After``
    postpones the next one. ``confirm_concurrency`` caps the GETs that check on pods
    missing from a list.
    """

    floor: float = 1.0
    maximum: float = 10.0
    multiplier: float = 1.5
    jitter: float = 0.2
    confirm_concurrency: int = 16

    def __post_init__(self) -> None:
        # Checked here, not in the background poller, where a bad value would surface late.
        check_number(self.floor, "floor")
        check_number(self.maximum, "maximum")
        if self.maximum < self.floor:
            raise ValidationError("maximum", f"must be >= floor ({self.floor:g}), got {self.maximum!r}")
        check_number(self.multiplier, "multiplier", minimum=1.0, inclusive=True)
        check_number(self.jitter, "jitter", inclusive=True)
        if self.jitter > 1:
            raise ValidationError("jitter", f"must be between 0 and 1, got {self.jitter!r}")
        check_int(self.confirm_concurrency, "confirm_concurrency", minimum=1)

    def interval(self, quiet_ticks: int, rng: random.Random | None = None) -> float:
        """Seconds until the next list after ``quiet_ticks`` ticks without a change."""
        backoff = Backoff(self.floor, self.maximum, self.multiplier, self.jitter)
        return max(self.floor, backoff.delay(quiet_ticks, rng))


class Subscription:
    """One consumer's view of the watcher: the pods it wants, its deadline, its inbox."""

    def __init__(self, ids: Iterable[int] | None, deadline: float) -> None:
        self.ids: set[int] | None = None if ids is None else set(ids)
        self.deadline = deadline
        self.expired = False
        self.error: BaseException | None = None
        self._batches: deque[list[Observation]] = deque()
        self._event = anyio.Event()

    def drop(self, pod_id: int) -> None:
        """Stop watching ``pod_id`` (its wait is settled), so it costs no more requests."""
        if self.ids is not None:
            self.ids.discard(pod_id)

    async def next(self) -> list[Observation] | None:
        """The next tick's observations, or ``None`` once the deadline has passed."""
        while True:
            if self._batches:
                return self._batches.popleft()
            if self.error is not None:
                raise self.error
            if self.expired:
                return None
            self._event = anyio.Event()
            await self._event.wait()

    def push(self, batch: list[Observation]) -> None:
        """Deliver one tick's observations (called by the watcher)."""
        self._batches.append(batch)
        self._event.set()

    def end(self, *, error: BaseException | None = None) -> None:
        """End the subscription: expired, or failed with ``error`` (called by the watcher)."""
        if error is not None:
            self.error = error
        else:
            self.expired = True
        self._event.set()


class PodWatcher:
    """Polls ``GET /v2/pods`` for every subscriber at once, from one background task.

    The task starts with the first subscription and stops when the last one leaves, so
    no task outlives the waits (or the client: :meth:`aclose`). Each tick makes one list
    request, narrowed to the watched pods' regions when those are all known, plus one GET
    for each watched pod missing from the list (to tell "gone" from "not listed yet").
    Subscribers' deadlines are kept here too, on the same clock, so a wait on a fake
    clock times out deterministically.
    """

    def __init__(
        self,
        list_pods: ListPods,
        get_pod: GetPod,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        policy: WatchPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._list = list_pods
        self._get = get_pod
        self._clock = clock
        self._sleep = sleep
        self.policy = policy or WatchPolicy()
        self._rng = rng
        self._subs: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping: set[asyncio.Task[None]] = set()
        # Per pod: its snapshot (the very object its waiters hold, so keeping it here costs
        # nothing) and a digest of the JSON it was decoded from, when it came from a list.
        self._known: dict[int, Pod] = {}
        self._digests: dict[int, int] = {}
        self._nap: anyio.CancelScope | None = None
        self._last_poll = -math.inf
        self._next_poll = -math.inf
        self._not_before = -math.inf
        self._quiet = 0
        self._closed = False
        self.ticks = 0
        self.errors = 0

    # -- subscribers ---------------------------------------------------------------------
    def subscribe(self, ids: Iterable[int] | None, timeout: float = math.inf) -> Subscription:
        """Start watching ``ids`` (``None``: every pod) until ``timeout`` seconds from now."""
        if self._closed:
            raise ConfigurationError(CLIENT_CLOSED)
        sub = Subscription(ids, self._clock() + timeout)
        self._subs.add(sub)
        # Someone new is waiting: poll as soon as the floor allows, not after a long nap.
        self._next_poll = self._last_poll + self.policy.floor
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="yotta-watcher")
        elif self._nap is not None:
            self._nap.cancel()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop serving ``sub``; the poller is cancelled at once if nobody else waits."""
        self._subs.discard(sub)
        if not self._subs and self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    async def release(self, sub: Subscription) -> None:
        """``unsubscribe``, then wait (shielded from cancellation) for the poller to stop."""
        self.unsubscribe(sub)
        await self.wait_stopped()

    async def wait_stopped(self) -> None:
        """Wait until a poller that was told to stop has finished (shielded)."""
        with anyio.CancelScope(shield=True):
            for task in list(self._stopping):
                await asyncio.wait([task])

    async def aclose(self) -> None:
        """Stop the poller; every remaining subscriber gets a ``ConfigurationError``."""
        self._closed = True
        for sub in list(self._subs):
            sub.end(error=ConfigurationError(CLIENT_CLOSED))
            self.unsubscribe(sub)
        await self.wait_stopped()

    @property
    def running(self) -> bool:
        """Whether the background poller is alive."""
        return self._task is not None and not self._task.done()

    # -- the poller ------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            while self._subs:
                now = self._clock()
                deadline = min(s.deadline for s in self._subs)
                next_poll = max(self._next_poll, self._not_before)
                if now < min(next_poll, deadline):
                    await self._doze(min(next_poll, deadline) - now)
                    continue
                # At a deadline, one last look if the floor allows, then time out.
                floor_ok = now >= max(self._last_poll + self.policy.floor, self._not_before)
                if now >= next_poll or floor_ok:
                    if self._clock is time.monotonic and math.isfinite(deadline):
                        # A hung list must not hold a wait past its deadline for a whole request
                        # timeout: cut it off (as wait_for_pod does); the next tick asks again.
                        with anyio.move_on_after(max(deadline - now, 1.0)):
                            await self._tick()
                    else:
                        await self._tick()
                self._expire(self._clock())
        except Exception as exc:  # a bug must reach the waiters, not vanish with the task
            for sub in list(self._subs):
                sub.end(error=exc)
            self._subs.clear()
        finally:
            if not self._subs:
                # Nobody waits: drop the bookkeeping whole (a dict keeps its grown table even
                # when emptied), so an idle client holds nothing per pod.
                self._known, self._digests = {}, {}

    async def _doze(self, seconds: float) -> None:
        with anyio.CancelScope() as scope:
            self._nap = scope
            await self._sleep(seconds)
        self._nap = None

    def _expire(self, now: float) -> None:
        for sub in [s for s in self._subs if s.deadline <= now]:
            self._subs.discard(sub)
            sub.end()

    def _watched(self) -> tuple[set[int], list[str] | None]:
        ids: set[int] = set()
        watch_all = False
        for sub in self._subs:
            if sub.ids is None:
                watch_all = True
            else:
                ids |= sub.ids
        if watch_all:
            return ids | set(self._known), None
        regions = {self._known[i].region if i in self._known else None for i in ids}
        if None in regions or not regions:
            return ids, None
        return ids, sorted(r for r in regions if r is not None)

    async def _tick(self) -> None:
        ids, regions = self._watched()
        self._last_poll = self._clock()
        self.ticks += 1
        watch_all = any(s.ids is None for s in self._subs)
        try:
            # The reply (and its body) is dropped as soon as the watched pods are picked out.
            seen, digests = self._pick(await self._list(regions), ids, watch_all)
        except YottaError as exc:
            self._failed(exc)
            return
        verdicts: dict[int, YottaError] = {}
        missing = [i for i in ids if i not in seen]
        if missing:
            await self._confirm(missing, seen, verdicts)
        changed = False
        for pod_id, pod in seen.items():
            old = self._known.get(pod_id)
            if old is not pod:
                changed = changed or old is None or old.status != pod.status or _health(old) != _health(pod)
            self._known[pod_id] = pod
            digest = digests.get(pod_id)
            if digest is None:
                self._digests.pop(pod_id, None)
            else:
                self._digests[pod_id] = digest
        for pod_id in verdicts:
            changed = True
            self._known.pop(pod_id, None)
            self._digests.pop(pod_id, None)
        self._quiet = 0 if changed else self._quiet + 1
        self._next_poll = self._last_poll + self.policy.interval(self._quiet, self._rng)
        self._deliver(seen, verdicts)
        self._forget(ids)

    def _pick(
        self, listed: Sequence[Pod] | PodListing, ids: set[int], watch_all: bool
    ) -> tuple[dict[int, Pod], dict[int, int]]:
        """The watched pods of a list reply, and a digest of each one's JSON.

        A pod whose JSON is byte for byte what the last tick saw is not decoded again: its
        waiters get the snapshot they already hold (it is still the latest one). Pods
        nobody watches are never decoded, so one tick holds the body, the raw slices and
        only the snapshots that changed, on top of the snapshots the waiters keep.
        """
        seen: dict[int, Pod] = {}
        digests: dict[int, int] = {}
        if not isinstance(listed, PodListing):
            for pod in listed:
                if watch_all or pod.id in ids:
                    seen[pod.id] = pod
            return seen, digests
        for pod_id, raw in listed.entries():
            if not (watch_all or pod_id in ids):
                continue
            digest = int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little")
            old = self._known.get(pod_id)
            unchanged = old is not None and self._digests.get(pod_id) == digest
            seen[pod_id] = old if unchanged and old is not None else listed.decode(raw)
            digests[pod_id] = digest
        return seen, digests

    async def _confirm(
        self, missing: list[int], seen: dict[int, Pod], verdicts: dict[int, YottaError]
    ) -> None:
        limiter = anyio.CapacityLimiter(self.policy.confirm_concurrency)

        async def one(pod_id: int) -> None:
            async with limiter:
                try:
                    seen[pod_id] = await self._get(pod_id)
                except PodNotFoundError as exc:
                    verdicts[pod_id] = exc
                except YottaError as exc:
                    if is_transient(exc):
                        self.errors += 1  # no verdict this tick; ask again next tick
                    else:
                        verdicts[pod_id] = exc

        async with anyio.create_task_group() as tg:
            for pod_id in missing:
                tg.start_soon(one, pod_id)

    def _failed(self, exc: YottaError) -> None:
        if not is_transient(exc):
            for sub in list(self._subs):
                sub.end(error=exc)
            self._subs.clear()
            return
        self.errors += 1
        self._quiet += 1
        self._next_poll = self._last_poll + self.policy.interval(self._quiet, self._rng)
        if isinstance(exc, RateLimitError) and exc.retry_after:
            self._not_before = self._clock() + exc.retry_after

    def _deliver(self, seen: dict[int, Pod], verdicts: dict[int, YottaError]) -> None:
        for sub in self._subs:
            batch: list[Observation]
            if sub.ids is None:
                batch = [(i, p, None) for i, p in seen.items()]
                batch += [(i, None, e) for i, e in verdicts.items()]
            else:
                batch = []
                for i in sub.ids:
                    pod = seen.get(i)
                    if pod is not None:
                        batch.append((i, pod, None))
                    elif i in verdicts:
                        batch.append((i, None, verdicts[i]))
            sub.push(batch)

    def _forget(self, ids: set[int]) -> None:
        # Keep snapshots only of pods someone still watches (watch-all keeps every pod).
        if any(s.ids is None for s in self._subs):
            return
        for pod_id in [i for i in self._known if i not in ids]:
            del self._known[pod_id]
            self._digests.pop(pod_id, None)
