"""Backoff: capped exponential delays, full jitter, and its own input checks."""

from __future__ import annotations

import random
from typing import Any

import pytest

from yotta_async import Backoff, ValidationError


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def test_caps_grow_exponentially_up_to_the_maximum() -> None:
    b = Backoff(initial=0.5, maximum=8.0, multiplier=2.0)
    assert [b.cap(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_other_multipliers() -> None:
    assert [Backoff(initial=1, maximum=100, multiplier=3).cap(n) for n in range(5)] == [1, 3, 9, 27, 81]
    assert [Backoff(initial=2, maximum=100, multiplier=1).cap(n) for n in range(3)] == [2, 2, 2]


@pytest.mark.parametrize("attempt", [64, 65, 1000, 10**6])
def test_huge_attempts_do_not_overflow(attempt: int) -> None:
    assert Backoff(initial=0.5, maximum=30).cap(attempt) == 30
    assert Backoff(initial=1, maximum=5, multiplier=1e10).delay(attempt, FixedRandom(0.0)) == 5


def test_negative_attempts_get_the_initial_delay() -> None:
    assert Backoff(initial=0.5, maximum=8).cap(-3) == 0.5


@pytest.mark.parametrize(("u", "expected"), [(0.0, 4.0), (0.25, 3.0), (0.5, 2.0), (0.999, 0.004)])
def test_full_jitter_is_uniform_below_the_cap(u: float, expected: float) -> None:
    b = Backoff(initial=1, maximum=4)
    assert b.delay(2, FixedRandom(u)) == pytest.approx(expected)


@pytest.mark.parametrize(("u", "expected"), [(0.0, 4.0), (0.5, 3.0), (0.999, 2.002)])
def test_partial_jitter_keeps_a_floor(u: float, expected: float) -> None:
    b = Backoff(initial=1, maximum=4, jitter=0.5)
    assert b.delay(2, FixedRandom(u)) == pytest.approx(expected)


def test_no_jitter_is_exactly_the_cap() -> None:
    b = Backoff(initial=0.5, maximum=8, jitter=0)
    assert [b.delay(n, FixedRandom(0.7)) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_default_rng_spreads_delays_within_bounds() -> None:
    b = Backoff(initial=1, maximum=4)
    delays = [b.delay(3) for _ in range(200)]
    assert all(0 < d <= 4 for d in delays)
    assert max(delays) - min(delays) > 1  # really jittered


def test_the_given_rng_is_the_one_used() -> None:
    b = Backoff(initial=1, maximum=8)
    expected = [b.cap(n) * (1 - u) for n, u in enumerate(_draws(random.Random(5), 4))]
    rng = random.Random(5)
    assert [b.delay(n, rng) for n in range(4)] == expected


def _draws(rng: random.Random, n: int) -> list[float]:
    return [rng.random() for _ in range(n)]


def test_backoff_is_immutable_and_hashable() -> None:
    b = Backoff()
    with pytest.raises(AttributeError):
        b.initial = 3  # type: ignore[misc]
    assert hash(b) == hash(Backoff())


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"initial": 0}, "initial"),
        ({"initial": -1}, "initial"),
        ({"initial": float("nan")}, "initial"),
        ({"initial": "1"}, "initial"),
        ({"initial": True}, "initial"),
        ({"initial": 5, "maximum": 4}, "maximum"),
        ({"maximum": float("inf")}, "maximum"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"multiplier": None}, "multiplier"),
        ({"jitter": -0.1}, "jitter"),
        ({"jitter": 1.5}, "jitter"),
        ({"jitter": float("nan")}, "jitter"),
    ],
)
def test_bad_settings_name_the_field(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Backoff(**kw)
    assert info.value.field == field
