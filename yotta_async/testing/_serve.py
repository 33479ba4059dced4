"""Serve the simulator as a process: ``python -m yotta_async.testing`` / ``yotta-async simulate``."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence

from ._simulator import Simulator

__all__ = ["add_arguments", "main", "serve"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options to ``parser`` (shared with the CLI's ``simulate``)."""
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind; 0 picks a free one")
    parser.add_argument(
        "--api-key",
        default=None,
        help="key clients must send (default: $YOTTA_API_KEY, else a random key printed to stderr)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=0.05,
        help="multiplies every lifecycle duration (default 0.05: 20x faster than real)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for ids, jitter and failures")
    parser.add_argument("--failure-rate", type=float, default=0.0, help="fraction of pods that go FAILED")
    parser.add_argument(
        "--fail-image", default="yotta/always-fails", help="image whose pods always go FAILED"
    )
    parser.add_argument(
        "--capacity", action="append", default=[], type=_capacity, metavar="TYPE:REGION:GPUS",
        help="offer a GPU type in a region with this many GPUs (0: sold out); repeatable",
    )


def _capacity(text: str) -> tuple[str, str, int]:
    gpu, _, rest = text.partition(":")
    region, _, count = rest.partition(":")
    if not gpu or not region or not (count.isascii() and count.isdigit()):
        raise argparse.ArgumentTypeError(f"expected TYPE:REGION:GPUS, got {text!r}")
    return gpu, region, int(count)


async def serve(args: argparse.Namespace) -> int:
    """Run the simulator until SIGINT/SIGTERM; print the base URL first. Returns 0."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
            pass
    api_key = args.api_key or os.environ.get("YOTTA_API_KEY") or None
    sim = Simulator(
        api_key,
        args.host,
        args.port,
        time_scale=args.time_scale,
        seed=args.seed,
        failure_rate=args.failure_rate,
        fail_image=args.fail_image,
    )
    for gpu, region, count in getattr(args, "capacity", []):
        sim.set_capacity(gpu, region, count)
    try:
        async with sim:
            print(sim.base_url, flush=True)
            if api_key is None:
                # A generated key must reach the user somehow; stderr keeps stdout one line.
                print(f"api key: {sim.api_key}", file=sys.stderr, flush=True)
            await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and serve; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m yotta_async.testing",
        description="Serve the yotta-async Pods API v2 simulator over HTTP.",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:  # pragma: no cover - a signal before the handler was installed
        return 0
