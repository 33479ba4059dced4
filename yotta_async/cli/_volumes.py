"""``yotta-async volumes``: persistent volumes: list, get, create, rename, resize, delete, wait."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._resources_out import print_volumes
from ._types import resource_id

if TYPE_CHECKING:
    from ._context import Context, Handler

__all__ = ["HANDLERS", "add_commands", "volume_id"]

Sub = Callable[..., argparse.ArgumentParser]
STORAGE_TYPES = ("CEPH", "S3", "R2", "VENDOR")


volume_id = resource_id("volume")
"""A volume id as argparse type: a positive int64."""


def _size(text: str) -> int:
    if not (text.strip().isascii() and text.strip().isdigit()) or not 1 <= int(text) <= 10240:
        raise argparse.ArgumentTypeError(f"expected a size in GB from 1 to 10240, got {text[:20]!r}")
    return int(text)


def add_commands(
    top: argparse._SubParsersAction[argparse.ArgumentParser], sub: Sub, duration: Callable[[str], float]
) -> None:
    """Add ``volumes list|get|create|rename|resize|delete|wait`` (``duration``: the timeout type)."""
    group = top.add_parser("volumes", help="persistent volumes: create, list, resize, delete, wait")
    verbs = group.add_subparsers(dest="verb", metavar="VERB", required=True)
    p = sub(verbs, "list", "list volumes (every storage type unless --storage-type)")
    p.add_argument("--storage-type", type=str.upper, choices=STORAGE_TYPES, default=None)
    p.add_argument("--region", default=None, metavar="R")
    p.set_defaults(command="volumes list")
    p = sub(verbs, "get", "show one volume")
    p.add_argument("id", type=volume_id, metavar="ID")
    p.set_defaults(command="volumes get")
    p = sub(verbs, "create", "create a volume")
    p.add_argument("--name", required=True, metavar="N")
    p.add_argument("--storage-type", required=True, type=str.upper, choices=STORAGE_TYPES)
    p.add_argument("--region", default=None, metavar="R", help="required for CEPH and VENDOR")
    p.add_argument("--size-in-gb", type=_size, default=None, metavar="GB", help="1-10240; CEPH and VENDOR")
    p.add_argument("--vendor-volume-type", default=None, metavar="NVMe|HDD", help="VENDOR only")
    p.add_argument("--wait", action="store_true", help="wait until the volume is active")
    p.add_argument("--timeout", type=duration, default=None, metavar="S", help="with --wait: give up after S")
    p.set_defaults(command="volumes create")
    p = sub(verbs, "rename", "rename a volume")
    p.add_argument("id", type=volume_id, metavar="ID")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(command="volumes rename")
    p = sub(verbs, "resize", "resize a CEPH or VENDOR volume (unmounted, active)")
    p.add_argument("id", type=volume_id, metavar="ID")
    p.add_argument("size_in_gb", type=_size, metavar="GB")
    p.add_argument("--wait", action="store_true", help="wait until it is active again")
    p.add_argument("--timeout", type=duration, default=None, metavar="S", help="with --wait: give up after S")
    p.set_defaults(command="volumes resize")
    p = sub(verbs, "delete", "delete a volume (refused while mounted)")
    p.add_argument("id", type=volume_id, metavar="ID")
    p.add_argument("--wait", action="store_true", help="wait until it is gone")
    p.add_argument("--timeout", type=duration, default=None, metavar="S", help="with --wait: give up after S")
    p.set_defaults(command="volumes delete")
    p = sub(verbs, "wait", "wait until a volume is active, or deleted")
    p.add_argument("id", type=volume_id, metavar="ID")
    p.add_argument("--until", choices=("active", "deleted"), default="active", type=str.lower)
    p.add_argument("--timeout", type=duration, default=None, metavar="S", help="give up after S")
    p.set_defaults(command="volumes wait")


def _timeout(ctx: Context) -> float | None:
    return ctx.args.timeout  # type: ignore[no-any-return]


async def volumes_list(ctx: Context) -> int:
    """``volumes list [--storage-type T] [--region R]``: every page."""
    args = ctx.args
    print_volumes(ctx.out, await ctx.client.volumes.list(args.storage_type, args.region))
    return 0


async def volumes_get(ctx: Context) -> int:
    """``volumes get ID``."""
    print_volumes(ctx.out, [await ctx.client.volumes.get(ctx.args.id)], one=True)
    return 0


async def volumes_create(ctx: Context) -> int:
    """``volumes create --name N --storage-type T [--region R] [--size-in-gb GB] [--wait]``."""
    args = ctx.args
    vol = await ctx.client.volumes.create(
        name=args.name, storage_type=args.storage_type, region=args.region,
        size_in_gb=args.size_in_gb, vendor_volume_type=args.vendor_volume_type,
    )
    if args.wait:
        ctx.out.info(f"created volume {vol.id}; waiting until it is active")
        vol = await ctx.client.volumes.wait_until_active(vol.id, _timeout(ctx))
    print_volumes(ctx.out, [vol], one=True)
    return 0


async def volumes_rename(ctx: Context) -> int:
    """``volumes rename ID NAME``."""
    print_volumes(ctx.out, [await ctx.client.volumes.rename(ctx.args.id, ctx.args.name)], one=True)
    return 0


async def volumes_resize(ctx: Context) -> int:
    """``volumes resize ID GB [--wait]``."""
    await ctx.client.volumes.resize(ctx.args.id, ctx.args.size_in_gb)
    ctx.out.info(f"resize of volume {ctx.args.id} to {ctx.args.size_in_gb} GB started")
    if ctx.args.wait:
        vol = await ctx.client.volumes.wait_until_active(ctx.args.id, _timeout(ctx))
    else:
        vol = await ctx.client.volumes.get(ctx.args.id)
    print_volumes(ctx.out, [vol], one=True)
    return 0


async def volumes_delete(ctx: Context) -> int:
    """``volumes delete ID [--wait]``: exit 1 with the typed refusal while mounted."""
    await ctx.client.volumes.delete(ctx.args.id)
    if ctx.args.wait:
        await ctx.client.volumes.wait_until_deleted(ctx.args.id, _timeout(ctx))
    if ctx.out.json:
        ctx.out.emit_json({"id": ctx.args.id, "deleted": True})
    else:
        done = "deleted" if ctx.args.wait else "delete requested for"
        ctx.out.info(f"{done} volume {ctx.args.id}")
    return 0


async def volumes_wait(ctx: Context) -> int:
    """``volumes wait ID [--until active|deleted]``."""
    if ctx.args.until == "deleted":
        await ctx.client.volumes.wait_until_deleted(ctx.args.id, _timeout(ctx))
        if ctx.out.json:
            ctx.out.emit_json({"id": ctx.args.id, "deleted": True})
        else:
            ctx.out.info(f"volume {ctx.args.id} is gone")
        return 0
    volume = await ctx.client.volumes.wait_until_active(ctx.args.id, _timeout(ctx))
    print_volumes(ctx.out, [volume], one=True)
    return 0


HANDLERS: dict[str, Handler] = {
    "volumes list": volumes_list,
    "volumes get": volumes_get,
    "volumes create": volumes_create,
    "volumes rename": volumes_rename,
    "volumes resize": volumes_resize,
    "volumes delete": volumes_delete,
    "volumes wait": volumes_wait,
}
