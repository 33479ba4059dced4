"""``YottaClient``: settings resolution, lifecycle, and the resources hanging off it."""

from __future__ import annotations

import os
import random
from collections.abc import Iterable
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ._backoff import Backoff
from ._protocol import DEFAULT_CAPACITY_ERROR_CODES
from ._runtime import Clock, IdleUntil, Sleep
from ._session import Session
from ._validation import check_int, check_items, check_number
from .errors import CLIENT_CLOSED, ConfigurationError, ValidationError
from .resources.pods import DEFAULT_RECONCILE_SETTLE, Pods, PodsSettings
from .waiting import WatchPolicy

if TYPE_CHECKING:
    import aiohttp

    from .resources.credentials import Credentials
    from .resources.gpu_types import GpuTypes
    from .resources.volumes import Volumes

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CAPACITY_ERROR_CODES",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_RECONCILE_SETTLE",
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
    ``rng`` are injectable so tests never really sleep. With a fake clock whose ``sleep``
    moves time, pass ``idle_until`` too (``ManualClock.wait_until``): background timers such
    as a group's expiry watcher then wait for time to pass instead of moving it themselves.
    The pytest fixtures do this for you.

    ``capacity_error_codes`` are the create result codes that failover treats as "no
    capacity here, try the next placement" (default :data:`DEFAULT_CAPACITY_ERROR_CODES`:
    only the simulator's code, since the real API documents none). A pod that ends FAILED
    before RUNNING is always treated as a capacity failure.
    ``watch_policy`` tunes the shared pod watcher (:class:`~yotta_async.WatchPolicy`) and
    ``reconcile_settle`` the seconds between the two listings that decide a create whose
    reply was lost made no pod; both are checked here, and can be changed later through
    ``client.pods.watch_policy`` / ``client.pods.reconcile_settle`` (checked again).
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
        idle_until: IdleUntil | None = None,
        capacity_error_codes: Iterable[int] = DEFAULT_CAPACITY_ERROR_CODES,
        watch_policy: WatchPolicy | None = None,
        reconcile_settle: float = DEFAULT_RECONCILE_SETTLE,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        key = _check_api_key(key)
        url = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
        _check_base_url(url, allow_insecure_http)
        url = _api_root(url)
        _check_number("timeout", timeout, lo=0.0, allow_lo=False)
        _check_int("max_retries", max_retries, lo=0)
        _check_int("max_concurrency", max_concurrency, lo=1)
        if requests_per_second is not None:
            _check_number("requests_per_second", requests_per_second, lo=0.0, allow_lo=False)
        _check_number("max_retry_after", max_retry_after, lo=0.0, allow_lo=True, allow_inf=True)
        if not isinstance(backoff, Backoff):
            raise ConfigurationError(f"backoff must be a Backoff, got {type(backoff).__name__}")
        if session is not None and not _is_aiohttp_session(session):
            raise ConfigurationError(
                f"session must be an aiohttp.ClientSession, got {type(session).__name__}"
            )
        if rng is not None and not isinstance(rng, random.Random):
            raise ConfigurationError(f"rng must be a random.Random, got {type(rng).__name__}")
        self.capacity_error_codes = _check_codes(capacity_error_codes)
        for name, fn in (("sleep", sleep), ("clock", clock), ("idle_until", idle_until)):
            if fn is not None and not callable(fn):
                raise ConfigurationError(f"{name} must be callable, got {type(fn).__name__}")
        try:
            self._pods_settings = PodsSettings(
                watch_policy or WatchPolicy(), reconcile_settle, self.capacity_error_codes
            )
        except ValidationError as exc:
            raise ConfigurationError(str(exc)) from None
        self._session = Session(
            api_key=key,
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
            idle_until=idle_until,
        )

    @property
    def base_url(self) -> str:
        """The API root every request goes to."""
        return self._session.base_url

    @cached_property
    def pods(self) -> Pods:
        """The pods resource: create, list, get, pause, resume, delete, waiters, bulk helpers."""
        return Pods(
            self._session, self._session.runtime, self._pods_settings,
            catalogue=lambda: self.gpu_types.list(),
        )

    @cached_property
    def gpu_types(self) -> GpuTypes:
        """The GPU catalogue: ``list()`` and ``placements(gpu_type, regions=...)``."""
        from .resources.gpu_types import GpuTypes

        return GpuTypes(self._session, self._session.runtime)

    @cached_property
    def credentials(self) -> Credentials:
        """Registry credentials for private images: list, get, create, update, delete."""
        from .resources.credentials import Credentials

        return Credentials(self._session, self._session.runtime)

    @cached_property
    def volumes(self) -> Volumes:
        """Persistent volumes: create, list/iter, get, rename, resize, delete and waits."""
        from .resources.volumes import Volumes

        return Volumes(self._session, self._session.runtime)

    async def aclose(self) -> None:
        """Stop background work and close the owned HTTP session. Safe to call twice."""
        pods = self.__dict__.get("pods")
        if pods is not None:
            await pods.aclose()
        await self._session.aclose()

    async def __aenter__(self) -> YottaClient:
        if self._session.closed:
            raise ConfigurationError(CLIENT_CLOSED)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        key = "set" if self._session.has_api_key else "missing"
        return f"YottaClient(base_url={self.base_url!r}, api_key=<{key}>)"


