"""``yotta-async launch``: N pods through a pod group, live progress, cleanup on Ctrl-C or error."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
from collections import Counter
from typing import TYPE_CHECKING, Any

from ..errors import PodFailedError
from ..models import PodStatus
from ..models.status import PAUSE_SETTLED
from ._context import Context, api_fields
from ._progress import Tracker, live_display
from ._spec import build_request, placements_of
from ._targets import wait_target

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
    """Create ``--count`` pods in a group; ``--wait`` for RUNNING (or READY); then keep,
    pause or delete.

    Repeated ``--gpu-type``/``--region`` make an ordered list of placements (their product)
    to fail over across; the progress shows each pod's placement and every failover, and
    the final table where each pod landed. An error or Ctrl-C at any point deletes every
    pod the group created (the group's ``on_error="delete"``) and the summary says what
    was cleaned up.
    """
    from ..models import Placement

    args, out, pods = ctx.args, ctx.out, ctx.client.pods
    request = build_request(args, simulate=ctx.simulate)
    pairs = placements_of(args, request.gpu_type)
    places = [Placement(t, r) for t, r in pairs] if pairs is not None else None
    until = wait_target(args.wait, args) if args.wait else None
    options: dict[str, Any] = {
        "on_exit": args.then, "on_error": "delete", "cleanup_timeout": args.cleanup_timeout,
    }
    if args.concurrency is not None:
        options["concurrency"] = args.concurrency
    if args.ttl is not None:
        options.update(ttl=args.ttl, on_expire=args.on_expire)
    if args.max_hourly_cost is not None:
        options["max_hourly_cost"] = args.max_hourly_cost
    group = pods.group(**options)
    ctx.leftovers.append(_finder(ctx, group.label))
    tracker = Tracker(count=args.count, name=request.name, label=group.label, group=group)
    follower = asyncio.ensure_future(tracker.follow(pods))
    outcome: BaseException | None = None
    running: list[Pod] | None = None
    try:
        with live_display(out, tracker):
            try:
                async with group:
                    try:
                        if places is not None:
                            out.info(f"placements, in order: {', '.join(str(p) for p in places)}")
                            waiting = f", waiting for {until}" if until is not None else ""
                            tracker.phase(f"launching across {len(places)} placements{waiting}")
                            landed = await group.launch(
                                request, count=args.count, wait=until if until is not None else False,
                                timeout=args.timeout, placements=places, on_failover=tracker.failover,
                            )
                            if until is not None:
                                running = landed
                                tracker.observe(running)
                        else:
                            tracker.phase("creating")
                            await group.launch(request, count=args.count, wait=False)
                            if until is not None:
                                tracker.phase(f"waiting for {until}")
                                try:
                                    running = await pods.wait_all(
                                        group.ids, until=until, timeout=args.timeout)
                                except PodFailedError as exc:  # say so if --ttl ended the pod
                                    explained = group.spend.explain(exc)
                                    if explained is exc:
                                        raise
                                    raise explained from exc
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
        await api_fields(ctx)
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


def _finder(ctx: Context, label: str) -> str:
    """The exact commands that list, then delete, what is left of group ``label``."""
    if ctx.simulate:
        return "simulated pods end with this process"
    args = ctx.args
    where = "".join(
        f" {flag} {shlex.quote(value)}"
        for flag, value in (("--profile", args.profile), ("--base-url", args.base_url)) if value
    )
    sweep = f"yotta-async{where} sweep --group {shlex.quote(label)}"
    return f"list them with: {sweep} --dry-run; delete them with: {sweep}"


def _closing(then: str) -> str:
    return {"keep": "keeping the pods", "pause": "pausing", "delete": "deleting"}[then]


def _report(ctx: Context, group: PodGroup, outcome: BaseException | None, pods: list[Pod]) -> None:
    """One document on stdout (the pods' last snapshots) and a summary of the cleanup."""
    out, then = ctx.out, ctx.args.then
    landed = group.landed
    if landed or group.attempts:
        out.pods(pods, placements={pid: str(place) for pid, place in landed.items()})
        where = Counter(str(place) for place in landed.values())
        summary = ", ".join(f"{n} on {place}" for place, n in where.items()) or "none"
        out.info(f"landed: {summary}; failed attempts: {len(group.attempts)}")
    else:
        out.pods(pods)
    statuses = Counter(p.status for p in pods)
    if outcome is None:
        if then == "keep":
            out.info(f"launched {len(pods)} pod(s) in group {group.label} at {_cost(group)}; they keep "
                     f"running (clean up later with: yotta-async sweep --group {group.label})")
            if ctx.args.ttl is not None:
                out.info(f"each expires {_duration(ctx.args.ttl)} after its create "
                         f"({ctx.args.on_expire} then): 'yotta-async sweep --expired' or a reaper "
                         "('yotta-async sweep --expired --every 60') applies it")
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


def _cost(group: PodGroup) -> str:
    from ._output import money

    return f"${money(group.hourly_cost)}/h"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size:g}{unit}"
    return f"{seconds:g}s"
