"""What groups and bulk helpers need from the pods resource: a protocol, and concurrent mapping."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Literal, Protocol, TypeVar, overload

import anyio

from ._runtime import Runtime
from ._validation import PodId, check_int
from .errors import YottaError
from .models import Pod, PodCreateRequest, PodStatus
from .waiting import WatchPolicy

__all__ = [
    "DEFAULT_CONCURRENCY",
    "GroupRegistry",
    "PodOps",
    "TokenHolder",
    "check_concurrency",
    "map_concurrently",
]

A = TypeVar("A")
R = TypeVar("R")

DEFAULT_CONCURRENCY = 16


class TokenHolder(Protocol):
    """Anything that owns client tokens (an open pod group)."""

    @property
    def tokens(self) -> frozenset[str]:
        """The client tokens of every create it has sent (or is sending)."""
        ...


class GroupRegistry:
    """The pod groups open on one client, so ``sweep`` leaves their pods alone.

    Held weakly: a group that is dropped without being closed does not pin its pods.
    """

    def __init__(self) -> None:
        self._open: weakref.WeakSet[Any] = weakref.WeakSet()

    def add(self, group: TokenHolder) -> None:
        """Record ``group`` as open."""
        self._open.add(group)

    def discard(self, group: TokenHolder) -> None:
        """Record ``group`` as closed."""
        self._open.discard(group)

    def active_tokens(self) -> set[str]:
        """Every token owned by a group still open."""
        return {t for g in self._open for t in g.tokens}


class PodOps(Protocol):
    """The pod operations a :class:`~yotta_async.PodGroup` and the bulk helpers are built on.

    ``client.pods`` satisfies it; a test (or another backend) can supply its own.
    """

    @property
    def runtime(self) -> Runtime:
        """The clock, sleep and random source the operations run on."""
        ...

    @property
    def watch_policy(self) -> WatchPolicy:
        """How often cleanup polls (the shared watcher's policy)."""
        ...

    @property
    def reconcile_settle(self) -> float:
        """Seconds a lost create may take to show up in a listing."""
        ...

    @property
    def groups(self) -> GroupRegistry:
        """The registry of open groups."""
        ...

    async def create_with_token(
        self, request: PodCreateRequest, token: str, *, group: str | None = None
    ) -> Pod:
        """Create exactly once, carrying ``token`` (and the ``group`` label)."""
        ...

    async def get(self, pod_id: PodId) -> Pod:
        """One pod."""
        ...

    async def pause(self, pod_id: PodId) -> None:
        """Ask a pod to pause."""
        ...

    async def resume(self, pod_id: PodId) -> None:
        """Ask a pod to resume."""
        ...

    async def delete(self, pod_id: PodId) -> None:
        """Ask a pod to terminate."""
        ...

    @overload
    async def wait_all(
        self, ids: Iterable[PodId], *, until: PodStatus | str = ..., timeout: float | None = ...,  # noqa: ASYNC109
        return_exceptions: Literal[False] = ...,
    ) -> list[Pod]: ...
    @overload
    async def wait_all(
        self, ids: Iterable[PodId], *, until: PodStatus | str = ..., timeout: float | None = ...,  # noqa: ASYNC109
        return_exceptions: Literal[True],
    ) -> list[Pod | YottaError]: ...
    async def wait_all(
        self, ids: Iterable[PodId], *, until: PodStatus | str = ..., timeout: float | None = ...,  # noqa: ASYNC109
        return_exceptions: bool = ...,
    ) -> list[Pod] | list[Pod | YottaError]:
        """Wait until every pod reaches ``until``."""
        ...

    # Last: inside the class body, ``list`` would shadow the builtin in later annotations.
    async def list(
        self,
        *,
        regions: Iterable[str] | None = None,
        statuses: Iterable[PodStatus | str | int] | None = None,
    ) -> list[Pod]:
        """Every pod, optionally filtered."""
        ...


def check_concurrency(value: object) -> int:
    """A concurrency limit: an integer >= 1."""
    return check_int(value, "concurrency", minimum=1)


async def map_concurrently(
    fn: Callable[[A], Awaitable[R]],
    items: Sequence[A],
    concurrency: int,
    return_exceptions: bool = True,
) -> list[R | YottaError]:
    """``fn`` over ``items`` with ``concurrency`` workers; results (or errors) in input order.

    ::

        pods = await map_concurrently(client.pods.get, ids, 16)

    Without ``return_exceptions`` no new item starts after the first failure; items
    already running finish (their slots hold their results, untouched slots ``None``).
    Only ``YottaError`` is captured: anything else is a bug or a cancellation and
    propagates.
    """
    limit = check_concurrency(concurrency)
    results: list[R | YottaError | None] = [None] * len(items)
    queue = iter(enumerate(items))
    failed = False

    async def worker() -> None:
        nonlocal failed
        for i, item in queue:  # one shared iterator: each item is taken exactly once
            if failed and not return_exceptions:
                return
            try:
                results[i] = await fn(item)
            except YottaError as exc:
                results[i] = exc
                failed = True

    async with anyio.create_task_group() as tg:
        for _ in range(min(limit, len(items))):
            tg.start_soon(worker)
    return results  # type: ignore[return-value]  # every slot is filled unless we raise
