"""Acceptors as data: what ends a wait in success or failure, and each target's default timeout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from ..errors import ValidationError
from ..models import PodStatus
from ..models.status import ENDING

__all__ = ["PAUSED", "RUNNING", "TERMINATED", "Acceptor", "OnChange", "WaitTarget", "target_for"]

S = TypeVar("S", bound=Hashable)

OnChange = Callable[[PodStatus | None, PodStatus], "Awaitable[None] | None"]
"""``on_change(previous, current)``: ``previous`` is ``None`` on the first poll."""


@dataclass(frozen=True)
class Acceptor(Generic[S]):
    """One rule of a wait: if the resource shows one of ``statuses`` (or, with
    ``missing=True``, no longer exists), the wait ends with ``outcome``.

    >>> Acceptor("failure", frozenset({PodStatus.FAILED})).matches(PodStatus.FAILED)
    True
    """

    outcome: Literal["success", "failure"]
    statuses: frozenset[S] = frozenset()
    missing: bool = False

    def matches(self, status: S | None) -> bool:
        """Whether this rule applies to ``status`` (``None``: the resource is gone)."""
        return self.missing if status is None else status in self.statuses


@dataclass(frozen=True)
class WaitTarget(Generic[S]):
    """What a wait waits for: the wanted status, its acceptors and its default timeout.

    Generic over the status type, so any resource with a status (pods, volumes) can
    describe its waits the same way.
    """

    status: S
    acceptors: tuple[Acceptor[S], ...]
    default_timeout: float

    def outcome(self, status: S | None) -> Literal["success", "failure"] | None:
        """The first matching acceptor's outcome, or ``None`` to keep waiting."""
        for acceptor in self.acceptors:
            if acceptor.matches(status):
                return acceptor.outcome
        return None


P = PodStatus
RUNNING: WaitTarget[PodStatus] = WaitTarget(
    P.RUNNING,
    (
        Acceptor("success", frozenset({P.RUNNING})),
        Acceptor("failure", ENDING),
        Acceptor("failure", missing=True),
    ),
    600.0,
)
PAUSED: WaitTarget[PodStatus] = WaitTarget(
    P.PAUSED,
    (
        Acceptor("success", frozenset({P.PAUSED})),
        Acceptor("failure", ENDING),
        Acceptor("failure", missing=True),
    ),
    300.0,
)
# A FAILED pod can still be deleted, so FAILED does not end a wait for TERMINATED.
TERMINATED: WaitTarget[PodStatus] = WaitTarget(
    P.TERMINATED,
    (Acceptor("success", frozenset({P.TERMINATED})), Acceptor("success", missing=True)),
    300.0,
)
_TARGETS = {t.status: t for t in (RUNNING, PAUSED, TERMINATED)}


def target_for(until: PodStatus | str) -> WaitTarget[PodStatus]:
    """The pod ``WaitTarget`` for ``until`` (RUNNING, PAUSED or TERMINATED, or their names)."""
    try:
        status = PodStatus(until)
    except ValueError:
        status = None
    target = _TARGETS.get(status) if status is not None else None
    if target is None:
        raise ValidationError("until", f"must be RUNNING, PAUSED or TERMINATED, got {until!r}")
    return target
