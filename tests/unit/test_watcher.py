"""The shared pod watcher against a scripted in-memory API and a manual clock."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from yotta_async import (
    AuthenticationError,
    ConfigurationError,
    PodFailedError,
    PodNotFoundError,
    PodStatus,
    RateLimitError,
    ServerError,
    WaitTimeoutError,
    YottaError,
)
from yotta_async.models import Pod
from yotta_async.testing import ManualClock
from yotta_async.waiting import RUNNING, TERMINATED, PodWatcher, PodWatchStream, Settle, WatchPolicy

S = PodStatus
STEADY = WatchPolicy(floor=1.0, maximum=8.0, multiplier=2.0, jitter=0.0)


class FakeAPI:
    """Pods whose status is a function of the clock; counts list and get calls."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.plans: dict[int, list[tuple[float, S | None]]] = {}  # None: gone
        self.regions: dict[int, str] = {}
        self.unlisted: set[int] = set()  # exist, but the list leaves them out
        self.list_calls: list[tuple[float, list[str] | None]] = []
        self.get_calls: list[int] = []
        self.list_errors: list[YottaError] = []
        self._listed = asyncio.Event()

    async def lists_reach(self, n: int) -> None:
        """Return once ``n`` list requests have been made."""
        while len(self.list_calls) < n:
            self._listed = asyncio.Event()
            await self._listed.wait()

    def add(self, pod_id: int, *plan: tuple[float, S | None], region: str = "us-east-1") -> None:
        self.plans[pod_id] = list(plan)
        self.regions[pod_id] = region

    def status(self, pod_id: int) -> S | None:
        current: S | None = None
        for start, status in self.plans.get(pod_id, []):
            if start <= self.clock.now():
                current = status
        return current

    def pod(self, pod_id: int) -> Pod | None:
        status = self.status(pod_id)
        if status is None:
            return None
        return Pod(id=pod_id, status=status, region=self.regions[pod_id])

    async def list(self, regions: list[str] | None) -> list[Pod]:
        self.list_calls.append((self.clock.now(), regions))
        self._listed.set()
        if self.list_errors:
            raise self.list_errors.pop(0)
        out = [self.pod(i) for i in self.plans if i not in self.unlisted]
        return [p for p in out if p is not None and (regions is None or p.region in regions)]

    async def get(self, pod_id: int) -> Pod:
        self.get_calls.append(pod_id)
        pod = self.pod(pod_id)
        if pod is None:
            raise PodNotFoundError("pod not found", code=13000, http_status=200)
        return pod


def make(policy: WatchPolicy = STEADY) -> tuple[ManualClock, FakeAPI, PodWatcher]:
    clock = ManualClock()
    api = FakeAPI(clock)
    watcher = PodWatcher(
        api.list, api.get, clock=clock.now, sleep=clock.sleep, policy=policy, rng=random.Random(0)
    )
    return clock, api, watcher


def starting(at: float, final: S = S.RUNNING) -> tuple[tuple[float, S], ...]:
    return ((0.0, S.PENDING), (at / 2, S.INITIALIZING), (at, final))


async def collect(settle: Settle) -> dict[int, Pod | YottaError]:
    return {pid: result async for pid, result in settle}


async def test_one_list_per_tick_whatever_the_number_of_pods() -> None:
    calls = {}
    for n in (1, 1000):
        clock, api, watcher = make()
        for i in range(n):
            api.add(i + 1, *starting(20 + i % 17))
        results = await collect(Settle(watcher, list(api.plans), RUNNING, timeout=600, clock=clock.now))
        assert all(isinstance(r, Pod) and r.status is S.RUNNING for r in results.values())
        assert api.get_calls == [] and not watcher.running
        calls[n] = len(api.list_calls)
        assert calls[n] <= clock.now() / STEADY.floor + 1  # one list per tick, ticks >= floor apart
    # Many pods keep changing, so the watcher stays near its floor; still, the count is set
    # by the time the pods take, not by how many there are.
    assert calls[1000] <= 4 * calls[1] and calls[1000] < 1000 / 20


async def test_interval_is_fast_while_changing_backs_off_when_quiet_and_respects_floor() -> None:
    clock, api, watcher = make()
    api.add(1, (0.0, S.PENDING), (3.0, S.INITIALIZING), (60.0, S.RUNNING))
    await collect(Settle(watcher, [1], RUNNING, timeout=600, clock=clock.now))
    times = [t for t, _ in api.list_calls]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= STEADY.floor
    assert max(gaps) == STEADY.maximum
    assert gaps[:3] == [1.0, 2.0, 1.0]  # 0: new pod, 1: quiet, 3: INITIALIZING resets to the floor
    assert gaps == sorted(gaps[:2]) + gaps[2:] and gaps[-2] == STEADY.maximum
    assert times[-1] - 60.0 < STEADY.maximum + 1e-9  # RUNNING heard within one interval


