"""YottaClient: settings resolution, base-URL safety, session ownership, lifecycle and repr."""

from __future__ import annotations

import logging
import random
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from yotta_async import Backoff, ConfigurationError, YottaClient
from yotta_async._client import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
)

KEY = "sk-live-SECRET-0123456789"
OK_POD = {"code": 10000, "message": "ok", "data": {"id": 1, "status": "RUNNING"}}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YOTTA_API_KEY", raising=False)
    monkeypatch.delenv("YOTTA_BASE_URL", raising=False)


def sent(mock: aioresponses) -> list[tuple[str, str, dict[str, str]]]:
    return [(m, str(url), call.kwargs["headers"]) for (m, url), calls in mock.requests.items()
            for call in calls]


# -- settings resolution -------------------------------------------------------------
async def test_defaults() -> None:
    async with YottaClient(KEY) as client:
        session = client._session
        assert client.base_url == DEFAULT_BASE_URL == "https://api.yottalabs.ai"
        assert session.timeout == DEFAULT_TIMEOUT
        assert session.max_retries == DEFAULT_MAX_RETRIES
        assert session.max_concurrency == DEFAULT_MAX_CONCURRENCY


async def test_explicit_arguments_beat_the_environment(
    mock_api: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YOTTA_API_KEY", "env-key")
    monkeypatch.setenv("YOTTA_BASE_URL", "https://env.example.com")
    mock_api.get("https://arg.example.com/v2/pods/1", payload=OK_POD)
    async with YottaClient("arg-key", "https://arg.example.com") as client:
        assert client.base_url == "https://arg.example.com"
        await client.pods.get(1)
    [(_, url, headers)] = sent(mock_api)
    assert url == "https://arg.example.com/v2/pods/1"
    assert headers["X-Api-Key"] == "arg-key"


async def test_environment_beats_the_defaults(
    mock_api: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YOTTA_API_KEY", "  env-key\n")
    monkeypatch.setenv("YOTTA_BASE_URL", "https://env.example.com/")
    mock_api.get("https://env.example.com/v2/pods/1", payload=OK_POD)
    async with YottaClient() as client:
        assert client.base_url == "https://env.example.com"  # trailing slash dropped
        await client.pods.get(1)
    [(_, url, headers)] = sent(mock_api)
    assert url == "https://env.example.com/v2/pods/1"
    assert headers["X-Api-Key"] == "env-key"  # surrounding whitespace stripped


async def test_base_url_with_a_path_prefix(mock_api: aioresponses) -> None:
    mock_api.get("https://gw.example.com/yotta/v2/pods/1", payload=OK_POD)
    async with YottaClient(KEY, "https://gw.example.com/yotta/") as client:
        await client.pods.get(1)
    assert [url for _, url, _ in sent(mock_api)] == ["https://gw.example.com/yotta/v2/pods/1"]


# -- missing key ---------------------------------------------------------------------
@pytest.mark.parametrize("key", [None, "", "   "])
async def test_missing_key_fails_at_the_first_request_before_sending(
    mock_api: aioresponses, key: str | None
) -> None:
    mock_api.get("https://api.yottalabs.ai/v2/pods/1", payload=OK_POD)
    client = YottaClient(key)  # constructing is fine: the key may not be needed yet
    async with client:
        assert "api_key=<missing>" in repr(client)
        with pytest.raises(ConfigurationError, match="YOTTA_API_KEY"):
            await client.pods.get(1)
        with pytest.raises(ConfigurationError):
            await client.pods.list()
    assert sent(mock_api) == []


async def test_explicit_empty_key_does_not_fall_back_to_the_environment(
    mock_api: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YOTTA_API_KEY", "env-key")
    async with YottaClient("") as client:
        with pytest.raises(ConfigurationError):
            await client.pods.get(1)
    assert sent(mock_api) == []


@pytest.mark.parametrize("key", ["sk\nInjected: 1", "sk key", "ключ", "sk\x00", 12345])
def test_unusable_keys_are_refused_without_echoing_them(key: Any) -> None:
    with pytest.raises(ConfigurationError, match="api_key") as info:
        YottaClient(key)
    if isinstance(key, str):
        assert key.strip() not in str(info.value)


# -- base URL safety -----------------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["http://api.yottalabs.ai", "http://10.0.0.5:8080", "http://example.com/", "http://[2001:db8::1]"]
)
def test_plain_http_is_refused_for_remote_hosts(url: str) -> None:
    with pytest.raises(ConfigurationError, match="plain-http"):
        YottaClient(KEY, url)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://127.5.6.7", "http://[::1]:9000", "http://localhost:1",
     "http://LOCALHOST", "http://sim.localhost:8080", "https://api.yottalabs.ai"],
)
async def test_loopback_and_https_are_accepted(url: str) -> None:
    async with YottaClient(KEY, url) as client:
        assert client.base_url == url.rstrip("/")


async def test_plain_http_allowed_when_opted_in() -> None:
    async with YottaClient(KEY, "http://10.0.0.5:8080", allow_insecure_http=True) as client:
        assert client.base_url == "http://10.0.0.5:8080"


