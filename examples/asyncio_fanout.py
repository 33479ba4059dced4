"""Bulk-launch GPU pods from plain asyncio: a group, progress as each pod runs, guaranteed cleanup.

    export YOTTA_API_KEY=...                      # or try it offline:
    python examples/asyncio_fanout.py --count 16  # python examples/asyncio_fanout.py --simulate

The pods live in a ``client.pods.group(on_exit="delete")``: whatever happens inside the block
(an error, Ctrl-C, a pod that fails), every pod it created is deleted on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator

from yotta_async import PodCreateRequest, YottaClient
from yotta_async.testing import Simulator

log = logging.getLogger("fanout")


async def fan_out(client: YottaClient, count: int, *, timeout: float = 900) -> list[str]:
    """Launch ``count`` pods, log each one as it reaches RUNNING, do the work, clean up."""
    request = PodCreateRequest(name="fanout", image="nvidia/cuda:12.1.0-base-ubuntu22.04",
                               gpu_type="NVIDIA_H100_80G", gpu_count=1)
    started = time.monotonic()
    async with client.pods.group(on_exit="delete") as group:
        pods = await group.launch(request, count=count, wait=False)
        log.info("created %d pods; waiting for them to run", len(pods))
        running = []
        async for pod in client.pods.as_completed([p.id for p in pods], timeout=timeout):
            running.append(pod)
            log.info("[%d/%d] pod %d (%s) is RUNNING after %.1fs", len(running), count, pod.id, pod.name,
                     time.monotonic() - started)
        results = await asyncio.gather(*(work(pod.id, pod.ssh_cmd) for pod in running))
        log.info("work done on %d pods; deleting them", len(results))
    log.info("all %d pods deleted; total %.1fs", count, time.monotonic() - started)
    return results


async def work(pod_id: int, ssh_cmd: str | None) -> str:
    """Stand-in for the real job (for example, ``asyncssh`` to ``ssh_cmd`` and run a command)."""
    await asyncio.sleep(0)
    return f"{pod_id}: {ssh_cmd or 'no ssh yet'}"


@contextlib.asynccontextmanager
async def connect(simulate: bool) -> AsyncIterator[YottaClient]:
    """A client for the real API (key from ``YOTTA_API_KEY``), or for an embedded simulator."""
    if not simulate:
        async with YottaClient() as client:
            yield client
        return
    logging.getLogger("yotta_async.testing.access").setLevel(logging.WARNING)  # no request log
    async with Simulator(time_scale=0.02) as sim, YottaClient(sim.api_key, sim.base_url) as client:
        client.pods.watch_policy = dataclasses.replace(client.pods.watch_policy, floor=0.1, maximum=0.5)
        yield client
        log.info("simulator: %d pods still live", sim.live_pods())


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--simulate", action="store_true", help="use an embedded simulator, not the API")
    args = parser.parse_args(argv)
    async with connect(args.simulate) as client:
        for line in await fan_out(client, args.count):
            print(line)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    raise SystemExit(asyncio.run(main()))
