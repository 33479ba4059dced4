"""``yotta-async sweep``: find (and delete) pods that crashed runs left behind."""

from __future__ import annotations

from typing import Any

from ._context import Context
from ._output import ActionResult

__all__ = ["sweep"]


async def sweep(ctx: Context) -> int:
    """Delete orphaned group pods (``client.pods.sweep``); ``--dry-run`` only lists them."""
    args = ctx.args
    result = await ctx.client.pods.sweep(
        group=args.group,
        older_than=args.older_than,
        dry_run=args.dry_run,
        include_ungrouped=args.include_ungrouped,
        wait=args.wait,
        now=ctx.now() if ctx.now is not None else None,
    )
    out = ctx.out
    if out.json:
        out.emit_json(_document(result))
    elif result.found:
        out.pods(result.found)
    if not result.found:
        out.info("no orphaned pods found")
    elif result.dry_run:
        out.info(f"dry run: would delete {len(result.found)} pod(s); run again without --dry-run")
    else:
        out.info(f"deleted {len(result.deleted)} of {len(result.found)} orphaned pod(s)")
    if result.errors:
        out.error(
            f"could not delete {len(result.errors)} pod(s): "
            + "; ".join(f"{pid}: {exc}" for pid, exc in result.errors.items())
        )
        return 1
    return 0


def _document(result: Any) -> dict[str, Any]:
    return {
        "dryRun": result.dry_run,
        "found": result.found,
        "deleted": result.deleted,
        "errors": [ActionResult(pid, exc).to_json() for pid, exc in result.errors.items()],
    }
