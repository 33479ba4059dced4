""""Calls end on time": each worst-case formula in the README, checked on a silent server.

The formulas (README, "How long a call can take"), with ``T = timeout``, ``R = max_retries``,
``B = sum(backoff.cap(i) for i < R)``, ``S = reconcile_settle`` and ``W`` a wait's timeout:

* get / list / pause / resume / delete: ``(R + 1) * T + B``;
* create (default client token), silent server: ``(R + 2) * T + B``;
* create (default client token), in general: ``(R + 1) * (T + 2 * C + S) + B`` with
  ``C = (R + 1) * T + B`` (here checked on a server that swallows creates but answers
  listings, which runs every reconciliation round: ``(R + 1) * (T + S) + B`` plus listings);
* a wait: ``W + min(T, 1 s)``; ``max_retries`` plays no part.

A server that never answers cannot be faked, so each attempt really waits out a 0.2 s
timeout; the backoff and settle sleeps are virtual (a clock that jumps by each sleep), so
they are counted exactly and cost nothing. Attempts are counted on the server's side: that
is the exact assertion; the elapsed time is checked against the formula from both sides,
with slack above for a loaded machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.hardening._util import BIG_ID, VALID_FIELDS
from yotta_async import APITimeoutError, Backoff, WaitTimeoutError, WatchPolicy, YottaClient

T = 0.2  # timeout per attempt
BACKOFF = Backoff(initial=0.05, maximum=0.08, multiplier=2.0, jitter=0)  # caps 0.05, 0.08, 0.08...
SETTLE = 0.3
W = 0.3  # a wait's own timeout
RETRIES = [0, 2]


def slack(attempts: int) -> float:
    """Room above a formula for scheduling on a loaded 2-core machine."""
    return 0.5 + 0.1 * attempts


# --- the README's formulas -----------------------------------------------------------------


def backoff_total(backoff: Backoff, retries: int) -> float:
    """B: the most a call sleeps between its attempts (jitter only draws less)."""
    return sum(backoff.cap(i) for i in range(retries))


def call_budget(timeout: float, retries: int, backoff: Backoff) -> float:
    """get, list, pause, resume, delete (and any one listing)."""
    return (retries + 1) * timeout + backoff_total(backoff, retries)


def silent_create_budget(timeout: float, retries: int, backoff: Backoff) -> float:
    """A tokened create on a server that answers nothing: the POST, then one listing."""
    return (retries + 2) * timeout + backoff_total(backoff, retries)


def create_budget(timeout: float, retries: int, backoff: Backoff, settle: float) -> float:
    """A tokened create in general: up to R + 1 POSTs, each followed by two listings S apart."""
    listing = call_budget(timeout, retries, backoff)
    return (retries + 1) * (timeout + 2 * listing + settle) + backoff_total(backoff, retries)


def wait_budget(wait: float, timeout: float) -> float:
    """A lone wait_until_*, or a shared wait (then at most ``wait + 1``)."""
    return wait + min(timeout, 1.0)


# --- a server that never answers (or answers only listings) --------------------------------


class SilentServer:
    """Loopback HTTP that reads each request and never answers it; ``requests`` logs them.

    With ``list_empty=True`` it answers ``GET /v2/pods`` with an empty list (and only that),
    as an API that swallows creates would.
    """

    def __init__(self, *, list_empty: bool = False) -> None:
        self.list_empty = list_empty
        self.requests: list[str] = []
        self._handlers: set[asyncio.Task[Any]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    def count(self, method: str, path: str | None = None) -> int:
        return sum(1 for r in self.requests if r.split(" ")[0] == method
                   and (path is None or r.split(" ")[1].split("?")[0] == path))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.append(writer)
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                method, target = lines[0].decode().split(" ")[:2]
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        await reader.readexactly(int(value))
                self.requests.append(f"{method} {target}")
                if self.list_empty and method == "GET" and target.split("?")[0] == "/v2/pods":
                    body = b'{"code":10000,"message":"success","data":[]}'
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                    await writer.drain()
                    continue
                await asyncio.Event().wait()  # never answer

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        try:
            yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        finally:
            server.close()
            for writer in self._writers:
                writer.close()
            for task in self._handlers:
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await server.wait_closed()


class VirtualSleep:
    """Real time plus every sleep, which returns at once: timeouts are real, backoff is not."""

    def __init__(self) -> None:
        self.slept = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return time.monotonic() + self.slept

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 9))
        self.slept += seconds
        await asyncio.sleep(0)


async def timed(call: Awaitable[Any], clock: Callable[[], float]) -> tuple[BaseException, float]:
    started = clock()
    with pytest.raises(Exception) as info:
        await call
    return info.value, clock() - started


def client_for(url: str, retries: int, virtual: VirtualSleep | None = None, **kw: Any) -> YottaClient:
    if virtual is not None:
        kw.update(clock=virtual.clock, sleep=virtual.sleep)
    return YottaClient("k", url, timeout=T, max_retries=retries, backoff=BACKOFF,
                       reconcile_settle=SETTLE, **kw)


# --- the tests ------------------------------------------------------------------------------

CALLS: dict[str, tuple[str, str, Callable[[YottaClient], Awaitable[Any]]]] = {
    "get": ("GET", f"/v2/pods/{BIG_ID}", lambda c: c.pods.get(BIG_ID)),
    "delete": ("DELETE", f"/v2/pods/{BIG_ID}", lambda c: c.pods.delete(BIG_ID)),
}


@pytest.mark.parametrize("retries", RETRIES)
@pytest.mark.parametrize("call", list(CALLS))
async def test_a_plain_call_ends_within_its_formula(call: str, retries: int) -> None:
    method, path, send = CALLS[call]
    server, virtual = SilentServer(), VirtualSleep()
    async with server.running() as url, client_for(url, retries, virtual) as client:
        exc, elapsed = await timed(send(client), virtual.clock)
    assert isinstance(exc, APITimeoutError), repr(exc)
    assert server.count(method, path) == retries + 1 and len(server.requests) == retries + 1
    assert virtual.sleeps == [BACKOFF.cap(i) for i in range(retries)]
    budget = call_budget(T, retries, BACKOFF)
    assert budget - 0.02 <= elapsed <= budget + slack(retries + 1)


@pytest.mark.parametrize("retries", RETRIES)
async def test_a_tokened_create_on_a_silent_server_ends_within_its_formula(retries: int) -> None:
    server, virtual = SilentServer(), VirtualSleep()
    async with server.running() as url, client_for(url, retries, virtual) as client:
        exc, elapsed = await timed(client.pods.create(**VALID_FIELDS), virtual.clock)
    # The POST timed out after sending (ambiguous: never re-sent blindly); the listing that
    # looks for its token then used the call's full retries, and failed too.
    assert isinstance(exc, APITimeoutError) and exc.method == "POST", repr(exc)
    assert any("listing pods failed" in n for n in getattr(exc, "__notes__", []))
    assert server.count("POST") == 1
    assert server.count("GET", "/v2/pods") == retries + 1
    assert virtual.sleeps == [BACKOFF.cap(i) for i in range(retries)]
    budget = silent_create_budget(T, retries, BACKOFF)
    assert budget - 0.02 <= elapsed <= budget + slack(retries + 2)


@pytest.mark.parametrize("retries", RETRIES)
async def test_a_tokened_create_runs_every_reconciliation_round_within_its_formula(retries: int) -> None:
    """Creates swallowed, listings empty: each round is a POST, a listing, S, a listing."""
    server, virtual = SilentServer(list_empty=True), VirtualSleep()
    async with server.running() as url, client_for(url, retries, virtual) as client:
        exc, elapsed = await timed(client.pods.create(**VALID_FIELDS), virtual.clock)
    assert isinstance(exc, APITimeoutError) and exc.method == "POST", repr(exc)
    assert any(f"after {retries + 1} attempts" in n for n in getattr(exc, "__notes__", []))
    assert server.count("POST") == retries + 1
    assert server.count("GET", "/v2/pods") == 2 * (retries + 1)
    expected_sleeps: list[float] = []
    for round_ in range(retries + 1):
        expected_sleeps.append(SETTLE)
        if round_ < retries:
            expected_sleeps.append(BACKOFF.cap(round_))
    assert virtual.sleeps == expected_sleeps
    rounds = (retries + 1) * (T + SETTLE) + backoff_total(BACKOFF, retries)  # listings answer
    assert rounds - 0.02 <= elapsed <= rounds + slack(3 * (retries + 1))
    assert rounds <= create_budget(T, retries, BACKOFF, SETTLE)


@pytest.mark.parametrize("retries", RETRIES)
async def test_a_lone_wait_ends_within_its_formula(retries: int) -> None:
    """Real clock (the cut-off of a hung poll is a real-time feature). The wait's backoff is
    longer than its deadline, so its last poll starts right at the deadline: the worst case."""
    server = SilentServer()
    async with server.running() as url, client_for(url, retries) as client:
        exc, elapsed = await timed(
            client.pods.wait_until_running(BIG_ID, timeout=W, backoff=Backoff(1.0, 1.0, jitter=0)),
            time.monotonic,
        )
    assert isinstance(exc, WaitTimeoutError), repr(exc)
    # A poll at 0 (times out at T), a sleep to the deadline, a last poll there: max_retries
    # plays no part, since waiters retry on their own schedule.
    assert server.count("GET", f"/v2/pods/{BIG_ID}") == 2 and len(server.requests) == 2
    budget = wait_budget(W, T)
    assert budget - 0.02 <= elapsed <= budget + slack(2)


@pytest.mark.parametrize("retries", RETRIES)
async def test_a_shared_wait_ends_within_its_formula(retries: int) -> None:
    server = SilentServer()
    policy = WatchPolicy(floor=0.25, maximum=0.25, jitter=0)
    async with server.running() as url, client_for(url, retries, watch_policy=policy) as client:
        exc, elapsed = await timed(client.pods.wait_all([BIG_ID], timeout=W), time.monotonic)
    assert isinstance(exc, WaitTimeoutError), repr(exc)
    # Ticks at 0 (times out at T) and at the floor, 0.25; the deadline passes during the second.
    # On a loaded machine the second tick can start after the deadline (0.3), 50 ms later than
    # planned, and is then never sent: the promise is the elapsed bound, not that window.
    assert 1 <= server.count("GET", "/v2/pods") <= 2
    assert len(server.requests) == server.count("GET", "/v2/pods")
    assert W <= elapsed <= wait_budget(W, T) + slack(2)