def _check_api_key(key: object) -> str | None:
    """The key, stripped; ``None`` if empty. Never echoes the key in an error."""
    if key is None:
        return None
    if not isinstance(key, str):
        raise ConfigurationError(f"api_key must be a string, got {type(key).__name__}")
    key = key.strip()
    # Anything but visible ASCII would break (or inject into) the X-Api-Key header.
    if any(not "!" <= ch <= "~" for ch in key):
        raise ConfigurationError(
            "api_key contains whitespace, control or non-ASCII characters; "
            "check that it was copied whole from the Yotta console"
        )
    return key or None


def _check_codes(codes: object) -> frozenset[int]:
    # The shared rules (an iterable but not str/bytes; ints, bool refused), as a ConfigurationError.
    try:
        items = check_items(codes, "capacity_error_codes")
        for i, code in enumerate(items):
            check_int(code, f"capacity_error_codes[{i}]")
    except ValidationError as exc:
        raise ConfigurationError(str(exc)) from None
    return frozenset(items)


def _check_number(
    name: str, value: object, *, lo: float, allow_lo: bool, allow_inf: bool = False
) -> None:
    # The shared rule (NaN never, inf only where allowed); a bad setting is a ConfigurationError.
    try:
        check_number(value, name, minimum=lo, inclusive=allow_lo, allow_inf=allow_inf)
    except ValidationError as exc:
        raise ConfigurationError(f"{name} {exc.message}") from None


def _check_int(name: str, value: object, *, lo: int) -> None:
    try:
        check_int(value, name, minimum=lo)
    except ValidationError as exc:
        raise ConfigurationError(f"{name} {exc.message}") from None


def _check_base_url(url: object, allow_insecure_http: bool) -> None:
    if not isinstance(url, str):
        raise ConfigurationError(f"base_url must be a string, got {type(url).__name__}")
    try:
        parts = urlsplit(url)
        port = parts.port  # parsed lazily: an out-of-range port raises only here
    except ValueError:
        raise ConfigurationError("base_url is not a valid URL (check the host and port)") from None
    if parts.username or parts.password or "@" in parts.netloc:
        raise ConfigurationError("base_url must not carry credentials; pass api_key instead")
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        # Echoed only if it looks like a URL: anything else may be the key in the wrong argument.
        got = repr(url) if "://" in url else f"{len(url)} characters (api_key and base_url swapped?)"
        raise ConfigurationError(f"base_url must be an http(s) URL with a host, got {got}")
    if parts.query or parts.fragment:
        # Not echoed: a query string is where a key would hide.
        raise ConfigurationError("base_url must not have a query string or fragment")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ConfigurationError(
            f"refusing plain-http base_url {url!r}: the API key would travel unencrypted; "
            "use https, a loopback host, or pass allow_insecure_http=True "
            "(--allow-insecure-http on the command line)"
        )


def _api_root(url: str) -> str:
    """The API root: a trailing ``/v2`` (as copied from the API docs) is dropped.

    Every request path already starts with ``/v2``, so keeping it would send ``/v2/v2/pods``.
    """
    root = url.rstrip("/")
    if root.lower().endswith("/v2"):
        root = root[:-3].rstrip("/")
    return root


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        import ipaddress  # only for a plain-http base URL; kept off the import path

        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_aiohttp_session(session: object) -> bool:
    import aiohttp

    return isinstance(session, aiohttp.ClientSession)
