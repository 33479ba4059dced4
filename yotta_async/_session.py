"""The only module that touches aiohttp: retries, flow control and error translation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mmap
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import msgspec

from . import _protocol as proto
from ._backoff import Backoff
from ._runtime import Clock, IdleUntil, Runtime, Sleep
from ._version import __version__

if TYPE_CHECKING:
    # Imported lazily at run time: aiohttp is most of `import yotta_async`'s cost, and
    # the CLI's --help and the models need none of it.
    import aiohttp

from .errors import (
    CLIENT_CLOSED,
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    RateLimitError,
    ResponseDecodeError,
    YottaError,
)

T = TypeVar("T")
Params = Sequence[tuple[str, str]]
# Called on an ambiguous failure: the result the server did produce, or None if it provably
# produced nothing (then the request is sent again); raises if it cannot tell.
Reconcile = Callable[[YottaError], Awaitable["T | None"]]

logger = logging.getLogger("yotta_async")

USER_AGENT = f"yotta-async/{__version__}"
MAX_RESPONSE_BYTES = 256 * 1024 * 1024

RETRY_ALWAYS = proto.RETRY_ALWAYS
RETRY_UNSENT = proto.RETRY_UNSENT
RETRY_NEVER = proto.RETRY_NEVER

# For replies whose data the caller ignores: Raw skips parsing it.
IGNORE_DATA: proto.ReplyDecoder[msgspec.Raw] = proto.ReplyDecoder(msgspec.Raw)


class Session:
    """Sends requests, retries what is safe to retry, and maps every failure to a YottaError.

    Flow control is client-wide: at most ``max_concurrency`` requests are in flight, an
    optional ``requests_per_second`` spaces their starts, and a 429 pauses *every* request
    until its ``Retry-After`` has passed, so a thousand parallel callers do not stampede.
    """

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str,
        timeout: float,
        max_retries: int,
        backoff: Backoff,
        max_retry_after: float,
        max_concurrency: int,
        requests_per_second: float | None,
        session: aiohttp.ClientSession | None,
        sleep: Sleep | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        idle_until: IdleUntil | None = None,
    ) -> None:
        self._api_key = api_key
        self._secret = api_key.encode() if api_key else b""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.max_concurrency = max_concurrency
        self._borrowed = session
        self._owned: aiohttp.ClientSession | None = None
        # The loop the HTTP session works on, and what closes an owned one when that loop ends.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._guard: AsyncGenerator[None, None] | None = None
        self._headers = proto.build_headers(api_key or "", USER_AGENT)
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        import aiohttp  # a client that is built will talk HTTP: pay for the import now

        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.runtime = Runtime(
            clock=clock or time.monotonic, sleep=sleep or anyio.sleep, rng=rng or random.Random(),
            idle_until=idle_until,
        )
        self._limiter: anyio.CapacityLimiter | None = None
        self._interval = 1.0 / requests_per_second if requests_per_second else 0.0
        self._next_start = 0.0
        self._cooldown_until = 0.0
        self._window = float(max_concurrency)  # adaptive cap on in-flight requests (AIMD)
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` has been called."""
        return self._closed

    @property
    def has_api_key(self) -> bool:
        """Whether a key is configured (the key itself is never exposed)."""
        return bool(self._api_key)

    async def _http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ConfigurationError(CLIENT_CLOSED)
        loop = asyncio.get_running_loop()
        if self._borrowed is not None:
            if self._borrowed.closed:  # aiohttp would raise a bare RuntimeError
                raise ConfigurationError("the aiohttp session passed as session= is closed")
            if self._loop is not None and self._loop is not loop:
                raise ConfigurationError(
                    "the aiohttp session passed as session= belongs to another event loop; create "
                    "the session and the YottaClient inside the asyncio.run() that uses them"
                )
            self._loop = loop
            return self._borrowed
        if self._owned is not None and self._loop is not loop:
            self._rebind()
        if self._owned is None:
            import aiohttp

            connector = aiohttp.TCPConnector(limit=self.max_concurrency, limit_per_host=0)
            self._owned = aiohttp.ClientSession(connector=connector)
            self._loop = loop
            # Closes the session on this loop when it shuts down (asyncio.run finalises async
            # generators before closing the loop), so a client that outlives its loop leaks
            # no connection and a later loop can open its own.
            self._guard = _close_at_loop_end(self._owned)
            await self._guard.__anext__()
        return self._owned

    def _rebind(self) -> None:
        """Let go of an owned session made on another event loop, if that loop has ended."""
        old, loop = self._owned, self._loop
        assert old is not None and loop is not None
        if not old.closed and not loop.is_closed():
            raise ConfigurationError(
                "this YottaClient's connections belong to another event loop that is still open; "
                "use one YottaClient per event loop (or close it with aclose() on its own loop first)"
            )
        if not old.closed:  # that loop was closed without finalising async generators
            logger.debug("the event loop of the previous HTTP session was closed without closing it")
        self._owned = self._guard = self._loop = None
        self._limiter = None  # a CapacityLimiter's waiters belong to one loop

    async def aclose(self) -> None:
        """Close the owned aiohttp session; a borrowed one is left open."""
        self._closed = True
        owned, guard, loop = self._owned, self._guard, self._loop
        self._owned = self._guard = None
        if owned is None or guard is None or loop is None or owned.closed:
            return
        if loop is asyncio.get_running_loop():
            await guard.aclose()  # closes the session
        elif not loop.is_closed():  # its own loop, still running elsewhere, closes it
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(guard.aclose(), loop))

    # -- flow control ------------------------------------------------------------------
    # Three mechanisms, all client-wide:
    # * a CapacityLimiter caps requests in flight (the owned connection pool has the same
    #   size, so a request holding a token never queues again inside aiohttp);
    # * ``requests_per_second`` spaces request starts (``_pace``, inside the limiter, so
    #   tokens cannot be banked while queued and then spent in a burst);
    # * a 429 starts a cooldown that holds back every request until ``Retry-After`` has
    #   passed, and halves the limiter's size once per cooldown; each later reply that is
    #   not a 429 or 5xx grows it back by 1/size (additive increase, multiplicative
    #   decrease, as TCP does). Requests wait out the cooldown *before* taking a token, so
    #   when it ends only the reduced number start together, not everyone who queued.
    def _capacity(self) -> anyio.CapacityLimiter:
        # Built lazily: a CapacityLimiter must be created inside a running event loop.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(max(1, int(self._window)))
        return self._limiter

    async def _cooled(self) -> None:
        """Wait until no 429 cooldown is in force (it may be extended while we wait)."""
        while (wait := self._cooldown_until - self.runtime.clock()) > 0:
            until = self._cooldown_until
            await self.runtime.sleep(wait)
            # Served in full unless a new 429 extended it meanwhile. Not re-reading the clock
            # keeps an injected sleep that does not move the clock from spinning.
            if self._cooldown_until <= until:
                return

    async def _pace(self) -> None:
        while True:
            now = self.runtime.clock()
            wait = self._cooldown_until - now
            if self._interval:
                start = max(now, self._next_start, self._cooldown_until)
                self._next_start = start + self._interval
                wait = start - now
            if wait <= 0:
                return
            until = self._cooldown_until
            await self.runtime.sleep(wait)
            if self._interval or self._cooldown_until <= until:
                return

    def _cool_down(self, seconds: float) -> None:
        now = self.runtime.clock()
        if now >= self._cooldown_until:  # a new episode: the replies of one burst count once
            self._resize(self._window / 2)
            logger.debug("429: pausing requests for %.2fs; in-flight cap now %d",
                         seconds, int(self._window))
        self._cooldown_until = max(self._cooldown_until, now + seconds)

    def _on_reply(self, status: int) -> None:
        """Grow the in-flight cap back after a reply that shows no overload."""
        if status < 500 and status != 429 and self._window < self.max_concurrency:
            self._resize(self._window + 1.0 / self._window)

    def _resize(self, window: float) -> None:
        self._window = min(float(self.max_concurrency), max(1.0, window))
        if self._limiter is not None and self._limiter.total_tokens != int(self._window):
            self._limiter.total_tokens = int(self._window)

    # -- requests ----------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        decoder: proto.ReplyDecoder[T],
        *,
        params: Params | None = None,
        body: bytes | None = None,
        retry: proto.RetryMode = RETRY_ALWAYS,
        reconcile: Reconcile[T] | None = None,
        secrets: Sequence[str] = (),
    ) -> T:
        """Send one API call (with retries) and return its decoded ``data``.

        ``secrets`` (e.g. a registry password in ``body``) are blanked out of any reply
        body an error quotes, like the API key; nothing here logs a request body.

        ``retry`` says which failures may be sent again (:func:`_protocol.may_retry`).
        ``reconcile``, for a create, is consulted on an *ambiguous* failure: what it finds is
        returned; ``None`` (provably nothing was made) lets the request be sent again on the
        same backoff and attempt budget as any retry.
        """
        if not self._api_key:
            raise ConfigurationError(
                "no API key: pass api_key=... to YottaClient or set YOTTA_API_KEY "
                "(create one in the Yotta console under Settings -> Access Keys)"
            )
        attempt = 0
        while True:
            try:
                return await self._attempt(method, path, decoder, params, body, attempt, secrets)
            except YottaError as exc:
                absent = False
                if reconcile is not None and proto.is_ambiguous(exc):
                    found = await reconcile(exc)
                    if found is not None:
                        return found
                    absent = True
                delay = self._retry_delay(exc, attempt, retry, absent)
                if isinstance(exc, RateLimitError):
                    # Every 429 slows the whole client, whether it is retried here or by its
                    # caller (waiters and the watcher retry on their own schedule).
                    hint = exc.retry_after or self.backoff.cap(attempt)
                    self._cool_down(delay if delay is not None else min(hint, self.max_retry_after))
                if delay is None:
                    raise
                logger.debug(
                    "retrying %s %s in %.2fs after %s (attempt %d of %d)",
                    method, path, delay, type(exc).__name__, attempt + 1, self.max_retries,
                )
                await self.runtime.sleep(delay)
                attempt += 1

    def _retry_delay(
        self, exc: YottaError, attempt: int, mode: proto.RetryMode, absent: bool
    ) -> float | None:
        if attempt >= self.max_retries or not proto.may_retry(exc, mode, proven_unprocessed=absent):
            return None
        delay = self.backoff.delay(attempt, self.runtime.rng)
        hint = exc.retry_after if isinstance(exc, RateLimitError) else None
        if hint is not None:
            if hint > self.max_retry_after:
                return None  # the server asks for longer than we are willing to wait
            delay = max(delay, hint)
        return delay

    async def _attempt(
        self,
        method: str,
        path: str,
        decoder: proto.ReplyDecoder[T],
        params: Params | None,
        body: bytes | None,
        attempt: int,
        secrets: Sequence[str] = (),
    ) -> T:
        import aiohttp  # already loaded by __init__; a dict lookup

        await self._http()  # a closed client fails at once, not after queueing
        headers = self._json_headers if body is not None else self._headers
        await self._cooled()
        async with self._capacity():
            await self._pace()
            # Only now: the client (or a borrowed session) may have been closed while we
            # queued, and aiohttp would then raise a bare RuntimeError.
            http = await self._http()
            started = self.runtime.clock()
            status = 0
            try:
                async with http.request(
                    method,
                    self.base_url + path,
                    params=params,
                    data=body,
                    headers=headers,
                    timeout=self._timeout,
                    allow_redirects=False,
                    # A lent session's defaults must not change what the SDK sees: error
                    # statuses are mapped (and retried) here, bodies are read inflated, and
                    # retries are ours alone (a middleware retry would break exactly-once).
                    raise_for_status=False,
                    auto_decompress=True,
                    middlewares=(),
                ) as resp:
                    status = resp.status
                    self._on_reply(status)
                    if (resp.content_length or 0) > MAX_RESPONSE_BYTES:
                        raise ResponseDecodeError(
                            f"body of {resp.content_length} bytes is over the limit",
                            http_status=status, method=method, path=path,
                        )
                    # An inflated body is longer than its Content-Length: only a plain one is mapped.
                    plain = "Content-Encoding" not in resp.headers
                    length = resp.content_length if plain else None
                    raw = await _read_capped(resp.content, status, method, path, length)
                    resp_headers: Mapping[str, str] = resp.headers
            except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
                raise _connection_error(APITimeoutError, exc, method, path, self.timeout) from exc
            except aiohttp.ClientError as exc:
                raise _connection_error(APIConnectionError, exc, method, path, self.timeout) from exc
            except OSError as exc:
                raise _connection_error(APIConnectionError, exc, method, path, self.timeout) from exc
            finally:
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug(
                        "%s %s -> %s (attempt %d, %.1f ms)",
                        method, path, status or "no response", attempt + 1,
                        (self.runtime.clock() - started) * 1000,
                    )
        more = [s.encode() for s in secrets]
        try:
            return proto.parse_reply(raw, status, resp_headers, decoder, method, path, self._secret, more)
        except BaseException:
            # A big reply refused here (an error envelope, a wrong shape) gives its map back
            # now, not when the error's traceback goes. A decoded view still on it keeps it.
            if isinstance(raw, mmap.mmap):
                with contextlib.suppress(BufferError):
                    raw.close()
            raise

    def __repr__(self) -> str:
        return f"Session(base_url={self.base_url!r})"


