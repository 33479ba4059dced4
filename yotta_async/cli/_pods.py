"""The ``pods`` commands: list, get, create, pause, resume, delete and wait."""

from __future__ import annotations

from ._context import Context, Handler
from ._output import ActionResult
from ._spec import build_request

__all__ = ["HANDLERS", "Context", "handler_for"]


async def pods_list(ctx: Context) -> int:
    """``pods list``: every pod, filtered by ``--region`` / ``--status``."""
    pods = await ctx.client.pods.list(regions=ctx.args.regions, statuses=ctx.args.statuses)
    ctx.out.pods(pods)
    return 0


async def pods_get(ctx: Context) -> int:
    """``pods get ID``."""
    ctx.out.pod(await ctx.client.pods.get(ctx.args.id))
    return 0


async def pods_create(ctx: Context) -> int:
    """``pods create``: one pod from flags and/or ``--from-file``; ``--wait`` for RUNNING."""
    request = build_request(ctx.args, simulate=ctx.simulate)
    pod = await ctx.client.pods.create(request)
    if ctx.args.wait:
        ctx.out.info(f"created pod {pod.id}; waiting until it is RUNNING")
        pods = await ctx.client.pods.wait_all([pod.id], timeout=ctx.args.timeout)
        pod = pods[0]
    ctx.out.pod(pod)
    return 0


async def _each(ctx: Context, verb: str) -> int:
    # pause_many & co. send every request (concurrently) even if some fail: the table says which.
    many = {
        "pause": ctx.client.pods.pause_many,
        "resume": ctx.client.pods.resume_many,
        "delete": ctx.client.pods.delete_many,
    }[verb]
    ids = list(dict.fromkeys(ctx.args.ids))
    errors = await many(ids)
    results = [ActionResult(pid, err) for pid, err in zip(ids, errors, strict=True)]
    ctx.out.actions(verb, results)
    failed = [r for r in results if r.error is not None]
    if failed:
        ctx.out.error(f"{verb} failed for {len(failed)} of {len(results)} pod(s): "
                      + ", ".join(str(r.pod_id) for r in failed))
    return 1 if failed else 0


async def pods_pause(ctx: Context) -> int:
    """``pods pause ID ...``."""
    return await _each(ctx, "pause")


async def pods_resume(ctx: Context) -> int:
    """``pods resume ID ...``."""
    return await _each(ctx, "resume")


async def pods_delete(ctx: Context) -> int:
    """``pods delete ID ...``."""
    return await _each(ctx, "delete")


async def pods_wait(ctx: Context) -> int:
    """``pods wait ID ... --until STATE``: the pods once all are there, in the order given."""
    from ..models import PodStatus

    until = PodStatus(ctx.args.until.upper())
    ids = list(dict.fromkeys(ctx.args.ids))
    ctx.out.info(f"waiting for {len(ids)} pod(s) to be {until.value}")
    pods = await ctx.client.pods.wait_all(ids, until=until, timeout=ctx.args.timeout)
    ctx.out.pods(pods)
    return 0


HANDLERS: dict[str, Handler] = {
    "pods list": pods_list,
    "pods get": pods_get,
    "pods create": pods_create,
    "pods pause": pods_pause,
    "pods resume": pods_resume,
    "pods delete": pods_delete,
    "pods wait": pods_wait,
}


def handler_for(command: str) -> Handler:
    """The handler of ``command`` (``"pods list"``, ``"launch"``, ``"sweep"``, ...).

    ``launch`` and ``sweep`` live in their own modules, imported only when they run.
    """
    if command in HANDLERS:
        return HANDLERS[command]
    if command == "sweep":
        from ._sweep import sweep

        return sweep
    from ._launch import launch

    return launch
