"""``yotta-async gpus``: where each GPU type is offered, and whether it is available now."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._resources_out import print_gpus

if TYPE_CHECKING:
    from ._context import Context

__all__ = ["add_commands", "gpus"]

Sub = Callable[..., argparse.ArgumentParser]


def add_commands(top: argparse._SubParsersAction[argparse.ArgumentParser], sub: Sub) -> None:
    """Add ``gpus`` to the top-level commands (``sub`` adds one command with the globals)."""
    p = sub(top, "gpus", "show GPU type x region availability (GET /v2/vms/types)")
    p.add_argument("--gpu-type", default=None, metavar="T", help="only this GPU type, e.g. NVIDIA_H100_80G")
    p.add_argument(
        "--region", dest="regions", action="append", metavar="R", help="only this region (repeatable)"
    )
    p.add_argument("--available", action="store_true", help="only placements reported available now")
    p.set_defaults(command="gpus")


async def gpus(ctx: Context) -> int:
    """``gpus``: the catalogue, filtered; available placements first within each type."""
    import msgspec

    from ..resources.gpu_types import matching

    args = ctx.args
    types = await ctx.client.gpu_types.list()
    if args.gpu_type is not None:
        types = matching(types, args.gpu_type)
    rank = {True: 0, None: 1, False: 2}
    shown = []
    for gpu in types:
        regions = [r for r in gpu.regions if not args.regions or r.region in args.regions]
        if args.available:
            regions = [r for r in regions if r.available]
        regions.sort(key=lambda r: rank[r.available])
        if regions:
            shown.append(msgspec.structs.replace(gpu, regions=regions))
    print_gpus(ctx.out, shown)
    return 0
