"""``yotta-async sweep``: find (and delete) pods that crashed runs left behind."""

from __future__ import annotations

from typing import Any

from ._config import UsageError
from ._context import Context, api_fields
from ._output import ActionResult

__all__ = ["sweep"]


def criteria(args: Any) -> dict[str, Any]:
    """The ``client.pods.sweep`` filters the flags ask for."""
    out: dict[str, Any] = {
        "group": args.group, "older_than": args.older_than, "include_ungrouped": args.include_ungrouped,
        "all": args.sweep_all,
    }
    if args.expired:
        out.update(expired=True, grace=args.grace, on_expire=args.on_expire)
    elif args.grace is not None or args.on_expire is not None:
        raise UsageError("--grace and --on-expire apply only with --expired")
    return out


async def sweep(ctx: Context) -> int:
    """Delete orphaned group pods (``client.pods.sweep``); ``--dry-run`` only lists them.

    ``--expired`` selects pods whose expiry stamp has passed instead; ``--every S`` keeps
    sweeping as a reaper (see ``_reaper``).
    """
    args = ctx.args
    if args.every is not None:
        return await reap(ctx)
    _check_criteria(args)
    result = await ctx.client.pods.sweep(
        dry_run=args.dry_run,
        wait=args.wait,
        now=ctx.now() if ctx.now is not None else None,
        **criteria(args),
    )
    out = ctx.out
    if out.json:
        await api_fields(ctx)
        out.emit_json(_document(result, out))
    elif result.found:
        out.pods(result.found)
    what = "expired" if args.expired else "orphaned"
    if not result.found:
        out.info(f"no {what} pods found")
    elif result.dry_run:
        verb = "delete (or pause, as stamped)" if args.expired else "delete"
        out.info(f"dry run: would {verb} {len(result.found)} pod(s); run again without --dry-run")
    else:
        paused = f", paused {len(result.paused)}" if result.paused else ""
        out.info(f"deleted {len(result.deleted)}{paused} of {len(result.found)} {what} pod(s)")
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


async def reap(ctx: Context) -> int:
    """``sweep --every S``: sweep until SIGINT/SIGTERM, then exit 0 (see :class:`Reaper`)."""
    import asyncio

    from ._reaper import Reaper

    args, out = ctx.args, ctx.out
    if args.dry_run or args.wait:
        raise UsageError("--every cannot be combined with --dry-run or --wait")
    # A reaper deletes for as long as it runs: it must be told what, explicitly.
    _check_criteria(args)
    stop = ctx.stop if ctx.stop is not None else asyncio.Event()
    reaper = Reaper(
        ctx.client.pods, every=args.every, criteria=criteria(args), say=out.line, stop=stop, now=ctx.now,
    )
    what = "expired" if args.expired else "orphaned"
    out.line(f"reaper: sweeping {what} pods every {args.every:g}s; SIGINT or SIGTERM stops it")
    stats = await reaper.run()
    out.line(f"reaper: stopped after {stats.rounds} round(s): deleted {len(stats.deleted)}, "
             f"paused {len(stats.paused)}, {stats.failures} failure(s) retried")
    return 0


def _document(result: Any, out: Any) -> dict[str, Any]:
    return {
        "dryRun": result.dry_run,
        "found": [out.as_sent(p) for p in result.found],
        "deleted": result.deleted,
        "paused": result.paused,
        "errors": [ActionResult(pid, exc).to_json() for pid, exc in result.errors.items()],
    }
