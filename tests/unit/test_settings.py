"""Settings are constructor arguments checked at once; later assignments are checked too."""

from __future__ import annotations

from typing import Any

import pytest

from yotta_async import (
    Backoff,
    ConfigurationError,
    PodGroup,
    ValidationError,
    WatchPolicy,
    YottaClient,
)

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("floor", {"floor": 0}),
        ("floor", {"floor": -1.0}),
        ("floor", {"floor": NAN}),
        ("floor", {"floor": INF}),
        ("floor", {"floor": "1"}),
        ("floor", {"floor": True}),
        ("maximum", {"maximum": 0.5}),  # below the default floor of 1 s
        ("maximum", {"maximum": NAN}),
        ("multiplier", {"multiplier": 0.5}),
        ("jitter", {"jitter": 1.5}),
        ("jitter", {"jitter": -0.1}),
        ("confirm_concurrency", {"confirm_concurrency": 0}),
        ("confirm_concurrency", {"confirm_concurrency": 2.0}),
    ],
)
def test_watch_policy_checks_its_fields_on_construction(field: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        WatchPolicy(**kwargs)
    assert info.value.field == field


def test_a_good_watch_policy_still_computes_intervals() -> None:
    policy = WatchPolicy(floor=0.5, maximum=4.0, multiplier=2.0, jitter=0.0)
    assert [policy.interval(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"watch_policy": 5},
        {"watch_policy": {"floor": 1}},
        {"reconcile_settle": "soon"},
        {"reconcile_settle": -1},
        {"reconcile_settle": NAN},
        {"reconcile_settle": INF},
        {"reconcile_settle": None},
    ],
)
def test_client_settings_are_checked_at_construction(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        YottaClient("k", **kwargs)
    assert next(iter(kwargs)) in str(info.value)


def test_client_settings_reach_the_pods_resource_and_its_watcher() -> None:
    policy = WatchPolicy(floor=0.25, maximum=2.0)
    client = YottaClient("k", watch_policy=policy, reconcile_settle=0)
    assert client.pods.watch_policy is policy
    assert client.pods.waits.watcher.policy is policy
    assert client.pods.reconcile_settle == 0.0
    assert YottaClient("k").pods.reconcile_settle == 2.0


@pytest.mark.parametrize(
    ("name", "value"),
    [("watch_policy", 5), ("watch_policy", None), ("reconcile_settle", "soon"),
     ("reconcile_settle", NAN), ("reconcile_settle", -0.5)],
)
def test_assignments_after_construction_are_checked(name: str, value: object) -> None:
    client = YottaClient("k")
    before = getattr(client.pods, name)
    with pytest.raises(ValidationError) as info:
        setattr(client.pods, name, value)
    assert info.value.field == name
    assert getattr(client.pods, name) == before  # a refused value changes nothing


def test_an_assigned_watch_policy_reaches_the_running_watcher() -> None:
    client = YottaClient("k")
    policy = WatchPolicy(floor=3.0, maximum=3.0)
    client.pods.watch_policy = policy
    assert client.pods.waits.watcher.policy is policy
    assert client.pods.settings.watch_policy is policy


def test_one_rule_for_infinity_and_nan_across_entry_points() -> None:
    client = YottaClient("k")
    # NaN is refused everywhere; infinity only where it means "no limit" (a wait's timeout).
    for bad in (NAN, INF):
        with pytest.raises(ValidationError, match="cleanup_timeout"):
            PodGroup(client.pods, cleanup_timeout=bad)
        with pytest.raises(ValidationError, match="initial"):
            Backoff(initial=bad)
        with pytest.raises(ConfigurationError, match="timeout"):
            YottaClient("k", timeout=bad)


async def test_nan_and_inf_on_waits_and_sweep(mock_api: Any) -> None:
    async with YottaClient("k") as client:
        with pytest.raises(ValidationError) as info:
            await client.pods.wait_until_running(1, timeout=NAN)
        assert info.value.field == "timeout"
        with pytest.raises(ValidationError) as info:
            await client.pods.wait_all([1], timeout=NAN)
        assert info.value.field == "timeout"
        for bad in (NAN, INF, -1):
            with pytest.raises(ValidationError) as info:
                await client.pods.sweep(older_than=bad)
            assert info.value.field == "older_than"
    assert mock_api.requests == {}


@pytest.mark.parametrize("ids", [b"ab", "12", bytearray(b"\x01"), memoryview(b"\x01"), 7])
async def test_id_iterables_refuse_str_and_bytes_everywhere(mock_api: Any, ids: object) -> None:
    async with YottaClient("k") as client:
        pods = client.pods
        calls = [
            lambda: pods.wait_all(ids),  # type: ignore[arg-type]
            lambda: pods.delete_many(ids),  # type: ignore[arg-type]
            lambda: pods.pause_many(ids),  # type: ignore[arg-type]
            lambda: pods.resume_many(ids),  # type: ignore[arg-type]
        ]
        for call in calls:
            with pytest.raises(ValidationError) as info:
                await call()
            assert info.value.field == "ids"
        with pytest.raises(ValidationError):
            pods.as_completed(ids)  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            pods.watch(ids)  # type: ignore[arg-type]
    assert mock_api.requests == {}


@pytest.mark.parametrize("codes", ["24000", b"ab", [True], [1.5], 24000])
def test_capacity_error_codes_follow_the_shared_iterable_rule(codes: object) -> None:
    with pytest.raises(ConfigurationError, match="capacity_error_codes"):
        YottaClient("k", capacity_error_codes=codes)  # type: ignore[arg-type]
