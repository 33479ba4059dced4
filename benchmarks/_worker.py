"""Child process: run one client scenario against a simulator, print one JSON line of figures.

``python -m benchmarks._worker <scenario>`` reads its parameters as JSON from stdin. Client
CPU time is ``time.process_time()`` of this process alone, so the server's work never counts.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

Params = dict[str, Any]
SCENARIOS: dict[str, Callable[[Params], Awaitable[dict[str, Any]]]] = {}


def scenario(
    fn: Callable[[Params], Awaitable[dict[str, Any]]],
) -> Callable[[Params], Awaitable[dict[str, Any]]]:
    SCENARIOS[fn.__name__] = fn
    return fn


async def _drive(width: int, ids: list[int], call: Callable[[int], Awaitable[object]]) -> None:
    """``width`` workers share one iterator of ids: the same driver for every client."""
    it: Iterator[int] = iter(ids)

    async def worker() -> None:
        for pod_id in it:
            await call(pod_id)

    await asyncio.gather(*(worker() for _ in range(width)))


async def _timed(
    width: int, ids: list[int], warm: list[int], call: Callable[[int], Awaitable[object]]
) -> dict[str, Any]:
    await _drive(width, warm, call)  # open the connections and fill caches first
    cpu, wall = time.process_time(), time.perf_counter()
    await _drive(width, ids, call)
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


@scenario
async def get_sdk(p: Params) -> dict[str, Any]:
    """yotta-async: ``client.pods.get`` with the client-wide limit at the same width."""
    from yotta_async import YottaClient

    async with YottaClient(p["api_key"], p["base_url"], max_concurrency=p["width"]) as client:
        return await _timed(p["width"], p["ids"], p["warm"], client.pods.get)


@scenario
async def get_aiohttp(p: Params) -> dict[str, Any]:
    """Raw aiohttp as its docs recommend: one ClientSession, ``session.get`` + ``json.loads``."""
    import aiohttp

    base, headers = p["base_url"], {"X-Api-Key": p["api_key"]}
    connector = aiohttp.TCPConnector(limit=p["width"])
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def call(pod_id: int) -> object:
            async with session.get(f"{base}/v2/pods/{pod_id}") as resp:
                body = json.loads(await resp.read())
            if body["code"] != 10000:
                raise RuntimeError(body)
            return body["data"]

        return await _timed(p["width"], p["ids"], p["warm"], call)


@scenario
async def get_httpx(p: Params) -> dict[str, Any]:
    """httpx as its docs recommend: one ``AsyncClient`` with a connection pool of the same width."""
    import httpx

    limits = httpx.Limits(max_connections=p["width"], max_keepalive_connections=p["width"])
    async with httpx.AsyncClient(
        base_url=p["base_url"], headers={"X-Api-Key": p["api_key"]}, limits=limits
    ) as client:

        async def call(pod_id: int) -> object:
            body = (await client.get(f"/v2/pods/{pod_id}")).json()
            if body["code"] != 10000:
                raise RuntimeError(body)
            return body["data"]

        return await _timed(p["width"], p["ids"], p["warm"], call)


@scenario
async def list_aiohttp(p: Params) -> dict[str, Any]:
    """Raw aiohttp listing every pod ``count`` times: the simulator's list throughput."""
    import aiohttp

    async with aiohttp.ClientSession(headers={"X-Api-Key": p["api_key"]}) as session:

        async def call(_: int) -> object:
            async with session.get(p["base_url"] + "/v2/pods") as resp:
                return await resp.read()

        return await _timed(p["width"], list(range(p["count"])), [0] * p["width"], call)


def main() -> int:
    name = sys.argv[1]
    params = json.loads(sys.stdin.read() or "{}")
    result = asyncio.run(SCENARIOS[name](params))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