async def _close_at_loop_end(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Holds ``session`` open until closed itself (by ``aclose`` or at the loop's shutdown)."""
    try:
        yield
    finally:
        await session.close()


# A body at least this big, of a known length, is read into an anonymous memory map.
MAPPED_BODY_BYTES = 1 << 20


async def _read_capped(
    stream: Any, status: int, method: str, path: str, length: int | None = None
) -> bytes | bytearray | mmap.mmap:
    """The body, counted as it arrives: a chunked or gzip-inflated body has no length to check.

    Gathered in one buffer, not joined from a list of chunks, so a big listing is held once,
    not twice, while it is read (the decoders take any buffer). A big body of known length
    goes into its own memory map, which returns to the OS the moment the last view of it
    (a listing's raw pods) is dropped, instead of leaving a hole in the heap.
    """
    if length is not None and MAPPED_BODY_BYTES <= length <= MAX_RESPONSE_BYTES:
        mapped = mmap.mmap(-1, length)
        try:
            size = 0
            async for chunk in stream.iter_chunked(1 << 16):
                if size + len(chunk) > length:
                    break  # longer than announced
                mapped[size : size + len(chunk)] = chunk
                size += len(chunk)
            else:
                if size == length:
                    return mapped
            raise ResponseDecodeError(
                f"body does not match its Content-Length of {length} bytes",
                http_status=status, method=method, path=path,
            )
        except BaseException:
            # A refused, dropped or cancelled read gives the map back now: the error's
            # traceback holds this frame, and would keep the map for as long as it is kept.
            mapped.close()
            raise
    body = bytearray()
    async for chunk in stream.iter_chunked(1 << 16):
        if len(body) + len(chunk) > MAX_RESPONSE_BYTES:
            raise ResponseDecodeError(
                f"body is over the limit of {MAX_RESPONSE_BYTES} bytes",
                http_status=status, method=method, path=path,
            )
        body += chunk
    return body


def _connection_error(
    cls: type[APIConnectionError], exc: BaseException, method: str, path: str, timeout: float
) -> APIConnectionError:
    if cls is APITimeoutError:
        message = f"no complete answer within {timeout:g}s"
    else:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    import aiohttp

    unsent = isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError))
    return cls(message, method=method, path=path, request_sent=not unsent)


# Decimal fields (prices) go out as JSON numbers, as the API types them, never as strings.
_ENCODER = msgspec.json.Encoder(decimal_format="number")


def encode(value: Any) -> bytes:
    """JSON-encode a request body."""
    return _ENCODER.encode(value)
