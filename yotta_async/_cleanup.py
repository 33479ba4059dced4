"""A group's cleanup: list, act on every pod carrying the group's tokens, poll until done.

:class:`~yotta_async.PodGroup` registers each create as an :class:`Entry` before sending it;
when its block ends it hands the entries to :func:`run_to_end`, which runs one
:class:`Cleanup` in its own task so that no cancellation can cut it short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import anyio

from ._ops import PodOps, map_concurrently
from ._token import matching, token_of
from .errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidStateError,
    PermissionDeniedError,
    PodNotFoundError,
    WaitTimeoutError,
    YottaError,
)
from .models import Pod, PodStatus
from .models.status import PAUSE_SETTLED

if TYPE_CHECKING:
    from ._group import OnExit

__all__ = ["HOPELESS", "Cleanup", "Entry", "describe_failures", "run_to_end"]

S = PodStatus

# Errors no retry can cure: cleanup reports them at once instead of at cleanup_timeout.
HOPELESS = (AuthenticationError, PermissionDeniedError, ConfigurationError)

@dataclass(eq=False)
class Entry:
    """One create made through the group, registered before its request is sent."""

    token: str
    state: Literal["sending", "created", "failed", "unknown"] = "sending"
    pod: Pod | None = None



class Cleanup:
    """One cleanup pass: list, act on every pod carrying the group's tokens, poll until done."""

    def __init__(
        self,
        pods: PodOps,
        entries: list[Entry],
        policy: OnExit,
        concurrency: int,
        timeout: float,
        refresh: Callable[[list[Pod]], None],
    ) -> None:
        self.pods = pods
        self.policy = policy
        self.entries = entries
        self.concurrency = concurrency
        self.timeout = timeout
        self.refresh = refresh
        self.tokens = frozenset(e.token for e in self.entries)
        self.seen: dict[int, Pod] = {}  # every pod found with our tokens, latest snapshot
        self.gone: set[int] = set()
        self.errors: dict[int, YottaError] = {}
        self.list_error: YottaError | None = None

    async def run(self) -> dict[int | None, BaseException]:
        runtime = self.pods.runtime
        with anyio.move_on_after(self.timeout):
            start = runtime.clock()
            quiet = 0
            while True:
                pending = await self._round()
                if pending is not None and not pending and not self._unsettled(start):
                    self.refresh(list(self.seen.values()))
                    return {}
                if isinstance(self.list_error, HOPELESS):
                    break  # a revoked key or a closed client will not mend by waiting
                await runtime.sleep(self.pods.watch_policy.interval(quiet, runtime.rng))
                quiet += 1
        self.refresh(list(self.seen.values()))
        return self._failures()

    def _verdict(self, status: PodStatus) -> Literal["done", "act", "wait"]:
        if self.policy == "delete":
            if status is S.TERMINATED:
                return "done"
            return "wait" if status is S.TERMINATING else "act"
        if status in PAUSE_SETTLED:
            return "done"
        return "act" if status is S.RUNNING else "wait"

    async def _round(self) -> list[Pod] | None:
        """Look once and act; the pods not yet done, or None if the listing failed."""
        try:
            listed = await self.pods.list()
        except YottaError as exc:
            self.list_error = exc
            return None
        self.list_error = None
        mine = {p.id: p for p in matching(listed, self.tokens)}
        known = {e.pod.id: e.pod for e in self.entries if e.pod is not None} | self.seen
        # A known pod missing from a listing may be gone, or the listing may lag: ask,
        # unless it was already seen in its final state (then it has just aged out).
        finished = {pid for pid, p in self.seen.items() if self._verdict(p.status) == "done"}
        missing = sorted(known.keys() - set(mine) - self.gone - finished)
        got = await map_concurrently(self.pods.get, missing, self.concurrency)
        for pid, outcome in zip(missing, got, strict=True):
            if isinstance(outcome, PodNotFoundError):
                self.gone.add(pid)
            elif isinstance(outcome, Pod):
                mine[pid] = outcome
            elif isinstance(outcome, YottaError):
                # Unconfirmed: keep it in play (acted on, pending, reported) on its last snapshot.
                self.errors[pid] = outcome
                mine[pid] = known[pid]
        self.seen.update(mine)
        todo = [p for p in mine.values() if self._verdict(p.status) == "act"]
        action = self.pods.delete if self.policy == "delete" else self.pods.pause
        acted = await map_concurrently(action, [p.id for p in todo], self.concurrency)
        for pod, result in zip(todo, acted, strict=True):
            if isinstance(result, PodNotFoundError):
                self.gone.add(pod.id)
            elif result is None or isinstance(result, InvalidStateError):
                self.errors.pop(pod.id, None)  # accepted, or its state moved on: look again
            else:
                self.errors[pod.id] = result
        return [p for pid, p in mine.items() if pid not in self.gone and self._verdict(p.status) != "done"]

    def _unsettled(self, start: float) -> bool:
        """Whether a create may still produce a pod we have not seen yet."""
        found = {token_of(p) for p in self.seen.values()}
        for entry in self.entries:
            if entry.state == "sending":
                return True  # still in flight (sent from outside the block): wait for it
            if (entry.state == "unknown" and entry.token not in found
                    and self.pods.runtime.clock() - start < self.pods.reconcile_settle):
                return True
        return False

    def _failures(self) -> dict[int | None, BaseException]:
        out: dict[int | None, BaseException] = {}
        timeout = self.timeout
        for pid, pod in self.seen.items():
            if pid in self.gone or self._verdict(pod.status) == "done":
                continue
            out[pid] = self.errors.get(pid) or WaitTimeoutError(
                f"pod {pid} was still {pod.status} when cleanup_timeout ({timeout:g}s) ran out",
                pod_id=pid, pod=pod, elapsed=timeout,
            )
        found = {token_of(p) for p in self.seen.values()}
        unknown = [e.token for e in self.entries
                   if e.state in ("sending", "unknown") and e.token not in found]
        if unknown or self.list_error is not None:
            reason = self.list_error or YottaError(
                f"{len(unknown)} create(s) whose outcome is unknown never showed up "
                f"(tokens {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''})"
            )
            out[None] = reason
        return out


async def run_to_end(cleanup: Cleanup) -> tuple[dict[int | None, BaseException], BaseException | None]:
    """Run ``cleanup`` to the end (or its deadline), whatever cancels this task meanwhile.

    Returns the failures and the cancellation that arrived meanwhile (held back until now).
    The anyio shield stops cancel scopes; a second native ``Task.cancel()`` gets through an
    anyio shield, so cleanup runs in its own task and such cancels are held back.
    """
    job = asyncio.ensure_future(cleanup.run())
    interrupted: BaseException | None = None
    with anyio.CancelScope(shield=True):
        while True:
            try:
                return await asyncio.shield(job), interrupted
            except asyncio.CancelledError as exc:
                if job.done():
                    raise
                interrupted = exc
    raise AssertionError("unreachable")  # pragma: no cover


def describe_failures(failures: dict[int | None, BaseException], policy: OnExit, label: str) -> str:
    """The ``CleanupError`` message: what could not be done, and how ``sweep`` can finish it."""
    verb = "delete" if policy == "delete" else "pause"
    ids = [str(k) for k in failures if k is not None][:10]
    parts = [f"group {label!r} could not {verb} every pod it created"]
    if ids:
        parts.append(f"pods {', '.join(ids)}{' ...' if len(failures) > 10 else ''}")
    if None in failures:
        parts.append(f"unresolved creates: {failures[None]}")
    return "; ".join(parts) + " (client.pods.sweep(group=...) can finish the job)"
