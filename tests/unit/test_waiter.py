"""The single-pod waiting engine, driven by a scripted fetch and a fake clock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest

from tests._fakes import FakeTime
from yotta_async import (
    APIConnectionError,
    AuthenticationError,
    Backoff,
    PodFailedError,
    PodNotFoundError,
    PodStatus,
    RateLimitError,
    ServerError,
    ValidationError,
    WaitTimeoutError,
)
from yotta_async._validation import check_timeout
from yotta_async.models import Pod
from yotta_async.waiting import (
    MIN_POLL_INTERVAL,
    PAUSED,
    RUNNING,
    TERMINATED,
    Acceptor,
    WaitTarget,
    target_for,
    wait_for_pod,
)

S = PodStatus
PID = 331864222263676928


def script(*steps: S | BaseException) -> tuple[Callable[[], Awaitable[Pod]], list[float]]:
    """A fetch that plays ``steps`` in order and then repeats the last one."""
    calls: list[float] = []
    items = list(steps)

    async def fetch() -> Pod:
        calls.append(0.0)
        step = items.pop(0) if len(items) > 1 else items[0]
        if isinstance(step, BaseException):
            raise step
        return Pod(id=PID, status=step, name="p")

    return fetch, calls


def not_found() -> PodNotFoundError:
    return PodNotFoundError("pod not found", code=13000, http_status=200, method="GET", path="/x")


async def run(
    steps: Sequence[S | BaseException], t: FakeTime, target: WaitTarget = RUNNING, **kw: Any
) -> Pod:
    fetch, _ = script(*steps)
    return await wait_for_pod(
        fetch,
        PID,
        target,
        clock=t.clock,
        sleep=t.sleep,
        rng=random.Random(1),
        **kw,
    )


async def test_success_reports_every_change_in_order() -> None:
    t = FakeTime()
    seen: list[tuple[S | None, S]] = []
    pod = await run(
        [S.PENDING, S.PENDING, S.INITIALIZING, S.RUNNING], t, on_change=lambda a, b: seen.append((a, b))
    )
    assert pod.status is S.RUNNING and pod.id == PID
    assert seen == [(None, S.PENDING), (S.PENDING, S.INITIALIZING), (S.INITIALIZING, S.RUNNING)]
    assert len(t.sleeps) == 3


async def test_async_on_change_is_awaited_before_the_result() -> None:
    t = FakeTime()
    seen: list[S] = []

    async def hook(previous: S | None, current: S) -> None:
        await asyncio.sleep(0)
        seen.append(current)

    await run([S.INITIALIZING, S.RUNNING], t, on_change=hook)
    assert seen == [S.INITIALIZING, S.RUNNING]


async def test_failed_is_raised_at_the_poll_that_sees_it() -> None:
    t = FakeTime()
    with pytest.raises(PodFailedError) as info:
        await run([S.PENDING, S.INITIALIZING, S.FAILED], t, timeout=600)
    err = info.value
    assert err.pod is not None and err.pod.status is S.FAILED
    assert err.polls == 3 and err.history == [S.PENDING, S.INITIALIZING, S.FAILED]
    assert err.elapsed is not None and err.elapsed < 10
    assert err.elapsed == pytest.approx(sum(t.sleeps))
    assert "FAILED" in str(err) and str(PID) in str(err)


@pytest.mark.parametrize("doomed", [S.TERMINATING, S.TERMINATED])
async def test_termination_while_waiting_for_running_or_paused_fails(doomed: S) -> None:
    for target in (RUNNING, PAUSED):
        with pytest.raises(PodFailedError):
            await run([S.RUNNING if target is PAUSED else S.PENDING, doomed], FakeTime(), target)


async def test_disappearing_pod_raises_not_found_with_last_snapshot() -> None:
    t = FakeTime()
    with pytest.raises(PodNotFoundError) as info:
        await run([S.INITIALIZING, not_found()], t)
    err = info.value
    assert err.pod is not None and err.pod.status is S.INITIALIZING
    assert err.pod_id == PID and err.polls == 2 and err.code == 13000
    assert err.history == [S.INITIALIZING]


async def test_gone_counts_as_terminated() -> None:
    pod = await run([S.TERMINATING, not_found()], FakeTime(), TERMINATED)
    assert pod.status is S.TERMINATED and pod.name == "p"  # the last snapshot, relabelled
    bare = await run([not_found()], FakeTime(), TERMINATED)
    assert bare == Pod(id=PID, status=S.TERMINATED)


async def test_failed_pod_does_not_end_a_wait_for_termination() -> None:
    pod = await run([S.FAILED, S.TERMINATING, S.TERMINATED], FakeTime(), TERMINATED)
    assert pod.status is S.TERMINATED


async def test_timeout_carries_snapshot_and_never_sleeps_past_the_deadline() -> None:
    t = FakeTime()
    with pytest.raises(WaitTimeoutError) as info:
        await run([S.PENDING, S.INITIALIZING], t, timeout=30)
    err = info.value
    assert isinstance(err, TimeoutError)
    assert t.now == pytest.approx(30)  # the last nap is clipped to the deadline exactly
    assert err.elapsed == pytest.approx(30)
    assert err.pod is not None and err.pod.status is S.INITIALIZING
    assert err.history == [S.PENDING, S.INITIALIZING]
    assert err.polls == len(t.sleeps) + 1  # one final poll at the deadline itself
    elapsed = 0.0
    for nap in t.sleeps:
        assert nap <= 30 - elapsed + 1e-9
        elapsed += nap


async def test_transient_errors_are_retried_within_the_deadline() -> None:
    t = FakeTime()
    flaky: list[S | BaseException] = [
        ServerError("boom", http_status=502),
        APIConnectionError("reset"),
        ServerError("system error", code=10002, http_status=200),
        S.RUNNING,
    ]
    pod = await run(flaky, t)
    assert pod.status is S.RUNNING and len(t.sleeps) == 3


async def test_rate_limit_retry_after_is_honoured() -> None:
    t = FakeTime()
    await run([RateLimitError("slow down", retry_after=7.0, http_status=429), S.RUNNING], t)
    assert t.sleeps == [7.0]  # the jittered delay (<= 1 s) is overruled by Retry-After


async def test_only_errors_until_the_deadline_times_out_naming_the_error() -> None:
    t = FakeTime()
    with pytest.raises(WaitTimeoutError) as info:
        await run([ServerError("bad gateway", http_status=502)], t, timeout=20)
    assert info.value.pod is None and "bad gateway" in str(info.value)
    assert t.now == pytest.approx(20)


async def test_non_transient_errors_end_the_wait_at_once() -> None:
    t = FakeTime()
    with pytest.raises(AuthenticationError):
        await run([AuthenticationError("bad key", http_status=401)], t)
    assert t.sleeps == []


async def test_backoff_is_full_jitter_under_the_cap() -> None:
    t = FakeTime()
    policy = Backoff(initial=2.0, maximum=8.0, multiplier=2.0)
    with pytest.raises(WaitTimeoutError):
        await run([S.PENDING], t, timeout=200, backoff=policy)
    naps = t.sleeps[:-1]  # the last one may be clipped by the deadline
    for attempt, nap in enumerate(naps):
        assert MIN_POLL_INTERVAL <= nap <= max(policy.cap(attempt), MIN_POLL_INTERVAL)
    assert len(set(naps)) > len(naps) // 2  # jittered, not a fixed schedule
    assert any(nap < policy.cap(i) / 2 for i, nap in enumerate(naps))  # full, not partial


async def test_cancellation_propagates_immediately() -> None:
    blocked = asyncio.Event()

    async def fetch() -> Pod:
        blocked.set()
        await asyncio.Event().wait()  # a request that never answers
        raise AssertionError

    task = asyncio.create_task(wait_for_pod(fetch, PID, RUNNING))
    await blocked.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_acceptors_are_data() -> None:
    assert RUNNING.outcome(S.RUNNING) == "success"
    assert RUNNING.outcome(S.FAILED) == "failure"
    assert RUNNING.outcome(None) == "failure"
    assert RUNNING.outcome(S.INITIALIZING) is None
    assert TERMINATED.outcome(None) == "success"
    assert TERMINATED.outcome(S.FAILED) is None
    assert PAUSED.outcome(S("STOPPED")) == "success"  # aliases decode to canonical members
    assert Acceptor("success", missing=True).matches(None)


def test_bad_arguments_are_rejected() -> None:
    assert target_for("running") is RUNNING and target_for(S.PAUSED) is PAUSED
    for bad in ("INITIALIZING", "nonsense", 42):
        with pytest.raises(ValidationError) as info:
            target_for(bad)  # type: ignore[arg-type]
        assert info.value.field == "until"
    for timeout in (0, -1, "10", True, float("nan")):
        with pytest.raises(ValidationError):
            check_timeout(timeout, RUNNING.default_timeout)
    assert check_timeout(None, PAUSED.default_timeout) == 300
    assert check_timeout(float("inf"), RUNNING.default_timeout) == float("inf")
