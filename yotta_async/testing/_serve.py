"""Serve the simulator as a process: ``python -m yotta_async.testing`` / ``yotta-async simulate``."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import sys
from collections.abc import Sequence

from ._faults import FaultPlan, FaultRule
from ._render import PRICE_FORMATS
from ._simulator import Simulator

__all__ = ["add_arguments", "capacity", "main", "port_health", "serve"]


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
        "--price-format", choices=PRICE_FORMATS, default="number",
        help="send prices as JSON numbers (default) or as decimal strings such as \"2.49\"",
    )
    parser.add_argument(
        "--fault", dest="faults", action="append", default=[], type=_fault, metavar="KIND=P",
        help="inject a fault on every route with probability P: 500, 502, 429, reset, "
        "lost_reset or lost_500 (repeatable; seeded by --seed)",
    )
    parser.add_argument(
        "--capacity", type=capacity, action="append", default=None, metavar="TYPE@REGION=N",
        help="offer only N GPUs of TYPE in REGION (repeatable; a type given here exists only in "
             "the regions given), e.g. NVIDIA_H100_80G@us-east-1=5",
    )
    parser.add_argument(
        "--over-capacity", choices=("fail", "refuse"), default="fail",
        help="a create beyond capacity: the pod goes FAILED (default), or the create is refused "
             "with code 24000",
    )
    parser.add_argument(
        "--port-health", type=port_health, default=None, metavar="SPEC",
        help="seconds after RUNNING before exposed ports turn healthy, per container port or "
             "protocol, e.g. '22=5,http=30,8888=never'",
    )
    parser.add_argument(
        "--protocol-case", choices=("upper", "lower"), default=None,
        help="write expose[].protocol in this case (default: as the create sent it)",
    )
    parser.add_argument(
        "--report-requests", action="store_true",
        help="on exit, print the requests served per route as one JSON line on stderr",
    )
    parser.add_argument(
        "--loopback-ports", action="store_true",
        help="back every exposed port with a real socket on 127.0.0.1 (for TCP probes)",
    )


_FAULT_FIELDS = {
    "500": "error_500", "502": "error_502", "429": "rate_limit", "reset": "reset",
    "lost_reset": "lost_reset", "lost_500": "lost_500",
}


def _fault(text: str) -> tuple[str, float]:
    kind, _, value = text.partition("=")
    try:
        probability = float(value)
    except ValueError:
        probability = -1.0
    if kind not in _FAULT_FIELDS or not 0.0 <= probability <= 1.0:
        raise argparse.ArgumentTypeError(
            f"expected KIND=P with KIND one of {', '.join(_FAULT_FIELDS)} and 0 <= P <= 1, got {text!r}"
        )
    return _FAULT_FIELDS[kind], probability


def fault_plan(faults: Sequence[tuple[str, float]], seed: int) -> FaultPlan | None:
    """The ``--fault`` options as one rule for every route (``None`` when there are none).

    429s come with ``Retry-After: 0.05`` so a client under test is slowed, not stalled.
    """
    if not faults:
        return None
    try:
        rule = FaultRule(retry_after=0.05, **dict(faults))  # type: ignore[arg-type]
    except ValueError as exc:
        raise SystemExit(f"--fault: {exc}") from None
    return FaultPlan({"*": rule}, seed=seed)


def capacity(text: str) -> tuple[tuple[str, str], int]:
    """``--capacity``: ``"NVIDIA_H100_80G@us-east-1=5"`` as ``(("NVIDIA_H100_80G", "us-east-1"), 5)``."""
    where, sep, count = text.partition("=")
    gpu_type, at, region = where.strip().partition("@")
    if not sep or not at or not gpu_type or not region or not count.strip().isdigit():
        raise argparse.ArgumentTypeError(
            f"invalid capacity {text!r}: use TYPE@REGION=N, e.g. NVIDIA_H100_80G@us-east-1=5"
        )
    return (gpu_type.strip(), region.strip()), int(count)


def port_health(text: str) -> dict[int | str, float]:
    """``--port-health``: ``"22=5,http=30,ssh=never"`` as ``{22: 5.0, "http": 30.0, "ssh": inf}``."""
    out: dict[int | str, float] = {}
    for part in text.split(","):
        key, sep, value = part.strip().partition("=")
        key, value = key.strip(), value.strip().lower()
        try:
            seconds = math.inf if value in ("never", "inf") else float(value)
        except ValueError:
            seconds = -1.0
        if not sep or not key or not seconds >= 0:
            raise argparse.ArgumentTypeError(
                f"invalid port health {part.strip()!r}: use PORT_OR_PROTOCOL=SECONDS or =never"
            )
        out[int(key) if key.isdigit() else key] = seconds
    return out


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
        faults=fault_plan(getattr(args, "faults", ()), args.seed),
        price_format=getattr(args, "price_format", "number"),
        capacity=dict(args.capacity) if args.capacity else None,
        over_capacity=args.over_capacity,
        port_health=args.port_health,
        protocol_case=args.protocol_case,
        loopback_ports=args.loopback_ports,
    )
    try:
        async with sim:
            print(sim.base_url, flush=True)
            if api_key is None:
                # A generated key must reach the user somehow; stderr keeps stdout one line.
                print(f"api key: {sim.api_key}", file=sys.stderr, flush=True)
            await stop.wait()
            if args.report_requests:
                counts = json.dumps(dict(sorted(sim.request_counts.items())))
                print(f"requests: {counts}", file=sys.stderr, flush=True)
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