async def test_list_narrows_to_the_watched_regions_once_they_are_known() -> None:
    clock, api, watcher = make()
    api.add(1, *starting(10), region="us-east-2")
    api.add(2, *starting(12), region="ap-southeast-1")
    api.add(3, *starting(5), region="us-west-1")  # not watched
    await collect(Settle(watcher, [1, 2], RUNNING, timeout=600, clock=clock.now))
    assert api.list_calls[0][1] is None  # regions unknown at first
    later = [r for _, r in api.list_calls[1:]]
    assert later[0] == ["ap-southeast-1", "us-east-2"]
    # Settled pods stop counting, so the filter shrinks; the unwatched region is never asked.
    assert all(r and set(r) <= {"ap-southeast-1", "us-east-2"} for r in later)


async def test_pods_missing_from_the_list_are_confirmed_with_one_get() -> None:
    clock, api, watcher = make()
    api.add(1, *starting(10))
    api.add(2, *starting(10))
    api.unlisted.add(2)  # a list that lags behind a fresh create
    api.add(3, (0.0, S.INITIALIZING), (4.0, None))  # deleted and gone
    settle = Settle(watcher, [1, 2, 3], RUNNING, timeout=600, return_exceptions=True, clock=clock.now)
    results = await collect(settle)
    assert isinstance(results[1], Pod) and isinstance(results[2], Pod)
    gone = results[3]
    assert isinstance(gone, PodNotFoundError)
    assert gone.pod is not None and gone.pod.status is S.INITIALIZING
    assert api.get_calls.count(3) == 1  # confirmed once, then forgotten
    assert 1 <= api.get_calls.count(2) <= len(api.list_calls)  # one GET per tick while unlisted


async def test_failures_are_heard_at_the_next_tick_and_raised_first() -> None:
    clock, api, watcher = make()
    api.add(1, *starting(100))
    api.add(2, *starting(9, S.FAILED))
    with pytest.raises(PodFailedError) as info:
        await collect(Settle(watcher, [1, 2], RUNNING, timeout=600, clock=clock.now))
    assert info.value.pod_id == 2 and clock.now() < 9 + STEADY.maximum
    assert not watcher.running


async def test_deadline_times_out_unsettled_pods_in_input_order() -> None:
    clock, api, watcher = make()
    api.add(1, *starting(100))
    api.add(2, *starting(5))
    api.add(3, *starting(200))
    settle = Settle(watcher, [3, 2, 1], RUNNING, timeout=30, return_exceptions=True, clock=clock.now)
    order = [pid async for pid, _ in settle]
    assert order == [2, 3, 1]
    assert clock.now() == pytest.approx(30)
    with pytest.raises(WaitTimeoutError) as info:
        await collect(Settle(watcher, [1], RUNNING, timeout=10, clock=clock.now))
    assert info.value.pod is not None and info.value.pod.status is S.PENDING  # until t=50
    assert info.value.elapsed == pytest.approx(10) and info.value.polls >= 2


async def test_transient_list_errors_are_retried_and_retry_after_honoured() -> None:
    clock, api, watcher = make()
    api.add(1, *starting(10))
    api.list_errors = [
        ServerError("bad gateway", http_status=502),
        RateLimitError("slow down", retry_after=6.0, http_status=429),
    ]
    await collect(Settle(watcher, [1], RUNNING, timeout=600, clock=clock.now))
    assert watcher.errors == 2
    assert api.list_calls[2][0] - api.list_calls[1][0] >= 6.0


async def test_non_transient_list_errors_reach_every_waiter() -> None:
    clock, api, watcher = make()
    api.add(1, *starting(10))
    api.list_errors = [AuthenticationError("bad key", http_status=401)]
    with pytest.raises(AuthenticationError):
        await collect(Settle(watcher, [1], RUNNING, timeout=600, clock=clock.now))
    assert not watcher.running


