"""``yotta-async sweep``: find (and delete) pods that crashed runs left behind."""

from __future__ import annotations

from typing import Any

from ._context import Context, api_fields
from ._output import ActionResult

__all__ = ["sweep"]


async def sweep(ctx: Context) -> int:
    """Delete orphaned group pods (``client.pods.sweep``); ``--dry-run`` only lists them."""
    args = ctx.args
    _check_criteria(args)
    result = await ctx.client.pods.sweep(
        group=args.group,
        older_than=args.older_than,
        all=args.sweep_all,
        dry_run=args.dry_run,
        include_ungrouped=args.include_ungrouped,
        wait=args.wait,
        now=ctx.now() if ctx.now is not None else None,
    )
    out = ctx.out
    if out.json:
        await api_fields(ctx)
        out.emit_json(_document(result, out))
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


def _check_criteria(args: Any) -> None:
    """Exit 2 (nothing sent) for a deleting sweep that names none of the SDK's criteria."""
    from .._bulk import SWEEP_CRITERIA, check_sweep_criteria
    from ..errors import ValidationError
    from ._config import UsageError

    given = {name: getattr(args, "sweep_all" if name == "all" else name, None) for name in SWEEP_CRITERIA}
    try:
        check_sweep_criteria(given, dry_run=args.dry_run)
    except ValidationError:
        flags = [f"--{name.replace('_', '-')}" for name in SWEEP_CRITERIA]
        raise UsageError(
            f"sweep: say which orphans to delete with {', '.join(flags[:-1])} or {flags[-1]} "
            "(--all: every orphan of any age, also pods kept with --then keep and pods of a launch "
            "still running in another process); run with --dry-run first to see what would be deleted"
        ) from None


def _document(result: Any, out: Any) -> dict[str, Any]:
    return {
        "dryRun": result.dry_run,
        "found": [out.as_sent(p) for p in result.found],
        "deleted": result.deleted,
        "errors": [ActionResult(pid, exc).to_json() for pid, exc in result.errors.items()],
    }
