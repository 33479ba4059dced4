"""Child process: run one client scenario against a simulator, print one JSON line of figures.

``python -m benchmarks._worker <scenario>`` imports what the scenario needs, prints ``ready``,
reads its parameters as one JSON line on stdin, runs, and prints its figures as JSON. Client
CPU time is ``time.process_time()`` of this process alone, so the server's work never counts.
Durations given in *simulated* seconds are multiplied by ``scale`` (the simulator's
``time_scale``), so every poll interval keeps its real-world proportion to a pod's lifecycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

Params = dict[str, Any]
Scenario = Callable[[Params], Awaitable[dict[str, Any]]]
SCENARIOS: dict[str, Scenario] = {}
PRELOAD: dict[str, tuple[str, ...]] = {}
SDK = ("yotta_async", "yotta_async.resources.pods", "aiohttp")
YOTTAML = ("yottaml.pod",)


def scenario(*preload: str) -> Callable[[Scenario], Scenario]:
    """Register a scenario under its function name, with the modules to import up front."""

    def register(fn: Scenario) -> Scenario:
        SCENARIOS[fn.__name__] = fn
        PRELOAD[fn.__name__] = preload
        return fn

    return register


def _start() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def _since(mark: tuple[float, float], **extra: Any) -> dict[str, Any]:
    cpu, wall = mark
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, **extra}


# -- 2. request overhead -------------------------------------------------------------------
async def _drive(width: int, ids: list[int], call: Callable[[int], Awaitable[object]]) -> None:
    """``width`` workers share one iterator of ids: the same driver for every client."""
    it: Iterator[int] = iter(ids)

    async def worker() -> None:
        for pod_id in it:
            await call(pod_id)

    await asyncio.gather(*(worker() for _ in range(width)))


async def _timed(p: Params, call: Callable[[int], Awaitable[object]]) -> dict[str, Any]:
    await _drive(p["width"], p["warm"], call)  # open the connections and fill caches first
    mark = _start()
    await _drive(p["width"], p["ids"], call)
    return _since(mark)


@scenario(*SDK)
async def get_sdk(p: Params) -> dict[str, Any]:
    """yotta-async: ``client.pods.get`` with the client-wide limit at the same width."""
    from yotta_async import YottaClient

    async with YottaClient(p["api_key"], p["base_url"], max_concurrency=p["width"]) as client:
        return await _timed(p, client.pods.get)


@scenario("aiohttp")
async def get_aiohttp(p: Params) -> dict[str, Any]:
    """Raw aiohttp as its docs recommend: one ClientSession, ``session.get`` + ``json.loads``."""
    import aiohttp

    base = p["base_url"]
    connector = aiohttp.TCPConnector(limit=p["width"])
    async with aiohttp.ClientSession(connector=connector, headers={"X-Api-Key": p["api_key"]}) as session:

        async def call(pod_id: int) -> object:
            async with session.get(f"{base}/v2/pods/{pod_id}") as resp:
                body = json.loads(await resp.read())
            if body["code"] != 10000:
                raise RuntimeError(body)
            return body["data"]

        return await _timed(p, call)


@scenario("httpx")
async def get_httpx(p: Params) -> dict[str, Any]:
    """httpx as its docs recommend: one long-lived ``AsyncClient``, a pool of the same width.

    httpx is known to spend much more CPU per request than aiohttp under concurrency
    (encode/httpx#3215); that is its real cost, not a handicap added here.
    """
    import httpx

    limits = httpx.Limits(max_connections=p["width"], max_keepalive_connections=p["width"])
    headers = {"X-Api-Key": p["api_key"]}
    async with httpx.AsyncClient(base_url=p["base_url"], headers=headers, limits=limits) as client:

        async def call(pod_id: int) -> object:
            body = (await client.get(f"/v2/pods/{pod_id}")).json()
            if body["code"] != 10000:
                raise RuntimeError(body)
            return body["data"]

        return await _timed(p, call)


@scenario("aiohttp")
async def list_aiohttp(p: Params) -> dict[str, Any]:
    """Raw aiohttp listing every pod ``count`` times: the simulator's list throughput."""
    import aiohttp

    async with aiohttp.ClientSession(headers={"X-Api-Key": p["api_key"]}) as session:

        async def call(_: int) -> object:
            async with session.get(p["base_url"] + "/v2/pods") as resp:
                return await resp.read()

        return await _timed({**p, "ids": list(range(p["count"])), "warm": [0] * p["width"]}, call)


# -- 3. waiting, 4. bulk, 5. memory ----------------------------------------------------------
def _sdk_client(p: Params) -> Any:
    """A client whose watcher keeps the default policy's proportions in simulated time."""
    import dataclasses

    from yotta_async import WatchPolicy, YottaClient

    client = YottaClient(p["api_key"], p["base_url"])
    policy, fixed, s = WatchPolicy(), p.get("interval"), p["scale"]
    floor, maximum = (fixed, fixed) if fixed else (policy.floor, policy.maximum)
    client.pods.watch_policy = dataclasses.replace(policy, floor=floor * s, maximum=maximum * s)
    return client


@scenario(*SDK)
async def wait_sdk(p: Params) -> dict[str, Any]:
    """yotta-async ``wait_all``: one shared watcher lists all pods per tick."""
    async with _sdk_client(p) as client:
        mark = _start()
        pods = await client.pods.wait_all(p["ids"], timeout=600 * p["scale"])
        assert all(pod.status == "RUNNING" for pod in pods)
        return _since(mark)


@scenario(*SDK)
async def wait_naive(p: Params) -> dict[str, Any]:
    """Naive: one coroutine per pod, ``pods.get`` then sleep ``interval``, until RUNNING."""
    async with _sdk_client(p) as client:
        interval = p["interval"] * p["scale"]

        async def poll(pod_id: int) -> None:
            # Sleep-polling is the point: this is the naive pattern being measured.
            while (await client.pods.get(pod_id)).status != "RUNNING":  # noqa: ASYNC110
                await asyncio.sleep(interval)

        mark = _start()
        await asyncio.gather(*(poll(pod_id) for pod_id in p["ids"]))
        return _since(mark)


def _yottaml_wait(api: Any, ids: list[int], done: Callable[[dict[str, Any]], bool], every: float) -> None:
    """The provider's lifecycle-script pattern: ``get_pod`` each pending pod, every ``every`` s."""
    pending = list(ids)
    while pending:
        sweep = time.monotonic()
        pending = [pid for pid in pending if not done(api.get_pod(str(pid)))]
        if pending:
            time.sleep(max(0.0, every - (time.monotonic() - sweep)))


def _running(reply: dict[str, Any]) -> bool:
    return reply["code"] == 10000 and reply["data"]["status"] == "RUNNING"


def _terminated(reply: dict[str, Any]) -> bool:
    return reply["code"] == 13000 or (reply["code"] == 10000 and reply["data"]["status"] == "TERMINATED")


@scenario(*YOTTAML)
async def wait_yottaml(p: Params) -> dict[str, Any]:
    """The official sync SDK as documented: ``PodApi.get_pod`` per pod, every 10 s."""
    from yottaml.pod import PodApi

    api = PodApi(api_key=p["api_key"], base_url=p["base_url"])
    mark = _start()
    _yottaml_wait(api, p["ids"], _running, 10 * p["scale"])
    return _since(mark)


IMAGE, GPU = "nvidia/cuda:12.1.0-base-ubuntu22.04", "NVIDIA_H100_80G"


@scenario(*SDK)
async def bulk_sdk(p: Params) -> dict[str, Any]:
    """yotta-async: ``group.launch(count=n, wait=True)``; the group deletes and awaits TERMINATED."""
    async with _sdk_client(p) as client:
        mark = _start()
        async with client.pods.group(on_exit="delete", concurrency=p["width"]) as group:
            pods = await group.launch(
                name="bench",
                image=IMAGE,
                gpu_type=GPU,
                gpu_count=1,
                count=p["count"],
                timeout=600 * p["scale"],
            )
            assert len(pods) == p["count"]
        return _since(mark)


@scenario(*YOTTAML, "concurrent.futures")
async def bulk_yottaml(p: Params) -> dict[str, Any]:
    """The official sync SDK with a thread pool of the same width, each phase mapped over it.

    One ``PodApi`` per thread: yottaml documents no thread-safety for its ``requests.Session``,
    and a per-thread session also keeps every thread's connection alive (no pool-size cap).
    Waits follow the provider's lifecycle script: ``get_pod`` every 10 s.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from yottaml.pod import PodApi

    local = threading.local()
    every = 10 * p["scale"]

    def api() -> PodApi:
        if not hasattr(local, "api"):
            local.api = PodApi(api_key=p["api_key"], base_url=p["base_url"])
        return local.api

    def create(i: int) -> int:
        reply = api().new_pod(image=IMAGE, gpu_type=GPU, gpu_count=1, name=f"bench-{i}")
        return int(reply["data"]["id"])

    def until(done: Callable[[dict[str, Any]], bool]) -> Callable[[int], None]:
        return lambda pid: _yottaml_wait(api(), [pid], done, every)

    mark = _start()
    with ThreadPoolExecutor(p["width"]) as pool:
        ids = list(pool.map(create, range(p["count"])))
        list(pool.map(until(_running), ids))
        list(pool.map(lambda pid: api().delete_pod(str(pid)), ids))
        list(pool.map(until(_terminated), ids))
    return _since(mark)


def _rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _peak_rss() -> int:
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a child
    # forked from a big parent would report the parent's size as its own peak.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB; not Linux


@scenario(*SDK)
async def memory_sdk(p: Params) -> dict[str, Any]:
    """Peak RSS while ``wait_all`` watches ``len(ids)`` pods to RUNNING."""
    async with _sdk_client(p) as client:
        await client.pods.list(statuses=["FAILED"])  # open the connection, warm the decoders
        base = _rss_now()
        mark = _start()
        pods = await client.pods.wait_all(p["ids"], timeout=600 * p["scale"])
        assert len(pods) == len(p["ids"])
        return _since(mark, base=base, peak=_peak_rss())


@scenario(*SDK, "tracemalloc")
async def memory_retained(p: Params) -> dict[str, Any]:
    """Bytes the client keeps per waiting pod between ticks, once the wait is steady.

    The pods stay RUNNING while ``wait_all`` waits for TERMINATED, so every pod stays
    waited on. Python's heap (``tracemalloc``) is sampled every few milliseconds from the
    third tick to the ``ticks``-th; the lowest sample is the memory held between ticks (no
    list body in flight).
    """
    import tracemalloc

    async with _sdk_client(p) as client:
        await client.pods.list(statuses=["FAILED"])  # open the connection, warm the decoders
        watcher = client.pods.waits.watcher
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        wait = asyncio.ensure_future(
            client.pods.wait_all(p["ids"], until="TERMINATED", timeout=600 * p["scale"])
        )
        low = None
        while watcher.ticks < p["ticks"] and not wait.done():
            await asyncio.sleep(0.002)
            if watcher.ticks >= 3:
                now = tracemalloc.get_traced_memory()[0]
                low = now if low is None else min(low, now)
        tracemalloc.stop()
        assert not wait.done(), "the pods settled: nothing left to measure"
        wait.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await wait
        assert low is not None
        return {"retained": low - base, "ticks": watcher.ticks}


@scenario("aiohttp")
async def memory_dicts(p: Params) -> dict[str, Any]:
    """Reference: one ``GET /v2/pods`` of the same pods kept as ``json.loads`` dicts."""
    import aiohttp

    async with aiohttp.ClientSession(headers={"X-Api-Key": p["api_key"]}) as session:
        async with session.get(p["base_url"] + "/v2/pods", params={"statusList": "FAILED"}) as resp:
            await resp.read()
        base = _rss_now()
        mark = _start()
        async with session.get(p["base_url"] + "/v2/pods") as resp:
            pods = json.loads(await resp.read())["data"]
        assert len(pods) == len(p["ids"])
        return _since(mark, base=base, peak=_peak_rss())


def main() -> int:
    name = sys.argv[1]
    for module in PRELOAD[name]:
        importlib.import_module(module)  # import before "ready": start-up is not measured
    print("ready", flush=True)
    params = json.loads(sys.stdin.readline() or "{}")
    result = asyncio.run(SCENARIOS[name](params))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
