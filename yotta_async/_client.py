"""``YottaClient``: settings resolution, lifecycle, and the resources hanging off it."""

from __future__ import annotations

import ipaddress
import os
import random
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp

from ._backoff import Backoff
from ._session import Clock, Session, Sleep
from .errors import ConfigurationError

if TYPE_CHECKING:
    from .resources.pods import Pods

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "YottaClient",
]

DEFAULT_BASE_URL = "https://api.yottalabs.ai"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 4
DEFAULT_MAX_CONCURRENCY = 64
DEFAULT_BACKOFF = Backoff(initial=0.5, maximum=20.0)
DEFAULT_MAX_RETRY_AFTER = 60.0
ENV_API_KEY = "YOTTA_API_KEY"
ENV_BASE_URL = "YOTTA_BASE_URL"


class YottaClient:
    """An async client for the Yotta Pods API v2. Share one per process.

    ::

        async with YottaClient() as client:      # key from YOTTA_API_KEY
            pod = await client.pods.create(name="train-0", image="nvidia/cuda:12.1.0-base-ubuntu22.04",
                                           gpu_type="NVIDIA_H100_80G", gpu_count=1)
            pod = await client.pods.wait_until_running(pod.id)

    Settings resolve as the explicit argument, then the environment (``YOTTA_API_KEY``,
    ``YOTTA_BASE_URL``), then the ``DEFAULT_*`` constants. A missing key is reported by a
    :class:`ConfigurationError` at the first request. A plain ``http://`` base URL is refused
    unless the host is loopback or ``allow_insecure_http=True``.

    ``session`` lends an existing ``aiohttp.ClientSession``; the client never closes a
    borrowed session. ``max_concurrency`` caps requests in flight (and sizes the owned
    connection pool); ``requests_per_second`` spaces request starts. ``sleep``, ``clock`` and
    ``rng`` are injectable so tests never really sleep.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        session: aiohttp.ClientSession | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        requests_per_second: float | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        allow_insecure_http: bool = False,
        sleep: Sleep | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        url = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
        _check_base_url(url, allow_insecure_http)
        if not timeout > 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, got {timeout!r}")
        if max_retries < 0:
            raise ConfigurationError(f"max_retries must be >= 0, got {max_retries!r}")
        if max_concurrency < 1:
            raise ConfigurationError(f"max_concurrency must be >= 1, got {max_concurrency!r}")
        if requests_per_second is not None and not requests_per_second > 0:
            raise ConfigurationError(
                f"requests_per_second must be > 0 or None, got {requests_per_second!r}"
            )
        self._session = Session(
            api_key=key.strip() if key else None,
            base_url=url,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            max_retry_after=max_retry_after,
            max_concurrency=max_concurrency,
            requests_per_second=requests_per_second,
            session=session,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )

    @property
    def base_url(self) -> str:
        """The API root every request goes to."""
        return self._session.base_url

    @cached_property
    def pods(self) -> Pods:
        """The pods resource: create, list, get, pause, resume, delete, waiters, bulk helpers."""
        from .resources.pods import Pods

        return Pods(self)

    async def aclose(self) -> None:
        """Stop background work and close the owned HTTP session. Safe to call twice."""
        pods = self.__dict__.get("pods")
        if pods is not None:
            await pods._aclose()
        await self._session.aclose()

    async def __aenter__(self) -> YottaClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        key = "set" if self._session._api_key else "missing"
        return f"YottaClient(base_url={self.base_url!r}, api_key=<{key}>)"


def _check_base_url(url: str, allow_insecure_http: bool) -> None:
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ConfigurationError("base_url must not carry credentials; pass api_key instead")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"base_url must be an http(s) URL with a host, got {url!r}")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ConfigurationError(
            f"refusing plain-http base_url {url!r}: the API key would travel unencrypted; "
            "use https, a loopback host, or pass allow_insecure_http=True"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
