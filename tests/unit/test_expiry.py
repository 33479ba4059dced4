"""Expiry stamps as pure functions: writing, reading, and what counts as expired."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from yotta_async import EXPIRES_ENV, EnvVar, Pod, PodCreateRequest, ValidationError
from yotta_async._expiry import (
    DEFAULT_EXPIRY_GRACE,
    ON_EXPIRE_ENV,
    check_grace,
    check_ttl,
    deadline_after,
    expired,
    expires_at,
    expiry_policy,
    stamp_expiry,
    sweep_action,
)

REQ = PodCreateRequest(name="n", image="i", gpu_type="g", gpu_count=1)
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def pod(*env: tuple[str, str], status: str = "RUNNING") -> Pod:
    return Pod(id=1, status=status, environment_vars=[EnvVar(key=k, value=v) for k, v in env])  # type: ignore[arg-type]


def test_a_stamp_is_rounded_up_so_it_never_expires_early() -> None:
    assert deadline_after(timedelta(seconds=10), wall=lambda: 100.2) == 111
    assert deadline_after(timedelta(hours=2), wall=lambda: 100.0) == 7300


def test_stamping_adds_the_deadline_and_a_pause_policy_only_when_asked() -> None:
    env = stamp_expiry(REQ, 1234).environment_vars or []
    assert [(v.key, v.value) for v in env] == [(EXPIRES_ENV, "1234")]
    env = stamp_expiry(REQ, 1234, "pause").environment_vars or []
    assert [(v.key, v.value) for v in env] == [(EXPIRES_ENV, "1234"), (ON_EXPIRE_ENV, "pause")]
    assert REQ.environment_vars is None  # the caller's request is untouched
    for key in (EXPIRES_ENV, ON_EXPIRE_ENV):
        twice = PodCreateRequest(name="n", image="i", gpu_type="g", gpu_count=1,
                                 environment_vars=[EnvVar(key=key, value="x")])
        with pytest.raises(ValidationError) as info:
            stamp_expiry(twice, 1, field="ttl")
        assert info.value.field == "ttl"


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("1767225600", 1767225600), (" 1767225600 ", 1767225600), ("1767225600.75", 1767225600)],
)
def test_a_stamp_reads_back_as_an_aware_utc_datetime(raw: str, seconds: int) -> None:
    assert expires_at(pod((EXPIRES_ENV, raw))) == datetime.fromtimestamp(seconds, tz=timezone.utc)


@pytest.mark.parametrize("raw", ["", "soon", "-5", "1e9", "0x10", "9" * 40, "١٢٣"])
def test_a_garbled_stamp_is_no_stamp(raw: str) -> None:
    stamped = pod((EXPIRES_ENV, raw))
    assert expires_at(stamped) is None
    assert not expired(stamped, datetime.max.replace(tzinfo=timezone.utc), timedelta(0))


def test_expired_means_the_stamp_passed_by_at_least_the_grace() -> None:
    stamped = pod((EXPIRES_ENV, str(int(T0.timestamp()))))
    assert not expired(stamped, T0 - timedelta(seconds=1), timedelta(0))
    assert expired(stamped, T0, timedelta(0))
    assert not expired(stamped, T0 + timedelta(seconds=59))  # the default grace
    assert expired(stamped, T0 + DEFAULT_EXPIRY_GRACE)
    assert timedelta(0) < DEFAULT_EXPIRY_GRACE <= timedelta(seconds=60)
    assert not expired(pod(), T0 + timedelta(days=3650), timedelta(0))  # no stamp, never


def test_the_action_follows_the_stamp_unless_overridden_and_pause_needs_running() -> None:
    plain = pod((EXPIRES_ENV, "1"))
    pausing = pod((EXPIRES_ENV, "1"), (ON_EXPIRE_ENV, "pause"))
    starting = pod((EXPIRES_ENV, "1"), (ON_EXPIRE_ENV, "pause"), status="INITIALIZING")
    assert (expiry_policy(plain), expiry_policy(pausing)) == ("delete", "pause")
    assert sweep_action(plain, None) == "delete" and sweep_action(pausing, None) == "pause"
    assert sweep_action(pausing, "delete") == "delete" and sweep_action(plain, "pause") == "pause"
    assert sweep_action(starting, None) is None  # left for a later sweep
    assert sweep_action(starting, "delete") == "delete"


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), True, "2h", timedelta(0), None])
def test_a_ttl_must_be_a_positive_finite_duration(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        check_ttl(value)
    assert info.value.field == "ttl"


def test_ttl_and_grace_accept_seconds_or_timedeltas() -> None:
    assert check_ttl(90) == check_ttl(timedelta(seconds=90)) == timedelta(seconds=90)
    assert check_grace(None) == DEFAULT_EXPIRY_GRACE and check_grace(0) == timedelta(0)
    with pytest.raises(ValidationError):
        check_grace(timedelta(seconds=-1))


class _FakePods:
    """The ``PodActions`` spend control uses, recording deletes."""

    def __init__(self) -> None:
        self.deleted: list[int] = []

    async def get(self, pod_id: int, /) -> Pod:
        return Pod(id=pod_id, status="RUNNING")  # type: ignore[arg-type]

    async def delete(self, pod_id: int, /) -> None:
        self.deleted.append(pod_id)

    async def pause(self, pod_id: int, /) -> None:
        raise AssertionError("not under on_expire='delete'")


async def test_a_pod_released_by_failover_is_not_expired_again() -> None:
    import asyncio

    from yotta_async._runtime import Runtime
    from yotta_async._spend import GroupSpend
    from yotta_async.testing import ManualClock

    clock = ManualClock()
    spend = GroupSpend(label="g", ttl=timedelta(hours=1))
    pods = _FakePods()
    kept, replaced, ended = (Pod(id=i, status="PENDING") for i in (1, 2, 3))  # type: ignore[arg-type]
    for i, p in enumerate((kept, replaced, ended)):
        spend.prepare(REQ, f"t{i}")
        await spend.admit(f"t{i}", p)
    spend.release(replaced.id)  # failover deleted it
    spend.observe([Pod(id=ended.id, status="TERMINATED")])  # type: ignore[arg-type]
    spend.start(pods, Runtime(clock=clock.now, sleep=clock.sleep))
    try:
        for _ in range(200):  # the watcher's nap moves the manual clock past the ttl
            await asyncio.sleep(0)
        assert spend.expired == [kept.id] and pods.deleted == [kept.id]
        assert clock.now() >= 3600
    finally:
        await spend.stop()


async def test_a_wait_failure_of_a_pod_the_ttl_ended_says_so() -> None:
    from yotta_async import PodFailedError
    from yotta_async._runtime import Runtime
    from yotta_async._spend import GroupSpend
    from yotta_async.testing import ManualClock

    clock = ManualClock()
    spend = GroupSpend(label="g", ttl=timedelta(seconds=30))
    spend.start(_FakePods(), Runtime(clock=clock.now, sleep=clock.sleep))
    await spend.stop()  # no watcher: only the deadline matters here
    mine = Pod(id=7, status="TERMINATING")  # type: ignore[arg-type]
    spend.prepare(REQ, "t")
    await spend.admit("t", mine)
    early = PodFailedError("pod 7 reached TERMINATING", pod=mine)
    assert spend.explain(early) is early  # the ttl has not run out: something else ended it
    clock.advance(30)
    late = spend.explain(early)
    assert late is not early and isinstance(late, PodFailedError)
    assert str(late).startswith("pod 7 reached TERMINATING") and "ttl of 0:00:30 ran out" in str(late)
    assert (late.pod, late.pod_id) == (mine, 7)
    stranger = PodFailedError("pod 8 failed", pod_id=8)
    assert spend.explain(stranger) is stranger
