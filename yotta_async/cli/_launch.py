"""``yotta-async launch``: N pods through a pod group, live progress, cleanup on Ctrl-C or error."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

from ..models import PodStatus
from ..models.status import PAUSE_SETTLED
from ._context import Context
from ._progress import Tracker, live_display
from ._spec import build_request

if TYPE_CHECKING:
    from .._group import PodGroup
    from ..models import Pod
    from ..resources.pods import Pods

__all__ = ["launch"]

log = logging.getLogger("yotta_async.cli")

# What "done" means for each cleanup policy, for the summary line.
_DONE = {"delete": frozenset({PodStatus.TERMINATED}), "pause": PAUSE_SETTLED}
_PAST = {"delete": "deleted", "pause": "paused"}


async def launch(ctx: Context) -> int:
    """Create ``--count`` pods in a group; ``--wait`` for RUNNING; then keep, pause or delete.

    An error or Ctrl-C at any point deletes every pod the group created (the group's
    ``on_error="delete"``) and the summary says what was cleaned up.
    """
    args, out, pods = ctx.args, ctx.out, ctx.client.pods
    request = build_request(args, simulate=ctx.simulate)
    options: dict[str, Any] = {
        "on_exit": args.then, "on_error": "delete", "cleanup_timeout": args.cleanup_timeout,
    }
    if args.concurrency is not None:
        options["concurrency"] = args.concurrency
    group = pods.group(**options)
    tracker = Tracker(count=args.count, name=request.name, label=group.label, group=group)
    follower = asyncio.ensure_future(tracker.follow(pods))
    outcome: BaseException | None = None
    running: list[Pod] | None = None
    try:
        with live_display(out, tracker):
            try:
                async with group:
                    try:
                        tracker.phase("creating")
                        await group.launch(request, count=args.count, wait=False)
                        if args.wait:
                            tracker.phase("waiting for RUNNING")
                            running = await pods.wait_all(group.ids, timeout=args.timeout)
                            tracker.observe(running)
                        tracker.phase(_closing(args.then))
                    except BaseException as exc:
                        outcome = exc
                        tracker.phase("cleaning up (deleting every pod created)")
                        raise
            finally:
                tracker.phase("done")
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        if running is None or args.then != "keep" or outcome is not None:
            running = await _final(pods, group, tracker)
        _report(ctx, group, outcome, running)
    return 0


async def _final(pods: Pods, group: PodGroup, tracker: Tracker) -> list[Pod]:
    """Each group pod as one last listing shows it; a pod the API has forgotten is TERMINATED.

    (The API drops TERMINATED pods after a while, and the SDK's own waiters count a pod
    that is gone as terminated: its last known snapshot is shown with that status.)
    """
    from ..errors import YottaError

    known = tracker.snapshots()
    try:
        listed = {p.id: p for p in await pods.list()}
    except YottaError as exc:  # the report falls back to what was last seen
        log.debug("final listing failed: %r", exc)
        return list(known.values())
    return [listed.get(pid) or _gone(pod) for pid, pod in known.items()]


def _gone(pod: Pod) -> Pod:
    import msgspec

    return msgspec.structs.replace(pod, status=PodStatus.TERMINATED)


def _closing(then: str) -> str:
    return {"keep": "keeping the pods", "pause": "pausing", "delete": "deleting"}[then]


def _report(ctx: Context, group: PodGroup, outcome: BaseException | None, pods: list[Pod]) -> None:
    """One document on stdout (the pods' last snapshots) and a summary of the cleanup."""
    out, then = ctx.out, ctx.args.then
    out.pods(pods)
    statuses = Counter(p.status for p in pods)
    if outcome is None:
        if then == "keep":
            out.info(f"launched {len(pods)} pod(s) in group {group.label}; they keep running "
                     f"(clean up later with: yotta-async sweep --group {group.label})")
            return
        policy = then
        why = f"--then {then}"
    else:
        policy = "delete"
        interrupted = isinstance(outcome, (asyncio.CancelledError, KeyboardInterrupt))
        why = "cleanup after Ctrl-C" if interrupted else "cleanup after the error"
    done = sum(n for s, n in statuses.items() if s in _DONE[policy])
    left = [str(p.id) for p in pods if p.status not in _DONE[policy]]
    text = f"{why}: {_PAST[policy]} {done} of {len(pods)} pod(s)"
    if left:
        text += f"; not confirmed for {', '.join(left[:10])}{' ...' if len(left) > 10 else ''}"
        text += f" (finish with: yotta-async sweep --group {group.label})"
    out.info(text)
