"""Bulk work over the pod operations: ``*_many`` helpers, pod groups and ``sweep``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Literal, TypeVar, overload

from ._expiry import OnExpire, check_grace, check_on_expire, sweep_action
from ._expiry import expired as is_expired
from ._group import OnExit, PodGroup
from ._ops import DEFAULT_CONCURRENCY, PodOps, check_concurrency, map_concurrently
from ._token import annotate, group_of, new_token, stamp, token_of
from ._validation import (
    PodId,
    check_ids,
    check_items,
    check_label,
    check_number,
    check_timeout,
)
from .errors import InvalidStateError, PodNotFoundError, ValidationError, YottaError
from .models import Pod, PodCreateRequest, PodStatus
from .models.request import check_create_request
from .models.status import LEAVING
from .waiting import TERMINATED

__all__ = ["SWEEP_CRITERIA", "PodBulk", "SweepResult", "check_sweep_criteria"]

A = TypeVar("A")
R = TypeVar("R")

# A sweep that deletes must be told which orphans: one of these (a new criterion is one more
# entry here, and then appears in the SDK's and the CLI's refusal alike).
SWEEP_CRITERIA: dict[str, str] = {
    "group": "group='LABEL'", "older_than": "older_than=SECONDS", "expired": "expired=True",
    "all": "all=True",
}


def check_sweep_criteria(given: dict[str, object], *, dry_run: bool) -> None:
    """Refuse a deleting sweep that names no criterion (``given`` maps criterion -> value).

    A dry run needs none: listing every orphan is harmless, and is the recommended first step.
    """
    if dry_run or any(_is_set(given.get(name)) for name in SWEEP_CRITERIA):
        return
    raise ValidationError(
        "sweep",
        f"say which orphans to delete: {_choices(list(SWEEP_CRITERIA.values()))} (all=True means every "
        "tokened orphan of any age, also pods kept on purpose and pods of a launch still running "
        "in another process); run with dry_run=True first to see what would be deleted",
    )


def _is_set(value: object) -> bool:
    # By identity: older_than=0 is a criterion, though 0 == False.
    return value is not None and value is not False


def _choices(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else items[0]


@dataclass
class SweepResult:
    """What ``client.pods.sweep`` found and did.

    ``found`` holds the orphans that matched (every one, also in a dry run); ``deleted`` the
    ids whose delete was accepted (or that were already on their way out); ``paused`` the
    expired pods paused instead (their stamp or ``on_expire`` said ``"pause"``); ``errors``
    maps the ids it could not delete or pause (or that did not reach TERMINATED / PAUSED
    when ``wait=True``) to why.
    """

    found: list[Pod] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    errors: dict[int, YottaError] = field(default_factory=dict)
    dry_run: bool = False
    # Under expired=True with the "pause" policy: the ids whose pause was accepted.
    paused: list[int] = field(default_factory=list)


class PodBulk:
    """``create_many``, ``pause_many``, ``resume_many``, ``delete_many``, ``group``, ``sweep``.

    Built on the public pod operations (:class:`~yotta_async._ops.PodOps`) only; the
    pods resource composes one and exposes its methods as ``client.pods.<name>``.
    """

    def __init__(self, pods: PodOps) -> None:
        self.pods = pods

    # -- *_many ------------------------------------------------------------------------------
    @overload
    async def create_many(
        self, requests: Iterable[PodCreateRequest], *, concurrency: int = ...,
        return_exceptions: Literal[True] = ...,
    ) -> list[Pod | YottaError]: ...
    @overload
    async def create_many(
        self, requests: Iterable[PodCreateRequest], *, concurrency: int = ...,
        return_exceptions: Literal[False],
    ) -> list[Pod]: ...
    async def create_many(
        self,
        requests: Iterable[PodCreateRequest],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool = True,
    ) -> list[Pod] | list[Pod | YottaError]:
        """Create many pods, at most ``concurrency`` at a time; results in input order.

        ::

            results = await client.pods.create_many([req_a, req_b], concurrency=16)
            pods = [r for r in results if not isinstance(r, YottaError)]

        Every request is validated before anything is sent (a bad one raises
        ``ValidationError`` naming ``requests[i]``). Each create is exactly-once (see
        :meth:`create`). With ``return_exceptions=True`` (the default) a failed create's
        ``YottaError`` takes its place in the list; with ``False`` the first failure stops
        new creates from starting, the ones in flight finish, and the error is raised with
        a note naming the pods that were created. Pods made here are *not* cleaned up if
        your program fails later: use :meth:`group` for that.
        """
        reqs = [_checked(r, i) for i, r in enumerate(check_items(requests, "requests"))]
        results = await map_concurrently(self._create, reqs, concurrency, return_exceptions)
        if not return_exceptions:
            return _raise_first(results, "created")
        return results

    async def pause_many(
        self, ids: Iterable[PodId], *, concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool = True,
    ) -> list[YottaError | None]:
        """Pause many pods; ``None`` (accepted) or the ``YottaError`` per id, in input order.

        ``return_exceptions=False`` raises the first error instead (as in :meth:`create_many`).
        """
        return await self._act_many(self.pods.pause, ids, concurrency, return_exceptions)

    async def resume_many(
        self, ids: Iterable[PodId], *, concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool = True,
    ) -> list[YottaError | None]:
        """Resume many paused pods; one ``None`` or ``YottaError`` per id, in input order."""
        return await self._act_many(self.pods.resume, ids, concurrency, return_exceptions)

    async def delete_many(
        self, ids: Iterable[PodId], *, concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool = True,
    ) -> list[YottaError | None]:
        """Delete many pods; one ``None`` or ``YottaError`` per id, in input order.

        ::

            errors = await client.pods.delete_many(ids)
            await client.pods.wait_all(ids, until="TERMINATED")
        """
        return await self._act_many(self.pods.delete, ids, concurrency, return_exceptions)

    async def _act_many(
        self, action: Callable[[int], Awaitable[None]], ids: Iterable[PodId], concurrency: int,
        return_exceptions: bool,
    ) -> list[YottaError | None]:
        pids = check_ids(ids, "ids")
        results = await map_concurrently(action, pids, concurrency, return_exceptions)
        if not return_exceptions:
            return _raise_first(results, "done")
        return results

    async def _create(self, request: PodCreateRequest) -> Pod:
        return await self.pods.create_with_token(request, new_token())

    # -- groups ------------------------------------------------------------------------------
    def group(
        self,
        *,
        on_exit: OnExit = "delete",
        on_error: OnExit | None = None,
        cleanup_timeout: float = 600.0,
        label: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_hourly_cost: Decimal | int | str | None = None,
        allow_unknown_cost: bool = False,
        ttl: timedelta | float | None = None,
        on_expire: OnExpire = "delete",
    ) -> PodGroup:
        """A pod group: every pod created through it is cleaned up when the block ends.

        ::

            async with client.pods.group(on_exit="delete", label="nightly") as group:
                pods = await group.launch(request, count=8, wait=True)
                ...  # an exception or Ctrl-C here still deletes all 8 pods

        ``on_exit`` applies when the block ends normally: ``"delete"`` (and wait until
        TERMINATED), ``"pause"`` (wait until PAUSED) or ``"keep"``. ``on_error`` applies
        when it ends with an exception or cancellation; by default ``"pause"`` if
        ``on_exit="pause"``, else ``"delete"``. See :class:`~yotta_async.PodGroup`.

        Spend control (see the README's "Spend control")::

            async with client.pods.group(ttl=timedelta(hours=2),
                                         max_hourly_cost=Decimal("20")) as group:
                ...

        ``max_hourly_cost`` caps the summed :attr:`Pod.hourly_cost` of the group's pods: a
        create whose reply would pass it is deleted at once, before it runs, and raises
        :class:`~yotta_async.BudgetExceededError` (a pod of unknown cost too, unless
        ``allow_unknown_cost=True``). ``ttl`` writes an absolute expiry on every pod
        (``YOTTA_ASYNC_EXPIRES``); while the block is open the group applies ``on_expire``
        (``"delete"`` or ``"pause"``) to each pod as it expires, and after a crash
        ``sweep(expired=True)`` or the ``yotta-async sweep --expired --every 60`` reaper does.
        """
        return PodGroup(
            self.pods, on_exit=on_exit, on_error=on_error, cleanup_timeout=cleanup_timeout,
            label=label, concurrency=check_concurrency(concurrency), max_hourly_cost=max_hourly_cost,
            allow_unknown_cost=allow_unknown_cost, ttl=ttl, on_expire=on_expire,
        )

    # -- sweep -------------------------------------------------------------------------------
    async def sweep(
        self,
        *,
        group: str | None = None,
        older_than: float | timedelta | None = None,
        all: bool = False,
        expired: bool = False,
        dry_run: bool = False,
        include_ungrouped: bool = False,
        grace: float | timedelta | None = None,
        on_expire: OnExpire | None = None,
        now: datetime | None = None,
        wait: bool = False,
        timeout: float | None = None,  # passed on to wait_all's deadline
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> SweepResult:
        """Find and delete pods left behind by an earlier run that crashed or was killed.

        ::

            found = (await client.pods.sweep(dry_run=True)).found       # look first
            result = await client.pods.sweep(group="nightly")
            result = await client.pods.sweep(older_than=3600)   # any group, over an hour old

        A sweep that deletes needs a criterion: ``group``, ``older_than``, ``expired=True``
        or ``all=True``
        (every orphan of any age: also pods kept with ``on_exit="keep"`` and pods of a launch
        running right now in another process); without one it raises ``ValidationError``.
        A dry run needs none.

        A pod is an orphan if it carries this SDK's client token (``YOTTA_ASYNC_TOKEN``), is
        not TERMINATING or TERMINATED, and does not belong to a group still open in this
        process. By default only group pods (``YOTTA_ASYNC_GROUP`` set) are considered;
        ``group="label"`` narrows that to one label, and ``include_ungrouped=True`` adds pods
        from plain ``create`` calls (which you may have meant to keep). ``older_than``
        (seconds or a ``timedelta``) keeps pods created at least that long before ``now``
        (default: the current UTC time; pods without ``createdAt`` are then skipped).
        ``dry_run=True`` deletes nothing. ``wait=True`` also waits until the deleted pods
        are TERMINATED (``timeout`` seconds, default 300).

        ``expired=True`` selects pods whose expiry stamp (``YOTTA_ASYNC_EXPIRES``, written by
        ``create(expires_in=...)`` and by groups with a ``ttl``) passed at least ``grace``
        before ``now`` (default :data:`~yotta_async.DEFAULT_EXPIRY_GRACE`, 60 s, for clock
        skew), whoever made them: group or not, this SDK's token or not. A pod without a
        stamp is never selected by it. ``group=`` and ``older_than=`` narrow it further
        (``include_ungrouped`` does not apply); pods of a group still open in this process
        are left to that group, which expires them itself.
        Each expired pod is deleted, or paused if its stamp says so (a group made with
        ``on_expire="pause"``); ``on_expire="delete"`` or ``"pause"`` overrides that. Under
        pause, only RUNNING pods are touched: one still starting waits for a later sweep.
        """
        if not isinstance(all, bool):
            raise ValidationError("all", f"must be True or False, got {all!r}")
        if not isinstance(expired, bool):
            raise ValidationError("expired", f"must be True or False, got {expired!r}")
        margin = check_grace(grace)
        if on_expire is not None:
            if not expired:
                raise ValidationError("on_expire", "applies only with expired=True")
            check_on_expire(on_expire)
        if group is not None:
            check_label(group, "group")
        age = _age(older_than)
        limit = check_concurrency(concurrency)
        if wait:  # checked now, not by wait_all after the deletes
            check_timeout(timeout, TERMINATED.default_timeout)
        reference = now or datetime.now(timezone.utc)
        if reference.tzinfo is None:
            raise ValidationError("now", "must be a timezone-aware datetime")
        check_sweep_criteria(
            {"group": group, "older_than": older_than, "expired": expired, "all": all}, dry_run=dry_run
        )
        active = self.pods.groups.active_tokens()
        orphans = []
        actions: dict[int, OnExpire] = {}
        for pod in await self.pods.list():
            token = token_of(pod)
            label = group_of(pod)
            if (token is not None and token in active) or pod.status in LEAVING:
                continue
            if expired:
                action = sweep_action(pod, on_expire) if is_expired(pod, reference, margin) else None
                if action is None:
                    continue
                actions[pod.id] = action
            elif token is None or (label is None and not include_ungrouped):
                continue
            if group is not None and label != group:
                continue
            if age is not None and (pod.created is None or reference - pod.created < age):
                continue
            orphans.append(pod)
        result = SweepResult(found=orphans, dry_run=dry_run)
        if dry_run or not orphans:
            return result
        to_pause = [p.id for p in orphans if actions.get(p.id) == "pause"]
        to_delete = [p.id for p in orphans if actions.get(p.id) != "pause"]
        outcomes = await map_concurrently(self.pods.delete, to_delete, limit)
        for pid, outcome in zip(to_delete, outcomes, strict=True):
            if outcome is None or isinstance(outcome, (InvalidStateError, PodNotFoundError)):
                result.deleted.append(pid)  # accepted, or already on its way out
            else:
                result.errors[pid] = outcome
        paused = await map_concurrently(self.pods.pause, to_pause, limit)
        for pid, outcome in zip(to_pause, paused, strict=True):
            if outcome is None:
                result.paused.append(pid)
            else:
                result.errors[pid] = outcome
        for ids, until in ((result.paused, PodStatus.PAUSED), (result.deleted, PodStatus.TERMINATED)):
            if wait and ids:
                waited = await self.pods.wait_all(ids, until=until, timeout=timeout, return_exceptions=True)
                for pid, waited_for in zip(ids, waited, strict=True):
                    if isinstance(waited_for, YottaError):
                        result.errors[pid] = waited_for
        return result


def _checked(request: object, i: int) -> PodCreateRequest:
    try:
        checked = check_create_request(request, {})
        stamp(checked, new_token())  # a reserved env key is bad input too: refuse it up front
        return checked
    except ValidationError as exc:
        where = f"requests[{i}]" if exc.field == "request" else f"requests[{i}].{exc.field}"
        raise ValidationError(where, exc.message) from None


def _age(value: float | timedelta | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    seconds = check_number(value, "older_than", inclusive=True)
    try:
        return timedelta(seconds=seconds)
    except OverflowError:  # more days than a timedelta holds
        raise ValidationError("older_than", f"is too large for a timedelta, got {value!r}") from None


def _raise_first(results: list[R | YottaError], verb: str) -> list[R]:
    for exc in results:
        if isinstance(exc, YottaError):
            done = [r for r in results if r is not None and not isinstance(r, YottaError)]
            if done and verb == "created":
                ids = ", ".join(str(getattr(p, "id", p)) for p in done)
                annotate(exc, f"yotta-async: before this failure these pods were {verb}: {ids}")
            raise exc
    return results  # type: ignore[return-value]  # no errors in it

