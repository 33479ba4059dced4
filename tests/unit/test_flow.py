"""Client-wide flow control: in-flight cap, requests per second, and AIMD on 429."""

from __future__ import annotations

import dataclasses
import itertools
import random

import anyio
import pytest
from aioresponses import aioresponses

from tests._fakes import FakeTime
from yotta_async import Backoff, YottaClient
from yotta_async._session import Session

BASE = "https://api.yottalabs.ai"
OK_POD = {"code": 10000, "message": "ok", "data": {"id": 42, "status": "RUNNING"}}


def session(fake: FakeTime, *, max_concurrency: int = 64, rps: float | None = None) -> Session:
    return Session(
        api_key="k", base_url=BASE, timeout=5, max_retries=3, backoff=Backoff(initial=1, maximum=4),
        max_retry_after=60, max_concurrency=max_concurrency, requests_per_second=rps,
        session=None, sleep=fake.sleep, clock=fake.clock, rng=random.Random(0),
    )


async def test_a_429_halves_the_cap_once_per_cooldown_and_replies_grow_it_back() -> None:
    fake = FakeTime(100.0)
    s = session(fake, max_concurrency=64)
    limiter = s._capacity()
    assert limiter.total_tokens == 64
    s._cool_down(2.0)
    assert limiter.total_tokens == 32
    s._cool_down(2.0)  # another reply of the same burst: same episode
    s._cool_down(1.0)
    assert limiter.total_tokens == 32
    fake.now += 2.5  # the cooldown is over: a new 429 is a new episode
    s._cool_down(1.0)
    assert limiter.total_tokens == 16
    for _ in range(18):  # additive increase: ~1 per window's worth of good replies
        s._on_reply(200)
    assert limiter.total_tokens == 17
    for status in (500, 503, 429):  # overload signs do not grow it
        s._on_reply(status)
    assert limiter.total_tokens == 17
    for _ in range(5000):
        s._on_reply(200)
    assert limiter.total_tokens == 64  # never above max_concurrency


async def test_the_cap_never_drops_below_one() -> None:
    fake = FakeTime(100.0)
    s = session(fake, max_concurrency=4)
    for _ in range(10):
        s._cool_down(1.0)
        fake.now += 1.0
    assert s._capacity().total_tokens == 1


async def test_cooldown_is_waited_out_before_taking_a_token() -> None:
    fake = FakeTime(100.0)
    s = session(fake, max_concurrency=8)
    s._cool_down(3.0)
    await s._cooled()
    assert fake.sleeps == [3.0]
    await s._cooled()  # over: no more waiting
    assert fake.sleeps == [3.0]


async def test_cooldown_extended_while_waiting_is_waited_again() -> None:
    fake = FakeTime(100.0)
    s = session(fake)
    s._cool_down(1.0)
    extended = False

    async def sleep(seconds: float) -> None:
        nonlocal extended
        await fake.sleep(seconds)
        if not extended:
            extended = True
            s._cool_down(2.0)  # another 429 arrived meanwhile

    s.runtime = dataclasses.replace(s.runtime, sleep=sleep)
    await s._cooled()
    assert fake.sleeps == [1.0, 2.0]


async def test_requests_per_second_spaces_request_starts() -> None:
    fake = FakeTime(100.0)
    s = session(fake, rps=4)
    starts = []
    for _ in range(5):
        await s._pace()
        starts.append(fake.now)
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(starts)]
    assert gaps == [0.25] * 4


@pytest.mark.parametrize("retry_after", ["2", "0"])
async def test_a_429_reply_slows_every_later_request(mock_api: aioresponses, retry_after: str) -> None:
    fake = FakeTime(100.0)
    mock_api.get(f"{BASE}/v2/pods/42", status=429, headers={"Retry-After": retry_after}, body=b"")
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD, repeat=True)
    async with YottaClient("k", BASE, sleep=fake.sleep, clock=fake.clock, max_concurrency=10,
                           backoff=Backoff(initial=1, maximum=1, jitter=0)) as client:
        await client.pods.get(42)
        assert client._session._capacity().total_tokens == 5
        assert fake.sleeps and fake.sleeps[0] == max(1.0, float(retry_after))
        for _ in range(20):
            await client.pods.get(42)
        # 21 good replies: 5 of them grow 5 -> 6, 6 more 6 -> 7, 7 more 7 -> 8.
        assert client._session._capacity().total_tokens == 8


async def test_a_429_seen_by_a_waiter_slows_the_whole_client_too(mock_api: aioresponses) -> None:
    # Waiters and the watcher send with RETRY_NEVER and retry on their own schedule; their
    # 429s must still start the client-wide cooldown so that creates do not stampede.
    from yotta_async import RateLimitError
    from yotta_async._session import RETRY_NEVER
    from yotta_async.resources.pods import POD_DECODER

    fake = FakeTime(100.0)
    mock_api.get(f"{BASE}/v2/pods/42", status=429, headers={"Retry-After": "3"}, body=b"")
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD, repeat=True)
    async with YottaClient("k", BASE, sleep=fake.sleep, clock=fake.clock, max_concurrency=10) as client:
        with pytest.raises(RateLimitError):
            await client._session.request("GET", "/v2/pods/42", POD_DECODER, retry=RETRY_NEVER)
        assert fake.sleeps == []  # not retried here...
        assert client._session._capacity().total_tokens == 5  # ...but the cap was halved
        await client.pods.get(42)
        assert fake.sleeps == [3.0]  # and the next request waited out Retry-After


async def test_in_flight_requests_never_exceed_the_cap(mock_api: aioresponses) -> None:
    in_flight = peak = 0

    async def slow(url: object, **kwargs: object) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await anyio.sleep(0.001)
        in_flight -= 1

    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD, callback=slow, repeat=True)
    async with YottaClient("k", BASE, max_concurrency=3) as client, anyio.create_task_group() as tg:
        for _ in range(30):
            tg.start_soon(client.pods.get, 42)
    assert peak == 3
