"""Timeouts and dropped connections: every call ends on time with the right typed error.

A server that never answers cannot be faked with a clock, so the first tests really wait,
but only for a 0.2 s timeout each.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.hardening._util import BIG_ID, VALID_FIELDS
from yotta_async import (
    APIConnectionError,
    APITimeoutError,
    Backoff,
    PodStatus,
    WaitTimeoutError,
    WatchPolicy,
    YottaClient,
)
from yotta_async.testing import ManualClock, Simulator

TIMEOUT = 0.2
# Generous slack for a loaded 2-core CI box; the point is "bounded", not a benchmark.
SLACK = 0.8

Call = Callable[[YottaClient], Awaitable[Any]]
CALLS: dict[str, Call] = {
    "get": lambda c: c.pods.get(BIG_ID),
    "list": lambda c: c.pods.list(),
    "create": lambda c: c.pods.create(**VALID_FIELDS, client_token=False),
    "pause": lambda c: c.pods.pause(BIG_ID),
    "resume": lambda c: c.pods.resume(BIG_ID),
    "delete": lambda c: c.pods.delete(BIG_ID),
}

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            await reader.readexactly(int(value))


async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    await asyncio.Event().wait()


async def never_reads(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.Event().wait()


async def headers_then_silence(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{"co')
    await writer.drain()
    await asyncio.Event().wait()


async def closes_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.write(
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"code":100'
    )
    await writer.drain()
    writer.close()


async def closes_before_reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.close()


class RawServer:
    """A TCP server on loopback that treats every connection with ``behaviour``."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._handlers: set[asyncio.Task[object]] = set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
            await self.behaviour(reader, writer)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        try:
            port = server.sockets[0].getsockname()[1]
            yield f"http://127.0.0.1:{port}"
        finally:
            server.close()
            for writer in self._writers:
                writer.close()
            for task in self._handlers:  # handlers that never answer are stopped here, not leaked
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await server.wait_closed()


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


