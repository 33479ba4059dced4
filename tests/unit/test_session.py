"""The session layer against aioresponses: headers, retries, Retry-After, error mapping, logging."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
import time
from collections.abc import Iterable
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL

from tests._fakes import FakeTime
from yotta_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    Backoff,
    InvalidRequestError,
    InvalidStateError,
    PermissionDeniedError,
    PodCreateRequest,
    PodNotFoundError,
    RateLimitError,
    ResourceInUseError,
    ResponseDecodeError,
    ServerError,
    YottaClient,
    YottaError,
    __version__,
)
from yotta_async._protocol import KEY_HINT

BASE = "https://api.yottalabs.ai"
KEY = "sk-live-SECRET-0123456789"
POD = {"id": 42, "status": "RUNNING", "name": "n"}
OK_POD = {"code": 10000, "message": "ok", "data": POD}
OK_NONE = {"code": 10000, "message": "ok", "data": None}
REQ = PodCreateRequest(name="n", image="img", gpu_type="NVIDIA_H100_80G", gpu_count=1)
HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


class FixedRandom(random.Random):
    """``random()`` returns the given values in turn (then 0.0)."""

    def __new__(cls, values: Iterable[float] = ()) -> FixedRandom:
        # Python 3.10's random.Random.__new__ seeds from the constructor's argument (a list here).
        return super().__new__(cls)

    def __init__(self, values: Iterable[float] = ()) -> None:
        super().__init__(0)
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0) if self.values else 0.0


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime(1000.0)


def client(fake: FakeTime, *, rng: Iterable[float] = (), **kw: Any) -> YottaClient:
    kw.setdefault("backoff", Backoff(initial=1.0, maximum=4.0, multiplier=2.0))
    return YottaClient(KEY, BASE, sleep=fake.sleep, clock=fake.clock, rng=FixedRandom(rng), **kw)


def calls(mock: aioresponses, method: str, path: str) -> list[Any]:
    return [c for (m, url), cs in mock.requests.items() for c in cs
            if m == method and url.path == path]


def total_calls(mock: aioresponses) -> int:
    return sum(len(cs) for cs in mock.requests.values())


def connector_error() -> aiohttp.ClientConnectorError:
    key = type("Key", (), {"host": "api.yottalabs.ai", "port": 443, "ssl": True})()
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))  # type: ignore[arg-type]


# -- headers -------------------------------------------------------------------------
async def test_every_request_sends_key_and_user_agent(mock_api: aioresponses, fake: FakeTime) -> None:
    mock_api.post(f"{BASE}/v2/pods", payload=OK_POD)
    mock_api.get(f"{BASE}/v2/pods", payload={"code": 10000, "data": [POD]})
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    mock_api.post(f"{BASE}/v2/pods/42/pause", payload=OK_NONE)
    mock_api.post(f"{BASE}/v2/pods/42/resume", payload=OK_NONE)
    mock_api.delete(f"{BASE}/v2/pods/42", payload=OK_NONE)
    async with client(fake) as c:
        await c.pods.create(REQ)
        await c.pods.list()
        await c.pods.get(42)
        await c.pods.pause(42)
        await c.pods.resume(42)
        await c.pods.delete(42)
    sent = [call for cs in mock_api.requests.values() for call in cs]
    assert len(sent) == 6
    for call in sent:
        headers = call.kwargs["headers"]
        assert headers["X-Api-Key"] == KEY
        assert headers["User-Agent"] == f"yotta-async/{__version__}"
        assert call.kwargs["allow_redirects"] is False
        assert call.kwargs["timeout"].total == 30.0
    create = calls(mock_api, "POST", "/v2/pods")[0]
    assert create.kwargs["headers"]["Content-Type"] == "application/json"


# -- retries: backoff ----------------------------------------------------------------
async def test_get_retries_with_full_jitter_backoff(mock_api: aioresponses, fake: FakeTime) -> None:
    for _ in range(3):
        mock_api.get(f"{BASE}/v2/pods/42", status=503, payload={"code": 10002, "message": "busy"})
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    async with client(fake, rng=[0.5, 0.25, 0.0]) as c:
        pod = await c.pods.get(42)
    assert pod.id == 42
    # caps 1, 2, 4; full jitter gives cap * (1 - u)
    assert fake.sleeps == [0.5, 1.5, 4.0]
    assert len(calls(mock_api, "GET", "/v2/pods/42")) == 4


async def test_backoff_is_capped(mock_api: aioresponses, fake: FakeTime) -> None:
    for _ in range(6):
        mock_api.get(f"{BASE}/v2/pods/42", status=500, payload={"code": 10002, "message": "boom"})
    async with client(fake, max_retries=5) as c:
        with pytest.raises(ServerError) as info:
            await c.pods.get(42)
    assert fake.sleeps == [1.0, 2.0, 4.0, 4.0, 4.0]  # rng gives u=0: the cap itself
    assert info.value.http_status == 500
    assert len(calls(mock_api, "GET", "/v2/pods/42")) == 6


async def test_default_backoff_jitter_stays_under_the_cap(mock_api: aioresponses, fake: FakeTime) -> None:
    for _ in range(5):
        mock_api.get(f"{BASE}/v2/pods/42", status=502, payload={"code": 10002})
    async with YottaClient(KEY, BASE, sleep=fake.sleep, clock=fake.clock, rng=random.Random(7)) as c:
        with pytest.raises(ServerError):
            await c.pods.get(42)
    assert len(fake.sleeps) == 4  # DEFAULT_MAX_RETRIES
    caps = [0.5, 1.0, 2.0, 4.0]
    assert all(0 <= d <= cap for d, cap in zip(fake.sleeps, caps, strict=True))
    assert len(set(fake.sleeps)) == 4  # jittered, not fixed


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried(mock_api: aioresponses, fake: FakeTime, status: int) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", status=status, payload={"code": 99999, "message": "x"})
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    async with client(fake) as c:
        assert (await c.pods.get(42)).id == 42
    assert len(fake.sleeps) == 1


async def test_code_10002_on_http_200_is_retried(mock_api: aioresponses, fake: FakeTime) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", payload={"code": 10002, "message": "system error"})
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    async with client(fake) as c:
        assert (await c.pods.get(42)).id == 42
    assert fake.sleeps == [1.0]


@pytest.mark.parametrize(
    ("status", "payload", "cls"),
    [
        (200, {"code": 13000, "message": "pod not found"}, PodNotFoundError),
        (200, {"code": 12001, "message": "bad state"}, InvalidStateError),
        (200, {"code": 10001, "message": "bad"}, InvalidRequestError),
        (200, {"code": 99999, "message": "new"}, APIError),
        (401, {"code": 10004, "message": "no"}, AuthenticationError),
        (403, {"code": 10004, "message": "no"}, PermissionDeniedError),
        (404, {"code": 13000, "message": "gone"}, PodNotFoundError),
        (500, {"code": 13000, "message": "gone"}, PodNotFoundError),
        (501, {"message": "no code"}, ServerError),
    ],
)
async def test_definite_answers_are_not_retried(
    mock_api: aioresponses, fake: FakeTime, status: int, payload: dict[str, Any], cls: type[Exception]
) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", status=status, payload=payload)
    async with client(fake) as c:
        with pytest.raises(cls):
            await c.pods.get(42)
    assert fake.sleeps == []
    assert len(calls(mock_api, "GET", "/v2/pods/42")) == 1


@pytest.mark.parametrize(
    "exc",
    [
        aiohttp.ClientConnectionError("reset"),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError("truncated"),
        asyncio.TimeoutError(),
        aiohttp.ServerTimeoutError("read timeout"),
        ConnectionResetError(104, "reset by peer"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_connection_errors_are_retried_for_get(
    mock_api: aioresponses, fake: FakeTime, exc: BaseException
) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", exception=exc)
    mock_api.get(f"{BASE}/v2/pods/42", exception=connector_error())
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    async with client(fake) as c:
        assert (await c.pods.get(42)).id == 42
    assert fake.sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("GET", "/v2/pods", "list"),
        ("POST", "/v2/pods/42/pause", "pause"),
        ("POST", "/v2/pods/42/resume", "resume"),
        ("DELETE", "/v2/pods/42", "delete"),
    ],
)
async def test_idempotent_calls_are_retried(
    mock_api: aioresponses, fake: FakeTime, method: str, path: str, action: str
) -> None:
    mock_api.add(f"{BASE}{path}", method, status=503, body=HTML_502)
    mock_api.add(f"{BASE}{path}", method, exception=aiohttp.ServerDisconnectedError())
    mock_api.add(f"{BASE}{path}", method, payload={"code": 10000, "data": [] if action == "list" else None})
    async with client(fake) as c:
        fn = getattr(c.pods, action)
        await (fn() if action == "list" else fn(42))
    assert len(calls(mock_api, method, path)) == 3
    assert fake.sleeps == [1.0, 2.0]


# -- retries: create -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("kw", "cls"),
    [
        ({"status": 500, "payload": {"code": 10002, "message": "boom"}}, ServerError),
        ({"status": 503, "body": b""}, ServerError),
        ({"status": 502, "body": HTML_502}, ServerError),
        ({"payload": {"code": 10002, "message": "system error"}}, ServerError),
        ({"exception": asyncio.TimeoutError()}, APITimeoutError),
        ({"exception": aiohttp.ServerTimeoutError("read")}, APITimeoutError),
        ({"exception": aiohttp.ServerDisconnectedError()}, APIConnectionError),
        ({"exception": aiohttp.ClientPayloadError("cut")}, APIConnectionError),
        ({"exception": aiohttp.ClientOSError(104, "reset")}, APIConnectionError),
    ],
)
async def test_create_is_not_retried_once_it_may_have_reached_the_server(
    mock_api: aioresponses, fake: FakeTime, kw: dict[str, Any], cls: type[Exception]
) -> None:
    mock_api.post(f"{BASE}/v2/pods", **kw)
    mock_api.post(f"{BASE}/v2/pods", payload=OK_POD)  # must never be reached
    async with client(fake) as c:
        with pytest.raises(cls) as info:
            await c.pods.create(REQ, client_token=False)
    assert len(calls(mock_api, "POST", "/v2/pods")) == 1
    assert fake.sleeps == []
    if isinstance(info.value, APIConnectionError):
        assert info.value.request_sent is True


@pytest.mark.parametrize(
    "kw",
    [
        {"exception": connector_error()},
        {"exception": aiohttp.ConnectionTimeoutError("connect timeout")},
        {"status": 429, "payload": {"code": 10002, "message": "slow down"}},
        {"status": 429, "body": b"<html>Too Many Requests</html>"},
    ],
    ids=["refused", "connect-timeout", "429-envelope", "429-html"],
)
async def test_create_is_retried_when_the_server_never_processed_it(
    mock_api: aioresponses, fake: FakeTime, kw: dict[str, Any]
) -> None:
    mock_api.post(f"{BASE}/v2/pods", **kw)
    mock_api.post(f"{BASE}/v2/pods", payload=OK_POD)
    async with client(fake) as c:
        pod = await c.pods.create(REQ, client_token=False)
    assert pod.id == 42
    assert len(calls(mock_api, "POST", "/v2/pods")) == 2
    assert fake.sleeps == [1.0]


async def test_create_refused_until_retries_run_out(mock_api: aioresponses, fake: FakeTime) -> None:
    for _ in range(3):
        mock_api.post(f"{BASE}/v2/pods", exception=connector_error())
    async with client(fake, max_retries=2) as c:
        with pytest.raises(APIConnectionError) as info:
            await c.pods.create(REQ, client_token=False)
    assert info.value.request_sent is False
    assert not isinstance(info.value, APITimeoutError)
    assert len(calls(mock_api, "POST", "/v2/pods")) == 3


# -- retries: max_retries=0 ----------------------------------------------------------
@pytest.mark.parametrize(
    "kw",
    [
        {"status": 503, "body": b""},
        {"status": 429, "headers": {"Retry-After": "1"}, "body": b""},
        {"payload": {"code": 10002}},
        {"exception": connector_error()},
    ],
)
async def test_max_retries_zero_disables_retrying(
    mock_api: aioresponses, fake: FakeTime, kw: dict[str, Any]
) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", **kw)
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    async with client(fake, max_retries=0) as c:
        with pytest.raises(YottaError):
            await c.pods.get(42)
    assert fake.sleeps == []
    assert len(calls(mock_api, "GET", "/v2/pods/42")) == 1


# -- Retry-After ---------------------------------------------------------------------
async def test_retry_after_seconds_is_honoured(mock_api: aioresponses, fake: FakeTime) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", status=429, headers={"Retry-After": "7"},
                 payload={"code": 10002, "message": "slow"})
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    async with client(fake) as c:
        assert (await c.pods.get(42)).id == 42
    assert fake.sleeps == [7.0]


async def test_retry_after_shorter_than_backoff_keeps_the_backoff(
    mock_api: aioresponses, fake: FakeTime
) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", status=503, body=b"")
    mock_api.get(f"{BASE}/v2/pods/42", status=503, body=b"")
    mock_api.get(f"{BASE}/v2/pods/42", status=429, headers={"Retry-After": "0"}, body=b"")
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    async with client(fake) as c:
        await c.pods.get(42)
    assert fake.sleeps == [1.0, 2.0, 4.0]


async def test_retry_after_http_date_is_honoured(mock_api: aioresponses, fake: FakeTime) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    mock_api.get(f"{BASE}/v2/pods/42", status=429, headers={"Retry-After": when}, body=b"")
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    async with client(fake) as c:
        await c.pods.get(42)
    assert len(fake.sleeps) == 1
    assert 27.0 <= fake.sleeps[0] <= 30.0  # whole seconds on the wire, and the test takes time


async def test_retry_after_above_the_cap_is_not_retried(mock_api: aioresponses, fake: FakeTime) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", status=429, headers={"Retry-After": "11", "X-Request-Id": "r-429"},
                 payload={"code": 10002, "message": "slow down"})
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    async with client(fake, max_retry_after=10) as c:
        with pytest.raises(RateLimitError) as info:
            await c.pods.get(42)
    assert info.value.retry_after == 11.0
    assert info.value.http_status == 429
    assert info.value.request_id == "r-429"
    assert fake.sleeps == []
    assert len(calls(mock_api, "GET", "/v2/pods/42")) == 1


async def test_retry_after_at_the_cap_is_retried(mock_api: aioresponses, fake: FakeTime) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", status=429, headers={"Retry-After": "10"}, body=b"")
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    async with client(fake, max_retry_after=10) as c:
        await c.pods.get(42)
    assert fake.sleeps == [10.0]


async def test_injected_sleep_alone_never_really_waits(mock_api: aioresponses) -> None:
    """With only ``sleep`` injected (real clock), a 429 must not spin until real time passes."""
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    mock_api.get(f"{BASE}/v2/pods/42", status=429, headers={"Retry-After": "30"}, body=b"")
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    started = time.monotonic()
    async with YottaClient(KEY, BASE, sleep=sleep, rng=FixedRandom()) as c:
        await c.pods.get(42)
    assert time.monotonic() - started < 5
    assert sleeps[0] == 30.0
    # The cooldown may be waited out again against the real clock, but a bounded number of
    # times: it must not spin until 30 real seconds have passed.
    assert len(sleeps) <= 3


# -- error mapping -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (200, 13000, PodNotFoundError),
        (200, 12000, PodNotFoundError),
        (200, 10007, PodNotFoundError),
        (200, 11000, PodNotFoundError),
        (200, 12001, InvalidStateError),
        (200, 11001, InvalidStateError),
        (200, 10004, PermissionDeniedError),
        (200, 11002, PermissionDeniedError),
        (200, 10001, InvalidRequestError),
        (400, 10001, InvalidRequestError),
        (404, 13000, PodNotFoundError),
        (401, 10004, AuthenticationError),
        (200, 77777, APIError),
        (409, 77777, InvalidStateError),  # a conflict: the resource's state refuses it
        (200, 25002, ResourceInUseError),
        (409, 25002, ResourceInUseError),
        (418, 77777, APIError),
    ],
)
async def test_envelope_errors_map_with_every_detail(
    mock_api: aioresponses, fake: FakeTime, status: int, code: int, cls: type[APIError]
) -> None:
    mock_api.post(f"{BASE}/v2/pods/42/pause", status=status, headers={"X-Request-Id": "req-abc"},
                  payload={"code": code, "message": "server words", "data": None})
    async with client(fake) as c:
        with pytest.raises(cls) as info:
            await c.pods.pause(42)
    exc = info.value
    assert type(exc) is cls
    words = "server words"
    if cls is InvalidStateError:  # the action and pod are named
        words = f"cannot pause pod 42 in its current state: {words}"
    elif cls is AuthenticationError:  # with where the key comes from
        words = f"{words}; {KEY_HINT}"
    assert (exc.code, exc.message, exc.http_status) == (code, words, status)
    assert (exc.method, exc.path, exc.request_id) == ("POST", "/v2/pods/42/pause", "req-abc")
    assert KEY not in str(exc) and KEY not in repr(exc)


async def test_error_without_request_id_header(mock_api: aioresponses, fake: FakeTime) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", payload={"code": 13000, "message": "pod not found"})
    async with client(fake) as c:
        with pytest.raises(PodNotFoundError) as info:
            await c.pods.get(42)
    assert info.value.request_id is None


async def test_html_502_is_a_server_error_after_retries(mock_api: aioresponses, fake: FakeTime) -> None:
    for _ in range(3):
        mock_api.get(f"{BASE}/v2/pods", status=502, body=HTML_502, content_type="text/html")
    async with client(fake, max_retries=2) as c:
        with pytest.raises(ServerError) as info:
            await c.pods.list()
    exc = info.value
    assert exc.http_status == 502 and exc.code is None
    assert exc.body_snippet == HTML_502[:200]
    assert exc.method == "GET" and exc.path == "/v2/pods"
    assert "HTTP 502" in str(exc) and "502 Bad Gateway" in str(exc)
    assert len(fake.sleeps) == 2


@pytest.mark.parametrize("status", [500, 503, 504, 520])
async def test_any_5xx_without_an_envelope_is_a_server_error(
    mock_api: aioresponses, fake: FakeTime, status: int
) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", status=status, body=b"upstream timed out", repeat=True)
    async with client(fake, max_retries=0) as c:
        with pytest.raises(ServerError) as info:
            await c.pods.get(42)
    assert info.value.http_status == status
    assert info.value.body_snippet == b"upstream timed out"


async def test_a_success_status_with_an_html_body_stays_a_decode_error(
    mock_api: aioresponses, fake: FakeTime
) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", status=200, body=HTML_502, content_type="text/html")
    async with client(fake) as c:
        with pytest.raises(ResponseDecodeError) as info:
            await c.pods.get(42)
    assert info.value.http_status == 200
    assert not isinstance(info.value, ServerError)


async def test_html_401_is_an_authentication_error(mock_api: aioresponses, fake: FakeTime) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", status=401, body=b"<html>Unauthorized</html>")
    async with client(fake) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.pods.get(42)
    assert info.value.http_status == 401
    assert info.value.code is None
    assert fake.sleeps == []


@pytest.mark.parametrize(
    "payload",
    [{"code": 10000, "data": None}, {"code": 10000, "data": [1]}, {"code": 10000, "data": {"id": "x"}}],
)
async def test_success_with_wrong_data_shape_is_a_decode_error(
    mock_api: aioresponses, fake: FakeTime, payload: dict[str, Any]
) -> None:
    mock_api.get(f"{BASE}/v2/pods/42", payload=payload)
    async with client(fake) as c:
        with pytest.raises(ResponseDecodeError) as info:
            await c.pods.get(42)
    assert info.value.http_status == 200
    assert fake.sleeps == []  # a wrong shape does not fix itself


async def test_list_with_null_data_is_empty(mock_api: aioresponses, fake: FakeTime) -> None:
    mock_api.get(f"{BASE}/v2/pods", payload={"code": 10000, "data": None})
    async with client(fake) as c:
        assert await c.pods.list() == []


async def test_actions_ignore_whatever_data_comes_back(mock_api: aioresponses, fake: FakeTime) -> None:
    mock_api.delete(f"{BASE}/v2/pods/42", payload={"code": 10000, "data": {"whatever": [1, 2]}})
    async with client(fake) as c:
        assert await c.pods.delete(42) is None


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (asyncio.TimeoutError(), APITimeoutError),
        (aiohttp.ServerTimeoutError("read"), APITimeoutError),
        (aiohttp.ConnectionTimeoutError("connect"), APITimeoutError),
        (aiohttp.ServerDisconnectedError(), APIConnectionError),
        (aiohttp.ClientConnectionError("x"), APIConnectionError),
        (OSError(101, "Network is unreachable"), APIConnectionError),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else type(v).__name__,
)
async def test_transport_errors_become_yotta_errors(
    mock_api: aioresponses, fake: FakeTime, exc: BaseException, cls: type[APIConnectionError]
) -> None:
    for _ in range(2):
        mock_api.get(f"{BASE}/v2/pods/42", exception=exc)
    async with client(fake, max_retries=1, timeout=12.5) as c:
        with pytest.raises(cls) as info:
            await c.pods.get(42)
    err = info.value
    assert type(err) is cls
    assert not isinstance(err, aiohttp.ClientError)
    assert err.__cause__ is exc
    assert (err.method, err.path) == ("GET", "/v2/pods/42")
    assert str(err).startswith("GET /v2/pods/42: ")
    if cls is APITimeoutError:
        assert isinstance(err, TimeoutError)
        assert "12.5s" in str(err)
    assert len(fake.sleeps) == 1


# -- logging -------------------------------------------------------------------------
async def test_one_debug_line_per_request_and_never_the_key(
    mock_api: aioresponses, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="yotta_async")
    mock_api.get(f"{BASE}/v2/pods/42", status=503, body=b"")
    mock_api.get(f"{BASE}/v2/pods/42", exception=aiohttp.ServerDisconnectedError())
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    mock_api.post(f"{BASE}/v2/pods", status=400, payload={"code": 10001, "message": f"bad {KEY[:3]}"})
    async with client(fake) as c:
        await c.pods.get(42)
        with pytest.raises(InvalidRequestError):
            await c.pods.create(REQ)
    lines = [r.getMessage() for r in caplog.records if r.name == "yotta_async"]
    request_lines = [line for line in lines if re.search(r"\(attempt \d+, [0-9.]+ ms\)$", line)]
    assert [re.sub(r", [0-9.]+ ms\)$", ")", line) for line in request_lines] == [
        "GET /v2/pods/42 -> 503 (attempt 1)",
        "GET /v2/pods/42 -> no response (attempt 2)",
        "GET /v2/pods/42 -> 200 (attempt 3)",
        "POST /v2/pods -> 400 (attempt 1)",
    ]
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "yotta_async")
    assert KEY not in caplog.text


async def test_elapsed_time_is_logged_from_the_clock(
    mock_api: aioresponses, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    def slow_server(url: URL, **kwargs: Any) -> None:
        fake.now += 0.25  # the request takes 250 ms on the injected clock

    caplog.set_level(logging.DEBUG, logger="yotta_async")
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD, callback=slow_server)
    async with client(fake) as c:
        await c.pods.get(42)
    assert "GET /v2/pods/42 -> 200 (attempt 1, 250.0 ms)" in caplog.messages


async def test_nothing_is_logged_above_debug(
    mock_api: aioresponses, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="yotta_async")
    mock_api.get(f"{BASE}/v2/pods/42", payload=OK_POD)
    async with client(fake) as c:
        await c.pods.get(42)
    assert [r for r in caplog.records if r.name.startswith("yotta_async")] == []


async def test_a_refused_pod_action_keeps_its_subclass(mock_api: aioresponses, fake: FakeTime) -> None:
    # The 12001 message enrichment ("cannot delete pod 42 ...") rewrites only a plain
    # InvalidStateError: a subclass already says what and why, and must stay catchable as such.
    payload = {"code": 25002, "message": "in use", "data": {"podList": [7]}}
    mock_api.delete(f"{BASE}/v2/pods/42", status=200, payload=payload)
    async with client(fake) as c:
        with pytest.raises(ResourceInUseError) as info:
            await c.pods.delete(42)
    assert info.value.pod_ids == [7]
    assert "cannot delete pod" not in str(info.value)