async def test_gone_counts_as_terminated() -> None:
    clock, api, watcher = make()
    api.add(1, (0.0, S.TERMINATING), (5.0, S.TERMINATED), (20.0, None))
    api.add(2, (0.0, S.TERMINATING), (3.0, None))
    results = await collect(Settle(watcher, [1, 2], TERMINATED, timeout=600, clock=clock.now))
    assert all(isinstance(r, Pod) and r.status is S.TERMINATED for r in results.values())


async def test_cancelling_one_waiter_keeps_the_poller_for_the_others() -> None:
    clock, api, watcher = make()
    api.add(1, *starting(10))
    api.add(2, *starting(30))
    slow = asyncio.create_task(collect(Settle(watcher, [2], RUNNING, timeout=600, clock=clock.now)))
    fast = asyncio.create_task(collect(Settle(watcher, [1], RUNNING, timeout=600, clock=clock.now)))
    await api.lists_reach(1)
    slow.cancel()
    assert (await fast)[1].status is S.RUNNING  # type: ignore[union-attr]
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert not watcher.running
    assert [t for t in asyncio.all_tasks() if t.get_name() == "yotta-watcher"] == []


async def test_cancelling_the_last_waiter_stops_the_poller_at_once() -> None:
    clock, api, watcher = make()
    api.add(1, *starting(1000))
    task = asyncio.create_task(collect(Settle(watcher, [1], RUNNING, timeout=6000, clock=clock.now)))
    await api.lists_reach(3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not watcher.running
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_aclose_ends_every_wait_with_a_clear_error() -> None:
    clock, api, watcher = make()
    api.add(1, *starting(1000))
    task = asyncio.create_task(collect(Settle(watcher, [1], RUNNING, timeout=6000, clock=clock.now)))
    await api.lists_reach(1)
    await watcher.aclose()
    with pytest.raises(ConfigurationError, match="closed"):
        await task
    with pytest.raises(ConfigurationError):
        watcher.subscribe([1])
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_a_new_waiter_wakes_a_dozing_poller() -> None:
    clock = ManualClock()
    api = FakeAPI(clock)

    async def sleep(seconds: float) -> None:
        # Short naps pass instantly; a long one lasts until something cancels it.
        if seconds > 1.0:
            await asyncio.Event().wait()
        await clock.sleep(seconds)

    watcher = PodWatcher(api.list, api.get, clock=clock.now, sleep=sleep, policy=STEADY)
    api.add(1, *starting(5000))
    api.add(2, (0.0, S.RUNNING))
    first = asyncio.create_task(collect(Settle(watcher, [1], RUNNING, timeout=9000, clock=clock.now)))
    await api.lists_reach(2)  # t=0 (new pod), t=1 (quiet): the next nap is 2 s long
    await asyncio.sleep(0)
    second = await asyncio.wait_for(
        collect(Settle(watcher, [2], RUNNING, timeout=9000, clock=clock.now)), timeout=5
    )
    assert second[2].status is S.RUNNING  # type: ignore[union-attr]
    assert [t for t, _ in api.list_calls[:3]] == [0.0, 1.0, 2.0]  # woken, polled at the floor
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_watch_stream_reports_changes_in_order_and_ends_when_all_are_final() -> None:
    _, api, watcher = make()
    api.add(1, *starting(10))
    api.add(2, (0.0, S.RUNNING), (6.0, S.TERMINATING), (9.0, S.TERMINATED))
    api.add(3, (0.0, S.INITIALIZING), (4.0, S.FAILED))
    api.add(4, (0.0, S.PAUSING), (5.0, None))
    changes = []
    stream = PodWatchStream(watcher, [2, 3, 4])
    async for change in stream:
        changes.append((change.pod.id, change.previous, change.current))
    per_pod = {pid: [(a, b) for p, a, b in changes if p == pid] for pid in (2, 3, 4)}
    assert per_pod[2] == [(None, S.RUNNING), (S.RUNNING, S.TERMINATING), (S.TERMINATING, S.TERMINATED)]
    assert per_pod[3] == [(None, S.INITIALIZING), (S.INITIALIZING, S.FAILED)]
    assert per_pod[4] == [(None, S.PAUSING), (S.PAUSING, None)]
    assert not watcher.running


async def test_watch_everything_until_break() -> None:
    _, api, watcher = make()
    api.add(1, *starting(10))
    api.add(2, *starting(20))
    running: set[int] = set()
    async with PodWatchStream(watcher, None) as stream:
        async for change in stream:
            if change.current is S.RUNNING:
                running.add(change.pod.id)
            if running == {1, 2}:
                break
    assert not watcher.running
    assert asyncio.all_tasks() == {asyncio.current_task()}