async def timed(call: Awaitable[Any]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        await call
    return info.value, time.monotonic() - started


@pytest.mark.parametrize("behaviour", [never_answers, never_reads, headers_then_silence])
@pytest.mark.parametrize("endpoint", list(CALLS))
async def test_each_call_times_out_within_its_timeout(behaviour: Behaviour, endpoint: str) -> None:
    server = RawServer(behaviour)
    async with server.running() as url, YottaClient("k", url, timeout=TIMEOUT, max_retries=0) as client:
        exc, elapsed = await timed(CALLS[endpoint](client))
    assert isinstance(exc, APITimeoutError) and isinstance(exc, TimeoutError), repr(exc)
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + SLACK
    assert exc.request_sent is True  # the server may have acted: never blindly re-sent
    assert f"within {TIMEOUT:g}s" in str(exc) and exc.path and exc.path in str(exc)
    assert server.connections == 1


async def test_retries_multiply_the_budget_predictably() -> None:
    server = RawServer(never_answers)
    async with (
        server.running() as url,
        YottaClient("k", url, timeout=TIMEOUT, max_retries=2, sleep=_no_sleep) as client,
    ):
        exc, elapsed = await timed(client.pods.get(BIG_ID))
    assert isinstance(exc, APITimeoutError)
    assert server.connections == 3
    assert 3 * TIMEOUT * 0.9 <= elapsed < 3 * TIMEOUT + SLACK


async def test_a_tokened_create_on_a_silent_server_is_bounded_too() -> None:
    """An ambiguous create timeout triggers one reconciliation listing, itself on the timeout."""
    server = RawServer(never_answers)
    async with (
        server.running() as url,
        YottaClient("k", url, timeout=TIMEOUT, max_retries=0, sleep=_no_sleep) as client,
    ):
        exc, elapsed = await timed(client.pods.create(**VALID_FIELDS))
    assert isinstance(exc, APITimeoutError) and exc.method == "POST"
    assert server.connections == 2  # the create, then the listing that looked for its pod
    assert elapsed < 2 * TIMEOUT + SLACK


@pytest.mark.parametrize("endpoint", list(CALLS))
async def test_close_mid_body_is_a_connection_error(endpoint: str) -> None:
    server = RawServer(closes_mid_body)
    async with server.running() as url, YottaClient("k", url, timeout=5.0, max_retries=0) as client:
        exc, elapsed = await timed(CALLS[endpoint](client))
    assert type(exc) is APIConnectionError, repr(exc)
    assert exc.request_sent is True
    assert exc.path and exc.path in str(exc)
    assert elapsed < SLACK  # reported at once, not after the 5 s timeout


async def test_close_before_reply_is_retried_then_reported() -> None:
    server = RawServer(closes_before_reply)
    async with server.running() as url, YottaClient("k", url, max_retries=2, sleep=_no_sleep) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.pods.list()
    assert type(info.value) is APIConnectionError and info.value.request_sent is True
    # 3 SDK attempts; aiohttp itself re-sends an idempotent GET once after a disconnect
    assert server.connections == 3 * 2


async def test_connection_refused_is_known_unsent() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with YottaClient("k", f"http://127.0.0.1:{port}", max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.pods.get(BIG_ID)
    assert info.value.request_sent is False


async def test_waiter_cuts_off_a_hung_poll_shortly_after_its_deadline() -> None:
    """With the real clock, a poll stuck on a silent server does not hold the wait hostage."""
    server = RawServer(never_answers)
    async with server.running() as url, YottaClient("k", url, timeout=30.0) as client:
        exc, elapsed = await timed(client.pods.wait_until_running(BIG_ID, timeout=0.3))
    assert isinstance(exc, WaitTimeoutError), repr(exc)
    # the waiter lets an in-flight poll run up to 1 s (or the remaining budget) before cutting it
    assert elapsed < 0.3 + 1.0 + SLACK


async def test_shared_waiter_cuts_off_a_hung_poll_shortly_after_its_deadline() -> None:
    """The shared poller (wait_all) does not hold a wait past its deadline for a whole request timeout."""
    server = RawServer(never_answers)
    async with server.running() as url, YottaClient("k", url, timeout=4.0) as client:
        exc, elapsed = await timed(client.pods.wait_all([BIG_ID], timeout=0.3))
        assert not client.pods.waits.watcher.running
    assert isinstance(exc, WaitTimeoutError), repr(exc)
    assert elapsed < 0.3 + 1.0 + SLACK


# --- waiter deadlines on a manual clock: exact, and no real waiting --------------------------


@pytest.mark.parametrize(("timeout", "interval"), [(10.0, 1.0), (30.0, 7.0), (5.0, 5.0), (61.0, 2.5)])
async def test_single_waiter_deadline_within_one_poll_interval(timeout: float, interval: float) -> None:
    clock = ManualClock()
    async with Simulator(clock=clock) as sim:
        [pid] = sim.add_pods(1, status=PodStatus.PAUSED)  # never becomes RUNNING by itself
        async with YottaClient(sim.api_key, sim.base_url, clock=clock.now, sleep=clock.sleep) as client:
            started = clock.now()
            with pytest.raises(WaitTimeoutError) as info:
                await client.pods.wait_until_running(
                    pid, timeout=timeout, backoff=Backoff(interval, interval, jitter=0)
                )
            waited = clock.now() - started
    assert timeout <= waited <= timeout + interval
    assert timeout <= info.value.elapsed <= timeout + interval
    assert info.value.pod is not None and info.value.pod.status is PodStatus.PAUSED
    assert info.value.polls >= timeout // interval


@pytest.mark.parametrize(("timeout", "interval"), [(10.0, 1.0), (30.0, 7.0), (45.0, 10.0)])
async def test_shared_watcher_deadline_within_one_poll_interval(timeout: float, interval: float) -> None:
    clock = ManualClock()
    async with Simulator(clock=clock) as sim:
        ids = sim.add_pods(3, status=PodStatus.PAUSED)
        async with YottaClient(sim.api_key, sim.base_url, clock=clock.now, sleep=clock.sleep) as client:
            client.pods.watch_policy = WatchPolicy(floor=interval, maximum=interval, jitter=0)
            started = clock.now()
            with pytest.raises(WaitTimeoutError):
                await client.pods.wait_all(ids, until=PodStatus.RUNNING, timeout=timeout)
            waited = clock.now() - started
            assert not client.pods.waits.watcher.running
    assert timeout <= waited <= timeout + interval