@pytest.mark.parametrize(
    "url",
    ["https://admin:hunter2@api.yottalabs.ai", "https://hunter2@api.yottalabs.ai",
     "http://admin:hunter2@127.0.0.1:8080", "https://:hunter2@api.yottalabs.ai"],
)
def test_credentials_in_the_url_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(ConfigurationError, match="credentials") as info:
        YottaClient(KEY, url, allow_insecure_http=True)
    assert "hunter2" not in str(info.value)
    assert "admin" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    ["ftp://api.yottalabs.ai", "api.yottalabs.ai", "https://", "https://:443", "https://h:99999",
     "https://h:0", "https://h/?token=abc", "https://h/#frag", "", 42],
)
def test_invalid_base_urls_are_refused(url: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # "" falls back to the environment, which is set to something invalid here.
    monkeypatch.setenv("YOTTA_BASE_URL", "gopher://nowhere")
    with pytest.raises(ConfigurationError, match="base_url") as info:
        YottaClient(KEY, url)
    assert "token=abc" not in str(info.value)


# -- invalid settings ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_retries": None}, "max_retries"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_concurrency": 2.0}, "max_concurrency"),
        ({"requests_per_second": 0}, "requests_per_second"),
        ({"requests_per_second": -2.5}, "requests_per_second"),
        ({"requests_per_second": "10"}, "requests_per_second"),
        ({"max_retry_after": -1}, "max_retry_after"),
        ({"max_retry_after": float("nan")}, "max_retry_after"),
        ({"backoff": 0.5}, "backoff"),
        ({"session": object()}, "session"),
        ({"rng": 7}, "rng"),
        ({"sleep": 1.0}, "sleep"),
        ({"clock": "now"}, "clock"),
    ],
)
def test_invalid_settings_raise_configuration_error(kw: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        YottaClient(KEY, **kw)


async def test_valid_non_default_settings_are_kept() -> None:
    backoff = Backoff(initial=0.1, maximum=1.0)
    async with YottaClient(KEY, timeout=2.5, max_retries=0, max_concurrency=3, requests_per_second=50,
                           max_retry_after=float("inf"), backoff=backoff, rng=random.Random(1)) as client:
        session = client._session
        assert (session.timeout, session.max_retries, session.max_concurrency) == (2.5, 0, 3)
        assert session.backoff is backoff
        assert session.max_retry_after == float("inf")


# -- session ownership ---------------------------------------------------------------
async def test_owned_session_is_closed_by_aclose(mock_api: aioresponses) -> None:
    mock_api.get("https://api.yottalabs.ai/v2/pods/1", payload=OK_POD)
    client = YottaClient(KEY)
    await client.pods.get(1)
    owned = client._session._owned
    assert owned is not None and not owned.closed
    await client.aclose()
    assert owned.closed
    await client.aclose()  # a second close is harmless


async def test_owned_session_is_closed_by_async_with(mock_api: aioresponses) -> None:
    mock_api.get("https://api.yottalabs.ai/v2/pods/1", payload=OK_POD)
    async with YottaClient(KEY) as client:
        await client.pods.get(1)
        owned = client._session._owned
        assert owned is not None
    assert owned.closed


async def test_owned_session_is_closed_when_the_block_raises(mock_api: aioresponses) -> None:
    mock_api.get("https://api.yottalabs.ai/v2/pods/1", payload=OK_POD)
    with pytest.raises(RuntimeError, match="boom"):
        async with YottaClient(KEY) as client:
            await client.pods.get(1)
            owned = client._session._owned
            raise RuntimeError("boom")
    assert owned is not None and owned.closed


async def test_no_session_is_created_until_needed() -> None:
    async with YottaClient(KEY) as client:
        assert client._session._owned is None


async def test_borrowed_session_is_used_and_never_closed(mock_api: aioresponses) -> None:
    mock_api.get("https://api.yottalabs.ai/v2/pods/1", payload=OK_POD)
    async with aiohttp.ClientSession() as borrowed:
        async with YottaClient(KEY, session=borrowed) as client:
            assert await client._session._http() is borrowed
            pod = await client.pods.get(1)
            assert pod.id == 1
            assert client._session._owned is None
        assert not borrowed.closed
        await client.aclose()
        assert not borrowed.closed


async def test_closed_borrowed_session_is_a_configuration_error(mock_api: aioresponses) -> None:
    borrowed = aiohttp.ClientSession()
    await borrowed.close()
    async with YottaClient(KEY, session=borrowed) as client:
        with pytest.raises(ConfigurationError, match="session"):
            await client.pods.get(1)
    assert sent(mock_api) == []


@pytest.mark.parametrize("limit", [1, 7, 200])
async def test_max_concurrency_sizes_the_connection_pool(limit: int) -> None:
    async with YottaClient(KEY, max_concurrency=limit) as client:
        connector = (await client._session._http()).connector
        assert connector is not None
        assert connector.limit == limit
        assert connector.limit_per_host == 0


# -- closed client -------------------------------------------------------------------
async def test_closed_client_refuses_requests(mock_api: aioresponses) -> None:
    mock_api.get("https://api.yottalabs.ai/v2/pods/1", payload=OK_POD)
    client = YottaClient(KEY)
    await client.aclose()
    with pytest.raises(ConfigurationError, match="closed"):
        await client.pods.get(1)
    assert sent(mock_api) == []
    assert client._session._owned is None  # no session was opened just to fail


async def test_closed_client_cannot_be_entered_again() -> None:
    client = YottaClient(KEY)
    async with client:
        pass
    with pytest.raises(ConfigurationError, match="closed"):
        async with client:
            pass


# -- secrecy -------------------------------------------------------------------------
async def test_repr_never_contains_the_key(mock_api: aioresponses, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    mock_api.get("https://api.yottalabs.ai/v2/pods/1", payload=OK_POD)
    async with YottaClient(KEY) as client:
        await client.pods.get(1)
        texts = [repr(client), str(client), repr(client._session), repr(client.pods)]
    assert all(KEY not in text for text in texts)
    assert repr(client) == "YottaClient(base_url='https://api.yottalabs.ai', api_key=<set>)"
    assert KEY not in caplog.text


def test_pods_resource_is_cached() -> None:
    client = YottaClient(KEY)
    assert client.pods is client.pods
