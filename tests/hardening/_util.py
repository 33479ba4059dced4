"""Shared helpers for the hardening tests: a one-handler loopback server and a transport spy."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# A pod id above 2**53, as the API-NOTES warn: it must never pass through a float.
BIG_ID = 331864222263676928

VALID_FIELDS: dict[str, Any] = {
    "name": "train-0",
    "image": "nvidia/cuda:12.1.0-base-ubuntu22.04",
    "gpu_type": "NVIDIA_H100_80G",
    "gpu_count": 1,
}


def pod_body(pod_id: int = BIG_ID, status: str = "RUNNING") -> bytes:
    """A success envelope holding one pod."""
    return b'{"code":10000,"message":"success","data":{"id":%d,"status":"%s","name":"train-0"}}' % (
        pod_id,
        status.encode(),
    )


@contextlib.asynccontextmanager
async def serve(handler: Handler, *, shutdown_timeout: float = 0.1) -> AsyncIterator[str]:
    """Serve every method and path with ``handler`` on loopback; yields the base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


class RequestSpy:
    """Counts every request an ``aiohttp.ClientSession`` starts (a transport-level spy)."""

    def __init__(self) -> None:
        self.started: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._on_start)
        self.trace.on_request_chunk_sent.append(self._on_chunk)

    async def _on_start(
        self,
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        self.started.append((params.method, params.url.path))

    async def _on_chunk(
        self,
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestChunkSentParams,
    ) -> None:
        self.chunks.append(params.chunk)

    @property
    def count(self) -> int:
        """Requests started so far."""
        return len(self.started)

    def session(self) -> aiohttp.ClientSession:
        """A ClientSession that reports to this spy (the caller closes it)."""
        return aiohttp.ClientSession(trace_configs=[self.trace])
