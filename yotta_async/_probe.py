"""TCP reachability probes for readiness waits: does anything accept a connection on host:port?

Why this module, and why here: DESIGN.md keeps ``_session.py`` the only module that touches
aiohttp, because aiohttp is the API transport and its errors must be translated in one
place. A probe is not an API call and not HTTP: it opens a raw TCP connection with
``asyncio.open_connection`` to a pod's ``host:proxy_port``, closes it at once, and reports
only "reachable or not" (every ``OSError`` or timeout is a plain ``False``, so no exception
ever needs translating). It therefore sits beside the session, in the transport layer, as
its own small module: the waiting layer above receives a :class:`Prober` through its
constructor and never imports ``asyncio`` sockets itself, and tests can hand it a fake
``connect``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable, Iterable

import anyio

from .errors import ValidationError
from .models import Pod, PortSelector

__all__ = [
    "DEFAULT_PROBE_CONCURRENCY",
    "DEFAULT_PROBE_TIMEOUT",
    "Connect",
    "Prober",
    "probe_tcp",
]

DEFAULT_PROBE_TIMEOUT = 3.0
"""Seconds a connect may take before the port counts as "not yet" (short: the wait retries)."""
DEFAULT_PROBE_CONCURRENCY = 32
"""Connects in flight at once, across every pod a client is waiting on."""

Connect = Callable[[str, int, float], Awaitable[bool]]
"""``connect(host, port, timeout) -> reachable``; the default is :func:`probe_tcp`."""


async def probe_tcp(
    host: str,
    port: int,
    timeout: float = DEFAULT_PROBE_TIMEOUT,  # noqa: ASYNC109 - the connect's own bound, not a deadline
) -> bool:
    """True if a TCP connection to ``host:port`` opens within ``timeout`` seconds.

    ::

        if await probe_tcp("8hddaf7x.op1.yottalabs.ai", 30056):
            ...  # something accepts connections there

    The connection is closed at once; nothing is sent. A refusal, a reset, a DNS failure or
    the timeout all give ``False``.
    """
    writer: asyncio.StreamWriter | None = None
    try:
        with anyio.fail_after(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError), anyio.move_on_after(timeout):
                await writer.wait_closed()
    return True


class Prober:
    """Probes pods' ports under one concurrency cap (share one per client).

    ::

        prober = Prober(timeout=2.0, concurrency=16)
        unreachable = await prober.unreachable(pod, ["ssh"])   # ['22/SSH'] or []
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_PROBE_TIMEOUT,
        concurrency: int = DEFAULT_PROBE_CONCURRENCY,
        connect: Connect | None = None,
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
                or not 0 < timeout < math.inf:
            raise ValidationError("probe_timeout", f"must be a finite number of seconds > 0, got {timeout!r}")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValidationError("probe_concurrency", f"must be an integer >= 1, got {concurrency!r}")
        self.timeout = float(timeout)
        self.concurrency = concurrency
        self._connect: Connect = connect or probe_tcp
        self._limiter = anyio.CapacityLimiter(concurrency)
        self.probes = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def reachable(self, host: str, port: int) -> bool:
        """One connect to ``host:port``, waiting for a free slot under the cap first."""
        async with self._limiter:
            self.probes += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                return await self._connect(host, port, self.timeout)
            finally:
                self.in_flight -= 1

    async def unreachable(self, pod: Pod, ports: Iterable[PortSelector] | None = None) -> list[str]:
        """Labels of the selected, ready-flagged ports of ``pod`` that refuse a connection.

        Ports not flagged ready are not probed (they are not ready anyway); the selected
        ports are probed concurrently, within the shared cap.
        """
        entries = [e for e in pod.ports(ports) if e.ready]
        results: dict[int, bool] = {}

        async def one(index: int, host: str, port: int) -> None:
            results[index] = await self.reachable(host, port)

        async with anyio.create_task_group() as tg:
            for i, entry in enumerate(entries):
                assert entry.host is not None and entry.proxy_port is not None  # entry.ready
                tg.start_soon(one, i, entry.host, entry.proxy_port)
        return [e.label for i, e in enumerate(entries) if not results.get(i, False)]
